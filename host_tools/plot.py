"""`replay --plot FILE.png`: what a replay published, as a picture.

Panels: numeric readings per entity (one line per attribute), boolean flags
(e.g. `congested`, parking `status`) as steps, and the recording's events
(UART chunks and other events) as a histogram over time. Headless: matplotlib's Agg backend.
"""
import datetime as dt


def _when(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def series(lines):
    """{(entity, attribute): [(datetime, value)]}, numbers and flags from the published messages."""
    out = {}
    for ln in lines:
        if "topic" not in ln:
            continue
        entity = ln["topic"].split("/")[3]
        body = ln["payload"]
        for obj in body if isinstance(body, list) else [body]:
            when = _when(obj.get("TimeInstant") or ln["t"])
            for k, v in obj.items():
                if isinstance(v, (bool, int, float)) or k == "status":
                    out.setdefault((entity, k), []).append((when, v))
    return out


def draw(lines, events, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = series(lines)
    numbers = {k: v for k, v in data.items() if not isinstance(v[0][1], (bool, str))}
    flags = {k: v for k, v in data.items() if isinstance(v[0][1], (bool, str))}
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1, 1]})
    ax = axes[0]
    for (entity, attr), pts in sorted(numbers.items()):
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label="%s %s" % (entity, attr))
    ax.set_ylabel("published readings")
    if numbers:
        ax.legend(fontsize="small")
    ax = axes[1]
    for i, ((entity, attr), pts) in enumerate(sorted(flags.items())):
        ax.step([p[0] for p in pts], [i + (0.8 if p[1] in (True, "occupied") else 0) for p in pts],
                where="post", label="%s %s" % (entity, attr))
    ax.set_ylabel("flags")
    if flags:
        ax.legend(fontsize="small")
    ax = axes[2]
    kinds = {}
    for ev in events or []:
        kind = "uart " + ev["uart"] if "uart" in ev else "other events"
        kinds.setdefault(kind, []).append(dt.datetime.fromtimestamp(ev["t"], dt.timezone.utc))
    for kind, times in sorted(kinds.items()):
        ax.hist(times, bins=min(60, max(1, len(times))), histtype="step", label=kind)
    ax.set_ylabel("recorded events")
    if kinds:
        ax.legend(fontsize="small")
    axes[-1].set_xlabel("time (UTC)")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)

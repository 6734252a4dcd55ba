"""`replay --plot FILE.png`: what a replay published, as a picture a person learns from.

One panel per quantity, with its unit (particulate matter in µg/m³, temperature
in °C, humidity in %, ...), each attribute a line of interval means and, where
the reading has them, its Min..Max drawn as a band around it. Sequence numbers
and sample counts are bookkeeping, never plotted as values. Below: parking
status as steps, every `dataQuality` flag as a mark on the time axis (a row per
flag kind), how old each message was when it was published (a backlog shows as
a rise), and the recording's events. Stretches without readings (outages) are
shaded in every panel. Legends sit beside the panels, never over the data.
Headless: matplotlib's Agg backend.
"""
import datetime as dt
import statistics

# attribute -> (panel, unit, scale to that unit); panels in this order
QUANTITIES = {
    "pm1": ("particulate matter", "µg/m³", 1), "pm25": ("particulate matter", "µg/m³", 1),
    "pm10": ("particulate matter", "µg/m³", 1),
    "temperature": ("temperature", "°C", 1),
    "relativeHumidity": ("relative humidity", "%", 100),
    "pressure": ("pressure", "hPa", 1),
    "co2": ("CO₂", "ppm", 1),
    "intensity": ("vehicles", "per interval", 1),
    "occupancy": ("detector occupancy", "%", 100),
    "averageVehicleSpeed": ("speed", "km/h", 1),
    "backlog": ("backlog", "readings waiting", 1),
    "dropped": ("dropped", "readings", 1),
    "freeHeap": ("free heap", "KiB", 1 / 1024),
    "rssi": ("Wi-Fi signal", "dBm", 1),
}
BOOKKEEPING = ("seq", "uptime", "laneId")  # numbers, but no quantity
STATS = ("Min", "Max", "Count")
STATES = {"free": 0, "occupied": 1, "unknown": 0.5, False: 0, True: 1}


def _when(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def series(lines):
    """{(entity, attribute): [(datetime, value)]}, numbers and flags from the published messages."""
    out = {}
    for entity, when, _, obj in readings(lines):
        for k, v in obj.items():
            if isinstance(v, (bool, int, float)) or k == "status":
                out.setdefault((entity, k), []).append((when, v))
    return out


def readings(lines):
    """[(entity, observed, published, obj)] for every reading in the published messages."""
    out = []
    for ln in lines:
        if "topic" not in ln:
            continue
        entity = ln["topic"].split("/")[3]
        body = ln["payload"]
        for obj in body if isinstance(body, list) else [body]:
            observed = _when(obj.get("TimeInstant") or ln["t"])
            out.append((entity, observed, _when(ln["t"]) if "t" in ln else observed, obj))
    return out


def panels(rs):
    """{panel: {(entity, attr): [(t, mean, lo, hi)]}} with values in the panel's unit."""
    out = {}
    for entity, t, _, obj in rs:
        for k, v in obj.items():
            if (k in BOOKKEEPING or k.endswith(STATS) or isinstance(v, bool)
                    or not isinstance(v, (int, float))):
                continue
            name, unit, scale = QUANTITIES.get(k, (k, "", 1))
            lo, hi = obj.get(k + "Min"), obj.get(k + "Max")
            out.setdefault((name, unit), {}).setdefault((entity, k), []).append(
                (t, v * scale, lo * scale if lo is not None else None, hi * scale if hi is not None else None))
    order = list(dict.fromkeys((n, u) for n, u, _ in QUANTITIES.values()))
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def flags(rs):
    """{flag: [t]}: when each dataQuality flag was raised."""
    out = {}
    for _, t, _, obj in rs:
        q = obj.get("dataQuality") or []
        for f in q if isinstance(q, list) else [q]:
            out.setdefault(f, []).append(t)
    return dict(sorted(out.items()))


def outages(rs):
    """[(start, end)]: stretches without any reading longer than three typical spacings."""
    times = sorted({t for _, t, _, _ in rs})
    if len(times) < 3:
        return []
    gaps = [(a, b) for a, b in zip(times, times[1:])]
    typical = statistics.median((b - a).total_seconds() for a, b in gaps)
    return [(a, b) for a, b in gaps if typical > 0 and (b - a).total_seconds() > 3 * typical]


def draw(lines, events, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = readings(lines)
    values = panels(rs)
    states = {}
    for entity, t, _, obj in rs:
        if "status" in obj:
            states.setdefault(entity, []).append((t, obj["status"]))
    marks = flags(rs)
    gaps = outages(rs)
    kinds = {}
    for ev in events or []:
        kind = "uart " + ev["uart"] if "uart" in ev else "other events"
        kinds.setdefault(kind, []).append(dt.datetime.fromtimestamp(ev["t"], dt.timezone.utc))

    rows = [("values", key) for key in values]
    if states:
        rows.append(("states", None))
    if marks:
        rows.append(("flags", None))
    if rs:
        rows.append(("age", None))
    if kinds:
        rows.append(("events", None))
    heights = [3 if kind == "values" else max(1.2, 0.3 * len(marks)) if kind == "flags" else 1.3
               for kind, _ in rows] or [1]
    fig, axes = plt.subplots(len(heights), 1, figsize=(11, 1.2 + 1.1 * sum(heights) / 1.5), sharex=True,
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    axes = axes[:, 0]
    for ax, (kind, key) in zip(axes, rows):
        if kind == "values":
            name, unit = key
            for (entity, attr), pts in sorted(values[key].items()):
                ts = [p[0] for p in pts]
                line, = ax.plot(ts, [p[1] for p in pts], lw=1.2, label="%s %s" % (entity, attr))
                band = [(p[0], p[2], p[3]) for p in pts if p[2] is not None and p[3] is not None]
                if band:
                    ax.fill_between([b[0] for b in band], [b[1] for b in band], [b[2] for b in band],
                                    color=line.get_color(), alpha=0.2, lw=0, step=None,
                                    label="%s Min..Max" % attr)
            ax.set_ylabel("%s\n(%s)" % (name, unit) if unit else name)
        elif kind == "states":
            for i, (entity, pts) in enumerate(sorted(states.items())):
                ax.step([p[0] for p in pts], [STATES.get(p[1], 0.5) + 1.2 * i for p in pts], where="post",
                        marker="o", ms=4, label=entity)
            ax.set_yticks([0, 0.5, 1])
            ax.set_yticklabels(["free", "unknown", "occupied"])
            ax.set_ylabel("status")
        elif kind == "flags":
            for i, (flag, ts) in enumerate(marks.items()):
                ax.plot(ts, [i] * len(ts), "|", ms=9, mew=1.5)
            ax.set_yticks(range(len(marks)))
            ax.set_yticklabels(list(marks), fontsize="small")
            ax.set_ylim(-0.7, len(marks) - 0.3)
            ax.set_ylabel("dataQuality")
        elif kind == "age":
            ax.plot([r[1] for r in rs], [(r[2] - r[1]).total_seconds() / 60 for r in rs], ".", ms=3,
                    label="reading published after")
            ax.set_ylabel("age when\npublished (min)")
        elif kind == "events":
            for k, times in sorted(kinds.items()):
                ax.hist(times, bins=min(60, max(1, len(times))), histtype="step", label=k)
            ax.set_ylabel("recorded\nevents")
        for i, (a, b) in enumerate(gaps):
            ax.axvspan(a, b, color="0.85", lw=0, label="no readings" if i == 0 else None)
        ax.grid(True, alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        if handles and kind != "flags":
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    axes[-1].set_xlabel("time (UTC)")
    fig.autofmt_xdate()
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)

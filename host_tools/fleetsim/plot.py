"""Connects per second at the broker over time, the node's policy against the fixed 2 s
retry, one panel per fleet size (headless: matplotlib's Agg backend)."""


def connects(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({r["nodes"] for r in results})
    fig, axes = plt.subplots(len(sizes), 1, figsize=(9, 2.6 * len(sizes) + 0.6), squeeze=False, sharex=True)
    styles = {"ours": ("tab:blue", "backoff with full jitter (firmware)"), "fixed": ("tab:red", "fixed 2 s retry")}
    for ax, n in zip(axes[:, 0], sizes):
        down = None
        for r in results:
            if r["nodes"] != n:
                continue
            color, label = styles.get(r["policy"], ("tab:green", "backoff, base %g s" % r["settings"].get(
                "backoff_base", 1)))
            xs = [t for t, _ in r["connects"]]
            ys = [c for _, c in r["connects"]]
            ax.step(xs, ys, where="post", color=color, label="%s: peak %d/s, all back %s" % (
                label, r["peak_connects_per_s"],
                "in %.0f s" % r["recovery_s"] if r["recovery_s"] is not None else "not within the run"))
            down = r["t_back"] - r["t_fault"]
        if down:
            ax.axvspan(0, down, color="0.9", label="broker away (%.0f s)" % down)
        first = next(r for r in results if r["nodes"] == n)
        ax.set_title("%d nodes, %s, %s" % (n, first["target"], first["scenario"]), fontsize=10, loc="left")
        ax.set_ylabel("connects / s")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("seconds since the broker stopped")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

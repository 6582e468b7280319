"""``--plot FILE``: greenmq's ratios to the other implementations, every cell, as a bar chart.

matplotlib is optional (``pip install "greenmq[plot]"``): :func:`require`
checks for it before the benchmark starts, so a missing library fails the
command at once, not after minutes of runs.  The file's extension (``.svg``,
``.png``, ``.pdf``) picks the format.
"""

from __future__ import annotations

EXTENSIONS = (".svg", ".png", ".pdf")
MISSING = "--plot needs matplotlib, which is not installed: pip install \"greenmq[plot]\" (or matplotlib>=3.5)"
COLORS = {"pyzmq": "tab:blue", "zmq.green": "tab:orange"}
BAR_HEIGHT = 0.38


class PlotError(Exception):
    """--plot cannot be honoured: no matplotlib, or a file type it cannot write."""


def require(path):
    """Fail early if ``path`` cannot be drawn: matplotlib missing, or an unknown extension."""
    if not str(path).lower().endswith(EXTENSIONS):
        raise PlotError(f"--plot: the file name must end with one of {', '.join(EXTENSIONS)}: {path}")
    try:
        import matplotlib  # noqa: F401 -- only to know it is there, before minutes of runs
    except ImportError:
        raise PlotError(MISSING) from None


def draw(path, rows, title):
    """One horizontal bar per (row label, other implementation) with a ratio; a line at 1 (parity).

    ``rows`` are :func:`greenmq.bench.report.ratio_rows`; ratios that could not
    be computed (a failed or skipped run) are left out.  The axis is
    logarithmic, so that 2x and 0.5x lie equally far from parity.
    """
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window
    from matplotlib import pyplot

    labels = list(dict.fromkeys(row["label"] for row in rows if row["ratio"] is not None))
    others = list(dict.fromkeys(row["other"] for row in rows if row["ratio"] is not None))
    figure, axes = pyplot.subplots(figsize=(11, 1.2 + 0.32 * max(len(labels), 1) * max(len(others), 1)))
    try:
        for number, other in enumerate(others):
            found = {row["label"]: row["ratio"] for row in rows if row["other"] == other and row["ratio"] is not None}
            places = [index + (number - (len(others) - 1) / 2) * BAR_HEIGHT for index, label in enumerate(labels)
                      if label in found]
            values = [found[label] for label in labels if label in found]
            bars = axes.barh(places, values, height=BAR_HEIGHT, color=COLORS.get(other), label=f"greenmq / {other}")
            axes.bar_label(bars, labels=[f"{value:.2f}" for value in values], fontsize=7, padding=2)
        axes.axvline(1.0, color="black", linewidth=0.8)
        axes.set_xscale("log")
        axes.set_yticks(range(len(labels)))
        axes.set_yticklabels(labels, fontsize=8)
        axes.invert_yaxis()
        axes.set_xlabel("ratio (> 1: greenmq did better; round trips, storm time and memory: the other's / greenmq's)")
        axes.set_title(title, fontsize=10)
        if others:
            axes.legend(loc="lower right")
        figure.tight_layout()
        figure.savefig(path)
    finally:
        pyplot.close(figure)

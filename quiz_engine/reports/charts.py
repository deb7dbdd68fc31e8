"""Bar charts for the HTML reports, drawn with matplotlib and embedded as SVG data URIs.

SVG keeps print output sharp, and text is drawn as paths, so Vietnamese diacritics look the
same everywhere without fonts on the reader's machine. A data URI is the one image source
the server's CSP allows besides 'self' (``img-src 'self' data:``), and it keeps the report
a single standalone file. The Figure API is used (not pyplot): no global state, safe in a
server thread.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

BLUE, GREEN, GREY, RED, AMBER = "#2b6cb0", "#2f855a", "#a0aec0", "#c53030", "#d69e2e"


def _uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    fig.set_layout_engine("constrained")
    return fig


def _style(ax: Axes, counts: bool = True) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e2e8f0", linewidth=0.6)
    ax.set_axisbelow(True)
    if counts:  # people are whole numbers: no 0.2 ticks on small shows
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def grouped_bars(
    categories: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], ylabel: str = ""
) -> str:
    """Side-by-side bars per category: ``series`` = (legend label, values, colour)."""
    fig = _figure(min(7.0, max(4.5, 0.45 * len(categories) * len(series) + 1)), 2.8)
    ax = fig.add_subplot()
    n = max(len(series), 1)
    width = 0.8 / n
    xs = range(len(categories))
    for i, (label, values, colour) in enumerate(series):
        bars = ax.bar([x - 0.4 + width * (i + 0.5) for x in xs], values, width, label=label, color=colour)
        ax.bar_label(bars, fontsize=7, padding=1)
    ax.set_xticks(list(xs), list(categories), fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=len(series))
    _style(ax)
    return _uri(fig)


def rate_bars(categories: Sequence[str], rates: Sequence[float | None], hard_below: float = 0.3) -> str:
    """Correct rate per question in percent; questions under ``hard_below`` in red."""
    fig = _figure(min(7.0, max(3.5, 0.6 * len(categories) + 1)), 2.4)
    ax = fig.add_subplot()
    values = [100 * r if r is not None else 0 for r in rates]
    colours = [GREY if r is None else RED if r < hard_below else AMBER if r < 0.6 else GREEN for r in rates]
    bars = ax.bar(list(range(len(categories))), values, 0.6, color=colours)
    ax.bar_label(bars, labels=["–" if r is None else f"{100 * r:.0f}%" for r in rates], fontsize=7, padding=1)
    ax.set_xticks(list(range(len(categories))), list(categories), fontsize=8)
    ax.set_ylim(0, 110)
    _style(ax, counts=False)
    ax.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=7)
    return _uri(fig)


def horizontal_bars(labels: Sequence[str], values: Sequence[int], colour: str = BLUE) -> str:
    """One bar per label, largest on top (participation per unit)."""
    fig = _figure(6.8, max(1.4, 0.28 * len(labels) + 0.5))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))[::-1]
    bars = ax.barh(ys, values, 0.65, color=colour)
    ax.bar_label(bars, fontsize=7, padding=2)
    ax.set_yticks(ys, [_short(label, 48) for label in labels], fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e2e8f0", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(x=0.08)
    return _uri(fig)


def rate_hbars(labels: Sequence[str], rates: Sequence[float], threshold: float) -> str:
    """Participation rate per unit in percent, one bar each in the given order; under the
    threshold in red, a dashed line at the threshold (the online contest's weekly report)."""
    fig = _figure(6.8, max(1.4, 0.28 * len(labels) + 0.6))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))[::-1]
    values = [100 * r for r in rates]
    bars = ax.barh(ys, values, 0.65, color=[RED if r < threshold else GREEN for r in rates])
    ax.bar_label(bars, labels=[f"{v:.0f}%" for v in values], fontsize=7, padding=2)
    ax.set_yticks(ys, [_short(label, 48) for label in labels], fontsize=8)
    if threshold > 0:
        ax.axvline(100 * threshold, color=AMBER, linestyle="--", linewidth=1)
    ax.set_xlim(0, max(110.0, max(values, default=0) * 1.1))
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e2e8f0", linewidth=0.6)
    ax.set_axisbelow(True)
    return _uri(fig)


def simple_bars(categories: Sequence[str], values: Sequence[int], colour: str = GREY) -> str:
    fig = _figure(min(7.0, max(3.0, 0.6 * len(categories) + 1)), 1.8)
    ax = fig.add_subplot()
    bars = ax.bar(list(range(len(categories))), values, 0.5, color=colour)
    ax.bar_label(bars, fontsize=7, padding=1)
    ax.set_xticks(list(range(len(categories))), list(categories), fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.margins(y=0.15)
    _style(ax)
    return _uri(fig)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"

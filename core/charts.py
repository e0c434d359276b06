"""Geometry of the stacked-bar charts the staff screens draw as inline SVG (no JavaScript, no library): the
template draws ``bars`` (each with its ``parts``), the grid ``ticks`` and the axis; a table beside the chart
carries the same figures for screen readers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

CHART_HEIGHT = 200  # the plot's height in SVG units; the axis labels sit below it
CHART_LEFT, CHART_TOP, CHART_BOTTOM = 48, 12, 28
CHART_PLOT_WIDTH = 680


def nice_ceiling(n: int) -> int:
    """1, 2, 5, 10, 20, 50 … at or above ``n``: round figures for the top of the axis."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= n:
                return step * factor
        step *= 10


def stacked_bar_chart(
    rows: Sequence[dict],
    parts: Sequence[tuple[str, Any]],
    *,
    label: Callable[[dict], str],
    caption: Callable[[dict], str],
) -> dict:
    """One bar per row, stacked from ``parts`` ((key, label) pairs; row[key] is the part's height); each row
    also has "total". ``label(row)`` is the text under a bar (the last bar is always labelled, then every n-th
    counted back from it), ``caption(row)`` starts each part's tooltip. templates/includes/stacked_chart.html
    draws it."""
    count = len(rows)
    peak = max((row["total"] for row in rows), default=0)
    top = 4 * nice_ceiling(max(1, math.ceil(peak / 4)))  # four grid steps of a round size
    step = CHART_PLOT_WIDTH / max(count, 1)
    bar = min(40.0, step * 0.72)
    label_every = max(1, math.ceil(36 / step))
    bars = []
    for i, row in enumerate(rows):
        x = CHART_LEFT + i * step + (step - bar) / 2
        y = float(CHART_TOP + CHART_HEIGHT)
        stacked = []
        for kind, part_label in parts:
            n = row[kind]
            h = CHART_HEIGHT * n / top
            y -= h
            if n:
                stacked.append({"kind": kind, "label": part_label, "n": n, "y": round(y, 2), "h": round(h, 2)})
        bars.append(
            {
                "x": round(x, 2),
                "w": round(bar, 2),
                "mid": round(x + bar / 2, 2),
                "parts": stacked,
                "row": row,
                "caption": caption(row),
                "label": label(row) if (count - 1 - i) % label_every == 0 else "",
            }
        )
    ticks = [{"value": top * k // 4, "y": round(CHART_TOP + CHART_HEIGHT - CHART_HEIGHT * k / 4, 2)} for k in range(5)]
    return {
        "bars": bars,
        "ticks": ticks,
        "peak": peak,
        "width": CHART_LEFT + CHART_PLOT_WIDTH + 8,
        "height": CHART_TOP + CHART_HEIGHT + CHART_BOTTOM,
        "left": CHART_LEFT,
        "base": CHART_TOP + CHART_HEIGHT,
        "label_y": CHART_TOP + CHART_HEIGHT + 18,
        "parts": parts,
    }

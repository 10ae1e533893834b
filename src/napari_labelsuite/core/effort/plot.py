"""A small chart of effort per object over time (SVG always; PNG with matplotlib).

Each finished object is one point: x is the active time elapsed when it was finished
(minutes), y its cost (active seconds, or actions); one colour per route. A falling cloud
means the annotator got faster; a route whose points sit lower is cheaper.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import EffortLogError
from ..fileio import atomic_write_bytes, atomic_write_text

__all__ = ["ROUTE_COLORS", "effort_plot", "effort_svg"]

#: a fixed colour per route, so charts of different runs compare at a glance
ROUTE_COLORS = {
    "brush": "#4C72B0",
    "polygon": "#DD8452",
    "box": "#55A868",
    "click-assist": "#C44E52",
    "wand": "#8172B3",
    "classifier": "#937860",
    "interpolation": "#DA8BC3",
    "propagation": "#8C8C8C",
    "tracking": "#CCB974",
    "instance-tools": "#64B5CD",
    "import": "#000000",
    "points": "#E377C2",
    "keypoints": "#17BECF",
    "polyline": "#BCBD22",
    "adjudicate": "#7F7F7F",
}
_METRICS = {
    "seconds": ("active_seconds", "active seconds per object"),
    "actions": ("actions", "actions per object"),
}


def _color(route: str, i: int) -> str:
    extra = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
    return ROUTE_COLORS.get(route, extra[i % len(extra)])


def _series(
    objects: pd.DataFrame, metric: str
) -> tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    if metric not in _METRICS:
        raise EffortLogError(
            f"metric must be one of {sorted(_METRICS)}", field="metric", value=metric
        )
    col, label = _METRICS[metric]
    out = []
    for route, part in objects.groupby("route", sort=True):
        x = part["elapsed_seconds"].to_numpy(dtype=float) / 60.0
        y = part[col].to_numpy(dtype=float)
        out.append((str(route), x, y))
    return label, out


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    return [start + k * step for k in range(int(math.ceil((hi - start) / step)) + 1)]


def effort_svg(objects: pd.DataFrame, metric: str = "seconds", title: str = "") -> str:
    """The chart as an SVG string, from :func:`~napari_labelsuite.core.effort.object_effort`."""
    label, series = _series(objects, metric)
    width, height, left, right, top, bottom = 640, 360, 60, 130, 30, 45
    xs = np.concatenate([s[1] for s in series]) if series else np.zeros(1)
    ys = np.concatenate([s[2] for s in series]) if series else np.zeros(1)
    xt = _ticks(0.0, float(xs.max()) if xs.size else 1.0)
    yt = _ticks(0.0, float(ys.max()) if ys.size else 1.0)
    x1, y1 = xt[-1], yt[-1]
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + x / x1 * pw

    def py(y: float) -> float:
        return top + ph - y / y1 * ph

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="13" font-weight="bold">'
        f"{html.escape(title or 'Effort per object over time')}</text>",
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>',
    ]
    for t in xt:
        parts.append(
            f'<line x1="{px(t):.1f}" y1="{top + ph}" x2="{px(t):.1f}" y2="{top + ph + 4}" '
            f'stroke="black"/><text x="{px(t):.1f}" y="{top + ph + 16}" '
            f'text-anchor="middle">{t:g}</text>'
        )
    for t in yt:
        parts.append(
            f'<line x1="{left - 4}" y1="{py(t):.1f}" x2="{left}" y2="{py(t):.1f}" '
            f'stroke="black"/><text x="{left - 6}" y="{py(t) + 4:.1f}" '
            f'text-anchor="end">{t:g}</text>'
        )
    parts.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 8}" text-anchor="middle">'
        "active time (minutes)</text>"
        f'<text x="14" y="{top + ph / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + ph / 2:.0f})">{html.escape(label)}</text>'
    )
    for i, (route, x, y) in enumerate(series):
        color = _color(route, i)
        pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y))
        if len(x) > 1:
            parts.append(
                f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-opacity="0.4"/>'
            )
        parts.extend(
            f'<circle class="point" data-route="{html.escape(route)}" cx="{px(a):.1f}" '
            f'cy="{py(b):.1f}" r="3" fill="{color}"/>'
            for a, b in zip(x, y)
        )
        ly = top + 10 + 16 * i
        parts.append(
            f'<circle cx="{left + pw + 16}" cy="{ly}" r="4" fill="{color}"/>'
            f'<text x="{left + pw + 24}" y="{ly + 4}">{html.escape(route)} ({len(x)})</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _png(objects: pd.DataFrame, metric: str, title: str) -> bytes:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise EffortLogError(
            "PNG charts need matplotlib (pip install matplotlib); SVG works without it",
            field="path",
            value=".png",
        ) from exc
    import io

    label, series = _series(objects, metric)
    fig = Figure(figsize=(6.4, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, (route, x, y) in enumerate(series):
        color = _color(route, i)
        ax.plot(x, y, "-", color=color, alpha=0.4)
        ax.plot(x, y, "o", color=color, markersize=4, label=f"{route} ({len(x)})")
    ax.set_xlabel("active time (minutes)")
    ax.set_ylabel(label)
    ax.set_title(title or "Effort per object over time")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    if series:
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def effort_plot(
    objects: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    metric: str = "seconds",
    title: str = "",
) -> Path:
    """Write the chart of :func:`~napari_labelsuite.core.effort.object_effort` to ``path``.

    The suffix picks the format: ``.svg`` (no dependency) or ``.png`` (matplotlib).
    ``metric`` is ``"seconds"`` (active seconds per object) or ``"actions"``.

    Raises
    ------
    EffortLogError
        For another suffix, a missing folder, or PNG without matplotlib.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise EffortLogError(
            "the chart is written as .svg or .png", path=p, field="path", value=suffix
        )
    if not p.parent.is_dir():
        raise EffortLogError(
            "the chart's folder does not exist", path=p.parent, field="path", value=str(p)
        )
    if suffix == ".svg":
        atomic_write_text(p, effort_svg(objects, metric, title))
    else:
        atomic_write_bytes(p, _png(objects, metric, title))
    return p

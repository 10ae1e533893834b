"""The agreement chart: a pair x class heatmap of kappa (or F1) beside lines over time.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no GUI backend), saved as
PNG or SVG by the file's suffix; SVG text stays text, so a report can be searched.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TeamError
from .agreement import TeamAgreement

__all__ = ["agreement_chart", "agreement_chart_svg"]

_FORMATS = {".png": "png", ".svg": "svg"}


def _figure(result: TeamAgreement, metric: str) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # matplotlib comes with the "all" extra
        raise TeamError(
            "the agreement chart needs matplotlib: pip install 'napari-labelsuite[all]'",
            field="chart",
        ) from exc

    if metric not in ("kappa", "f1", "mean_iou"):
        raise TeamError("metric must be 'kappa', 'f1' or 'mean_iou'", field="metric", value=metric)
    pairs = list(dict.fromkeys(f"{r['annotator_a']} vs {r['annotator_b']}" for r in result.pairs))
    classes = list(dict.fromkeys(r["class"] for r in result.pairs))
    grid = np.full((len(pairs), len(classes)), np.nan)
    for r in result.pairs:
        v = r[metric]
        grid[
            pairs.index(f"{r['annotator_a']} vs {r['annotator_b']}"), classes.index(r["class"])
        ] = np.nan if v is None else v
    fig = Figure(figsize=(4 + 0.6 * len(classes) + 4, 1.2 + 0.45 * max(len(pairs), 3)), dpi=90)
    FigureCanvasAgg(fig)
    ax, ax_t = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1 + len(classes) / 4, 1.4]})
    im = ax.imshow(
        grid, vmin=0 if metric != "kappa" else -0.2, vmax=1, cmap="RdYlGn", aspect="auto"
    )
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(pairs)), pairs)
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, "n/a" if math.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set_title(f"{metric} per pair and class")
    fig.colorbar(im, ax=ax, fraction=0.05)
    buckets = list(dict.fromkeys(r["bucket"] for r in result.over_time))
    for name in pairs:
        ys = {
            r["bucket"]: r[metric]
            for r in result.over_time
            if f"{r['annotator_a']} vs {r['annotator_b']}" == name
        }
        xs = [i for i, b in enumerate(buckets) if b in ys]
        ax_t.plot(xs, [ys[buckets[i]] for i in xs], marker="o", label=name)
    thr = result.kappa_threshold if metric == "kappa" else result.f1_threshold
    if metric != "mean_iou":
        ax_t.axhline(thr, color="grey", linestyle="--", linewidth=1)
    ax_t.set_xticks(range(len(buckets)), buckets, rotation=45, ha="right")
    ax_t.set_ylim(min(-0.05, float(np.nanmin(grid)) if np.isfinite(grid).any() else 0), 1.05)
    ax_t.set_title(f"{metric} over time")
    ax_t.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def agreement_chart(result: TeamAgreement, path: str | Path, metric: str = "kappa") -> Path:
    """Write the chart of ``result`` to ``path`` (``.png`` or ``.svg``); returns the path.

    Raises
    ------
    TeamError
        Another suffix, or an unknown metric.
    """
    from matplotlib import rc_context

    from ..fileio import atomic_write_bytes

    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise TeamError(
            "the chart must be a .png or .svg file", path=path, field="suffix", value=path.suffix
        )
    if not path.parent.is_dir():
        raise TeamError("the chart's folder does not exist", path=path.parent, field="chart")
    buf = io.BytesIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "labelsuite"}):
        _figure(result, metric).savefig(buf, format=fmt)
    atomic_write_bytes(path, buf.getvalue())
    return path


def agreement_chart_svg(result: TeamAgreement, metric: str = "kappa") -> str:
    """The chart as SVG text (for inlining in the QC report)."""
    from matplotlib import rc_context

    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "labelsuite"}):
        _figure(result, metric).savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.find("<svg") :]

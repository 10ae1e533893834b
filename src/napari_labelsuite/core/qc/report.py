"""The QC report: one JSON file plus a human-readable HTML or Markdown page.

A report is a plain dict of sections. Tables (pandas DataFrames or lists of dicts) become
HTML / Markdown tables; the per-class chart is an inline SVG bar chart, so no plotting
library is needed.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import QCError
from ..fileio import atomic_write_text

__all__ = ["CHART_KEY", "report_to_jsonable", "svg_bar_chart", "write_report"]

#: key of a section's own chart (SVG text), drawn in the page and left out of the JSON
CHART_KEY = "chart_svg"


def _plain(v: Any) -> Any:
    if isinstance(v, pd.DataFrame):
        return [{k: _plain(x) for k, x in r.items()} for r in v.to_dict("records")]
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "to_dict"):
        return _plain(v.to_dict())
    return v


def report_to_jsonable(report: dict[str, Any]) -> dict[str, Any]:
    """The report with DataFrames, arrays and findings as JSON values (NaN -> null)."""
    return _plain(report)


def svg_bar_chart(
    labels: list[str], values: list[float], title: str = "", width: int = 480
) -> str:
    """A small horizontal bar chart as an SVG string (values are clipped at 0)."""
    bar_h, gap, left, top = 18, 6, 140, 28 if title else 8
    height = top + len(labels) * (bar_h + gap) + 8
    vmax = max([v for v in values if v is not None and not math.isnan(v)] + [1e-12])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">'
    ]
    if title:
        parts.append(f'<text x="4" y="16" font-weight="bold">{html.escape(title)}</text>')
    span = width - left - 60
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = top + i * (bar_h + gap)
        ok = v is not None and not math.isnan(v)
        w = max(0.0, float(v)) / vmax * span if ok else 0.0
        shown = f"{v:.3g}" if ok else "n/a"
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{html.escape(str(lab))}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#4C72B0"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 13}">{shown}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _rows(v: Any) -> list[dict[str, Any]] | None:
    if isinstance(v, pd.DataFrame):
        return _plain(v)
    if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
        return _plain(v)
    if isinstance(v, list) and v and all(hasattr(x, "to_dict") for x in v):
        return [_plain(x.to_dict()) for x in v]
    return None


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _html_table(rows: list[dict[str, Any]]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(rows: list[dict[str, Any]]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(lines)


def _chart(report: dict[str, Any]) -> str | None:
    """The per-class chart: IoU per class when there is a semantic table, else counts."""
    sem = report.get("semantic")
    if isinstance(sem, dict) and "table" not in sem:  # agreement(): one entry per pair
        sem = next((v for v in sem.values() if isinstance(v, dict) and "table" in v), None)
    if isinstance(sem, dict) and isinstance(sem.get("table"), pd.DataFrame):
        t = sem["table"]
        t = t[t.class_id != 0]
        return svg_bar_chart(list(t["class"]), list(t["iou"]), "IoU per class")
    cls = report.get("classes")
    if isinstance(cls, pd.DataFrame) and len(cls):
        return svg_bar_chart(list(cls["class"]), list(cls["total"]), "Objects and boxes per class")
    return None


def write_report(report: dict[str, Any], path: str | Path, fmt: str | None = None) -> list[Path]:
    """Write ``report`` as ``<stem>.json`` plus a ``<stem>.html`` or ``<stem>.md`` page.

    Parameters
    ----------
    report : dict
        Sections: scalars, dicts, DataFrames or lists of findings / dicts.
    path : str or Path
        Target; its suffix (``.html``, ``.md`` or ``.json``) picks the page format
        unless ``fmt`` is given.
    fmt : {"html", "md"}, optional

    Returns
    -------
    list of Path
        The files written (JSON first).
    """
    path = Path(path)
    fmt = fmt or {".md": "md", ".markdown": "md"}.get(path.suffix.lower(), "html")
    if fmt not in ("html", "md"):
        raise QCError("report format must be 'html' or 'md'", path=path, field="fmt", value=fmt)
    if not path.parent.exists():
        raise QCError(
            "the report's folder does not exist", path=path.parent, field="path", value=str(path)
        )
    stem = path.with_suffix("")
    # a section may bring its own chart as SVG text (CHART_KEY): shown, not in the JSON
    charts = [c for c in [_chart(report)] if c] + [
        v[CHART_KEY] for v in report.values() if isinstance(v, dict) and v.get(CHART_KEY)
    ]
    report = {
        k: {kk: vv for kk, vv in v.items() if kk != CHART_KEY} if isinstance(v, dict) else v
        for k, v in report.items()
    }
    data = report_to_jsonable(report)
    json_path = stem.with_suffix(".json")
    atomic_write_text(json_path, json.dumps(data, indent=2))
    title = str(report.get("title", "Quality control report"))
    if fmt == "html":
        page = _html_page(title, report, charts)
        page_path = stem.with_suffix(".html")
    else:
        page = _md_page(title, report, charts, stem)
        page_path = stem.with_suffix(".md")
    atomic_write_text(page_path, page)
    return [json_path, page_path]


def _sections(report: dict[str, Any], prefix: str = ""):
    """Yield (heading, scalars dict, [(subheading, rows)]) per section, nested dicts flattened."""
    for key, val in report.items():
        if key == "title" and not prefix:
            continue
        heading = f"{prefix} / {key}" if prefix else str(key)
        rows = _rows(val)
        if rows is not None:
            yield heading, {}, [("", rows)]
        elif isinstance(val, dict):
            scalars = {
                k: v
                for k, v in val.items()
                if _rows(v) is None and not isinstance(v, (dict, np.ndarray, list))
            }
            tables = [(k, _rows(v)) for k, v in val.items() if _rows(v) is not None]
            if scalars or tables:
                yield heading, scalars, tables
            nested = {k: v for k, v in val.items() if isinstance(v, dict)}
            yield from _sections(nested, heading)
        elif isinstance(val, list) and not val:
            yield heading, {"items": 0}, []
        elif not isinstance(val, np.ndarray):
            yield heading, {"value": val}, []


def _html_page(title: str, report: dict[str, Any], charts: list[str]) -> str:
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #bbb;"
        "padding:2px 6px;text-align:right}th{background:#eee}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    out.extend(charts)
    for heading, scalars, tables in _sections(report):
        out.append(f"<h2>{html.escape(heading)}</h2>")
        if scalars:
            out.append(_html_table([{k: _plain(v) for k, v in scalars.items()}]))
        for sub, rows in tables:
            if sub:
                out.append(f"<h3>{html.escape(sub)}</h3>")
            out.append(_html_table(rows))
    out.append("</body></html>")
    return "\n".join(out)


def _md_page(title: str, report: dict[str, Any], charts: list[str], stem: Path) -> str:
    out = [f"# {title}", ""]
    for n, chart in enumerate(charts, start=1):
        svg_path = stem.with_name(stem.name + ("_chart.svg" if n == 1 else f"_chart{n}.svg"))
        atomic_write_text(svg_path, chart)
        out += [
            f"![chart]({svg_path.name})" if n > 1 else f"![per-class chart]({svg_path.name})",
            "",
        ]
    for heading, scalars, tables in _sections(report):
        out += [f"## {heading}", ""]
        if scalars:
            out += [_md_table([{k: _plain(v) for k, v in scalars.items()}]), ""]
        for sub, rows in tables:
            if sub:
                out += [f"### {sub}", ""]
            out += [_md_table(rows), ""]
    return "\n".join(out)

"""Agreement between annotators on the images they both labelled (the overlap images).

Per annotator *pair* and per *class*, pooled over the overlap images:

* Cohen's kappa, pixel-wise on the class masks (``semantic``, or the class mask the
  instances and their table paint); per class the kappa of "this class or not";
* detection F1 at an IoU threshold (0.5) and the mean IoU of the matched objects, from the
  one-to-one matching of :mod:`napari_labelsuite.core.qc.matching` (instances within each
  class; boxes by :func:`~napari_labelsuite.core.qc.match_boxes` when there are no instances);
* the same pair numbers over time (per day of the annotations' save time, or per N images);
* flags for annotators, pairs and classes below a threshold (kappa 0.6, F1 0.7 by default);
* the guideline text of the classes with the most disagreement (from the taxonomy).

Everything is computed from pair counts: confusion matrices are summed over images, so a
pooled kappa is exactly ``sklearn.metrics.cohen_kappa_score`` of the concatenated pixels.
"""

from __future__ import annotations

import csv
import datetime as _dt
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import ImageAnnotation
from ..convert import instances_to_semantic
from ..errors import TeamError
from ..qc.matching import _subset, instance_overlaps, match_boxes
from ..qc.metrics import _confusion_with_labels, kappa_from_confusion

__all__ = [
    "DEFAULT_F1_THRESHOLD",
    "DEFAULT_KAPPA_THRESHOLD",
    "TeamAgreement",
    "agreement_by_annotator",
    "check_team_annotations",
    "dataset_team_annotations",
    "known_annotators",
]

DEFAULT_KAPPA_THRESHOLD = 0.6
DEFAULT_F1_THRESHOLD = 0.7

#: ``{image key: {annotator: annotation}}``
TeamAnnotations = Mapping[str, Mapping[str, ImageAnnotation]]


def _div(x: float, y: float) -> float:
    return float(x) / float(y) if y else float("nan")


@dataclass
class _Counts:
    """Pooled counts of one (pair, bucket): confusion cells and per-class matching."""

    cm: dict[tuple[int, int], int] = field(default_factory=dict)
    tp: dict[int, int] = field(default_factory=dict)
    fp: dict[int, int] = field(default_factory=dict)
    fn: dict[int, int] = field(default_factory=dict)
    iou_sum: dict[int, float] = field(default_factory=dict)
    images: int = 0

    def add(self, other: _Counts) -> None:
        for k, n in other.cm.items():
            self.cm[k] = self.cm.get(k, 0) + n
        for mine, theirs in ((self.tp, other.tp), (self.fp, other.fp), (self.fn, other.fn)):
            for c, v in theirs.items():
                mine[c] = mine.get(c, 0) + v
        for c, x in other.iou_sum.items():
            self.iou_sum[c] = self.iou_sum.get(c, 0.0) + x
        self.images += other.images

    def classes(self) -> list[int]:
        found = {c for pair in self.cm for c in pair} | set(self.tp) | set(self.fp) | set(self.fn)
        return sorted(c for c in found if c != 0)

    def matrix(self) -> tuple[np.ndarray, list[int]]:
        labels = sorted({c for pair in self.cm for c in pair})
        pos = {c: i for i, c in enumerate(labels)}
        m = np.zeros((len(labels), len(labels)), np.int64)
        for (a, b), n in self.cm.items():
            m[pos[a], pos[b]] += n
        return m, labels

    def kappa(self, cls: int | None = None) -> float:
        """Cohen's kappa of all classes, or of "``cls`` or not" (NaN without pixels)."""
        m, labels = self.matrix()
        if m.sum() == 0:
            return float("nan")
        if cls is not None:
            if cls not in labels:
                return float("nan")
            i = labels.index(cls)
            both = m[i, i]
            only_a = m[i].sum() - both
            only_b = m[:, i].sum() - both
            m = np.array([[m.sum() - both - only_a - only_b, only_b], [only_a, both]])
        return kappa_from_confusion(m)

    def pixels(self, cls: int) -> tuple[int, int]:
        a = sum(n for (x, _), n in self.cm.items() if x == cls)
        b = sum(n for (_, y), n in self.cm.items() if y == cls)
        return int(a), int(b)

    def foreground(self) -> tuple[int, int]:
        """Labelled (non-background) pixels of A and of B."""
        a = sum(n for (x, _), n in self.cm.items() if x != 0)
        b = sum(n for (_, y), n in self.cm.items() if y != 0)
        return int(a), int(b)

    def detection(self, cls: int | None = None) -> dict[str, float]:
        keys = [cls] if cls is not None else sorted(set(self.tp) | set(self.fp) | set(self.fn))
        tp = sum(self.tp.get(k, 0) for k in keys)
        fp = sum(self.fp.get(k, 0) for k in keys)
        fn = sum(self.fn.get(k, 0) for k in keys)
        iou = sum(self.iou_sum.get(k, 0.0) for k in keys)
        return {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "f1": _div(2 * tp, 2 * tp + fp + fn),
            "mean_iou": _div(iou, tp),
        }


def _class_mask(ann: ImageAnnotation) -> Any:
    if ann.semantic is not None:
        return ann.semantic
    if ann.instances is not None:
        return instances_to_semantic(ann.instances, ann.objects)
    return None


def _pair_counts(a: ImageAnnotation, b: ImageAnnotation, iou_threshold: float) -> _Counts:
    """Confusion cells and per-class matching of two annotations of one image."""
    out = _Counts(images=1)
    sa, sb = _class_mask(a), _class_mask(b)
    if sa is not None and sb is not None:
        cm, labels = _confusion_with_labels(sa, sb, None)
        rows, cols = np.nonzero(cm)
        for r, c in zip(rows, cols):
            out.cm[(int(labels[r]), int(labels[c]))] = int(cm[r, c])
    if a.instances is not None and b.instances is not None:
        ov = instance_overlaps(a.instances, b.instances)
        cls_a = np.array([_object_class(a, i) for i in ov.ids_a], np.int64)
        cls_b = np.array([_object_class(b, i) for i in ov.ids_b], np.int64)
        for c in sorted(set(cls_a.tolist()) | set(cls_b.tolist())):
            m = _subset(ov, cls_a == c, cls_b == c).match(iou_threshold)
            out.tp[c], out.fp[c], out.fn[c] = m.tp, m.fp, m.fn
            out.iou_sum[c] = float(m.iou.sum())
    elif a.boxes or b.boxes:
        m = match_boxes(a.boxes, b.boxes, iou_threshold)
        ca = np.array([bx.class_id for bx in a.boxes], np.int64)
        for row in m.extra["per_class"].itertuples():
            c = int(row.class_id)
            out.tp[c], out.fp[c], out.fn[c] = int(row.tp), int(row.fp), int(row.fn)
            out.iou_sum[c] = float(m.iou[ca[m.a] == c].sum()) if len(m.a) else 0.0
    return out


def _object_class(ann: ImageAnnotation, instance_id: Any) -> int:
    info = ann.objects.get(int(instance_id))
    return int(info.class_id) if info is not None else 0


def check_team_annotations(annotations: TeamAnnotations) -> dict[str, list[str]]:
    """The annotators of each overlap image (two or more), checked for equal shapes.

    Raises
    ------
    TeamError
        No image has two annotators, or two annotations of one image differ in shape.
    """
    out: dict[str, list[str]] = {}
    for key, by in annotations.items():
        names = sorted(by)
        if len(names) < 2:
            continue
        shape = tuple(by[names[0]].shape)
        for n in names[1:]:
            if tuple(by[n].shape) != shape:
                raise TeamError(
                    f"annotator {n!r} labelled image {key!r} with shape "
                    f"{tuple(by[n].shape)}, annotator {names[0]!r} with {shape}",
                    where=f"image {key!r}",
                    field="shape",
                    value=tuple(by[n].shape),
                )
        out[str(key)] = names
    if not out:
        raise TeamError(
            "no image was labelled by two or more annotators: nothing to compare",
            field="overlap",
            value=len(annotations),
        )
    return out


def _as_time(v: Any) -> _dt.datetime | None:
    if v is None:
        return None
    if isinstance(v, _dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=_dt.UTC)
    if isinstance(v, (int, float)):
        return _dt.datetime.fromtimestamp(float(v), _dt.UTC)
    try:
        t = _dt.datetime.fromisoformat(str(v))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=_dt.UTC)


def _buckets(
    keys: Sequence[str],
    times: Mapping[str, Mapping[str, Any]] | None,
    bucket: str | int,
) -> dict[str, str]:
    """The time bucket of each overlap image: its day, or its group of N in time order."""
    when: dict[str, _dt.datetime | None] = {}
    for k in keys:
        ts = [_as_time(t) for t in (times or {}).get(k, {}).values()]
        known = [t for t in ts if t is not None]
        when[k] = max(known) if known else None  # agreement exists once both have saved
    if bucket == "day":
        return {k: (t.date().isoformat() if t is not None else "unknown") for k, t in when.items()}
    if isinstance(bucket, bool) or not isinstance(bucket, int) or bucket < 1:
        raise TeamError("bucket must be 'day' or a number of images >= 1", value=bucket)
    floor = _dt.datetime.min.replace(tzinfo=_dt.UTC)
    order = sorted(keys, key=lambda k: (when[k] or floor, k))
    out = {}
    for pos, k in enumerate(order):
        first = pos // bucket * bucket
        out[k] = f"images {first + 1}-{min(first + bucket, len(order))}"
    return out


@dataclass(frozen=True)
class TeamAgreement:
    """Agreement of annotators on their overlap images (see :func:`agreement_by_annotator`).

    Attributes
    ----------
    pairs : tuple of dict
        One row per annotator pair and class (``class`` "all" for the pooled row):
        ``annotator_a``, ``annotator_b``, ``class_id``, ``class``, ``images``, ``kappa``,
        ``pixels_a``, ``pixels_b``, ``tp``, ``fp``, ``fn``, ``f1``, ``mean_iou``, ``flag``.
    over_time : tuple of dict
        One row per pair and bucket: ``bucket``, ``images``, ``kappa``, ``f1``, ``mean_iou``.
    annotators : tuple of dict
        Per annotator, pooled over every pair it is part of, with its best pair's kappa
        and F1; an annotator is flagged when even its best pair is below a threshold.
    classes : tuple of dict
        Per class, pooled over every pair.
    flags : tuple of dict
        ``kind`` (annotator, pair, class), ``name``, ``metric``, ``value``, ``threshold``.
    guidelines : tuple of dict
        The classes with the most disagreement, worst first: ``class_id``, ``class``,
        ``kappa``, ``f1``, ``guideline`` (the class's description) and its
        ``guideline_version``.
    images : tuple of str
        The overlap images compared.
    """

    pairs: tuple[dict[str, Any], ...]
    over_time: tuple[dict[str, Any], ...]
    annotators: tuple[dict[str, Any], ...]
    classes: tuple[dict[str, Any], ...]
    flags: tuple[dict[str, Any], ...]
    guidelines: tuple[dict[str, Any], ...]
    images: tuple[str, ...]
    kappa_threshold: float = DEFAULT_KAPPA_THRESHOLD
    f1_threshold: float = DEFAULT_F1_THRESHOLD

    def to_rows(self) -> list[dict[str, Any]]:
        """The per-pair, per-class table as plain rows (for CSV and JSON)."""
        return [dict(r) for r in self.pairs]

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-friendly values (NaN becomes None)."""

        def clean(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
            return [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in rows
            ]

        return {
            "images": list(self.images),
            "kappa_threshold": self.kappa_threshold,
            "f1_threshold": self.f1_threshold,
            "pairs": clean(self.pairs),
            "over_time": clean(self.over_time),
            "annotators": clean(self.annotators),
            "classes": clean(self.classes),
            "flags": clean(self.flags),
            "guidelines": clean(self.guidelines),
        }

    def write_csv(self, path: str | Path) -> Path:
        """Write :meth:`to_rows` as CSV; returns the path."""
        from ..fileio import atomic_write_text

        path = Path(path)
        rows = self.to_rows()
        cols = list(dict.fromkeys(k for r in rows for k in r))
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(path, buf.getvalue())
        return path

    def pair_row(self, a: str, b: str, cls: str = "all") -> dict[str, Any]:
        """The row of pair ``(a, b)`` (either order) and class name (``"all"``: pooled)."""
        for r in self.pairs:
            if {r["annotator_a"], r["annotator_b"]} == {a, b} and r["class"] == cls:
                return r
        raise TeamError("no such pair and class", field="pair", value=(a, b, cls))

    def summary(self) -> str:
        """One line per pair, then the flags, then the guidelines of the worst classes."""
        lines = [
            f"{r['annotator_a']} vs {r['annotator_b']}: kappa {_f(r['kappa'])}, "
            f"F1 {_f(r['f1'])}, mean IoU {_f(r['mean_iou'])} ({r['images']} images)"
            for r in self.pairs
            if r["class"] == "all"
        ]
        lines += [
            f"flag: {f['kind']} {f['name']}: {f['metric']} {_f(f['value'])} < {f['threshold']:g}"
            for f in self.flags
        ]
        lines += [
            f"guideline of {g['class']} (kappa {_f(g['kappa'])}, F1 {_f(g['f1'])}): "
            f"{g['guideline'] or '(none written)'}"
            for g in self.guidelines
        ]
        return "\n".join(lines)

    def report_section(self, chart: bool = False) -> dict[str, Any]:
        """The section the QC report shows (tables of pairs, time, flags, guidelines).

        With ``chart``, also the chart as SVG text (``chart_svg``), which
        :func:`~napari_labelsuite.core.qc.write_report` draws in the page.
        """
        d = self.to_dict()
        extra: dict[str, Any] = {}
        if chart:
            from ..qc.report import CHART_KEY
            from .chart import agreement_chart_svg

            extra[CHART_KEY] = agreement_chart_svg(self)
        return {
            **extra,
            "images": len(self.images),
            "kappa_threshold": self.kappa_threshold,
            "f1_threshold": self.f1_threshold,
            "pairs": d["pairs"],
            "over_time": d["over_time"],
            "annotators": d["annotators"],
            "classes": d["classes"],
            "flags": d["flags"] or [],
            "guidelines": d["guidelines"] or [],
        }


def _f(v: Any) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def _guideline_of(taxonomy: Any, cid: int) -> str:
    if taxonomy is None or cid not in taxonomy:
        return ""
    c = taxonomy[cid]
    return str(getattr(c, "guideline", "") or getattr(c, "description", "") or "")


def _guideline_version(taxonomy: Any, cid: int) -> int | None:
    if taxonomy is None or cid not in taxonomy:
        return None
    v = getattr(taxonomy[cid], "guideline_version", None)
    return None if v is None else int(v)


def _name_of(taxonomy: Any, cid: int) -> str:
    if taxonomy is not None and cid in taxonomy:
        return str(taxonomy[cid].name)
    return str(cid)


def _nan_low(v: float) -> float:
    return -math.inf if math.isnan(v) else v


def _score(kappa: float, f1: float) -> float:
    vals = [v for v in (kappa, f1) if not math.isnan(v)]
    return min(vals) if vals else float("inf")


def agreement_by_annotator(
    annotations: TeamAnnotations,
    taxonomy: Any = None,
    *,
    times: Mapping[str, Mapping[str, Any]] | None = None,
    iou_threshold: float = 0.5,
    kappa_threshold: float = DEFAULT_KAPPA_THRESHOLD,
    f1_threshold: float = DEFAULT_F1_THRESHOLD,
    bucket: str | int = "day",
    n_guidelines: int = 3,
    progress: Any = None,
) -> TeamAgreement:
    """Agreement per annotator pair and class over the images labelled by two or more.

    Parameters
    ----------
    annotations : mapping
        ``{image key: {annotator: ImageAnnotation}}``; images with one annotator are skipped.
    taxonomy : Taxonomy, optional
        Class names and the guideline text (``guideline`` or ``description``) of classes.
    times : mapping, optional
        ``{image key: {annotator: save time}}`` (ISO text, datetime or epoch seconds) for
        the over-time table; an image counts at the later of its annotators' times.
    iou_threshold : float
        Minimum IoU of a matched object (detection F1, mean matched IoU).
    kappa_threshold, f1_threshold : float
        Annotators, pairs and classes below either are flagged.
    bucket : "day" or int
        Over time per day, or per ``bucket`` images in save-time order.
    n_guidelines : int
        How many of the worst classes get their guideline text listed.
    progress : callable, optional
        ``progress(done, total)`` after each image (for a progress bar).

    Raises
    ------
    TeamError
        No overlap image, or two annotations of one image with different shapes.
    """
    if not 0.0 < float(iou_threshold) <= 1.0:
        raise TeamError(
            "IoU threshold must be in (0, 1]", field="iou_threshold", value=iou_threshold
        )
    who = check_team_annotations(annotations)
    keys = sorted(who)
    where = _buckets(keys, times, bucket)
    per: dict[tuple[str, str, str], _Counts] = {}  # (a, b, bucket)
    for done, key in enumerate(keys, start=1):
        by = annotations[key]
        for a, b in itertools.combinations(who[key], 2):
            c = _pair_counts(by[a], by[b], iou_threshold)
            per.setdefault((a, b, where[key]), _Counts()).add(c)
        if progress is not None:
            progress(done, len(keys))
    pooled: dict[tuple[str, str], _Counts] = {}
    for (a, b, _), c in per.items():
        pooled.setdefault((a, b), _Counts()).add(c)
    every = _Counts()
    for c in pooled.values():
        every.add(c)
    classes = every.classes()

    flags: list[dict[str, Any]] = []

    def flag(kind: str, name: str, kappa: float, f1: float) -> str:
        hit = []
        for metric, v, t in (("kappa", kappa, kappa_threshold), ("f1", f1, f1_threshold)):
            if not math.isnan(v) and v < t:
                flags.append(
                    {"kind": kind, "name": name, "metric": metric, "value": v, "threshold": t}
                )
                hit.append(metric)
        return ",".join(hit)

    pair_rows: list[dict[str, Any]] = []
    for (a, b), c in sorted(pooled.items()):
        for cid in [None, *c.classes()]:
            det = c.detection(cid)
            kappa = c.kappa(cid)
            pa, pb = c.pixels(cid) if cid is not None else c.foreground()
            row = {
                "annotator_a": a,
                "annotator_b": b,
                "class_id": -1 if cid is None else cid,
                "class": "all" if cid is None else _name_of(taxonomy, cid),
                "images": c.images,
                "kappa": kappa,
                "pixels_a": pa,
                "pixels_b": pb,
                **det,
            }
            row["flag"] = flag("pair", f"{a} vs {b}", kappa, det["f1"]) if cid is None else ""
            pair_rows.append(row)
    time_rows = []
    for (a, b, bk), c in sorted(per.items()):
        det = c.detection()
        time_rows.append(
            {
                "annotator_a": a,
                "annotator_b": b,
                "bucket": bk,
                "images": c.images,
                "kappa": c.kappa(),
                "f1": det["f1"],
                "mean_iou": det["mean_iou"],
            }
        )
    ann_rows = []
    for name in sorted({n for ns in who.values() for n in ns}):
        c = _Counts()
        for (a, b), pc in pooled.items():
            if name in (a, b):
                c.add(pc)
        det = c.detection()
        # flagged when it agrees with nobody: a poor partner does not drag a good one down
        mine = [pc for (a, b), pc in pooled.items() if name in (a, b)]
        best_k = max((pc.kappa() for pc in mine), key=_nan_low, default=float("nan"))
        best_f = max((pc.detection()["f1"] for pc in mine), key=_nan_low, default=float("nan"))
        ann_rows.append(
            {
                "annotator": name,
                "images": sum(1 for ns in who.values() if name in ns),
                "kappa": c.kappa(),
                "f1": det["f1"],
                "mean_iou": det["mean_iou"],
                "best_pair_kappa": best_k,
                "best_pair_f1": best_f,
                "flag": flag("annotator", name, best_k, best_f),
            }
        )
    class_rows: list[dict[str, Any]] = []
    for cid in classes:
        det = every.detection(cid)
        kappa = every.kappa(cid)
        cname = _name_of(taxonomy, cid)
        class_rows.append(
            {
                "class_id": cid,
                "class": cname,
                "kappa": kappa,
                "f1": det["f1"],
                "mean_iou": det["mean_iou"],
                "flag": flag("class", cname, kappa, det["f1"]),
            }
        )
    worst = sorted(class_rows, key=lambda r: (_score(r["kappa"], r["f1"]), r["class_id"]))
    guides = [
        {
            "class_id": r["class_id"],
            "class": r["class"],
            "kappa": r["kappa"],
            "f1": r["f1"],
            "guideline": _guideline_of(taxonomy, r["class_id"]),
            "guideline_version": _guideline_version(taxonomy, r["class_id"]),
        }
        for r in worst[: max(int(n_guidelines), 0)]
        if _score(r["kappa"], r["f1"]) < 1.0
    ]
    return TeamAgreement(
        tuple(pair_rows),
        tuple(time_rows),
        tuple(ann_rows),
        tuple(class_rows),
        tuple(flags),
        tuple(guides),
        tuple(keys),
        float(kappa_threshold),
        float(f1_threshold),
    )


def dataset_team_annotations(
    ds: Any, annotators: Sequence[str] | None = None, keys: Sequence[str] | None = None
) -> tuple[dict[str, dict[str, ImageAnnotation]], dict[str, dict[str, Any]]]:
    """The saved labels of each annotator on the dataset's overlap images, and save times.

    The overlap images are those the assignments (if any) give two or more annotators,
    else every image two or more annotators saved. Masks of store items stay lazy.

    Parameters
    ----------
    ds : Dataset
    annotators : list of str, optional
        Only these annotators (each must be assigned or have saved labels).
    keys : list of str, optional
        Only these images.

    Returns
    -------
    (annotations, times)
        ``{image key: {annotator: ImageAnnotation}}`` and ``{image key: {annotator:
        save time}}``: the time of the annotator's last ``save`` of the image in the
        dataset's provenance log, else the sidecar's modification time.

    Raises
    ------
    TeamError
        An unknown annotator, or an assignments file that does not fit the dataset.
    """
    from .assignments import Assignments, assignments_path
    from .labels import annotator_sidecar_path, load_annotator_annotation

    path = assignments_path(ds)
    plan = Assignments.load(path, keys=ds.keys()) if path.is_file() else None
    known = known_annotators(ds, plan)
    if annotators is not None:
        unknown = [a for a in annotators if a not in known]
        if unknown:
            raise TeamError(
                f"unknown annotator(s) {unknown}: this dataset has {known}",
                path=ds.annotation_dir,
                field="annotators",
                value=unknown,
            )
    wanted = set(known if annotators is None else annotators)
    anns: dict[str, dict[str, ImageAnnotation]] = {}
    times: dict[str, dict[str, Any]] = {}
    saved = _save_times(ds)
    for i, item in enumerate(ds):
        if keys is not None and item.key not in keys:
            continue
        who = plan.annotators_of(item.key) if plan is not None else known
        who = [w for w in who if w in wanted]
        if len(who) < 2:
            continue
        for w in who:
            ann = load_annotator_annotation(ds, i, w)
            if ann is None:
                continue
            ann.image_name = item.key
            anns.setdefault(item.key, {})[w] = ann
            when: Any = saved.get((item.key, w))
            sidecar = annotator_sidecar_path(ds, i, w)
            if when is None and item.kind == "image" and sidecar.is_file():
                when = sidecar.stat().st_mtime  # saved without the session (a script)
            if when is not None:
                times.setdefault(item.key, {})[w] = when
    return anns, times


def known_annotators(ds: Any, plan: Any = None) -> list[str]:
    """Everyone assigned (``plan``, an Assignments) or with saved labels in ``ds``: sidecar
    folders and store label images (sorted)."""
    from .labels import list_annotators

    names = set(list_annotators(ds)) | _store_annotators(ds)
    return sorted(names | set(plan.annotators if plan is not None else ()))


def _store_annotators(ds: Any) -> set[str]:
    """Annotators with label images (``<base>.<annotator>``) in the dataset's stores."""
    from ..store import MaskStore
    from .labels import parse_annotator_label_name

    out: set[str] = set()
    for item in ds:
        if item.kind == "store":
            with MaskStore.open(str(item.path), "r") as st:
                out |= {a for n in st.label_names() if (a := parse_annotator_label_name(n)[1])}
    return out


def _save_times(ds: Any) -> dict[tuple[str, str], str]:
    """(image key, annotator) -> time of the last ``save`` in the dataset's provenance."""
    from ..provenance import ProvenanceLog

    path = Path(ds.provenance_path)
    if not path.is_file():
        return {}
    try:
        entries = ProvenanceLog(path).entries(check=False)
    except Exception:  # a damaged log: fall back to the files' times
        return {}
    out: dict[tuple[str, str], str] = {}
    for e in entries:
        if e.get("action") == "save" and e.get("image") and e.get("user") and e.get("time"):
            out[(str(e["image"]), str(e["user"]))] = str(e["time"])
    return out

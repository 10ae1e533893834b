"""Cell Tracking Challenge (CTC) tracks: ``man_track.txt`` plus one mask TIFF per frame.

Layout of a folder (ground truth ``TRA`` or a result ``RES``)::

    man_track.txt          one line per track: "L B E P" (label, first and last frame,
                           parent label or 0), space-separated
    man_track000.tif ...   frame t's instance mask (2D or 3D), track labels as pixel values
    (result folders: res_track.txt and mask000.tif ...)

A label holds one track; a track spans frames ``B..E`` without gaps; a daughter of a
division names its mother as ``P`` and starts after the mother ends.

:func:`read_tracks` / :func:`write_tracks` work on the label stack and the track table;
:func:`read` / :func:`write` are the registry form (one
:class:`~napari_labelsuite.core.annotation.ImageAnnotation` with axes starting with ``t``,
objects whose attributes hold ``parent``, ``track_start`` and ``track_end``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import ImageAnnotation, ObjectInfo
from ..errors import FormatError
from ..taxonomy import Taxonomy
from ._common import StagedFiles, check_annotations

__all__ = ["TRACK_FILES", "read", "read_tracks", "tracks_from_labels", "write", "write_tracks"]

#: track table name -> mask file prefix
TRACK_FILES = {"man_track.txt": "man_track", "res_track.txt": "mask"}

#: one CTC track row: (first frame, last frame, parent label)
TrackRow = tuple[int, int, int]


def _track_file(root: Path) -> Path:
    for name in TRACK_FILES:
        if (root / name).is_file():
            return root / name
    raise FormatError(
        f"not a Cell Tracking Challenge folder (no {' or '.join(TRACK_FILES)})", path=root
    )


def _frame_files(root: Path, prefix: str) -> dict[int, Path]:
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)\.tiff?$", re.IGNORECASE)
    out: dict[int, Path] = {}
    for p in root.iterdir():
        m = pattern.match(p.name)
        if m:
            out[int(m.group(1))] = p
    return out


def _parse_table(path: Path) -> dict[int, TrackRow]:
    from ..validate import decode_text, read_regular_bytes

    text = decode_text(read_regular_bytes(path, what="track table"), path=path)
    rows: dict[int, TrackRow] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            values = [int(v) for v in parts]
        except ValueError:
            raise FormatError(
                "a track line holds four integers",
                path=path,
                where=f"line {n}",
                field="L B E P",
                value=line,
            ) from None
        if len(values) != 4:
            raise FormatError(
                "a track line holds four integers",
                path=path,
                where=f"line {n}",
                field="L B E P",
                value=line,
            )
        lab, b, e, p = values
        if lab <= 0:
            raise FormatError(
                "track labels are >= 1", path=path, where=f"line {n}", field="L", value=lab
            )
        if lab in rows:
            raise FormatError(
                "track label listed twice", path=path, where=f"line {n}", field="L", value=lab
            )
        if e < b:
            raise FormatError(
                f"track {lab} ends before it begins",
                path=path,
                where=f"line {n}",
                field="E",
                value=e,
            )
        rows[lab] = (b, e, p)
    return rows


def _check_rows(rows: dict[int, TrackRow], n_frames: int, path: Path, where: Any) -> None:
    for lab, (b, e, p) in rows.items():
        for name, t in (("B", b), ("E", e)):
            if not 0 <= t < n_frames:
                raise FormatError(
                    f"track {lab} names frame {t}, but frames run 0..{n_frames - 1}",
                    path=path,
                    where=where(lab),
                    field=name,
                    value=t,
                )
        if p != 0:
            if p not in rows:
                raise FormatError(
                    f"track {lab} names parent {p}, which is not a track",
                    path=path,
                    where=where(lab),
                    field="P",
                    value=p,
                )
            if rows[p][1] >= b:
                raise FormatError(
                    f"track {lab} begins at frame {b}, before its parent {p} ends "
                    f"(frame {rows[p][1]})",
                    path=path,
                    where=where(lab),
                    field="P",
                    value=p,
                )


def read_tracks(path: str | Path) -> tuple[np.ndarray, dict[int, TrackRow]]:
    """Read a CTC folder: the label stack ``(T, ...)`` and ``{label: (B, E, P)}``.

    Raises
    ------
    FormatError
        Naming the file, line and field: malformed lines, frames or parents that do not
        exist, missing frame files, labels in the masks that the table lacks, tracks absent
        from a frame of their span or present outside it.
    """
    from .masks import _read_mask

    root = Path(path)
    if not root.is_dir():
        what = "not a directory" if root.exists() else "no such directory"
        raise FormatError(f"not a Cell Tracking Challenge folder ({what})", path=root)
    table = _track_file(root)
    rows = _parse_table(table)
    files = _frame_files(root, TRACK_FILES[table.name])
    if not files:
        raise FormatError(f"no mask files {TRACK_FILES[table.name]}NNN.tif", path=root)
    n = max(files) + 1
    missing = [t for t in range(n) if t not in files]
    if missing:
        raise FormatError("frame file missing", path=root, field="frame", value=missing[0])
    lines = {lab: k for k, lab in enumerate(rows, start=1)}
    _check_rows(rows, n, table, lambda lab: f"line {lines[lab]}")
    frames: list[np.ndarray] = []
    for t in range(n):
        # the masks reader checks the declared size before decoding and names the file
        # of a TIFF that does not decode
        arr = _read_mask(files[t])
        if arr.dtype.kind not in "iu":
            raise FormatError(
                "masks hold integer labels", path=files[t], field="dtype", value=str(arr.dtype)
            )
        if frames and arr.shape != frames[0].shape:
            raise FormatError(
                "all frames must have one shape", path=files[t], field="shape", value=arr.shape
            )
        present = {int(v) for v in np.unique(arr) if v}
        unknown = sorted(present - set(rows))
        if unknown:
            raise FormatError(
                "label is not in the track table", path=files[t], field="label", value=unknown[0]
            )
        for lab in present:
            b, e, _ = rows[lab]
            if not b <= t <= e:
                raise FormatError(
                    f"track {lab} spans frames {b}..{e} but is in frame {t}",
                    path=table,
                    where=f"line {lines[lab]}",
                    field="B" if t < b else "E",
                    value=b if t < b else e,
                )
        frames.append(arr)
        for lab, (b, e, _) in rows.items():
            if b <= t <= e and lab not in present:
                raise FormatError(
                    f"track {lab} spans frames {b}..{e} but is absent from frame {t}",
                    path=table,
                    where=f"line {lines[lab]}",
                    field="L",
                    value=lab,
                )
    dtype = np.result_type(*[f.dtype for f in frames])
    return np.stack([f.astype(dtype, copy=False) for f in frames]), rows


def tracks_from_labels(labels: Any, parents: dict[int, int] | None = None) -> dict[int, TrackRow]:
    """``{label: (B, E, P)}`` of a label stack (axis 0 = time), frame by frame."""
    parents = parents or {}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in range(labels.shape[0]):
        for v in np.unique(np.asarray(labels[t])):
            if v:
                first.setdefault(int(v), t)
                last[int(v)] = t
    return {lab: (first[lab], last[lab], int(parents.get(lab, 0))) for lab in sorted(first)}


def write_tracks(
    path: str | Path,
    labels: Any,
    parents: dict[int, int] | None = None,
    *,
    result: bool = False,
) -> list[Path]:
    """Write a label stack (axis 0 = time) and its track table as a CTC folder.

    ``parents`` maps daughter labels to their mother. The table is derived from the
    masks (first and last frame of each label) and checked like a read: a track with a gap,
    a parent that is not a label or that does not end before its daughter begins raises
    :class:`FormatError` and nothing is written. ``result=True`` writes ``res_track.txt`` and
    ``maskNNN.tif`` instead of the ground-truth names.
    """
    import tifffile

    root = Path(path)
    if getattr(labels, "ndim", 0) < 3 or np.dtype(labels.dtype).kind not in "iu":
        raise FormatError(
            "a time series of integer masks (T, [Z,] Y, X) is needed",
            path=root,
            field="labels",
            value=(tuple(getattr(labels, "shape", ())), str(getattr(labels, "dtype", ""))),
        )
    rows = tracks_from_labels(labels, parents)
    bad_parent = [lab for lab in (parents or {}) if lab not in rows]
    if bad_parent:
        raise FormatError(
            "parent given for a label that is not in the masks",
            path=root,
            field="parents",
            value=bad_parent[0],
        )
    _check_rows(rows, labels.shape[0], root, lambda lab: f"track {lab}")
    for t in range(labels.shape[0]):
        present = {int(v) for v in np.unique(np.asarray(labels[t])) if v}
        gap = [lab for lab, (b, e, _) in rows.items() if b <= t <= e and lab not in present]
        if gap:
            raise FormatError(
                f"track {gap[0]} is absent from frame {t} inside its span (CTC tracks have "
                "no gaps: split it into two tracks)",
                path=root,
                field="labels",
                value=gap[0],
            )
    table_name = "res_track.txt" if result else "man_track.txt"
    prefix = TRACK_FILES[table_name]
    digits = max(3, len(str(labels.shape[0] - 1)))
    top = max(rows, default=0)
    dtype = np.uint16 if top <= np.iinfo(np.uint16).max else np.uint32
    with StagedFiles(root) as staged:
        staged.write_text(
            table_name, "".join(f"{lab} {b} {e} {p}\n" for lab, (b, e, p) in rows.items())
        )
        for t in range(labels.shape[0]):
            name = f"{prefix}{t:0{digits}d}.tif"
            tifffile.imwrite(staged.path(name), np.asarray(labels[t]).astype(dtype))
    return staged.written()


# -- registry form ------------------------------------------------------------------------
def read(path: str | Path, **options: Any) -> tuple[list[ImageAnnotation], Taxonomy]:
    """One time-series annotation: instances = track labels, objects of class ``cell``.

    Each object's attributes hold ``track_start``, ``track_end`` and (daughters)
    ``parent``.
    """
    labels, rows = read_tracks(path)
    tax = Taxonomy([{"id": 1, "name": "cell"}], name="ctc")
    objects = {}
    for lab, (b, e, p) in rows.items():
        attrs: dict[str, Any] = {"track_start": b, "track_end": e}
        if p:
            attrs["parent"] = p
        objects[lab] = ObjectInfo(class_id=1, attributes=attrs)
    axes = "tyx" if labels.ndim == 3 else "tzyx"[-labels.ndim :]
    ann = ImageAnnotation(
        Path(path).name, labels.shape, axes=axes, instances=labels, objects=objects
    )
    return [ann], tax


def write(path: str | Path, annotations: Any, taxonomy: Any, **options: Any) -> list[Path]:
    """Write one time-series annotation (axes starting with ``t``) as a CTC folder.

    Parents come from each object's ``parent`` attribute. ``result=True`` writes the
    result-folder names.
    """
    anns = check_annotations(annotations, taxonomy, path)
    if len(anns) != 1:
        raise FormatError(
            "a CTC folder holds one time series", path=path, field="annotations", value=len(anns)
        )
    ann = anns[0]
    if not ann.axes.startswith("t") or ann.instances is None:
        raise FormatError(
            "a CTC export needs an instance mask whose first axis is time",
            path=path,
            where=ann.image_name,
            field="axes",
            value=ann.axes,
        )
    parents = {
        iid: int(o.attributes["parent"])
        for iid, o in ann.objects.items()
        if o.attributes.get("parent") not in (None, 0, "")
    }
    return write_tracks(path, ann.instances, parents, result=bool(options.get("result", False)))

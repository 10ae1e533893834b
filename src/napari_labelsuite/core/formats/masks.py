"""PNG / TIFF label masks, semantic and instance, with a JSON sidecar.

Layout under the output directory::

    semantic/<stem>.png|.tif     class ids (0 background)
    instances/<stem>.png|.tif    instance ids (0 background)
    masks.json                   taxonomy, every image's shape, axes, object table
                                 (class, attributes, review) and boxes, and its files

Each mask gets the smallest of uint8 / uint16 / uint32 that holds its largest id. PNG holds
2D masks up to 16 bits; stacks and 32-bit masks are written as TIFF. 8-bit semantic PNGs
carry the taxonomy colours as their palette (TIFFs as a colormap), so viewers show them in
class colours.

Reading a directory without ``masks.json`` (or a single mask file) treats every value of a
semantic mask as a class named ``class <value>``, and gives each instance the class most of
its pixels have in the semantic mask of the same name, or one ``object`` class.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..annotation import ImageAnnotation, ObjectInfo
from ..errors import FormatError, TaxonomyError
from ..taxonomy import Taxonomy
from ..validate import check_pixels, check_tables_dict, inside_folder, load_json
from ._common import (
    StagedFiles,
    check_annotations,
    plane_of,
    planes,
    reading,
    unique_stems,
    validate_read,
)

__all__ = ["IMAGE_FORMATS", "SIDECAR", "read", "write"]

SIDECAR = "masks.json"
IMAGE_FORMATS = ("png", "tiff")
_KINDS = ("semantic", "instances")
_SUFFIXES = (".png", ".tif", ".tiff")


def _max_value(arr: Any, ann: ImageAnnotation) -> int:
    m = 0
    for plane in planes(ann):
        p = plane_of(arr, plane)
        if p.size:
            if p.dtype.kind == "i" and p.min() < 0:
                raise FormatError(
                    "mask values must be >= 0", where=ann.image_name, value=int(p.min())
                )
            m = max(m, int(p.max()))
    return m


def smallest_dtype(max_value: int) -> np.dtype:
    """uint8, uint16 or uint32: the smallest that holds ``max_value``."""
    for dt in (np.uint8, np.uint16, np.uint32):
        if max_value <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise FormatError(
        "label values above 2**32-1 cannot be written", field="mask", value=max_value
    )


def _palette(taxonomy: Taxonomy, n: int) -> np.ndarray:
    pal = np.zeros((n, 3), np.uint8)
    for c in taxonomy:
        if 0 < c.id < n and c.color is not None:
            pal[c.id] = np.round(np.asarray(c.color[:3]) * 255).astype(np.uint8)
    return pal


def _write_mask(target: Path, arr: np.ndarray, palette: np.ndarray | None) -> None:
    if target.suffix == ".png":
        from PIL import Image

        img = Image.fromarray(arr)
        if palette is not None and arr.dtype == np.uint8:
            img.putpalette(palette.ravel().tolist())
        img.save(target, format="PNG")
    else:
        import tifffile

        kw: dict[str, Any] = {"photometric": "minisblack"}
        if palette is not None and arr.dtype in (np.uint8, np.uint16):
            cmap = np.zeros((3, 2 ** (8 * arr.dtype.itemsize)), np.uint16)
            cmap[:, : len(palette)] = palette.T.astype(np.uint16) * 257
            kw = {"photometric": "palette", "colormap": cmap}
        tifffile.imwrite(target, arr, compression="zlib", **kw)


# -- writing --------------------------------------------------------------------------
def write(
    path: str | Path,
    annotations: list[ImageAnnotation],
    taxonomy: Taxonomy,
    *,
    image_format: str = "png",
) -> list[Path]:
    """Write semantic and instance masks plus ``masks.json`` under ``path``.

    Parameters
    ----------
    image_format : {"png", "tiff"}
        File type of 2D masks up to 16 bits (others are always TIFF).

    Returns
    -------
    list of Path
        The files written (all or none).
    """
    root = Path(path)
    if image_format not in IMAGE_FORMATS:
        raise FormatError(
            f"image_format must be one of {IMAGE_FORMATS}",
            path=root,
            field="image_format",
            value=image_format,
        )
    annotations = check_annotations(annotations, taxonomy, root)
    stems = unique_stems(annotations, root)
    side: dict[str, Any] = {"version": 1, "taxonomy": taxonomy.to_dict(), "images": []}
    with StagedFiles(root, replace=("semantic/*", "instances/*", SIDECAR)) as stage:
        for ann, stem in zip(annotations, stems):
            rec = ann.tables_to_dict()
            rec["files"] = {}
            for kind in _KINDS:
                arr = getattr(ann, kind)
                if arr is None:
                    continue
                dt = smallest_dtype(_max_value(arr, ann))
                png = image_format == "png" and ann.ndim == 2 and dt.itemsize <= 2
                rel = f"{kind}/{stem}{'.png' if png else '.tif'}"
                pal = (
                    _palette(taxonomy, 256 if dt == np.uint8 else 65536)
                    if (kind == "semantic")
                    else None
                )
                _write_mask(stage.path(rel), np.asarray(arr).astype(dt, copy=False), pal)
                rec["files"][kind] = {"path": rel, "dtype": str(np.dtype(arr.dtype))}
            side["images"].append(rec)
        stage.write_text(SIDECAR, json.dumps(side, indent=1))
    return stage.written()


# -- reading --------------------------------------------------------------------------
def _read_mask(f: Path) -> np.ndarray:
    with reading(f):
        if not f.is_file():
            raise FormatError("mask file is missing", path=f)
        try:
            # the header's size is checked against the pixel limit before decoding: a
            # small compressed file may declare gigabytes of pixels
            if f.suffix.lower() == ".png":
                from PIL import Image

                with Image.open(f) as img:
                    check_pixels((img.size[1], img.size[0]), path=f, field="size")
                    arr = np.asarray(img)
            else:
                import tifffile

                with tifffile.TiffFile(f) as tf:
                    if not tf.series:
                        raise FormatError("TIFF file holds no image", path=f)
                    check_pixels(tf.series[0].shape, path=f, field="size")
                    arr = tf.series[0].asarray()
        except (OSError, FormatError):
            raise
        except Exception as exc:
            raise FormatError(f"cannot decode mask: {exc}", path=f) from None
    if arr.dtype.kind not in "ui":
        raise FormatError("a mask must hold integers", path=f, field="dtype", value=str(arr.dtype))
    return arr


def read(path: str | Path) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a mask directory (with or without ``masks.json``) or one mask file.

    Raises
    ------
    FormatError
        Naming the file and field: malformed ``masks.json``, missing or unreadable
        mask files, masks whose size does not match the recorded image shape.
    """
    p = Path(path)
    if p.is_dir() and (p / SIDECAR).is_file():
        return _read_sidecar(p)
    if p.is_file() and p.suffix.lower() in _SUFFIXES:
        arr = _read_mask(p)
        ann = ImageAnnotation(p.name, arr.shape, semantic=arr)
        tax = _classes_from_values([arr])
        return [ann], tax
    if p.is_dir() and any((p / k).is_dir() for k in _KINDS):
        return _read_plain(p)
    raise FormatError(f"not a mask file or folder (no {SIDECAR}, semantic/ or instances/)", path=p)


def _read_sidecar(root: Path) -> tuple[list[ImageAnnotation], Taxonomy]:
    side_path = root / SIDECAR
    side = load_json(side_path, what="masks sidecar")
    if not isinstance(side, dict) or not isinstance(side.get("images"), list):
        raise FormatError("masks.json needs an 'images' list", path=side_path, field="images")
    try:
        tax = Taxonomy.from_dict(cast(Any, side.get("taxonomy")), path=side_path)
    except TaxonomyError as exc:
        raise exc.replace(FormatError, path=side_path, where=exc.where or "taxonomy") from exc
    out = []
    for i, rec in enumerate(side["images"]):
        where = f"images[{i}]"
        check_tables_dict(rec, path=side_path, where=where)
        try:
            ann = ImageAnnotation.from_tables_dict(rec)
            files = dict(rec.get("files") or {})
        except Exception as exc:
            raise FormatError(
                f"invalid image record: {exc}", path=side_path, where=where
            ) from None
        for kind, info in files.items():
            if kind not in _KINDS or not isinstance(info, dict) or "path" not in info:
                raise FormatError(
                    "invalid files entry",
                    path=side_path,
                    where=where,
                    field=f"files.{kind}",
                    value=info,
                )
            # a path read from a file stays inside that file's folder
            f = inside_folder(root, info["path"], path=side_path, where=where,
                              field=f"files.{kind}.path")  # fmt: skip
            arr = _read_mask(f)
            if tuple(arr.shape) != ann.shape:
                raise FormatError(
                    f"mask size does not match the image shape {ann.shape}",
                    path=f,
                    where=where,
                    field="shape",
                    value=arr.shape,
                )
            dt = info.get("dtype")
            if dt:
                try:
                    arr = arr.astype(np.dtype(dt), copy=False)
                except TypeError:
                    raise FormatError(
                        "unknown dtype",
                        path=side_path,
                        where=where,
                        field=f"files.{kind}.dtype",
                        value=dt,
                    ) from None
            setattr(ann, kind, arr)
        out.append(ann)
    validate_read(out, tax, side_path)
    return out, tax


def _classes_from_values(arrays: list[np.ndarray], extra: tuple[str, ...] = ()) -> Taxonomy:
    values = sorted({int(v) for a in arrays for v in np.unique(a) if v})
    classes = [{"id": v, "name": f"class {v}"} for v in values]
    nxt = max(values, default=0)
    for i, name in enumerate(extra, start=1):
        classes.append({"id": nxt + i, "name": name})
    return Taxonomy(classes)


def _majority_class(sem: np.ndarray, ins: np.ndarray) -> dict[int, int]:
    """Most frequent non-zero class under each instance (ties: the smallest class).

    One pass over the labelled pixels: (instance, class) pairs are counted with
    ``np.unique`` on a combined key of their compact indices.
    """
    fg = (ins > 0) & (sem > 0)
    ki, cs = ins[fg], sem[fg]
    if not ki.size:
        return {}
    uk, ik = np.unique(ki, return_inverse=True)
    uc, ic = np.unique(cs, return_inverse=True)
    key, cnt = np.unique(ik.astype(np.int64) * len(uc) + ic, return_counts=True)
    k_idx, c_idx = key // len(uc), key % len(uc)
    # per instance: the largest count first, then the smallest class
    order = np.lexsort((c_idx, -cnt, k_idx))
    k_idx, c_idx = k_idx[order], c_idx[order]
    first = np.r_[True, k_idx[1:] != k_idx[:-1]]
    return dict(zip(uk[k_idx[first]].tolist(), uc[c_idx[first]].tolist()))


def _read_plain(root: Path) -> tuple[list[ImageAnnotation], Taxonomy]:
    found: dict[str, dict[str, Path]] = {}
    for kind in _KINDS:
        for f in sorted((root / kind).glob("*")) if (root / kind).is_dir() else []:
            if f.suffix.lower() in _SUFFIXES:
                found.setdefault(f.stem, {})[kind] = f
    masks = {stem: {k: _read_mask(f) for k, f in d.items()} for stem, d in found.items()}
    for stem, d in masks.items():
        if len({a.shape for a in d.values()}) > 1:
            raise FormatError(
                "semantic and instance masks differ in size",
                path=found[stem]["instances"],
                field="shape",
                value=[a.shape for a in d.values()],
            )
    need_object = any("semantic" not in d for d in masks.values() if "instances" in d)
    tax = _classes_from_values(
        [d["semantic"] for d in masks.values() if "semantic" in d],
        ("object",) if need_object else (),
    )
    fallback = tax.by_name("object").id if need_object else None
    out = []
    for stem, d in masks.items():
        sem, ins = d.get("semantic"), d.get("instances")
        shape = cast(Any, sem if sem is not None else ins).shape
        objects = {}
        if ins is not None:
            ids = np.unique(ins)
            majority = _majority_class(sem, ins) if sem is not None else {}
            for k in ids[ids > 0].tolist():
                cid = fallback if sem is None else majority.get(k)
                if cid is None:
                    if "object" not in tax.names():
                        tax.add("object")
                    cid = tax.by_name("object").id
                objects[int(k)] = ObjectInfo(cid)
        out.append(
            ImageAnnotation(
                cast(Any, found[stem].get("semantic", found[stem].get("instances"))).name,
                shape,
                semantic=sem,
                instances=ins,
                objects=objects,
            )
        )
    validate_read(out, tax, root)
    return out, tax

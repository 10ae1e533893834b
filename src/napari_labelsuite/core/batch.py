"""Data helpers of the batch command line: what a path holds, annotation sets, per-image
summaries, effort tables, stacks read for interpolation and tracking, and the per-image
tasks of ``split``, ``pyramid``, ``classify`` and ``embed`` (run on dask by the CLI).

The command line (``cli.py``) only parses arguments and prints; what it reads, computes and
writes is here, importable and testable without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FormatError, LabelsuiteError, SessionError

__all__ = [
    "ANNOTATION_FORMATS",
    "build_store_pyramid",
    "classify_job",
    "dataset_annotations",
    "dataset_sidecars",
    "effort_stats",
    "embed_image",
    "empty_annotation",
    "load_annotation_set",
    "path_summaries",
    "read_stack",
    "save_split",
    "sniff_input",
    "split_annotation_file",
    "split_job",
    "split_store",
    "validate_input",
]

#: Interchange formats the batch commands read and write by name.
ANNOTATION_FORMATS = [
    "coco",
    "coco_panoptic",
    "coco_results",
    "yolo",
    "voc",
    "masks",
    "labelme",
    "cvat",
    "labelstudio",
    "dota",
    "coco_keypoints",
    "yolo_obb",
    "yolo_pose",
]


def sniff_input(path: Path) -> str:
    """The kind of an input file or folder: taxonomy, sidecar, provenance, dataset, ..."""
    suffix = path.suffix.lower()
    if path.is_dir():
        if suffix == ".zarr" or (path / "zarr.json").is_file() or (path / ".zgroup").is_file():
            return "store"
        from . import formats

        try:
            return formats.guess_format(path)
        except FormatError:
            return "dataset"
    if path.name in ("data.yaml", "obj.data", "obj.names", "classes.txt") or suffix == ".xml":
        from . import formats

        try:
            return formats.sniff(path)[0]  # CVAT or VOC by the XML root; YOLO layouts
        except LabelsuiteError:
            return "unknown"
    if suffix in (".yaml", ".yml"):
        return "taxonomy"
    if suffix == ".jsonl":
        return "provenance"
    if suffix == ".json":
        from .validate import load_json

        try:
            doc = load_json(path)  # regular files only: a FIFO never blocks
        except LabelsuiteError:
            return "json"
        if isinstance(doc, dict):
            if "classes" in doc:
                return "taxonomy"
            if doc.get("format") == "napari-labelsuite-annotation":
                return "annotation"
        from . import formats

        try:  # COCO, COCO panoptic / results, labelme, Label Studio
            return formats.sniff(path)[0]
        except LabelsuiteError:
            return "json"
    return "unknown"


def load_annotation_set(path: str | Path) -> dict[str, Any]:
    """Annotations of ``path`` by image stem: a saved annotation, a dataset folder or a
    COCO / YOLO / VOC / mask file or folder."""
    from .dataset import Dataset, load_sidecar

    p = Path(path)
    if not p.exists():
        raise FormatError("no such file or folder", path=p)
    kind = sniff_input(p)
    if kind == "annotation":
        ann = load_sidecar(p)
        return {Path(ann.image_name).stem: ann}
    if kind in ANNOTATION_FORMATS:
        from . import formats

        anns, _ = formats.read(p, kind)
        return {Path(a.image_name).stem: a for a in anns}
    if kind == "dataset":
        ds = Dataset.open(p)
        return {
            ds[i].path.stem: load_sidecar(ds.sidecar_path(i))
            for i in range(len(ds))
            if ds.has_annotation(i)
        }
    raise FormatError("not an annotation file or dataset", path=p, field="kind", value=kind)


def dataset_annotations(
    path: str | Path, taxonomy_file: str | None = None
) -> tuple[Any, list[Any], Any]:
    """``(dataset, annotations, taxonomy)`` of a dataset folder's saved annotations.

    Each annotation's ``image_name`` is the image's path relative to the dataset root, the
    name formats record. The taxonomy is ``taxonomy_file`` or the one saved with the
    dataset.
    """
    from .dataset import Dataset
    from .taxonomy import Taxonomy

    ds = Dataset.open(path)
    if taxonomy_file is not None:
        taxonomy = Taxonomy.load(taxonomy_file)
    elif ds.taxonomy_path.is_file():
        taxonomy = Taxonomy.load(ds.taxonomy_path)
    else:
        raise SessionError(
            "the dataset has no saved taxonomy; pass --taxonomy FILE",
            path=ds.taxonomy_path,
            field="--taxonomy",
        )
    return ds, [ann for _, ann in ds.annotations()], taxonomy


def dataset_sidecars(path: str | Path) -> tuple[Any, list[tuple[int, Path]]]:
    """(dataset, [(index, sidecar path)]) of the saved annotations of a dataset folder."""
    from .dataset import Dataset

    ds = Dataset.open(path)
    return ds, [(i, ds.sidecar_path(i)) for i in range(len(ds)) if ds.has_annotation(i)]


def empty_annotation(key: str) -> Any:
    """A 1x1 annotation holding nothing, named ``key`` (summaries of unlabelled images)."""

    from .annotation import ImageAnnotation

    return ImageAnnotation(key, (1, 1))


def effort_stats(path: str | Path, plot: str | None = None) -> dict[str, Any]:
    """The effort table of the log beside ``path`` (a dataset, store or annotation file).

    Returns ``{"log": path, "table": [rows], "problems": [messages]}``; unreadable lines
    are reported in ``problems`` (file and line) and skipped. ``plot`` writes the chart.
    """
    from .effort import effort_plot, effort_table, find_effort_log, object_effort, read_effort

    log = find_effort_log(path)
    records, problems = read_effort(log)
    table = effort_table(records, total=bool(records))
    if plot:
        effort_plot(object_effort(records), plot)
    rows = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in table.to_dict("records")
    ]
    return {"log": str(log), "table": rows, "problems": [str(e) for e in problems]}


def split_job(job: tuple) -> tuple[str, Any, dict, int]:
    """One ``split`` batch task: a store job ``(path, min_distance, dry_run)`` or a saved
    annotation job ``(path, min_distance)``."""
    return split_store(job) if len(job) == 3 else split_annotation_file(job)


def split_annotation_file(job: tuple[str, int]) -> tuple[str, Any, dict[int, dict], int]:
    """Split touching instances of one saved annotation (a batch task; nothing is written).

    Returns ``(sidecar path, new instance mask, objects as dicts, number of new ids)``.
    """
    from .dataset import load_sidecar
    from .instances import apply_to_objects, split_touching

    path, min_distance = job
    ann = load_sidecar(path)
    if ann.instances is None:
        return path, None, {}, 0
    edit = split_touching(ann.instances, min_distance=min_distance)
    labels = edit.apply(ann.instances)
    objects = apply_to_objects(ann.objects, edit)
    return path, labels, {k: o.to_dict() for k, o in objects.items()}, len(edit.parents)


def split_store(job: tuple[str, int, bool]) -> tuple[str, None, dict, int]:
    """Split touching instances in a mask store's first instance image (a batch task).

    Chunk by chunk (:func:`~napari_labelsuite.core.store.split_touching_in_store`): the label
    image is never loaded whole. The store is rewritten unless the job's ``dry_run`` flag is
    set. Returns ``(store path, None, {}, number of new ids)``.
    """
    from .store import MaskStore, split_touching_in_store

    path, min_distance, dry_run = job
    with MaskStore.open(path, "r" if dry_run else "r+") as store:
        name = next((n for n in store.label_names() if store.role(n) == "instances"), None)
        if name is None:
            return path, None, {}, 0
        edit = split_touching_in_store(store, name, min_distance, dry_run=dry_run)
    return path, None, {}, len(edit.parents)


def save_split(path: str | Path, labels: Any, objects: dict[Any, dict]) -> Any:
    """Write the result of :func:`split_annotation_file` into its saved annotation.

    Returns the annotation written.
    """
    from .annotation import ObjectInfo
    from .dataset import load_sidecar, save_sidecar

    ann = load_sidecar(path)
    ann.instances = labels
    ann.objects = {int(k): ObjectInfo.from_dict(v) for k, v in objects.items()}
    save_sidecar(ann, path)
    return ann


def path_summaries(
    path: str | Path,
    taxonomy: Any,
    *,
    max_pixels: int,
    progress: Callable[..., Iterable[Any]] | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    """Per-image annotation summaries of ``path`` (a saved annotation, a mask store, a file
    or folder of an interchange format, or a dataset folder), and the taxonomy to name them.

    Parameters
    ----------
    taxonomy : Taxonomy
        Class names; when empty, the store's or the format's own are used.
    max_pixels : int
        A store larger than this is refused (counting reads every chunk).
    progress : callable, optional
        ``progress(iterable, desc=...)`` wraps the per-image loops (a progress bar).

    Returns
    -------
    (list of dict, Taxonomy)
        One :func:`~napari_labelsuite.core.dataset.summarize` dict per image.
    """
    from .dataset import Dataset, load_sidecar, summarize

    wrap = progress or (lambda it, **_: it)
    path = Path(path)
    kind = sniff_input(path) if path.exists() else "missing"
    if kind == "annotation":
        summaries = [summarize(load_sidecar(path))]
    elif kind == "store":
        from .store import MaskStore

        with MaskStore.open(path, "r") as store:
            n_pixels = int(np.prod(store.shape, dtype=object))
            if n_pixels > max_pixels:
                raise SessionError(
                    f"the store has {n_pixels} pixels and counting reads every chunk; pass "
                    f"--max-pixels {n_pixels} to count anyway",
                    path=path,
                    field="shape",
                    value=tuple(store.shape),
                )
            if not len(taxonomy):
                taxonomy = store.taxonomy
            summaries = [summarize(store.read_annotation())]
    elif kind in ANNOTATION_FORMATS:
        from . import formats

        anns, read_tax = formats.read(path, kind)
        if not len(taxonomy):
            taxonomy = read_tax
        summaries = [summarize(a) for a in wrap(anns, desc="stats")]
    else:
        ds = Dataset.open(path)
        summaries = []
        for i in wrap(range(len(ds)), desc="stats"):
            s = ds.saved_summary(i)
            summaries.append(s if s is not None else summarize(empty_annotation(ds[i].key)))
    return summaries, taxonomy


def validate_input(
    path: str | Path,
    kind: str,
    taxonomy: Any,
    *,
    progress: Callable[..., Iterable[Any]] | None = None,
) -> str:
    """Check one input file or folder; a one-line summary of what it holds.

    Parameters
    ----------
    kind : str
        ``"auto"`` (tell it with :func:`sniff_input`), ``"taxonomy"``, ``"annotation"``,
        ``"provenance"``, ``"dataset"``, ``"store"`` or one of :data:`ANNOTATION_FORMATS`.
    taxonomy : Taxonomy
        Classes the annotations must use (empty: the input's own, or no check).
    progress : callable, optional
        ``progress(iterable, desc=...)`` wraps the loop over a dataset's images.

    Raises
    ------
    LabelsuiteError
        Naming the file, record, field and value of the first problem.
    """
    from .errors import StoreError

    wrap = progress or (lambda it, **_: it)
    path = Path(path)

    if not path.exists():
        raise FormatError("no such file or folder", path=path)
    if not path.is_dir() and not path.is_file():
        raise FormatError("not a regular file or folder (a pipe, socket or device)", path=path)
    if kind == "auto":
        kind = sniff_input(path)
    if kind == "taxonomy":
        from .taxonomy import Taxonomy

        tax = Taxonomy.load(path)
        return f"taxonomy with {len(tax)} classes"
    if kind == "annotation":
        from .dataset import load_sidecar

        ann = load_sidecar(path)
        ann.validate(taxonomy if len(taxonomy) else None)
        return (
            f"annotation of {ann.image_name!r}: {len(ann.objects)} objects, {len(ann.boxes)} boxes"
        )
    if kind == "provenance":
        from .provenance import verify

        return f"provenance log with {verify(path)} entries, chain intact"
    if kind == "dataset":
        from .dataset import Dataset, load_sidecar
        from .provenance import verify

        ds = Dataset.open(path)
        n = 0
        for i in wrap(range(len(ds)), desc="validate"):
            if ds.has_annotation(i):
                ann = load_sidecar(ds.sidecar_path(i))
                ann.validate(taxonomy if len(taxonomy) else None)
                n += 1
        logged = verify(ds.provenance_path)
        return f"dataset of {len(ds)} images, {n} annotated, provenance {logged} entries"
    if kind == "store":
        from .store import MaskStore

        store = MaskStore.open(path, "r")
        try:
            ann = store.read_annotation()
            ann.validate(taxonomy if len(taxonomy) else store.taxonomy)
            names = store.label_names()
            for name in names:
                levels = store.label_levels(name)
                if tuple(levels[0].shape) != tuple(ann.shape):
                    raise StoreError(
                        f"level 0 does not have the store shape {tuple(ann.shape)}",
                        path=path,
                        where=f"labels/{name}",
                        field="shape",
                        value=tuple(levels[0].shape),
                    )
            shape = "x".join(map(str, ann.shape))
            # stores from other tools: say what was inferred (dropped axes, class keys)
            notes = "".join(f"; {note}" for note in store.notes)
            return f"store {shape} with labels {names}, {len(ann.objects)} instances{notes}"
        finally:
            store.close()
    if kind in ANNOTATION_FORMATS:
        from . import formats

        # the registry refuses a read of 0 images or 0 objects: never "ok" on nothing
        report = formats.ReadReport()
        anns, tax = formats.read(path, kind, report=report)
        if len(taxonomy):
            for ann in anns:
                ann.validate(taxonomy)
        return f"read as {report.summary()}; {len(tax)} classes"
    raise FormatError(
        "cannot tell what this file is; pass --kind",
        path=path,
        field="kind",
        value=kind,
    )


def file_axes(path: str) -> str | None:
    """The axis names a file's metadata gives (lower case, ``c`` for channels and colour
    samples), or None when it names none (``.npy``, PNG, a TIFF of unknown axes)."""
    if Path(path).suffix.lower() not in (".tif", ".tiff"):
        return None
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            axes = tif.series[0].axes.upper()
    except Exception:  # the pixels are read (and checked) by read_image
        return None
    if not axes or "Q" in axes or "I" in axes:  # tifffile: unknown axis
        return None
    return axes.replace("S", "C").lower()


def embed_channel_axis(
    shape: tuple[int, ...], channel_axis: int | None, axes: str | None
) -> int | None:
    """The channel axis ``embed`` uses: the one given, else the file's axis names, else
    RGB(A) last on 3-D, none on 2-D and other 3-D (a z stack), the size rules on 4-D (an
    ambiguous ``(z, c, y, x)`` is an :class:`AssistError` asking for ``--channel-axis``)."""
    from .assist import resolve_channel_axis

    if channel_axis is not None or axes is not None:
        return resolve_channel_axis(shape, None, channel_axis, axes=axes)
    if len(shape) == 3 and shape[-1] in (3, 4):
        return 2
    if len(shape) <= 3:
        return None
    return resolve_channel_axis(shape, len(shape) - 1, None)


def embed_image(job: tuple[Any, ...]) -> tuple[str, int, int]:
    """Encode every tile of one image (each plane of a stack) into the embedding cache.

    ``job`` is ``(path, encoder, decoder, cache, tile, halo[, channel_axis])``. Returns
    ``(path, tiles, tiles computed)``: tiles already cached under a matching signature are
    not recomputed.
    """
    from .assist import SamOnnxEngine, prepare
    from .dataset import read_image
    from .errors import AssistError

    path, encoder, decoder, cache, tile, halo = job[:6]
    given = job[6] if len(job) > 6 else None
    engine = SamOnnxEngine(encoder, decoder, cache_dir=cache, tile=tile, halo=halo)
    image = read_image(path)
    shape = tuple(int(n) for n in image.shape)
    try:
        ch = embed_channel_axis(shape, given, file_axes(path))
    except AssistError as exc:
        raise exc.replace(path=path) from None
    spatial = [n for i, n in enumerate(shape) if i != ch]
    if len(spatial) not in (2, 3):
        raise AssistError(
            f"images must have 2 or 3 spatial dimensions (shape {shape})", path=path, field="image"
        )
    planes: list[int | None] = [None] if len(spatial) == 2 else list(range(spatial[0]))
    tiles = 0
    for z in planes:
        pts = [] if z is None else [[z, 0, 0]]
        view, _, _ = prepare(image, pts, None, channel_axis=ch, plane=z)
        encoded = engine.encode(view)
        encoded.encode_all()
        tiles += len(encoded.all_tiles())
    return path, tiles, engine.encoder_runs


def build_store_pyramid(job: tuple[str, str | None, str | None]) -> str:
    """Rebuild the pyramid levels of one mask store (a batch task); returns a summary."""
    from .store import MaskStore

    path, name, method = job
    store = MaskStore.open(path, "r+")
    try:
        report = store.build_pyramid(name, method=method)
    finally:
        store.close()
    return f"{path}: {report.summary()}"


def classify_job(job: tuple[str, list[str], int, str, bool]) -> dict[str, Any]:
    """Apply a saved pixel classifier to item ``i`` of a dataset (a batch task).

    Every worker reads the classifier file itself (no pickle: see
    ``core.classifier.io``); results equal a local run.
    """
    from .classifier import load_classifier
    from .classifier.batch import classify_item
    from .dataset import Dataset

    clf_path, sources, i, label, overwrite = job
    ds = Dataset.open(sources)
    return classify_item(load_classifier(clf_path), ds, i, name=label, overwrite=overwrite)


def read_stack(path: str, what: str) -> np.ndarray:
    """A label or image stack from a TIFF file (or, for labels, a CTC folder)."""
    import tifffile

    p = Path(path)
    if p.is_dir():
        from .formats import ctc

        return ctc.read_tracks(p)[0]
    try:
        return np.asarray(tifffile.imread(p))
    except (OSError, ValueError) as exc:
        raise FormatError(f"cannot read the {what} as TIFF: {exc}", path=p) from exc

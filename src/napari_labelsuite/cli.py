"""The ``napari-labelsuite`` command line.

Every subcommand has ``--help`` with an example. Subcommands are registered in
``SUBCOMMANDS`` (name -> (help, example, add_arguments, run)). Errors in the input end
the command with exit code 1 and one line naming the file, record, field and value.

Batch subcommands (``split``, ``pyramid``, ``classify``, ``embed``) run their per-image
work on dask: local threads by default, or a dask.distributed cluster with
``--scheduler ADDRESS``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .core.batch import (  # the data helpers live in core; importable from here
    ANNOTATION_FORMATS,
    dataset_annotations,
    dataset_sidecars,
    effort_stats,
    load_annotation_set,
    path_summaries,
    read_stack,
    save_split,
    split_job,
    validate_input,
)
from .core.batch import build_store_pyramid as build_store_pyramid
from .core.batch import classify_job as classify_job
from .core.batch import embed_image as embed_image
from .core.batch import split_annotation_file as split_annotation_file
from .core.batch import split_store as split_store
from .core.errors import LabelsuiteError, SessionError
from .core.stats import annotation_stats  # computed in core; importable from here

__all__ = ["main"]


# -- shared helpers --
def _progress(iterable, *, total: int | None = None, desc: str = ""):
    """A tqdm progress bar on stderr (silent when stderr is not a terminal and short)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False, delay=0.5)


def _user(args: argparse.Namespace) -> str:
    from .session import _default_user

    return getattr(args, "user", None) or _default_user()


def _load_taxonomy(path: str | None):
    from .core.taxonomy import Taxonomy

    return Taxonomy() if path is None else Taxonomy.load(path)


def _entry(args: argparse.Namespace, action: str, **params: Any) -> dict[str, Any]:
    """A provenance entry for a change made from the command line."""
    import datetime as dt

    from .session import _jsonable

    return {
        "user": _user(args),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "action": action,
        "params": {k: _jsonable(v) for k, v in params.items()},
        "tool": "cli",
    }


def _record(log_path: Path, args: argparse.Namespace, action: str, **params: Any) -> None:
    """Append a provenance entry for a change made from the command line."""
    from .core.provenance import append_entry

    append_entry(log_path, _entry(args, action, **params))


def run_batch(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    scheduler: str | None = None,
    desc: str = "",
    connect_timeout: float = 10.0,
) -> list[Any]:
    """``[fn(x) for x in items]`` on dask, with a progress bar, results in order.

    Parameters
    ----------
    scheduler : str, optional
        Address of a dask.distributed scheduler (``tcp://host:8786``); default: local
        threads. ``fn`` must be importable by the workers (a module-level function).
    """
    if not items:
        return []
    if scheduler:
        try:
            from distributed import Client, as_completed
        except ImportError as exc:  # pragma: no cover - optional dependency
            raise SessionError(
                "--scheduler needs the 'distributed' package (pip install distributed)",
                field="scheduler",
                value=scheduler,
            ) from exc
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SessionError(
                f"cannot reach the dask scheduler: {exc}", field="scheduler", value=scheduler
            ) from exc
        try:
            futures = client.map(fn, list(items), pure=False)
            for _ in _progress(
                as_completed(futures, loop=client.loop), total=len(futures), desc=desc
            ):
                pass
            return client.gather(futures)
        finally:
            client.close()
    import dask
    from dask.diagnostics import ProgressBar

    tasks = [dask.delayed(fn)(x) for x in items]
    with ProgressBar(out=sys.stderr, minimum=1.0):
        return list(dask.compute(*tasks, scheduler="threads"))


def _add_scheduler(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this dask.distributed scheduler (default: local threads)",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the scheduler (default 10)",
    )


# -- demo --
def _add_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--screenshot",
        metavar="PATH",
        help="render the whole window (canvas and docked widgets) to PATH and exit",
    )


def _run_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(screenshot=args.screenshot)


# -- open --
def _add_open(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="a folder of images, or image files")
    p.add_argument("--taxonomy", metavar="FILE", help="class taxonomy (.yaml or .json)")
    p.add_argument("--user", help="name recorded in the provenance log (default: login name)")
    p.add_argument("--start", type=int, default=0, help="index of the first image shown")
    p.add_argument(
        "--screenshot", metavar="PNG", help="render the window to PNG and exit (no event loop)"
    )


def _run_open(args: argparse.Namespace) -> int:
    import napari

    from ._demo import open_plugin_widgets
    from .session import LabelSession

    taxonomy = _load_taxonomy(args.taxonomy)  # fail before any window opens
    viewer = napari.Viewer(title="napari-labelsuite", show=True)
    try:
        session = LabelSession.attach(viewer)
        session.user = _user(args)
        session.taxonomy = taxonomy
        session.open_dataset(args.paths, start=args.start)
        open_plugin_widgets(viewer)
        session.push_to_console()
    except BaseException:
        viewer.close()
        raise
    if args.screenshot is None:  # pragma: no cover - interactive
        napari.run()
        return 0
    from qtpy.QtWidgets import QApplication

    from ._napari_compat import resize_window

    resize_window(viewer, 1600, 1000)
    for _ in range(10):
        QApplication.processEvents()
    viewer.screenshot(args.screenshot, canvas_only=False)
    viewer.close()
    return 0


# -- validate --
_KINDS = ["auto", "store", "taxonomy", "annotation", "provenance", "dataset", *ANNOTATION_FORMATS]


def _add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to check")
    p.add_argument("--kind", choices=_KINDS, default="auto", help="what the inputs are")
    p.add_argument("--taxonomy", metavar="FILE", help="also check class ids against it")


def _run_validate(args: argparse.Namespace) -> int:
    taxonomy = _load_taxonomy(args.taxonomy)
    bad = 0
    for raw in args.paths:
        path = Path(raw)
        try:
            summary = validate_input(path, args.kind, taxonomy, progress=_progress)
        except LabelsuiteError as exc:
            bad += 1
            print(f"INVALID {_one_line(str(exc))}", file=sys.stderr)
        else:
            print(f"ok      {path}: {summary}")
    return 1 if bad else 0


# -- stats --
def _add_stats(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "path", metavar="PATH", help="a dataset folder, a saved annotation or a format file"
    )
    p.add_argument("--taxonomy", metavar="FILE", help="show class names from this taxonomy")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument(
        "--effort",
        action="store_true",
        help="add the labeling effort (actions and active seconds per object, by route and "
        "annotator) from the dataset's effort log",
    )
    p.add_argument(
        "--effort-plot",
        metavar="FILE",
        help="write the chart of effort per object over time (.svg, or .png with matplotlib)",
    )
    p.add_argument(
        "--max-pixels",
        type=int,
        default=_STATS_MAX_PIXELS,
        metavar="N",
        help=f"refuse larger stores (stats reads every chunk; default {_STATS_MAX_PIXELS})",
    )


def _print_effort(effort: dict[str, Any]) -> None:
    print(f"\nlabeling effort ({effort['log']}):")
    if not effort["table"]:
        print("  no actions logged")
        return
    head = ("route", "annotator", "objects", "actions", "active s", "actions/obj", "s/obj")
    print(f"{head[0]:<15} {head[1]:<12} " + " ".join(f"{h:>11}" for h in head[2:]))
    for r in effort["table"]:
        cells = [
            r["objects"],
            r["actions"],
            r["active_seconds"],
            r["actions_per_object"],
            r["seconds_per_object"],
        ]
        shown = [
            "-" if c is None else f"{c:.4g}" if isinstance(c, float) else str(c) for c in cells
        ]
        print(f"{r['route']:<15} {r['annotator']:<12} " + " ".join(f"{c:>11}" for c in shown))


#: Stores larger than this are refused by ``stats`` (it reads every chunk) unless asked.
_STATS_MAX_PIXELS = 2**31


def _run_stats(args: argparse.Namespace) -> int:
    path = Path(args.path)
    summaries, taxonomy = path_summaries(
        path, _load_taxonomy(args.taxonomy), max_pixels=args.max_pixels, progress=_progress
    )
    stats = annotation_stats(summaries)
    for cid, row in stats["classes"].items():
        row["name"] = taxonomy[int(cid)].name if int(cid) in taxonomy else None
    if args.effort or args.effort_plot:
        stats["effort"] = effort_stats(path, args.effort_plot)
        for msg in stats["effort"]["problems"]:
            print(f"effort log: {msg}", file=sys.stderr)
    if args.json:
        print(json.dumps(stats, indent=1))
        return 0
    print(
        f"{stats['images']} images, {stats['labeled']} labeled, {stats['reviewed']} reviewed; "
        f"{stats['instances']} instances, {stats['boxes']} boxes "
        f"(todo {stats['todo']}, approved {stats['approved']}, "
        f"needs-fix {stats['needs-fix']})"
    )
    print(f"{'id':>4}  {'class':<20} {'instances':>10} {'boxes':>8} {'pixels':>12}")
    for cid, row in stats["classes"].items():
        name = row["name"] or "?"
        print(f"{cid:>4}  {name:<20} {row['instances']:>10} {row['boxes']:>8} {row['pixels']:>12}")
    if "effort" in stats:
        _print_effort(stats["effort"])
    return 0


# -- embed --
def _add_embed(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", metavar="DATASET", help="a dataset folder, or image files")
    p.add_argument("--encoder", help="SAM-family encoder .onnx (default $LABELSUITE_SAM_ENCODER)")
    p.add_argument("--decoder", help="SAM-family decoder .onnx (default $LABELSUITE_SAM_DECODER)")
    p.add_argument(
        "--cache",
        metavar="DIR",
        help="embedding cache folder (default $LABELSUITE_EMBEDDING_CACHE or the user cache)",
    )
    p.add_argument("--tile", type=int, default=1024, help="tile size in pixels (default 1024)")
    p.add_argument("--halo", type=int, default=128, help="tile overlap in pixels (default 128)")
    p.add_argument(
        "--channel-axis",
        type=int,
        default=None,
        metavar="AXIS",
        help="the axis holding the channels (default: from the file's axis names, else RGB "
        "last; a stack whose two leading axes are both short must give it)",
    )
    _add_scheduler(p)


def _run_embed(args: argparse.Namespace) -> int:
    import os

    from .core.assist import SamOnnxEngine
    from .core.dataset import Dataset

    # check the model files once, here, before any worker starts
    engine = SamOnnxEngine(args.encoder, args.decoder, cache_dir=args.cache or False)
    target = Path(args.dataset)
    if target.is_dir():
        paths = [str(it.path) for it in Dataset.open(target) if it.kind == "image"]
    else:
        paths = [str(target)]
    cache = args.cache or os.environ.get("LABELSUITE_EMBEDDING_CACHE")
    enc, dec = str(engine.encoder_path), str(engine.decoder_path)
    jobs = [(p, enc, dec, cache, args.tile, args.halo, args.channel_axis) for p in paths]
    results = run_batch(
        embed_image,
        jobs,
        scheduler=args.scheduler,
        desc="embed",
        connect_timeout=args.connect_timeout,
    )
    tiles = sum(r[1] for r in results)
    computed = sum(r[2] for r in results)
    print(
        f"embed: {len(results)} images, {tiles} tiles ({computed} computed, "
        f"{tiles - computed} already cached)"
    )
    return 0


# -- split --
def _add_split(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dataset", metavar="DATASET", help="a dataset folder (saved annotations and stores)"
    )
    p.add_argument(
        "--min-distance",
        type=int,
        default=7,
        help="minimal distance in pixels between the centres of two parts (default 7)",
    )
    _add_scheduler(p)
    p.add_argument("--dry-run", action="store_true", help="count the splits, write nothing")
    p.add_argument("--user", help="name recorded in the provenance log")


def _run_split(args: argparse.Namespace) -> int:
    if args.min_distance < 1:
        raise SessionError(
            "must be a positive integer", field="--min-distance", value=args.min_distance
        )
    ds, files = dataset_sidecars(args.dataset)
    jobs: list[Any] = [(str(p), args.min_distance) for _, p in files]
    stores = [str(it.path) for it in ds if it.kind == "store"]
    results = run_batch(
        split_job,
        jobs + [(p, args.min_distance, bool(args.dry_run)) for p in stores],
        scheduler=args.scheduler,
        desc="split",
        connect_timeout=args.connect_timeout,
    )
    total = 0
    for path, labels, objects, n_new in results:
        total += n_new
        if path in stores and n_new and not args.dry_run:
            _record(
                ds.provenance_path,
                args,
                "split_touching",
                image=Path(path).name,
                min_distance=args.min_distance,
                new_ids=n_new,
            )
        if args.dry_run or not n_new or path in stores:
            continue
        ann = save_split(path, labels, objects)
        _record(
            ds.provenance_path,
            args,
            "split_touching",
            image=ann.image_name,
            min_distance=args.min_distance,
            new_ids=n_new,
        )
    verb = "would create" if args.dry_run else "created"
    print(f"split: {len(results)} annotations, {verb} {total} new instances")
    return 0


# -- export / import / convert --


def _add_format_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--segmentation",
        choices=["auto", "rle", "polygon"],
        help="COCO: how instance masks are written (default auto: an object's own polygons, "
        "as read from a polygon file, where they still describe its mask, else RLE)",
    )
    p.add_argument(
        "--task", choices=["detect", "segment"], help="YOLO: boxes or outlines (default detect)"
    )


def _format_options(args: argparse.Namespace, fmt: str) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if fmt == "coco" and args.segmentation:
        opts["segmentation"] = args.segmentation
    if fmt == "yolo" and args.task:
        opts["task"] = args.task
    return opts


def _add_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", metavar="DATASET", help="a dataset folder with saved annotations")
    p.add_argument("out", metavar="OUT", help="file (COCO .json) or folder to write")
    p.add_argument(
        "--to", dest="fmt", choices=ANNOTATION_FORMATS, required=True, help="output format"
    )
    p.add_argument("--taxonomy", metavar="FILE", help="default: the dataset's taxonomy.yaml")
    _add_format_options(p)


def _run_export(args: argparse.Namespace) -> int:
    from .core import formats

    ds, anns, taxonomy = dataset_annotations(args.dataset, args.taxonomy)
    if not anns:
        raise SessionError("no saved annotations to export", path=ds.annotation_dir)
    report = formats.WriteReport()
    written = formats.write(
        args.out, anns, taxonomy, fmt=args.fmt, report=report, **_format_options(args, args.fmt)
    )
    print(f"export: {len(anns)} annotations as {args.fmt}, {len(written)} files under {args.out}")
    _print_not_written(report)
    return 0


def _print_not_written(report: Any) -> None:
    """Say which points / polylines the output format could not hold (never silent)."""
    if report.not_written:
        print(f"warning: {report.summary().split('; ', 1)[1]}")


def _add_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE", help="annotation file or folder to read")
    p.add_argument("dataset", metavar="DATASET", help="the dataset folder holding the images")
    p.add_argument(
        "--from", dest="fmt", choices=ANNOTATION_FORMATS, help="input format (default: guess)"
    )
    p.add_argument("--user", help="name recorded in the provenance log")


def _run_import(args: argparse.Namespace) -> int:
    from .core import formats
    from .core.dataset import Dataset

    anns, taxonomy = formats.read(args.source, args.fmt)
    ds = Dataset.open(args.dataset)
    targets = ds.check_import(anns, taxonomy, source=args.source)
    # the sidecars and their provenance entries are committed together
    entries = [_entry(args, "import", image=ds[i].key, source=str(args.source)) for i in targets]
    written = ds.import_annotations(anns, taxonomy, source=args.source, provenance=entries)
    print(f"import: {len(written)} annotations into {ds.annotation_dir}")
    return 0


def _add_convert(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE", help="annotation file or folder to read")
    p.add_argument("out", metavar="OUT", help="file or folder to write")
    p.add_argument("--from", dest="src_fmt", choices=ANNOTATION_FORMATS, help="default: guess")
    p.add_argument(
        "--to", dest="fmt", choices=ANNOTATION_FORMATS, required=True, help="output format"
    )
    p.add_argument("--taxonomy", metavar="FILE", help="use these classes instead of the input's")
    _add_format_options(p)


def _run_convert(args: argparse.Namespace) -> int:
    from .core import formats

    anns, taxonomy = formats.read(args.source, args.src_fmt)
    if args.taxonomy:
        taxonomy = _load_taxonomy(args.taxonomy)
    report = formats.WriteReport()
    written = formats.write(
        args.out, anns, taxonomy, fmt=args.fmt, report=report, **_format_options(args, args.fmt)
    )
    print(f"convert: {len(anns)} annotations to {args.fmt}, {len(written)} files")
    _print_not_written(report)
    return 0


# -- agree --
def _run_agree_by_annotator(args: argparse.Namespace) -> int:
    import math

    from .core.dataset import Dataset
    from .core.team import agreement_by_annotator, agreement_chart, dataset_team_annotations

    if args.b is not None:
        raise _UsageError("agree --by-annotator takes one dataset, not A and B")
    ds = Dataset.open(args.a)
    taxonomy = _load_taxonomy(args.taxonomy) if args.taxonomy else _dataset_taxonomy(ds)
    anns, times = dataset_team_annotations(ds)
    res = agreement_by_annotator(
        anns,
        taxonomy if taxonomy is not None and len(taxonomy) else None,
        times=times,
        kappa_threshold=args.threshold,
        f1_threshold=args.f1_threshold,
    )
    if args.chart:
        print(f"chart: {agreement_chart(res, args.chart)}", file=sys.stderr)
    if args.csv:
        print(f"csv: {res.write_csv(args.csv)}", file=sys.stderr)
    if args.report:
        written = qc_write_report(
            {
                "title": f"Agreement by annotator: {ds.root.name}",
                "team_agreement": res.report_section(chart=True),
            },
            args.report,
        )
        print(f"report: {', '.join(str(w) for w in written)}", file=sys.stderr)
    if args.json:
        print(json.dumps(res.to_dict(), indent=1))
        return 0
    for r in res.pairs:
        shown = {k: r[k] for k in ("kappa", "f1", "mean_iou")}
        nums = ", ".join(
            f"{k} {'n/a' if v is None or math.isnan(v) else f'{v:.3f}'}" for k, v in shown.items()
        )
        print(f"{r['annotator_a']} vs {r['annotator_b']} [{r['class']}]: {nums}")
    print(f"{len(res.images)} overlap images")
    for line in res.summary().splitlines():
        if not line.startswith(tuple(f"{r['annotator_a']} vs" for r in res.pairs)):
            print(line)
    return 0


def qc_write_report(report: dict[str, Any], path: str) -> list[Path]:
    from .core import qc

    return list(qc.write_report(report, path))


def _dataset_taxonomy(ds: Any) -> Any:
    from .core.taxonomy import Taxonomy

    return Taxonomy.load(ds.taxonomy_path) if ds.taxonomy_path.is_file() else None


# -- adjudicate --
def _add_adjudicate(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", metavar="DATASET", help="dataset folder with team labels")
    p.add_argument(
        "--consensus",
        choices=("majority", "matching"),
        required=True,
        help="pixel majority vote, or objects matched across annotators",
    )
    p.add_argument(
        "--min-annotators",
        type=int,
        metavar="K",
        help="keep an object found by at least K annotators (default: a majority)",
    )
    p.add_argument("--iou", type=float, default=0.5, help="IoU of a match (default 0.5)")
    p.add_argument(
        "--tie", metavar="ANNOTATOR", help="pixels without a majority take this annotator's class"
    )
    p.add_argument("--force", action="store_true", help="replace reviewed annotations that exist")
    p.add_argument("--user", metavar="NAME", help="reviewer recorded in the decisions log")


def _add_assign(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help="folder of images or mask stores")
    p.add_argument(
        "--annotators", required=True, metavar="A,B,C", help="annotator names, comma-separated"
    )
    p.add_argument(
        "--overlap", type=float, default=0.1, help="fraction of images labelled twice or more"
    )
    p.add_argument(
        "--per-image", type=int, default=2, help="annotators per overlap image (default 2)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random overlap choice")
    p.add_argument("--user", metavar="NAME", help="who is recorded in the provenance log")


def _run_assign(args: argparse.Namespace) -> int:
    from .core.dataset import Dataset
    from .core.provenance import ProvenanceLog
    from .core.team import assign_dataset, assignments_path, parse_annotators

    ds = Dataset.open(args.dataset)
    asg = assign_dataset(
        ds, parse_annotators(args.annotators), args.overlap, args.per_image, args.seed
    )
    ProvenanceLog(ds.provenance_path).append(_entry(args, "assign", **asg.provenance_params()))
    for a, c in asg.counts().items():
        print(f"{a}: {c['total']} images ({c['single']} alone, {c['overlap']} shared)")
    print(
        f"assign: {len(asg.items)} images, {len(asg.overlap_keys())} overlap images with "
        f"{asg.per_image} annotators each; saved to {assignments_path(ds)} "
        f"(version {asg.version})"
    )
    return 0


def _run_adjudicate(args: argparse.Namespace) -> int:
    from .core.dataset import Dataset
    from .core.provenance import ProvenanceLog
    from .core.team import consensus_dataset

    ds = Dataset.open(args.dataset)
    bar = _progress(range(0), desc="consensus")
    out = consensus_dataset(
        ds,
        args.consensus,
        min_annotators=args.min_annotators,
        iou_threshold=args.iou,
        tie=args.tie if args.tie is not None else 0,
        force=args.force,
        reviewer=_user(args),
        progress=lambda done, total: bar.update(1),
    )
    bar.close()
    ProvenanceLog(ds.provenance_path).append(
        _entry(
            args,
            "adjudicate_consensus",
            method=out["method"],
            min_annotators=out["min_annotators"],
            images=out["images"],
            force=args.force,
        )
    )
    for key in out["images"]:
        print(f"{key}: {out['objects'][key]} objects, {out['boxes'][key]} boxes")
    print(
        f"adjudicate: {len(out['images'])} overlap images written as reviewed annotations "
        f"({out['method']}, min annotators {out['min_annotators']})"
    )
    return 0


def _add_agree(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="reference annotations (file, folder or dataset)")
    p.add_argument(
        "b", metavar="B", nargs="?", help="annotations to compare with A (not with --by-annotator)"
    )
    p.add_argument(
        "--by-annotator",
        action="store_true",
        help="A is a dataset with team labels: agreement per annotator pair and class",
    )
    p.add_argument("--csv", metavar="PATH", help="with --by-annotator: the pair x class table")
    p.add_argument("--chart", metavar="PATH", help="with --by-annotator: a .png or .svg chart")
    p.add_argument(
        "--threshold", type=float, default=0.6, help="flag kappa below this (default 0.6)"
    )
    p.add_argument(
        "--f1-threshold", type=float, default=0.7, help="flag F1 below this (default 0.7)"
    )
    p.add_argument("--taxonomy", metavar="FILE", help="class names for the report")
    p.add_argument(
        "--report", metavar="PATH", help="write PATH (.html or .md) and a .json beside it"
    )
    p.add_argument("--json", action="store_true", help="print the per-image table as JSON")
    p.add_argument(
        "--polygon-iou",
        choices=("raster", "shapely"),
        default="raster",
        help="polygon IoU: pycocotools' pixel rule (default) or exact areas (needs shapely)",
    )


def _run_agree(args: argparse.Namespace) -> int:
    import math

    import pandas as pd

    from .core import qc

    if args.by_annotator:
        return _run_agree_by_annotator(args)
    if args.b is None:
        raise _UsageError("agree: give B (the annotations to compare) or --by-annotator")
    taxonomy = _load_taxonomy(args.taxonomy)
    a, b = load_annotation_set(args.a), load_annotation_set(args.b)
    common = sorted(set(a) & set(b))
    if not common:
        raise SessionError(
            "the two inputs share no image name",
            path=args.b,
            field="images",
            value=sorted(b)[:5],
        )
    rows = []
    for name in _progress(common, desc="agree"):
        res = qc.agreement_result(
            [a[name], b[name]],
            taxonomy if len(taxonomy) else None,
            polygon_method=args.polygon_iou,
        )
        rows.append({"image": name, **res.row()})
    table = pd.DataFrame(rows)
    means = {c: float(table[c].mean()) for c in table.columns if c != "image"}
    only = {"only_in_a": sorted(set(a) - set(b)), "only_in_b": sorted(set(b) - set(a))}
    if args.report:
        written = qc.write_report(
            {
                "title": f"Agreement of {Path(args.a).name} and {Path(args.b).name}",
                "mean": means,
                "per_image": table,
                **only,
            },
            args.report,
        )
        print(f"report: {', '.join(str(w) for w in written)}", file=sys.stderr)
    if args.json:
        clean = table.astype(object).where(table.notna(), None)
        print(json.dumps({"mean": means, "images": clean.to_dict("records"), **only}, indent=1))
        return 0
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    shown = ", ".join(f"{k} {v:.3f}" for k, v in means.items() if not math.isnan(v))
    print(f"mean over {len(rows)} images: {shown}")
    for key, names in only.items():
        if names:
            print(f"{key.replace('_', ' ')}: {', '.join(names)}")
    return 0


# -- pyramid --
def _add_pyramid(p: argparse.ArgumentParser) -> None:
    p.add_argument("stores", nargs="+", metavar="STORE", help="mask stores (*.zarr)")
    p.add_argument("--label", metavar="NAME", help="only this label image (default: all)")
    p.add_argument(
        "--method", choices=["nearest", "mode"], help="downsampling (default: the store's)"
    )
    _add_scheduler(p)


def _run_pyramid(args: argparse.Namespace) -> int:
    from .core.store import MaskStore

    for s in args.stores:  # fail on a bad input before starting any work
        MaskStore.open(s, "r").close()
    jobs = [(str(s), args.label, args.method) for s in args.stores]
    results = run_batch(
        build_store_pyramid,
        jobs,
        scheduler=args.scheduler,
        desc="pyramid",
        connect_timeout=args.connect_timeout,
    )
    for line in results:
        print(line)
    return 0


# -- classify --
def _add_classify(p: argparse.ArgumentParser) -> None:
    p.add_argument("classifier", metavar="CLASSIFIER", help="a saved classifier (*.lsclf)")
    p.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help="a dataset folder, or image files and mask stores (*.zarr)",
    )
    p.add_argument(
        "--label",
        default="classifier",
        metavar="NAME",
        help="label image written into mask stores (default 'classifier')",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace hand labels of images too (default: fill the background only)",
    )
    _add_scheduler(p)
    p.add_argument("--user", help="name recorded in the provenance log")


def _run_classify(args: argparse.Namespace) -> int:
    from .core.classifier import load_classifier
    from .core.dataset import Dataset

    load_classifier(args.classifier)  # refuse a bad file before starting any work
    sources = [str(Path(t).resolve()) for t in args.targets]
    ds = Dataset.open(sources)
    jobs = [
        (str(Path(args.classifier).resolve()), sources, i, args.label, bool(args.overwrite))
        for i in range(len(ds))
    ]
    results = run_batch(
        classify_job,
        jobs,
        scheduler=args.scheduler,
        desc="classify",
        connect_timeout=args.connect_timeout,
    )
    for r in results:
        _record(
            ds.provenance_path,
            args,
            "apply_classifier",
            image=r["image"],
            classifier=str(args.classifier),
            pixels=r["pixels"],
            label=args.label if r["kind"] == "store" else None,
        )
        print(f"{r['image']}: {r['pixels']} pixels labelled ({r['kind']})")
    return 0


# -- interpolate / track --
def _add_interpolate(p: argparse.ArgumentParser) -> None:
    p.add_argument("labels", metavar="LABELS", help="a TIFF label stack with keyframe slices")
    p.add_argument("out", metavar="OUT", help="the TIFF to write (may be LABELS)")
    p.add_argument("--axis", type=int, default=0, help="axis to interpolate along (default 0)")
    p.add_argument("--ids", type=int, nargs="+", metavar="ID", help="only these objects")
    p.add_argument("--image", metavar="TIFF", help="pull the contours to this image's edges")


def _run_interpolate(args: argparse.Namespace) -> int:
    import tifffile

    from .core.interpolate import interpolate_slices

    labels = read_stack(args.labels, "labels")
    image = None if args.image is None else read_stack(args.image, "image")
    edit = interpolate_slices(labels, args.ids, args.axis, image)
    out = edit.apply(labels)
    tifffile.imwrite(args.out, out)
    filled = int(np.count_nonzero(out != labels))
    print(f"{filled} pixels filled in {len(edit.patches)} objects -> {args.out}")
    return 0


def _add_track(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "labels", metavar="LABELS", help="a TIFF time series of instance masks, or a CTC folder"
    )
    p.add_argument("out", metavar="OUT", help="the Cell Tracking Challenge folder to write")
    p.add_argument("--axis", type=int, default=0, help="the time axis (default 0)")
    p.add_argument("--min-iou", type=float, default=0.1, help="smallest IoU of a link")
    p.add_argument(
        "--result", action="store_true", help="write res_track.txt/maskNNN.tif (a RES folder)"
    )


def _run_track(args: argparse.Namespace) -> int:
    from .core.formats import ctc
    from .core.interpolate import track_instances

    labels = read_stack(args.labels, "labels")
    res = track_instances(labels, args.axis, min_iou=args.min_iou)
    tracked = np.moveaxis(res.to_edit(labels).apply(labels), res.axis, 0)
    parents = {tid: tr.parent for tid, tr in res.tracks.items() if tr.parent}
    files = ctc.write_tracks(args.out, tracked, parents, result=args.result)
    print(
        f"{len(res.tracks)} tracks, {len(res.divisions())} divisions -> {args.out} "
        f"({len(files)} files)"
    )
    return 0


# -- registry --
#: name -> (help, example, add_arguments, run)
SUBCOMMANDS: dict[str, tuple[str, str, Callable, Callable]] = {
    "demo": (
        "start napari with the synthetic sample data and every plugin widget open",
        "napari-labelsuite demo --screenshot demo.png",
        _add_demo,
        _run_demo,
    ),
    "open": (
        "open a folder or list of images in napari, ready to label (autosaves when switching)",
        "napari-labelsuite open plates/ --taxonomy classes.yaml --user ana",
        _add_open,
        _run_open,
    ),
    "validate": (
        "check taxonomy files, saved annotations, provenance logs and dataset folders",
        "napari-labelsuite validate classes.yaml plates/ --taxonomy classes.yaml",
        _add_validate,
        _run_validate,
    ),
    "stats": (
        "count images, instances, boxes and mask pixels per class",
        "napari-labelsuite stats plates/ --taxonomy classes.yaml --json",
        _add_stats,
        _run_stats,
    ),
    "export": (
        "export a dataset's saved annotations to COCO, YOLO, Pascal VOC or mask files",
        "napari-labelsuite export plates/ plates-coco.json --to coco --segmentation polygon",
        _add_export,
        _run_export,
    ),
    "import": (
        "import COCO, YOLO, Pascal VOC or mask annotations into a dataset folder",
        "napari-labelsuite import instances.json plates/ --from coco",
        _add_import,
        _run_import,
    ),
    "convert": (
        "convert annotations between COCO, YOLO, Pascal VOC and mask files",
        "napari-labelsuite convert instances.json yolo-out/ --to yolo --task segment",
        _add_convert,
        _run_convert,
    ),
    "agree": (
        "compare two annotations of the same images (kappa, IoU, F1, PQ, AP) with a report",
        "napari-labelsuite agree ana/ bob/ --taxonomy classes.yaml --report agreement.html",
        _add_agree,
        _run_agree,
    ),
    "assign": (
        "assign a dataset's images to annotators, with an overlap for agreement",
        "napari-labelsuite assign plates/ --annotators alice,bob,carol --overlap 0.1",
        _add_assign,
        _run_assign,
    ),
    "adjudicate": (
        "write the annotators' consensus as the reviewed annotation of overlap images",
        "napari-labelsuite adjudicate plates/ --consensus matching --min-annotators 2",
        _add_adjudicate,
        _run_adjudicate,
    ),
    "pyramid": (
        "rebuild the multiscale levels of mask stores (batch)",
        "napari-labelsuite pyramid plate1.ome.zarr plate2.ome.zarr --method mode",
        _add_pyramid,
        _run_pyramid,
    ),
    "split": (
        "split touching instances in every saved annotation of a dataset (batch)",
        "napari-labelsuite split plates/ --min-distance 5 --scheduler tcp://10.0.0.5:8786",
        _add_split,
        _run_split,
    ),
    "embed": (
        "precompute SAM-family image embeddings of a dataset for the Assist tools (batch)",
        "napari-labelsuite embed plates/ --encoder sam_enc.onnx --decoder sam_dec.onnx "
        "--scheduler tcp://10.0.0.5:8786",
        _add_embed,
        _run_embed,
    ),
    "classify": (
        "apply a saved pixel classifier to a dataset's images and mask stores (batch)",
        "napari-labelsuite classify cells.lsclf plates/ --scheduler tcp://10.0.0.5:8786",
        _add_classify,
        _run_classify,
    ),
    "interpolate": (
        "fill the slices between the annotated keyframe slices of a label stack (TIFF)",
        "napari-labelsuite interpolate keyframes.tif filled.tif --image raw.tif",
        _add_interpolate,
        _run_interpolate,
    ),
    "track": (
        "link a time series of instance masks into tracks with divisions (CTC folder out)",
        "napari-labelsuite track masks.tif 01_RES --result",
        _add_track,
        _run_track,
    ),
}


class _UsageError(Exception):
    """A command line that argparse cannot parse (reported in one line, exit 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print usage and exit 2
        raise _UsageError(f"{self.prog}: {message} (see --help)")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_error_line(exc: OSError) -> str:
    """``path: reason`` of an OS error (disk full, read-only file system, wrong kind)."""
    where = exc.filename if exc.filename is not None else ""
    if getattr(exc, "filename2", None):
        where = f"{where} -> {exc.filename2}"
    reason = exc.strerror or type(exc).__name__
    return f"{where}: {reason}" if where else reason


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="napari-labelsuite",
        description="Label image data for machine learning with napari.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_, example, add, _run) in SUBCOMMANDS.items():
        p = sub.add_parser(
            name,
            help=help_,
            description=help_[0].upper() + help_[1:] + ".",
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; every failure is one line on stderr.

    Exit codes: 0 success, 1 any error (bad input, usage, OS error such as a full disk or
    a read-only file system), 130 interrupted (Ctrl-C). Set ``NAPARI_LABELSUITE_DEBUG=1``
    to see the traceback of an unexpected error.
    """
    import os

    try:
        args = build_parser().parse_args(argv)
        run = SUBCOMMANDS[args.command][3]
        return int(run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _UsageError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except LabelsuiteError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {_one_line(_os_error_line(exc))}", file=sys.stderr)
        return 1
    except MemoryError:
        print("error: out of memory", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("NAPARI_LABELSUITE_DEBUG"):
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))[:300]} (please "
            "report it; NAPARI_LABELSUITE_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Fuzzing: valid files of every format, truncated, with flipped bytes or with values of
another type, give either a result or a LabelsuiteError, never another exception."""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hostile_corpus  # noqa: E402
from napari_labelsuite.core import formats  # noqa: E402
from napari_labelsuite.core.annotation import ObjectInfo  # noqa: E402
from napari_labelsuite.core.errors import LabelsuiteError  # noqa: E402

_ROOT = Path(tempfile.mkdtemp(prefix="labelsuite-fuzz-"))


def _targets() -> list[tuple[str, str, Path, Path]]:
    """(name, kind, path given to the reader, file that is mutated)."""
    out = []
    for fmt in formats.FORMATS:
        try:
            sample = hostile_corpus.valid_sample(fmt, _ROOT / "samples")
        except Exception:  # a format this sample cannot be written in
            continue
        files = (
            [sample]
            if sample.is_file()
            else sorted(p for p in sample.rglob("*") if p.suffix in (".json", ".xml", ".yaml"))
        )
        for f in files[:2]:
            out.append((f"{fmt}:{f.name}", fmt, sample, f))
    from napari_labelsuite.core.dataset import save_sidecar
    from napari_labelsuite.core.taxonomy import Taxonomy

    d = _ROOT / "samples" / "sidecar"
    d.mkdir(parents=True)
    jp = save_sidecar(hostile_corpus.sample_annotations()[0], d / "img1.json")
    out.append(("annotation", "annotation", jp, jp))
    tax = _ROOT / "samples" / "taxonomy.yaml"
    Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell", "color": "red"}]}).save(tax)
    out.append(("taxonomy", "taxonomy", tax, tax))
    return out


TARGETS = _targets()


def _object_samples(root: Path) -> list[tuple[str, Callable[[], Any], Path]]:
    """Formats the generic sample cannot show (panoptic PNGs, results against ground truth,
    CTC time series, rotated boxes, keypoints): (name, reader, file that is mutated)."""
    from PIL import Image

    from napari_labelsuite.core.annotation import ImageAnnotation
    from napari_labelsuite.core.formats import coco_keypoints, dota
    from napari_labelsuite.core.objects import RotatedBox
    from napari_labelsuite.core.taxonomy import Taxonomy

    root.mkdir(parents=True)
    anns = hostile_corpus.sample_annotations()
    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}, {"id": 2, "name": "dot"}]})
    out: list[tuple[str, Callable[[], Any], Path]] = []

    pan = root / "panoptic" / "panoptic.json"
    formats.write(pan, anns, tax, fmt="coco_panoptic")
    png = next(pan.parent.rglob("*.png"))
    out.append(("coco_panoptic:json", lambda: formats.read(pan, "coco_panoptic"), pan))
    out.append(("coco_panoptic:png", lambda: formats.read(pan, "coco_panoptic"), png))

    gt = root / "results" / "gt.json"
    formats.write(gt, anns, tax, fmt="coco")
    res = root / "results" / "results.json"
    formats.write(res, anns, tax, fmt="coco_results")
    for f in (res, gt):
        out.append((f"coco_results:{f.name}", lambda: formats.read(res, images=gt), f))

    inst = np.zeros((3, 12, 16), np.uint16)
    inst[0:2, 2:6, 2:7] = 1
    inst[2:3, 7:11, 9:14] = 2
    objects = {1: ObjectInfo(1), 2: ObjectInfo(1, attributes={"parent": 1})}
    ctc_dir = root / "ctc"
    series = ImageAnnotation("movie", inst.shape, axes="tyx", instances=inst, objects=objects)
    formats.write(ctc_dir, [series], Taxonomy([{"id": 1, "name": "cell"}]), fmt="ctc")
    track = next(ctc_dir.rglob("*.txt"))
    frame = sorted(ctc_dir.rglob("*.tif"))[0]
    for f in (track, frame):
        out.append((f"ctc:{f.name}", lambda: formats.read(ctc_dir, "ctc"), f))

    rboxes = [
        RotatedBox(8.0, 6.0, 6.0, 3.0, 30.0, class_id=1),
        RotatedBox(5, 5, 2, 4, 0, class_id=2),
    ]
    dota_dir = root / "dota"
    dota.write(dota_dir, [ImageAnnotation("a.png", (12, 16), rotated=rboxes)], tax)
    dota_txt = dota_dir / "labelTxt" / "a.txt"
    out.append(("dota:a.txt", lambda: dota.read(dota_dir, image_size=(12, 16)), dota_txt))
    (dota_dir / "images").mkdir()
    dota_png = dota_dir / "images" / "a.png"
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(dota_png)
    out.append(("dota:a.png", lambda: dota.read(dota_dir), dota_png))

    _, kp = hostile_corpus.sample_pose()
    for task in ("obb", "pose"):
        d = root / f"yolo_{task}"
        hostile_corpus.write_yolo_objects(d, task, rboxes, tax)
        files = [d / "data.yaml", d / "labels" / "train" / "a.txt"]
        for f in files + ([d / "images" / "train" / "a.png"] if task == "obb" else []):
            out.append((f"yolo_{task}:{f.name}", lambda d=d: formats.read(d, "yolo"), f))

    ktax = Taxonomy(
        [{"id": 1, "name": "person", "keypoints": {"names": ["nose", "left", "right"],
          "edges": [[0, 1], [0, 2]], "flip_pairs": [[1, 2]]}}]
    )  # fmt: skip
    kpf = root / "keypoints.json"
    coco_keypoints.write(kpf, [ImageAnnotation("a.png", (12, 16), keypoints=[kp])], ktax)
    out.append(("coco_keypoints", lambda: coco_keypoints.read(kpf), kpf))
    return out


OBJECT_TARGETS = _object_samples(_ROOT / "objects")


def _read(kind: str, path: Path) -> None:
    from napari_labelsuite.core.dataset import load_sidecar
    from napari_labelsuite.core.taxonomy import Taxonomy

    if kind == "annotation":
        load_sidecar(path)
    elif kind == "taxonomy":
        Taxonomy.load(path)
    else:
        formats.read(path, kind)


# -- mutations ------------------------------------------------------------------------------
_OTHER = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(-3, 3), max_size=2),
)


# values of another type or range for one token of a text file (CTC, DOTA, YOLO rows, YAML)
_TOKENS = st.sampled_from(
    [b"x", b"", b"nan", b"inf", b"-1", b"0", b"1e309", b"99999999999999999999", b"0.5", b"[]",
     b"{}", b"null", b"-0", b"\xe9"]
)  # fmt: skip


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:4]):
            out += _paths(v, (*prefix, i))
    return out


def _swap(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


@st.composite
def mutations(draw: Callable, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "swap"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(out) - 1))
            out[i] = draw(st.integers(0, 255))
        return bytes(out)
    try:
        doc = json.loads(data)
    except ValueError:  # not JSON (XML, YAML, text rows): swap one token's value
        tokens = re.split(rb"(\s+|[:,<>\[\]])", data)
        slots = [
            i for i, t in enumerate(tokens) if t.strip() and not re.fullmatch(rb"[:,<>\[\]]", t)
        ]
        if not slots:
            return data[::-1]
        tokens[draw(st.sampled_from(slots))] = draw(_TOKENS)
        return b"".join(tokens)
    paths = _paths(doc)
    path = draw(st.sampled_from(paths))
    return json.dumps(_swap(doc, path, draw(_OTHER))).encode()


@pytest.mark.parametrize(("name", "kind", "path", "target"), TARGETS, ids=[t[0] for t in TARGETS])
@settings(
    max_examples=30,
    deadline=3000,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_mutated_files_give_a_result_or_a_named_error(name, kind, path, target, data):
    original = target.read_bytes()
    mutated = data.draw(mutations(original))
    try:
        target.write_bytes(mutated)
        _read(kind, path)
    except LabelsuiteError as exc:
        assert "\n" not in str(exc)
    finally:
        target.write_bytes(original)


def test_object_samples_read_before_mutation() -> None:
    """Every sample is valid, so the mutations start from a file the reader accepts."""
    for name, reader, _ in OBJECT_TARGETS:
        anns, _tax = reader()
        report = formats.ReadReport()
        report.count(anns)
        assert (report.images, report.objects > 0) == (1, True), name


@pytest.mark.parametrize(
    ("name", "reader", "target"), OBJECT_TARGETS, ids=[t[0] for t in OBJECT_TARGETS]
)
@settings(
    max_examples=60,
    deadline=3000,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_mutated_object_files_give_a_result_or_a_named_error(name, reader, target, data):
    original = target.read_bytes()
    mutated = data.draw(mutations(original))
    try:
        target.write_bytes(mutated)
        reader()
    except LabelsuiteError as exc:
        assert "\n" not in str(exc)
    finally:
        target.write_bytes(original)


def teardown_module() -> None:
    shutil.rmtree(_ROOT, ignore_errors=True)

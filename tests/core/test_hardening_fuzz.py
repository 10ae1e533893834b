"""Fuzzing: valid files of every format, truncated, with flipped bytes or with values of
another type, give either a result or a LabelsuiteError, never another exception."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hostile_corpus  # noqa: E402
from napari_labelsuite.core import formats  # noqa: E402
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
    except ValueError:  # not JSON (XML, YAML, text): flip instead
        out = bytearray(data)
        out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return bytes(out)
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


def teardown_module() -> None:
    shutil.rmtree(_ROOT, ignore_errors=True)

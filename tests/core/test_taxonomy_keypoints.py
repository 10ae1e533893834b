"""A class of the taxonomy may define keypoint names, skeleton edges and left/right swaps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from napari_labelsuite.core.errors import TaxonomyError
from napari_labelsuite.core.objects import Skeleton
from napari_labelsuite.core.taxonomy import Taxonomy

PERSON = {
    "id": 1,
    "name": "person",
    "keypoints": {
        "names": ["nose", "left_eye", "right_eye"],
        "edges": [[0, 1], [0, 2]],
        "flip_pairs": [[1, 2]],
    },
}


def test_skeleton_survives_save_and_load(tmp_path: Path) -> None:
    tax = Taxonomy([PERSON, {"id": 2, "name": "car"}])
    sk = tax[1].skeleton
    assert sk == Skeleton(["nose", "left_eye", "right_eye"], [(0, 1), (0, 2)], [(1, 2)])
    assert tax[2].skeleton is None
    path = tax.save(tmp_path / "tax.json")
    back = Taxonomy.load(path)
    assert back[1].skeleton == sk and back[2].skeleton is None
    assert "keypoints" not in json.loads(path.read_text())["classes"][1]


def test_old_files_without_keypoints_still_load(tmp_path: Path) -> None:
    f = tmp_path / "old.json"
    f.write_text(json.dumps({"classes": [{"id": 1, "name": "cell", "color": "#ff0000"}]}))
    assert Taxonomy.load(f)[1].skeleton is None


def test_update_sets_and_clears_a_skeleton() -> None:
    tax = Taxonomy([{"id": 1, "name": "hand"}])
    seen = []
    tax.connect(lambda event, **info: seen.append((event, info)))
    tax.update("hand", skeleton={"names": ["wrist", "thumb"], "edges": [[0, 1]]})
    assert tax[1].skeleton == Skeleton(["wrist", "thumb"], [(0, 1)])
    assert seen[-1] == ("changed", {"id": 1, "fields": ["skeleton"]})
    tax.update("hand", skeleton=None)
    assert tax[1].skeleton is None


@pytest.mark.parametrize(
    ("keypoints", "match"),
    [
        ({"names": ["a", "a"]}, "unique"),
        ({"names": ["a", "b"], "edges": [[0, 5]]}, "two different keypoints"),
        ({"names": ["a", "b"], "edges": [[0]]}, "mapping of names"),
        (["a", "b"], "mapping of names"),
    ],
)
def test_bad_skeletons_are_taxonomy_errors(keypoints: object, match: str) -> None:
    with pytest.raises(TaxonomyError, match=match) as exc:
        Taxonomy([{"id": 1, "name": "person", "keypoints": keypoints}])
    assert exc.value.where is not None and exc.value.where.startswith("class 'person'")

"""Taxonomies the object-kind tests share (fresh dicts for ``Taxonomy.from_dict``)."""

from __future__ import annotations

import copy
from typing import Any

_SHIP = {"id": 1, "name": "ship"}
_PERSON = {
    "id": 2,
    "name": "person",
    "keypoints": {
        "names": ["head", "left_hand", "right_hand"],
        "edges": [[0, 1], [0, 2]],
        "flip_pairs": [[1, 2]],
    },
}
_HAND = {"id": 2, "name": "hand", "keypoints": {"names": ["wrist", "thumb"]}}


def ship_person_tax(*more: dict[str, Any]) -> dict[str, Any]:
    """Class 1 ship; class 2 person with head, left/right hand (two edges, one flip pair)."""
    return copy.deepcopy({"classes": [_SHIP, _PERSON, *more]})


def ship_hand_tax() -> dict[str, Any]:
    """Class 1 ship; class 2 hand with the keypoints wrist and thumb."""
    return copy.deepcopy({"classes": [_SHIP, _HAND]})

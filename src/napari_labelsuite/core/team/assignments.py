"""Who labels which image: annotator names and reproducible, balanced assignments.

Every image of a dataset gets one annotator; a reproducible random fraction (``overlap``)
gets ``per_image`` annotators, so that agreement can be measured on it. The annotators
are dealt around one seeded cycle, overlap images first, so every annotator's total, its
single images and its overlap images each differ from the others' by at most one.

The assignment is one JSON file, ``<annotations>/team/assignments.json``::

    {"format": "labelsuite-assignments", "version": 1,
     "annotators": ["alice", "bob"], "overlap": 0.1, "per_image": 2, "seed": 0,
     "items": {"a.png": ["alice"], "b.png": ["bob", "alice"], ...}}
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TeamError
from ..fileio import atomic_write_text

__all__ = [
    "ASSIGNMENTS_FORMAT",
    "ANNOTATOR_PATTERN",
    "Assignments",
    "assign_dataset",
    "assignments_path",
    "parse_annotators",
    "validate_annotator",
]

ASSIGNMENTS_FORMAT = "labelsuite-assignments"
#: An annotator name: a letter or digit, then up to 63 letters, digits, ``_``, ``.``, ``-``.
ANNOTATOR_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def validate_annotator(name: Any, *, path: Any = None, where: str | None = None) -> str:
    """``name`` when it is a valid annotator name, else :class:`TeamError`.

    Names become folder and label-image names, so they are restricted to
    ``[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`` (no path separator, no leading dot).
    """
    if not isinstance(name, str) or ANNOTATOR_PATTERN.fullmatch(name) is None:
        raise TeamError(
            "an annotator name is 1 to 64 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit",
            path=path,
            where=where,
            field="annotator",
            value=name,
        )
    return name


def assignments_path(ds: Any) -> Path:
    """Where the assignments of dataset ``ds`` are kept."""
    return Path(ds.annotation_dir) / "team" / "assignments.json"


@dataclass
class Assignments:
    """The annotators of each dataset item.

    Attributes
    ----------
    annotators : list of str
        Everyone taking part, in the order given.
    items : dict
        Dataset item key -> annotators of that item (one, or ``per_image`` for overlap).
    overlap : float
        Fraction of the items labelled by ``per_image`` annotators.
    per_image : int
        Annotators per overlap item.
    seed : int
        Seed of the random choice of overlap items and of the annotators' order.
    version : int
        Revision of the assignment (1 for the first; a new assignment of the same
        dataset counts up).
    """

    annotators: list[str]
    items: dict[str, list[str]]
    overlap: float = 0.1
    per_image: int = 2
    seed: int = 0
    version: int = 1
    _index: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        keys: Sequence[str],
        annotators: Iterable[str],
        overlap: float = 0.1,
        per_image: int = 2,
        seed: int = 0,
        *,
        version: int = 1,
    ) -> Assignments:
        """Assign the items ``keys`` to ``annotators``.

        ``round(overlap * len(keys))`` items, drawn with ``seed``, get ``per_image``
        distinct annotators; the others one. The same inputs give the same result.

        Raises
        ------
        TeamError
            For an invalid or repeated annotator name, ``overlap`` outside [0, 1],
            ``per_image`` below 2 with ``overlap > 0`` or above the number of annotators,
            no items or repeated keys.
        """
        names = _check_annotators(list(annotators))
        overlap, per_image, seed = _check_params(overlap, per_image, seed, len(names))
        keys = [str(k) for k in keys]
        if not keys:
            raise TeamError("there are no images to assign", field="keys", value=[])
        dup = _first_duplicate(keys)
        if dup is not None:
            raise TeamError("an image key is listed twice", field="keys", value=dup)
        n, m = len(keys), len(names)
        rng = np.random.default_rng(seed)
        n_overlap = round(overlap * n)
        chosen = sorted(int(j) for j in rng.choice(n, size=n_overlap, replace=False))
        order = [names[int(j)] for j in rng.permutation(m)]
        is_overlap = set(chosen)
        # deal annotators around one cycle: overlap items first, then single items; any
        # contiguous run of the cycle gives each annotator the same count within one
        slot = 0
        items: dict[str, list[str]] = {}
        for j in chosen:
            items[keys[j]] = [order[(slot + t) % m] for t in range(per_image)]
            slot += per_image
        for j in range(n):
            if j not in is_overlap:
                items[keys[j]] = [order[slot % m]]
                slot += 1
        ordered = {k: items[k] for k in keys}
        return cls(names, ordered, overlap, per_image, seed, int(version))

    def __post_init__(self) -> None:
        self._index = {}
        for key, who in self.items.items():
            for a in who:
                self._index.setdefault(a, []).append(key)

    # -- queries -------------------------------------------------------------------------
    def items_of(self, annotator: str) -> list[str]:
        """The item keys assigned to ``annotator`` (dataset order); unknown -> TeamError."""
        self._require_known(annotator)
        return list(self._index.get(annotator, []))

    def annotators_of(self, key: str) -> list[str]:
        """The annotators of item ``key`` (empty when the key is not assigned)."""
        return list(self.items.get(key, []))

    def overlap_keys(self) -> list[str]:
        """Keys labelled by two or more annotators (where agreement is measured)."""
        return [k for k, who in self.items.items() if len(who) >= 2]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per annotator: ``{"total": n, "single": n, "overlap": n}``."""
        out = {a: {"total": 0, "single": 0, "overlap": 0} for a in self.annotators}
        for who in self.items.values():
            kind = "overlap" if len(who) >= 2 else "single"
            for a in who:
                out[a]["total"] += 1
                out[a][kind] += 1
        return out

    def provenance_params(self) -> dict[str, Any]:
        """The parameters of the ``assign`` provenance entry (session and CLI record these)."""
        return {
            "annotators": self.annotators,
            "overlap": self.overlap,
            "per_image": self.per_image,
            "seed": self.seed,
            "version": self.version,
            "images": {a: c["total"] for a, c in self.counts().items()},
            "overlap_images": len(self.overlap_keys()),
        }

    def _require_known(self, annotator: str) -> str:
        if annotator not in self.annotators:
            raise TeamError(
                f"not an annotator of this assignment (have {self.annotators})",
                field="annotator",
                value=annotator,
            )
        return annotator

    # -- files -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ASSIGNMENTS_FORMAT,
            "version": int(self.version),
            "annotators": list(self.annotators),
            "overlap": float(self.overlap),
            "per_image": int(self.per_image),
            "seed": int(self.seed),
            "items": {k: list(v) for k, v in self.items.items()},
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the JSON file atomically (temporary file, then rename)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(p, json.dumps(self.to_dict(), indent=1) + "\n")
        return p

    @classmethod
    def from_dict(
        cls, d: Any, *, path: Any = None, keys: Sequence[str] | None = None
    ) -> Assignments:
        """Check and build from the JSON form; ``keys`` are the dataset's item keys."""

        def bad(msg: str, fld: str, value: Any, where: str | None = None) -> TeamError:
            return TeamError(msg, path=path, where=where, field=fld, value=value)

        if not isinstance(d, dict):
            raise bad("must be a JSON object", "format", type(d).__name__)
        if d.get("format") != ASSIGNMENTS_FORMAT:
            raise bad(f"not an assignments file (format must be {ASSIGNMENTS_FORMAT!r})",
                      "format", d.get("format"))  # fmt: skip
        version = d.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise bad("must be a positive integer", "version", version)
        annotators = d.get("annotators")
        if not isinstance(annotators, list):
            raise bad("must be a list of names", "annotators", annotators)
        try:
            names = _check_annotators(annotators)
        except TeamError as exc:
            raise exc.replace(path=path) from None
        try:
            overlap, per_image, seed = _check_params(
                d.get("overlap"), d.get("per_image"), d.get("seed"), len(names)
            )
        except TeamError as exc:
            raise exc.replace(path=path) from None
        items = d.get("items")
        if not isinstance(items, dict):
            raise bad("must be an object of item key -> annotators", "items", items)
        known = set(names)
        keyset = None if keys is None else set(keys)
        out: dict[str, list[str]] = {}
        for key, who in items.items():
            where = f"items[{key!r}]"
            if keyset is not None and key not in keyset:
                raise bad("no image of the dataset has this key", "items", key, where)
            if not isinstance(who, list) or not who or not all(isinstance(a, str) for a in who):
                raise bad("must be a non-empty list of annotator names", "items", who, where)
            for a in who:
                if a not in known:
                    raise bad(f"unknown annotator (the file names {names})", "annotators", a,
                              where)  # fmt: skip
            dup = _first_duplicate(who)
            if dup is not None:
                raise bad("an annotator is listed twice for one image", "items", dup, where)
            if len(who) not in (1, per_image):
                raise bad(f"an image has 1 annotator, or per_image = {per_image} for overlap",
                          "per_image", len(who), where)  # fmt: skip
            out[str(key)] = list(who)
        # dataset images missing from the file (added after the assignment) are simply
        # not assigned: assign again to include them
        return cls(names, out, overlap, per_image, seed, version)

    @classmethod
    def load(cls, path: str | os.PathLike, keys: Sequence[str] | None = None) -> Assignments:
        """Read and check an assignments file (against the dataset's ``keys`` if given).

        Raises
        ------
        TeamError
            Naming the file, the entry and the value: not JSON, unknown annotators, keys
            not in the dataset, repeated names, an image with neither 1 nor ``per_image``
            annotators.
        """
        from ..validate import load_json

        p = Path(path)
        if not p.is_file():
            raise TeamError("no assignments file", path=p, field="path")
        return cls.from_dict(load_json(p, error=TeamError, unique_keys=True,
                                       what="assignments file"), path=p, keys=keys)  # fmt: skip


def assign_dataset(
    ds: Any,
    annotators: Iterable[str],
    overlap: float = 0.1,
    per_image: int = 2,
    seed: int = 0,
) -> Assignments:
    """Assign the items of dataset ``ds`` and save the assignment with it.

    The one implementation behind ``LabelSession.assign`` and ``napari-labelsuite
    assign``. A new assignment replaces the old one with the next ``version``; nothing
    is written when the arguments are bad.
    """
    p = assignments_path(ds)
    version = 1
    if p.is_file():
        try:
            version = Assignments.load(p).version + 1
        except TeamError:  # an unreadable file is replaced; count on from it
            version = 2
    asg = Assignments.create(ds.keys(), list(annotators), overlap, per_image, seed,
                             version=version)  # fmt: skip
    asg.save(p)
    return asg


def parse_annotators(text: str) -> list[str]:
    """``"alice, bob,carol"`` -> ``["alice", "bob", "carol"]`` (names checked later)."""
    return [a.strip() for a in str(text).split(",") if a.strip()]


def _first_duplicate(values: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    return None


def _check_annotators(names: list[Any]) -> list[str]:
    if not names:
        raise TeamError("give at least one annotator", field="annotators", value=names)
    for i, a in enumerate(names):
        validate_annotator(a, where=f"annotators[{i}]")
    dup = _first_duplicate(names)
    if dup is not None:
        raise TeamError("an annotator is listed twice", field="annotators", value=dup)
    return [str(a) for a in names]


def _check_params(overlap: Any, per_image: Any, seed: Any, m: int) -> tuple[float, int, int]:
    if (
        isinstance(overlap, bool)
        or not isinstance(overlap, (int, float))
        or not 0.0 <= float(overlap) <= 1.0
    ):
        raise TeamError("overlap must be a fraction in [0, 1]", field="overlap", value=overlap)
    if isinstance(per_image, bool) or not isinstance(per_image, (int, np.integer)):
        raise TeamError("per_image must be an integer", field="per_image", value=per_image)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TeamError("seed must be an integer", field="seed", value=seed)
    overlap, per_image = float(overlap), int(per_image)
    if per_image < 1:
        raise TeamError("per_image must be at least 1", field="per_image", value=per_image)
    if overlap > 0 and per_image < 2:
        raise TeamError(
            "overlap images need at least 2 annotators each (per_image >= 2)",
            field="per_image",
            value=per_image,
        )
    if overlap > 0 and per_image > m:
        raise TeamError(
            f"per_image is larger than the number of annotators ({m})",
            field="per_image",
            value=per_image,
        )
    return overlap, per_image, int(seed)

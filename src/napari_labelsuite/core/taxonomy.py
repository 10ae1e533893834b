"""Class taxonomy: named classes with stable ids, colours, hierarchy, hotkeys and attributes.

A ``Taxonomy`` is the one class list every layer obeys. Ids are stable (never reused
silently); 0 is background. It is stored with the data as YAML or JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal

from .colors import PALETTE as _PALETTE
from .colors import color_to_hex, parse_color
from .colors import golden_color as _golden_color
from .colors import hex_to_rgba as _hex_to_rgba
from .errors import ObjectKindError, TaxonomyError
from .fileio import atomic_write_text
from .objects.keypoints import Skeleton
from .signals import emit

__all__ = ["ATTRIBUTE_KINDS", "AttributeSpec", "LabelClass", "Taxonomy", "parse_color"]

ATTRIBUTE_KINDS = ("bool", "int", "float", "text", "choice")


@dataclass
class AttributeSpec:
    """A per-object attribute that annotators fill in (occluded, truncated, ...)."""

    name: str
    kind: str = "bool"
    choices: list[Any] = field(default_factory=list)
    default: Any = None
    required: bool = False
    description: str = ""

    def validate(self, where: str = "", path: Any = None) -> None:
        if not self.name or not isinstance(self.name, str):
            raise TaxonomyError(
                "attribute name must be a non-empty string",
                path=path,
                where=where,
                field="attributes.name",
                value=self.name,
            )
        w = f"{where} attribute '{self.name}'".strip()
        if self.kind not in ATTRIBUTE_KINDS:
            raise TaxonomyError(
                f"unknown attribute kind; use one of {ATTRIBUTE_KINDS}",
                path=path,
                where=w,
                field="kind",
                value=self.kind,
            )
        if self.kind == "choice":
            if not self.choices:
                raise TaxonomyError(
                    "a choice attribute needs choices",
                    path=path,
                    where=w,
                    field="choices",
                    value=self.choices,
                )
            if self.default is not None and self.default not in self.choices:
                raise TaxonomyError(
                    f"default is not among the choices {self.choices}",
                    path=path,
                    where=w,
                    field="default",
                    value=self.default,
                )

    def default_value(self) -> Any:
        if self.default is not None:
            return self.default
        return {
            "bool": False,
            "int": 0,
            "float": 0.0,
            "text": "",
            "choice": self.choices[0] if self.choices else None,
        }[self.kind]

    def coerce(self, value: Any, where: str = "") -> Any:
        """Convert ``value`` to this attribute's kind or raise TaxonomyError."""
        try:
            if self.kind == "bool":
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low in ("1", "true", "yes", "y"):
                        return True
                    if low in ("0", "false", "no", "n", ""):
                        return False
                    raise ValueError(value)
                return bool(value)
            if self.kind == "int":
                return int(value)
            if self.kind == "float":
                return float(value)
            if self.kind == "text":
                return "" if value is None else str(value)
        except (TypeError, ValueError) as exc:
            raise TaxonomyError(
                f"value is not a valid {self.kind}", where=where, field=self.name, value=value
            ) from exc
        if value not in self.choices:
            raise TaxonomyError(
                f"value is not among the choices {self.choices}",
                where=where,
                field=self.name,
                value=value,
            )
        return value

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.choices:
            d["choices"] = list(self.choices)
        if self.default is not None:
            d["default"] = self.default
        if self.required:
            d["required"] = True
        if self.description:
            d["description"] = self.description
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "", path: Any = None) -> AttributeSpec:
        if not isinstance(d, dict) or "name" not in d:
            raise TaxonomyError(
                "an attribute needs at least a 'name'",
                path=path,
                where=where,
                field="attributes",
                value=d,
            )
        unknown = set(d) - {"name", "kind", "choices", "default", "required", "description"}
        if unknown:
            raise TaxonomyError(
                "unknown attribute keys",
                path=path,
                where=where,
                field="attributes",
                value=sorted(unknown),
            )
        spec = cls(
            name=d["name"],
            kind=d.get("kind", "bool"),
            choices=list(d.get("choices") or []),
            default=d.get("default"),
            required=bool(d.get("required", False)),
            description=d.get("description", ""),
        )
        spec.validate(where, path)
        return spec


@dataclass
class LabelClass:
    """One class of the taxonomy."""

    id: int
    name: str
    color: tuple[float, float, float, float] | None = None
    parent: int | None = None
    description: str = ""
    hotkey: str | None = None
    attributes: list[AttributeSpec] = field(default_factory=list)
    #: keypoint names, skeleton edges and left/right swaps (classes labelled with keypoints)
    skeleton: Skeleton | None = None
    #: taxonomy version in which this class's guideline (description) last changed
    guideline_version: int = 1

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.color is not None:
            d["color"] = color_to_hex(self.color)
        if self.parent is not None:
            d["parent"] = self.parent
        if self.description:
            d["description"] = self.description
        if self.hotkey:
            d["hotkey"] = self.hotkey
        if self.attributes:
            d["attributes"] = [a.to_dict() for a in self.attributes]
        if self.skeleton is not None:
            d["keypoints"] = self.skeleton.to_dict()
        if self.guideline_version != 1:
            d["guideline_version"] = self.guideline_version
        return d


_CLASS_KEYS = {
    "id", "name", "color", "parent", "description", "hotkey", "attributes", "keypoints",
    "guideline_version",
}  # fmt: skip


class Taxonomy:
    """An ordered list of :class:`LabelClass` with stable ids.

    Parameters
    ----------
    classes : iterable of LabelClass or dict, optional
    name : str, optional
        A name for the taxonomy (stored in files).

    Notes
    -----
    After each change the psygnal signal :attr:`changed` emits ``(event, info)``, with
    ``event`` in ``{"added", "removed", "renamed", "recolored", "changed", "merged",
    "reordered", "reset"}`` and ``info`` a dict (``id``, ``old``, ``new``, ``fields``,
    ``remap_to`` as the event has them). Listeners registered with :meth:`connect` are
    called as ``fn(event, **info)``. The session uses this to keep layers in sync.
    """

    changed = Signal(str, dict)

    def __init__(
        self, classes: Iterable[LabelClass | dict] = (), name: str = "", _path: Any = None
    ) -> None:
        self.name = name
        #: guideline version: counts up when a class's guideline changes (see :meth:`bump`)
        self.version = 1
        self._classes: dict[int, LabelClass] = {}
        # connect()'s callbacks -> the adapters connected to ``changed`` for them
        self._adapters: dict[Callable[..., None], Callable[[str, dict], None]] = {}
        self._usage_checks: list[Callable[[int], bool]] = []
        for c in classes:
            lc = c if isinstance(c, LabelClass) else self._class_from_dict(c, _path)
            if lc.id in self._classes:
                raise TaxonomyError(
                    "duplicate class id",
                    path=_path,
                    where=f"class '{lc.name}'",
                    field="id",
                    value=lc.id,
                )
            self._classes[lc.id] = lc
        self._validate(_path)
        self._assign_missing_colors()

    # -- construction --------------------------------------------------------------
    @staticmethod
    def _class_from_dict(d: Any, path: Any = None) -> LabelClass:
        if not isinstance(d, dict):
            raise TaxonomyError(
                "each class must be a mapping", path=path, field="classes", value=d
            )
        where = f"class '{d.get('name', d.get('id', '?'))}'"
        unknown = set(d) - _CLASS_KEYS
        if unknown:
            raise TaxonomyError(
                "unknown class keys",
                path=path,
                where=where,
                field="classes",
                value=sorted(unknown),
            )
        for key in ("id", "name"):
            if key not in d:
                raise TaxonomyError(f"class is missing '{key}'", path=path, where=where, field=key)
        cid = d["id"]
        if isinstance(cid, bool) or not isinstance(cid, (int, np.integer)):
            raise TaxonomyError(
                "class id must be an integer", path=path, where=where, field="id", value=cid
            )
        if not isinstance(d["name"], (str, int, float)) or isinstance(d["name"], bool):
            raise TaxonomyError(
                "class name must be text", path=path, where=where, field="name", value=d["name"]
            )
        color = d.get("color")
        if color is not None:
            try:
                color = parse_color(color)
            except ValueError:
                raise TaxonomyError(
                    "invalid colour", path=path, where=where, field="color", value=d.get("color")
                ) from None
        attrs = [AttributeSpec.from_dict(a, where, path) for a in (d.get("attributes") or [])]
        parent = d.get("parent")
        if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int)):
            raise TaxonomyError(
                "parent must be a class id", path=path, where=where, field="parent", value=parent
            )
        hotkey = d.get("hotkey")
        skeleton = None
        if d.get("keypoints") is not None:
            kp = d["keypoints"]
            try:
                if not isinstance(kp, dict):
                    raise TypeError
                skeleton = Skeleton.from_dict(kp)
            except ObjectKindError as exc:
                raise exc.replace(TaxonomyError, path=path, where=f"{where}: keypoints") from None
            except (TypeError, ValueError):
                raise TaxonomyError(
                    "keypoints must be a mapping of names, edges and flip_pairs",
                    path=path, where=where, field="keypoints", value=kp,
                ) from None  # fmt: skip
        gv = d.get("guideline_version", 1)
        if isinstance(gv, bool) or not isinstance(gv, int) or gv < 1:
            raise TaxonomyError(
                "guideline_version must be a positive integer",
                path=path, where=where, field="guideline_version", value=gv,
            )  # fmt: skip
        return LabelClass(
            id=int(cid),
            name=str(d["name"]),
            color=color,
            parent=parent,
            description=str(d.get("description") or ""),
            hotkey=None if hotkey in (None, "") else str(hotkey),
            attributes=attrs,
            skeleton=skeleton,
            guideline_version=gv,
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any], path: Any = None) -> Taxonomy:
        if not isinstance(d, dict) or not isinstance(d.get("classes"), list):
            raise TaxonomyError(
                "a taxonomy file needs a top-level 'classes' list", path=path, field="classes"
            )
        version = d.get("version", 1)  # files from before guideline versions: version 1
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise TaxonomyError(
                "version must be a positive integer", path=path, field="version", value=version
            )
        tax = cls(d["classes"], name=str(d.get("name") or ""), _path=path)
        tax.version = max([version, *(c.guideline_version for c in tax)])
        return tax

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "classes": [c.to_dict() for c in self]}
        if self.version != 1:
            d["version"] = self.version
        return d

    @classmethod
    def load(cls, path: str | os.PathLike) -> Taxonomy:
        """Read a taxonomy from a ``.yaml``/``.yml`` or ``.json`` file."""
        from .validate import load_json, load_yaml

        p = Path(path)
        # regular files only, strict UTF-8, bounded nesting and YAML aliases
        if p.suffix.lower() == ".json":
            data = load_json(p, error=TaxonomyError, what="taxonomy file")
        else:
            data = load_yaml(p, error=TaxonomyError, what="taxonomy file")
        return cls.from_dict(data, path=p)

    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``.yaml``/``.yml`` or ``.json`` atomically (temp file, then rename)."""
        p = Path(path)
        if p.suffix.lower() == ".json":
            text = json.dumps(self.to_dict(), indent=2) + "\n"
        elif p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)
        else:
            raise TaxonomyError(
                "use a .yaml, .yml or .json file name", path=p, field="suffix", value=p.suffix
            )
        atomic_write_text(p, text)
        return p

    # -- container protocol ------------------------------------------------------------
    def __iter__(self) -> Iterator[LabelClass]:
        return iter(list(self._classes.values()))

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, cid: object) -> bool:
        return cid in self._classes

    def __getitem__(self, cid: int) -> LabelClass:
        try:
            return self._classes[int(cid)]
        except (KeyError, TypeError, ValueError):
            raise TaxonomyError("unknown class id", field="id", value=cid) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Taxonomy) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        names = ", ".join(f"{c.id}:{c.name}" for c in self)
        return f"Taxonomy({names})"

    def ids(self) -> list[int]:
        return list(self._classes)

    def names(self) -> list[str]:
        return [c.name for c in self._classes.values()]

    def by_name(self, name: str) -> LabelClass:
        for c in self._classes.values():
            if c.name == name:
                return c
        raise TaxonomyError("unknown class name", field="name", value=name)

    def resolve(self, cls: int | str | LabelClass) -> LabelClass:
        """A class given by id, name or object."""
        if isinstance(cls, LabelClass):
            return self[cls.id]
        if isinstance(cls, str):
            return self.by_name(cls)
        return self[cls]

    def children(self, cid: int) -> list[LabelClass]:
        self[cid]
        return [c for c in self._classes.values() if c.parent == cid]

    def descendants(self, cid: int) -> list[LabelClass]:
        out, todo = [], [cid]
        while todo:
            kids = self.children(todo.pop())
            out.extend(kids)
            todo.extend(k.id for k in kids)
        return out

    def ancestors(self, cid: int) -> list[LabelClass]:
        """Parent, grandparent, ... up to the root (nearest first)."""
        out = []
        c = self[cid]
        while c.parent is not None:
            c = self[c.parent]
            out.append(c)
        return out

    def root(self, cid: int) -> LabelClass:
        anc = self.ancestors(cid)
        return anc[-1] if anc else self[cid]

    def next_id(self) -> int:
        return max(self._classes, default=0) + 1

    # -- validation ------------------------------------------------------------------------
    def _validate(self, path: Any = None) -> None:
        seen_names: dict[str, int] = {}
        seen_keys: dict[str, str] = {}
        for c in self._classes.values():
            where = f"class '{c.name}'"
            if c.id <= 0:
                raise TaxonomyError(
                    "class id must be >= 1 (0 is background)",
                    path=path,
                    where=where,
                    field="id",
                    value=c.id,
                )
            if not c.name.strip():
                raise TaxonomyError(
                    "class name must not be empty",
                    path=path,
                    where=f"class {c.id}",
                    field="name",
                    value=c.name,
                )
            if c.name in seen_names:
                raise TaxonomyError(
                    f"duplicate class name (ids {seen_names[c.name]} and {c.id})",
                    path=path,
                    where=where,
                    field="name",
                    value=c.name,
                )
            seen_names[c.name] = c.id
            if c.parent is not None and c.parent not in self._classes:
                raise TaxonomyError(
                    "parent is not a class of this taxonomy",
                    path=path,
                    where=where,
                    field="parent",
                    value=c.parent,
                )
            if c.hotkey:
                if c.hotkey in seen_keys:
                    raise TaxonomyError(
                        f"hotkey already used by '{seen_keys[c.hotkey]}'",
                        path=path,
                        where=where,
                        field="hotkey",
                        value=c.hotkey,
                    )
                seen_keys[c.hotkey] = c.name
            names = set()
            for a in c.attributes:
                a.validate(where, path)
                if a.name in names:
                    raise TaxonomyError(
                        "duplicate attribute name",
                        path=path,
                        where=where,
                        field="attributes",
                        value=a.name,
                    )
                names.add(a.name)
        for c in self._classes.values():
            seen = {c.id}
            p = c.parent
            while p is not None:
                if p in seen:
                    raise TaxonomyError(
                        "the hierarchy has a cycle",
                        path=path,
                        where=f"class '{c.name}'",
                        field="parent",
                        value=c.parent,
                    )
                seen.add(p)
                p = self._classes[p].parent

    def _assign_missing_colors(self) -> None:
        used = {color_to_hex(c.color).lower() for c in self if c.color is not None}
        i = 0
        for c in self._classes.values():
            if c.color is not None:
                continue
            while True:
                cand = _hex_to_rgba(_PALETTE[i]) if i < len(_PALETTE) else _golden_color(i)
                i += 1
                if color_to_hex(cand).lower() not in used:
                    break
            c.color = cand
            used.add(color_to_hex(cand).lower())

    # -- events ----------------------------------------------------------------------------
    def connect(self, fn: Callable[..., None]) -> Callable[..., None]:
        """Call ``fn(event, **info)`` after each change (see :attr:`changed`); returns ``fn``.

        Connecting the same callback twice calls it once.
        """
        if fn not in self._adapters:

            def adapter(event: str, info: dict) -> None:
                fn(event, **info)

            self._adapters[fn] = adapter
            self.changed.connect(adapter)
        return fn

    def disconnect(self, fn: Callable[..., None]) -> None:
        """Stop calling ``fn`` (a callback given to :meth:`connect`; unknown ones are ignored)."""
        adapter = self._adapters.pop(fn, None)
        if adapter is not None:
            self.changed.disconnect(adapter)

    def add_usage_check(self, fn: Callable[[int], bool]) -> None:
        """Register ``fn(id) -> bool`` telling whether data uses a class.

        :meth:`remove` consults every check, so a class that any bound data uses cannot
        be removed without ``remap_to`` (a session registers its layers here).
        """
        if fn not in self._usage_checks:
            self._usage_checks.append(fn)

    def remove_usage_check(self, fn: Callable[[int], bool]) -> None:
        if fn in self._usage_checks:
            self._usage_checks.remove(fn)

    def in_use(self, cid: int) -> bool:
        """True when a registered usage check reports that data uses class ``cid``."""
        return any(fn(cid) for fn in list(self._usage_checks))

    def _emit(self, event: str, **info: Any) -> None:
        emit(self.changed, event, info)

    def _checked_change(self, mutate: Callable[[], None]) -> None:
        """Apply ``mutate`` and validate; roll back on error.

        The rollback restores the original class objects in place, so references that
        callers hold stay the taxonomy's classes and keep their old values.
        """
        classes = dict(self._classes)
        before = {k: {f.name: getattr(c, f.name) for f in fields(c)} for k, c in classes.items()}
        try:
            mutate()
            self._validate()
            self._assign_missing_colors()
        except Exception:
            for k, c in classes.items():
                for name, value in before[k].items():
                    setattr(c, name, value)
            self._classes = classes
            raise

    # -- editing ------------------------------------------------------------------------------
    def add(
        self,
        name: str,
        id: int | None = None,
        color: Any = None,
        parent: int | str | None = None,
        description: str = "",
        hotkey: str | None = None,
        attributes: Iterable[AttributeSpec | dict] = (),
    ) -> LabelClass:
        """Add a class; ``id`` defaults to one more than the largest id."""
        cid = self.next_id() if id is None else int(id)
        if cid in self._classes:
            raise TaxonomyError(
                "duplicate class id", where=f"class '{name}'", field="id", value=cid
            )
        d: dict[str, Any] = {"id": cid, "name": name, "description": description, "hotkey": hotkey}
        if color is not None:
            d["color"] = color if isinstance(color, str) else list(color)
        if parent is not None:
            d["parent"] = self.resolve(parent).id
        d["attributes"] = [a.to_dict() if isinstance(a, AttributeSpec) else a for a in attributes]
        lc = self._class_from_dict(d)
        self._checked_change(lambda: self._classes.__setitem__(cid, lc))
        self._emit("added", id=cid)
        return lc

    def rename(self, cls: int | str, new_name: str) -> None:
        c = self.resolve(cls)
        old = c.name
        if not isinstance(new_name, str):
            raise TaxonomyError(
                "class name must be a string", where=f"class '{old}'", field="name", value=new_name
            )

        def mutate() -> None:
            self._classes[c.id].name = new_name

        self._checked_change(mutate)
        self._emit("renamed", id=c.id, old=old, new=new_name)

    def recolor(self, cls: int | str, color: Any) -> None:
        c = self.resolve(cls)
        try:
            rgba = parse_color(color)
        except ValueError:
            raise TaxonomyError(
                "invalid colour", where=f"class '{c.name}'", field="color", value=color
            ) from None
        c.color = rgba
        self._emit("recolored", id=c.id)

    def update(self, cls: int | str, **changes: Any) -> None:
        """Change ``description``, ``hotkey``, ``parent``, ``attributes`` or ``skeleton``.

        ``skeleton`` is a :class:`~napari_labelsuite.core.objects.Skeleton`, its dict form
        (``names``, ``edges``, ``flip_pairs``) or None.
        """
        c = self.resolve(cls)
        allowed = {"description", "hotkey", "parent", "attributes", "skeleton"}
        bad = set(changes) - allowed
        if bad:
            raise TaxonomyError(
                f"only {sorted(allowed)} can be updated",
                where=f"class '{c.name}'",
                field=sorted(bad)[0],
            )
        if "parent" in changes and changes["parent"] is not None:
            changes["parent"] = self.resolve(changes["parent"]).id
        if "attributes" in changes:
            changes["attributes"] = [
                a if isinstance(a, AttributeSpec) else AttributeSpec.from_dict(a, c.name)
                for a in changes["attributes"]
            ]
        sk = changes.get("skeleton")
        if isinstance(sk, dict):
            try:
                changes["skeleton"] = Skeleton.from_dict(sk)
            except ObjectKindError as exc:
                raise exc.replace(TaxonomyError, where=f"class '{c.name}': keypoints") from None

        guideline_changed = (
            "description" in changes and str(changes["description"] or "") != c.description
        )

        def mutate() -> None:
            for k, v in changes.items():
                setattr(self._classes[c.id], k, v)

        self._checked_change(mutate)
        if guideline_changed:  # a new guideline text is a new guideline version
            self.version += 1
            c.guideline_version = self.version
        self._emit("changed", id=c.id, fields=sorted(changes))

    def bump(self, cls: int | str) -> int:
        """Mark the guideline of ``cls`` as changed: a new taxonomy version; returns it.

        Labels of that class made under an older version are then flagged by the QC
        check :func:`~napari_labelsuite.core.team.guidelines.outdated_guidelines`.
        (:meth:`update` with a new ``description`` does this by itself.)
        """
        c = self.resolve(cls)
        self.version += 1
        c.guideline_version = self.version
        self._emit("changed", id=c.id, fields=["guideline_version"])
        return self.version

    def reparent(self, cls: int | str, parent: int | str | None) -> None:
        self.update(cls, parent=parent)

    def reorder(self, ids: list[int]) -> None:
        """Put classes in the given id order (ids must be a permutation of :meth:`ids`)."""
        if sorted(ids) != sorted(self._classes):
            raise TaxonomyError(
                "reorder needs every class id exactly once", field="ids", value=ids
            )
        self._classes = {i: self._classes[i] for i in ids}
        self._emit("reordered")

    def remove(
        self,
        cls: int | str,
        remap_to: int | str | None = None,
        in_use: Callable[[int], bool] | None = None,
    ) -> None:
        """Remove a class.

        Parameters
        ----------
        remap_to : class, optional
            Where objects of the removed class go. Listeners receive ``remap_to`` so
            bound layers can relabel.
        in_use : callable, optional
            ``in_use(id) -> bool``; when it (or a check registered with
            :meth:`add_usage_check`) says True and no ``remap_to`` is given, the removal is
            refused with TaxonomyError and nothing changes.
        """
        c = self.resolve(cls)
        dst = None if remap_to is None else self.resolve(remap_to).id
        if dst == c.id:
            raise TaxonomyError(
                "cannot remap a class to itself",
                where=f"class '{c.name}'",
                field="remap_to",
                value=remap_to,
            )
        if dst is None and ((in_use is not None and in_use(c.id)) or self.in_use(c.id)):
            raise TaxonomyError(
                "class is in use; pass remap_to to move its objects",
                where=f"class '{c.name}'",
                field="remap_to",
                value=None,
            )
        # children move up to the removed class's parent, keeping the rest of the tree
        for k in self.children(c.id):
            k.parent = c.parent
        del self._classes[c.id]
        self._emit("removed", id=c.id, remap_to=dst)

    def merge(self, src: int | str, dst: int | str) -> None:
        """Merge class ``src`` into ``dst``: ``src`` disappears, its objects become ``dst``."""
        s, d = self.resolve(src), self.resolve(dst)
        if s.id == d.id:
            raise TaxonomyError(
                "cannot merge a class into itself",
                where=f"class '{s.name}'",
                field="dst",
                value=dst,
            )
        for k in self.children(s.id):
            # a child above dst in the tree moves up instead, so no cycle forms
            above = k.id == d.id or d.id in {x.id for x in self.descendants(k.id)}
            k.parent = s.parent if above else d.id
        del self._classes[s.id]
        self._emit("merged", id=s.id, remap_to=d.id)

    # -- interchange ------------------------------------------------------------------------
    def colormap(self, background: Any = (0.0, 0.0, 0.0, 0.0)) -> dict[Any, Any]:
        """``{None: transparent, 0: background, id: rgba}`` for napari's DirectLabelColormap."""
        cmap: dict[Any, Any] = {None: np.zeros(4), 0: np.asarray(parse_color(background))}
        for c in self:
            cmap[c.id] = np.asarray(c.color, dtype=float)
        return cmap

    # COCO and YOLO class lists: thin wrappers over the formats that use them
    def to_coco(self) -> list[dict[str, Any]]:
        """COCO ``categories`` (see ``formats.coco.coco_categories``)."""
        from .formats.coco import coco_categories

        return coco_categories(self)

    @classmethod
    def from_coco(cls, categories: list[dict[str, Any]], path: Any = None) -> Taxonomy:
        """Build from COCO ``categories`` (see ``formats.coco.taxonomy_from_coco``)."""
        from .formats.coco import taxonomy_from_coco

        return taxonomy_from_coco(categories, path=path)

    def to_yolo_names(self) -> dict[int, str]:
        """YOLO ``names`` (see :func:`~napari_labelsuite.core.formats.yolo.yolo_names`)."""
        from .formats.yolo import yolo_names

        return yolo_names(self)

    def yolo_index_to_id(self) -> dict[int, int]:
        from .formats.yolo import yolo_index_to_id

        return yolo_index_to_id(self)

    def id_to_yolo_index(self) -> dict[int, int]:
        from .formats.yolo import id_to_yolo_index

        return id_to_yolo_index(self)

    def copy(self) -> Taxonomy:
        return Taxonomy.from_dict(self.to_dict())

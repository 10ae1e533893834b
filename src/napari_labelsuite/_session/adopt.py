"""Session part: layers that arrive with labelling meaning are adopted, not ignored.

A layer opened from one of the plugin's samples or stores carries
``metadata["labelsuite"]``: its role (``semantic``, ``instances``, ``boxes``) and the class
list it was drawn with (``"taxonomy"``, a :meth:`Taxonomy.to_dict`). When such a layer enters
the viewer (File > Open Sample, File > Open, a script's ``viewer.add_labels``) the session
adopts it: the classes it brings join the session's taxonomy and the layer is bound to it
under its role. A class id found in a semantic mask but missing from the taxonomy can be
added as a new class (:meth:`AdoptMixin.missing_classes`, :meth:`AdoptMixin.add_missing_classes`).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..core.errors import LabelsuiteError, TaxonomyError
from ..core.taxonomy import Taxonomy
from .layers import META_KEY, ROLES, role_of

__all__ = ["AdoptMixin"]

#: largest mask (in elements) whose class ids are looked up on the GUI thread
_MAX_SCAN = 64 * 2**20


class AdoptMixin:
    """Adopt the taxonomy and role that layers bring with them."""

    def _init_mixin(self) -> None:
        self._adopted: weakref.WeakSet = weakref.WeakSet()
        viewer = self.viewer  # type: ignore[attr-defined]
        if viewer is not None:
            # napari keeps a weak reference to a bound method: the viewer does not keep
            # the session alive
            viewer.layers.events.inserted.connect(self._on_layer_inserted)

    def _on_layer_inserted(self, event: Any) -> None:
        from napari.utils.notifications import show_warning

        try:
            self.adopt_layer(event.value)
        except LabelsuiteError as exc:
            show_warning(f"layer '{event.value.name}' was not bound to the taxonomy: {exc}")

    def adopt_layers(self) -> list[Any]:
        """Adopt every layer of the viewer that carries labelsuite metadata (see module doc).

        Returns the layers adopted by this call. Every layer is tried; the first error (a
        class conflict) is raised after the others were adopted.
        """
        adopted, errors = [], []
        for layer in list(self.layers):  # type: ignore[attr-defined]
            try:
                if self.adopt_layer(layer):
                    adopted.append(layer)
            except LabelsuiteError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        return adopted

    def adopt_layer(self, layer: Any) -> bool:
        """Adopt one layer: merge the taxonomy it carries, bind it under its role.

        Without an active class, the first class becomes active (ready to paint).

        Classes of the layer's taxonomy whose id the session lacks are added (all of them
        when the session has no class yet). A class whose id exists under another name is
        left as it is and reported with a :class:`TaxonomyError`, after the other classes
        were merged. Returns True when the layer was adopted, False when it carries nothing
        to adopt or was adopted before.
        """
        info = (getattr(layer, "metadata", None) or {}).get(META_KEY)
        if not isinstance(info, dict) or layer in self._adopted:
            return False
        carried = info.get("taxonomy")
        if carried is None:  # layers the session made itself carry no class list
            return False
        role = role_of(layer)
        self._adopted.add(layer)
        incoming = carried if isinstance(carried, Taxonomy) else Taxonomy.from_dict(carried)
        added, conflicts = self._merge_taxonomy(incoming)
        if role in ROLES:
            self.manage_layer(layer, role)  # type: ignore[attr-defined]
        tax = self.taxonomy  # type: ignore[attr-defined]
        if self.active_class is None and len(tax):  # type: ignore[attr-defined]
            self.set_active_class(tax.ids()[0])  # type: ignore[attr-defined]
        self._record(  # type: ignore[attr-defined]
            "adopt_layer", layer=layer.name, role=role, added_classes=added
        )
        if conflicts:
            raise TaxonomyError(
                "the layer's classes differ from the taxonomy under the same id; "
                "the session's classes were kept",
                where=f"layer '{layer.name}'",
                field="taxonomy",
                value=conflicts,
            )
        return True

    def _merge_taxonomy(self, incoming: Taxonomy) -> tuple[list[int], list[str]]:
        """Add the classes of ``incoming`` the session lacks; (added ids, conflicts)."""
        tax: Taxonomy = self.taxonomy  # type: ignore[attr-defined]
        if not len(tax):
            self.set_taxonomy(incoming.copy())  # type: ignore[attr-defined]
            return incoming.ids(), []
        added, conflicts = [], []
        for c in incoming:
            if c.id in tax:
                if tax[c.id].name != c.name:
                    conflicts.append(f"{c.id}: {c.name!r} vs {tax[c.id].name!r}")
                continue
            d = c.to_dict()
            parent = d.get("parent")
            tax.add(
                c.name,
                id=c.id,
                color=c.color,
                parent=parent if parent in tax else None,
                description=c.description,
                hotkey=None if c.hotkey in self.class_hotkeys() else c.hotkey,  # type: ignore[attr-defined]
                attributes=c.attributes,
            )
            added.append(c.id)
        return added, conflicts

    # -- class ids in the data that the taxonomy lacks -------------------------------------
    def missing_classes(self, source: Any = None) -> list[int]:
        """Class ids present in a semantic layer (default the active one) but not in the taxonomy.

        Only in-memory masks are scanned (a lazy or multiscale mask gives ``[]``: its ids
        are checked chunk by chunk when it is labelled).
        """
        if source is None:
            source = self.semantic  # type: ignore[attr-defined]
        if source is None:
            return []
        data = getattr(source, "data", source)
        if getattr(source, "multiscale", False) or not isinstance(data, np.ndarray):
            return []
        if data.size > _MAX_SCAN or data.dtype == bool:
            return []
        ids = np.unique(data)
        tax = self.taxonomy  # type: ignore[attr-defined]
        return [int(i) for i in ids if i > 0 and int(i) not in tax]

    def add_missing_classes(self, ids: list[int]) -> list[int]:
        """Add a class named ``class <id>`` for each id (kept as is), as one taxonomy change.

        Returns the ids added (ids already in the taxonomy are skipped).
        """
        tax = self.taxonomy  # type: ignore[attr-defined]
        added = []
        for cid in sorted({int(i) for i in ids}):
            if cid in tax:
                continue
            if cid <= 0:
                raise TaxonomyError("class ids start at 1", field="id", value=cid)
            tax.add(f"class {cid}", id=cid)
            added.append(cid)
        if added:
            self._record("add_missing_classes", ids=added)  # type: ignore[attr-defined]
        return added

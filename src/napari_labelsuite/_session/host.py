"""The host protocol: what the session parts (mixins) may use of each other.

:class:`~napari_labelsuite.LabelSession` is assembled from one mixin per feature. A mixin
calls into the others only through the names declared on :class:`SessionHost`, so a type
checker can follow every ``self.<name>`` inside a mixin. A mixin subclasses
:data:`SessionPart`, which is :class:`SessionHost` for the type checker and ``object`` at
run time (the protocol adds nothing to the class)::

    from .host import SessionPart

    class ClassifierMixin(SessionPart):
        def train(self) -> None:
            layer = self._require("semantic")
            self._record("train_classifier", layer=layer.name)

A new shared name goes here first (with its type), then into the part that defines it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    import napari
    from napari.components import LayerList
    from psygnal import SignalInstance

    from ..core.store import MaskStore
    from ..core.taxonomy import Taxonomy
    from .events import LegacyListeners

__all__ = ["SessionHost", "SessionPart"]


class SessionHost(Protocol):
    """Names every session part may rely on (defined by ``LabelSession`` or a part)."""

    # -- LabelSession (session.py) -----------------------------------------------------------
    user: str
    _history: list[dict[str, Any]]
    _taxonomy: Taxonomy | None
    _legacy_listeners: LegacyListeners
    provenance_recorded: SignalInstance
    taxonomy_changed: SignalInstance

    @property
    def viewer(self) -> napari.Viewer | None: ...
    @property
    def headless(self) -> bool: ...
    @property
    def layers(self) -> LayerList: ...
    @property
    def taxonomy(self) -> Taxonomy: ...
    @taxonomy.setter
    def taxonomy(self, value: Any) -> None: ...

    def require_viewer(self) -> napari.Viewer: ...
    def _record(self, action: str, **params: Any) -> dict[str, Any]: ...
    def _replace_taxonomy(self, tax: Taxonomy, mapping: dict[int, int], force: bool) -> None: ...

    # -- layers (LayersMixin) -----------------------------------------------------------------
    @property
    def semantic(self) -> Any: ...
    @property
    def instances(self) -> Any: ...
    @property
    def boxes(self) -> Any: ...
    @property
    def image(self) -> Any: ...

    active_class_changed: SignalInstance
    layers_of_role: Any
    add_semantic_layer: Any
    add_instance_layer: Any
    add_boxes_layer: Any
    objects: Any
    set_objects: Any
    boxes_list: Any
    next_instance_id: Any
    to_annotation: Any
    load_annotation: Any
    _require: Any
    _check_objects: Any
    add_class: Any
    _active_of_role: Any
    _bind_instances: Any
    _bind_boxes: Any
    _bind_layer: Any
    active_class: Any
    _box_indices: Any
    _check_taxonomy_swap: Any
    _select: Any

    # -- instances (InstancesMixin) ---------------------------------------------------------------
    instance_target: Any
    _apply_edit: Any

    # -- store (StoreMixin) -------------------------------------------------------------------
    @property
    def store(self) -> MaskStore | None: ...

    _regions: dict[str, Any]
    open_store: Any
    save_store: Any
    close_store: Any
    store_has_unsaved_edits: Any
    _require_store: Any

    # -- dataset (DatasetMixin) ---------------------------------------------------------------
    @property
    def dataset(self) -> Any: ...
    @property
    def index(self) -> int | None: ...
    @property
    def current(self) -> Any: ...

    _index: int | None
    goto: Any
    _require_dataset: Any
    _show: Any
    save_current: Any

    # -- effort log (EffortMixin) -------------------------------------------------------------
    effort: Any
    _watch_effort: Any

    _log_effort: Any  # (route, action, *, count, pixels, layer, object_id, class_id, ...)

    # -- rotated boxes and keypoints (ObjectsMixin) ------------------------------------------
    rotated_boxes_list: Any
    keypoints_list: Any
    _skeleton_of: Any


if TYPE_CHECKING:
    SessionPart = SessionHost
else:
    SessionPart = object

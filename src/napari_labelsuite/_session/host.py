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
    import pandas as pd
    from napari.components import LayerList
    from napari.layers import Image, Labels, Layer, Shapes
    from psygnal import SignalInstance

    from ..core.annotation import Box, ImageAnnotation, ObjectInfo
    from ..core.dataset import Dataset, DatasetItem
    from ..core.store import MaskStore, SaveReport
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
    def semantic(self) -> Labels | None: ...
    @property
    def instances(self) -> Labels | None: ...
    @property
    def boxes(self) -> Shapes | None: ...
    @property
    def image(self) -> Image | None: ...

    active_class_changed: SignalInstance

    def layers_of_role(self, role: str) -> list[Layer]: ...

    add_semantic_layer: Any
    add_instance_layer: Any
    add_boxes_layer: Any
    objects: Any

    def set_objects(self, objects: dict[int, ObjectInfo], layer: Any = None) -> None: ...
    def boxes_list(self, layer: Any = None) -> list[Box]: ...
    def next_instance_id(self, layer: Any = None) -> int: ...
    def to_annotation(self, image_name: str | None = None) -> ImageAnnotation: ...

    load_annotation: Any
    _require: Any

    def _check_objects(self, objects: dict[int, ObjectInfo]) -> None: ...

    add_class: Any
    _active_of_role: Any

    def _bind_instances(self, layer: Any, objects: dict[int, Any] | None = None) -> None: ...
    def _bind_boxes(self, layer: Any, frame: pd.DataFrame | None = None) -> None: ...
    def _bind_layer(self, layer: Any) -> None: ...

    active_class: Any

    def _box_indices(self, layer: Any, indices: Any) -> list[int]: ...

    _check_taxonomy_swap: Any

    def _select(self, layer: Any) -> None: ...

    # -- instances (InstancesMixin) ---------------------------------------------------------------
    instance_target: Any
    _apply_edit: Any

    def _data_id_top(self, layer: Any, progress: Any = None) -> int: ...
    def _prime_id_top(self, layer: Any) -> None: ...

    # -- object kinds (ObjectsMixin) ----------------------------------------------------------
    add_rotated_boxes_layer: Any
    add_keypoints_layer: Any
    polygons_from_instances: Any
    polygons_mask: Any
    _polygons_mask_ids: Any
    polygons_from_annotation: Any
    _adopt_object_layer: Any
    add_polygons_layer: Any
    _polygons_layer: Any

    # -- store (StoreMixin) -------------------------------------------------------------------
    @property
    def store(self) -> MaskStore | None: ...

    _regions: dict[str, Any]
    open_store: Any

    def save_store(self) -> SaveReport: ...
    def close_store(self, save: bool = False) -> None: ...
    def store_has_unsaved_edits(self) -> bool: ...
    def _require_store(self) -> MaskStore: ...

    # -- dataset (DatasetMixin) ---------------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None: ...
    @property
    def index(self) -> int | None: ...
    @property
    def current(self) -> DatasetItem | None: ...

    _index: int | None

    def goto(self, i: int, *, save: bool = True) -> DatasetItem: ...
    def _require_dataset(self) -> Dataset: ...
    def _show(self, j: int) -> None: ...
    def save_current(self, *, force: bool = False) -> str | None: ...
    def _object_kinds_into(self, ann: ImageAnnotation) -> ImageAnnotation: ...
    def _check_object_kinds(self, ann: ImageAnnotation) -> None: ...
    def _show_object_kinds_of(self, ann: ImageAnnotation) -> list: ...

    # -- effort log (EffortMixin) -------------------------------------------------------------
    effort: Any

    def _watch_effort(self, layer: Any) -> None: ...

    _log_effort: Any  # (route, action, *, count, pixels, layer, object_id, class_id, ...)
    _effort_quiet: Any  # context manager: layer events inside are not hand edits
    _paint_hooks: dict[int, Any]  # id(instance layer) -> its "new painted id" listener

    # -- rotated boxes and keypoints (ObjectsMixin) ------------------------------------------
    rotated_boxes_list: Any
    keypoints_list: Any
    polygons_list: Any
    _skeleton_of: Any


if TYPE_CHECKING:
    SessionPart = SessionHost
else:
    SessionPart = object

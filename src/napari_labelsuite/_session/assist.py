"""Session part: assisted labeling (click, box and wand objects) on the instance layer.

Every accepted object is one new instance of the active (or given) class, written through
``Labels.data_setitem`` inside ``block_history`` (one Ctrl-Z removes it, its table row
too), one provenance entry and one effort-log entry. The *candidate* (the click mode's
preview) is session state too, so the console can do what the Assist dock does:
``assist_click`` / ``assist_box`` build it, ``accept_candidate`` / ``discard_candidate``
end it.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._napari_compat import fit_partial_label_updates, recolor_labels
from ..core import assist as core
from ..core.annotation import ObjectInfo
from ..core.errors import AssistError, SessionError
from .host import SessionPart
from .instances import _TableUndo
from .layers import _layer_data, role_of

Window = tuple[slice, ...]


@dataclass
class Candidate:
    """The object being built in click mode: its prompts and the current mask."""

    points: list[list[float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    box: tuple[float, float, float, float] | None = None
    plane: tuple[int, ...] | None = None
    window: Window | None = None
    mask: np.ndarray | None = None
    latency_ms: float = 0.0
    #: the image's channel axis the prompts were given with (None: from the metadata)
    channel_axis: int | None = None

    @property
    def n_prompts(self) -> int:
        return len(self.points) + (1 if self.box is not None else 0)


class AssistMixin(SessionPart):
    """Promptable segmentation, magic wand and box tools that add instances."""

    def _init_mixin(self) -> None:
        self._assist_engine: Any = None
        self._assist_encoded: dict[tuple[int, int | None, tuple[int, ...]], Any] = {}
        self._candidate: Candidate | None = None
        self._assist_listeners: list[Callable[[], None]] = []
        #: (store, its full-resolution image): one array object per open store
        self._assist_store_image: tuple[Any, Any] | None = None
        #: "auto" (the metadata decides), None (no channel axis) or an axis of the image
        self._assist_channel_setting: int | str | None = "auto"
        #: the image layers the assist reads (None: the first Image layer and its channels)
        self._assist_image_layers: list[Any] | None = None
        #: the split-channel layers read as one array (kept: encodings are keyed by it)
        self._assist_stack: _ChannelStack | None = None

    # -- engine ----------------------------------------------------------------------------
    @property
    def assist_engine(self) -> Any:
        """The segmentation engine (a :class:`~napari_labelsuite.core.assist.ClassicalEngine`
        until :meth:`set_assist_engine` chooses another)."""
        if self._assist_engine is None:
            self._assist_engine = core.ClassicalEngine()
        return self._assist_engine

    def set_assist_engine(
        self,
        engine: Any = "classical",
        *,
        encoder: Any = None,
        decoder: Any = None,
        cache_dir: Any = None,
        tile: int = 1024,
        halo: int = 128,
    ) -> Any:
        """Use ``"classical"``, ``"onnx"`` (SAM-family ``encoder``/``decoder`` files, else
        the ``LABELSUITE_SAM_*`` environment variables) or an engine object."""
        if isinstance(engine, str) and engine in ("onnx", "onnx-sam"):
            eng: Any = core.SamOnnxEngine(
                encoder, decoder, cache_dir=cache_dir, tile=tile, halo=halo, notify=self._notice
            )
        else:
            eng = core.get_engine(engine)
        self._assist_engine = eng
        self._assist_encoded.clear()
        self._record(
            "set_assist_engine",
            engine=eng.name,
            encoder=str(encoder) if encoder else None,
            decoder=str(decoder) if decoder else None,
        )
        self._assist_changed()
        return eng

    def _notice(self, message: str) -> None:
        """Cache messages reach the user (a napari notification when there is a viewer)."""
        import warnings

        warnings.warn(message, core.EmbeddingCacheWarning, stacklevel=2)

    # -- what is segmented -----------------------------------------------------------------
    @property
    def assist_channel_axis(self) -> int | str | None:
        """The Assist channel setting: ``"auto"``, None (no channels) or an image axis.

        Used by every assist method called without ``channel_axis=``; the Assist dock's
        Channels control shows and sets it.
        """
        return self._assist_channel_setting

    def set_assist_channel_axis(self, axis: Any = "auto") -> int | str | None:
        """Say which axis of the image holds the channels, for every later prompt.

        ``"auto"`` (default): the metadata decides (see :meth:`assist_image`); ``None`` (or
        ``"none"``): the image has no channel axis; an int: that axis of the image layer.
        An explicit ``channel_axis=`` of a method call still wins over this setting.
        """
        if isinstance(axis, str) and axis.strip().lower() in ("auto", "none"):
            value: int | str | None = None if axis.strip().lower() == "none" else "auto"
        elif axis is None:
            value = None
        else:
            try:
                value = int(axis)
                ok = float(axis) == value and not isinstance(axis, bool)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise AssistError(
                    'the channel axis must be "auto", None or an axis number',
                    field="channel_axis",
                    value=axis,
                )
        self._assist_channel_setting = value
        self._record("set_assist_channel_axis", channel_axis=value)
        self._assist_changed()
        return value

    @property
    def assist_image_layers(self) -> list[Any] | None:
        """The image layers chosen with :meth:`set_assist_image_layers` (None: automatic)."""
        return None if self._assist_image_layers is None else list(self._assist_image_layers)

    def set_assist_image_layers(self, layers: Any = None) -> list[Any] | None:
        """Read the image from these Image layers (layers or names), one channel each.

        Several layers are the channels of one image, in this order (napari's
        ``add_image(data, channel_axis=...)`` shows a stack as one layer per channel): they
        need the same data shape, scale and translate, and no RGB. One layer: the image
        prompts run on (its channels as the channel setting says). None: automatic (the
        first Image layer, with its sibling channel layers, see :meth:`assist_image`; one
        chosen layer is read alone).
        """
        if layers is None:
            chosen = None
        else:
            if isinstance(layers, str) or hasattr(layers, "data"):
                layers = [layers]
            chosen = [self._image_layer_named(la) for la in layers]
            if not chosen:
                raise AssistError(
                    "give at least one image layer (None: automatic)", field="layers", value=[]
                )
            if len(chosen) > 1:
                _check_channel_layers(chosen)
        self._assist_image_layers = chosen
        self._record(
            "set_assist_image_layers",
            layers=None if chosen is None else [la.name for la in chosen],
        )
        self._assist_changed()
        return None if chosen is None else list(chosen)

    def _image_layer_named(self, layer: Any) -> Any:
        from napari.layers import Image

        if isinstance(layer, str):
            found = next((la for la in self.layers if la.name == layer), None)
            if found is None:
                raise AssistError("there is no layer of this name", field="layers", value=layer)
            layer = found
        if not isinstance(layer, Image):
            raise AssistError(
                "the assist reads Image layers only",
                where=f"layer '{getattr(layer, 'name', layer)}'",
                field="layers",
                value=type(layer).__name__,
            )
        return layer

    def assist_image(
        self, image: Any = None, channel_axis: int | None = None
    ) -> tuple[Any, int | None, Any]:
        """``(data, channel_axis, layer)`` of the image prompts run on (default: the
        layers of :meth:`set_assist_image_layers`, else the first Image layer; a multiscale
        image's full resolution).

        The channel axis is ``channel_axis`` when given, else the session's setting
        (:meth:`set_assist_channel_axis`): an axis, None (no channels), or ``"auto"``,
        where the metadata decides: an RGB layer's last axis, an axis labelled ``c`` /
        ``channel`` (``layer.axis_labels``), for a layer showing one channel of an open
        mask store's image (axes with ``c``) the store's whole image with all its
        channels, and for a stack napari shows as one layer per channel (sibling Image
        layers ``name``, ``name [1]``, ... next to each other in the layer list with the
        same data shape, scale and translate) all those layers as the channels (read
        window by window: a prompt reads only its window of each). Else (None) the size
        rules of :func:`~napari_labelsuite.core.assist.resolve_channel_axis` decide, and an
        ambiguous stack is an :class:`AssistError` asking for the channel axis.
        """
        setting = self._assist_channel_setting if channel_axis is None else channel_axis
        chosen_one = False
        if image is None and self._assist_image_layers is not None:
            chosen = self._assist_image_layers
            gone = [la.name for la in chosen if la not in self.layers]
            if gone:
                raise AssistError(
                    "an image layer chosen for the assist was removed; choose again "
                    "(set_assist_image_layers)",
                    field="layers",
                    value=gone[0],
                )
            if len(chosen) > 1:
                _check_channel_layers(chosen)
                stack = self._channel_stack(chosen)
                return stack, stack.ndim - 1, chosen[0]
            image, chosen_one = chosen[0], True
        if image is None:
            image = self.image
        if image is None:
            raise SessionError("there is no image to segment", field="image", value=None)
        if hasattr(image, "data") and hasattr(image, "rgb"):
            data = _layer_data(image)
            if setting is None:
                self._check_no_channels(data, image)
                return data, None, image
            if setting != "auto":
                return data, core.resolve_channel_axis(data.shape, None, setting), image
            if image.rgb:
                return data, data.ndim - 1, image
            stored = self._store_channels(image)
            if stored is not None:
                return stored[0], stored[1], image
            labelled = _labelled_channel_axis(image)
            if labelled is not None:
                return data, labelled, image
            siblings = [image] if chosen_one else self._channel_siblings(image)
            if len(siblings) > 1:
                stack = self._channel_stack(siblings)
                return stack, stack.ndim - 1, siblings[0]
            return data, None, image
        if setting is not None and setting != "auto":
            return image, core.resolve_channel_axis(np.shape(image), None, setting), None
        return image, None, None

    def assist_channel_summary(self) -> str:
        """What the assist reads as channels, in words (the Assist dock shows it)."""
        from ..core.errors import LabelsuiteError

        try:
            data, ch, layer = self.assist_image()
        except LabelsuiteError as exc:
            return exc.message
        if isinstance(data, _ChannelStack):
            return f"{len(data.names)} channel layers: {', '.join(data.names)}"
        shape = tuple(int(n) for n in data.shape)
        if ch is None:
            inst = self.instances
            try:
                ch = core.resolve_channel_axis(shape, inst.ndim if inst else len(shape), None)
            except AssistError:
                return f"image {shape}: which axis holds the channels? Choose it"
            if ch is None:
                return f"one channel, image {shape}"
            return f"axis {ch} by its size: {shape[ch]} channels, image {shape}"
        name = f" of '{layer.name}'" if layer is not None else ""
        return f"axis {ch}: {shape[ch]} channels{name}"

    def _check_no_channels(self, data: Any, image: Any) -> None:
        """With the channel setting None the image has the instance layer's dimensions."""
        inst = self.instances
        if inst is not None and data.ndim != inst.ndim:
            raise AssistError(
                f"Channels is 'none' but the image has shape {tuple(data.shape)} and the "
                f"instance layer {inst.ndim} dimensions: choose the channel axis",
                where=f"layer '{image.name}'",
                field="channel_axis",
                value=None,
            )

    def _channel_siblings(self, image: Any) -> list[Any]:
        """``image`` and the Image layers next to it that are its other channels."""
        from napari.layers import Image

        layers = list(self.layers)
        if image not in layers or image.rgb:
            return [image]
        base = _channel_base(image.name)
        data = _layer_data(image)

        def sibling(la: Any) -> bool:
            return (
                isinstance(la, Image)
                and not la.rgb
                and _channel_base(la.name) == base
                and tuple(_layer_data(la).shape) == tuple(data.shape)
                and np.allclose(la.scale, image.scale)
                and np.allclose(la.translate, image.translate)
            )

        i = j = layers.index(image)
        while i > 0 and sibling(layers[i - 1]):
            i -= 1
        while j + 1 < len(layers) and sibling(layers[j + 1]):
            j += 1
        return layers[i : j + 1]

    def _channel_stack(self, layers: list[Any]) -> _ChannelStack:
        """The layers as one channels-last array (the same object while they hold the
        same data, so an engine's encoding is reused)."""
        stack = self._assist_stack
        if stack is None or not stack.holds(layers):
            stack = _ChannelStack(layers)
            self._assist_stack = stack
        return stack

    def _store_channels(self, image: Any) -> tuple[Any, int] | None:
        """The open store's whole image and its ``c`` axis when ``image`` is one of the
        per-channel layers the store is shown as (None otherwise)."""
        st = self.store
        if st is None or not st.has_image:
            return None
        axes = st.image_axes()
        if "c" not in axes:
            return None
        from .store import _store_name

        name = _store_name(st.path)
        if image.name != name and not image.name.startswith(f"{name} ["):
            return None
        if self._assist_store_image is None or self._assist_store_image[0] is not st:
            self._assist_store_image = (st, st.image_levels()[0])
        full, ch = self._assist_store_image[1], axes.index("c")
        if tuple(np.delete(full.shape, ch)) != tuple(_layer_data(image).shape):
            return None
        return full, ch

    def _assist_layer(self, layer: Any = None) -> Any:
        from napari.layers import Labels

        if layer is None:
            layer = self.instances
        if not isinstance(layer, Labels):
            raise SessionError("add or select an instance layer first", field="layer", value=layer)
        return layer

    def _image_offset(self, layer: Any, img_layer: Any) -> np.ndarray:
        """Image pixel = layer pixel + offset (layers on one grid, e.g. an edit region)."""
        nd = layer.ndim
        if img_layer is None:
            return np.zeros(nd, int)
        origin = img_layer.world_to_data(layer.data_to_world(np.zeros(nd)))
        return np.round(np.asarray(origin, float)[-nd:]).astype(int)

    def _encoded_for(self, data: Any, channel_axis: int | None, view: Any) -> Any:
        key = (id(data), channel_axis, view.lead)
        enc = self._assist_encoded.get(key)
        if enc is None or getattr(enc, "view", view).image is not data:
            enc = self.assist_engine.encode(view)
            self._assist_encoded[key] = enc
        return enc

    def assist_encoding(
        self, image: Any = None, plane: Any = None, *, channel_axis: int | None = None
    ) -> Any:
        """The engine's encoding of the image (or ``plane`` of a stack), nothing computed yet.

        A model engine's encoding computes its tiles on first use: ``encoding.all_tiles()``
        lists them and ``encoding.get(i, j)`` computes (or loads) one, which is how the
        Assist dock encodes in a worker with a progress bar. Prompts on the same image and
        plane reuse it.
        """
        data, ch, _ = self.assist_image(image, channel_axis)
        pts = [] if plane is None else [[*np.atleast_1d(plane), 0, 0]]
        view, _, _ = core.prepare(data, pts, None, channel_axis=ch, plane=plane)
        return self._encoded_for(data, ch, view)

    def assist_encode(
        self,
        progress: Any = None,
        image: Any = None,
        plane: Any = None,
        *,
        channel_axis: int | None = None,
    ) -> Any:
        """Encode the image for the engine now (all tiles; ``progress(done, total)``).

        A model engine otherwise encodes the tiles a prompt needs on first use; this runs the
        whole image (or ``plane`` of a stack) ahead, e.g. in a worker thread. The classical
        engine needs no encoding.
        """
        enc = self.assist_encoding(image, plane, channel_axis=channel_axis)
        if hasattr(enc, "encode_all"):
            enc.encode_all(progress)
        return enc

    def preview_object(
        self,
        points: Any,
        point_labels: Any,
        box: Any = None,
        mask_prior: Any = None,
        *,
        plane: Any = None,
        layer: Any = None,
        image: Any = None,
        channel_axis: int | None = None,
    ) -> tuple[Window, np.ndarray]:
        """``(window, mask)`` of the object a prompt gives, in ``layer``'s pixels; no change.

        ``points`` are ``(N, layer.ndim)`` data coordinates of the instance layer; ``box`` is
        ``(x0, y0, x1, y1)`` on the plane of the points (or ``plane``); ``channel_axis``
        is the image's (default: from its metadata, see :meth:`assist_image`).
        """
        layer = self._assist_layer(layer)
        data, ch, img_layer = self.assist_image(image, channel_axis)
        off = self._image_offset(layer, img_layer)
        pts = np.asarray(points, float).reshape(-1, layer.ndim) if len(points) else points
        pts_img = pts + off if len(pts) else pts
        box_img = None
        if box is not None:
            b = np.asarray(box, float)
            box_img = (b[0] + off[-1], b[1] + off[-2], b[2] + off[-1], b[3] + off[-2])
        plane_img = None if plane is None else tuple(np.atleast_1d(plane) + off[:-2])
        view, to_points, to_prior = core.prepare(
            data, pts_img, box_img, channel_axis=ch, plane=plane_img
        )
        prior = None
        if mask_prior is not None:
            prior = _Shifted(mask_prior, off, layer.data.shape) if off.any() else mask_prior
        prompt = core.make_prompt(view, to_points(pts_img), point_labels, box_img, to_prior(prior))
        enc = self._encoded_for(data, ch, view)
        win, mask = self.assist_engine.decode(enc, prompt)
        full = view.full_window(win)
        mask = np.asarray(mask, bool).reshape(tuple(s.stop - s.start for s in full))
        return _to_layer(full, mask, off, layer.data.shape)

    # -- adding objects --------------------------------------------------------------------
    def _class_for(self, class_name: Any) -> int | None:
        if class_name is not None:
            return self.taxonomy.resolve(class_name).id
        cid = self.active_class
        if cid is None and len(self.taxonomy):
            raise SessionError(
                "choose a class first (set_active_class) or pass class_name",
                field="class_name",
                value=None,
            )
        return cid

    def _add_object(
        self,
        layer: Any,
        window: Window,
        mask: np.ndarray,
        cid: int | None,
        action: str,
        route: str,
        count: int,
        **params: Any,
    ) -> int:
        """Write ``mask`` (free pixels only) as a new instance: one undo step, one entry."""
        managed = role_of(layer) == "instances"
        # the data's ids too (read chunk-wise once on a lazy layer, then kept up to date)
        iid = self.next_instance_id(layer) if managed else self._data_id_top(layer) + 1
        window, mask = _crop_to_mask(window, mask)  # read only the object's bounding box
        current = np.asarray(layer.data[window])
        write = mask & (current == 0)
        if not write.any():
            raise AssistError(
                "the object covers no free pixels (other instances are kept)",
                where=f"layer '{layer.name}'",
                field="mask",
                value=int(mask.sum()),
            )
        idx = tuple(i + s.start for i, s in zip(np.nonzero(write), window))
        before = self.objects(layer) if managed else {}
        after = dict(before)
        undo = _TableUndo.of(self, layer)
        top = undo.top() if undo is not None else None
        if managed and cid is not None:
            attrs = {a.name: a.default_value() for a in self.taxonomy[cid].attributes}
            after[iid] = ObjectInfo(class_id=cid, attributes=attrs)
            # the table first: the paint listener then sees a known id and adds nothing.
            # The new colour must not re-slice the view (seconds on a large lazy layer):
            # the known labels keep their texture values, the object's pixels are mapped
            # by data_setitem below.
            recolor_labels(layer, lambda: self._bind_instances(layer, after))
        # the listener that gives a newly painted *selected* label a table row has nothing
        # to do (the row is bound above) and must not add one for the selected label;
        # the other paint listeners (store, undo, effort) still see the step
        if self.viewer is not None:
            # a layer larger than the GPU's largest texture: update its strided texture
            # instead of letting napari re-slice the layer on the partial update
            fit_partial_label_updates(self.viewer, layer)
        hook = self._paint_hooks.get(id(layer))
        quiet = layer.events.paint.blocker(hook) if hook is not None else nullcontext()
        with quiet, layer.block_history():
            # napari writes only the object's pixels (reads and writes the chunks of its
            # bounding box) and maps only the changed part of the view
            layer.data_setitem(idx, iid, refresh=True)
        layer.selected_label = iid + 1
        linked = self._link_box(layer, self._object_box(idx), iid, cid)
        if undo is not None:
            # one Ctrl-Z on the labels layer takes back the pixels, the row and the box
            undo.record(top, before, after, action, also=linked)
        self._record(
            action,
            layer=layer.name,
            instance_id=iid,
            class_id=cid,
            pixels=int(write.sum()),
            **params,
        )
        self._log_effort(
            route,
            "click",
            count=count,
            layer=layer,
            object_id=iid,
            class_id=cid,
            finished=True,
        )
        return iid

    @staticmethod
    def _object_box(idx: tuple[np.ndarray, ...]) -> tuple[tuple[int, ...], tuple[float, ...]]:
        lead = tuple(int(a.min()) for a in idx[:-2])
        rows, cols = idx[-2], idx[-1]
        return lead, (
            float(cols.min()),
            float(rows.min()),
            float(cols.max() + 1),
            float(rows.max() + 1),
        )

    def _link_box(self, layer: Any, bbox: Any, iid: int, cid: int | None) -> _LinkedBox | None:
        """Add the object's box to the boxes layer, when there is one of the same ndim.

        Returns what undoes and redoes that box with the object's pixels (None: no box).
        """
        boxes = self.boxes
        if boxes is None or cid is None or boxes.ndim != layer.ndim:
            return None
        from ..core.boxes import xyxy_to_napari

        plane, xyxy = bbox
        verts = np.asarray(xyxy_to_napari(xyxy, plane), float)
        self._add_linked_box(boxes, verts, iid, cid)
        return _LinkedBox(self, boxes, verts, iid, cid)

    def _add_linked_box(self, boxes: Any, verts: np.ndarray, iid: int, cid: int) -> None:
        boxes.add_rectangles([verts])
        frame = boxes.features.copy()
        frame.loc[len(frame) - 1, "class_id"] = cid
        frame.loc[len(frame) - 1, "instance_id"] = iid
        self._bind_boxes(boxes, frame)

    def _remove_linked_box(self, boxes: Any, iid: int) -> None:
        """Remove the boxes of instance ``iid`` (not a hand edit for the effort log)."""
        frame = boxes.features
        if "instance_id" not in frame:
            return
        rows = {i for i, v in enumerate(frame["instance_id"].tolist()) if v == iid}
        if not rows:
            return
        with self._effort_quiet():
            boxes.selected_data = rows
            boxes.remove_selected()
        self._bind_boxes(boxes)

    def segment_object(
        self,
        points: Any,
        point_labels: Any,
        box: Any = None,
        class_name: Any = None,
        *,
        mask_prior: Any = None,
        plane: Any = None,
        layer: Any = None,
        image: Any = None,
        channel_axis: int | None = None,
    ) -> int:
        """Segment the object a prompt points at and add it as a new instance.

        Parameters
        ----------
        points, point_labels, box, mask_prior
            As :func:`napari_labelsuite.core.assist.segment`, in the instance layer's data
            coordinates (3D: points on one plane segment that plane).
        class_name : str or int, optional
            Its class (default: the active class).
        channel_axis : int, optional
            The image's channel axis (default: from its metadata, see :meth:`assist_image`).

        Returns
        -------
        int
            The new instance id. One undo step, one provenance entry, one effort entry.
        """
        layer = self._assist_layer(layer)
        cid = self._class_for(class_name)
        t0 = time.perf_counter()
        window, mask = self.preview_object(
            points,
            point_labels,
            box,
            mask_prior,
            plane=plane,
            layer=layer,
            image=image,
            channel_axis=channel_axis,
        )
        ms = (time.perf_counter() - t0) * 1000
        n = len(np.atleast_2d(points)) if len(points) else 0
        return self._add_object(
            layer,
            window,
            mask,
            cid,
            "segment_object",
            "click-assist",
            max(n + (box is not None), 1),
            engine=self.assist_engine.name,
            points=np.asarray(points, float).tolist() if n else [],
            point_labels=np.asarray(point_labels).tolist() if n else [],
            box=None if box is None else [float(v) for v in box],
            latency_ms=round(ms, 1),
        )

    def wand(
        self,
        point: Any,
        tolerance: float,
        connectivity: int = 1,
        class_name: Any = None,
        *,
        layer: Any = None,
        image: Any = None,
        channel_axis: int | None = None,
    ) -> int:
        """Flood-fill from ``point`` (instance-layer coordinates; on the current plane of a
        stack) over pixels within ``tolerance`` and add the region as a new instance."""
        layer = self._assist_layer(layer)
        cid = self._class_for(class_name)
        data, ch, img_layer = self.assist_image(image, channel_axis)
        off = self._image_offset(layer, img_layer)
        p = np.asarray(point, float).ravel()
        if p.shape != (layer.ndim,):
            raise AssistError(
                f"point needs {layer.ndim} coordinates", field="point", value=p.tolist()
            )
        p_img = p + off
        view, to_points, _ = core.prepare(data, p_img[None], None, channel_axis=ch)
        if view.lead:
            sub: Any = _PlaneArray(view)
            sub_ch = None if view.channel_axis is None else -1
        else:
            sub, sub_ch = view.image, view.channel_axis
        win, mask = core.wand_local(
            sub, to_points(p_img[None])[0], tolerance, connectivity, channel_axis=sub_ch
        )
        full = view.full_window(win)
        mask = mask.reshape(tuple(s.stop - s.start for s in full))
        window, mask = _to_layer(full, mask, off, layer.data.shape)
        return self._add_object(
            layer,
            window,
            mask,
            cid,
            "wand",
            "wand",
            1,
            point=p.tolist(),
            tolerance=float(tolerance),
            connectivity=int(connectivity),
        )

    def box_object(
        self,
        box: Any,
        class_name: Any = None,
        *,
        plane: Any = None,
        layer: Any = None,
        channel_axis: int | None = None,
    ) -> int:
        """Add the dominant object inside ``box`` (x0, y0, x1, y1) as a new instance."""
        return self.segment_object(
            [], [], box, class_name, plane=plane, layer=layer, channel_axis=channel_axis
        )

    def snap_box(
        self, index: int | None = None, *, layer: Any = None, channel_axis: int | None = None
    ) -> tuple[float, ...]:
        """Tighten box ``index`` of the boxes layer (default: the selected one) to its object."""
        boxes = self._require("boxes", layer)
        idx = self._box_indices(boxes, None if index is None else [index])[0]
        from ..core.boxes import napari_to_xyxy, xyxy_to_napari

        xyxy, plane = napari_to_xyxy(boxes.data[idx])
        data, ch, _ = self.assist_image(None, channel_axis)
        view, _, _ = core.prepare(
            data, [], xyxy, channel_axis=ch, plane=tuple(plane) if plane else None
        )
        prompt = core.make_prompt(view, np.empty((0, view.ndim)), [], xyxy)
        win, mask = self.assist_engine.decode(self._encoded_for(data, ch, view), prompt)
        m2 = np.asarray(mask, bool).reshape(mask.shape[-2:])
        if not m2.any():
            raise AssistError("no object found inside the box", field="box", value=xyxy)
        rows = np.flatnonzero(m2.any(axis=1))
        cols = np.flatnonzero(m2.any(axis=0))
        r0, c0 = win[-2].start, win[-1].start
        new = (
            float(c0 + cols[0]),
            float(r0 + rows[0]),
            float(c0 + cols[-1] + 1),
            float(r0 + rows[-1] + 1),
        )
        shapes = list(boxes.data)
        shapes[idx] = xyxy_to_napari(new, tuple(plane))
        frame = boxes.features.copy()
        boxes.data = shapes
        self._bind_boxes(boxes, frame)
        self._record("snap_box", layer=boxes.name, index=idx, old=list(xyxy), new=list(new))
        self._log_effort("box", "box", count=1, layer=boxes, object_id=None, finished=False)
        return new

    # -- click mode: the candidate ---------------------------------------------------------
    @property
    def candidate(self) -> Candidate | None:
        """The object being built in click mode (None when there is none)."""
        return self._candidate

    def assist_click(
        self,
        point: Any,
        positive: bool = True,
        *,
        layer: Any = None,
        channel_axis: int | None = None,
    ) -> Candidate:
        """Add a click (instance-layer coordinates) to the candidate and recompute it.

        The previous candidate mask is the prior, so a new click corrects it. A
        ``channel_axis`` given with the first prompt holds for the candidate's next ones.
        """
        cand = self._candidate or Candidate(channel_axis=channel_axis)
        if channel_axis is not None:
            cand.channel_axis = channel_axis
        p = [float(v) for v in np.asarray(point, float).ravel()]
        pts = [*cand.points, p]
        labels = [*cand.labels, 1 if positive else 0]
        prior = None
        if cand.mask is not None and cand.window is not None:
            layer_ = self._assist_layer(layer)
            prior = _WindowMask(cand.window, cand.mask, layer_.data.shape)
        self._update_candidate(cand, pts, labels, cand.box, prior, layer)
        return cand

    def assist_box(
        self,
        box: Any,
        plane: Any = None,
        *,
        layer: Any = None,
        channel_axis: int | None = None,
    ) -> Candidate:
        """Set the candidate's box (x0, y0, x1, y1) and recompute it."""
        cand = self._candidate or Candidate(channel_axis=channel_axis)
        if channel_axis is not None:
            cand.channel_axis = channel_axis
        b = tuple(float(v) for v in np.asarray(box, float).ravel())
        cand.plane = None if plane is None else tuple(int(v) for v in np.atleast_1d(plane))
        self._update_candidate(cand, cand.points, cand.labels, b, None, layer)
        return cand

    def _update_candidate(
        self, cand: Candidate, pts: list, labels: list, box: Any, prior: Any, layer: Any
    ) -> None:
        t0 = time.perf_counter()
        plane = cand.plane if not pts else None
        window, mask = self.preview_object(
            np.asarray(pts, float) if pts else [],
            labels,
            box,
            prior,
            plane=plane,
            layer=layer,
            channel_axis=cand.channel_axis,
        )
        cand.latency_ms = (time.perf_counter() - t0) * 1000
        cand.points, cand.labels, cand.box = list(pts), list(labels), box
        cand.window, cand.mask = window, mask
        self._candidate = cand
        self._assist_changed()

    def accept_candidate(self, class_name: Any = None, *, layer: Any = None) -> int:
        """Add the candidate as a new instance (one undo step) and clear it."""
        cand = self._candidate
        if cand is None or cand.mask is None or cand.window is None:
            raise SessionError("there is no candidate object to accept", field="candidate")
        layer = self._assist_layer(layer)
        cid = self._class_for(class_name)
        iid = self._add_object(
            layer,
            cand.window,
            cand.mask,
            cid,
            "segment_object",
            "click-assist",
            max(cand.n_prompts, 1),
            engine=self.assist_engine.name,
            points=cand.points,
            point_labels=cand.labels,
            box=None if cand.box is None else list(cand.box),
            latency_ms=round(cand.latency_ms, 1),
        )
        self._candidate = None
        self._assist_changed()
        return iid

    def discard_candidate(self) -> None:
        """Drop the candidate (no layer changes)."""
        self._candidate = None
        self._assist_changed()

    def on_assist_changed(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` when the candidate or the engine changes (widgets use this)."""
        if fn not in self._assist_listeners:
            self._assist_listeners.append(fn)

    def disconnect_assist(self, fn: Callable[[], None]) -> None:
        if fn in self._assist_listeners:
            self._assist_listeners.remove(fn)

    def _assist_changed(self) -> None:
        for fn in list(self._assist_listeners):
            fn()


def _channel_base(name: str) -> str:
    """A layer name without napari's `` [k]`` suffix (``"img [2]"`` -> ``"img"``)."""
    import re

    m = re.fullmatch(r"(.*) \[\d+\]", name)
    return m.group(1) if m else name


def _check_channel_layers(layers: list[Any]) -> None:
    """Layers read as the channels of one image: same shape, scale, translate; no RGB."""
    first = layers[0]
    shape = tuple(_layer_data(first).shape)
    for la in layers:
        for what, ok, value in (
            ("rgb", not la.rgb, la.rgb),
            ("shape", tuple(_layer_data(la).shape) == shape, tuple(_layer_data(la).shape)),
            ("scale", np.allclose(la.scale, first.scale), tuple(la.scale)),
            ("translate", np.allclose(la.translate, first.translate), tuple(la.translate)),
        ):
            if not ok:
                raise AssistError(
                    f"channel layers need the {what} of '{first.name}' (no RGB layers)",
                    where=f"layer '{la.name}'",
                    field=what,
                    value=value,
                )


class _ChannelStack:
    """Image layers holding one channel each, read as one array with the channels last.

    Indexing reads only the requested window of each layer (numpy, zarr or dask), so a
    prompt on split-channel layers reads one window per channel.
    """

    def __init__(self, layers: list[Any]) -> None:
        self.names = tuple(la.name for la in layers)
        self._layers = tuple(weakref.ref(la) for la in layers)
        self.arrays = tuple(_layer_data(la) for la in layers)
        self.shape = (*(int(n) for n in self.arrays[0].shape), len(self.arrays))
        self.dtype = np.result_type(*(np.dtype(a.dtype) for a in self.arrays))
        self.ndim = len(self.shape)

    def holds(self, layers: list[Any]) -> bool:
        """Whether this stack is ``layers`` with the data they hold now."""
        return len(layers) == len(self._layers) and all(
            ref() is la and _layer_data(la) is a
            for ref, la, a in zip(self._layers, layers, self.arrays)
        )

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            i = key.index(Ellipsis)
            key = key[:i] + (slice(None),) * (self.ndim - len(key) + 1) + key[i + 1 :]
        key = key + (slice(None),) * (self.ndim - len(key))
        *spatial, ch = key
        picked = range(len(self.arrays))[ch]
        if isinstance(picked, int):
            return np.asarray(self.arrays[picked][tuple(spatial)])
        parts = [np.asarray(self.arrays[i][tuple(spatial)]) for i in picked]
        return np.stack(parts, axis=-1).astype(self.dtype, copy=False)


def _labelled_channel_axis(layer: Any) -> int | None:
    """The axis of an Image layer labelled as channels (``c``, ``ch``, ``channel``)."""
    labels = [str(a).strip().lower() for a in getattr(layer, "axis_labels", ()) or ()]
    hits = [i for i, a in enumerate(labels) if a in ("c", "ch", "channel", "channels")]
    return hits[0] if len(hits) == 1 else None


def _crop_to_mask(window: Window, mask: np.ndarray) -> tuple[Window, np.ndarray]:
    """``window`` and ``mask`` cut to the mask's bounding box (unchanged when it is empty)."""
    if not mask.any():
        return window, mask
    box = []
    for ax in range(mask.ndim):
        hit = np.flatnonzero(mask.any(axis=tuple(i for i in range(mask.ndim) if i != ax)))
        box.append(slice(int(hit[0]), int(hit[-1]) + 1))
    cut = tuple(slice(w.start + b.start, w.start + b.stop) for w, b in zip(window, box))
    return cut, mask[tuple(box)]


def _to_layer(
    window: Window, mask: np.ndarray, off: np.ndarray, shape: tuple[int, ...]
) -> tuple[Window, np.ndarray]:
    """An image-pixel window and mask as a window of the layer (clipped to it)."""
    out, cut = [], []
    for sl, o, n in zip(window, off, shape):
        a, b = sl.start - int(o), sl.stop - int(o)
        lo, hi = max(a, 0), min(b, n)
        if hi <= lo:
            raise AssistError("the object lies outside the instance layer", field="points")
        out.append(slice(lo, hi))
        cut.append(slice(lo - a, hi - a))
    return tuple(out), mask[tuple(cut)]


class _LinkedBox:
    """The box an accepted object added; its labels-layer undo step removes and redoes it.

    Holds the session and the boxes layer weakly: the undo history keeps neither alive.
    """

    def __init__(self, session: Any, boxes: Any, verts: np.ndarray, iid: int, cid: int) -> None:
        self._session = weakref.ref(session)
        self._boxes = weakref.ref(boxes)
        self.verts, self.iid, self.cid = verts, int(iid), int(cid)

    def __call__(self, direction: str) -> None:
        session, boxes = self._session(), self._boxes()
        if session is None or boxes is None or boxes not in session.layers:
            return
        if direction == "undo":
            session._remove_linked_box(boxes, self.iid)
        else:
            session._add_linked_box(boxes, self.verts, self.iid, self.cid)


class _Shifted:
    """A layer-pixel prior read in image pixels (a translated edit region)."""

    def __init__(self, mask: Any, off: np.ndarray, shape: tuple[int, ...]) -> None:
        self.mask, self.off = mask, off
        self.shape = tuple(int(n + o) for n, o in zip(shape, off))

    def __getitem__(self, key: Window) -> np.ndarray:
        out = np.zeros(tuple(s.stop - s.start for s in key), bool)
        src, dst = [], []
        for sl, o, n in zip(key, self.off, self.mask.shape):
            a, b = max(sl.start - o, 0), min(sl.stop - o, n)
            src.append(slice(a, max(a, b)))
            dst.append(slice(a + o - sl.start, a + o - sl.start + max(0, b - a)))
        out[tuple(dst)] = np.asarray(self.mask[tuple(src)], bool)
        return out


class _WindowMask:
    """A mask known only inside a window, readable as a full-size array."""

    def __init__(self, window: Window, mask: np.ndarray, shape: tuple[int, ...]) -> None:
        self.window, self.mask, self.shape = window, mask, tuple(shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        if any(isinstance(k, (int, np.integer)) for k in key):
            # a plane of a stack (the prior of a planar prompt)
            full = [slice(None)] * len(self.shape)
            ints = [i for i, k in enumerate(key) if isinstance(k, (int, np.integer))]
            for i, k in enumerate(key):
                full[i] = slice(int(k), int(k) + 1) if i in ints else k
            return self[tuple(full)].squeeze(axis=tuple(ints))
        sl = [k.indices(n) for k, n in zip(key, self.shape)]
        out = np.zeros(tuple(b - a for a, b, _ in sl), bool)
        src, dst = [], []
        for (a, b, _), w in zip(sl, self.window):
            lo, hi = max(a, w.start), min(b, w.stop)
            if hi <= lo:
                return out
            src.append(slice(lo - w.start, hi - w.start))
            dst.append(slice(lo - a, hi - a))
        out[tuple(dst)] = self.mask[tuple(src)]
        return out


class _PlaneArray:
    """One plane of an image view as an array with basic slicing (for the wand)."""

    def __init__(self, view: Any) -> None:
        self.view = view
        shape = list(self.view.shape)
        if view.channel_axis is not None:
            shape.append(self.view.n_channels)
        self.shape = tuple(shape)
        self.dtype = np.dtype(np.float32)
        self.ndim = len(shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = tuple(key)[: self.view.ndim]
        out = self.view.read(key)
        return out if len(self.shape) > self.view.ndim else out[..., 0]

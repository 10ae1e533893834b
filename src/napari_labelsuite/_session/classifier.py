"""Session part: the pixel classifier (scribbles -> forest -> labels) and "label next".

Workflow (each step one method; the "Classifier" dock calls the same methods)::

    s.add_scribbles_layer()             # paint strokes with the class keys
    s.train_classifier()                # features cached: retraining after a stroke is fast
    s.predict_classifier()              # preview layers: prediction + uncertainty (the view)
    s.apply_classifier()                # into the semantic layer: one undo step
    s.apply_classifier_to_store()       # or the open mask store, chunk by chunk
    s.apply_classifier_to_dataset()     # or every image of the dataset
    s.save_classifier("cells.lsclf")    # safe file (no pickle), or inside the open store
    s.suggest_next(5)                   # what to label next; next() follows the queue

The preview layers are views, not annotations (no undo, no provenance); applying a
prediction is a labeling action: one napari undo step, one provenance entry and one
effort-log entry. Each training run logs the new strokes to the effort log.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from psygnal import Signal

from .._napari_compat import camera, canvas_size
from ..core.classifier import (
    FeatureSettings,
    PixelClassifier,
    Suggestion,
    load_classifier,
    load_from_store,
    predict_to_store,
    save_classifier,
    save_to_store,
    suggest_images,
    suggest_tiles,
)
from ..core.classifier.batch import classify_item, merge_prediction
from ..core.errors import ClassifierError, SessionError
from .events import emit
from .host import SessionPart
from .layers import META_KEY, _layer_data

Region = tuple[slice, ...]
Progress = Callable[[int, int], None]

#: ``layer.metadata[META_KEY]["classifier"]`` of the layers this part owns
SCRIBBLES, PREVIEW, UNCERTAINTY = "scribbles", "prediction", "uncertainty"


def _classifier_role(layer: Any) -> str | None:
    info = (getattr(layer, "metadata", None) or {}).get(META_KEY)
    return info.get("classifier") if isinstance(info, dict) else None


def _count_strokes(scribbles: Any) -> int:
    """Connected pieces of painted pixels (a stroke is one piece)."""
    from scipy import ndimage as ndi

    data = np.asarray(scribbles)
    return int(ndi.label(data != 0)[1]) if data.any() else 0


class ClassifierMixin(SessionPart):
    """Pixel classifier trained from scribbles; suggestions of what to label next."""

    classifier_changed = Signal(object)  # the trained (or loaded) classifier
    suggestions_changed = Signal(object)  # list of suggestion dicts

    def _init_mixin(self) -> None:
        self._classifier: PixelClassifier | None = None
        self._classifier_features = FeatureSettings()
        self._strokes_trained = 0
        self._suggestions: list[dict[str, Any]] = []
        self._follow_suggestions = False

    # -- state -----------------------------------------------------------------------------
    @property
    def classifier(self) -> PixelClassifier | None:
        """The trained classifier, or None."""
        return self._classifier

    @property
    def classifier_features(self) -> FeatureSettings:
        """The feature selection the next training uses."""
        return self._classifier_features

    def set_classifier_features(
        self,
        kinds: Any = None,
        sigmas: Any = None,
    ) -> FeatureSettings:
        """Choose the features (kinds of :data:`KINDS`, scales in pixels) for training.

        The spatial dimensions and channel axis follow the image at training time.
        """
        cur = self._classifier_features
        self._classifier_features = FeatureSettings(
            kinds=tuple(kinds) if kinds is not None else cur.kinds,
            sigmas=tuple(sigmas) if sigmas is not None else cur.sigmas,
            ndim=cur.ndim,
            channel_axis=cur.channel_axis,
        )
        return self._classifier_features

    def _require_classifier(self) -> PixelClassifier:
        if self._classifier is None:
            raise SessionError("train or load a classifier first", field="classifier", value=None)
        return self._classifier

    # -- layers ----------------------------------------------------------------------------
    def _classifier_layer(self, role: str) -> Any:
        return next((ly for ly in self.layers if _classifier_role(ly) == role), None)

    @property
    def scribbles_layer(self) -> Any:
        """The Labels layer of classifier strokes, or None."""
        return self._classifier_layer(SCRIBBLES)

    def _image_data(self, image: Any = None) -> tuple[Any, int | None]:
        """(full-resolution pixels, channel axis) of ``image`` (a layer or an array)."""
        if image is None:
            image = self.image
            if image is None:
                raise SessionError("there is no image layer to classify", field="image")
        if hasattr(image, "data") and hasattr(image, "name"):
            data = _layer_data(image)
            return data, (-1 if getattr(image, "rgb", False) else None)
        return image, None

    def _spatial_shape(self, data: Any, channel_axis: int | None) -> tuple[int, ...]:
        shape = tuple(int(s) for s in data.shape)
        if channel_axis is None:
            return shape
        ax = channel_axis % len(shape)
        return shape[:ax] + shape[ax + 1 :]

    def add_scribbles_layer(
        self, layer: Any = None, *, name: str = "scribbles", image: Any = None
    ) -> Any:
        """The Labels layer for strokes, painted with the class keys (taxonomy colours).

        ``layer`` (an existing, unmanaged Labels layer of the image's shape) becomes the
        scribbles layer; otherwise the existing scribbles layer is returned, or a new one
        is added.
        """
        from napari.layers import Labels
        from napari.utils import DirectLabelColormap

        from .layers import role_of

        data, ch = self._image_data(image)
        shape = self._spatial_shape(data, ch)
        if layer is not None:
            if not isinstance(layer, Labels) or role_of(layer) or _classifier_role(layer):
                raise SessionError(
                    "scribbles must be a Labels layer that is not a class, instance or "
                    "classifier layer",
                    where=f"layer '{getattr(layer, 'name', '?')}'",
                    field="layer",
                    value=role_of(layer) or _classifier_role(layer) or type(layer).__name__,
                )
            if tuple(_layer_data(layer).shape) != shape:
                raise ClassifierError(
                    f"scribbles must have the image's spatial shape {shape}",
                    where=f"layer '{layer.name}'",
                    field="scribbles.shape",
                    value=tuple(_layer_data(layer).shape),
                )
            old = self.scribbles_layer
            if old is not None and old is not layer:
                info = dict(old.metadata.get(META_KEY) or {})
                info.pop("classifier", None)
                old.metadata = {**old.metadata, META_KEY: info}
            info = dict(layer.metadata.get(META_KEY) or {})
            info["classifier"] = SCRIBBLES
            layer.metadata = {**layer.metadata, META_KEY: info}
            if layer not in self.layers:
                self.layers.append(layer)
        else:
            found = self.scribbles_layer
            if found is not None:
                return found
            top = max(self.taxonomy.ids(), default=0)
            dtype = np.uint8 if top <= 255 else np.uint16
            layer = Labels(
                np.zeros(shape, dtype),
                name=name,
                metadata={META_KEY: {"classifier": SCRIBBLES}},
                opacity=0.8,
            )
            self.layers.append(layer)
        layer.colormap = DirectLabelColormap(color_dict=self.taxonomy.colormap())
        if self.active_class is not None:
            layer.selected_label = self.active_class
        self.active_class_changed.connect(self._follow_active_class)
        self._select(layer)
        self._record("add_scribbles_layer", name=layer.name, shape=list(shape))
        return layer

    def _follow_active_class(self, class_id: Any) -> None:
        layer = self.scribbles_layer
        if layer is not None and class_id is not None:
            layer.selected_label = int(class_id)

    # -- training --------------------------------------------------------------------------
    def _settings_for(self, data: Any, channel_axis: int | None, nd: int) -> FeatureSettings:
        if channel_axis is None and data.ndim == nd + 1:
            channel_axis = 0  # channels first, as the samples and stores hold them
        f = self._classifier_features
        return FeatureSettings(f.kinds, f.sigmas, ndim=nd, channel_axis=channel_axis)

    def train_classifier(
        self,
        image: Any = None,
        scribbles: Any = None,
        *,
        progress: Progress | None = None,
        **forest_options: Any,
    ) -> PixelClassifier:
        """Train the classifier on the strokes (all of them; call again after more).

        Parameters
        ----------
        image : Image layer or array, optional
            Default: the first Image layer (channels first, or RGB).
        scribbles : Labels layer or array, optional
            Default: the scribbles layer. 0 = not painted, else a class id of the taxonomy.
        progress : callable, optional
            ``progress(done, total)`` per block of features.
        **forest_options
            ``RandomForestClassifier`` options (a new classifier is made when they change).

        Features already computed for unchanged blocks are reused (a retrain after a new
        stroke only fits the forest). Logs the new strokes to the effort log. The same as
        :meth:`fit_classifier` (the work) followed by :meth:`use_classifier` (the record).
        """
        clf = self.fit_classifier(image, scribbles, progress=progress, **forest_options)
        return self.use_classifier(clf, scribbles=scribbles)

    def _strokes(self, scribbles: Any) -> Any:
        if scribbles is None:
            scribbles = self.scribbles_layer
            if scribbles is None:
                raise SessionError(
                    "there are no strokes: add a scribbles layer and paint",
                    field="scribbles",
                )
        return _layer_data(scribbles) if hasattr(scribbles, "name") else scribbles

    def fit_classifier(
        self,
        image: Any = None,
        scribbles: Any = None,
        *,
        progress: Progress | None = None,
        **forest_options: Any,
    ) -> PixelClassifier:
        """Train a classifier without changing the session (safe in a worker thread).

        It shares the feature cache of the current classifier when the features are the
        same. Nothing is recorded: :meth:`use_classifier` adopts the result.
        """
        data, ch = self._image_data(image)
        strokes = self._strokes(scribbles)
        settings = self._settings_for(data, ch, np.ndim(strokes))
        clf = self._classifier
        same = (
            clf is not None
            and clf.features == settings
            and all(clf.forest_options.get(k) == v for k, v in forest_options.items())
        )
        new = copy.copy(clf) if same and clf is not None else None
        if new is None:
            new = PixelClassifier(settings, **forest_options)
        new.fit(data, strokes, taxonomy=self.taxonomy, progress=progress)
        return new

    def use_classifier(self, clf: PixelClassifier, *, scribbles: Any = None) -> PixelClassifier:
        """Make ``clf`` (from :meth:`fit_classifier`) the session's classifier: one effort
        entry for the strokes added since the last training, one provenance entry."""
        strokes = self._strokes(scribbles)
        old = self._classifier
        same = old is not None and old.features == clf.features
        n_strokes = _count_strokes(strokes)
        added = max(0, n_strokes - self._strokes_trained) if same else n_strokes
        self._classifier = clf
        self._strokes_trained = n_strokes
        self._log_effort("classifier", "scribble", count=added)
        self._record(
            "train_classifier",
            classes=[] if clf.classes_ is None else [int(c) for c in clf.classes_],
            features=clf.features.to_dict(),
            scribbled_pixels={str(k): v for k, v in clf.n_scribbled_pixels_.items()},
            new_strokes=added,
        )
        emit(self.classifier_changed, clf)
        return clf

    # -- prediction ------------------------------------------------------------------------
    def view_region(self, image: Any = None, margin: int = 0) -> Region:
        """The part of the image visible in the viewer (the whole image headless), in the
        image layer's data coordinates (its scale and translation applied).

        Leading axes (z, t) are the current plane.
        """
        data, ch = self._image_data(image)
        shape = self._spatial_shape(data, ch)
        v = self.viewer
        if v is None:
            return tuple(slice(0, n) for n in shape)
        cam = camera(v)
        size = canvas_size(v, default=(800, 800))
        zoom = max(float(cam.zoom), 1e-6)
        cy, cx = float(cam.center[-2]), float(cam.center[-1])
        hy, hx = size[0] / zoom / 2 + margin, size[1] / zoom / 2 + margin
        layer = self.image if image is None else image
        if not hasattr(layer, "world_to_data"):
            layer = None
        nd = layer.ndim if layer is not None else len(shape)
        corners = []
        for y, x in ((cy - hy, cx - hx), (cy + hy, cx + hx)):
            world = [float(p) for p in list(v.dims.point)[-nd:]]
            world[-2:] = [y, x]
            data_pt = layer.world_to_data(world) if layer is not None else world
            corners.append([float(c) for c in data_pt][-len(shape) :])
        lead = []
        for p, n in zip(corners[0][:-2], shape[:-2]):
            z = int(np.clip(round(p), 0, n - 1))
            lead.append(slice(z, z + 1))
        (y0f, x0f), (y1f, x1f) = corners[0][-2:], corners[1][-2:]
        y0, y1 = int(np.floor(min(y0f, y1f))), int(np.ceil(max(y0f, y1f)))
        x0, x1 = int(np.floor(min(x0f, x1f))), int(np.ceil(max(x0f, x1f)))
        h, w = shape[-2:]
        ys = slice(int(np.clip(y0, 0, h - 1)), int(np.clip(y1, 1, h)))
        xs = slice(int(np.clip(x0, 0, w - 1)), int(np.clip(x1, 1, w)))
        return (*lead, ys, xs)

    def predict_classifier(
        self, region: Region | str | None = "view", *, image: Any = None, show: bool = True
    ) -> dict[str, Any]:
        """Predict ``region`` ("view": what the viewer shows; None: the whole image).

        Returns ``{"region", "labels", "uncertainty"}``. With ``show`` the preview layers
        ("classifier prediction", "classifier uncertainty") are updated; they are views,
        not annotations. A worker calls this with ``show=False`` and hands the result to
        :meth:`show_prediction` in the GUI thread.
        """
        clf = self._require_classifier()
        data, _ = self._image_data(image)
        if isinstance(region, str):
            if region != "view":
                raise SessionError(
                    "region must be 'view', None or slices", field="region", value=region
                )
            region = self.view_region(image)
        proba = clf.predict_proba(data, region=region)
        region = region or tuple(slice(0, n) for n in proba.shape[:-1])
        result = {
            "region": tuple(region),
            "labels": clf.labels_from_proba(proba),
            "uncertainty": clf.uncertainty_from_proba(proba),
        }
        if show:
            self.show_prediction(result, image=image)
        return result

    def show_prediction(self, result: dict[str, Any], *, image: Any = None) -> None:
        """Put a prediction into the preview layers (created on first use)."""
        from napari.layers import Image, Labels
        from napari.utils import DirectLabelColormap

        data, ch = self._image_data(image)
        shape = self._spatial_shape(data, ch)
        region = result["region"]
        pred = self._classifier_layer(PREVIEW)
        if pred is None or tuple(pred.data.shape) != shape:
            if pred is not None:
                self.layers.remove(pred)
            pred = Labels(
                np.zeros(shape, result["labels"].dtype),
                name="classifier prediction",
                opacity=0.45,
                metadata={META_KEY: {"classifier": PREVIEW}},
            )
            self.layers.append(pred)
        pred.colormap = DirectLabelColormap(color_dict=self.taxonomy.colormap())
        if np.iinfo(pred.data.dtype).max < int(result["labels"].max(initial=0)):
            pred.data = pred.data.astype(result["labels"].dtype)
        pred.data[...] = 0
        pred.data[region] = result["labels"]
        pred.refresh()
        unc = self._classifier_layer(UNCERTAINTY)
        if unc is None or tuple(unc.data.shape) != shape:
            if unc is not None:
                self.layers.remove(unc)
            unc = Image(
                np.zeros(shape, np.float32),
                name="classifier uncertainty",
                colormap="magma",
                contrast_limits=(0.0, 1.0),
                blending="additive",
                opacity=0.6,
                visible=False,
                metadata={META_KEY: {"classifier": UNCERTAINTY}},
            )
            self.layers.append(unc)
        unc.data[...] = 0
        unc.data[region] = result["uncertainty"]
        unc.refresh()

    # -- applying ---------------------------------------------------------------------------
    def apply_classifier(
        self,
        region: Region | None = None,
        *,
        layer: Any = None,
        overwrite: bool = False,
        image: Any = None,
        prediction: dict[str, Any] | None = None,
    ) -> int:
        """Write the prediction of ``region`` (None: whole image) into the semantic layer.

        Only background pixels are filled unless ``overwrite`` (hand labels win). One undo
        step, one provenance entry, one effort entry. Returns the pixels changed.
        ``prediction`` (a result of :meth:`predict_classifier`, e.g. computed in a worker)
        is written instead of predicting again.
        """
        clf = self._require_classifier()
        data, ch = self._image_data(image)
        target = layer if layer is not None else self.semantic
        if target is None:
            target = self.add_semantic_layer(shape=self._spatial_shape(data, ch))
        current_all = _layer_data(target)
        if not isinstance(current_all, np.ndarray):
            raise SessionError(
                "the semantic layer is not in memory: use apply_classifier_to_store()",
                where=f"layer '{target.name}'",
                field="layer",
                value=type(current_all).__name__,
            )
        spatial = self._spatial_shape(data, ch)
        if tuple(current_all.shape) != spatial:
            raise ClassifierError(
                f"the semantic layer has shape {tuple(current_all.shape)}, the image {spatial}",
                where=f"layer '{target.name}'",
                field="shape",
                value=tuple(current_all.shape),
            )
        if prediction is not None:
            region, pred = tuple(prediction["region"]), prediction["labels"]
        else:
            region = region or tuple(slice(0, n) for n in spatial)
            pred = clf.predict(data, region=region)
        if np.iinfo(current_all.dtype).max < int(pred.max(initial=0)):
            raise ClassifierError(
                f"layer '{target.name}' cannot hold class id {int(pred.max())}",
                field="dtype",
                value=str(current_all.dtype),
            )
        current = current_all[region]
        merged = merge_prediction(current, pred, overwrite=overwrite)
        changed = np.nonzero(merged != current)
        if changed[0].size:
            idx = tuple(c + r.start for c, r in zip(changed, region))
            with target.block_history():
                target.data_setitem(idx, merged[changed].astype(current_all.dtype), refresh=False)
            target.refresh()
        n = int(changed[0].size)
        self._log_effort("classifier", "accept", count=1, layer=target)
        self._record(
            "apply_classifier",
            layer=target.name,
            region=[[r.start, r.stop] for r in region],
            overwrite=overwrite,
            pixels=n,
        )
        return n

    def apply_classifier_to_store(
        self, name: str = "classifier", *, progress: Progress | None = None
    ) -> Any:
        """Predict the open mask store's image into its label image ``name``, chunk by chunk
        (never loading the image whole), and save the store. Returns the label array."""
        clf = self._require_classifier()
        st = self._require_store()
        levels = st.image_levels()
        if not levels:
            raise SessionError("the store holds no image", path=st.path, field="image")
        la = predict_to_store(clf, levels[0], st, name, progress=progress)
        self._log_effort("classifier", "accept", count=1)
        self._record("apply_classifier_to_store", path=st.path, name=name)
        return la

    def apply_classifier_to_dataset(
        self, *, overwrite: bool = False, progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """Classify every image of the open dataset and save the results (the shown image
        is saved first and shown again); see :func:`core.classifier.batch.classify_item`."""
        clf = self._require_classifier()
        ds = self._require_dataset()
        if self._index is not None:
            self.save_current()
        reopen = getattr(self, "_store", None) is not None
        if reopen:
            self.close_store()
        out = []
        try:
            for i in range(len(ds)):
                out.append(classify_item(clf, ds, i, overwrite=overwrite))
                if progress is not None:
                    progress(i + 1, len(ds))
        finally:
            if self._index is not None:
                self._show(self._index)
        self._log_effort("classifier", "accept", count=1)
        self._record(
            "apply_classifier_to_dataset",
            images=[r["image"] for r in out],
            pixels=sum(r["pixels"] for r in out),
            overwrite=overwrite,
        )
        return out

    # -- persistence ------------------------------------------------------------------------
    def save_classifier(self, path: str | os.PathLike | None = None) -> str:
        """Write the classifier to ``path`` (a ``.lsclf`` file), or into the open mask store
        when ``path`` is None. Returns where it went."""
        clf = self._require_classifier()
        if path is None:
            st = self._require_store()
            save_to_store(clf, st)
            where = st.path
        else:
            where = str(save_classifier(clf, path))
        self._record("save_classifier", path=where)
        return where

    def load_classifier(self, path: str | os.PathLike | None = None) -> PixelClassifier:
        """Read a classifier file (or the one kept in the open store when ``path`` is None).

        Refused with a ClassifierError when its classes are not in the session's taxonomy.
        """
        if path is None:
            clf = load_from_store(self._require_store())
            where = self._require_store().path
        else:
            clf = load_classifier(path)
            where = str(path)
        unknown = [int(c) for c in clf.classes_ if int(c) not in self.taxonomy]
        if unknown and len(self.taxonomy):
            raise ClassifierError(
                "the classifier predicts classes that are not in the taxonomy",
                path=where,
                field="classes",
                value=unknown,
            )
        self._classifier = clf
        self._classifier_features = clf.features
        self._strokes_trained = 0
        self._record("load_classifier", path=where, classes=[int(c) for c in clf.classes_])
        emit(self.classifier_changed, clf)
        return clf

    # -- what to label next ------------------------------------------------------------------
    def suggest_next(
        self,
        n: int = 5,
        *,
        window: int = 256,
        tile: tuple[int, ...] | None = None,
        weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        follow: bool = True,
        progress: Progress | None = None,
    ) -> list[dict[str, Any]]:
        """Rank what to label next (:meth:`rank_next`) and make it the queue
        (:meth:`set_suggestions`). Returns the queue."""
        queue = self.rank_next(n, window=window, tile=tile, weights=weights, progress=progress)
        self.set_suggestions(queue, follow=follow)
        return self.suggestions

    def rank_next(
        self,
        n: int = 5,
        *,
        window: int = 256,
        tile: tuple[int, ...] | None = None,
        weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        progress: Progress | None = None,
    ) -> list[dict[str, Any]]:
        """Rank what to label next by uncertainty, class rarity and novelty.

        ``tile`` (for a single image) defaults to ``window`` per axis, smaller on small
        images (a quarter of each axis, at least 16).

        With a dataset of several images open, its images are ranked (images with saved
        annotations and the shown one count as labelled); otherwise the tiles of the shown
        image (tiles with strokes count as labelled). Each candidate is judged on a
        ``window`` at its centre. Returns one dict per suggestion: key (image key or tile
        index), region, score and its three parts. Changes nothing (safe in a worker
        thread).
        """
        clf = self._require_classifier()
        ds = getattr(self, "_dataset", None)
        found: list[Suggestion]
        if ds is not None and len(ds) > 1:
            images = {}
            for i, item in enumerate(ds):
                if item.kind != "image":
                    continue
                images[item.key] = ds.read_image(i)
            labelled = [item.key for i, item in enumerate(ds) if ds.has_annotation(i)]
            cur = self.current
            if cur is not None:
                labelled.append(cur.key)
            found = suggest_images(
                clf,
                images,
                labelled=labelled,
                window=window,
                n=n,
                weights=weights,
                progress=progress,
            )
        else:
            data, ch = self._image_data()
            layer = self.scribbles_layer
            strokes = None if layer is None else _layer_data(layer)
            if tile is None:  # about 4 x 4 tiles on a small image, window-sized on a big one
                spatial = self._spatial_shape(data, ch)
                tile = tuple(min(window, max(16, n // 4)) for n in spatial)
            found = suggest_tiles(
                clf,
                data,
                scribbles=strokes,
                tile=tile,
                window=window,
                n=n,
                weights=weights,
                progress=progress,
            )
        return [s.to_dict() for s in found]

    def set_suggestions(self, queue: list[dict[str, Any]], *, follow: bool = True) -> None:
        """Make ``queue`` (from :meth:`rank_next`) the "label next" queue; with ``follow``
        and a dataset, :meth:`next` walks it. One provenance entry."""
        ds = getattr(self, "_dataset", None)
        self._suggestions = [dict(q) for q in queue]
        self._follow_suggestions = bool(follow) and ds is not None and len(ds) > 1
        self._record("suggest_next", n=len(queue), keys=[q["key"] for q in queue])
        emit(self.suggestions_changed, list(self._suggestions))

    @property
    def suggestions(self) -> list[dict[str, Any]]:
        """The current "label next" queue (see :meth:`suggest_next`)."""
        return list(self._suggestions)

    def _next_suggested(self) -> int | None:
        """Dataset index of the next queued image (dropped from the queue), or None."""
        ds = getattr(self, "_dataset", None)
        if not self._follow_suggestions or ds is None:
            return None
        keys = [it.key for it in ds]
        cur = self.current
        while self._suggestions:
            key = self._suggestions.pop(0)["key"]
            if key in keys and (cur is None or key != cur.key):
                emit(self.suggestions_changed, list(self._suggestions))
                return keys.index(key)
        self._follow_suggestions = False
        emit(self.suggestions_changed, [])
        return None

    def goto_suggestion(self, k: int = 0) -> Any:
        """Show suggestion ``k``: its image (dataset), or zoom the viewer to its tile."""
        if not 0 <= k < len(self._suggestions):
            raise SessionError("no such suggestion", field="k", value=k)
        s = self._suggestions[k]
        ds = getattr(self, "_dataset", None)
        if s["region"] is None and ds is not None:
            keys = [it.key for it in ds]
            return self.goto(keys.index(s["key"]))
        v = self.viewer
        region = [tuple(r) for r in s["region"]]
        if v is not None:
            centre = [(a + b) / 2 for a, b in region]
            cam = camera(v)
            cam.center = tuple(centre[-2:])
            size = canvas_size(v, default=(800, 800))
            extent = max(region[-2][1] - region[-2][0], region[-1][1] - region[-1][0], 1)
            cam.zoom = min(size) / extent
            for axis, (a, b) in enumerate(region[:-2]):
                v.dims.set_point(axis, (a + b - 1) / 2)
        return region

    def classifier_layers(self) -> dict[str, Any]:
        """The layers of this part by role: scribbles, prediction, uncertainty (or None)."""
        return {r: self._classifier_layer(r) for r in (SCRIBBLES, PREVIEW, UNCERTAINTY)}


__all__ = ["ClassifierMixin"]

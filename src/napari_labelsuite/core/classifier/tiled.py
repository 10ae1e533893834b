"""Prediction of images larger than memory, block by block, into arrays and mask stores.

:class:`LazyPrediction` looks like a read-only array whose values are computed when a
region is read: each read computes the classifier's blocks (with their halo) that cover
the region. Writers that stream slabs (``LabelArray.write_all`` of a mask store, zarr
arrays) therefore hold one slab of labels and one block of features at a time (the
classifier's feature cache is left alone).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ClassifierError
from .features import iter_tiles

__all__ = ["LazyPrediction", "predict_into", "predict_to_store"]

Progress = Callable[[int, int], None]


class LazyPrediction:
    """Class labels (or uncertainty) of ``image``, computed on read, block by block.

    Parameters
    ----------
    clf : PixelClassifier
        A trained classifier.
    image : array-like
        numpy, zarr, dask or a mask store level; never loaded whole.
    kind : {"labels", "uncertainty"}
    progress : callable, optional
        ``progress(blocks done, blocks in the image)``.
    """

    def __init__(
        self, clf: Any, image: Any, kind: str = "labels", progress: Progress | None = None
    ) -> None:
        clf._require_trained()
        if kind not in ("labels", "uncertainty"):
            raise ClassifierError(
                "kind must be 'labels' or 'uncertainty'", field="kind", value=kind
            )
        self.clf = clf
        self.image = image
        self.kind = kind
        self.shape = clf._check_image(image)
        top = int(clf.classes_.max())
        self.dtype = np.dtype(np.float32) if kind == "uncertainty" else _dtype(top)
        self.progress = progress
        self._total = sum(1 for _ in iter_tiles(self.shape, clf._tile()))
        self.done = 0

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        region = tuple(slice(*s.indices(n)[:2]) for s, n in zip(key, self.shape))
        out = np.empty([s.stop - s.start for s in region], dtype=self.dtype)
        tiles = list(iter_tiles(out.shape, self.clf._tile()))
        blocks = [
            tuple(slice(r.start + s.start, r.start + s.stop) for r, s in zip(region, t))
            for t in tiles
        ]
        if self.kind == "labels":
            done = self.clf.iter_label_blocks(self.image, blocks, cache=False)
            for t, (_, labels) in zip(tiles, done):
                out[t] = labels
                self._step()
        else:
            for t, block in zip(tiles, blocks):
                proba = self.clf.predict_proba_block(self.image, block, cache=False)
                out[t] = self.clf.uncertainty_from_proba(proba)
                self._step()
        return out

    def _step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self._total), self._total)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[tuple(slice(0, n) for n in self.shape)]
        return out if dtype is None else out.astype(dtype)


def _dtype(top: int) -> np.dtype:
    for dt in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.uint64)


def predict_into(
    clf: Any, image: Any, out: Any, *, kind: str = "labels", progress: Progress | None = None
) -> Any:
    """Write the prediction of ``image`` into ``out`` (numpy or zarr), one block at a time.

    Blocks follow ``out``'s chunks when it has any (each chunk is written once).
    """
    lazy = LazyPrediction(clf, image, kind=kind, progress=progress)
    if tuple(out.shape) != lazy.shape:
        raise ClassifierError(
            f"the output must have the image's spatial shape {lazy.shape}",
            field="out.shape",
            value=tuple(out.shape),
        )
    chunks = getattr(out, "chunks", None)
    tile = clf._tile()
    if chunks is not None and len(chunks) == len(tile) and all(isinstance(c, int) for c in chunks):
        tile = tuple(max(c, (t // c) * c) for c, t in zip(chunks, tile))
    for region in iter_tiles(lazy.shape, tile):
        out[region] = lazy[region]
    return out


def predict_to_store(
    clf: Any,
    image: Any,
    store: Any,
    name: str = "classifier",
    *,
    role: str | None = "semantic",
    progress: Progress | None = None,
    save: bool = True,
) -> Any:
    """Predict ``image`` into the label image ``name`` of a mask store (created if missing).

    Streams chunk-aligned slabs (see ``LabelArray.write_all``), so memory stays at one slab
    of labels plus one block of features whatever the image size. With ``save`` the store
    is saved (pyramid levels included). Returns the label array.
    """
    spatial = clf._check_image(image)
    if tuple(store.shape) != spatial:
        raise ClassifierError(
            f"the store's labels have shape {tuple(store.shape)}, the image {spatial}",
            path=store.path,
            field="shape",
            value=spatial,
        )
    lazy = LazyPrediction(clf, image, progress=progress)
    if name in store.label_names():
        la = store.labels(name)
        if np.iinfo(la.dtype).max < int(clf.classes_.max()):
            raise ClassifierError(
                f"label image '{name}' cannot hold class id {int(clf.classes_.max())}",
                path=store.path,
                field="dtype",
                value=str(la.dtype),
            )
        la.write_all(lazy)
    else:
        la = store.create_labels(name, lazy.dtype, role=role, data=lazy)
    if save:
        store.save()
    return la

"""``PixelClassifier``: a random forest on pixel features, trained from scribbles.

Scribbles are a label image of the image's spatial shape: 0 where nobody painted, otherwise
the class id (of the taxonomy) painted there. Training reads the scribbles block by block,
computes features only for blocks that hold strokes (cached, so retraining after a new
stroke only computes the blocks it touched), draws at most ``max_samples_per_class`` pixels
per class and fits a scikit-learn ``RandomForestClassifier``. Prediction runs block by
block with a halo, so it never holds more than one block's features.

Labels (:meth:`PixelClassifier.predict`) skip the forest where it is not needed: the forest
first labels a coarse grid (the pixels whose coordinates are all even), and a pixel between
grid pixels takes their label without being evaluated when all its grid neighbours (in its
3 x 3 (x 3) neighbourhood) agree, each with a probability margin of at least
``coarse_margin``; every other pixel is evaluated. On the benchmark's cells a third of the
pixels are evaluated. The grid is fixed to the image's coordinates and blocks read their
neighbours one pixel beyond their edge, so the labels do not depend on the tiling (chunked
equals in-memory). ``coarse_margin=None`` evaluates every pixel (labels are then exactly the
argmax of :meth:`PixelClassifier.predict_proba`, which is always exact).
"""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..errors import ClassifierError
from .features import (
    FeatureCache,
    FeatureSettings,
    _sl,
    block_features,
    empty_pages,
    grow,
    iter_tiles,
)

__all__ = ["DEFAULT_FOREST", "PixelClassifier", "default_tile"]

#: forest of the size scikit-image's segmentation example uses (50 trees of depth 10)
DEFAULT_FOREST: dict[str, Any] = {
    "n_estimators": 50,
    "max_depth": 10,
    "n_jobs": 2,
    "random_state": 0,
}

#: pixels per run of prediction: their features (4 bytes x features) stay in cache
PREDICT_ROWS = 32_768
#: below this many training pixels the forest is fitted in one thread (the same trees:
#: scikit-learn draws every tree's seed up front), thread start-up costs more than it saves
SERIAL_FIT_ROWS = 20_000
#: default ``coarse_margin``: on the benchmark's cells 4 in a million pixels differ from
#: evaluating every pixel, a third of the pixels are evaluated
COARSE_MARGIN = 0.5

Region = tuple[slice, ...]
Progress = Callable[[int, int], None]


def default_tile(ndim: int) -> tuple[int, ...]:
    """Blocks of about a million pixels: 1024² in 2D, 64 x 128² in 3D."""
    return (1024, 1024) if ndim == 2 else (64, 128, 128)


def _label_dtype(top: int) -> np.dtype:
    for dt in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.uint64)


class PixelClassifier:
    """A pixel classifier trained from scribbles (2D, 3D, one or more channels).

    Parameters
    ----------
    features : FeatureSettings or dict, optional
        The features to compute (default: Gaussian, gradient magnitude and Hessian
        eigenvalues at scales 0.5 .. 16).
    max_samples_per_class : int
        At most this many scribbled pixels per class are used for training (drawn at
        random with ``random_state``); strokes are spatially redundant, so a sample keeps
        the accuracy and bounds the training time.
    tile : tuple of int, optional
        Block shape for feature computation and prediction (default :func:`default_tile`).
    cache_bytes : int
        Memory for cached feature blocks.
    coarse_margin : float or None
        Labels of pixels between coarse-grid pixels that agree with at least this
        probability margin (top class minus runner-up) are taken from the grid without
        evaluating the forest (see the module doc); None evaluates every pixel.
        Structures thinner than two pixels that the grid misses, inside a region the
        forest is sure about, can be lost: None is the exact choice for those.
    **forest_options
        ``RandomForestClassifier`` parameters (defaults :data:`DEFAULT_FOREST`).

    Examples
    --------
    >>> clf = PixelClassifier(features={"kinds": ["intensity", "gradient"], "sigmas": [1, 4]})
    >>> clf.fit(image, scribbles)          # doctest: +SKIP
    >>> labels = clf.predict(image)        # doctest: +SKIP
    """

    def __init__(
        self,
        features: FeatureSettings | dict[str, Any] | None = None,
        *,
        max_samples_per_class: int = 10_000,
        tile: Iterable[int] | None = None,
        cache_bytes: int = 2**30,
        coarse_margin: float | None = COARSE_MARGIN,
        **forest_options: Any,
    ) -> None:
        self.features = FeatureSettings.coerce(features)
        if int(max_samples_per_class) < 1:
            raise ClassifierError(
                "must be a positive integer",
                field="max_samples_per_class",
                value=max_samples_per_class,
            )
        self.max_samples_per_class = int(max_samples_per_class)
        self.tile = tuple(int(t) for t in tile) if tile is not None else None
        if self.tile is not None and (len(self.tile) != self.features.ndim or min(self.tile) < 1):
            raise ClassifierError(
                f"tile must give {self.features.ndim} positive sizes", field="tile", value=tile
            )
        if coarse_margin is not None:
            try:
                coarse_margin = float(coarse_margin)
            except (TypeError, ValueError) as exc:
                raise ClassifierError(
                    "coarse_margin must be a number in [0, 1] or None",
                    field="coarse_margin",
                    value=coarse_margin,
                ) from exc
            if not 0.0 <= coarse_margin <= 1.0:
                raise ClassifierError(
                    "coarse_margin must be a number in [0, 1] or None",
                    field="coarse_margin",
                    value=coarse_margin,
                )
        self.coarse_margin: float | None = coarse_margin
        self.forest_options = {**DEFAULT_FOREST, **forest_options}
        self._check_forest_options()
        self.cache = FeatureCache(cache_bytes)
        self.forest_: Any = None
        self.classes_: np.ndarray | None = None
        self.n_channels_: int | None = None
        self.taxonomy: dict[str, Any] | None = None
        self.n_training_pixels_: dict[int, int] = {}
        self.n_scribbled_pixels_: dict[int, int] = {}
        #: pixels the forest has evaluated so far (predictions add to it; with
        #: ``coarse_margin`` fewer than they label)
        self.n_evaluated_ = 0

    def _check_forest_options(self) -> None:
        from sklearn.ensemble import RandomForestClassifier

        try:
            RandomForestClassifier(**self.forest_options)
        except TypeError as exc:
            raise ClassifierError(
                f"not a RandomForestClassifier option: {exc}",
                field="forest_options",
                value=sorted(self.forest_options),
            ) from exc

    # -- state -------------------------------------------------------------------------
    @property
    def is_trained(self) -> bool:
        return self.forest_ is not None

    def _require_trained(self) -> None:
        if self.forest_ is None:
            raise ClassifierError("the classifier is not trained yet: call fit()", field="fit")

    def _tile(self) -> tuple[int, ...]:
        return self.tile or default_tile(self.features.ndim)

    def _check_image(self, image: Any, *, training: bool = False) -> tuple[int, ...]:
        spatial = self.features.spatial_shape(image.shape)
        n_ch = self.features.n_channels(image.shape)
        if not training and self.n_channels_ is not None and n_ch != self.n_channels_:
            raise ClassifierError(
                f"the classifier was trained on {self.n_channels_} channel(s)",
                field="image.channels",
                value=n_ch,
            )
        return spatial

    # -- training ----------------------------------------------------------------------
    def fit(
        self,
        image: Any,
        scribbles: Any,
        *,
        taxonomy: Any = None,
        progress: Progress | None = None,
    ) -> PixelClassifier:
        """Train on the scribbled pixels of ``image`` (all strokes; call again after more).

        Parameters
        ----------
        image : array-like
            numpy, zarr or dask; spatial axes as in the feature settings (+ channel axis).
        scribbles : array-like
            Integer labels of the spatial shape; 0 = not scribbled, else a class id.
        taxonomy : Taxonomy, optional
            When given, every scribbled id must be one of its classes; it is kept with the
            classifier (and saved with it).
        progress : callable, optional
            ``progress(done, total)`` after each block.

        Raises
        ------
        ClassifierError
            Shapes that differ, fewer than two classes, ids outside the taxonomy.
        """
        from sklearn.ensemble import RandomForestClassifier

        image = _as_array(image)
        scribbles = _as_array(scribbles)
        spatial = self._check_image(image, training=True)
        if tuple(scribbles.shape) != spatial:
            raise ClassifierError(
                f"scribbles must have the image's spatial shape {spatial}",
                field="scribbles.shape",
                value=tuple(scribbles.shape),
            )
        if np.dtype(scribbles.dtype).kind not in "uib":
            raise ClassifierError(
                "scribbles must be an integer label image",
                field="scribbles.dtype",
                value=str(scribbles.dtype),
            )
        # pass 1: which blocks hold strokes, and which classes (cheap: scribbles only)
        blocks: list[tuple[Region, np.ndarray]] = []
        counts: dict[int, int] = {}
        for region in iter_tiles(spatial, self._tile()):
            s = np.asarray(scribbles[region])
            if not s.any():
                continue
            ids, n = np.unique(s[s != 0], return_counts=True)
            for i, c in zip(ids.tolist(), n.tolist()):
                counts[int(i)] = counts.get(int(i), 0) + int(c)
            blocks.append((region, s))
        if any(i < 0 for i in counts):
            raise ClassifierError(
                "class ids must be positive", field="scribbles", value=sorted(counts)
            )
        if len(counts) < 2:
            raise ClassifierError(
                "paint strokes of at least two classes",
                field="scribbles",
                value=sorted(counts),
            )
        tax_dict = None
        if taxonomy is not None:
            unknown = [i for i in sorted(counts) if i not in taxonomy]
            if unknown:
                raise ClassifierError(
                    "scribbled class ids are not in the taxonomy",
                    field="scribbles",
                    value=unknown,
                )
            tax_dict = taxonomy.to_dict()
        # pass 2: features of scribbled pixels; a fixed random subset per class
        rng = np.random.default_rng(int(self.forest_options.get("random_state") or 0))
        keep = {c: self._draw(rng, n) for c, n in counts.items()}
        seen = dict.fromkeys(counts, 0)
        xs, ys = [], []
        for k, (region, s) in enumerate(blocks):
            mask = s != 0
            lab = s[mask]
            take = np.zeros(lab.shape, bool)
            for c in np.unique(lab).tolist():
                sel = np.flatnonzero(lab == c)
                chosen = keep[c]
                lo, hi = seen[c], seen[c] + sel.size
                seen[c] = hi
                if chosen is None:
                    take[sel] = True
                else:
                    pick = chosen[(chosen >= lo) & (chosen < hi)] - lo
                    take[sel[pick]] = True
            if take.any():
                grown_feats, grown = self._grown_features(image, region, self.cache)
                feats = grown_feats[(slice(None), *_local(region, grown))]
                xs.append(feats[:, mask][:, take].T)
                ys.append(lab[take])
            if progress is not None:
                progress(k + 1, len(blocks))
        X = np.concatenate(xs)
        y = np.concatenate(ys).astype(np.int64)
        forest = RandomForestClassifier(**self.forest_options)
        if len(y) < SERIAL_FIT_ROWS:
            forest.set_params(n_jobs=1)
        forest.fit(X, y)
        forest.set_params(n_jobs=self.forest_options.get("n_jobs"))
        self.forest_ = forest
        self.classes_ = np.asarray(forest.classes_, dtype=np.int64)
        self.n_channels_ = self.features.n_channels(image.shape)
        if tax_dict is not None:
            self.taxonomy = tax_dict
        self.n_scribbled_pixels_ = dict(sorted(counts.items()))
        self.n_training_pixels_ = {int(c): int((y == c).sum()) for c in self.classes_}
        return self

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray | None:
        """Sorted positions (in scan order) of the pixels of a class used for training."""
        if n <= self.max_samples_per_class:
            return None
        return np.sort(rng.choice(n, self.max_samples_per_class, replace=False))

    # -- prediction --------------------------------------------------------------------
    def _proba_planar(self, planes: np.ndarray) -> np.ndarray:
        """Probabilities ``(n_pixels, n_classes)`` of features given as ``(F, n_pixels)``
        or ``(F, *spatial)`` (any strides: pixels in C order; each run is copied alone).

        Exactly scikit-learn's ``predict_proba`` (the trees' leaf values summed in float64
        in tree order, divided by the number of trees), computed differently: scikit-learn
        walks every tree over all rows it is given, through joblib, and allocates each
        tree's probabilities; with a million rows the features (about 100 MB) stream from
        memory once per tree. Here runs of :data:`PREDICT_ROWS` pixels stay in cache across
        the trees, each tree only finds the leaves (``Tree.apply``, which releases the GIL)
        and their values are added in place; the runs are spread over ``n_jobs`` threads.
        """
        assert self.classes_ is not None
        n_feat, lines = planes.shape[0], planes.shape[1]
        per_line = int(np.prod(planes.shape[2:]))  # pixels in a slice of the first axis
        n = lines * per_line
        self.n_evaluated_ += n
        n_classes = len(self.classes_)
        out = np.empty((n, n_classes), dtype=np.float32)
        trees = [(e.tree_, e.tree_.value[:, 0, :n_classes]) for e in self.forest_.estimators_]
        step = max(1, PREDICT_ROWS // max(per_line, 1))

        def run(start: int) -> None:
            part = planes[:, start : start + step].reshape(n_feat, -1)
            rows = np.ascontiguousarray(part.T)
            acc = np.zeros((rows.shape[0], n_classes), np.float64)
            for tree, value in trees:
                acc += np.take(value, tree.apply(rows), axis=0)
            acc /= len(trees)
            out[start * per_line : start * per_line + rows.shape[0]] = acc

        starts = range(0, lines, step)
        workers = min(_n_workers(self.forest_options.get("n_jobs")), len(starts))
        if workers <= 1:
            for start in starts:
                run(start)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, starts))  # the tree walks release the GIL
        return out

    def _grown_features(
        self,
        image: Any,
        region: Region,
        cache: FeatureCache | None,
        *,
        store: bool = True,
        buffer: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Region]:
        """Features of ``region`` grown by one pixel (clipped at the image) and that grown
        region. The ring holds the coarse-grid neighbours of the region's edge pixels;
        training and prediction ask for the same grown blocks, so the cache serves both.
        ``store`` and a flat float32 ``buffer`` (computed features land in its start) as
        in :func:`~.features.block_features`."""
        spatial = self.features.spatial_shape(image.shape)
        grown = grow(region, 1, spatial)
        threads = _n_workers(self.forest_options.get("n_jobs"))
        out = None
        if buffer is not None:
            shape = (self.features.n_features(self.features.n_channels(image.shape)),)
            shape += tuple(g.stop - g.start for g in grown)
            out = buffer[: int(np.prod(shape))].reshape(shape)
        feats = block_features(
            image, grown, self.features, cache, threads=threads, store=store, out=out
        )
        return feats, grown

    def _proba_of(self, feats: np.ndarray) -> np.ndarray:
        """Probabilities ``(*spatial, n_classes)`` of features ``(F, *spatial)``."""
        proba = self._proba_planar(feats)  # strided views are copied run by run
        return proba.reshape(*feats.shape[1:], proba.shape[-1])

    def predict_proba_block(self, image: Any, region: Region, *, cache: bool = True) -> np.ndarray:
        """Class probabilities of the pixels of ``region``: ``(*region_shape, n_classes)``.

        Columns follow :attr:`classes_`. ``cache=False`` neither reads nor fills the feature
        cache (a pass over a whole large image would only evict the blocks worth keeping).
        """
        self._require_trained()
        feats, grown = self._grown_features(image, region, self.cache if cache else None)
        return self._proba_of(feats[(slice(None), *_local(region, grown))])

    def predict_block(self, image: Any, region: Region, *, cache: bool = True) -> np.ndarray:
        """Class-id labels of the pixels of ``region`` (see ``coarse_margin``)."""
        self._require_trained()
        feats, grown = self._grown_features(image, region, self.cache if cache else None)
        return self._labels_from_features(feats, grown, region, image)

    def _labels_from_features(
        self, feats: np.ndarray, grown: Region, region: Region, image: Any
    ) -> np.ndarray:
        """Labels of ``region`` from the features of ``grown`` (``region`` plus its ring)."""
        assert self.classes_ is not None
        dt = _label_dtype(int(self.classes_.max()))
        if self.coarse_margin is None:
            proba = self._proba_of(feats[(slice(None), *_local(region, grown))])
            return self.classes_.astype(dt)[np.argmax(proba, axis=-1)]
        index = self._coarse_label_index(
            feats, grown, region, self.features.spatial_shape(image.shape)
        )
        return self.classes_.astype(dt)[index]

    def _coarse_label_index(
        self, feats: np.ndarray, grown: Region, region: Region, spatial: tuple[int, ...]
    ) -> np.ndarray:
        """Class indices of ``region``: the coarse grid's where its pixels agree, the
        forest's own elsewhere (see the module doc)."""
        assert self.coarse_margin is not None
        # the grid: pixels of ``grown`` whose global coordinates are all even
        firsts = [g.start + g.start % 2 for g in grown]
        grid = tuple(slice(f - g.start, None, 2) for f, g in zip(firsts, grown))
        grid_proba = self._proba_of(feats[(slice(None), *grid)])
        grid_index = np.argmax(grid_proba, axis=-1)
        grid_sure = _margin(grid_proba) >= np.float32(self.coarse_margin)
        # A pixel's grid neighbours span, along each axis, its own grid index (even
        # coordinate) or that and the next (odd; only the one before at the image's end).
        # The pixels of one parity pattern form a strided slice whose neighbour boxes start
        # at a contiguous range of grid cells; a box agrees when all its cells are sure and
        # equal, found by pairing neighbouring cells axis by axis. A replicated last slice
        # makes the box at the image's end a single cell.
        nd = len(region)
        edge = [(0, 1)] * nd
        grid_index = np.pad(grid_index, edge, mode="edge")
        grid_sure = np.pad(grid_sure, edge, mode="edge")
        index = np.empty([r.stop - r.start for r in region], dtype=grid_index.dtype)
        agree = np.empty(index.shape, dtype=bool)
        for odd in itertools.product((0, 1), repeat=nd):
            pixels, cells = [], []
            for r, f, o in zip(region, firsts, odd):
                c0 = r.start + (o - r.start) % 2  # first coordinate of this parity
                count = len(range(c0, r.stop, 2))
                low = (c0 - c0 % 2 - f) // 2
                pixels.append(slice(c0 - r.start, r.stop - r.start, 2))
                cells.append(slice(low, low + count + o))  # one more cell where odd
            if any(sl.start >= sl.stop for sl in pixels):
                continue
            lab, sure = grid_index[tuple(cells)], grid_sure[tuple(cells)]
            for a in range(nd):
                if odd[a]:
                    head, tail = _sl(nd, a, slice(None, -1)), _sl(nd, a, slice(1, None))
                    sure = sure[head] & sure[tail] & (lab[head] == lab[tail])
                    lab = lab[head]
            index[tuple(pixels)] = lab
            agree[tuple(pixels)] = True if not any(odd) else sure
        need = np.nonzero(~agree)
        if need[0].size:
            offset = [r.start - g.start for r, g in zip(region, grown)]
            rows = feats[(slice(None), *(i + o for i, o in zip(need, offset)))]
            index[need] = np.argmax(self._proba_planar(rows), axis=-1)
        return index

    def iter_label_blocks(
        self, image: Any, regions: Iterable[Region], *, cache: bool = True
    ) -> Iterator[tuple[Region, np.ndarray]]:
        """``(region, labels)`` of each region in turn; the features of the next region are
        computed in a second thread while the forest labels this one.

        The cache (``cache=True``) is only read: a pass over a large image would evict the
        blocks worth keeping. Blocks it does not hold are computed into two buffers used in
        turn (touching fresh memory for every block costs as much as a tenth of the work).
        """
        self._require_trained()
        cached = self.cache if cache else None
        regions = list(regions)
        if len(regions) == 1:
            feats, grown = self._grown_features(image, regions[0], cached, store=False)
            yield regions[0], self._labels_from_features(feats, grown, regions[0], image)
            return
        spatial = self.features.spatial_shape(image.shape)
        n_feat = self.features.n_features(self.features.n_channels(image.shape))
        size = n_feat * max(
            int(np.prod([g.stop - g.start for g in grow(r, 1, spatial)])) for r in regions
        )
        buffers = [empty_pages((size,), np.float32), empty_pages((size,), np.float32)]

        def features(k: int) -> tuple[np.ndarray, Region]:
            return self._grown_features(
                image, regions[k], cached, store=False, buffer=buffers[k % 2]
            )

        with ThreadPoolExecutor(1) as pool:
            ahead = pool.submit(features, 0)
            for k, region in enumerate(regions):
                feats, grown = ahead.result()
                if k + 1 < len(regions):  # its buffer held block k - 1, labelled by now
                    ahead = pool.submit(features, k + 1)
                yield region, self._labels_from_features(feats, grown, region, image)
                del feats

    def _regions(self, image: Any, region: Region | None) -> tuple[Region, list[Region]]:
        spatial = self._check_image(image)
        if region is None:
            region = tuple(slice(0, n) for n in spatial)
        region = _clip(region, spatial)
        tiles = [
            tuple(slice(r.start + t.start, r.start + t.stop) for r, t in zip(region, tile))
            for tile in iter_tiles([r.stop - r.start for r in region], self._tile())
        ]
        return region, tiles

    def predict_proba(self, image: Any, *, region: Region | None = None) -> np.ndarray:
        """Class probabilities of every pixel (of ``region``), float32, classes last."""
        self._require_trained()
        image = _as_array(image)
        region, tiles = self._regions(image, region)
        assert self.classes_ is not None
        out = np.empty((*[r.stop - r.start for r in region], len(self.classes_)), dtype=np.float32)
        for t in tiles:
            out[_local(t, region)] = self.predict_proba_block(image, t)
        return out

    def labels_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """Class ids of the most probable class (ties: the smaller id)."""
        assert self.classes_ is not None
        dt = _label_dtype(int(self.classes_.max()))
        return self.classes_.astype(dt)[np.argmax(proba, axis=-1)]

    @staticmethod
    def uncertainty_from_proba(proba: np.ndarray) -> np.ndarray:
        """``1 - (p_first - p_second)``: 0 where the forest is sure, 1 where two classes tie."""
        if proba.shape[-1] < 2:
            return np.zeros(proba.shape[:-1], np.float32)
        return (1.0 - _margin(proba)).astype(np.float32)

    def predict(self, image: Any, *, region: Region | None = None) -> np.ndarray:
        """Class-id label image of ``image`` (or of ``region``), block by block."""
        self._require_trained()
        image = _as_array(image)
        region, tiles = self._regions(image, region)
        assert self.classes_ is not None
        dt = _label_dtype(int(self.classes_.max()))
        out = np.empty([r.stop - r.start for r in region], dtype=dt)
        for t, labels in self.iter_label_blocks(image, tiles):
            out[_local(t, region)] = labels
        return out

    def uncertainty(self, image: Any, *, region: Region | None = None) -> np.ndarray:
        """Per-pixel uncertainty in [0, 1] (see :meth:`uncertainty_from_proba`)."""
        return self.uncertainty_from_proba(self.predict_proba(image, region=region))

    # -- persistence (see io.py) ---------------------------------------------------------
    def save(self, path: Any) -> Any:
        """Write the trained classifier (forest, features, taxonomy) to ``path``."""
        from .io import save_classifier

        return save_classifier(self, path)

    @classmethod
    def load(cls, path: Any) -> PixelClassifier:
        """Read a classifier written by :meth:`save` (no pickle involved)."""
        from .io import load_classifier

        return load_classifier(path)

    def copy(self) -> PixelClassifier:
        """An independent copy (sharing nothing mutable, the cache starts empty)."""
        new = copy.copy(self)
        new.cache = FeatureCache(self.cache.max_bytes)
        new.forest_ = copy.deepcopy(self.forest_)
        return new

    def __repr__(self) -> str:
        state = "untrained" if self.classes_ is None else f"classes={self.classes_.tolist()}"
        kinds, sigmas = self.features.kinds, self.features.sigmas
        return f"PixelClassifier({state}, features={kinds}, sigmas={sigmas})"


def _margin(proba: np.ndarray) -> np.ndarray:
    """Top probability minus the runner-up (classes last; at least two classes), one
    elementwise pass per class (``np.partition`` over rows of a few values is slow)."""
    top1 = proba[..., 0].copy()
    top2 = np.full_like(top1, -np.inf)
    for c in range(1, proba.shape[-1]):
        col = proba[..., c]
        np.maximum(top2, np.minimum(top1, col), out=top2)
        np.maximum(top1, col, out=top1)
    return top1 - top2


def _n_workers(n_jobs: Any) -> int:
    """Threads for ``n_jobs`` as scikit-learn reads it (None: 1, negative: from the CPUs)."""
    if n_jobs is None:
        return 1
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return max(1, n_jobs)


def _as_array(a: Any) -> Any:
    """Arrays stay lazy; lists become numpy."""
    return a if hasattr(a, "shape") and hasattr(a, "dtype") else np.asarray(a)


def _clip(region: Region, shape: tuple[int, ...]) -> Region:
    if len(region) != len(shape):
        raise ClassifierError(f"region needs {len(shape)} slices", field="region", value=region)
    out = []
    for s, n in zip(region, shape):
        a, b, _ = s.indices(n)
        if b <= a:
            raise ClassifierError("region is empty", field="region", value=region)
        out.append(slice(a, b))
    return tuple(out)


def _local(t: Region, origin: Region) -> Region:
    return tuple(slice(a.start - o.start, a.stop - o.start) for a, o in zip(t, origin))

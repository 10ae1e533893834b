"""What to label next: rank images, or tiles of a large image, for the next strokes.

Three signals, each in [0, 1], are added with weights:

uncertainty
    Mean of ``1 - (p_first - p_second)`` over the candidate: where the forest hesitates,
    strokes change the result most.
rarity
    ``sum_k p_k * (1 - f_k)`` where ``p_k`` is the candidate's mean predicted share of class
    ``k`` and ``f_k`` the share of class ``k`` among the scribbled pixels so far: regions
    that likely hold the classes people have painted least.
novelty
    Distance of the candidate's mean feature vector (standardised) to the nearest region
    already labelled, divided by the largest such distance among the candidates.
    Candidates are picked greedily: each pick counts as labelled for the next, so the
    queue is spread out instead of holding near-duplicates.

Each candidate is judged on a window of at most ``window`` pixels per axis at its centre,
so ranking a dataset or a huge image reads only a few windows, never whole images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ClassifierError
from .features import block_features, iter_tiles

__all__ = [
    "Candidate",
    "Suggestion",
    "candidate_stats",
    "centre_window",
    "rank_candidates",
    "suggest_images",
    "suggest_tiles",
]

Region = tuple[slice, ...]


@dataclass
class Candidate:
    """What the ranking knows of one image or tile."""

    key: Any
    region: Region | None
    uncertainty: float
    class_shares: dict[int, float]
    descriptor: np.ndarray


@dataclass
class Suggestion:
    """One entry of the queue, best first."""

    key: Any
    region: Region | None
    score: float
    uncertainty: float
    rarity: float
    novelty: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "region": None if self.region is None else [[s.start, s.stop] for s in self.region],
            "score": round(self.score, 6),
            "uncertainty": round(self.uncertainty, 6),
            "rarity": round(self.rarity, 6),
            "novelty": round(self.novelty, 6),
        }


def centre_window(region: Region, window: int) -> Region:
    """The part of ``region`` at most ``window`` long per axis, centred."""
    out = []
    for s in region:
        n = s.stop - s.start
        w = min(n, int(window))
        a = s.start + (n - w) // 2
        out.append(slice(a, a + w))
    return tuple(out)


def candidate_stats(clf: Any, image: Any, region: Region, key: Any = None) -> Candidate:
    """Uncertainty, class shares and feature descriptor of ``region`` of ``image``."""
    proba = clf.predict_proba_block(image, region)
    k = proba.shape[-1]
    flat = proba.reshape(-1, k)
    unc = float(clf.uncertainty_from_proba(flat).mean())
    shares = {int(c): float(v) for c, v in zip(clf.classes_, flat.mean(0))}
    feats = block_features(image, region, clf.features, clf.cache)  # cached by the line above
    desc = feats.reshape(feats.shape[0], -1).mean(1).astype(np.float64)
    return Candidate(key, region, unc, shares, desc)


def rank_candidates(
    candidates: list[Candidate],
    *,
    labelled: Iterable[np.ndarray] = (),
    class_counts: Mapping[int, int] | None = None,
    n: int = 5,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> list[Suggestion]:
    """The ``n`` best candidates (see module doc), best first.

    Parameters
    ----------
    labelled : iterable of arrays
        Descriptors of regions already labelled (novelty is measured from them).
    class_counts : mapping, optional
        Scribbled pixels per class so far (rarity); all classes equally common if None.
    weights : (uncertainty, rarity, novelty)
    """
    if n < 1:
        raise ClassifierError("n must be a positive integer", field="n", value=n)
    if len(weights) != 3 or min(weights) < 0:
        raise ClassifierError(
            "weights are three non-negative numbers (uncertainty, rarity, novelty)",
            field="weights",
            value=weights,
        )
    if not candidates:
        return []
    counts = dict(class_counts or {})
    total = float(sum(counts.values()))
    rarity = []
    for c in candidates:
        r = 0.0
        for cls, p in c.class_shares.items():
            f = counts.get(cls, 0) / total if total else 1.0 / max(len(c.class_shares), 1)
            r += p * (1.0 - f)
        rarity.append(r)
    descs = np.stack([c.descriptor for c in candidates])
    done = [np.asarray(d, dtype=np.float64) for d in labelled]
    allv = np.concatenate([descs, np.stack(done)]) if done else descs
    scale = allv.std(0)
    scale[scale == 0] = 1.0
    z = descs / scale
    zl = [d / scale for d in done]
    w_u, w_r, w_n = (float(w) for w in weights)
    left = list(range(len(candidates)))
    out: list[Suggestion] = []
    while left and len(out) < n:
        if zl:
            ref = np.stack(zl)
            dist = np.sqrt(((z[left, None, :] - ref[None, :, :]) ** 2).sum(-1)).min(1)
            top = float(dist.max())
            novelty = dist / top if top > 0 else np.zeros_like(dist)
        else:
            novelty = np.ones(len(left))
        scores = [
            w_u * candidates[i].uncertainty + w_r * rarity[i] + w_n * float(novelty[j])
            for j, i in enumerate(left)
        ]
        j = int(np.argmax(scores))  # ties: the earlier candidate
        i = left.pop(j)
        c = candidates[i]
        out.append(
            Suggestion(
                c.key, c.region, float(scores[j]), c.uncertainty, rarity[i], float(novelty[j])
            )
        )
        zl.append(z[i])
    return out


def suggest_tiles(
    clf: Any,
    image: Any,
    *,
    scribbles: Any = None,
    tile: tuple[int, ...] | None = None,
    window: int = 256,
    n: int = 5,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    progress: Callable[[int, int], None] | None = None,
) -> list[Suggestion]:
    """Rank the tiles of a (large) image; tiles holding strokes count as labelled.

    The suggestion's ``key`` is the tile's index in C order, ``region`` its slices.
    """
    clf._require_trained()
    spatial = clf._check_image(image)
    tile = tuple(tile) if tile is not None else clf._tile()
    regions = list(iter_tiles(spatial, tile))
    cands: list[Candidate] = []
    labelled: list[np.ndarray] = []
    for k, region in enumerate(regions):
        win = centre_window(region, window)
        stroked = scribbles is not None and bool(np.asarray(scribbles[region]).any())
        c = candidate_stats(clf, image, win, key=k)
        c.region = region
        (labelled.append(c.descriptor) if stroked else cands.append(c))
        if progress is not None:
            progress(k + 1, len(regions))
    return rank_candidates(
        cands, labelled=labelled, class_counts=clf.n_scribbled_pixels_, n=n, weights=weights
    )


def suggest_images(
    clf: Any,
    images: Mapping[Any, Any],
    *,
    labelled: Iterable[Any] = (),
    window: int = 256,
    n: int = 5,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    progress: Callable[[int, int], None] | None = None,
) -> list[Suggestion]:
    """Rank the images of a dataset (``{key: image}``, read lazily) for labeling.

    Each image is judged on the window at its centre. Keys in ``labelled`` are not
    suggested; their descriptors anchor the novelty.
    """
    clf._require_trained()
    done = set(labelled)
    cands: list[Candidate] = []
    anchors: list[np.ndarray] = []
    for k, (key, image) in enumerate(images.items()):
        spatial = clf._check_image(image)
        region = centre_window(tuple(slice(0, s) for s in spatial), window)
        c = candidate_stats(clf, image, region, key=key)
        c.region = None
        (anchors.append(c.descriptor) if key in done else cands.append(c))
        if progress is not None:
            progress(k + 1, len(images))
    return rank_candidates(
        cands, labelled=anchors, class_counts=clf.n_scribbled_pixels_, n=n, weights=weights
    )

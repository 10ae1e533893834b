"""Deterministic synthetic data: fluorescence-like nuclei with exact ground truth.

Used by the sample data, the demo, tests and benchmarks. Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

__all__ = ["NUCLEI_CLASSES", "SyntheticCells", "make_cells_2d", "make_cells_3d"]

#: The classes used by the synthetic samples (semantic label values).
NUCLEI_CLASSES = [
    {
        "id": 1,
        "name": "nucleus",
        "color": "#E69F00",
        "hotkey": "n",
        "description": "A cell nucleus. Label every nucleus, including those cut by the image "
        "border; touching nuclei are separate instances.",
        "attributes": [
            {"name": "dividing", "kind": "bool"},
            {"name": "truncated", "kind": "bool"},
        ],
    },
    {
        "id": 2,
        "name": "cytoplasm",
        "color": "#56B4E9",
        "hotkey": "c",
        "description": "Cytoplasm around a nucleus, up to the cell boundary.",
    },
]


@dataclass
class SyntheticCells:
    """A synthetic image with its ground truth.

    Attributes
    ----------
    image : ndarray
        ``(2, *shape)`` uint16: channel 0 nuclei, channel 1 cytoplasm.
    instances : ndarray
        ``shape`` int32 ground-truth nucleus instance ids (1..n, touching objects distinct).
    semantic : ndarray
        ``shape`` uint8 class ids: 1 nucleus, 2 cytoplasm, 0 background.
    cells : ndarray
        ``shape`` int32 whole-cell instance ids (nucleus id grown into its cytoplasm).
    """

    image: np.ndarray
    instances: np.ndarray
    semantic: np.ndarray
    cells: np.ndarray

    @property
    def n_instances(self) -> int:
        return int(self.instances.max())


def _place_centres(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    radii_range,
    n_target: int,
    touch: float,
    aniso: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Random centres; many placed next to an earlier nucleus so that they touch."""
    centres: list[np.ndarray] = []
    radii: list[float] = []
    lo = np.array([r * 0 for r in shape], float)
    hi = np.array(shape, float)
    attempts = 0
    while len(centres) < n_target and attempts < n_target * 60:
        attempts += 1
        r = rng.uniform(*radii_range)
        if centres and rng.random() < 0.6:
            # a neighbour of an existing nucleus, overlapping it a little -> touching pair
            j = rng.integers(len(centres))
            direction = rng.normal(size=len(shape))
            direction /= np.linalg.norm(direction) + 1e-12
            c = centres[j] + direction * (radii[j] + r) * touch / aniso
        else:
            c = rng.uniform(lo, hi)
        if np.any(c < 0) or np.any(c >= hi):
            continue
        if centres:
            d = np.linalg.norm((np.asarray(centres) - c) * aniso, axis=1)
            if np.any(d < (np.asarray(radii) + r) * touch * 0.98):
                continue
        centres.append(c)
        radii.append(r)
    return np.asarray(centres), np.asarray(radii)


def _render(
    shape: tuple[int, ...], seed: int, n_target: int, radii_range, aniso: tuple[float, ...]
) -> SyntheticCells:
    rng = np.random.default_rng(seed)
    aniso_a = np.asarray(aniso, float)
    centres, radii = _place_centres(rng, shape, radii_range, n_target, 0.82, aniso_a)
    n = len(centres)
    # Nearest-centre assignment (power-diagram-like through scaled distances) inside the
    # union of the ellipsoids: overlapping discs become touching, separate instances.
    instances = np.zeros(shape, np.int32)
    best = np.full(shape, np.inf, np.float32)
    for k, (c, r) in enumerate(zip(centres, radii), start=1):
        ext = np.ceil(r / aniso_a).astype(int) + 1
        lo = np.maximum(np.floor(c).astype(int) - ext, 0)
        hi = np.minimum(np.floor(c).astype(int) + ext + 1, shape)
        sl = tuple(slice(a, b) for a, b in zip(lo, hi))
        grids = np.ogrid[sl]
        d2 = sum(((g - cc) * s) ** 2 for g, cc, s in zip(grids, c, aniso_a))
        d = (np.sqrt(d2) / r).astype(np.float32)
        sub_best = best[sl]
        take = (d <= 1.0) & (d < sub_best)
        sub_best[take] = d[take]
        instances[sl][take] = k
    # whole cells: grow nuclei by a few pixels into cytoplasm (no overlap)
    dist, (idx) = ndi.distance_transform_edt(instances == 0, sampling=aniso_a, return_indices=True)
    grown = instances[tuple(idx)]
    cell_r = float(np.mean(radii_range)) * 0.9
    cells = np.where(dist <= cell_r, grown, 0).astype(np.int32)
    semantic = np.zeros(shape, np.uint8)
    semantic[cells > 0] = 2
    semantic[instances > 0] = 1
    # intensities: per-nucleus brightness, smooth, camera noise
    bright = np.concatenate([[0.0], rng.uniform(0.45, 1.0, n)])
    nuc = bright[instances].astype(np.float32)
    nuc = ndi.gaussian_filter(nuc, 1.2)
    texture = ndi.gaussian_filter(rng.normal(size=shape).astype(np.float32), 2.0)
    nuc = nuc * (1 + 0.6 * texture)
    cyto = (cells > 0).astype(np.float32) * 0.35 - (instances > 0) * 0.2
    cyto = ndi.gaussian_filter(cyto, 2.5) + 0.05 * texture
    image = np.empty((2, *shape), np.uint16)
    for ch, sig in enumerate((nuc, cyto)):
        noisy = 400 + sig * 20000 + rng.normal(0, 250, size=shape).astype(np.float32)
        image[ch] = np.clip(noisy, 0, 65535).astype(np.uint16)
    return SyntheticCells(image=image, instances=instances, semantic=semantic, cells=cells)


def make_cells_2d(
    shape: tuple[int, int] = (1024, 1024), seed: int = 0, density: float = 1.0
) -> SyntheticCells:
    """A two-channel 2D image of touching round nuclei with their ground truth.

    Parameters
    ----------
    shape : (int, int)
        Image size; the default is 1024 x 1024.
    seed : int
        Same seed, same image.
    density : float
        Scales the number of nuclei (about 330 per megapixel at 1.0).
    """
    n = max(1, int(round(330 * density * shape[0] * shape[1] / 1024**2)))
    return _render(tuple(shape), seed, n, (11.0, 20.0), (1.0, 1.0))


def make_cells_3d(shape: tuple[int, int, int] = (32, 256, 256), seed: int = 0) -> SyntheticCells:
    """A two-channel ``(z, y, x)`` stack of touching ellipsoidal nuclei (z sampled 2x coarser)."""
    vol = shape[0] * 2 * shape[1] * shape[2]
    n = max(1, int(round(vol / (4 / 3 * np.pi * 11.0**3) * 0.35)))
    return _render(tuple(shape), seed, n, (8.0, 13.0), (2.0, 1.0, 1.0))

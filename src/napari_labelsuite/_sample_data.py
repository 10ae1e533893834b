"""npe2 sample-data generators: synthetic cells (2D, 3D) and scikit-image's coins.

Generated deterministically at run time; nothing is downloaded.
"""

from __future__ import annotations

from typing import Any

from .core.synthetic import NUCLEI_CLASSES, make_cells_2d, make_cells_3d

__all__ = ["sample_cells_2d", "sample_cells_3d", "sample_coins"]

_CHANNELS = ["nuclei", "cytoplasm"]
_CHANNEL_COLORMAPS = ["magenta", "green"]


def _taxonomy_meta() -> dict[str, Any]:
    return {"labelsuite": {"role": "semantic", "taxonomy": {"classes": NUCLEI_CLASSES}}}


def _colormap() -> dict[Any, Any]:
    from .core.taxonomy import Taxonomy

    return Taxonomy(NUCLEI_CLASSES).colormap()


def _cells_layers(sample, scale) -> list[tuple]:
    image_kwargs = {
        "name": list(_CHANNELS),
        "channel_axis": 0,
        "colormap": list(_CHANNEL_COLORMAPS),
        "blending": "additive",
        "scale": scale,
    }
    labels_kwargs = {
        "name": "classes",
        "colormap": _colormap(),
        "opacity": 0.45,
        "scale": scale,
        "metadata": _taxonomy_meta(),
    }
    return [(sample.image, image_kwargs, "image"), (sample.semantic, labels_kwargs, "labels")]


def sample_cells_2d() -> list[tuple]:
    """Two-channel 1024 x 1024 uint16 image of touching nuclei + semantic class mask."""
    return _cells_layers(make_cells_2d(), (1.0, 1.0))


def sample_cells_3d() -> list[tuple]:
    """Two-channel 32 x 256 x 256 uint16 stack (z twice as coarse) + semantic class mask,
    and an empty ``keyframes`` instance layer: paint an object on a few slices, then
    interpolate between them (Instances > "Interpolate between painted slices")."""
    import numpy as np

    sample = make_cells_3d()
    scale = (2.0, 1.0, 1.0)
    keyframes = {
        "name": "keyframes",
        "scale": scale,
        "metadata": {"labelsuite": {"role": "instances", "taxonomy": {"classes": NUCLEI_CLASSES}}},
    }
    empty = np.zeros(sample.semantic.shape, np.int32)
    return [*_cells_layers(sample, scale), (empty, keyframes, "labels")]


def sample_coins() -> list[tuple]:
    """scikit-image's ``coins``: a natural 303 x 384 grayscale photograph."""
    from skimage import data

    return [(data.coins(), {"name": "coins", "colormap": "gray"}, "image")]

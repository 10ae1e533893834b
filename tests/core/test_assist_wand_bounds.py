"""The magic wand on a huge image stops at its largest window: only that window is read."""

from __future__ import annotations

import numpy as np

from napari_labelsuite.core.assist import wand_local


class _Flat:
    """A 50000^2 image of one value that is never held in memory; records its reads."""

    shape = (50000, 50000)
    dtype = np.dtype(np.uint16)
    ndim = 2

    def __init__(self) -> None:
        self.reads: list[tuple[int, ...]] = []

    def __getitem__(self, key):
        shape = tuple(len(range(*k.indices(n))) for k, n in zip(key, self.shape))
        self.reads.append(shape)
        return np.full(shape, 7, np.uint16)


def test_wand_grows_its_window_up_to_max_window_only():
    img = _Flat()
    window, mask = wand_local(img, (25000, 25000), 1.0, window=128, max_window=1024)
    # the flat region touches every window's edge: 129, 257, 513, 1025 pixels wide
    assert img.reads == [(129, 129), (257, 257), (513, 513), (1025, 1025)]
    assert window == (slice(24488, 25513), slice(24488, 25513))
    assert mask.shape == (1025, 1025) and mask.all()

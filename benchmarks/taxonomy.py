"""Per-class pixel counts on a 4096 x 4096 mask: block-wise bincount vs ``np.unique``.

The taxonomy widget shows per-class counts; ``core.convert.class_counts`` computes them
with a ``np.bincount`` per block of rows (so zarr/dask masks are read chunk by chunk).
The peer is ``np.unique(mask, return_counts=True)`` on the same in-memory mask, measured
in the same run. Both a semantic mask (uint8 class ids) and an instance mask (int32, a
few thousand ids) are timed; results must agree exactly.

Run: ``python benchmarks/taxonomy.py``
"""

from __future__ import annotations

import numpy as np
from _common import best_of

from napari_labelsuite.core.convert import class_counts
from napari_labelsuite.core.synthetic import make_cells_2d


def main() -> None:
    cells = make_cells_2d((4096, 4096), seed=0)
    for label, mask in (("semantic uint8", cells.semantic), ("instances int32", cells.instances)):
        ours_t, ours = best_of(3, lambda m=mask: class_counts(m))
        peer_t, (vals, cnt) = best_of(3, lambda m=mask: np.unique(m, return_counts=True))
        assert ours == dict(zip(vals.tolist(), cnt.tolist())), "counts disagree"
        print(
            f"{label:16s} {mask.shape[0]}x{mask.shape[1]}, {len(ours)} labels: "
            f"class_counts {ours_t * 1000:7.1f} ms | np.unique {peer_t * 1000:7.1f} ms | "
            f"speed-up x{peer_t / ours_t:.1f}"
        )


if __name__ == "__main__":
    main()

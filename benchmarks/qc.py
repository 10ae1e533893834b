"""Quality-control speed: sparse instance matching and block-wise kappa.

1. Instance matching of two 4096 x 4096 annotations with about 5,000 objects each
   (the synthetic cells and a perturbed copy): ``match_instances`` (sparse pair counts +
   per-component assignment) against a dense IoU-matrix implementation (a full
   ``(n_a+1) x (n_b+1)`` overlap matrix and ``linear_sum_assignment`` on all objects, the
   approach of common segmentation-metric code), measured in the same run. Target <= 1 s.
2. Cohen's kappa of two 20000 x 20000 uint8 class masks. Target <= 3 s. The peer is
   ``sklearn.metrics.cohen_kappa_score`` on a 4000 x 4000 crop (the full size would need
   tens of GB), with our time on the same crop for the ratio.

Run: ``python benchmarks/qc.py``
"""

from __future__ import annotations

import numpy as np
from _common import best_of
from scipy import ndimage as ndi
from scipy.optimize import linear_sum_assignment

from napari_labelsuite.core.qc import cohen_kappa, instance_overlaps, match_instances
from napari_labelsuite.core.synthetic import make_cells_2d


def dense_match(a: np.ndarray, b: np.ndarray, thresh: float = 0.5) -> tuple[int, int, int]:
    """Dense reference: full overlap matrix, full IoU matrix, one big assignment."""
    na, nb = int(a.max()) + 1, int(b.max()) + 1
    overlap = np.bincount(a.ravel().astype(np.int64) * nb + b.ravel(), minlength=na * nb).reshape(
        na, nb
    )
    n_a, n_b = overlap.sum(axis=1, keepdims=True), overlap.sum(axis=0, keepdims=True)
    iou = overlap / np.maximum(n_a + n_b - overlap, 1)
    iou = iou[1:, 1:]
    k = min(iou.shape)
    cost = -(iou >= thresh).astype(float) - iou / (2 * k)
    r, c = linear_sum_assignment(cost)
    tp = int((iou[r, c] >= thresh).sum())
    present_a, present_b = int((n_a[1:] > 0).sum()), int((n_b[0, 1:] > 0).sum())
    return tp, present_b - tp, present_a - tp


def perturbed(labels: np.ndarray, seed: int = 1) -> np.ndarray:
    """A second annotator: objects grown by one pixel, 2% of them dropped."""
    rng = np.random.default_rng(seed)
    grown = ndi.grey_dilation(labels, size=3)
    out = np.where(labels == 0, grown, labels)
    drop = rng.random(int(labels.max()) + 1) < 0.02
    drop[0] = False
    out[drop[out]] = 0
    return out.astype(np.int32)


def bench_matching() -> None:
    cells = make_cells_2d((4096, 4096), seed=0)
    a = cells.instances
    b = perturbed(a)
    print(f"objects: a={len(np.unique(a)) - 1}, b={len(np.unique(b)) - 1}")
    match_instances(a[:512, :512], b[:512, :512])  # warm-up
    t_sparse, res = best_of(3, match_instances, a, b, 0.5)
    t_dense, (tp, fp, fn) = best_of(3, dense_match, a, b, 0.5)
    assert (tp, fp, fn) == (res.tp, res.fp, res.fn), ((tp, fp, fn), res.summary())
    print(f"match_instances 4096^2: {t_sparse:.3f} s (target <= 1 s); tp={res.tp} fp={res.fp}")
    print(f"dense IoU matrix + linear_sum_assignment: {t_dense:.3f} s")
    print(f"ratio dense / sparse: {t_dense / t_sparse:.1f}x")
    n_pairs = len(instance_overlaps(a, b).iou)
    dense_mb = (int(a.max()) + 1) * (int(b.max()) + 1) * 8 / 2**20
    print(
        f"memory of one dense objects x objects matrix: {dense_mb:.0f} MB "
        f"(the dense code holds three); sparse overlapping pairs: {n_pairs}"
    )


def bench_kappa() -> None:
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(0)
    n = 20000
    a = rng.integers(0, 4, (n, n), dtype=np.uint8)
    b = a.copy()
    flip = rng.random((n, n), dtype=np.float32) < 0.1
    b[flip] = rng.integers(0, 4, int(flip.sum()), dtype=np.uint8)
    del flip
    t_full, k = best_of(2, cohen_kappa, a, b)
    print(f"cohen_kappa 20000^2 uint8: {t_full:.2f} s (target <= 3 s), kappa={k:.4f}")
    ca, cb = a[:4000, :4000], b[:4000, :4000]
    t_ours, k_ours = best_of(3, cohen_kappa, ca, cb)
    t_sk, k_sk = best_of(2, cohen_kappa_score, ca.ravel(), cb.ravel())
    assert abs(k_ours - k_sk) < 1e-12
    print(
        f"4000^2 crop: ours {t_ours:.3f} s, sklearn cohen_kappa_score {t_sk:.3f} s, "
        f"ratio {t_sk / t_ours:.1f}x"
    )


if __name__ == "__main__":
    bench_matching()
    bench_kappa()

"""Team agreement: a 100-image dataset with 10% overlap by 3 annotators, from disk.

A dataset of 100 images (512 x 512 by default) is written to a temporary folder with an
assignment (``overlap=0.1, per_image=3``: 10 overlap images, each labelled by ana, bob and
cy) and every annotator's sidecars. Each annotator's labels are the ground truth (about 30
elliptic objects of 3 classes per image) perturbed: objects shifted by up to 2 pixels,
some dropped, some relabelled, some extra ones.

Timed (wall clock and CPU):

* **ours**: ``dataset_team_annotations`` (reading the overlap images' sidecars) plus
  ``agreement_by_annotator`` (kappa, detection F1 and mean matched IoU per pair and class,
  over time, flags), i.e. what ``napari-labelsuite agree DATASET --by-annotator`` does;
* **peer**: the same pair and class numbers from the already loaded arrays with
  scikit-learn (``cohen_kappa_score`` on the concatenated pixels, overall and per class)
  and pycocotools (RLE ``mask.iou`` of every object pair per image and class, one-to-one
  matching at IoU 0.5 with scipy's ``linear_sum_assignment``).

Both must give the same numbers (checked). Goal: ours <= 10 s on 2 cores.

Run: ``python benchmarks/team_agreement.py [--images 100] [--size 512] [--objects 30]``
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils
from scipy.optimize import linear_sum_assignment
from skimage.draw import ellipse
from sklearn.metrics import cohen_kappa_score

from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.dataset import Dataset
from napari_labelsuite.core.team import (
    Assignments,
    agreement_by_annotator,
    assignments_path,
    dataset_team_annotations,
    save_annotator_annotation,
)

ANNOTATORS = ["ana", "bob", "cy"]


def truth(rng: np.random.Generator, size: int, n: int) -> list[tuple]:
    """``n`` ellipses (centre, radii, angle, class) on a jittered grid (few overlaps)."""
    side = int(np.ceil(np.sqrt(n)))
    step = size / side
    out = []
    for k in range(n):
        gy, gx = divmod(k, side)
        cy = (gy + 0.5) * step + rng.uniform(-0.15, 0.15) * step
        cx = (gx + 0.5) * step + rng.uniform(-0.15, 0.15) * step
        ry, rx = rng.uniform(0.2, 0.38, 2) * step
        out.append((cy, cx, ry, rx, rng.uniform(0, np.pi), int(rng.integers(1, 4))))
    return out


def draw(objs: list[tuple], size: int, key: str) -> ImageAnnotation:
    inst = np.zeros((size, size), np.int32)
    objects = {}
    for k, (cy, cx, ry, rx, rot, cls) in enumerate(objs, start=1):
        rr, cc = ellipse(cy, cx, ry, rx, (size, size), rotation=rot)
        inst[rr, cc] = k
        objects[k] = ObjectInfo(cls)
    return ImageAnnotation(key, (size, size), instances=inst, objects=objects)


def perturb(rng: np.random.Generator, objs: list[tuple], size: int) -> list[tuple]:
    out = []
    for cy, cx, ry, rx, rot, cls in objs:
        if rng.random() < 0.06:
            continue  # missed
        if rng.random() < 0.05:
            cls = int(rng.integers(1, 4))  # relabelled
        dy, dx = rng.integers(-2, 3, 2)
        out.append((cy + dy, cx + dx, ry * rng.uniform(0.93, 1.07), rx, rot, cls))
    for _ in range(rng.poisson(0.8)):  # extras
        out.append((*rng.uniform(20, size - 20, 2), 8.0, 6.0, 0.0, int(rng.integers(1, 4))))
    return out


def build(folder: Path, n_images: int, size: int, n_obj: int, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    for i in range(n_images):
        np.save(folder / f"img{i:03d}.npy", np.zeros((size, size), np.uint8))
    ds = Dataset.open(folder)
    plan = Assignments.create(ds.keys(), ANNOTATORS, overlap=0.1, per_image=3, seed=seed)
    assignments_path(ds).parent.mkdir(parents=True, exist_ok=True)
    plan.save(assignments_path(ds))
    for i, key in enumerate(ds.keys()):
        gt = truth(rng, size, n_obj)
        for who in plan.annotators_of(key):
            save_annotator_annotation(ds, i, who, draw(perturb(rng, gt, size), size, key))
    return ds


def _class_mask(ann: ImageAnnotation) -> np.ndarray:
    lut = np.zeros(int(ann.instances.max()) + 1, np.int64)
    for k, o in ann.objects.items():
        lut[k] = o.class_id
    return lut[ann.instances]


def _rles(ann: ImageAnnotation) -> dict[int, list]:
    """Per class: the RLEs of its objects (pycocotools encodes Fortran-ordered uint8)."""
    out: dict[int, list] = {}
    for k, o in ann.objects.items():
        m = np.asfortranarray((ann.instances == k).astype(np.uint8))
        out.setdefault(o.class_id, []).append(mask_utils.encode(m))
    return out


def peer(anns: dict[str, dict[str, ImageAnnotation]]) -> dict[tuple, dict]:
    """Pair x class numbers with scikit-learn and pycocotools."""
    keys = sorted(anns)
    out: dict[tuple, dict] = {}
    sem = {(k, w): _class_mask(a).ravel() for k in keys for w, a in anns[k].items()}
    rles = {(k, w): _rles(a) for k in keys for w, a in anns[k].items()}
    for a, b in itertools.combinations(ANNOTATORS, 2):
        sa = np.concatenate([sem[k, a] for k in keys])
        sb = np.concatenate([sem[k, b] for k in keys])
        counts: dict[int, list[float]] = {}
        for k in keys:
            ra, rb = rles[k, a], rles[k, b]
            for c in set(ra) | set(rb):
                ga, gb = ra.get(c, []), rb.get(c, [])
                tp, iou_sum = 0, 0.0
                if ga and gb:
                    ious = np.asarray(mask_utils.iou(gb, ga, [0] * len(ga)))  # (dt, gt)
                    r, col = linear_sum_assignment(-ious)
                    ok = ious[r, col] >= 0.5
                    tp, iou_sum = int(ok.sum()), float(ious[r, col][ok].sum())
                t = counts.setdefault(c, [0, 0, 0, 0.0])
                t[0] += tp
                t[1] += len(gb) - tp
                t[2] += len(ga) - tp
                t[3] += iou_sum
        out[a, b, "all"] = {"kappa": cohen_kappa_score(sa, sb)}
        for c, (tp, fp, fn, s) in counts.items():
            out[a, b, c] = {
                "kappa": cohen_kappa_score(sa == c, sb == c),
                "f1": 2 * tp / (2 * tp + fp + fn),
                "mean_iou": s / tp if tp else float("nan"),
            }
    return out


def timed(fn, *args, **kw):
    t0, c0 = time.perf_counter(), time.process_time()
    res = fn(*args, **kw)
    return res, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--objects", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ds = build(Path(tmp), args.images, args.size, args.objects)
        print(f"dataset: {args.images} images {args.size}x{args.size}, ~{args.objects} objects, "
              f"built in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        (anns, times), t_load, c_load = timed(dataset_team_annotations, ds)
        res, t_ours, c_ours = timed(agreement_by_annotator, anns, times=times)
        print(f"overlap images: {len(res.images)}, pairs: "
              f"{len({(r['annotator_a'], r['annotator_b']) for r in res.pairs})}")  # fmt: skip
        ref, t_peer, c_peer = timed(peer, anns)
    worst = 0.0
    for r in res.pairs:
        key = (r["annotator_a"], r["annotator_b"], "all" if r["class_id"] < 0 else r["class_id"])
        for m, v in ref[key].items():
            if not (np.isnan(v) and np.isnan(r[m])):
                worst = max(worst, abs(v - r[m]))
    print(f"largest difference from the peer's numbers: {worst:.2e}")
    assert worst < 1e-9, "our numbers differ from scikit-learn / pycocotools"
    total = t_load + t_ours
    print(f"ours  (read sidecars + agreement): {total:6.2f} s wall ({t_load:.2f} read, "
          f"{t_ours:.2f} compute), {c_load + c_ours:.2f} s CPU   goal <= 10 s: "
          f"{'ok' if total <= 10 else 'MISSED'}")  # fmt: skip
    print(f"peer  (sklearn + pycocotools, arrays in memory): {t_peer:6.2f} s wall, "
          f"{c_peer:.2f} s CPU")  # fmt: skip
    print(f"ratio peer / ours (compute only): {t_peer / t_ours:.1f}x; "
          f"peer / ours (ours incl. reading): {t_peer / total:.1f}x")  # fmt: skip
    for r in res.pairs:
        if r["class"] == "all":
            print(f"  {r['annotator_a']} vs {r['annotator_b']}: kappa {r['kappa']:.3f}, "
                  f"F1 {r['f1']:.3f}, mean IoU {r['mean_iou']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

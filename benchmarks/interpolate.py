"""Interpolation, propagation and tracking against ITK's morphological contour interpolation.

Run: ``python benchmarks/interpolate.py [--quick]``. Prints, in one run:

1. Dice on the filled slices of generated volumes with ground truth (nucleus-like objects
   with wavy outlines that drift, lean and sometimes split), keeping every 4th and every 8th
   slice: ours (signed distance, aligned) against ITK's ``MorphologicalContourInterpolator``
   (the method behind 3D Slicer's and ITK-SNAP's "fill between slices"), with times;
2. speed: 100 objects x 31 missing 1024 x 1024 slices (goal <= 0.5 s), ours and ITK;
3. image-guided against shape-only interpolation, Dice on a realistic synthetic image
   (blurred objects, texture, uneven illumination, noise);
4. propagation from one drawn slice per object (snapping) against copying the mask;
5. tracking a generated time series with known tracks and divisions: links and divisions
   right out of all.

Only slices strictly between an object's first and last kept slice count (no method
extrapolates). ITK's first call compiles its wrapping (~15 s); it is timed separately.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import best_of
from scipy import ndimage as ndi

from napari_labelsuite.core.interpolate import interpolate_slices, track_instances


# -- ground truth -------------------------------------------------------------------------
def blob_volume(shape, n_objects, seed, split_fraction=0.2):
    """Nucleus-like objects: ellipsoidal profiles along z, wavy outlines that turn with z,
    drifting/leaning centres; some objects split into two diverging lobes."""
    rng = np.random.default_rng(seed)
    Z, H, W = shape
    gt = np.zeros(shape, np.uint16)
    zz = np.arange(Z)[:, None, None]
    for oid in range(1, n_objects + 1):
        rz = rng.uniform(0.3, 0.5) * Z
        z0 = rng.uniform(rz * 0.6, Z - rz * 0.6)
        base = rng.uniform(0.5, 1.0) * min(H, W) / (2.2 * n_objects**0.5)
        cy, cx = rng.uniform(base * 1.5, H - base * 1.5), rng.uniform(base * 1.5, W - base * 1.5)
        vy, vx = rng.uniform(-0.6, 0.6, 2) * base / rz
        ecc = rng.uniform(0.7, 1.3)
        a2, a3, w2, w3 = rng.uniform(0, 0.15), rng.uniform(0, 0.1), *rng.uniform(-0.15, 0.15, 2)
        lobes = [(0.0, 0.0)]
        if rng.random() < split_fraction:
            d = rng.uniform(0.5, 0.9) * base / rz
            lobes = [(d, 0.0), (-d, 0.0)]
            base *= 0.75
        r_box = int(base * 2.5 + abs(vy * rz) + abs(vx * rz)) + 2
        y0, x0 = int(max(cy - r_box, 0)), int(max(cx - r_box, 0))
        y1, x1 = int(min(cy + r_box, H)), int(min(cx + r_box, W))
        yy = np.arange(y0, y1)[None, :, None]
        xx = np.arange(x0, x1)[None, None, :]
        prof = np.sqrt(np.clip(1 - ((zz - z0) / rz) ** 2, 0, None))
        inside = np.zeros((Z, y1 - y0, x1 - x0), bool)
        for sy, sx in lobes:
            dz = zz - z0
            py = yy - (cy + (vy + sy * (dz > 0)) * dz)
            px = xx - (cx + (vx + sx) * dz)
            th = np.arctan2(py, px * ecc)
            r = base * prof * (1 + a2 * np.cos(2 * th + w2 * dz) + a3 * np.cos(3 * th + w3 * dz))
            inside |= np.hypot(py, px * ecc) < r
        view = gt[:, y0:y1, x0:x1]
        view[inside & (view == 0)] = oid
    return gt


def realistic_image(gt, seed):
    rng = np.random.default_rng(seed)
    fg = (gt > 0).astype(np.float32)
    texture = ndi.gaussian_filter(rng.normal(0, 1, gt.shape).astype(np.float32), 2)
    img = ndi.gaussian_filter(fg * (1 + 0.25 * texture), (0.7, 1.2, 1.2))
    ramp = np.linspace(0.7, 1.3, gt.shape[-1], dtype=np.float32)[None, None, :]
    return (img * ramp + rng.normal(0, 0.08, gt.shape)).astype(np.float32)


# -- scoring ------------------------------------------------------------------------------
def keep_every(gt, step):
    keep = np.zeros(gt.shape[0], bool)
    keep[::step] = True
    return gt * keep[:, None, None], keep


def filled_dice(pred, gt, keep):
    """Mean Dice over (object, slice) on dropped slices between the object's kept slices."""
    scores = []
    for oid, box in enumerate(ndi.find_objects(gt), start=1):
        if box is None:
            continue
        zs = np.arange(box[0].start, box[0].stop)
        kept = zs[keep[zs]]
        kept = kept[[(gt[z][box[1:]] == oid).any() for z in kept]]
        if len(kept) < 2:
            continue
        for z in range(kept[0] + 1, kept[-1]):
            if keep[z]:
                continue
            g = gt[z][box[1:]] == oid
            p = pred[z][box[1:]] == oid
            s = g.sum() + p.sum()
            scores.append(1.0 if s == 0 else 2 * (g & p).sum() / s)
    return float(np.mean(scores)), len(scores)


def itk_interpolate(sparse):
    import itk

    f = itk.MorphologicalContourInterpolator.New(itk.image_from_array(sparse))
    f.SetAxis(2)  # ITK's axis 2 is numpy's axis 0 (z)
    f.Update()
    return itk.array_from_image(f.GetOutput())


def have_itk() -> bool:
    try:
        import itk

        return hasattr(itk, "MorphologicalContourInterpolator")
    except ImportError:
        return False


# -- benchmarks ---------------------------------------------------------------------------
def bench_dice(quick: bool) -> None:
    itk_ok = have_itk()
    if itk_ok:
        t = time.perf_counter()
        itk_interpolate(np.zeros((3, 8, 8), np.uint16))
        print(f"(ITK first call, wrapping load: {time.perf_counter() - t:.1f} s)")
    seeds = (1, 2) if quick else (1, 2, 3, 4)
    shape = (48, 192, 192) if quick else (64, 256, 256)
    print(f"[Dice on filled slices] {len(seeds)} volumes {shape}, 12 objects each")
    print("  keep      ours Dice   ITK Dice   ours s   ITK s   (slices scored)")
    for step in (4, 8):
        d_o, d_i, t_o, t_i, n = [], [], 0.0, 0.0, 0
        for seed in seeds:
            gt = blob_volume(shape, 12, seed)
            sparse, keep = keep_every(gt, step)
            dt, edit = best_of(1, interpolate_slices, sparse, None)
            ours = edit.apply(sparse)
            t_o += dt
            s, k = filled_dice(ours, gt, keep)
            d_o.append(s * k)
            n += k
            if itk_ok:
                dt, ref = best_of(1, itk_interpolate, sparse)
                t_i += dt
                d_i.append(filled_dice(ref, gt, keep)[0] * k)
        itk_text = f"{sum(d_i) / n:.4f}    {t_i:6.2f}" if itk_ok else "n/a"
        print(
            f"  1 in {step}   {sum(d_o) / n:.4f}      {itk_text.split()[0]:>8}  "
            f"{t_o:6.2f}  {itk_text.split()[-1]:>6}   ({n})"
        )


def column_volume(n_side: int, side: int, depth: int, seed: int) -> np.ndarray:
    """``n_side**2`` objects on a grid, each on every slice: ellipses that drift, grow or
    shrink and turn along z (wavy outlines)."""
    rng = np.random.default_rng(seed)
    gt = np.zeros((depth, side, side), np.uint16)
    cell = side / n_side
    zz = np.arange(depth)[:, None, None]
    for k in range(n_side * n_side):
        cy, cx = cell * (k // n_side + 0.5), cell * (k % n_side + 0.5)
        r0, r1 = rng.uniform(0.15, 0.3, 2) * cell
        vy, vx = rng.uniform(-0.12, 0.12, 2) * cell / depth
        ecc, a2, w2 = rng.uniform(0.8, 1.25), rng.uniform(0, 0.15), rng.uniform(-0.1, 0.1)
        y0, x0 = int(cy - cell / 2), int(cx - cell / 2)
        yy = np.arange(y0, int(y0 + cell))[None, :, None]
        xx = np.arange(x0, int(x0 + cell))[None, None, :]
        py, px = yy - (cy + vy * zz), (xx - (cx + vx * zz)) * ecc
        th = np.arctan2(py, px)
        r = (r0 + (r1 - r0) * zz / (depth - 1)) * (1 + a2 * np.cos(2 * th + w2 * zz))
        gt[:, y0 : y0 + yy.shape[1], x0 : x0 + xx.shape[2]][np.hypot(py, px) < r] = k + 1
    return gt


def bench_speed(quick: bool) -> None:
    gt = column_volume(10, 1024, 33, seed=7)
    sparse, keep = keep_every(gt, 32)  # slices 0 and 32 kept: 31 missing
    present = len([b for b in ndi.find_objects(sparse) if b is not None])
    interpolate_slices(sparse[:, :256, :256], None)  # warm-up
    t_ours, edit = best_of(3, interpolate_slices, sparse, None)
    t_apply, out = best_of(1, edit.apply, sparse)
    d_o = filled_dice(out, gt, keep)[0]
    print(
        f"[speed] {present} objects x 31 missing 1024^2 slices: interpolate_slices "
        f"{t_ours:.3f} s (goal <= 0.5 s; + apply {t_apply:.3f} s), Dice {d_o:.4f}"
    )
    if have_itk():
        t_itk, ref = best_of(1, itk_interpolate, sparse)
        d_i = filled_dice(ref, gt, keep)[0]
        print(f"  ITK {t_itk:.2f} s, Dice {d_i:.4f}; ratio ITK / ours {t_itk / t_ours:.1f}x")


def bench_image_guided(quick: bool) -> None:
    seeds = (11, 12) if quick else (11, 12, 13, 14)
    shape = (48, 192, 192) if quick else (64, 256, 256)
    print(f"[image-guided vs shape-only] {len(seeds)} volumes {shape}, realistic image")
    for step in (4, 8):
        shape_s, guided_s, ns, tg = [], [], 0, 0.0
        for seed in seeds:
            gt = blob_volume(shape, 12, seed)
            img = realistic_image(gt, seed)
            sparse, keep = keep_every(gt, step)
            s, k = filled_dice(interpolate_slices(sparse, None).apply(sparse), gt, keep)
            dt, edit = best_of(1, interpolate_slices, sparse, None, image=img)
            tg += dt
            g, _ = filled_dice(edit.apply(sparse), gt, keep)
            shape_s.append(s * k)
            guided_s.append(g * k)
            ns += k
        print(
            f"  1 in {step}: shape-only {sum(shape_s) / ns:.4f}, image-guided "
            f"{sum(guided_s) / ns:.4f} ({tg:.2f} s)"
        )


def bench_propagation(quick: bool) -> None:
    """Each object drawn on its middle slice only, propagated both ways along the image."""
    from napari_labelsuite.core.interpolate import propagate

    seeds = (21,) if quick else (21, 22)
    shape = (48, 192, 192) if quick else (64, 256, 256)
    scores = {"snap": [], "copy": []}
    t_snap = 0.0
    for seed in seeds:
        gt = blob_volume(shape, 12, seed, split_fraction=0.0)
        img = realistic_image(gt, seed)
        for oid, box in enumerate(ndi.find_objects(gt), start=1):
            if box is None:
                continue
            zs = [z for z in range(box[0].start, box[0].stop) if (gt[z] == oid).any()]
            mid = zs[len(zs) // 2]
            lab = np.zeros_like(gt)
            lab[mid][gt[mid] == oid] = oid
            for name, image in (("snap", img), ("copy", None)):
                out = lab.copy()
                t = time.perf_counter()
                for direction in ("forward", "backward"):
                    # the copy is told how far the object reaches (an oracle extent)
                    reach = zs[-1] - mid if direction == "forward" else mid - zs[0]
                    kw = {"limit": None} if image is not None else {"limit": reach}
                    edit = propagate(
                        lab, oid, mid, 0, image, direction=direction, engine="snap", **kw
                    )
                    edit.apply(out, inplace=True)
                if name == "snap":
                    t_snap += time.perf_counter() - t
                for z in zs:
                    if z == mid:
                        continue
                    g, p_ = gt[z][box[1:]] == oid, out[z][box[1:]] == oid
                    scores[name].append(2 * (g & p_).sum() / max(1, g.sum() + p_.sum()))
    print(
        f"[propagation] {len(scores['snap'])} object slices from one drawn slice each: "
        f"snapping Dice {np.mean(scores['snap']):.4f} ({t_snap:.2f} s); copying the mask "
        f"to every slice of the object (its extent given) {np.mean(scores['copy']):.4f}"
    )


def lineage_series(T, n_cells, seed, side=256):
    """Cells (squares) that drift, some divide; per-frame ids shuffled. Returns truth."""
    rng = np.random.default_rng(seed)
    grid = int(np.ceil(n_cells**0.5))
    step = side / grid
    cells = [
        {"track": k + 1, "y": step * (k // grid + 0.5), "x": step * (k % grid + 0.5)}
        for k in range(n_cells)
    ]
    home = {c["track"]: (c["y"], c["x"]) for c in cells}
    cells = [dict(c) for c in cells]
    parent = {c["track"]: 0 for c in cells}
    nxt = n_cells + 1
    lab = np.zeros((T, side, side), np.uint16)
    truth_frames = []
    for t in range(T):
        if t > 0:
            new = []
            for c in cells:
                if "born" not in c and rng.random() < 0.04:  # daughters do not divide again
                    for dy in (-3, 3):
                        parent[nxt] = c["track"]
                        home[nxt] = (home[c["track"]][0] + 2 * dy, home[c["track"]][1])
                        new.append({"track": nxt, "y": c["y"] + dy, "x": c["x"], "born": t})
                        nxt += 1
                else:
                    new.append(c)
            cells = new
        ids = rng.permutation(len(cells)) + 1
        mapping = {}
        for c, i in zip(cells, ids):
            r = 3 if c.get("born") == t else 4
            y, x = int(round(c["y"])), int(round(c["x"]))
            lab[t, max(y - r, 0) : y + r, max(x - r, 0) : x + r] = i
            mapping[int(i)] = c["track"]
            hy, hx = home[c["track"]]  # a random walk that stays near its home
            c["y"] = float(np.clip(c["y"] + rng.uniform(-1, 1), hy - 1.5, hy + 1.5))
            c["x"] = float(np.clip(c["x"] + rng.uniform(-1, 1), hx - 1.5, hx + 1.5))
        truth_frames.append(mapping)
    return lab, parent, truth_frames


def bench_tracking(quick: bool) -> None:
    T, n = (20, 36) if quick else (40, 64)
    lab, parent, truth = lineage_series(T, n, seed=5)
    t, res = best_of(1, track_instances, lab)
    links = right = 0
    for t_ in range(1, T):
        for orig, true_track in truth[t_].items():
            prev = {v: k for k, v in truth[t_ - 1].items()}
            if true_track in prev:  # a continuation link
                links += 1
                a = res.frames[t_].get(orig)
                right += a is not None and a == res.frames[t_ - 1].get(prev[true_track])
    ours_parent = {}
    for t_ in range(T):
        for orig, tid in res.frames[t_].items():
            ours_parent.setdefault(truth[t_][orig], res.tracks[tid].parent)
    first_obj = {}
    for t_ in range(T):
        for orig, tid in res.frames[t_].items():
            first_obj.setdefault(tid, truth[t_][orig])
    divisions = [k for k, p in parent.items() if p]
    div_right = sum(
        1 for k in divisions if ours_parent.get(k) and first_obj[ours_parent[k]] == parent[k]
    )
    print(
        f"[tracking] {T} frames, {len(parent)} tracks: links right {right}/{links}, "
        f"divisions right {div_right}/{len(divisions)}, tracks found {len(res.tracks)} "
        f"({t:.2f} s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller volumes")
    args = ap.parse_args()
    bench_dice(args.quick)
    bench_speed(args.quick)
    bench_image_guided(args.quick)
    bench_propagation(args.quick)
    bench_tracking(args.quick)


if __name__ == "__main__":
    main()

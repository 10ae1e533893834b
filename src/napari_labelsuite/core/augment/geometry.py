"""Geometry of an augmentation variant: the one resampling map and what goes through it.

:class:`_Resampler` holds the variant's combined map (a matrix, or a coordinate map with an
elastic deformation) and resamples images and masks from it once; points, boxes, rotated
boxes, keypoints and polygon vertices go through its forward map; polygons are then clipped
to the frame.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from .warp import warp


# -- resampling and the point map ------------------------------------------------------------
def _objects_through(resample, ann, out_shape, steps, skeletons) -> tuple[list, list]:
    """Rotated boxes and keypoints of ``ann`` through the variant's geometric map."""
    if not ann.rotated and not ann.keypoints:
        return [], []
    from ..objects.transform import transform_keypoints, transform_rotated

    det = 1.0
    for step in steps:
        if step[0] == "affine":
            det *= float(np.linalg.det(step[1][:2, :2]))
    rotated, _ = transform_rotated(list(ann.rotated), resample.forward_points, out_shape)
    kps = transform_keypoints(
        list(ann.keypoints), resample.forward_points, out_shape, det < 0, skeletons
    )
    return rotated, kps


def _polygons_through(resample, ann, out_shape, steps) -> tuple[list, list[int], list[int]]:
    """Polygons of ``ann`` through the variant's map, clipped to the frame.

    Returns the polygons left, their input indices and the input indices the frame cut.
    """
    if not ann.polygons:
        return [], [], []
    from ..objects.transform import transform_polygons

    curved = any(step[0] != "affine" for step in steps)
    return transform_polygons(
        list(ann.polygons), resample.forward_points, out_shape, curved=curved
    )


class _Resampler:
    """The composed geometry of one variant: resample arrays, map boxes, measure padding."""

    def __init__(self, steps, in_shape, out_shape) -> None:
        self.steps = steps
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)
        self.affine_only = all(s[0] == "affine" for s in steps)
        self.forward = np.eye(3)
        if self.affine_only:
            for s in steps:
                self.forward = s[1] @ self.forward
            self.inverse = np.linalg.inv(self.forward)
            self.slices = _exact_slices(self.inverse, self.in_shape, self.out_shape)
        else:
            self.coords = self._coordinates()

    def _coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        h, w = self.out_shape
        r = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
        c = np.broadcast_to(np.arange(w, dtype=np.float32)[None, :], (h, w))
        on_grid = True
        for step in reversed(self.steps):
            if step[0] == "affine":
                inv = np.linalg.inv(step[1]).astype(np.float32)
                r, c = (
                    inv[0, 0] * r + inv[0, 1] * c + inv[0, 2],
                    inv[1, 0] * r + inv[1, 1] * c + inv[1, 2],
                )
                on_grid = False
            else:
                dy, dx = step[1], step[2]
                if on_grid:
                    r, c = r + dy, c + dx
                else:
                    grid = np.stack([r, c])
                    r = r + ndi.map_coordinates(dy, grid, order=1, mode="nearest")
                    c = c + ndi.map_coordinates(dx, grid, order=1, mode="nearest")
                on_grid = False
        return np.ascontiguousarray(r, np.float32), np.ascontiguousarray(c, np.float32)

    def __call__(self, arr, order, mode, cval, backend, channel_axis=None) -> np.ndarray:
        if self.affine_only and self.slices is not None:
            swap, rows, cols = self.slices
            if channel_axis == 0:
                src = arr.swapaxes(1, 2) if swap else arr
                return np.array(src[:, rows, cols], order="C", copy=True)
            src = arr.swapaxes(0, 1) if swap else arr
            return np.array(src[rows, cols], order="C", copy=True)
        if channel_axis == 0:
            planes = [self(p, order, mode, cval, backend) for p in arr]
            out = np.empty((len(planes), *planes[0].shape), planes[0].dtype)
            for c, p in enumerate(planes):
                out[c] = p
            return out
        if self.affine_only:
            return warp(
                arr,
                self.out_shape,
                inverse=self.inverse,
                order=order,
                mode=mode,
                cval=cval,
                backend=backend,
            )
        return warp(
            arr,
            self.out_shape,
            coords=self.coords,
            order=order,
            mode=mode,
            cval=cval,
            backend=backend,
        )

    def padding_fraction(self) -> float:
        ho, wo = self.out_shape
        hi, wi = self.in_shape
        if self.affine_only:
            corners = np.array([[0.0, 0.0], [0.0, wi], [hi, wi], [hi, 0.0]]) - 0.5
            quad = corners @ self.forward[:2, :2].T + self.forward[:2, 2] + 0.5
            inside = clip_polygon_to_frame(quad, ho, wo)
            return float(max(0.0, 1.0 - polygon_area(inside) / (ho * wo)))
        r, c = self.coords
        outside = (r < -0.5) | (r >= hi - 0.5) | (c < -0.5) | (c >= wi - 0.5)
        return float(outside.mean())

    def forward_points(self, pts: np.ndarray) -> np.ndarray:
        """Map ``(N, 2)`` input ``(row, col)`` centre coordinates to the output."""
        for step in self.steps:
            if step[0] == "affine":
                m = step[1]
                pts = pts @ m[:2, :2].T + m[:2, 2]
            else:
                # the field maps output -> input (in = out + d(out)); invert by fixed point
                dy, dx = step[1], step[2]
                q = pts.copy()
                for _ in range(10):
                    g = q.T
                    d = np.stack(
                        [
                            ndi.map_coordinates(dy, g, order=1, mode="nearest"),
                            ndi.map_coordinates(dx, g, order=1, mode="nearest"),
                        ],
                        axis=1,
                    )
                    q = pts - d
                pts = q
        return pts

    def boxes(self, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Enclosing, clipped output boxes and their visible fractions."""
        ho, wo = self.out_shape
        if self.affine_only:
            x0, y0, x1, y1 = xyxy.T
            pts = np.stack(
                [
                    np.stack([y0, x0], 1),
                    np.stack([y0, x1], 1),
                    np.stack([y1, x0], 1),
                    np.stack([y1, x1], 1),
                ],
                axis=1,
            ).reshape(-1, 2)
            idx = np.repeat(np.arange(len(xyxy)), 4)
        else:
            chunks, ids = [], []
            for i, (x0, y0, x1, y1) in enumerate(xyxy):
                nx = max(2, math.ceil((x1 - x0) / 2) + 1)
                ny = max(2, math.ceil((y1 - y0) / 2) + 1)
                xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
                chunks += [
                    np.stack([np.full(nx, y0), xs], 1),
                    np.stack([np.full(nx, y1), xs], 1),
                    np.stack([ys, np.full(ny, x0)], 1),
                    np.stack([ys, np.full(ny, x1)], 1),
                ]
                ids.append(np.full(2 * (nx + ny), i))
            pts, idx = np.concatenate(chunks), np.concatenate(ids)
        out = self.forward_points(pts - 0.5) + 0.5
        n = len(xyxy)
        lo = np.full((n, 2), np.inf)
        hi = np.full((n, 2), -np.inf)
        np.minimum.at(lo, idx, out)
        np.maximum.at(hi, idx, out)
        raw = np.column_stack([lo[:, 1], lo[:, 0], hi[:, 1], hi[:, 0]])
        clipped = raw.copy()
        clipped[:, [0, 2]] = np.clip(raw[:, [0, 2]], 0, wo)
        clipped[:, [1, 3]] = np.clip(raw[:, [1, 3]], 0, ho)
        area = (raw[:, 2] - raw[:, 0]) * (raw[:, 3] - raw[:, 1])
        vis_area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
        with np.errstate(invalid="ignore", divide="ignore"):
            visibility = np.where(area > 0, vis_area / area, 0.0)
        return clipped, np.clip(visibility, 0.0, 1.0)


def _exact_slices(inv: np.ndarray, in_shape, out_shape):
    """``(swap, row slice, col slice)`` when the map is a pixel permutation inside the input.

    Flips, quarter turns and integer crops then become views: exact, and far cheaper than
    resampling.
    """
    lin, t = inv[:2, :2], inv[:2, 2]
    r_lin = np.round(lin)
    if not (np.allclose(lin, r_lin, atol=1e-9) and np.allclose(t, np.round(t), atol=1e-9)):
        return None
    if np.count_nonzero(r_lin) != 2 or not np.all(np.abs(r_lin).sum(axis=1) == 1):
        return None
    swap = bool(r_lin[0, 0] == 0)
    t = np.round(t).astype(int)
    if swap:  # out[r, c] = in.T[lin10 * r + t1, lin01 * c + t0]
        src_shape = in_shape[::-1]
        a, d, t = int(r_lin[1, 0]), int(r_lin[0, 1]), t[::-1]
    else:
        src_shape = in_shape
        a, d = int(r_lin[0, 0]), int(r_lin[1, 1])
    ho, wo = out_shape
    slices = []
    for step, start, n, limit in ((a, t[0], ho, src_shape[0]), (d, t[1], wo, src_shape[1])):
        end = start + step * (n - 1)
        if min(start, end) < 0 or max(start, end) >= limit:
            return None
        stop = end + step
        slices.append(slice(start, None if stop < 0 else stop, step))
    return swap, slices[0], slices[1]


def clip_polygon_to_frame(poly: np.ndarray, h: float, w: float) -> np.ndarray:
    """Sutherland-Hodgman clip of a ``(row, col)`` polygon to ``[0, h] x [0, w]``."""
    pts = [tuple(p) for p in poly]
    for axis, bound, keep_below in ((0, 0.0, False), (0, h, True), (1, 0.0, False), (1, w, True)):
        if not pts:
            break

        def inside(p, axis=axis, bound=bound, keep_below=keep_below):
            return p[axis] <= bound if keep_below else p[axis] >= bound

        new = []
        for i, cur in enumerate(pts):
            prev = pts[i - 1]
            if inside(cur):
                if not inside(prev):
                    new.append(_intersect(prev, cur, axis, bound))
                new.append(cur)
            elif inside(prev):
                new.append(_intersect(prev, cur, axis, bound))
        pts = new
    return np.array(pts).reshape(-1, 2)


def _intersect(p, q, axis, bound):
    f = (bound - p[axis]) / (q[axis] - p[axis])
    return (p[0] + f * (q[0] - p[0]), p[1] + f * (q[1] - p[1]))


def polygon_area(poly: np.ndarray) -> float:
    """Unsigned area of a polygon (shoelace)."""
    if len(poly) < 3:
        return 0.0
    y, x = poly[:, 0], poly[:, 1]
    ym, xm = np.concatenate((y[-1:], y[:-1])), np.concatenate((x[-1:], x[:-1]))  # roll by 1
    return 0.5 * abs(float(np.dot(x, ym) - np.dot(y, xm)))

"""Star-convex outlines: the object as radii along rays from its first inside click.

Blob-like objects (nuclei, most cells) are star-convex around their most interior point,
so their outline is one radius per direction. Along ``K`` rays from the first inside click
the object-likeness ``s`` is sampled every ``step`` pixels (a polar image, rays x radii),
and the outline is the closed path through the polar image (one radius per ray, radii of
neighbouring rays close to each other) that is cheapest by dynamic programming:

* it is rewarded where ``s`` falls fastest outwards (the edge: fluorescence outlines lie
  at the steepest descent, half-way between object and local background, whatever the
  background next to a bright neighbour's halo is);
* it pays for every pixel of low ``s`` it encloses (a dark gap is not crossed) and, much
  more, for passing a *valley*: once ``s`` has dipped and risen again along a ray, the
  ray has run into a touching neighbour;
* a jump between neighbouring rays costs per pixel, and radii far from the outline's
  robust (median) radius cost quadratically, so one ray does not run into a neighbour or
  a halo while the others stop at the edge.

Later inside clicks are hard constraints on the rays next to them: the rays around a
click's direction reach past it. The path search then moves the outline near the click to
the best edge beyond it and neighbouring rays follow through the jump cost. Radii are
sub-pixel, so the outline is as precise as the edge. Outside clicks are not constraints
here: the engine's split deals with them.

An inside click the star model cannot meet (not visible from the first one through the
object) returns ``None``: the caller falls back to its general algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

__all__ = ["StarOutline", "star_cut"]

_INF = np.float32(1e9)


@dataclass
class StarOutline:
    """Outline of a star-convex object around its first click (see the module doc).

    Parameters
    ----------
    rays : int
        Fewest rays (more for large objects: about one per outline pixel).
    step : float
        Radial sampling step (pixels).
    max_slope : float
        Largest radius change between neighbouring rays, per pixel of arc.
    jump_cost : float
        Cost of a pixel of radius change between neighbouring rays.
    inside_cost : float
        Cost per pixel of enclosed ``s`` below ``level`` (per unit of the shortfall).
    valley_cost : float
        Cost per unit of rise after a dip along a ray (a touching neighbour).
    valley_depth : float
        Rise (in ``s`` units) after a dip that is ignored as texture.
    shape_cost : float
        Cost of a radius away from the median radius, per squared share of it.
    level : float
        Object-likeness of the outline (half-way between background and object).
    level_cost : float
        Cost of an outline point whose ``s`` lies away from ``level`` (squared).
    """

    rays: int = 64
    step: float = 0.5
    max_slope: float = 1.5
    jump_cost: float = 0.15
    inside_cost: float = 1.0
    valley_cost: float = 4.0
    valley_depth: float = 0.08
    shape_cost: float = 0.5
    level: float = 0.5
    level_cost: float = 1.0
    edge_weight: float = 1.0
    bg_cap: float = 0.4

    def radii(
        self,
        s: np.ndarray,
        pos: np.ndarray,
        radius: float,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``(angles, radii)`` of the outline around ``pos[0]`` with the inside clicks
        ``pos[1:]`` inside it (window of ``s``, 2D; ``radius`` is a first guess of the
        object's radius), or None when the clicks do not fit a star-convex object around
        ``pos[0]``."""
        centre = pos[0].astype(np.float64)
        far = max(
            [3.0 * radius, 8.0] + [float(np.hypot(*(p - centre))) + 3.0 * radius for p in pos[1:]]
        )
        # rays may leave the window (sampled at its edge value); the polygon is clipped
        n_r = int(far / self.step) + 1
        k = max(self.rays, int(2 * np.pi * min(far, 2.0 * radius)))
        theta = 2 * np.pi * np.arange(k) / k
        radii = self.step * np.arange(n_r)
        dirs = np.stack([np.sin(theta), np.cos(theta)], 1)  # (row, col) per ray
        coords = centre[:, None, None] + dirs.T[:, :, None] * radii[None, None, :]
        prof = ndi.map_coordinates(s, coords.reshape(2, -1), order=1, mode="nearest")
        prof = prof.reshape(k, n_r).astype(np.float32)

        cost = self._node_cost(prof)
        lo = np.ones(k, np.intp)  # feasible radius indices per ray: lo <= m
        for p in pos[1:]:
            d = p - centre
            r = float(np.hypot(*d))
            a = float(np.arctan2(d[0], d[1])) % (2 * np.pi)
            j = a / (2 * np.pi) * k
            for ray in {int(np.floor(j)) % k, int(np.ceil(j)) % k}:
                lo[ray] = max(lo[ray], int(np.ceil((r + 0.5) / self.step)))
            if not self._visible(prof, r, j, k):
                return None
        if (lo >= n_r).any():
            return None
        allowed = np.arange(n_r)[None] >= lo[:, None]
        cost = np.where(allowed, cost, _INF)

        path = self._closed_path(cost, radii)
        if path is None:
            return None
        if self.shape_cost > 0:
            med = float(np.median(radii[path]))
            shape = self.shape_cost * ((radii[None] - med) / max(med, 1.0)) ** 2
            path2 = self._closed_path(cost + shape.astype(np.float32), radii)
            if path2 is not None:
                path = path2
        return theta, self._subpixel(prof, path)

    # -- costs --------------------------------------------------------------------------
    def _node_cost(self, prof: np.ndarray) -> np.ndarray:
        """Cost of the outline crossing each ray at each radius (rays x radii)."""
        descent = np.zeros_like(prof)
        descent[:, 1:-1] = (prof[:, :-2] - prof[:, 2:]) / (2 * self.step)
        scale = float(np.percentile(descent.max(1), 50)) + 1e-6
        edge = np.clip(descent / scale, 0.0, None)
        # the ray's own level: half-way between the object and the ray's background (the
        # lowest object-likeness beyond), so a neighbour's halo raises it where it lies
        bg = np.clip(np.minimum.accumulate(prof[:, ::-1], axis=1)[:, ::-1], 0.0, None)
        bg = np.minimum(bg, self.bg_cap)
        level = bg + self.level * (1.0 - bg)
        # enclosed low object-likeness: the outline does not cross dark gaps
        short = np.clip(level - prof, 0.0, None) * self.step
        inside = np.cumsum(short, axis=1) - short
        # a rise after a dip: a touching neighbour beyond
        rise = prof - np.minimum.accumulate(prof, axis=1)
        valley = np.maximum.accumulate(np.clip(rise - self.valley_depth, 0.0, None), axis=1)
        off_level = np.abs(prof - level)
        return (
            -self.edge_weight * edge
            + self.inside_cost * inside
            + self.valley_cost * valley
            + self.level_cost * off_level
        ).astype(np.float32)

    def _visible(self, prof: np.ndarray, r: float, j: float, k: int) -> bool:
        """A positive click at radius ``r`` (ray position ``j``) is seen from the centre
        through the object: ``s`` along its ray stays above a low level up to it."""
        ray = int(round(j)) % k
        n = min(int(r / self.step), prof.shape[1] - 1)
        return bool(n < 1 or prof[ray, :n].min() > 0.5 * self.level)

    def _closed_path(self, cost: np.ndarray, radii: np.ndarray) -> np.ndarray | None:
        """Cheapest closed path (one radius index per ray) through ``cost``.

        The rays are walked twice round (a path of ``2k`` rays with a free start); the
        second round is the outline: its start is then fixed by the first round, so it
        closes up to at most one jump."""
        k, n_r = cost.shape
        arc = 2 * np.pi / k * max(float(radii[-1]) / 2, 1.0)
        jump = max(1, int(np.ceil(self.max_slope * arc / self.step)))
        shifts = np.arange(-jump, jump + 1)
        pen = (self.jump_cost * np.abs(shifts) * self.step).astype(np.float32)
        acc = cost[0].copy()
        back = np.zeros((2 * k, n_r), np.int8)
        padded = np.full(n_r + 2 * jump, _INF, np.float32)
        for i in range(1, 2 * k):
            padded[jump : jump + n_r] = acc
            # cand[d, m]: from radius m - d on the previous ray
            cand = np.stack([padded[jump - d : jump - d + n_r] for d in shifts]) + pen[:, None]
            arg = np.argmin(cand, axis=0)
            acc = np.minimum(cand[arg, np.arange(n_r)] + cost[i % k], _INF)
            back[i] = shifts[arg]
        m = int(np.argmin(acc))
        if acc[m] >= _INF / 2:
            return None
        path = np.empty(2 * k, np.intp)
        path[-1] = m
        for i in range(2 * k - 1, 0, -1):
            path[i - 1] = path[i] - back[i, path[i]]
        return path[k:]

    def _subpixel(self, prof: np.ndarray, path: np.ndarray) -> np.ndarray:
        """Radii refined to the sub-sample peak of the descent around each path node."""
        k, n_r = prof.shape
        rows = np.arange(k)
        m = np.clip(path, 1, n_r - 2)
        # parabola through the descent at m-1, m, m+1
        d = np.zeros_like(prof)
        d[:, 1:-1] = prof[:, :-2] - prof[:, 2:]
        a, b, c = d[rows, m - 1], d[rows, m], d[rows, m + 1]
        den = a - 2 * b + c
        off = np.where(
            (den < 0) & (b >= a) & (b >= c), 0.5 * (a - c) / np.where(den < 0, den, -1), 0.0
        )
        return (m + np.clip(off, -0.5, 0.5)) * self.step


def star_cut(
    mask: np.ndarray,
    centre: np.ndarray,
    pos: np.ndarray,
    theta: np.ndarray,
    edge: np.ndarray,
    edge_past: np.ndarray,
    margin: float,
    free: float = np.pi / 8,
) -> np.ndarray:
    """``mask`` inside the star-shaped polygon of radii ``edge + margin`` at angles
    ``theta`` around ``centre``.

    Every positive click after the first (``pos[1:]``) lies inside: the rays within
    ``free`` radians of its direction reach past it as far as it lay beyond the bound
    ``edge + margin`` (at least a pixel; the rule of the level surface: the click was in
    the middle of what was missed), and no ray stops before ``edge_past``, the edge
    found with the clicks inside. ``margin`` is added to every bound."""
    centre = centre.astype(np.float64)
    k = len(theta)
    bound = np.maximum(edge, edge_past).astype(np.float64)
    for p in pos[1:]:
        d = p - centre
        dist = float(np.hypot(*d))
        a = float(np.arctan2(d[0], d[1])) % (2 * np.pi)
        diff = np.abs((theta - a + np.pi) % (2 * np.pi) - np.pi)
        here = float(edge[int(np.argmin(diff))]) + margin
        reach = dist + max(1.0, dist - here)
        near = diff <= max(free, 2 * np.pi / k)
        bound[near] = np.maximum(bound[near], reach)
    bound += margin
    from skimage.draw import polygon

    star = np.zeros(mask.shape, bool)
    rr, cc = polygon(
        centre[0] + np.sin(theta) * bound, centre[1] + np.cos(theta) * bound, mask.shape
    )
    star[rr, cc] = True
    return mask & star

"""The model-free engine: a threshold surface set by the clicks, split from neighbours.

Per prompt, in a window around it (grown while the object touches its edge):

1. the window is smoothed (more when it is noisy) and each pixel projected on the line
   between a *background* colour (the window's low or high tail, whichever lies farther
   from the object) and the colour at the first inside click, giving an object-likeness
   ``s`` (0 background, 1 the first click) for any number of channels and either polarity.
   A dim object among bright ones lies nearer the dark tail, so the bright tail is the
   farther one; taken as the background it would make most of the window (the dark
   background) more object-like than the clicked object itself. The image then
   contradicts the click (an object is enclosed by its background, which is most of the
   window), so the other tail is the background (``check_polarity``);
2. the object is the connected part of ``s > tau`` that holds the inside clicks. ``tau`` is
   ``level`` (half-way: fluorescence outlines lie at half the object's brightness) and every
   further click bends it: a click sets the level at its pixel (a missed pixel gets a level
   below its own ``s``, as far below as the old level was above it, so the outline moves
   past the click about as far as the click lay from it; an outside click the other way),
   and a Gaussian radial-basis surface of width ``reach`` times the object radius
   fits the clicks' levels (closely, ``ridge``-regularised), so a click moves the outline
   near it and little elsewhere. An outside click that the image calls far more object
   than the object itself (``s`` at least ``brighter_object``: it differs from the object
   more than the object from the background) lies in another, brighter object; a level
   above it would lift the level over the object itself, and the fit would swing past
   the other clicks' levels between them (taking the background elsewhere). Such a click
   does not bend the level: the clicks' geometry decides near it (what lies nearer to it
   than to any other click is outside) and the split (step 3) parts the other object;
3. neighbours joined at that level are split off: regional maxima (h-maxima) of brightness
   plus distance to the edge are the candidate objects, the ones whose basin holds an inside
   click are the object (with a disc around the first click), the others and every
   outside click compete with it in a watershed on the brightness gradient (parts meet at
   the steepest change, so a brighter neighbour stops at its own edge) lowered at the
   centres of the outline's parts (so evenly bright neighbours part at necks), and only
   the object's part is kept. A later inside click near the outline can sit in a touching
   neighbour's basin (the outline there is the seam between them) as well as in a missed
   part of the object itself; the image tells them apart on the way from the first click
   to the basin's peak: a neighbour lies beyond a seam, a dip of the object-likeness
   (``neighbour_valley``), the object's own lobe does not. A neighbour's basin stays a
   competitor and the click, itself a seed of the object, takes only its side of the
   seam;
4. (2D, no box) the result is cut to a star-convex region around the first click: along
   rays from it the object's own edge is the closed path through the polar image of ``s``
   (one radius per ray, found by dynamic programming) that follows the steepest fall,
   does not enclose dark gaps and does not pass a valley (a dip and a rise: a touching
   neighbour), and the cut allows ``star_margin`` pixels past it. Each ray's level is
   half-way between the object and that ray's own background, so the halo by which a
   bright neighbour lifts the background is not taken, and a neighbour of the same
   brightness ends where the valley between them begins. A later inside click moves the
   edge past itself (the path with the click inside) and the rays around it reach past
   it; an inside click in the rim strip of the result it corrected (see step 5) shows the
   cut outline was right but for its rim, so over the arc step 5 moves the uncut result
   of steps 1-3 is kept;
5. (2D) a correction that lay on the wrong side of the result it corrected, within
   ``strip_depth`` radii of its outline, moves the outline along the strip it sits in:
   the error of a nearly right outline is a thin strip along it, and a level set at the
   clicked pixel moves little else (the strip's brightness varies along it), so the
   signed distance to the outline of step 4's result is shifted by a smooth field
   (Gaussian radial basis of width ``arc`` radii) that puts each such click as deep on
   its side as it lay on the wrong side; the outline moves about as far past the click
   as the click lay from it, over an arc around it. Near the outline the signed distance
   is sub-pixel, read from the image (``(s - t) / |grad s|``, ``t`` the outline's local
   level, kept within each pixel's ring of the pixel distance), so a shift of a fraction
   of a pixel moves the outline over the pixels that are most object-like first instead
   of flipping a whole ring; shifts below ``min_shift`` (the field's far tails) move
   nothing. The moved distance is smoothed (Gaussian of ``outline_smoothing`` pixels)
   before it is thresholded: a move over an arc leaves a step at each end of the arc,
   and the outline of a corrected result has dents and bumps of a pixel where a nucleus'
   own outline is smooth (along such outlines the true outline lies further out where
   ours bends inwards and further in where ours bulges). Since the distance near the
   outline is the sub-pixel one read from the image, the smoothed outline is a smooth
   curve through the image's edge, within about a pixel of the old one: a pixel of the
   old outline whose image says it lies across the edge, like its neighbours, changes
   side. Deeper corrections (a missed lobe, a leak, a merged neighbour) are left to
   steps 2-4.

Inside clicks are always in the result and outside clicks never. The result depends on the
clicks alone (the previous mask is not needed to refine it: the clicks that made it are
passed again), so a correction never inherits an earlier mistake; steps 4-5 measure each
correction on the result of the clicks before it (the outline the annotator saw), which
is computed again from those clicks or taken from a small memo of recent results (used
again only for the same image with the same pixels in the window).

A 3D window (a volume prompt) gets steps 1-3.
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import AssistError
from ._prompt import ImageView, Prompt, Window
from ._star import StarOutline, star_cut

__all__ = ["ClassicalEngine"]

_OWN = 1  # watershed label of the object; neighbours and outside clicks get 2, 3, ...


@dataclass
class ClassicalEngine:
    """Click / box segmentation without a model (see the module description).

    Parameters
    ----------
    margin : int
        Pixels around the prompt's bounding box read at first.
    max_window : int
        Largest window side the engine grows to when the object touches the window's edge.
    sigma : float
        Gaussian smoothing (pixels) before the intensity model.
    level : float
        Outline level without corrections, as a share of the first click's object-likeness.
    reach : float
        Width of a correction's influence, as a share of the object's radius.
    extrapolation : float
        How far past a correction click its level moves the outline, relative to the
        click's distance from the old outline (in level units).
    min_step : float
        Smallest margin between a click's object-likeness and the level it sets.
    ridge : float
        Regularisation of the level surface: the clicks' levels are met closely, not
        exactly, so clicks near each other do not make the surface swing (the clicked
        pixels themselves are always on their side).
    noise_smoothing : float
        Extra smoothing (pixels) per unit of noise-to-contrast ratio above 0.03 (at most
        doubling ``sigma``): on noisy images the outline follows the object, not the noise.
    split_touching : bool
        Split neighbours joined at the outline level from the object (step 3).
    split_blur : float
        Smoothing of the brightness for the split, as a share of the object's radius.
    split_h : float
        Depth (brightness share plus distance in radii) a maximum needs to be an object.
    shape_weight : float
        Weight of the distance to the edge (necks) beside the brightness in the split.
    own_seed : float
        Radius (share of the object's radius) around the first click that is the object's
        own seed in the split, so a brighter neighbour cannot flood over the click.
    move_outline : bool
        Move the outline along the strip a correction near it sits in (step 5, 2D).
    arc : float
        Width of that move along the outline, as a share of the object's radius.
    strip_depth : float
        Deepest correction (share of the object's radius, at least a pixel) that moves the
        outline so; deeper ones are left to the level surface and the split.
    subpixel : bool
        In step 5, read the distance to the outline to a fraction of a pixel from the
        image within ``subpixel_rings`` pixels of it, so a move of a fraction of a pixel
        takes the pixels the image's edge profile puts first.
    subpixel_rings : int
        Rings of pixels on each side of the outline whose distance is so refined.
    min_shift : float
        Smallest outline shift (pixels) step 5 applies: the far tails of its smooth field
        move nothing.
    outline_smoothing : float
        Gaussian smoothing (pixels) of the (sub-pixel) signed distance of a result step 5
        moved, before it is thresholded (0: none): the move leaves steps and one-pixel
        dents along the outline that the object's own smooth outline does not have.
    memo_size : int
        Results of click sequences kept, so a session's next click recomputes only itself.
    star_cut : bool
        In 2D without a box, cut the result to the star-convex region the first click's
        edge allows (step 4).
    star_margin : float
        Pixels past the edge (steepest fall) that the cut allows: the outline of a
        fluorescent object lies a little outside its steepest fall.
    star_span : float
        Angle (radians) either side of a later inside click whose rays the click extends
        past itself.
    check_polarity : bool
        When the farther colour tail, taken as the background, makes most of the window
        more object-like than the first click itself, take the other tail (a dim object
        among brighter ones, step 1).
    brighter_object : float
        An outside click at least this object-like (share of the first click's ``s``; 2:
        it differs from the object more than the object from the background) lies in
        another, brighter object: it does not bend the level, and the pixels nearer to it
        than to any other click are outside (step 2; 0: off).
    neighbour_valley : float
        In the split (step 3, 2D), a later inside click's basin is the object's own only
        when the object-likeness along the line from the first click to the basin's peak
        dips by less than this (a seam deeper than it parts a touching neighbour, which
        the click then claims only up to the seam; 0: every such basin is own).
    """

    margin: int = 48
    max_window: int = 2048
    sigma: float = 1.0
    level: float = 0.5
    reach: float = 0.5
    extrapolation: float = 1.0
    min_step: float = 0.05
    ridge: float = 0.05
    noise_smoothing: float = 6.0
    split_touching: bool = True
    split_blur: float = 0.5
    split_h: float = 0.2
    shape_weight: float = 5.0
    own_seed: float = 0.5
    move_outline: bool = True
    arc: float = 0.6
    strip_depth: float = 0.35
    subpixel: bool = True
    subpixel_rings: int = 2
    min_shift: float = 0.25
    outline_smoothing: float = 1.0
    memo_size: int = 64
    star_cut: bool = True
    star_margin: float = 1.5
    star_span: float = 0.4
    check_polarity: bool = True
    brighter_object: float = 2.0
    neighbour_valley: float = 0.05
    name: str = "classical"
    _memo: OrderedDict[Any, _Result] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )
    _star: StarOutline = field(default_factory=StarOutline, init=False, repr=False, compare=False)

    # -- engine protocol --------------------------------------------------------------------
    def encode(self, view: ImageView, progress: Any = None) -> ImageView:
        """Nothing to precompute: the view itself is the encoding."""
        return view

    def decode(self, encoded: ImageView, prompt: Prompt) -> tuple[Window, np.ndarray]:
        """``(window, mask)``: the object in a window of the image (see module doc)."""
        view = encoded
        start = self._first_correction(prompt)
        if not self.move_outline or view.ndim != 2 or start >= len(prompt.points):
            window, mask, _, _ = self._decode_clicks(view, prompt)
            return window, mask
        out = self._corrected(view, prompt, len(prompt.points))
        return out.window, out.mask

    def _decode_clicks(
        self, view: ImageView, prompt: Prompt, rim: np.ndarray | None = None
    ) -> tuple[Window, np.ndarray, np.ndarray, np.ndarray]:
        """``(window, mask, s, raw)`` of steps 1-4 for all clicks at once (``s``: the
        object-likeness in the window, ``raw``: its pixels as read); ``rim`` flags the
        corrections that lay in the strip along the outline they corrected."""
        window = self._first_window(view, prompt)
        while True:
            try:
                mask, s, raw = self._segment_window(view, prompt, window, rim)
            except _NoContrast:
                # the window lies inside the object: look further out
                bigger = self._expand(view, window)
                if bigger is None:
                    raise AssistError(
                        "the image has no contrast around the prompt (object and "
                        "background have the same intensity)",
                        field="image",
                        value=f"window {tuple((s.start, s.stop) for s in window)}",
                    ) from None
                window = bigger
                continue
            grown = self._grow(view, window, mask)
            if grown is None:
                return window, mask, s, raw
            window = grown

    # -- corrections that move the outline -------------------------------------------------
    @staticmethod
    def _first_correction(prompt: Prompt) -> int:
        """Index of the first click that corrects a result (the clicks before it, with the
        box, make the first result)."""
        if prompt.box is not None:
            return 0
        positive = np.flatnonzero(prompt.labels == 1)
        return int(positive[0]) + 1 if len(positive) else len(prompt.labels)

    def _corrected(self, view: ImageView, prompt: Prompt, n: int) -> _Result:
        """The result of the first ``n`` clicks (step 5): steps 1-4 with all of them, each
        correction near the outline moving it by the depth it had in the result of the
        clicks before it (inside ones also keep the uncut result near them in step 4).
        Results of prefixes are memoised (a session adds one click at a time), so each
        click costs one pass of steps 1-4."""
        sub = Prompt(prompt.points[:n], prompt.labels[:n], prompt.box)
        key = (
            id(view.image),
            view.lead,
            view.shape,
            prompt.box,
            sub.points.tobytes(),
            sub.labels.tobytes(),
        )
        hit = self._memo.get(key)
        if (
            hit is not None
            and hit.image() is view.image
            and hit.digest == _digest(view.read(hit.window))
        ):
            self._memo.move_to_end(key)
            return hit
        start = self._first_correction(prompt)
        depths: tuple[float, ...] = ()
        rim: tuple[bool, ...] = ()
        if n > start:
            try:
                before = self._corrected(view, prompt, n - 1)
            except AssistError:
                # the clicks before (a box alone) found nothing: no outline to correct
                depths = (0.0,) * (n - start)
                rim = (False,) * (n - start)
            else:
                last = sub.pixel(sub.points[n - 1])[0]
                depth = _depth(before, last, int(sub.labels[n - 1]))
                depths = before.depths + (depth,)
                rim = before.rim + (0 < depth <= max(1.0, self.strip_depth * before.radius),)
        flags = np.zeros(n, bool)
        flags[start:] = rim
        window, mask, s, raw = self._decode_clicks(view, sub, flags)
        if n > start:
            window, mask = self._move_outline(sub, window, mask, s, start, depths)
        out = _Result(window, mask, depths, rim)
        try:
            out.image = weakref.ref(view.image)
        except TypeError:
            return out  # an image that cannot be watched is not memoised
        out.digest = _digest(raw)  # the pixels just read, not a second read
        self._memo[key] = out
        while len(self._memo) > self.memo_size:
            self._memo.popitem(last=False)
        return out

    def _move_outline(
        self,
        prompt: Prompt,
        window: Window,
        mask: np.ndarray,
        s: np.ndarray,
        start: int,
        depths: tuple[float, ...],
    ) -> tuple[Window, np.ndarray]:
        """``mask`` (steps 1-4 with all clicks) with the outline moved by the corrections
        from click ``start`` on, whose ``depths`` on the wrong side of the result they
        corrected are given (step 5).

        A correction that lay within ``strip_depth`` radii of the outline says the outline
        lies further out (inside click) or in (outside click) along that side, by about
        twice its depth (the annotator clicks the middle of the error strip). The signed
        distance to ``mask``'s outline is shifted by a smooth field (Gaussian radial basis
        of width ``arc`` radii, one-sided: it never takes back what steps 1-4 already
        moved) that puts each such click as deep on its side as it lay on the wrong side,
        so the strip around the click moves, not only the clicked pixel. The fit holds
        all such clicks at once, so a later click does not undo an earlier one. The
        moved distance (sub-pixel near the outline) is smoothed over
        ``outline_smoothing`` pixels before it is thresholded, which rounds off the
        steps the move leaves and settles the outline's one-pixel dents and bumps onto
        the image's edge.
        """
        origin = np.array([s.start for s in window])
        shape = mask.shape
        inside = ndi.distance_transform_edt(mask)
        phi = np.where(mask, inside - 0.5, 0.5 - ndi.distance_transform_edt(~mask))
        if self.subpixel:
            phi = _subpixel_distance(phi, s, mask, self.subpixel_rings)
        radius = max(float(inside.max()), 2.0)
        loc = prompt.pixel(prompt.points) - origin
        centres: list[tuple[int, ...]] = []
        targets: list[float] = []
        for j, depth in zip(range(start, len(loc)), depths):
            q = tuple(int(v) for v in loc[j])
            if depth <= 0 or depth > max(1.0, self.strip_depth * radius):
                continue
            if not all(0 <= v < n for v, n in zip(q, shape)):
                continue
            sign = 1.0 if prompt.labels[j] == 1 else -1.0
            need = sign * depth - float(phi[q])
            centres.append(q)
            targets.append(max(need, 0.0) if sign > 0 else min(need, 0.0))
        if centres and any(targets):
            width = max(1.0, self.arc * radius)
            grid = np.indices(shape, dtype=np.float32).reshape(len(shape), -1).T
            shift = _rbf(centres, targets, 0.0, width, grid, self.ridge).reshape(shape)
            # the field's far tails move nothing: a pixel next to the outline far from
            # the clicks has a sub-pixel distance near 0 and would flip at any shift
            shift = np.where(np.abs(shift) >= self.min_shift, shift, 0.0)
            phi = phi + shift
            if self.outline_smoothing > 0:
                phi = ndi.gaussian_filter(phi, self.outline_smoothing)
            mask = phi > 0
            inside_clicks, outside_clicks = _by_label(_local_clicks(prompt, origin, shape), shape)
            mask = ndi.binary_fill_holes(mask)
            mask[tuple(outside_clicks.T)] = False
            if len(inside_clicks):
                mask = _component(mask, inside_clicks)
        return window, mask

    # -- windows ---------------------------------------------------------------------------
    def _first_window(self, view: ImageView, prompt: Prompt) -> Window:
        shape = np.asarray(view.shape)
        pts = prompt.pixel(prompt.points) if len(prompt.points) else np.empty((0, view.ndim), int)
        lo_parts = [pts.min(0)] if len(pts) else []
        hi_parts = [pts.max(0) + 1] if len(pts) else []
        bs = prompt.box_slices()
        if bs is not None:
            lead_lo = pts.min(0)[:-2] if len(pts) else np.zeros(view.ndim - 2, int)
            lead_hi = pts.max(0)[:-2] + 1 if len(pts) else shape[:-2].copy()
            lo_parts.append(np.r_[lead_lo, bs[0].start, bs[1].start])
            hi_parts.append(np.r_[lead_hi, bs[0].stop, bs[1].stop])
        lo = np.min(lo_parts, axis=0)
        hi = np.max(hi_parts, axis=0)
        margin = np.full(view.ndim, self.margin)
        if bs is not None:
            # a box tells the object's size: a margin of a quarter of it is enough
            margin[-2:] = np.maximum(8, ((hi - lo)[-2:] // 4))
        if view.ndim == 3 and not bs:
            margin[0] = max(4, self.margin // 4)
        lo = np.clip(lo - margin, 0, shape)
        hi = np.clip(hi + margin, 0, shape)
        return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))

    def _expand(self, view: ImageView, window: Window) -> Window | None:
        """The window doubled on every side (None when it is already the image or too big)."""
        new = []
        for sl, n in zip(window, view.shape):
            size = sl.stop - sl.start
            add = max(16, size // 2) if size < self.max_window else 0
            new.append(slice(max(0, sl.start - add), min(n, sl.stop + add)))
        out = tuple(new)
        return None if out == tuple(window) else out

    def _grow(self, view: ImageView, window: Window, mask: np.ndarray) -> Window | None:
        """A larger window when the object reaches an edge that is not the image's."""
        new = []
        changed = False
        for ax, (sl, n) in enumerate(zip(window, view.shape)):
            size = sl.stop - sl.start
            touch_lo = sl.start > 0 and np.take(mask, 0, axis=ax).any()
            touch_hi = sl.stop < n and np.take(mask, -1, axis=ax).any()
            add = max(16, size // 2) if size < self.max_window else 0
            lo = max(0, sl.start - add) if touch_lo else sl.start
            hi = min(n, sl.stop + add) if touch_hi else sl.stop
            changed |= (lo, hi) != (sl.start, sl.stop)
            new.append(slice(lo, hi))
        return tuple(new) if changed else None

    # -- the segmentation ------------------------------------------------------------------
    def _segment_window(
        self, view: ImageView, prompt: Prompt, window: Window, rim: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mask, s, raw)``: the object (steps 1-4), the object-likeness in ``window``
        and the window's pixels as read."""
        origin = np.array([s.start for s in window])
        shape = tuple(s.stop - s.start for s in window)
        raw = view.read(window)
        smooth = np.empty_like(raw)
        for c in range(raw.shape[-1]):
            ndi.gaussian_filter(raw[..., c], self.sigma, output=smooth[..., c])
        box = _local_box(prompt, origin, shape)
        clicks = _local_clicks(prompt, origin, shape)  # in click order
        pos, neg = _by_label(clicks, shape)
        if not len(pos):
            # a box alone: its dominant object's most interior point is the first click
            pos = self._box_seed(smooth, box)
            clicks = [(tuple(int(v) for v in pos[0]), 1), *clicks]
        s, noise_ratio, side = self._likeness(raw, smooth, pos[0])
        extra = self.noise_smoothing * max(0.0, noise_ratio - 0.03)
        if extra > 0:
            # noisy images: more smoothing, so the outline follows the object, not the noise
            # (the background stays on the side chosen on the less smoothed image)
            sig = min(self.sigma + extra, 2.0 * self.sigma)
            for c in range(raw.shape[-1]):
                ndi.gaussian_filter(raw[..., c], sig, output=smooth[..., c])
            s = self._likeness(raw, smooth, pos[0], side)[0]
        # the uncorrected object gives the radius that scales corrections and the split
        first = _component(s > self.level, pos[:1])
        radius = max(float(ndi.distance_transform_edt(first).max()), 2.0)
        tau = self._level_surface(s, clicks, radius)
        mask = _component(s > tau, pos)
        if box is not None:
            clip = np.zeros(shape, bool)
            clip[(Ellipsis, box[0], box[1])] = True
            mask &= clip
        if self.split_touching:
            mask = self._split(mask, s, pos, neg, radius)
        mask = ndi.binary_fill_holes(mask)
        if self.star_cut and s.ndim == 2 and box is None:
            mask = self._star_cut(mask, s, pos, _rim_clicks(prompt, origin, shape, rim))
        if neg.size:
            mask[tuple(neg.T)] = False
            other = np.array([self._in_brighter_object(float(s[tuple(q)])) for q in neg])
            if other.any():
                # the image contradicts these outside clicks (it shows more object there
                # than at the object itself): near them the clicks' geometry decides, and
                # what lies nearer to such a click than to any other click is outside
                mask &= ~_nearer(neg[other], np.concatenate([pos, neg[~other]]), mask.shape)
        return _component(mask, pos), s, raw

    def _star_cut(
        self, mask: np.ndarray, s: np.ndarray, pos: np.ndarray, rim: np.ndarray
    ) -> np.ndarray:
        """``mask`` no further than ``star_margin`` past the object's own edge along rays
        from the first click (step 4), except within ``arc`` radii of the inside clicks
        ``rim`` that lay in the strip along the outline they corrected."""
        # rays long enough to cross the object from a click near its edge
        radius = max(float(ndi.distance_transform_edt(mask).max()), 2.0)
        rays = self._star.radii(s, pos[:1], radius)
        if rays is None:
            return mask
        theta, edge = rays
        if len(pos) > 1:
            # the later positive clicks lie inside: the edge past them (rays around a
            # click follow it through the path's jump cost)
            constrained = self._star.radii(s, pos, radius)
            if constrained is None:
                return mask  # not star-convex around the first click
            edge_past = constrained[1]
        else:
            edge_past = edge
        cut = star_cut(mask, pos[0], pos, theta, edge, edge_past, self.star_margin, self.star_span)
        if len(rim):
            # an inside click in the rim strip showed the cut outline right but for its
            # rim: over the arc step 5 moves, the uncut threshold surface decides
            near = np.ones(mask.shape, bool)
            near[tuple(rim.T)] = False
            cut |= mask & (ndi.distance_transform_edt(near) <= max(1.0, self.arc * radius))
        return cut

    def _likeness(
        self, raw: np.ndarray, smooth: np.ndarray, ref: np.ndarray, side: int | None = None
    ) -> tuple[np.ndarray, float, int]:
        """``(s, noise-to-contrast ratio, side)`` of step 1: ``s`` is 0 at the background
        colour and 1 at the colour around ``ref``; the background is the window's low
        (``side`` 0) or high (1) colour tail.

        Without ``side`` the background is the tail farther from the object's colour
        (either polarity), and the contrast must stand out of the noise. A dim object
        among brighter ones lies nearer the dark tail, so the bright tail is the farther
        one; taken as the background it makes most of the window (the dark background)
        more object-like than the clicked object itself, which contradicts the click: the
        background is the side most of the window lies on, so the other tail is taken
        (``check_polarity``). A given ``side`` (chosen on the less smoothed image, whose
        contrast was checked then) is used as it is."""
        near = tuple(slice(max(0, int(v) - 1), int(v) + 2) for v in ref)
        fg = smooth[near].reshape(-1, smooth.shape[-1]).mean(axis=0)
        flat = smooth.reshape(-1, smooth.shape[-1])
        tails = np.percentile(flat, [10, 90], axis=0)
        scale = float(np.abs(flat).max()) + 1e-12
        noise = float(np.linalg.norm((raw - smooth).reshape(-1, raw.shape[-1]).std(axis=0)))

        def likeness(k: int, check: bool) -> tuple[np.ndarray, float, int] | None:
            d = fg - tails[k]
            dd = float(d @ d)
            if check and (dd <= (1e-6 * scale) ** 2 or np.sqrt(dd) < 3.0 * noise):
                return None
            dd = max(dd, 1e-30)
            return (((smooth - tails[k]) @ d) / dd).astype(np.float32), noise / np.sqrt(dd), k

        if side is not None:
            out = likeness(side, check=False)
            assert out is not None
            return out
        far = 0 if np.linalg.norm(fg - tails[0]) >= np.linalg.norm(fg - tails[1]) else 1
        out = likeness(far, check=True)
        if out is None:
            raise _NoContrast
        if self.check_polarity and float(np.median(out[0])) > 1.0:
            other = likeness(1 - far, check=True)
            if other is not None and float(np.median(other[0])) < self.level:
                return other
        return out

    def _level_surface(
        self, s: np.ndarray, clicks: list[tuple[tuple[int, ...], int]], radius: float
    ) -> np.ndarray:
        """The threshold ``tau`` over the window: ``level`` bent by the clicks (step 2)."""
        width = max(2.0, self.reach * radius)
        centres: list[tuple[int, ...]] = []
        targets: list[float] = []
        if len(clicks) > 1:
            # the first click keeps the unbent level: a later click near it bends the level
            # around itself only, instead of raising it over the whole object
            centres.append(clicks[0][0])
            targets.append(self.level)
        for p, lab in clicks[1:]:
            here = (
                self.level
                + _rbf(centres, targets, self.level, width, np.array([p]), self.ridge)[0]
            )
            v = float(s[p])
            if lab == 0 and self._in_brighter_object(v):
                # another, brighter object: a level above it would lift the level over the
                # object itself (and the fit swing past it elsewhere); the split and the
                # half-way rule part it instead
                target = here
            elif lab == 1 and v <= here:
                target = v - max(self.min_step, self.extrapolation * (here - v))
            elif lab == 0 and v >= here:
                target = v + max(self.min_step, self.extrapolation * (v - here))
            else:
                target = here  # already on the right side: the level stays there
            centres.append(p)
            targets.append(target)
        tau = np.full(s.shape, self.level, np.float32)
        if centres:
            grid = np.indices(s.shape, dtype=np.float32).reshape(s.ndim, -1).T
            tau += _rbf(centres, targets, self.level, width, grid, self.ridge).reshape(s.shape)
        return tau

    def _in_brighter_object(self, v: float) -> bool:
        """Whether an outside click of object-likeness ``v`` lies in another, brighter
        object: it differs from the object more than the object from the background."""
        return self.brighter_object > 0 and v >= self.brighter_object

    def _split(
        self, mask: np.ndarray, s: np.ndarray, pos: np.ndarray, neg: np.ndarray, radius: float
    ) -> np.ndarray:
        """The object's part of ``mask`` once joined neighbours are split off (step 3)."""
        from skimage.filters import sobel
        from skimage.morphology import h_maxima
        from skimage.segmentation import watershed

        if not mask.any():
            return mask
        dist = ndi.gaussian_filter(ndi.distance_transform_edt(mask), 1.0)
        r = min(max(float(dist[tuple(pos[0])]), 2.0), 3.0 * radius)
        bright = ndi.gaussian_filter(np.clip(s, 0.0, None), max(1.0, self.split_blur * r))
        ref = max(float(bright[tuple(pos[0])]), 1e-6)
        score = np.where(mask, bright / ref + self.shape_weight * dist / r, 0.0)
        peaks, n = ndi.label(h_maxima(score.astype(np.float32), self.split_h) & mask)
        markers = np.zeros(mask.shape, np.int32)
        if n:
            basins = watershed(-score, peaks, mask=mask)
            own = {int(v) for v in basins[tuple(pos.T)] if v > 0}
            if self.neighbour_valley > 0 and s.ndim == 2:
                own = self._own_basins(s, pos, basins, score, own)
            relabel = np.arange(n + 1, dtype=np.int32) + 1  # others: 2, 3, ...
            relabel[0] = 0
            relabel[list(own)] = _OWN
            markers = relabel[peaks]
        inside_neg = [q for q in neg if mask[tuple(q)]]
        for k, q in enumerate(inside_neg):
            markers[tuple(q)] = n + 2 + k
        if markers.max() <= _OWN:
            return mask
        markers[tuple(pos.T)] = _OWN
        near = _discs(mask.shape, pos[:1], max(1, int(self.own_seed * r))) & mask
        markers[near & (markers == 0)] = _OWN
        # parts meet on the steepest brightness change or at a neck of the outline
        grad = sobel(s)
        land = grad / (float(np.percentile(grad[mask], 99)) + 1e-6) - 0.5 * dist / r
        return watershed(land, markers, mask=mask) == _OWN

    def _own_basins(
        self,
        s: np.ndarray,
        pos: np.ndarray,
        basins: np.ndarray,
        score: np.ndarray,
        own: set[int],
    ) -> set[int]:
        """The split basins that are the object's own: the first click's, and each basin
        of a later inside click whose peak the first click reaches without crossing a
        valley (2D).

        A later inside click near the outline may sit in a touching neighbour's basin
        (the outline there is the seam between the two); a missed part of the object
        itself (a lobe) also has a basin of its own. The image tells them apart along the
        line from the first click (the object's most interior point) to the basin's
        peak: a neighbour lies beyond a dark seam (object-likeness dips by at least
        ``neighbour_valley`` below the lower of the highs before and after it), the
        object's own lobe does not. A neighbour's basin stays a competitor in the
        watershed; the click itself is the object's seed, so it claims only the part of
        that basin it floods before the neighbour's peak does (its side of the seam)."""
        first = int(basins[tuple(pos[0])])
        keep = {first} if first > 0 else set()
        for b in own - keep:
            inner = np.where(basins == b, score, -np.inf)
            peak = np.array(np.unravel_index(int(np.argmax(inner)), s.shape), np.float64)
            if _valley_depth(s, pos[0], peak) < self.neighbour_valley:
                keep.add(b)
        return keep

    def _box_seed(self, smooth: np.ndarray, box: Window | None) -> np.ndarray:
        """The most interior point of the dominant object inside a box (no click given)."""
        from skimage.filters import threshold_otsu

        assert box is not None
        inner = smooth[(..., box[0], box[1], slice(None))]
        lead_shape = smooth.shape[:-3]
        ring = np.ones(inner.shape[:-1], bool)
        ring[(..., slice(1, -1), slice(1, -1))] = False
        ring_mean = inner[ring].mean(axis=0)
        centre = inner[
            (
                ...,
                slice(inner.shape[-3] // 4, max(inner.shape[-3] * 3 // 4, 1)),
                slice(inner.shape[-2] // 4, max(inner.shape[-2] * 3 // 4, 1)),
                slice(None),
            )
        ]
        d = centre.reshape(-1, inner.shape[-1]).mean(axis=0) - ring_mean
        if float(d @ d) == 0:
            d = np.ones_like(d)
        proj = (inner - ring_mean) @ d
        try:
            t = threshold_otsu(proj)
        except ValueError:
            t = float(proj.mean())
        fgm = proj > t
        lab, n = ndi.label(fgm)
        if n == 0:
            raise AssistError("no object found inside the box", field="box", value="no contrast")
        # the dominant object: large and not cut by the box's outline
        sizes = ndi.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1))
        border = np.zeros(n + 1)
        for ax in range(lab.ndim):
            for side in (0, -1):
                np.add.at(border, np.take(lab, side, axis=ax).ravel(), 1)
        score = sizes - 2.0 * border[1:]
        best = int(np.argmax(score)) + 1
        dt = ndi.distance_transform_edt(np.pad(lab == best, 1))[(slice(1, -1),) * lab.ndim]
        p = np.array(np.unravel_index(int(np.argmax(dt)), dt.shape))
        offset = np.array([0] * len(lead_shape) + [box[0].start, box[1].start])
        return (p + offset)[None]


def _rbf(
    centres: list[tuple[int, ...]],
    targets: list[float],
    base: float,
    width: float,
    at: np.ndarray,
    ridge: float = 1e-3,
) -> np.ndarray:
    """Gaussian radial-basis fit (``ridge``-regularised) of ``targets - base`` at
    ``centres``, evaluated at ``at``."""
    if not centres:
        return np.zeros(len(at), np.float32)
    c = np.asarray(centres, np.float32)
    gram = np.exp(-((c[:, None] - c[None]) ** 2).sum(-1) / (2 * width * width))
    w = np.linalg.solve(gram + ridge * np.eye(len(c)), np.asarray(targets) - base)
    out = np.zeros(len(at), np.float32)
    for ck, wk in zip(c, w):
        out += np.float32(wk) * np.exp(-((at - ck) ** 2).sum(-1) / (2 * width * width))
    return out


def _local_clicks(
    prompt: Prompt, origin: np.ndarray, shape: tuple[int, ...]
) -> list[tuple[tuple[int, ...], int]]:
    """The clicks inside the window, in window coordinates and in the order given."""
    loc = prompt.pixel(prompt.points) - origin
    inside = ((loc >= 0) & (loc < np.asarray(shape))).all(1)
    return [
        (tuple(int(v) for v in p), int(lab))
        for p, lab, ok in zip(loc, prompt.labels, inside)
        if ok
    ]


def _by_label(
    clicks: list[tuple[tuple[int, ...], int]], shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """``(inside, outside)``: the positions of ``_local_clicks``' inside and outside
    clicks, each an ``(N, ndim)`` array in click order."""
    pos = np.array([p for p, lab in clicks if lab == 1], np.intp).reshape(-1, len(shape))
    neg = np.array([p for p, lab in clicks if lab == 0], np.intp).reshape(-1, len(shape))
    return pos, neg


@dataclass
class _Result:
    """A result in a window, the depth of each correction on the wrong side of the
    result it corrected (0 when it was already on its side) and whether it lay in the rim
    strip of that result (``rim``: at most ``strip_depth`` radii deep). A memoised result
    also holds a weak reference to its image and a digest of the window's pixels: it is
    used again only for the same image with the same pixels."""

    window: Window
    mask: np.ndarray
    depths: tuple[float, ...]
    rim: tuple[bool, ...] = ()
    image: Callable[[], Any] = lambda: None
    digest: bytes = b""

    @property
    def radius(self) -> float:
        """The object's radius (largest distance to its outline, at least 2 pixels)."""
        return max(float(ndi.distance_transform_edt(self.mask).max()), 2.0)


def _valley_depth(s: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """The deepest dip of ``s`` along the straight line from ``start`` to ``end`` (2D): how
    far ``s`` falls below the lower of its highest values before and after (0 when ``s``
    only rises or only falls; a seam between two objects is a dip)."""
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    n = max(2, int(np.ceil(2.0 * float(np.hypot(*(end - start))))) + 1)
    line = start[:, None] + (end - start)[:, None] * np.linspace(0.0, 1.0, n)[None, :]
    prof = ndi.map_coordinates(s, line, order=1, mode="nearest")
    before = np.maximum.accumulate(prof)
    after = np.maximum.accumulate(prof[::-1])[::-1]
    return float((np.minimum(before, after) - prof).max())


def _digest(pixels: np.ndarray) -> bytes:
    """A digest of a window's pixels."""
    return hashlib.blake2b(pixels.tobytes(), digest_size=16).digest()


def _depth(before: _Result, point: np.ndarray, label: int) -> float:
    """How far ``point`` lies on the wrong side of ``before``'s outline (0: right side)."""
    p = point.reshape(-1) - np.array([s.start for s in before.window])
    if not ((p >= 0) & (p < np.array(before.mask.shape))).all():
        return 0.0
    q = tuple(int(v) for v in p)
    if bool(before.mask[q]) == bool(label):
        return 0.0
    region = before.mask if before.mask[q] else ~before.mask
    return float(ndi.distance_transform_edt(region)[q]) - 0.5


def _rim_clicks(
    prompt: Prompt, origin: np.ndarray, shape: tuple[int, ...], rim: np.ndarray | None
) -> np.ndarray:
    """Window positions of the inside clicks flagged in ``rim`` that lie in the window."""
    if rim is None or not rim.any():
        return np.zeros((0, len(shape)), np.intp)
    loc = prompt.pixel(prompt.points[rim & (prompt.labels == 1)]) - origin
    return loc[((loc >= 0) & (loc < np.array(shape))).all(1)]


def _subpixel_distance(phi: np.ndarray, s: np.ndarray, mask: np.ndarray, rings: int) -> np.ndarray:
    """The pixel signed distance ``phi`` refined to a fraction of a pixel near the outline.

    Within ``rings`` pixels of ``mask``'s outline the distance is read from the image: the
    outline's own level ``t`` (a smooth local average of ``s`` over the pixels on either
    side of it) and the first-order distance to that level set, ``(s - t) / |grad s|``.
    Each pixel keeps its ring (the value stays within half a pixel of its pixel distance,
    so the sign and the order of the rings do not change and the outline is the same), but
    inside a ring the pixels that are more object-like lie deeper: a shift of a fraction of
    a pixel then moves the outline over the pixels the image's edge profile puts first.
    """
    if s.shape != mask.shape or not mask.any() or mask.all():
        return phi
    structure = ndi.generate_binary_structure(mask.ndim, 1)
    inner = mask & ~ndi.binary_erosion(mask, structure, border_value=1)
    outer = ~mask & ndi.binary_dilation(mask, structure)
    both = (inner | outer).astype(np.float32)
    sf = s.astype(np.float32)
    # the level the outline was drawn at, averaged along it over a few pixels (the level
    # surface, the split and the star cut each set it in their own place)
    width = 2.0
    t = ndi.gaussian_filter(sf * both, width) / np.maximum(ndi.gaussian_filter(both, width), 1e-6)
    grad = np.sqrt(sum(g * g for g in np.gradient(sf)))
    fine = (sf - t) / np.maximum(grad, 1e-3)
    near = np.abs(phi) <= rings - 0.5
    refined = np.clip(fine, phi - 0.5, phi + 0.5)
    # keep the sign strictly (a pixel on the outline stays on its side)
    refined = np.where(mask, np.maximum(refined, 0.01), np.minimum(refined, -0.01))
    return np.where(near, refined, phi).astype(np.float32)


def _nearer(pts: np.ndarray, others: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Pixels of an image of ``shape`` nearer to one of ``pts`` than to any of ``others``
    (each an ``(N, ndim)`` array of pixel positions; ``others`` not empty)."""

    def distance(p: np.ndarray) -> np.ndarray:
        far = np.ones(shape, bool)
        far[tuple(p.T)] = False
        return ndi.distance_transform_edt(far)

    return distance(pts) < distance(others)


def _component(mask: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The connected parts of ``mask`` (with the points set) that hold one of ``pos``."""
    mask = mask.copy()
    mask[tuple(pos.T)] = True
    lab, _ = ndi.label(mask)
    keep = np.unique(lab[tuple(pos.T)])
    return np.isin(lab, keep[keep > 0])


class _NoContrast(Exception):
    """Object and background colours cannot be told apart in this window."""


def _local_box(prompt: Prompt, origin: np.ndarray, shape: tuple[int, ...]) -> Window | None:
    bs = prompt.box_slices()
    if bs is None:
        return None
    out = []
    for sl, o, n in zip(bs, origin[-2:], shape[-2:]):
        out.append(slice(int(np.clip(sl.start - o, 0, n)), int(np.clip(sl.stop - o, 0, n))))
    return tuple(out)


def _discs(shape: tuple[int, ...], pts: np.ndarray, radius: int) -> np.ndarray:
    """Bool image of balls of ``radius`` (0: single pixels) around ``pts``."""
    out = np.zeros(shape, bool)
    if not len(pts):
        return out
    out[tuple(pts.T)] = True
    if radius > 0:
        out = ndi.binary_dilation(out, ndi.generate_binary_structure(len(shape), 1), radius)
    return out

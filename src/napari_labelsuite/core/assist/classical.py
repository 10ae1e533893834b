"""The model-free engine: a marker-controlled watershed learned from the clicks.

Per prompt, in a window around it (grown while the object touches its edge):

1. the window is smoothed and each pixel projected on the line between an *object* colour
   (the inside clicks, the previous mask) and a *background* colour (the window's low or
   high tail, whichever lies farther from the object), giving an object-likeness ``s``
   (0 background, 1 object) for any number of channels and either polarity;
2. markers: inside clicks and the core of the previous mask (minus the part nearer to an
   outside click) are the object; outside clicks, clearly-background pixels and the box
   outline are background; the centres of *other* bright blobs (peaks of the distance
   transform of ``s > 1/2`` away from the inside clicks) are neighbours of their own, so
   touching nuclei are split off;
3. a watershed on the gradient of ``s`` plus ``1 - s`` floods from the markers, so edges
   fall on the steepest intensity change and touching objects part at the intensity valley;
4. the flooded region's bright core (above its own Otsu level) is split at its necks (a
   watershed on its distance transform from h-maxima) and only the parts holding an inside
   click are kept, so a neighbour joined across a dim bridge is excluded.

Clicks are markers, so an inside click is always in the result and an outside click never.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import AssistError
from ._prompt import ImageView, Prompt, Window

__all__ = ["ClassicalEngine"]

_BG, _FG = 1, 2  # watershed marker labels; neighbours get 3, 4, ...


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
    split_touching : bool
        Treat other bright blobs as neighbours to split from.
    prior_ratio : float
        On a correction, the previous result stays an object marker where it is this many
        times nearer to an inside click than to any outside click.
    split_h : float
        Neck splitting of the result (step 4): the h of the h-maxima as a share of the
        clicked part's radius; 0 turns it off.
    split_with_prior : bool
        Split at necks on corrections too (not only on the first click).
    split_core : bool
        Split the result's bright core (above its own Otsu level) rather than the whole
        result.
    """

    margin: int = 48
    max_window: int = 2048
    sigma: float = 1.0
    split_touching: bool = True
    valley_depth: float = 0.85
    blob_level: float = 0.5
    neck_ratio: float = 0.6
    background_level: float = 0.5
    intensity_weight: float = 0.25
    refine_model: bool = False
    negative_regions: bool = False
    use_prior: bool = True
    prior_ratio: float = 2.0
    split_h: float = 0.05
    split_with_prior: bool = True
    split_core: bool = True
    name: str = "classical"

    # -- engine protocol --------------------------------------------------------------------
    def encode(self, view: ImageView, progress: Any = None) -> ImageView:
        """Nothing to precompute: the view itself is the encoding."""
        return view

    def decode(self, encoded: ImageView, prompt: Prompt) -> tuple[Window, np.ndarray]:
        """``(window, mask)``: the object in a window of the image (see module doc)."""
        view = encoded
        window = self._first_window(view, prompt)
        while True:
            try:
                mask = self._segment_window(view, prompt, window)
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
                return window, mask
            window = grown

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
    def _segment_window(self, view: ImageView, prompt: Prompt, window: Window) -> np.ndarray:

        origin = np.array([s.start for s in window])
        shape = tuple(s.stop - s.start for s in window)
        raw = view.read(window)
        smooth = np.empty_like(raw)
        for c in range(raw.shape[-1]):
            ndi.gaussian_filter(raw[..., c], self.sigma, output=smooth[..., c])
        pos = _local(prompt.pixel(prompt.positive), origin, shape)
        neg = _local(prompt.pixel(prompt.negative), origin, shape)
        prior = None
        if prompt.prior is not None:
            prior = np.asarray(prompt.prior[window], dtype=bool)
            if not prior.any():
                prior = None
        box = _local_box(prompt, origin, shape)

        fg_pix = [smooth[tuple(p)] for p in pos]
        if prior is not None:
            core = ndi.binary_erosion(prior, iterations=1) if prior.sum() > 9 else prior
            fg_pix.append(smooth[core].mean(axis=0)[None])
        if not fg_pix:
            # a box alone: the object is what differs from the box's outline
            pos = self._box_seed(smooth, box)
            fg_pix = [smooth[tuple(p)] for p in pos]
        fg_vals = np.vstack([np.atleast_2d(v) for v in fg_pix])
        fg = fg_vals.mean(axis=0)
        flat = smooth.reshape(-1, smooth.shape[-1])
        lo, hi = np.percentile(flat, [10, 90], axis=0)
        bg = lo if np.linalg.norm(fg - lo) >= np.linalg.norm(fg - hi) else hi
        d = fg - bg
        dd = float(d @ d)
        scale = float(np.abs(flat).max()) + 1e-12
        noise = float(np.linalg.norm((raw - smooth).reshape(-1, raw.shape[-1]).std(axis=0)))
        if dd <= (1e-6 * scale) ** 2 or np.sqrt(dd) < 3.0 * noise:
            raise _NoContrast
        s_min = self._s_min(smooth, fg_vals, bg, d)
        s = np.clip(((smooth - bg) @ d) / dd, -0.5, 1.5).astype(np.float32)
        mask, fg_mark = self._flood(s, s_min, pos, neg, prior, box)
        if self.refine_model and mask.any():
            # second pass: the object's own mean colour replaces the clicked pixels'
            fg2 = smooth[mask].mean(axis=0)
            d2 = fg2 - bg
            dd2 = float(d2 @ d2)
            if dd2 > (1e-6 * scale) ** 2 and np.sqrt(dd2) >= 3.0 * noise:
                s = np.clip(((smooth - bg) @ d2) / dd2, -0.5, 1.5).astype(np.float32)
                s_min = self._s_min(smooth, fg_vals, bg, d2)
                mask, fg_mark = self._flood(s, s_min, pos, neg, prior, box)
        if self.split_h > 0 and len(pos) and (prior is None or self.split_with_prior):
            mask = self._split_necks(mask, pos, s)
        return mask

    def _split_necks(self, mask: np.ndarray, pos: np.ndarray, s: np.ndarray) -> np.ndarray:
        """The parts of ``mask`` joined to the clicked part only across a neck are dropped.

        A watershed on the distance transform from its h-maxima (``split_h`` times the
        clicked part's radius) parts blobs where the outline pinches in; the parts holding an
        inside click are kept.
        """
        from skimage.filters import threshold_otsu
        from skimage.morphology import h_maxima
        from skimage.segmentation import watershed

        if not mask.any():
            return mask
        core = mask
        if self.split_core:
            vals = s[mask]
            if vals.max() > vals.min():
                core = mask & (s > threshold_otsu(vals))
                core[tuple(pos.T)] = True
        dt = ndi.distance_transform_edt(core)
        r = max(float(dt[tuple(pos.T)].max()), 2.0)
        peaks = h_maxima(ndi.gaussian_filter(dt, 1.0), self.split_h * r)
        markers, n = ndi.label(peaks)
        if n <= 1:
            return mask
        parts = watershed(-dt, markers, mask=mask)
        keep = np.unique(parts[tuple(pos.T)])
        keep = keep[keep > 0]
        return np.isin(parts, keep) if len(keep) else mask

    @staticmethod
    def _s_min(smooth: np.ndarray, fg_vals: np.ndarray, bg: np.ndarray, d: np.ndarray) -> float:
        """Object-likeness of the dimmest inside click (capped at 1): thresholds follow it."""
        dd = float(d @ d)
        return float(np.clip(min(((v - bg) @ d) / dd for v in fg_vals), 0.05, 1.0))

    def _flood(
        self,
        s: np.ndarray,
        s_min: float,
        pos: np.ndarray,
        neg: np.ndarray,
        prior: np.ndarray | None,
        box: Window | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        from skimage.filters import sobel
        from skimage.segmentation import watershed

        shape = s.shape
        markers = np.zeros(shape, np.int32)
        markers[s < self.background_level * s_min] = _BG
        if box is not None:
            outside = np.ones(shape, bool)
            outside[(Ellipsis, box[0], box[1])] = False
            markers[outside] = _BG
        if self.split_touching:
            self._neighbour_markers(s, s_min, pos, prior, markers)
        fg_mark = _discs(shape, pos, 1)
        if prior is not None and self.use_prior:
            keep = ndi.binary_erosion(prior, iterations=2)
            if neg.size:
                keep &= _nearer_to(shape, pos, neg, prior, self.prior_ratio)
            fg_mark |= keep
        markers[fg_mark] = _FG
        # negative_regions: each outside click claims its own region (up to the valley or
        # edge that parts it from the object) instead of being a background seed
        if neg.size:
            if self.negative_regions:
                for i, p in enumerate(neg):
                    markers[tuple(p)] = 1000 + i
            else:
                markers[_discs(shape, neg, 1)] = _BG
        grad = sobel(s)
        g99 = float(np.percentile(grad, 99)) + 1e-6
        land = grad / g99 + self.intensity_weight * (1.0 - np.clip(s, 0.0, 1.0))
        labels = watershed(land, markers)
        mask = labels == _FG
        mask = ndi.binary_fill_holes(mask)
        if box is not None:
            clip = np.zeros(shape, bool)
            clip[(Ellipsis, box[0], box[1])] = True
            mask &= clip
        mask = _keep_components(mask, fg_mark)
        if neg.size:
            mask[tuple(neg.T)] = False
        return mask, fg_mark

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

    def _neighbour_markers(
        self,
        s: np.ndarray,
        s_min: float,
        pos: np.ndarray,
        prior: np.ndarray | None,
        markers: np.ndarray,
    ) -> None:
        """Markers at the centres of other bright blobs (touching nuclei split off)."""
        from skimage.feature import peak_local_max

        if not len(pos):
            return
        bright = s > self.blob_level * s_min
        dt = ndi.distance_transform_edt(bright)
        r_click = max(float(dt[tuple(pos.T)].max()), 2.0)
        # blob centres: maxima of the distance to the background and of the smoothed
        # intensity (touching nuclei of different brightness show in the second)
        blob = ndi.gaussian_filter(np.clip(s, 0, 1.5), max(1.0, 0.4 * r_click))
        found = []
        for score, thr in ((dt, max(2.0, 0.4 * r_click)), (blob, self.blob_level * s_min)):
            found.append(
                peak_local_max(
                    score,
                    min_distance=max(2, int(0.5 * r_click)),
                    threshold_abs=thr,
                    labels=bright.astype(np.int32),
                    exclude_border=False,
                )
            )
        peaks = np.vstack(found)
        if not len(peaks):
            return
        # a peak is another object when the way from the nearest inside click to it crosses
        # an intensity valley or a neck of the blob (same-object peaks of noise do not)
        d2 = ((peaks[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
        nearest = pos[np.argmin(d2, axis=1)]
        dist = np.sqrt(d2.min(1))
        other = np.zeros(len(peaks), bool)
        for k, (p, c) in enumerate(zip(peaks, nearest)):
            if dist[k] <= 1.0:
                continue
            n = max(int(dist[k] * 2), 4)
            line = c[:, None] + (p - c)[:, None] * np.linspace(0, 1, n)[None, :]
            prof = ndi.map_coordinates(blob, line, order=1)
            dprof = ndi.map_coordinates(dt, line, order=1)
            other[k] = _dips(prof, self.valley_depth) or _dips(dprof, self.neck_ratio)
        if prior is not None:
            other &= ~prior[tuple(peaks.T)]
        label = 3
        for p in peaks[other]:
            if markers[tuple(p)] == 0:
                markers[tuple(p)] = label
                label += 1


def _dips(profile: np.ndarray, ratio: float) -> bool:
    """Whether ``profile`` falls below ``ratio`` times the higher ground on both sides."""
    i = int(np.argmin(profile))
    if i == 0 or i == len(profile) - 1:
        return False
    return bool(profile[i] < ratio * min(profile[:i].max(), profile[i + 1 :].max()))


class _NoContrast(Exception):
    """Object and background colours cannot be told apart in this window."""


def _local(pts: np.ndarray, origin: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Pixel points in window coordinates (those inside the window)."""
    if not len(pts):
        return np.empty((0, len(shape)), np.intp)
    loc = pts - origin
    inside = ((loc >= 0) & (loc < np.asarray(shape))).all(1)
    return loc[inside]


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


def _nearer_to(
    shape: tuple[int, ...],
    pos: np.ndarray,
    neg: np.ndarray,
    within: np.ndarray,
    ratio: float = 1.0,
) -> np.ndarray:
    """Pixels ``ratio`` times nearer to an inside click than to any outside click."""
    if not len(pos):
        return np.ones(shape, bool)
    dp = ndi.distance_transform_edt(~_discs(shape, pos, 0))
    dn = ndi.distance_transform_edt(~_discs(shape, neg, 0))
    return dp * ratio <= dn


def _keep_components(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The connected parts of ``mask`` that hold a seed pixel."""
    lab, n = ndi.label(mask)
    if n <= 1:
        return mask
    keep = np.unique(lab[seeds & mask])
    keep = keep[keep > 0]
    return np.isin(lab, keep)

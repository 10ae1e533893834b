"""A segment-anything engine on onnxruntime, with user-supplied encoder and decoder files.

Works with the ONNX exports of SAM, MobileSAM, EfficientSAM and SAM2 that desktop labelers
use: the encoder takes the resized, normalised RGB image ``(1, 3, S, S)`` and returns the
embedding(s); the decoder takes the official inputs ``image_embeddings`` (or inputs named
like the encoder's outputs, as in SAM2 exports), ``point_coords``, ``point_labels``,
``mask_input``, ``has_mask_input`` and ``orig_im_size``, and returns ``masks`` (logits at
the original size), ``iou_predictions`` and ``low_res_masks``.

Nothing is downloaded: the files come from arguments or the environment variables
``LABELSUITE_SAM_ENCODER`` / ``LABELSUITE_SAM_DECODER``. Large images are encoded tile by
tile (with a halo), only the tiles that prompts need, and embeddings are cached on disk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AssistError
from ._prompt import ImageView, Prompt, Window
from .cache import EmbeddingCache, data_hash, signature

__all__ = ["DECODER_ENV", "DECODER_INPUTS", "ENCODER_ENV", "SamOnnxEngine"]

ENCODER_ENV = "LABELSUITE_SAM_ENCODER"
DECODER_ENV = "LABELSUITE_SAM_DECODER"
#: the decoder inputs of the official SAM ONNX export
DECODER_INPUTS = (
    "image_embeddings",
    "point_coords",
    "point_labels",
    "mask_input",
    "has_mask_input",
    "orig_im_size",
)
_PIXEL_MEAN = np.array([123.675, 116.28, 103.53], np.float32)
_PIXEL_STD = np.array([58.395, 57.12, 57.375], np.float32)
_MODEL_HASHES: dict[tuple[str, float, int], str] = {}


def _file_hash(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime, st.st_size)
    if key not in _MODEL_HASHES:
        h = hashlib.blake2b(digest_size=20)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _MODEL_HASHES[key] = h.hexdigest()
    return _MODEL_HASHES[key]


def _open_session(path: Path, role: str, expected: str) -> Any:
    try:
        import onnxruntime as ort
    except ImportError:
        raise AssistError(
            "the ONNX engine needs onnxruntime (pip install 'napari-labelsuite[assist]')",
            path=path,
            field=role,
        ) from None
    if not path.is_file():
        raise AssistError(
            f"{role} model file not found; expected an ONNX {role} with {expected}",
            path=path,
            field=role,
        )
    try:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise AssistError(
            f"not a readable ONNX {role} ({type(exc).__name__}); expected {expected}",
            path=path,
            field=role,
        ) from None


class _Encoded:
    """Embeddings of one image view, computed per tile on first use (and cached)."""

    def __init__(self, engine: SamOnnxEngine, view: ImageView, dataset: str) -> None:
        self.engine = engine
        self.view = view
        self.dataset = dataset
        self.tiles: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        h, w = view.shape
        t = engine.tile
        self.grid = (max(1, -(-h // t)), max(1, -(-w // t)))

    def region(self, ti: int, tj: int) -> Window:
        """The pixels a tile is encoded from: its core plus the halo, inside the image."""
        t, halo = self.engine.tile, self.engine.halo
        h, w = self.view.shape
        return (
            slice(max(0, ti * t - halo), min(h, (ti + 1) * t + halo)),
            slice(max(0, tj * t - halo), min(w, (tj + 1) * t + halo)),
        )

    def tile_of(self, row: float, col: float) -> tuple[int, int]:
        t = self.engine.tile
        return (
            int(np.clip(row // t, 0, self.grid[0] - 1)),
            int(np.clip(col // t, 0, self.grid[1] - 1)),
        )

    def get(self, ti: int, tj: int) -> dict[str, np.ndarray]:
        key = (ti, tj)
        if key not in self.tiles:
            self.tiles[key] = self.engine._tile_embedding(self, ti, tj)
        return self.tiles[key]

    def all_tiles(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.grid[0]) for j in range(self.grid[1])]

    def encode_all(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Compute (or load) every tile; ``progress(done, total)`` after each."""
        tiles = self.all_tiles()
        for n, (i, j) in enumerate(tiles, 1):
            self.get(i, j)
            if progress is not None:
                progress(n, len(tiles))


class SamOnnxEngine:
    """SAM-family segmentation with ONNX files the user supplies (see module doc).

    Parameters
    ----------
    encoder, decoder : path, optional
        The ``.onnx`` files (default: ``$LABELSUITE_SAM_ENCODER`` / ``$LABELSUITE_SAM_DECODER``).
    cache_dir : path or False, optional
        Embedding cache folder (default :func:`~.cache.default_cache_dir`); False: no disk cache.
    tile, halo : int
        Large images are encoded in ``tile``-pixel tiles read with ``halo`` extra pixels.
    dataset : str, optional
        Name of the image in the cache (default: derived from its shape and corner pixels).
    notify : callable, optional
        Receives cache messages (mismatched / corrupt files that were recomputed).
    """

    name = "onnx-sam"

    def __init__(
        self,
        encoder: Any = None,
        decoder: Any = None,
        *,
        cache_dir: Any = None,
        tile: int = 1024,
        halo: int = 128,
        dataset: str | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        enc = encoder if encoder is not None else os.environ.get(ENCODER_ENV)
        dec = decoder if decoder is not None else os.environ.get(DECODER_ENV)
        if not enc:
            raise AssistError(
                f"no SAM encoder file: pass encoder= or set ${ENCODER_ENV}", field="encoder"
            )
        if not dec:
            raise AssistError(
                f"no SAM decoder file: pass decoder= or set ${DECODER_ENV}", field="decoder"
            )
        if int(tile) < 16 or int(halo) < 0:
            raise AssistError("tile must be >= 16 and halo >= 0", field="tile", value=(tile, halo))
        self.encoder_path = Path(enc)
        self.decoder_path = Path(dec)
        self.tile = int(tile)
        self.halo = int(halo)
        self.dataset = dataset
        self.encoder = _open_session(
            self.encoder_path, "encoder", "one input: the image as (1, 3, S, S) float32"
        )
        self.decoder = _open_session(
            self.decoder_path, "decoder", "inputs " + ", ".join(DECODER_INPUTS)
        )
        self._check_models()
        self.model_hash = _file_hash(self.encoder_path)
        self.cache = None if cache_dir is False else EmbeddingCache(cache_dir, notify)
        self.encoder_runs = 0
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (mask, low-res logits)

    # -- models ---------------------------------------------------------------------------
    def _check_models(self) -> None:
        enc_in = self.encoder.get_inputs()
        if len(enc_in) != 1 or len(enc_in[0].shape) != 4:
            raise AssistError(
                "the encoder must take one input, the image as (1, 3, S, S) float32",
                path=self.encoder_path,
                field="encoder",
                value=[(i.name, i.shape) for i in enc_in],
            )
        size = enc_in[0].shape[-1]
        self.input_size = int(size) if isinstance(size, int) and size > 0 else 1024
        self.encoder_input = enc_in[0].name
        self.encoder_outputs = [o.name for o in self.encoder.get_outputs()]
        names = {i.name for i in self.decoder.get_inputs()}
        needed = {"point_coords", "point_labels"}
        has_embed = "image_embeddings" in names or any(o in names for o in self.encoder_outputs)
        missing = sorted(needed - names) + ([] if has_embed else ["image_embeddings"])
        if missing:
            raise AssistError(
                "the decoder lacks inputs "
                + ", ".join(missing)
                + "; expected "
                + ", ".join(DECODER_INPUTS),
                path=self.decoder_path,
                field="decoder",
                value=sorted(names),
            )
        self.decoder_inputs = {i.name: i for i in self.decoder.get_inputs()}
        self.decoder_outputs = [o.name for o in self.decoder.get_outputs()]

    # -- encoding -------------------------------------------------------------------------
    def encode(self, view: ImageView, progress: Any = None) -> _Encoded:
        """A lazy encoding of ``view`` (tiles are computed when a prompt needs them;
        ``encoded.encode_all(progress)`` computes all of them)."""
        if view.ndim != 2:
            raise AssistError(
                "the ONNX engine segments 2D images and planes of stacks",
                field="image",
                value=view.shape,
            )
        encoded = _Encoded(self, view, self.dataset or self._dataset_key(view))
        if progress is not None:
            encoded.encode_all(progress)
        return encoded

    def _dataset_key(self, view: ImageView) -> str:
        """The image's name in the cache: its shape, dtype and first plane's corner (every
        plane of a stack shares it; tiles are keyed by plane)."""
        first = view.plane((0,) * len(view.lead)) if view.lead else view
        corner = first.read(tuple(slice(0, min(64, n)) for n in view.shape))
        base = f"{'x'.join(map(str, view.full_spatial_shape))}-{view.dtype.name}"
        return f"{base}-{data_hash(corner)[:12]}"

    def preprocess(self, pixels: np.ndarray) -> tuple[np.ndarray, float]:
        """A tile ``(h, w, C)`` as the encoder's ``(1, 3, S, S)`` input, and the resize factor."""
        from skimage.transform import resize

        h, w, c = pixels.shape
        rgb = pixels[..., :3] if c >= 3 else np.repeat(pixels[..., :1], 3, axis=-1)
        if c == 2:
            rgb = np.concatenate([pixels, np.zeros_like(pixels[..., :1])], axis=-1)
        lo, hi = np.percentile(rgb, [0.5, 99.5])
        rgb = np.clip((rgb - lo) / max(hi - lo, 1e-6), 0, 1) * 255.0
        scale = self.input_size / max(h, w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        small = resize(rgb, (nh, nw, 3), order=1, preserve_range=True, anti_aliasing=scale < 1)
        norm = (small.astype(np.float32) - _PIXEL_MEAN) / _PIXEL_STD
        out = np.zeros((self.input_size, self.input_size, 3), np.float32)
        out[:nh, :nw] = norm
        return out.transpose(2, 0, 1)[None], scale

    def _tile_embedding(self, encoded: _Encoded, ti: int, tj: int) -> dict[str, np.ndarray]:
        region = encoded.region(ti, tj)
        pixels = encoded.view.read(region)
        plane = "-".join(map(str, encoded.view.lead))
        tile_key = f"{plane + '_' if plane else ''}{ti}_{tj}"
        sig = signature(
            data=data_hash(pixels),
            model=self.model_hash,
            tile=self.tile,
            halo=self.halo,
            size=self.input_size,
            plane=list(encoded.view.lead),
            region=[(s.start, s.stop) for s in region],
        )
        if self.cache is not None:
            hit = self.cache.load(encoded.dataset, tile_key, sig)
            if hit is not None and all(o in hit for o in self.encoder_outputs):
                return hit
        arr, _ = self.preprocess(pixels)
        outs = self.encoder.run(None, {self.encoder_input: arr})
        self.encoder_runs += 1
        result = {name: np.asarray(v) for name, v in zip(self.encoder_outputs, outs)}
        if self.cache is not None:
            self.cache.save(encoded.dataset, tile_key, sig, result)
        return result

    # -- decoding -------------------------------------------------------------------------
    def decode(self, encoded: _Encoded, prompt: Prompt) -> tuple[Window, np.ndarray]:
        """The mask of the prompt, decoded in the tile holding its centre."""
        centre = self._centre(prompt)
        ti, tj = encoded.tile_of(*centre)
        region = encoded.region(ti, tj)
        emb = encoded.get(ti, tj)
        h, w = (s.stop - s.start for s in region)
        scale = self.input_size / max(h, w)
        r0, c0 = region[0].start, region[1].start
        coords: list[list[float]] = []
        labels: list[float] = []
        for (r, c), lab in zip(prompt.points, prompt.labels):
            coords.append([(c - c0) * scale, (r - r0) * scale])
            labels.append(float(lab))
        if prompt.box is not None:
            x0, y0, x1, y1 = prompt.box
            coords += [
                [(x0 - c0) * scale, (y0 - r0) * scale],
                [(x1 - c0) * scale, (y1 - r0) * scale],
            ]
            labels += [2.0, 3.0]
        else:
            coords.append([0.0, 0.0])
            labels.append(-1.0)
        feeds: dict[str, Any] = {
            "point_coords": np.asarray([coords], np.float32),
            "point_labels": np.asarray([labels], np.float32),
        }
        for name, value in emb.items():
            if name in self.decoder_inputs:
                feeds[name] = value
        if "image_embeddings" in self.decoder_inputs and "image_embeddings" not in feeds:
            feeds["image_embeddings"] = emb[self.encoder_outputs[0]]
        low_shape = self._low_res_shape()
        mask_input, has_mask = self._mask_input(prompt, region, low_shape)
        if "mask_input" in self.decoder_inputs:
            feeds["mask_input"] = mask_input
        if "has_mask_input" in self.decoder_inputs:
            feeds["has_mask_input"] = np.asarray([has_mask], np.float32)
        if "orig_im_size" in self.decoder_inputs:
            feeds["orig_im_size"] = np.asarray([h, w], np.float32)
        outs = dict(zip(self.decoder_outputs, self.decoder.run(None, feeds)))
        masks = np.asarray(outs.get("masks", next(iter(outs.values()))), np.float32)
        best = 0
        if "iou_predictions" in outs and masks.shape[1] > 1:
            best = int(np.argmax(np.asarray(outs["iou_predictions"]).ravel()))
        logits = masks[0, best]
        if logits.shape != (h, w):
            from skimage.transform import resize

            logits = resize(logits, (h, w), order=1, preserve_range=True)
        mask = logits > 0
        # clicks are constraints, whatever the model says
        for (r, c), lab in zip(prompt.pixel(prompt.points), prompt.labels):
            if region[0].start <= r < region[0].stop and region[1].start <= c < region[1].stop:
                mask[r - r0, c - c0] = bool(lab)
        if prompt.box is not None:
            bs = prompt.box_slices()
            assert bs is not None
            inside = np.zeros_like(mask)
            inside[
                max(bs[0].start - r0, 0) : max(bs[0].stop - r0, 0),
                max(bs[1].start - c0, 0) : max(bs[1].stop - c0, 0),
            ] = True
            mask &= inside
        if "low_res_masks" in outs:
            self._last = (mask.copy(), np.asarray(outs["low_res_masks"])[:, best : best + 1])
        return region, mask

    @staticmethod
    def _centre(prompt: Prompt) -> tuple[float, float]:
        if len(prompt.positive):
            r, c = prompt.positive.mean(axis=0)
            return float(r), float(c)
        if prompt.box is not None:
            x0, y0, x1, y1 = prompt.box
            return (y0 + y1) / 2, (x0 + x1) / 2
        r, c = prompt.points.mean(axis=0)
        return float(r), float(c)

    def _low_res_shape(self) -> tuple[int, int]:
        info = self.decoder_inputs.get("mask_input")
        shape = list(info.shape) if info is not None else []
        if len(shape) == 4 and all(isinstance(v, int) and v > 0 for v in shape[-2:]):
            return int(shape[-2]), int(shape[-1])
        return 256, 256

    def _mask_input(
        self, prompt: Prompt, region: Window, low_shape: tuple[int, int]
    ) -> tuple[np.ndarray, float]:
        """The last low-resolution logits when the prior is the last result (SAM's refinement)."""
        empty = np.zeros((1, 1, *low_shape), np.float32)
        if prompt.prior is None or self._last is None:
            return empty, 0.0
        last_mask, low = self._last
        prior = np.asarray(prompt.prior[region], bool)
        if prior.shape != last_mask.shape or not np.array_equal(prior, last_mask):
            return empty, 0.0
        if low.shape[-2:] != low_shape:
            return empty, 0.0
        return low.astype(np.float32), 1.0

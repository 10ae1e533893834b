"""Promptable segmentation: one click, one object.

:func:`segment` turns clicks (inside / outside), a box and a previous mask into an object
mask; :func:`wand` floods similar intensities; :func:`box_to_object` and :func:`snap_box`
find the object in a box. Engines follow the :class:`Engine` protocol (encode once, decode
many prompts): :class:`ClassicalEngine` needs no model, :class:`SamOnnxEngine` runs a
user-supplied SAM-family ONNX encoder and decoder, with embeddings cached on disk.
Pure numpy / scipy / scikit-image (onnxruntime only for the ONNX engine).
"""

from ._prompt import ImageView, Prompt, make_prompt, resolve_channel_axis
from .cache import EmbeddingCache, EmbeddingCacheWarning, default_cache_dir
from .classical import ClassicalEngine
from .engine import Engine, get_engine, prepare, segment, segment_local
from .onnx_sam import DECODER_INPUTS, SamOnnxEngine
from .tools import box_to_object, snap_box, wand, wand_local

__all__ = [
    "DECODER_INPUTS",
    "ClassicalEngine",
    "EmbeddingCache",
    "EmbeddingCacheWarning",
    "Engine",
    "ImageView",
    "Prompt",
    "SamOnnxEngine",
    "box_to_object",
    "default_cache_dir",
    "get_engine",
    "make_prompt",
    "prepare",
    "resolve_channel_axis",
    "segment",
    "segment_local",
    "snap_box",
    "wand",
    "wand_local",
]

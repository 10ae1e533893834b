"""Promptable segmentation: one click, one object.

:func:`segment` turns clicks (inside / outside), a box and a previous mask into an object
mask; :func:`wand` floods similar intensities; :func:`box_to_object` and :func:`snap_box`
find the object in a box. Engines follow the :class:`Engine` protocol (encode once, decode
many prompts): :class:`ClassicalEngine` needs no model, :class:`SamOnnxEngine` runs a
user-supplied SAM-family ONNX encoder and decoder, with embeddings cached on disk.
Pure numpy / scipy / scikit-image (onnxruntime only for the ONNX engine).
"""

from ._prompt import ImageView, Prompt, make_prompt, resolve_channel_axis
from .classical import ClassicalEngine
from .engine import Engine, get_engine, prepare, segment, segment_local
from .tools import box_to_object, snap_box, wand, wand_local

__all__ = [
    "ClassicalEngine",
    "Engine",
    "ImageView",
    "Prompt",
    "box_to_object",
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

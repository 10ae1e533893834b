"""Tiny SAM-shaped ONNX models built with ``onnx.helper`` (nothing is downloaded).

The encoder takes ``(1, 3, S, S)`` and returns a ``(1, 4, S/4, S/4)`` embedding (channel
mean, pooled). The decoder has the official SAM decoder inputs and outputs and does SAM's
own mask post-processing (``segment_anything.utils.onnx.SamOnnxModel.mask_postprocessing``):
the low-resolution logits are upscaled to ``S x S``, cropped to the part the image filled
before padding (``floor(orig_im_size * S / max(orig_im_size) + 0.5)``) and resized to
``orig_im_size``. So non-square inputs (the tiles at an image's right and bottom border)
come out right only when the engine resizes and pads the way SAM does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

S = 64  # encoder input size of the tiny model (SAM uses 1024)


def tiny_encoder(path: Any) -> Any:
    """(1, 3, S, S) image -> (1, 4, S/4, S/4) embedding: channel mean, pooled 4 x 4."""
    w = np.zeros((4, 3, 1, 1), np.float32)
    w[:, :, 0, 0] = 1 / 3
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "w"], ["c"]),
            helper.make_node(
                "AveragePool", ["c"], ["image_embeddings"], kernel_shape=[4, 4], strides=[4, 4]
            ),
        ],
        "enc",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, S, S])],
        [
            helper.make_tensor_value_info(
                "image_embeddings", TensorProto.FLOAT, [1, 4, S // 4, S // 4]
            )
        ],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def tiny_decoder(path: Any, drop: tuple[str, ...] = ()) -> Any:
    """Official SAM decoder I/O; masks = embedding channel 0 minus 0.5, post-processed as SAM
    does (see module doc); ``low_res_masks`` at (S/4)^2; the prompt inputs are accepted."""
    w = np.zeros((1, 4, 1, 1), np.float32)
    w[0, 0] = 1
    nodes = [
        helper.make_node("Conv", ["image_embeddings", "w"], ["c0"]),
        helper.make_node("Sub", ["c0", "half"], ["low_res_masks"]),
        # upscale to the encoder's input size
        helper.make_node("Resize", ["low_res_masks", "", "", "full"], ["up"], mode="linear"),
        # the part of the input the image filled: floor(orig * S / max(orig) + 0.5)
        helper.make_node("ReduceMax", ["orig_im_size"], ["longest"], keepdims=1, axes=[0]),
        helper.make_node("Div", ["size_s", "longest"], ["scale"]),
        helper.make_node("Mul", ["orig_im_size", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "half"], ["rounded"]),
        helper.make_node("Floor", ["rounded"], ["filled_f"]),
        helper.make_node("Cast", ["filled_f"], ["filled"], to=TensorProto.INT64),
        helper.make_node("Slice", ["up", "zeros2", "filled", "axes23"], ["cropped"]),
        # back to the original size
        helper.make_node("Cast", ["orig_im_size"], ["hw"], to=TensorProto.INT64),
        helper.make_node("Concat", ["one_one", "hw"], ["sizes"], axis=0),
        helper.make_node("Resize", ["cropped", "", "", "sizes"], ["masks"], mode="linear"),
        helper.make_node(
            "ReduceMax", ["low_res_masks"], ["iou_predictions"], keepdims=0, axes=[2, 3]
        ),
    ]
    shapes: dict[str, list[Any]] = {
        "image_embeddings": [1, 4, S // 4, S // 4],
        "point_coords": [1, "n", 2],
        "point_labels": [1, "n"],
        "mask_input": [1, 1, S // 4, S // 4],
        "has_mask_input": [1],
        "orig_im_size": [2],
    }
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, shp)
        for n, shp in shapes.items()
        if n not in drop
    ]
    graph = helper.make_graph(
        nodes,
        "dec",
        inputs,
        [
            helper.make_tensor_value_info("masks", TensorProto.FLOAT, [1, 1, "h", "w"]),
            helper.make_tensor_value_info("iou_predictions", TensorProto.FLOAT, [1, 1]),
            helper.make_tensor_value_info(
                "low_res_masks", TensorProto.FLOAT, [1, 1, S // 4, S // 4]
            ),
        ],
        [
            helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel()),
            helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]),
            helper.make_tensor("size_s", TensorProto.FLOAT, [1], [float(S)]),
            helper.make_tensor("one_one", TensorProto.INT64, [2], [1, 1]),
            helper.make_tensor("full", TensorProto.INT64, [4], [1, 1, S, S]),
            helper.make_tensor("zeros2", TensorProto.INT64, [2], [0, 0]),
            helper.make_tensor("axes23", TensorProto.INT64, [2], [2, 3]),
        ],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def use_tiny_engine(session: Any, folder: Any, tile: int = 64, halo: int = 8) -> Any:
    """Set ``session``'s assist engine to the tiny ONNX pair, written into ``folder``.

    The encoder/decoder go to ``folder/enc.onnx`` and ``folder/dec.onnx``, the embedding
    cache to ``folder/cache``; returns the engine.
    """
    return session.set_assist_engine(
        "onnx",
        encoder=tiny_encoder(folder / "enc.onnx"),
        decoder=tiny_decoder(folder / "dec.onnx"),
        cache_dir=folder / "cache",
        tile=tile,
        halo=halo,
    )

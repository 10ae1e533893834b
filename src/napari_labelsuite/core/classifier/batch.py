"""Applying a trained classifier to the items of a dataset (images and mask stores).

One function serves the session's "Apply to dataset" and ``napari-labelsuite classify``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..annotation import ImageAnnotation
from ..errors import ClassifierError

__all__ = ["classify_item", "merge_prediction"]


def merge_prediction(current: Any, prediction: np.ndarray, *, overwrite: bool) -> np.ndarray:
    """``prediction`` where ``current`` is background (or everywhere with ``overwrite``)."""
    pred = np.asarray(prediction)
    if current is None:
        return pred
    cur = np.asarray(current)
    dtype = np.promote_types(cur.dtype, pred.dtype)
    if overwrite:
        return pred.astype(dtype)
    return np.where(cur == 0, pred, cur).astype(dtype)


def classify_item(
    clf: Any, dataset: Any, i: int, *, name: str = "classifier", overwrite: bool = False
) -> dict[str, Any]:
    """Predict item ``i`` of ``dataset`` and save the result with it.

    An image's prediction fills the background of its semantic mask (hand labels are
    kept unless ``overwrite``) and the annotation is saved; a mask store gets (or
    replaces) the label image ``name``, written chunk by chunk. Returns a summary
    ``{"image", "kind", "pixels"}`` (pixels labelled by the classifier).
    """
    from ..store import MaskStore
    from .tiled import predict_to_store

    item = dataset[i]
    if item.kind == "store":
        with MaskStore.open(str(item.path), "r+") as st:
            levels = st.image_levels()
            if not levels:
                raise ClassifierError(
                    "the store holds no image to classify", path=item.path, field="image"
                )
            la = predict_to_store(clf, levels[0], st, name)
            return {"image": item.key, "kind": "store", "pixels": int(np.prod(la.shape))}
    pixels = dataset.read_image(i)
    pred = clf.predict(pixels)
    ann = dataset.load_annotation(i)
    if ann is None:
        ann = ImageAnnotation(item.key, pred.shape)
    if tuple(ann.shape) != tuple(pred.shape):
        raise ClassifierError(
            f"the saved annotation has shape {tuple(ann.shape)}, the prediction {pred.shape}",
            path=item.path,
            field="shape",
            value=tuple(pred.shape),
        )
    before = ann.semantic
    ann.semantic = merge_prediction(before, pred, overwrite=overwrite)
    changed = int(np.count_nonzero(ann.semantic != (0 if before is None else before)))
    dataset.save_annotation(i, ann)
    return {"image": item.key, "kind": "image", "pixels": changed}

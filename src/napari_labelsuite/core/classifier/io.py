"""Saving and loading trained classifiers without pickle.

A classifier file (conventionally ``*.lsclf``) is a zip archive of two members:

``classifier.json``
    ``{"format": "napari-labelsuite-pixel-classifier", "version": 1, "features": {...},
    "classes": [...], "n_channels": int, "taxonomy": {...} | null, "forest_options": {...},
    "max_samples_per_class": int, "tile": [...] | null, "coarse_margin": float | null,
    "sklearn": "<version>"}`` (files without ``coarse_margin`` read with the default)
``forest.skops``
    The scikit-learn forest in skops' format (a zip of JSON and ``.npy`` arrays).

Loading checks the format marker and version first, then lets skops rebuild the forest,
refusing any object type other than the forest's own (so a crafted file cannot run code).
The same bytes can be kept inside a mask store (:func:`save_to_store`), next to the labels
they produced.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ClassifierError
from .features import FeatureSettings

__all__ = [
    "CLASSIFIER_FORMAT",
    "CLASSIFIER_VERSION",
    "STORE_KEY",
    "classifier_from_bytes",
    "classifier_to_bytes",
    "load_classifier",
    "load_from_store",
    "save_classifier",
    "save_to_store",
]

CLASSIFIER_FORMAT = "napari-labelsuite-pixel-classifier"
CLASSIFIER_VERSION = 1
META_NAME = "classifier.json"
FOREST_NAME = "forest.skops"
#: the array of a mask store that holds a classifier file's bytes
STORE_KEY = "labelsuite-classifier"
#: the only types the forest file may contain beyond what skops trusts by default
_TRUSTED = {
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
}


def classifier_to_bytes(clf: Any) -> bytes:
    """The classifier file's bytes (see module doc)."""
    import sklearn
    import skops.io as sio

    clf._require_trained()
    meta = {
        "format": CLASSIFIER_FORMAT,
        "version": CLASSIFIER_VERSION,
        "features": clf.features.to_dict(),
        "classes": [int(c) for c in clf.classes_],
        "n_channels": int(clf.n_channels_),
        "taxonomy": clf.taxonomy,
        "forest_options": {k: _plain(v) for k, v in clf.forest_options.items()},
        "max_samples_per_class": clf.max_samples_per_class,
        "tile": list(clf.tile) if clf.tile else None,
        "coarse_margin": clf.coarse_margin,
        "training_pixels": {str(k): v for k, v in clf.n_training_pixels_.items()},
        "scribbled_pixels": {str(k): v for k, v in clf.n_scribbled_pixels_.items()},
        "sklearn": sklearn.__version__,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(META_NAME, json.dumps(meta, indent=1))
        z.writestr(FOREST_NAME, sio.dumps(clf.forest_))
    return buf.getvalue()


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    raise ClassifierError(
        "forest options must be plain values to be saved", field="forest_options", value=v
    )


def classifier_from_bytes(data: bytes, *, source: Any = None) -> Any:
    """Rebuild a classifier from a file's bytes; refuses other files and versions."""
    import skops.io as sio

    from .forest import COARSE_MARGIN, PixelClassifier

    where = None if source is None else str(source)
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ClassifierError(
            "not a pixel classifier file (not a zip archive)", path=where, field="format"
        ) from exc
    with z:
        names = set(z.namelist())
        if META_NAME not in names or FOREST_NAME not in names:
            raise ClassifierError(
                f"not a pixel classifier file (needs {META_NAME} and {FOREST_NAME})",
                path=where,
                field="format",
                value=sorted(names)[:5],
            )
        try:
            meta = json.loads(z.read(META_NAME))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ClassifierError(
                f"{META_NAME} is not valid JSON", path=where, field=META_NAME
            ) from exc
        if not isinstance(meta, dict) or meta.get("format") != CLASSIFIER_FORMAT:
            got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
            raise ClassifierError(
                f"not a pixel classifier file (format must be {CLASSIFIER_FORMAT!r})",
                path=where,
                field="format",
                value=got,
            )
        if meta.get("version") != CLASSIFIER_VERSION:
            raise ClassifierError(
                f"unsupported classifier file version (this version reads {CLASSIFIER_VERSION})",
                path=where,
                field="version",
                value=meta.get("version"),
            )
        forest_bytes = z.read(FOREST_NAME)
    try:
        untrusted = set(sio.get_untrusted_types(data=forest_bytes))
    except Exception as exc:  # skops raises several types on malformed archives
        raise ClassifierError(
            f"the forest cannot be read: {exc}", path=where, field=FOREST_NAME
        ) from exc
    foreign = sorted(untrusted - _TRUSTED)
    if foreign:
        raise ClassifierError(
            "the forest holds object types a classifier never contains; refusing to load",
            path=where,
            field=FOREST_NAME,
            value=foreign,
        )
    try:
        forest = sio.loads(forest_bytes, trusted=sorted(untrusted))
    except Exception as exc:
        raise ClassifierError(
            f"the forest cannot be read: {exc}", path=where, field=FOREST_NAME
        ) from exc
    if type(forest).__name__ != "RandomForestClassifier":
        raise ClassifierError(
            "the forest is not a RandomForestClassifier",
            path=where,
            field=FOREST_NAME,
            value=type(forest).__name__,
        )
    features = FeatureSettings.from_dict(meta["features"])
    clf = PixelClassifier(
        features,
        max_samples_per_class=int(meta.get("max_samples_per_class", 10_000)),
        tile=meta.get("tile"),
        coarse_margin=meta.get("coarse_margin", COARSE_MARGIN),
        **meta.get("forest_options", {}),
    )
    classes = np.asarray(meta["classes"], dtype=np.int64)
    if not np.array_equal(np.asarray(forest.classes_, dtype=np.int64), classes):
        raise ClassifierError(
            "the forest's classes differ from the file's class list",
            path=where,
            field="classes",
            value=meta["classes"],
        )
    clf.forest_ = forest
    clf.classes_ = classes
    clf.n_channels_ = int(meta["n_channels"])
    clf.taxonomy = meta.get("taxonomy")
    clf.n_training_pixels_ = {int(k): int(v) for k, v in meta.get("training_pixels", {}).items()}
    clf.n_scribbled_pixels_ = {int(k): int(v) for k, v in meta.get("scribbled_pixels", {}).items()}
    return clf


def save_classifier(clf: Any, path: str | os.PathLike) -> Path:
    """Write ``clf`` to ``path`` atomically; returns the path."""
    from ..fileio import atomic_write_bytes

    p = Path(path)
    atomic_write_bytes(p, classifier_to_bytes(clf))
    return p


def load_classifier(path: str | os.PathLike) -> Any:
    """Read a classifier file (see module doc)."""
    p = Path(path)
    if not p.is_file():
        raise ClassifierError("classifier file not found", path=p)
    return classifier_from_bytes(p.read_bytes(), source=p)


def save_to_store(clf: Any, store: Any) -> None:
    """Keep the classifier inside a mask store (an array of the file's bytes)."""
    store._require_writable()
    data = np.frombuffer(classifier_to_bytes(clf), dtype=np.uint8)
    group = store._group
    arr = group.create_array(
        STORE_KEY, shape=data.shape, dtype=np.uint8, chunks=(max(1, data.size),), overwrite=True
    )
    arr[:] = data
    arr.attrs.update({"format": CLASSIFIER_FORMAT, "version": CLASSIFIER_VERSION})


def load_from_store(store: Any) -> Any:
    """The classifier kept in a mask store by :func:`save_to_store`."""
    try:
        arr = store._group[STORE_KEY]
    except KeyError as exc:
        raise ClassifierError(
            "the store holds no classifier", path=store.path, field=STORE_KEY
        ) from exc
    return classifier_from_bytes(np.asarray(arr[:]).tobytes(), source=f"{store.path}/{STORE_KEY}")

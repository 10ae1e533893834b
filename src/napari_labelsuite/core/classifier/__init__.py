"""Pixel classifier: features, a random forest trained from scribbles, tiled prediction,
safe save/load and suggestions of what to label next (pure: no napari, no Qt)."""

from .features import (
    DEFAULT_KINDS,
    DEFAULT_SIGMAS,
    KINDS,
    FeatureCache,
    FeatureSettings,
    compute_features,
)
from .forest import DEFAULT_FOREST, PixelClassifier
from .io import (
    load_classifier,
    load_from_store,
    save_classifier,
    save_to_store,
)
from .suggest import Suggestion, rank_candidates, suggest_images, suggest_tiles
from .tiled import LazyPrediction, predict_into, predict_to_store

__all__ = [
    "DEFAULT_FOREST",
    "DEFAULT_KINDS",
    "DEFAULT_SIGMAS",
    "KINDS",
    "FeatureCache",
    "FeatureSettings",
    "LazyPrediction",
    "PixelClassifier",
    "Suggestion",
    "compute_features",
    "load_classifier",
    "load_from_store",
    "predict_into",
    "predict_to_store",
    "rank_candidates",
    "save_classifier",
    "save_to_store",
    "suggest_images",
    "suggest_tiles",
]

"""The host protocol declares only names LabelSession has, with the layer types it returns."""

from __future__ import annotations

import inspect

import numpy as np
from napari.layers import Image, Labels, Shapes

from napari_labelsuite import LabelSession
from napari_labelsuite._session.host import SessionHost
from napari_labelsuite.core.taxonomy import Taxonomy


def _declared_names() -> set[str]:
    names = set(SessionHost.__annotations__)
    names |= {n for n in vars(SessionHost) if not n.startswith("__")}
    names -= {"_is_protocol", "_is_runtime_protocol"}
    return {n for n in names if not n.startswith("_abc")}


def test_every_declared_name_exists_on_a_session():
    session = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]))
    missing = sorted(n for n in _declared_names() if not hasattr(session, n))
    assert missing == []


def test_declared_methods_match_the_session_signatures():
    for name, member in vars(SessionHost).items():
        if name.startswith("__") or not inspect.isfunction(member):
            continue
        declared = list(inspect.signature(member).parameters)
        actual = list(inspect.signature(getattr(LabelSession, name)).parameters)
        assert declared == actual, name


def test_layer_properties_return_the_declared_napari_types():
    session = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]))
    assert session.semantic is None and session.boxes is None and session.image is None
    session.layers.append(Image(np.zeros((8, 8), np.uint8)))
    session.add_semantic_layer(shape=(8, 8))
    session.add_instance_layer(shape=(8, 8))
    session.add_boxes_layer()
    assert isinstance(session.semantic, Labels)
    assert isinstance(session.instances, Labels)
    assert isinstance(session.boxes, Shapes)
    assert isinstance(session.image, Image)

"""Old import path of :mod:`napari_labelsuite.core.store.lock`, kept working."""

import sys
from importlib import import_module

sys.modules[__name__] = import_module(".store.lock", __package__)

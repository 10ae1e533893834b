"""Old import path of :mod:`napari_labelsuite.core.augment.transforms`, kept working."""

import sys
from importlib import import_module

sys.modules[__name__] = import_module(".augment.transforms", __package__)

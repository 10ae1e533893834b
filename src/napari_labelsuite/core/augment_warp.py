"""Old import path of :mod:`napari_labelsuite.core.augment.warp`, kept working."""

import sys
from importlib import import_module

sys.modules[__name__] = import_module(".augment.warp", __package__)

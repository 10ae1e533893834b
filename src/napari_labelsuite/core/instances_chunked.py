"""Old import path of :mod:`napari_labelsuite.core.instances.chunked`, kept working."""

import sys
from importlib import import_module

sys.modules[__name__] = import_module(".instances.chunked", __package__)

"""Old import path of :mod:`napari_labelsuite.core.qc.matching`, kept working."""

import sys
from importlib import import_module

sys.modules[__name__] = import_module(".qc.matching", __package__)

"""Old import path of :mod:`napari_labelsuite.core.qc.checks`, kept working."""

import sys
from importlib import import_module

sys.modules[__name__] = import_module(".qc.checks", __package__)

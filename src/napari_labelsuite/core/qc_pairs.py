"""Old import path of :mod:`napari_labelsuite.core.qc.pairs`, kept working."""

import sys
from importlib import import_module

sys.modules[__name__] = import_module(".qc.pairs", __package__)

"""Old import path of :mod:`napari_labelsuite.core.qc.metrics` (kept working; import from there)."""

import sys

from .qc import metrics as _module

sys.modules[__name__] = _module

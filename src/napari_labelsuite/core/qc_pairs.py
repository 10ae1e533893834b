"""Old import path of :mod:`napari_labelsuite.core.qc.pairs` (kept working; import from there)."""

import sys

from .qc import pairs as _module

sys.modules[__name__] = _module

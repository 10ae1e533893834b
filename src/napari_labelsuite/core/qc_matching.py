"""Old import path of :mod:`napari_labelsuite.core.qc.matching` (kept working; import from there)."""

import sys

from .qc import matching as _module

sys.modules[__name__] = _module

"""Old import path of :mod:`napari_labelsuite.core.qc.checks` (kept working; import from there)."""

import sys

from .qc import checks as _module

sys.modules[__name__] = _module

"""Old import path of :mod:`napari_labelsuite.core.qc.report` (kept working; import from there)."""

import sys

from .qc import report as _module

sys.modules[__name__] = _module

"""Old import path of :mod:`napari_labelsuite.core.store.pyramid`, kept working."""

import sys
from importlib import import_module

sys.modules[__name__] = import_module(".store.pyramid", __package__)

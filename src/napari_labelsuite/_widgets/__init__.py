"""Dock widgets: one per file, wiring only (read inputs, call the session, show results)."""

from .assist import AssistWidget
from .augment import AugmentWidget
from .instances import InstancesWidget
from .interpolate import InterpolateWidget
from .io import ImportExportWidget
from .qc import QualityControlWidget
from .store import MaskStoreWidget
from .taxonomy import TaxonomyWidget

__all__ = [
    "AssistWidget",
    "AugmentWidget",
    "ImportExportWidget",
    "InstancesWidget",
    "InterpolateWidget",
    "MaskStoreWidget",
    "QualityControlWidget",
    "TaxonomyWidget",
]

#: (manifest display name, class) of every dock widget, in the order the demo opens them.
DOCK_WIDGETS = [
    ("Class taxonomy", TaxonomyWidget),
    ("Instances", InstancesWidget),
    ("Import / export", ImportExportWidget),
    ("Mask store", MaskStoreWidget),
    ("Augmentation preview", AugmentWidget),
    ("Quality control", QualityControlWidget),
    ("Interpolate / track", InterpolateWidget),
    ("Assist", AssistWidget),
]

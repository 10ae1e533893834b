"""Feature groups of :class:`napari_labelsuite.LabelSession`, one mixin per file.

Each mixin only adds methods (and may define ``_init_mixin(self)`` for its state); the
shared state lives in ``napari_labelsuite.session``.
"""

"""Emitting psygnal signals so that an error in a callback propagates as itself.

psygnal wraps an exception raised by a callback in ``EmitLoopError``. The core's objects
(:class:`~napari_labelsuite.core.taxonomy.Taxonomy`,
:class:`~napari_labelsuite.core.store.MaskStore`) and the session emit through
:func:`emit`, so callers keep seeing the library's own error types, as they did when
listeners were called from plain lists.
"""

from __future__ import annotations

from typing import Any

from psygnal import EmitLoopError, SignalInstance

__all__ = ["emit"]


def emit(signal: SignalInstance, *args: Any) -> None:
    """Emit ``signal``; an error in a callback propagates as itself (not psygnal's wrapper)."""
    try:
        signal.emit(*args)
    except EmitLoopError as exc:
        cause = exc.__cause__
        if cause is None:
            raise
        raise cause from None

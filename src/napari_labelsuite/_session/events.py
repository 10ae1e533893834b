"""Session events: psygnal signals, and the older ``on_*`` / ``disconnect_*`` methods.

Every change a view (a widget, a script) may follow is one signal on the session:

==========================  ===================  ==================================================
signal                      arguments            emitted when
==========================  ===================  ==================================================
``taxonomy_changed``        ``(event, info)``    a class is added/renamed/recoloured/removed/...,
                                                 or the taxonomy is replaced (``event="reset"``)
``active_class_changed``    ``(class_id)``       the active class is set or unset (None)
``findings_changed``        ``()``               the review queue or a finding's status changes
``pipeline_changed``        ``(pipeline)``       the augmentation pipeline is set or loaded
``provenance_recorded``     ``(entry)``          an entry is appended to the provenance log
==========================  ===================  ==================================================

Connect with ``session.taxonomy_changed.connect(fn)``; psygnal holds bound methods weakly, so
a widget that is deleted stops receiving events without a disconnect.

The older methods (``on_taxonomy_changed(fn)`` with ``fn(event, **info)``, ...) keep working:
they connect a small adapter, remembered per ``fn`` so ``disconnect_*`` finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psygnal import SignalInstance

# Callers (and tests) rely on the session's own error types, e.g. a failed provenance write
# raises the ``StoreError`` of the store: emit() re-raises a callback's error as itself.
from ..core.signals import emit

__all__ = ["LegacyListeners", "emit"]


class LegacyListeners:
    """Adapters of old-style listeners, keyed by (signal name, listener)."""

    def __init__(self) -> None:
        self._adapters: dict[tuple[str, Any], Callable[..., Any]] = {}

    def connect(
        self, signal: SignalInstance, fn: Callable[..., Any], adapter: Callable[..., Any]
    ) -> None:
        """Connect ``adapter`` (which calls ``fn``) to ``signal``, once per ``fn``."""
        key = (signal.name, fn)
        if key in self._adapters:
            return
        self._adapters[key] = adapter
        signal.connect(adapter)

    def disconnect(self, signal: SignalInstance, fn: Callable[..., Any]) -> None:
        """Disconnect the adapter of ``fn`` (no error if it was not connected)."""
        adapter = self._adapters.pop((signal.name, fn), None)
        if adapter is not None:
            signal.disconnect(adapter, missing_ok=True)

"""``LabelSession``: the one object that ties a viewer, a taxonomy and the annotation layers.

Every widget talks to the session and every widget action is a session method, so all
that the GUI does can be typed in napari's console (where the session is ``labelsuite``)
or run headless with ``LabelSession(viewer=None)``.

Without a viewer the session keeps its own napari ``LayerList`` (napari layers do not
need Qt), so scripts, notebooks and the command line run the very same code, including
napari's undo history.

The methods are grouped by feature in mixins under ``napari_labelsuite._session``; this
module holds what they share: the viewer binding, the taxonomy, the layer registry and the
provenance log.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from ._napari_compat import unwrap_viewer
from ._session.adjudicate import AdjudicationMixin
from ._session.adopt import AdoptMixin
from ._session.assist import AssistMixin
from ._session.augment import AugmentMixin
from ._session.classifier import ClassifierMixin
from ._session.dataset import DatasetMixin
from ._session.effort import EffortMixin
from ._session.events import LegacyListeners, emit
from ._session.formats import FormatsMixin
from ._session.instances import InstancesMixin
from ._session.interpolate import InterpolateMixin
from ._session.layers import META_KEY, LayersMixin
from ._session.objects import ObjectsMixin
from ._session.qc import QCMixin
from ._session.store import StoreMixin
from ._session.team import TeamMixin
from ._session.view import ViewMixin
from .core.errors import LabelsuiteError, SessionError
from .core.taxonomy import Taxonomy

if TYPE_CHECKING:  # pragma: no cover
    import napari

__all__ = ["META_KEY", "LabelSession"]

#: viewer -> its session. Weak on both sides: a closed viewer frees its session.
_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _unwrap(viewer: Any) -> Any:
    """The real viewer behind napari's ``PublicOnlyProxy`` (widgets receive the proxy)."""
    return unwrap_viewer(viewer)


class LabelSession(
    LayersMixin,
    FormatsMixin,
    InstancesMixin,
    StoreMixin,
    AugmentMixin,
    QCMixin,
    DatasetMixin,
    EffortMixin,
    AdoptMixin,
    InterpolateMixin,
    ClassifierMixin,
    ViewMixin,
    AssistMixin,
    ObjectsMixin,
    # before TeamMixin: review mode turns its per-annotator loading and saving off
    AdjudicationMixin,
    TeamMixin,
):
    """Labeling state of one viewer (or of a headless script).

    Parameters
    ----------
    viewer : napari.Viewer, optional
        The viewer to bind. ``None`` gives a headless session with its own layer list.
    taxonomy : Taxonomy or path, optional
        The class list; a default empty taxonomy otherwise.
    user : str, optional
        Name recorded in the provenance log (defaults to the login name).

    Examples
    --------
    >>> from napari_labelsuite import LabelSession
    >>> s = LabelSession()                       # headless
    >>> s.taxonomy = "classes.yaml"              # doctest: +SKIP
    >>> s = LabelSession.attach(viewer)          # doctest: +SKIP  (the viewer's session)
    """

    #: ``(event, info)`` after each taxonomy change; ``event="reset"`` for a new taxonomy
    taxonomy_changed = Signal(str, dict)
    #: ``(entry)`` after each provenance entry is appended to the log
    provenance_recorded = Signal(dict)

    def __init__(
        self, viewer: napari.Viewer | None = None, taxonomy: Any = None, user: str | None = None
    ) -> None:
        self._viewer_ref = None if viewer is None else weakref.ref(_unwrap(viewer))
        self._own_layers = None
        self._taxonomy: Taxonomy | None = None
        self._legacy_listeners = LegacyListeners()
        self.user = user or _default_user()
        self._history: list[dict[str, Any]] = []
        for base in type(self).__mro__[1:]:
            init = base.__dict__.get("_init_mixin")
            if init is not None:
                init(self)
        self.taxonomy = taxonomy if taxonomy is not None else Taxonomy()

    # -- binding ------------------------------------------------------------------------
    @classmethod
    def attach(cls, viewer: napari.Viewer) -> LabelSession:
        """The session bound to ``viewer``, created the first time it is asked for.

        A new session adopts the classes and roles of the layers already open
        (see :meth:`adopt_layers`); later layers are adopted as they are added.
        """
        real = _unwrap(viewer)
        session = _SESSIONS.get(real)
        if session is None:
            session = cls(real)
            _SESSIONS[real] = session
            # layers opened before the session existed (a sample, a store) bring their classes
            try:
                session.adopt_layers()
            except LabelsuiteError as exc:  # a class conflict must not prevent the session
                warnings.warn(str(exc), stacklevel=2)
        return session

    @classmethod
    def of(cls, viewer: napari.Viewer) -> LabelSession | None:
        """The session already bound to ``viewer``, or None (unlike :meth:`attach`)."""
        return _SESSIONS.get(_unwrap(viewer))

    @property
    def viewer(self) -> napari.Viewer | None:
        """The bound viewer, or None for a headless session."""
        return None if self._viewer_ref is None else self._viewer_ref()

    @property
    def headless(self) -> bool:
        return self._viewer_ref is None

    def require_viewer(self) -> napari.Viewer:
        v = self.viewer
        if v is None:
            raise SessionError("this needs a napari viewer; the session is headless")
        return v

    @property
    def layers(self):
        """The viewer's layer list, or the session's own list when headless."""
        v = self.viewer
        if v is not None:
            return v.layers
        if self._viewer_ref is not None:
            raise SessionError("the viewer of this session has been closed")
        if self._own_layers is None:
            from napari.components import LayerList

            self._own_layers = LayerList()
        return self._own_layers

    def push_to_console(self, name: str = "labelsuite") -> None:
        """Make the session available in napari's console as ``name``."""
        v = self.viewer
        if v is not None:
            v.update_console({name: self})

    # -- taxonomy --------------------------------------------------------------------------
    @property
    def taxonomy(self) -> Taxonomy:
        """The class list every managed layer obeys (set a Taxonomy or a file path)."""
        assert self._taxonomy is not None
        return self._taxonomy

    @taxonomy.setter
    def taxonomy(self, value: Taxonomy | str | Any) -> None:
        self.set_taxonomy(value)

    def set_taxonomy(
        self,
        taxonomy: Taxonomy | str | Any,
        remap: dict[int | str, int | str] | None = None,
        force: bool = False,
    ) -> Taxonomy:
        """Replace the class list (a Taxonomy or a file path); the layers follow.

        Refused with a :class:`TaxonomyError` when a class used by a managed layer would
        disappear or change its name under the same id, since the labels would silently
        change meaning. ``remap`` ({old id or name: new id or name}) says where such
        classes go: masks, instance tables and boxes are relabelled (mask edits go through
        napari's undo history) and the mapping is recorded in the provenance log.
        ``force`` skips the check (the ids are kept as they are).
        """
        tax = taxonomy if isinstance(taxonomy, Taxonomy) else Taxonomy.load(taxonomy)
        mapping = self._check_taxonomy_swap(tax, remap, force=force)
        self._replace_taxonomy(tax, mapping, force=force)
        return tax

    def _replace_taxonomy(self, tax: Taxonomy, mapping: dict[int, int], force: bool) -> None:
        """Swap in ``tax`` (already checked), relabel by ``mapping``, rebind the layers."""
        old = self._taxonomy
        if old is not None:
            old.disconnect(self._on_taxonomy_event)
        self._taxonomy = tax
        tax.connect(self._on_taxonomy_event)
        if mapping:
            self._remap_class_ids(mapping)
        if old is not None or len(tax):
            extra: dict[str, Any] = {"remap": mapping} if mapping else {}
            if force:
                extra["force"] = True
            self._record("set_taxonomy", classes=len(tax), name=tax.name, **extra)
        self._on_taxonomy_event("reset")

    def _on_taxonomy_event(self, event: str, **info: Any) -> None:
        """Fan taxonomy changes out to the layers (LayersMixin) and to listeners."""
        self._sync_layers_to_taxonomy(event, **info)
        emit(self.taxonomy_changed, event, info)

    def on_taxonomy_changed(self, fn: Callable[..., Any]) -> None:
        """Call ``fn(event, **info)`` after each taxonomy change.

        Same as ``taxonomy_changed.connect`` with a callback taking ``(event, info)``.
        """
        self._legacy_listeners.connect(
            self.taxonomy_changed, fn, lambda event, info: fn(event, **info)
        )

    def disconnect_taxonomy(self, fn: Callable[..., Any]) -> None:
        """Stop calling ``fn`` (connected by :meth:`on_taxonomy_changed`)."""
        self._legacy_listeners.disconnect(self.taxonomy_changed, fn)

    # -- provenance ------------------------------------------------------------------------
    def _record(self, action: str, **params: Any) -> dict[str, Any]:
        """Append one entry (who, when, what, parameters) to the provenance log."""
        entry = {
            "user": self.user,
            "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "action": action,
            "params": {k: _jsonable(v) for k, v in params.items()},
        }
        self._history.append(entry)
        emit(self.provenance_recorded, entry)
        return entry

    def history(self) -> list[dict[str, Any]]:
        """The provenance log of this session: one dict per change, oldest first."""
        return list(self._history)

    def __repr__(self) -> str:
        where = "headless" if self.headless else "viewer"
        return f"LabelSession({where}, {len(self.taxonomy)} classes, user={self.user!r})"


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _jsonable(v: Any) -> Any:
    """Parameters as JSON-friendly values (arrays and layers are summarised)."""
    import numpy as np

    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        if len(v) > 50:
            return f"<{len(v)} items>"
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        return f"<array {tuple(v.shape)} {v.dtype}>"
    if hasattr(v, "name") and hasattr(v, "data"):
        return f"<layer {v.name!r}>"
    return repr(v)[:200]

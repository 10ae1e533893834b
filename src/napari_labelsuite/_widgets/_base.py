"""What every dock widget shares: the session, error notifications, background work."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QEvent, QSize, QTimer
from qtpy.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import LabelsuiteError
from ..session import LabelSession

if TYPE_CHECKING:  # pragma: no cover
    import napari

__all__ = ["MAX_MIN_HEIGHT", "MAX_MIN_WIDTH", "SessionWidget", "short_path"]

#: the most a dock widget may ask for (a 1,366 x 768 screen minus napari's own panels)
MAX_MIN_HEIGHT = 240
MAX_MIN_WIDTH = 360


class SessionWidget(QWidget):
    """Base dock widget bound to the viewer's :class:`LabelSession`.

    Subclasses build their controls in ``__init__`` after calling ``super().__init__``
    and call session methods through :meth:`guarded` (synchronous) or
    :meth:`run_in_worker` (long work off the GUI thread, with a progress bar).

    Whatever ties a widget to the viewer or the session (key bindings, session and layer
    listeners, timers, workers) is released by :meth:`close_bindings`; subclasses extend
    :meth:`_release`. It runs once, on whichever comes first: a close event, the widget
    being taken out of its dock (napari's ``remove_dock_widget``, also behind the dock's
    close button, only detaches the widget and sends no close event), or the widget being
    destroyed. A released widget stays released: docking it again does not rebind
    anything, so add a new widget instead.
    """

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.session = LabelSession.attach(viewer)
        self.session.push_to_console()
        # layers opened before the widget (a sample, a store) bring their classes
        self.guarded(self.session.adopt_layers)
        self._workers: list[Any] = []
        self._released = False
        self._docked = parent is not None
        # the controls live in a scroll area: a dock never needs more height than the
        # screen has (napari stacks docks; a laptop screen is 768 px high)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.content = QWidget()
        self._content_layout = QVBoxLayout(self.content)
        self._content_layout.setContentsMargins(4, 4, 4, 4)
        self.scroll_area.setWidget(self.content)
        outer.addWidget(self.scroll_area)
        # a weak reference: a slot holding the widget would keep a parentless one alive
        ref = weakref.ref(self)
        self.destroyed.connect(lambda *_: _release_ref(ref))

    def layout(self) -> QVBoxLayout:  # type: ignore[override]
        """The layout of the scrolled content, where subclasses add their controls."""
        return self._content_layout

    def add_form(self, rows: Iterable[tuple[str, QWidget]]) -> QFormLayout:
        """Add labelled controls, one ``(label, widget)`` a row, to the content."""
        form = QFormLayout()
        for label, w in rows:
            form.addRow(label, w)
        box = QWidget()
        box.setLayout(form)
        self.layout().addWidget(box)
        return form

    def add_buttons(
        self,
        actions: Iterable[tuple[str, Callable[[], Any]]],
        into: QGridLayout | None = None,
    ) -> dict[str, QPushButton]:
        """Add one button per ``(text, callback)`` in a two-column grid; the buttons by text.

        Without ``into`` the grid is new and goes at the end of the content.
        """
        grid = QGridLayout() if into is None else into
        buttons: dict[str, QPushButton] = {}
        for k, (text, fn) in enumerate(actions):
            b = QPushButton(text)
            b.clicked.connect(fn)
            grid.addWidget(b, k // 2, k % 2)
            buttons[text] = b
        if into is None:
            box = QWidget()
            box.setLayout(grid)
            self.layout().addWidget(box)
        return buttons

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        """Small enough for a 1,366 x 768 screen: the content scrolls instead."""
        hint = self.content.minimumSizeHint()
        return QSize(min(hint.width(), MAX_MIN_WIDTH), min(hint.height(), MAX_MIN_HEIGHT))

    # -- docking -------------------------------------------------------------------------
    def _tabify_with_siblings(self) -> None:
        """Put this widget's dock in a tab next to the other Label Suite docks.

        Docks opened one by one from the Plugins menu would otherwise stack into a column
        taller than a laptop screen.
        """
        from qtpy.QtWidgets import QDockWidget, QMainWindow

        if self._released:  # closed (or deleted) before the deferred call ran
            return
        dock = self.parent()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parent()
        if dock is None or dock.isFloating():
            return
        window = dock.parent()
        if not isinstance(window, QMainWindow):
            return
        area = window.dockWidgetArea(dock)
        for other in window.findChildren(QDockWidget):
            if (
                other is not dock
                and not other.isFloating()
                and other.isVisible()
                and window.dockWidgetArea(other) == area
                and other.findChildren(SessionWidget)
            ):
                if dock not in window.tabifiedDockWidgets(other):
                    window.tabifyDockWidget(other, dock)
                dock.show()
                dock.raise_()
                return

    # -- lifetime ----------------------------------------------------------------------
    def close_bindings(self) -> None:
        """Release keys, listeners, timers and workers of this widget (idempotent)."""
        if self._released:
            return
        self._released = True
        self._release()

    def _release(self) -> None:
        """Undo what ``__init__`` tied to the viewer and session; extend with ``super()``.

        Running workers are asked to stop (generator workers stop at their next yield and
        their result is dropped, like a cancel).
        """
        for worker in list(self._workers):
            worker.quit()

    def event(self, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.ParentChange:
            if self.parent() is not None:
                self._docked = True
                # after napari has added the dock to its window
                QTimer.singleShot(0, self._tabify_with_siblings)
            elif self._docked:
                # taken out of its dock; docking itself moves from no parent to the dock
                self.close_bindings()
        return super().event(event)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.close_bindings()
        super().closeEvent(event)

    # -- errors ------------------------------------------------------------------------
    def guarded(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn``; a LabelsuiteError becomes a napari error notification (returns None)."""
        try:
            return fn(*args, **kwargs)
        except LabelsuiteError as exc:
            show_error(str(exc))
            return None

    @staticmethod
    def info(message: str) -> None:
        show_info(message)

    @staticmethod
    def warn(message: str) -> None:
        show_warning(message)

    # -- background work ---------------------------------------------------------------
    def run_in_worker(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        description: str = "",
        total: int = 0,
        **kwargs: Any,
    ):
        """Run ``fn(*args, **kwargs)`` in a thread worker with a napari progress bar.

        If ``fn`` is a generator it may yield progress increments (ints); ``total`` is then
        the number of steps. Errors are shown as notifications. Returns the started worker
        (``worker.quit()`` cancels a generator at its next yield).
        """
        from napari.qt.threading import create_worker

        progress = {"total": total, "desc": description} if description or total else None
        # errors are shown as notifications below; don't also re-raise them in the event loop
        kwargs.setdefault("_ignore_errors", True)
        worker = create_worker(fn, *args, _progress=progress, **kwargs)

        def _done(result: Any) -> None:
            if on_done is not None:
                self.guarded(on_done, result)

        def _error(exc: BaseException) -> None:
            show_error(str(exc) if isinstance(exc, LabelsuiteError) else repr(exc))

        worker.returned.connect(_done)
        worker.errored.connect(_error)
        worker.finished.connect(
            lambda: self._workers.remove(worker) if worker in self._workers else None
        )
        self._workers.append(worker)
        worker.start()
        return worker


def short_path(path: Any) -> str:
    """The last part of a path or URL, for notifications.

    napari's notifications show one elided line at first, and a long path is cut there
    (and its underscores clipped); the full path belongs in the widget and its tooltip.
    """
    text = str(path).rstrip("/\\")
    return text.replace("\\", "/").rsplit("/", 1)[-1] or text


def _release_ref(ref: weakref.ref) -> None:
    widget = ref()
    if widget is not None:
        widget.close_bindings()

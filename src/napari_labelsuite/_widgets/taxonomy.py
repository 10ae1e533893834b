"""The "Class taxonomy" dock widget.

Every control calls one :class:`~napari_labelsuite.LabelSession` method:

=====================  =========================================================
control                session method
=====================  =========================================================
click a class, keys    ``set_active_class(cls)`` (keys 1-9 and class hotkeys)
Add                    ``add_class(name, parent=, hotkey=, description=)``
Apply                  ``rename_class`` + ``update_class``
Colour...              ``recolor_class(cls, color)``
Delete                 ``remove_class(cls, remap_to=)``
Merge into             ``merge_classes(src, dst)``
Up / Down              ``taxonomy.reorder(ids)``
Load / Save            ``session.taxonomy = path`` / ``taxonomy.save(path)``
Count                  ``class_counts()`` (in a worker thread)
Boxes / instance       ``set_box_class``, ``set_box_attributes``, ``set_object_class``,
                       ``set_object_attributes``
box names              ``set_box_text(mode)`` (auto: only when zoomed in enough)
=====================  =========================================================
"""

from __future__ import annotations

import weakref
from typing import Any

import napari
from qtpy.QtCore import Qt
from qtpy.QtGui import QColor, QIcon, QPixmap
from qtpy.QtWidgets import (
    QColorDialog,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
)

from .._session.layers import MARK_ROLES, ROLES, role_of
from .._session.view import BOX_TEXT_MODES
from ..core.taxonomy import Taxonomy
from ._base import SessionWidget

COLUMNS = ["", "id", "name", "key", "pixels", "instances", "boxes"]
_COUNT_COLS = {"pixels": 4, "instances": 5, "boxes": 6}


def _swatch(rgba: Any) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(QColor.fromRgbF(*[float(c) for c in rgba]))
    return QIcon(pix)


class TaxonomyWidget(SessionWidget):
    """Class list: tree with swatches and counts, editing, active class, hotkeys."""

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        self._bound_keys: dict[str, Any] = {}
        # (layer, key) -> the layer's own binding our key replaced (restored on close)
        self._layer_keys: dict[tuple[int, str], tuple[Any, Any]] = {}
        self._key_actions: dict[str, Any] = {}
        self._items: dict[int, QTreeWidgetItem] = {}
        self.counts: dict[int, dict[str, int]] = {}
        lay = self.layout()

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setColumnCount(len(COLUMNS))
        # every column as wide as its content; the tree scrolls sideways instead of
        # hiding the counts behind its scrollbar
        header = self.tree.header()
        assert header is not None  # a QTreeWidget always has one
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.setMinimumHeight(140)
        self.tree.itemClicked.connect(lambda item, _col: self.select_class(self._item_id(item)))
        lay.addWidget(self.tree)

        row = QHBoxLayout()
        for text, slot in (
            ("Up", lambda: self.move_selected(-1)),
            ("Down", lambda: self.move_selected(1)),
            ("Colour...", self._pick_color),
            ("Count", self.refresh_counts),
            ("Load...", self._load_dialog),
            ("Save...", self._save_dialog),
        ):
            btn = QPushButton(text)
            btn.clicked.connect(slot)
            row.addWidget(btn)
        lay.addLayout(row)

        self.guideline = QLabel()
        self.guideline.setWordWrap(True)
        self.guideline.setTextFormat(Qt.TextFormat.PlainText)
        guide_box = QGroupBox("Guideline for the active class")
        QHBoxLayout(guide_box).addWidget(self.guideline)
        lay.addWidget(guide_box)

        form_box = QGroupBox("Class")
        form = QFormLayout(form_box)
        self.name_edit = QLineEdit()
        self.hotkey_edit = QLineEdit()
        self.hotkey_edit.setMaxLength(1)
        self.parent_combo = QComboBox()
        self.description_edit = QPlainTextEdit()
        self.description_edit.setMaximumHeight(70)
        self.target_combo = QComboBox()
        form.addRow("name", self.name_edit)
        form.addRow("hotkey", self.hotkey_edit)
        form.addRow("parent", self.parent_combo)
        form.addRow("definition", self.description_edit)
        buttons = QHBoxLayout()
        for text, slot in (
            ("Add", self.add_from_form),
            ("Apply", self.apply_form),
            ("Delete", self.delete_selected),
            ("Merge into", self.merge_selected),
        ):
            btn = QPushButton(text)
            btn.clicked.connect(slot)
            buttons.addWidget(btn)
        form.addRow(buttons)
        form.addRow("remap / merge to", self.target_combo)
        lay.addWidget(form_box)

        obj_box = QGroupBox("Selected boxes / instance")
        obj = QFormLayout(obj_box)
        self.instance_spin = QSpinBox()
        self.instance_spin.setRange(1, 2**31 - 1)
        self.attr_combo = QComboBox()
        self.attr_value = QLineEdit()
        obj.addRow("instance id", self.instance_spin)
        self.box_text_combo = QComboBox()
        self.box_text_combo.addItems(list(BOX_TEXT_MODES))
        self.box_text_combo.setItemText(0, "auto (when zoomed in)")
        self.box_text_combo.setCurrentIndex(BOX_TEXT_MODES.index(self.session.box_text_mode))
        self.box_text_combo.setToolTip("when boxes show their class name")
        self.box_text_combo.currentIndexChanged.connect(
            lambda i: self.guarded(self.session.set_box_text, BOX_TEXT_MODES[i])
        )
        obj.addRow("box names", self.box_text_combo)
        obj.addRow("attribute", self.attr_combo)
        obj.addRow("value", self.attr_value)
        obj_buttons = QHBoxLayout()
        for text, slot in (
            ("Class -> boxes", self.apply_class_to_boxes),
            ("Class -> instance", self.apply_class_to_instance),
            ("Set attribute", self.apply_attribute),
        ):
            btn = QPushButton(text)
            btn.clicked.connect(slot)
            obj_buttons.addWidget(btn)
        obj.addRow(obj_buttons)
        lay.addWidget(obj_box)

        self.session.taxonomy_changed.connect(self._on_taxonomy)
        self.session.active_class_changed.connect(self._on_active_class)
        # napari looks keys up in the active layer's keymap before the viewer's, and Labels
        # and Shapes bind 1-7 to their modes, so managed layers get the class keys too
        # (and a layer becomes managed when its metadata gets a role)
        self._watched: weakref.WeakSet = weakref.WeakSet()
        self.viewer.layers.selection.events.active.connect(self._bind_layer_keys)
        self.viewer.layers.events.inserted.connect(self._bind_layer_keys)
        self.refresh()

    # -- tree ---------------------------------------------------------------------------
    def _item_id(self, item: QTreeWidgetItem | None) -> int | None:
        return None if item is None else int(item.data(0, Qt.ItemDataRole.UserRole))

    def selected_id(self) -> int | None:
        """The class selected in the tree, else the session's active class."""
        cid = self._item_id(self.tree.currentItem())
        return cid if cid is not None else self.session.active_class

    def refresh(self) -> None:
        """Rebuild tree, combos, guideline and key bindings from the taxonomy."""
        tax = self.session.taxonomy
        self.tree.clear()
        self._items = {}
        for c in tax:
            item = QTreeWidgetItem()
            item.setData(0, Qt.ItemDataRole.UserRole, c.id)
            item.setIcon(0, _swatch(c.color))
            item.setText(1, str(c.id))
            item.setText(2, c.name)
            item.setText(3, c.hotkey or "")
            for col in range(len(COLUMNS)):
                item.setToolTip(col, c.description or c.name)
            self._items[c.id] = item
        for c in tax:
            item = self._items[c.id]
            if c.parent is not None and c.parent in self._items:
                self._items[c.parent].addChild(item)
            else:
                self.tree.addTopLevelItem(item)
        self.tree.expandAll()
        self._show_counts()
        for combo, first in ((self.parent_combo, "(top level)"), (self.target_combo, "(none)")):
            combo.clear()
            combo.addItem(first, None)
            for c in tax:
                combo.addItem(c.name, c.id)
        self.attr_combo.clear()
        for name in dict.fromkeys(a.name for c in tax for a in c.attributes):
            self.attr_combo.addItem(name)
        active = self.session.active_class
        if active in self._items:
            self.tree.setCurrentItem(self._items[active])
        self._show_guideline()
        self._bind_keys()

    def _on_taxonomy(self, event: str, info: dict[str, Any]) -> None:
        self.refresh()

    def _on_active_class(self, cid: int | None) -> None:
        """Follow the session's active class (set here, by a key or from the console)."""
        if cid in self._items:
            self.tree.setCurrentItem(self._items[cid])
            self._fill_form(cid)
        self._show_guideline()

    def _show_guideline(self) -> None:
        cid = self.session.active_class
        if cid is None or cid not in self.session.taxonomy:
            self.guideline.setText("No active class: click a class or press 1-9.")
            return
        c = self.session.taxonomy[cid]
        self.guideline.setText(f"{c.name}: {c.description or '(no definition yet)'}")

    # -- active class and keys ---------------------------------------------------------------
    def select_class(self, cls: int | str | None) -> None:
        """Make ``cls`` the active class (tree click and hotkeys)."""
        if cls is None:
            return
        # the tree row, form and guideline follow via _on_active_class
        self.guarded(self.session.set_active_class, cls)

    def _fill_form(self, cid: int) -> None:
        c = self.session.taxonomy[cid]
        self.name_edit.setText(c.name)
        self.hotkey_edit.setText(c.hotkey or "")
        self.parent_combo.setCurrentIndex(max(0, self.parent_combo.findData(c.parent)))
        self.description_edit.setPlainText(c.description)

    def _bind_keys(self) -> None:
        self._unbind_keys()
        self._key_actions = {
            key: _key_action(self, cid) for key, cid in self.session.class_hotkeys().items()
        }
        for key, action in self._key_actions.items():
            previous = self.viewer.bind_key(key, action, overwrite=True)
            self._bound_keys[key] = previous
        self._bind_layer_keys()

    def _bind_layer_keys(self, event: Any = None) -> None:
        """Bind the class keys on every managed layer (they win over napari's mode keys)."""
        for layer in list(self.viewer.layers):
            if layer not in self._watched:
                layer.events.metadata.connect(self._bind_layer_keys)
                self._watched.add(layer)
            if role_of(layer) not in ROLES + MARK_ROLES:
                continue
            for key, action in self._key_actions.items():
                slot = (id(layer), key)
                if slot in self._layer_keys and self._layer_keys[slot][0]() is layer:
                    continue
                previous = layer.bind_key(key, action, overwrite=True)
                self._layer_keys[slot] = (weakref.ref(layer), previous)

    def _unbind_keys(self) -> None:
        # restore in reverse so a key bound twice (e.g. "n" and "N") ends on the original
        for key, previous in reversed(list(self._bound_keys.items())):
            self.viewer.bind_key(key, previous, overwrite=True)
        self._bound_keys = {}
        for (_, key), (ref, previous) in reversed(list(self._layer_keys.items())):
            layer = ref()
            if layer is not None:
                layer.bind_key(key, previous, overwrite=True)
        self._layer_keys = {}
        self._key_actions = {}

    def _release(self) -> None:
        """Unbind the class keys (restoring earlier bindings) and stop listening."""
        super()._release()
        self._unbind_keys()
        self.session.taxonomy_changed.disconnect(self._on_taxonomy)
        self.session.active_class_changed.disconnect(self._on_active_class)
        for emitter in (
            self.viewer.layers.selection.events.active,
            self.viewer.layers.events.inserted,
        ):
            emitter.disconnect(self._bind_layer_keys)
        for layer in list(self._watched):
            layer.events.metadata.disconnect(self._bind_layer_keys)
        self._watched = weakref.WeakSet()

    # -- editing ---------------------------------------------------------------------------
    def add_from_form(self) -> None:
        name = self.name_edit.text().strip()
        self.guarded(
            self.session.add_class,
            name,
            parent=self.parent_combo.currentData(),
            hotkey=self.hotkey_edit.text().strip() or None,
            description=self.description_edit.toPlainText().strip(),
        )

    def apply_form(self) -> None:
        cid = self.selected_id()
        if cid is None:
            self.warn("Select a class first.")
            return
        name = self.name_edit.text().strip()
        if (
            name != self.session.taxonomy[cid].name
            and self.guarded(self._rename, cid, name) is None
        ):
            return
        self.guarded(
            self.session.update_class,
            cid,
            parent=self.parent_combo.currentData(),
            hotkey=self.hotkey_edit.text().strip() or None,
            description=self.description_edit.toPlainText().strip(),
        )

    def _rename(self, cid: int, name: str) -> bool:
        self.session.rename_class(cid, name)
        return True

    def recolor_selected(self, color: Any) -> None:
        cid = self.selected_id()
        if cid is not None:
            self.guarded(self.session.recolor_class, cid, color)

    def _pick_color(self) -> None:
        cid = self.selected_id()
        if cid is None:
            return
        rgba = self.session.taxonomy[cid].color or (1.0, 1.0, 1.0, 1.0)
        chosen = QColorDialog.getColor(QColor.fromRgbF(*rgba), self, "Class colour")
        if chosen.isValid():
            self.recolor_selected(chosen.name())

    def delete_selected(self) -> None:
        cid = self.selected_id()
        if cid is not None:
            self.guarded(self.session.remove_class, cid, remap_to=self.target_combo.currentData())

    def merge_selected(self) -> None:
        cid, dst = self.selected_id(), self.target_combo.currentData()
        if cid is None or dst is None:
            self.warn("Select a class and the class to merge it into.")
            return
        self.guarded(self.session.merge_classes, cid, dst)

    def move_selected(self, step: int) -> None:
        cid = self.selected_id()
        if cid is not None:
            self.guarded(self.session.move_class, cid, step)

    # -- objects ---------------------------------------------------------------------------
    def apply_class_to_boxes(self) -> None:
        cid = self.selected_id()
        if cid is not None:
            self.guarded(self.session.set_box_class, cid)

    def apply_class_to_instance(self) -> None:
        cid = self.selected_id()
        if cid is not None:
            self.guarded(self.session.set_object_class, self.instance_spin.value(), cid)

    def apply_attribute(self) -> None:
        name, value = self.attr_combo.currentText(), self.attr_value.text()
        if not name:
            return
        layer = self.viewer.layers.selection.active
        if layer is not None and layer is self.session.instances:
            self.guarded(
                self.session.set_object_attributes, self.instance_spin.value(), **{name: value}
            )
        else:
            self.guarded(self.session.set_box_attributes, **{name: value})

    # -- files -----------------------------------------------------------------------------
    def load_taxonomy(self, path: str) -> Taxonomy | None:
        """Load a taxonomy file into the session (errors become notifications)."""
        return self.guarded(self._set_taxonomy, path)

    def _set_taxonomy(self, path: str) -> Taxonomy:
        self.session.taxonomy = path
        return self.session.taxonomy

    def save_taxonomy(self, path: str) -> None:
        self.guarded(self.session.taxonomy.save, path)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load taxonomy", "", "Taxonomy (*.yaml *.yml *.json)"
        )
        if path:
            self.load_taxonomy(path)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save taxonomy", "classes.yaml", "Taxonomy (*.yaml *.yml *.json)"
        )
        if path:
            self.save_taxonomy(path)

    # -- counts ----------------------------------------------------------------------------
    def refresh_counts(self):
        """Count pixels, instances and boxes per class in a worker thread."""

        def work():
            return self.session.class_counts()

        return self.run_in_worker(work, on_done=self._set_counts, description="Counting classes")

    def _set_counts(self, counts: dict[int, dict[str, int]]) -> None:
        self.counts = counts
        self._show_counts()

    def _show_counts(self) -> None:
        for cid, item in self._items.items():
            row = self.counts.get(cid, {})
            for key, col in _COUNT_COLS.items():
                item.setText(col, str(row[key]) if key in row else "")


def _key_action(widget: TaxonomyWidget, cid: int):
    """A key binding that activates class ``cid``.

    napari calls it with the viewer or the active layer, binds it as a method and reads
    its ``__name__`` (to find repeatable shortcuts), so it must be a plain function.
    """
    ref = weakref.ref(widget)

    def select_labelsuite_class(_source: Any = None) -> None:
        w = ref()
        if w is not None:
            w.select_class(cid)

    select_labelsuite_class.__name__ = f"select_labelsuite_class_{cid}"
    return select_labelsuite_class

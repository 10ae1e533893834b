"""The "Classifier" dock widget: scribbles -> random forest -> labels, and what to label next.

Every control calls one ``LabelSession`` method (see ``docs/classifier.md``). Training,
prediction and suggestions run in workers with a progress bar: the worker calls the
session's compute method (``fit_classifier``, ``predict_classifier(show=False)``,
``rank_next``) and the GUI thread records the result (``use_classifier``,
``show_prediction``, ``apply_classifier(prediction=...)``, ``set_suggestions``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import napari
from qtpy.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..core.classifier import KINDS
from ..core.errors import ClassifierError
from ._base import SessionWidget

KIND_LABELS = {
    "intensity": "Gaussian",
    "gradient": "gradient magnitude",
    "log": "Laplacian of Gaussian",
    "dog": "difference of Gaussians",
    "hessian": "Hessian eigenvalues",
    "structure": "structure tensor eigenvalues",
}


class ClassifierWidget(SessionWidget):
    """Paint strokes per class, train, preview, apply; rank images or tiles to label next."""

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        feats = self.session.classifier_features
        self.kinds: dict[str, QCheckBox] = {}
        kinds_box = QGridLayout()
        for k, kind in enumerate(KINDS):
            cb = QCheckBox(KIND_LABELS[kind])
            cb.setChecked(kind in feats.kinds)
            # one column: two columns of these long names overflow a laptop-width dock
            kinds_box.addWidget(cb, k, 0)
            self.kinds[kind] = cb
        kinds_widget = QWidget()
        kinds_widget.setLayout(kinds_box)
        self.layout().addWidget(QLabel("Features"))
        self.layout().addWidget(kinds_widget)
        self.sigmas = QLineEdit(", ".join(f"{s:g}" for s in feats.sigmas))
        self.sigmas.setToolTip("scales in pixels, comma separated")
        self.trees = QSpinBox()
        self.trees.setRange(1, 1000)
        self.trees.setValue(50)
        self.live = QCheckBox("update after each training")
        self.live.setChecked(True)
        self.show_uncertainty = QCheckBox("show uncertainty")
        self.show_uncertainty.toggled.connect(self._toggle_uncertainty)
        self.n_suggest = QSpinBox()
        self.n_suggest.setRange(1, 100)
        self.n_suggest.setValue(5)
        self.add_form(
            [
                ("scales", self.sigmas),
                ("trees", self.trees),
                ("preview", self.live),
                ("", self.show_uncertainty),
                ("suggestions", self.n_suggest),
            ]
        )
        self.buttons: dict[str, QPushButton] = self.add_buttons(
            [
                ("Scribbles layer", self.add_scribbles),
                ("Train", self.train),
                ("Predict view", self.predict_view),
                ("Apply to image", self.apply_to_image),
                ("Apply to store", self.apply_to_store),
                ("Apply to dataset", self.apply_to_dataset),
                ("To instances", self.to_instances),
                ("Suggest next", self.suggest),
                ("Save...", lambda: self.save()),
                ("Load...", lambda: self.load()),
            ]
        )
        self.queue = QListWidget()
        self.queue.setToolTip("what to label next, best first (double-click to go there)")
        self.queue.itemDoubleClicked.connect(lambda item: self.goto(self.queue.row(item)))
        row = QHBoxLayout()
        row.addWidget(self.queue)
        row_widget = QWidget()
        row_widget.setLayout(row)
        self.layout().addWidget(row_widget)
        self.status = QLabel("Paint strokes of two or more classes, then Train.")
        self.status.setWordWrap(True)
        self.layout().addWidget(self.status)
        self.layout().addStretch(1)
        self.session.suggestions_changed.connect(self._show_queue)
        self.session.classifier_changed.connect(self._show_classifier)

    def _release(self) -> None:
        self.session.suggestions_changed.disconnect(self._show_queue)
        self.session.classifier_changed.disconnect(self._show_classifier)
        super()._release()

    # -- inputs ----------------------------------------------------------------------------
    def _read_features(self) -> None:
        """Pass the chosen features to the session (raises on a bad selection)."""
        text = self.sigmas.text().replace(";", ",")
        try:
            sigmas = [float(x) for x in text.split(",") if x.strip()]
        except ValueError as exc:
            raise ClassifierError(
                "scales must be numbers separated by commas", field="scales", value=text
            ) from exc
        kinds = [k for k, cb in self.kinds.items() if cb.isChecked()]
        self.session.set_classifier_features(kinds=kinds, sigmas=sigmas)

    def _ready_to_train(self) -> bool:
        self._read_features()
        if self.session.scribbles_layer is None:
            raise ClassifierError(
                "add a scribbles layer and paint strokes first", field="scribbles", value=None
            )
        return True

    def _say(self, text: str) -> None:
        self.status.setText(text)

    # -- views of session state --------------------------------------------------------------
    def _show_classifier(self, clf: Any) -> None:
        counts = ", ".join(
            f"{self._class_name(c)}: {n} px" for c, n in clf.n_scribbled_pixels_.items()
        )
        self._say(f"Trained on {counts}.")

    def _class_name(self, cid: int) -> str:
        return self.session.taxonomy[cid].name if cid in self.session.taxonomy else str(cid)

    def _show_queue(self, queue: Any = None) -> None:
        self.queue.clear()
        for q in self.session.suggestions:
            where = q["key"] if q["region"] is None else f"tile {q['key']}"
            self.queue.addItem(
                f"{where}  score {q['score']:.2f} (uncertain {q['uncertainty']:.2f}, "
                f"rare {q['rarity']:.2f}, new {q['novelty']:.2f})"
            )

    def _toggle_uncertainty(self, on: bool) -> None:
        layer = self.session.classifier_layers()["uncertainty"]
        if layer is not None:
            layer.visible = bool(on)

    # -- actions -----------------------------------------------------------------------------
    def add_scribbles(self) -> Any:
        """The selected plain Labels layer becomes the scribbles layer, else one is added
        (or the existing one selected); class keys choose the painted class."""
        from napari.layers import Labels

        active = self.viewer.layers.selection.active
        pick = isinstance(active, Labels) and not (active.metadata or {}).get("labelsuite")
        layer = self.guarded(self.session.add_scribbles_layer, active if pick else None)
        if layer is not None:
            layer.mode = "paint"
            self._say("Paint strokes with the class keys, then Train.")
        return layer

    def train(self) -> Any:
        """Train in a worker; the GUI thread adopts the result, then previews the view."""
        if not self.guarded(self._ready_to_train):
            return None
        self._say("Training...")

        def done(clf: Any) -> None:
            self.session.use_classifier(clf)
            if self.live.isChecked():
                self.predict_view()

        return self.run_in_worker(
            self.session.fit_classifier,
            on_done=done,
            description="training the pixel classifier",
            n_estimators=self.trees.value(),
        )

    def predict_view(self) -> Any:
        """Predict what the viewer shows (worker); update the preview layers."""
        if self.session.classifier is None:
            self.warn("train or load a classifier first")
            return None
        region = self.guarded(self.session.view_region)
        if region is None:
            return None

        def done(result: Any) -> None:
            self.session.show_prediction(result)
            self._toggle_uncertainty(self.show_uncertainty.isChecked())
            self._say(self.status.text().split(" Preview")[0] + " Preview updated.")

        return self.run_in_worker(
            self.session.predict_classifier,
            region,
            show=False,
            on_done=done,
            description="predicting the view",
        )

    def apply_to_image(self) -> Any:
        """Predict the whole image (worker), write it into the semantic layer (one undo)."""
        if self.session.classifier is None:
            self.warn("train or load a classifier first")
            return None

        def done(result: Any) -> None:
            n = self.session.apply_classifier(prediction=result)
            self._say(f"Applied: {n} pixels labelled (Ctrl-Z undoes it).")

        return self.run_in_worker(
            self.session.predict_classifier,
            None,
            show=False,
            on_done=done,
            description="predicting the image",
        )

    def apply_to_store(self) -> Any:
        """Predict the open store's image into its 'classifier' label image (worker)."""
        if self.session.store is None:
            self.warn("open a mask store first")
            return None
        return self.run_in_worker(
            self.session.apply_classifier_to_store,
            on_done=lambda la: self._say(f"Store label image '{la.name}' written."),
            description="classifying the store",
        )

    def apply_to_dataset(self) -> Any:
        """Classify and save every image of the dataset (worker)."""
        if self.session.dataset is None:
            self.warn("open a dataset first")
            return None
        return self.run_in_worker(
            self.session.apply_classifier_to_dataset,
            on_done=lambda out: self._say(f"Classified {len(out)} images of the dataset."),
            description="classifying the dataset",
        )

    def to_instances(self) -> Any:
        """Connected components of the semantic layer become instances (instance tools)."""
        layer = self.guarded(self.session.semantic_to_instances)
        if layer is not None:
            self._say(f"Instances in '{layer.name}': split touching ones in the Instances dock.")
        return layer

    def suggest(self) -> Any:
        """Rank images (dataset) or tiles (this image) in a worker; show the queue."""
        if self.session.classifier is None:
            self.warn("train or load a classifier first")
            return None

        def done(queue: Any) -> None:
            self.session.set_suggestions(queue)
            if not queue:
                self._say("Nothing to suggest: every image or tile already has labels.")

        return self.run_in_worker(
            self.session.rank_next,
            self.n_suggest.value(),
            on_done=done,
            description="ranking what to label next",
        )

    def goto(self, k: int) -> Any:
        """Show suggestion ``k`` (its image, or its tile)."""
        return self.guarded(self.session.goto_suggestion, k)

    def save(self, path: str | None = None) -> Any:
        """Save the classifier to a file (asks for one when ``path`` is None)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save classifier", "", "Classifier (*.lsclf)"
            )
            if not path:
                return None
        where = self.guarded(self.session.save_classifier, path)
        if where is not None:
            self._say(f"Saved to {Path(where).name}.")
        return where

    def load(self, path: str | None = None) -> Any:
        """Load a classifier file (asks for one when ``path`` is None)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Load classifier", "", "Classifier (*.lsclf)"
            )
            if not path:
                return None
        clf = self.guarded(self.session.load_classifier, path)
        if clf is not None:
            feats = clf.features
            for kind, cb in self.kinds.items():
                cb.setChecked(kind in feats.kinds)
            self.sigmas.setText(", ".join(f"{s:g}" for s in feats.sigmas))
        return clf

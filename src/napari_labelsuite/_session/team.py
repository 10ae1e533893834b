"""Team labeling: assignments, the current annotator, each annotator's own labels.

A dataset is in *team mode* once it has an assignment (:meth:`TeamMixin.assign`, kept in
``<annotations>/team/assignments.json``). Then the session shows and saves the current
annotator's own labels (``<annotations>/annotators/<annotator>/`` for image files,
``<base>.<annotator>`` label images in mask stores, with a lock per label image), and
:meth:`~DatasetMixin.next` / :meth:`~DatasetMixin.prev` walk that annotator's images.
While it works as an annotator the session holds that annotator's lock on the dataset
(``annotators/<annotator>/.labelsuite.lock``): the same annotator in a second process gets
a :class:`TeamError` naming the holder; distinct annotators never block each other.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

from ..core.annotation import ImageAnnotation
from ..core.dataset import Dataset
from ..core.errors import LabelsuiteError, SessionError, TeamError
from ..core.team import (
    Assignments,
    annotator_label_name,
    assign_dataset,
    assignments_path,
    has_annotator_annotation,
    load_annotator_annotation,
    parse_annotators,
    save_annotator_annotation,
    stamp_label_versions,
    validate_annotator,
)
from ..core.team.guidelines import outdated_guidelines
from ..core.team.labels import (
    annotator_dir,
    annotator_sidecar_path,
    lock_annotator,
    parse_annotator_label_name,
    release_annotator_lock,
)
from .host import SessionPart

__all__ = ["TeamMixin", "default_annotator"]

#: environment variable naming the annotator of a session
ANNOTATOR_ENV = "LABELSUITE_ANNOTATOR"


def default_annotator(user: str | None = None) -> str:
    """``$LABELSUITE_ANNOTATOR``, else the login name made a valid annotator name."""
    import re

    env = os.environ.get(ANNOTATOR_ENV)
    if env:
        return _env_name(env)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", user or "")[:64].lstrip("._-")
    return name or "annotator"


def _env_name(env: str) -> str:
    try:
        return validate_annotator(env)
    except TeamError as exc:
        raise exc.replace(where=f"${ANNOTATOR_ENV}") from None


class TeamMixin(SessionPart):
    """Assignments, the current annotator and per-annotator labels of a dataset.

    Examples
    --------
    In napari's console (``labelsuite`` is the session)::

        labelsuite.open_dataset("plates/")
        labelsuite.assign(["alice", "bob", "carol"], overlap=0.1, per_image=2, seed=0)
        labelsuite.set_annotator("alice")       # shows alice's labels, next() follows hers
        labelsuite.next()                       # saves into annotators/alice/, moves on
        labelsuite.team_progress()              # {"alice": {"assigned": 38, "done": 1}, ...}
        labelsuite.annotator_labels("bob")      # bob's labels of this image (or None)
    """

    def _init_mixin(self) -> None:
        self._annotator: str | None = None
        self._assignments_cache: tuple[Any, Assignments] | None = None
        #: the shown image's annotation as loaded or last saved (masks copied): labels
        #: unchanged since keep the guideline version they were made under
        self._shown_saved: ImageAnnotation | None = None
        #: (annotator folder, its lock or None when another session of this process holds
        #: it, the finalizer releasing it) while the session works as that annotator
        self._annotator_lock: tuple[str, Any, Any] | None = None

    # -- the annotator -------------------------------------------------------------------
    @property
    def annotator(self) -> str:
        """Who labels in this session: set with :meth:`set_annotator`; by default
        ``$LABELSUITE_ANNOTATOR`` or the login name."""
        if self._annotator is None:
            self._annotator = default_annotator(self.user)
        return self._annotator

    def set_annotator(self, name: str) -> str:
        """Label as ``name`` from now on; the shown image is saved (as the previous
        annotator) and shown again with ``name``'s own labels.

        The provenance and effort logs name the annotator too (``user`` becomes ``name``).

        Raises
        ------
        TeamError
            When ``name`` is not a valid annotator name, the dataset's assignment does
            not list it, or another process works as ``name`` on this dataset (its lock
            ``annotators/<name>/.labelsuite.lock`` is held; the holder is named). Nothing
            changes then.
        """
        name = validate_annotator(name)
        asg = self.assignments
        if asg is not None and name not in asg.annotators:
            raise TeamError(
                f"not an annotator of this dataset's assignment (have {asg.annotators})",
                path=assignments_path(self._require_dataset()),
                field="annotator",
                value=name,
            )
        ds = self.dataset
        held = self._take_annotator_lock(name)  # before anything changes
        try:
            if ds is not None and self.index is not None:
                self.save_current()
        except BaseException:
            if held is not None and held != self._annotator_lock:
                _release(held)
            raise
        if held is not None:
            self._swap_annotator_lock(held)
        previous = self._annotator
        self._annotator = name
        self.user = name
        if ds is not None and self.index is not None:
            self._show(self.index)
        self._record("set_annotator", annotator=name, previous=previous)
        return name

    # -- assignments -----------------------------------------------------------------------
    @property
    def team_mode(self) -> bool:
        """True when the open dataset has an assignment (labels are kept per annotator)."""
        ds = self.dataset
        return ds is not None and assignments_path(ds).is_file()

    @property
    def assignments(self) -> Assignments | None:
        """The open dataset's assignment (read from its file), or None."""
        ds = self.dataset
        if ds is None:
            return None
        p = assignments_path(ds)
        try:
            st = p.stat()
        except OSError:
            return None
        stamp = (str(p), st.st_mtime_ns, st.st_size)
        if self._assignments_cache is not None and self._assignments_cache[0] == stamp:
            return self._assignments_cache[1]
        asg = Assignments.load(p, keys=ds.keys())
        self._assignments_cache = (stamp, asg)
        return asg

    def assign(
        self,
        annotators: list[str] | str,
        overlap: float = 0.1,
        per_image: int = 2,
        seed: int = 0,
    ) -> Assignments:
        """Assign the open dataset's images to ``annotators`` and save the assignment.

        Each image gets one annotator; ``round(overlap * n)`` images, drawn with
        ``seed``, get ``per_image`` (for agreement). The same arguments give the same
        assignment; annotators' loads differ by at most one image. A new assignment
        replaces the old one (its ``version`` counts up); labels already saved stay.

        Parameters
        ----------
        annotators : list of str or str
            Names (``"alice,bob"`` is split at commas).

        Raises
        ------
        TeamError
            Bad names, ``overlap`` outside [0, 1], ``per_image`` < 2 with overlap or more
            than the annotators; nothing is written.
        """
        ds = self._require_dataset()
        if isinstance(annotators, str):
            annotators = parse_annotators(annotators)
        p = assignments_path(ds)
        # check everything before the dataset's files change
        Assignments.create(ds.keys(), list(annotators), overlap, per_image, seed)
        if getattr(self, "_dataset_read_only", None):
            raise SessionError(
                "the dataset is open read-only; the assignment was not saved",
                path=p,
                field="annotation_dir",
            )
        try:
            asg = assign_dataset(ds, annotators, overlap, per_image, seed)
        except OSError as exc:
            raise SessionError(
                f"cannot save the assignment: {exc.strerror or exc}", path=p
            ) from exc
        self._assignments_cache = None
        self._record("assign", **asg.provenance_params())
        return asg

    def team_progress(self) -> dict[str, dict[str, int]]:
        """Per annotator: ``{"assigned": n, "done": n}`` (done: saved labels exist).

        The image shown counts as done for the current annotator once saved.
        """
        ds = self._require_dataset()
        asg = self.assignments
        if asg is None:
            raise SessionError(
                "the dataset has no assignment; call assign(annotators) first",
                path=assignments_path(ds),
                field="assignments",
            )
        index = {k: i for i, k in enumerate(ds.keys())}
        out: dict[str, dict[str, int]] = {}
        for a in asg.annotators:
            keys = asg.items_of(a)
            done = sum(has_annotator_annotation(ds, index[k], a) for k in keys)
            out[a] = {"assigned": len(keys), "done": int(done)}
        return out

    def annotator_labels(self, annotator: str, i: int | None = None) -> ImageAnnotation | None:
        """``annotator``'s saved labels of image ``i`` (default: the one shown), or None.

        For viewing or comparing; the session's layers are not changed.

        Raises
        ------
        TeamError
            For a name that is neither in the assignment nor has saved labels.
        """
        from ..core.team import list_annotators

        ds = self._require_dataset()
        validate_annotator(annotator)
        asg = self.assignments
        known = asg is None or annotator in asg.annotators or annotator in list_annotators(ds)
        if not known:
            raise TeamError(
                f"unknown annotator: not in the assignment ({asg.annotators if asg else []}) "
                "and without saved labels",
                path=assignments_path(ds),
                field="annotator",
                value=annotator,
            )
        if i is None:
            if self.index is None:
                raise SessionError("no image is shown; give i", field="i")
            i = self.index
        return load_annotator_annotation(ds, ds._check(i), validate_annotator(annotator))

    def outdated_labels(self, annotator: str | None = None) -> list[Any]:
        """QC over the dataset: saved labels made under an older guideline of their class.

        Looks at ``annotator``'s saved annotations (every annotator of the assignment
        when None; the dataset's own annotations outside team mode). Each finding names
        the image (``extra["index"]``) and the annotator (``extra["annotator"]``).
        """
        from ..core.team import annotator_annotations

        ds = self._require_dataset()
        if self.index is not None:
            self.save_current()
        if not self.team_mode:
            sources: dict[str | None, dict[int, ImageAnnotation]] = {None: dict(ds.annotations())}
        else:
            asg = self.assignments
            everyone = list(asg.annotators) if asg is not None else []
            names = [validate_annotator(annotator)] if annotator else everyone
            sources = {a: annotator_annotations(ds, a) for a in names}
        found: list[Any] = []
        for who, anns in sources.items():
            for i, ann in sorted(anns.items()):
                for f in outdated_guidelines(ann, self.taxonomy):
                    f.image = ds.relative_name(i)
                    f.extra["index"] = i
                    if who is not None:
                        f.extra["annotator"] = who
                    found.append(f)
        self._record("outdated_labels", annotator=annotator, findings=len(found))
        return found

    # -- the annotator's lock on the dataset ---------------------------------------------------
    def _take_annotator_lock(
        self, name: str, ds: Dataset | None = None, read_only: str | None = None
    ) -> tuple[str, Any, Any] | None:
        """The lock of ``name`` on the open dataset (or on ``ds``, about to be opened): the
        one held, or newly taken; None outside team mode or on a read-only dataset.

        Raises
        ------
        TeamError
            Another process works as ``name`` on this dataset (named in the message).
        """
        if ds is None:
            ds = self.dataset
            if ds is None or not self.team_mode or getattr(self, "_dataset_read_only", None):
                return None
        elif read_only or not assignments_path(ds).is_file() or getattr(self, "reviewing", False):
            return None
        folder = str(annotator_dir(ds, name))
        if self._annotator_lock is not None and self._annotator_lock[0] == folder:
            return self._annotator_lock
        lock = lock_annotator(ds, name, self.user)
        done = weakref.finalize(self, release_annotator_lock, lock) if lock is not None else None
        return (folder, lock, done)

    def _lock_before_open(self, ds: Dataset, read_only: str | None) -> None:
        """Take the current annotator's lock on ``ds`` before ``open_dataset`` switches to
        it, so a lock held by another process refuses the open with nothing changed."""
        held = self._take_annotator_lock(self.annotator, ds, read_only)
        if held is not None:
            self._swap_annotator_lock(held)

    def _swap_annotator_lock(self, held: tuple[str, Any, Any]) -> None:
        """Work under ``held`` from now on; the previous annotator's lock is released."""
        old, self._annotator_lock = self._annotator_lock, held
        if old is not None and old is not held and old[0] != held[0]:
            _release(old)

    def _hold_annotator_lock(self) -> None:
        """Hold the current annotator's lock while showing or saving their labels (and
        none outside team mode, e.g. while reviewing)."""
        held = self._take_annotator_lock(self.annotator)
        if held is not None:
            self._swap_annotator_lock(held)
        elif not self.team_mode:
            self.release_annotator_lock()

    def release_annotator_lock(self) -> None:
        """Stop working as the annotator on this dataset: release their lock (it is taken
        again by the next image shown or saved in team mode)."""
        held, self._annotator_lock = self._annotator_lock, None
        if held is not None:
            _release(held)

    # -- hooks used by DatasetMixin (navigation, loading and saving an item) --------------
    def _next_assigned(self, step: int) -> int | None:
        """The index of the current annotator's next (``step=1``) or previous (``-1``)
        assigned image, None without an assignment (plain navigation)."""
        if not self.team_mode:  # no assignment, or review mode (AdjudicationMixin)
            return None
        asg = self.assignments
        if asg is None or self.annotator not in asg.annotators:
            return None
        ds = self._require_dataset()
        index = {k: i for i, k in enumerate(ds.keys())}
        mine = sorted(index[k] for k in asg.items_of(self.annotator))
        if not mine:
            return None
        cur = self.index
        if step > 0:
            after = [j for j in mine if cur is None or j > cur]
            return after[0] if after else (cur if cur in mine else mine[-1])
        before = [j for j in mine if cur is not None and j < cur]
        return before[-1] if before else (cur if cur in mine else mine[0])

    def _team_load(self, j: int) -> ImageAnnotation | None:
        """The annotation to show for image item ``j`` (the annotator's own in team mode)."""
        ds = self._require_dataset()
        self._hold_annotator_lock()
        ann = (
            load_annotator_annotation(ds, j, self.annotator)
            if self.team_mode
            else ds.load_annotation(j)
        )
        self._shown_saved = None if ann is None else ann.copy(deep_masks=True)
        return ann

    def _team_has_saved(self, j: int) -> bool:
        ds = self._require_dataset()
        if self.team_mode:
            return annotator_sidecar_path(ds, j, self.annotator).is_file()
        return ds.has_annotation(j)

    def _team_saved_summary(self, j: int) -> dict[str, Any] | None:
        """The summary of image item ``j``'s saved labels (the annotator's in team mode)."""
        ds = self._require_dataset()
        if not self.team_mode:
            return ds.saved_summary(j)
        from ..core.dataset import read_sidecar_doc, summarize

        jp = annotator_sidecar_path(ds, j, self.annotator)
        if not jp.is_file():
            return None
        summary = read_sidecar_doc(jp).get("summary")
        if summary:
            return dict(summary)
        ann = load_annotator_annotation(ds, j, self.annotator)
        return None if ann is None else summarize(ann)

    def _team_save(self, j: int, ann: ImageAnnotation) -> Path:
        """Save image item ``j``: stamped with the taxonomy version, into the annotator's
        folder in team mode."""
        ds = self._require_dataset()
        self._hold_annotator_lock()
        stamp_label_versions(self._shown_saved, ann, self.taxonomy)
        if self.team_mode:
            path = save_annotator_annotation(ds, j, self.annotator, ann)
        else:
            path = ds.save_annotation(j, ann)
        self._shown_saved = ann.copy(deep_masks=True)
        return path

    def _team_store_annotator(self) -> str | None:
        """The annotator whose label images a store item is opened for (team mode)."""
        self._hold_annotator_lock()
        return self.annotator if self.team_mode else None

    def _team_store_labels(self, st: Any) -> list[str]:
        """The label images of an open store to show: in annotator mode the annotator's
        own; when they have none yet, empty ones (one per role) that the store writes only
        with the first save holding an edit (viewing an image writes nothing)."""
        if st.annotator is None:
            return list(st.label_names())
        mine = [n for n in st.label_names() if parse_annotator_label_name(n)[1] == st.annotator]
        if not mine and not st.read_only:
            top = max(self.taxonomy.ids(), default=0)
            st.create_labels(annotator_label_name("semantic", st.annotator),
                             "uint8" if top < 256 else "uint32", role="semantic",
                             deferred=True)  # fmt: skip
            st.create_labels(annotator_label_name("instances", st.annotator), "uint32",
                             role="instances", deferred=True)  # fmt: skip
            mine = [
                n for n in st.label_names() if parse_annotator_label_name(n)[1] == st.annotator
            ]
        return mine

    def _outdated_guideline_findings(self, ann: ImageAnnotation) -> list[Any]:
        """QC: labels of the shown annotation made under an older guideline of their class
        (labels drawn or changed since it was loaded count as made under the current one)."""
        ds, i = self.dataset, self.index
        if ds is not None and i is not None and ds[i].kind == "store":
            st = self.store
            meta = st.annotation_meta.get("metadata") if st is not None else None
            saved = ImageAnnotation(ann.image_name, ann.shape, metadata=dict(meta or {}))
            ann.metadata.update(saved.metadata)  # stores keep one version per annotation
            return outdated_guidelines(ann, self.taxonomy)
        if self._shown_saved is None:
            return []  # nothing saved yet: everything is drawn under the current guideline
        try:
            current = stamp_label_versions(self._shown_saved, ann, self.taxonomy)
            return outdated_guidelines(current, self.taxonomy)
        except LabelsuiteError:
            return []


def _release(held: tuple[str, Any, Any]) -> None:
    """Release a held annotator lock (and drop its finalizer)."""
    _, lock, done = held
    if done is not None:
        done.detach()
    release_annotator_lock(lock)

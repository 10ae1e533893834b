"""One exception hierarchy for the whole plugin.

Every error names *where* the problem is (a file, a record or line, a field) and the
offending value, so that a user can fix the input without reading a traceback. The GUI
turns these into napari notifications.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnnotationError",
    "AssistError",
    "AugmentError",
    "ClassifierError",
    "EffortLogError",
    "FormatError",
    "InstanceError",
    "InterpolateError",
    "LabelsuiteError",
    "ObjectKindError",
    "QCError",
    "SessionError",
    "StoreError",
    "TaxonomyError",
    "TeamError",
]

_MISSING = object()


class LabelsuiteError(Exception):
    """Base class of every error raised on purpose by napari-labelsuite.

    Parameters
    ----------
    message : str
        What is wrong, in words a user understands.
    path : str or os.PathLike, optional
        The file, directory or URL concerned.
    where : str, optional
        The record, line, entry or chunk inside ``path`` (e.g. ``"annotations[12]"``,
        ``"line 4"``, ``"class 'cat'"``).
    field : str, optional
        The offending field or argument name.
    value : object, optional
        The offending value (shown with ``repr``).
    """

    def __init__(
        self,
        message: str,
        *,
        path: Any = None,
        where: str | None = None,
        field: str | None = None,
        value: Any = _MISSING,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.where = where
        self.field = field
        self.value = None if value is _MISSING else value
        self.has_value = value is not _MISSING
        super().__init__(self._format())

    def replace(self, cls: type[LabelsuiteError] | None = None, **changes: Any) -> LabelsuiteError:
        """A copy of this error, as ``cls`` (default: the same class), with ``changes``.

        ``changes`` may set ``message``, ``path``, ``where``, ``field`` or ``value``; the rest
        is kept, and a value that was never given stays absent (not "got None"). For
        re-raising with more context::

            except TaxonomyError as exc:
                raise exc.replace(FormatError, path=path) from None
        """
        kw: dict[str, Any] = {"path": self.path, "where": self.where, "field": self.field}
        if self.has_value:
            kw["value"] = self.value
        kw.update(changes)
        message = kw.pop("message", self.message)
        return (cls or type(self))(message, **kw)

    def _format(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(self.path)
        if self.where is not None:
            parts.append(self.where)
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        prefix = ": ".join(parts)
        text = self.message
        if self.has_value:
            shown = _short_repr(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            text = f"{text} (got {shown})"
        return f"{prefix}: {text}" if prefix else text


def _short_repr(value: Any) -> str:
    """A bounded repr: a huge or deeply nested value is never rendered in full."""
    import reprlib

    r = reprlib.Repr(maxlevel=3, maxstring=60, maxother=60, maxlist=6, maxdict=6)
    try:
        return r.repr(value)
    except Exception:  # a hostile __repr__ must not hide the real error
        return f"<{type(value).__name__}>"


class TaxonomyError(LabelsuiteError):
    """Invalid class taxonomy: duplicate ids or names, cycles, bad colours, unknown classes."""


class AnnotationError(LabelsuiteError):
    """An ImageAnnotation whose parts do not fit together (shapes, tables, unknown ids)."""


class FormatError(LabelsuiteError):
    """Malformed or inconsistent COCO / YOLO / VOC / mask files."""


class InstanceError(LabelsuiteError):
    """Bad input to an instance tool (dtype, shape, unknown ids)."""


class InterpolateError(LabelsuiteError):
    """Bad input to interpolation, propagation or tracking (ids, keyframes, axes, boxes)."""


class StoreError(LabelsuiteError):
    """Problems with a zarr mask store: not a store, bad metadata, locks, corrupt chunks."""


class AugmentError(LabelsuiteError):
    """Bad augmentation pipeline parameters or inputs."""


class ClassifierError(LabelsuiteError):
    """Bad input to the pixel classifier: scribbles, features, channels, classifier files."""


class AssistError(LabelsuiteError):
    """Bad prompts, images or model files for assisted (click, box, wand) segmentation."""


class QCError(LabelsuiteError):
    """Bad input to quality-control metrics or checks."""


class ObjectKindError(LabelsuiteError):
    """A bad polygon, rotated box or keypoint set (degenerate, wrong count, bad visibility)."""


class SessionError(LabelsuiteError):
    """Misuse of a LabelSession (missing layer, no viewer, nothing to save...)."""


class EffortLogError(LabelsuiteError):
    """A labeling-effort log that is corrupt, foreign or cannot be written."""


class TeamError(LabelsuiteError):
    """Bad team-labeling input: annotator names, assignments, per-annotator labels."""

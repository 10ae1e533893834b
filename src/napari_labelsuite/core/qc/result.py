"""One result type for agreement, used by the session, the QC widget and the CLI.

:func:`~napari_labelsuite.core.qc.agreement` (annotations by part) and the session's
``compare_layers`` (layers of one kind) compare the same things; both build an
:class:`AgreementResult`, and every consumer reads its headline numbers from it
(:meth:`AgreementResult.summary` for people, :meth:`AgreementResult.row` for tables) instead
of each picking numbers out of a result dict its own way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "AgreementResult", "PairAgreement"]

#: The parts that can be compared, in the order results list them.
KINDS = ("semantic", "instances", "boxes", "rotated", "keypoints", "polygons")

#: Matched-object parts: (words in a summary line, column prefix in a table row).
_MATCH_WORDS = {
    "boxes": ("box F1", "box_f1"),
    "rotated": ("rotated box F1", "rotated_f1"),
    "keypoints": ("keypoint F1", "keypoint_f1"),
    "polygons": ("polygon F1", "polygon_f1"),
}


def _kind_of(metrics: Mapping[str, Any]) -> str:
    """The part a metrics dict describes, from the keys its maker writes."""
    if "kappa" in metrics:
        return "semantic"
    if "matches" in metrics or "mean_matched_iou" in metrics:
        return "instances"
    return "boxes"


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of one annotation (or layer) with the reference.

    Attributes
    ----------
    name : str
        The pair, e.g. ``"ann1 vs ann2"`` or ``"#1"``.
    kind : {"semantic", "instances", "boxes", "rotated", "keypoints", "polygons"}
    metrics : Mapping
        What the core function returned: :func:`semantic_agreement`,
        :func:`instance_agreement`, or a matching summary (``tp``, ``fp``, ``fn``, ``f1``,
        ``threshold``; boxes add ``per_class`` and, over several thresholds, ``table`` and
        ``ap``).
    """

    name: str
    kind: str
    metrics: Mapping[str, Any] = field(repr=False)

    def headline(self) -> dict[str, float]:
        """The numbers a table shows for this pair, named with their threshold."""
        m = self.metrics
        if self.kind == "semantic":
            return {"kappa": float(m["kappa"]), "mean_iou": float(m["mean_iou"])}
        if self.kind == "instances":
            first = m["table"].iloc[0]
            return {
                f"f1@{first['threshold']:g}": float(first["f1"]),
                "pq": float(m["pq"]),
                "ap": float(m["ap"]),
            }
        column = _MATCH_WORDS.get(self.kind, _MATCH_WORDS["boxes"])[1]
        return {f"{column}@{m['threshold']:g}": float(m["f1"])}

    def summary(self) -> str:
        """One line with the headline numbers."""
        m = self.metrics
        if self.kind == "semantic":
            return f"{self.name}: kappa {m['kappa']:.3f}, mean IoU {m['mean_iou']:.3f}"
        if self.kind == "instances":
            first = m["table"].iloc[0]
            return (
                f"{self.name}: F1@{first['threshold']:.2f} {first['f1']:.3f}, "
                f"mean IoU {m['mean_matched_iou']:.3f}, PQ {m['pq']:.3f}, AP {m['ap']:.3f}"
            )
        words = _MATCH_WORDS.get(self.kind, _MATCH_WORDS["boxes"])[0]
        return f"{self.name}: {words} {m['f1']:.3f} (tp {m['tp']}, fp {m['fp']}, fn {m['fn']})"


@dataclass(frozen=True)
class AgreementResult:
    """Agreement of two or more annotations of one image; the first is the reference.

    Attributes
    ----------
    pairs : tuple of PairAgreement
        One entry per compared annotation and part.
    fleiss_kappa : float, optional
        Fleiss' kappa over all class masks when more than two were compared.
    layers : tuple of str
        Names of the compared layers (``compare_layers``), else empty.
    kind : str, optional
        The part compared (``compare_layers`` compares one part), else None.
    """

    pairs: tuple[PairAgreement, ...] = ()
    fleiss_kappa: float | None = None
    layers: tuple[str, ...] = ()
    kind: str | None = None

    def part(self, kind: str) -> tuple[PairAgreement, ...]:
        """The pairs of one part (one of :data:`KINDS`)."""
        return tuple(p for p in self.pairs if p.kind == kind)

    def summary(self) -> str:
        """One line per compared pair with its headline numbers (and Fleiss' kappa)."""
        lines = [p.summary() for p in self.pairs]
        if self.fleiss_kappa is not None:
            lines.append(f"Fleiss' kappa {self.fleiss_kappa:.3f}")
        return "\n".join(lines)

    def row(self) -> dict[str, float]:
        """The headline numbers of all pairs as one table row (later pairs win a name)."""
        out: dict[str, float] = {}
        for p in self.pairs:
            out.update(p.headline())
        return out

    def as_dict(self) -> dict[str, Any]:
        """The result as a plain dict, laid out as its maker has always returned it.

        With ``kind`` set (``compare_layers``): ``kind``, ``layers``, one entry per pair
        and ``fleiss_kappa`` when there is one. Else (:func:`agreement`): ``semantic``,
        ``instances`` and ``boxes``, each a dict by pair; ``fleiss_kappa`` inside
        ``semantic``.
        """
        if self.kind is not None:
            flat: dict[str, Any] = {"kind": self.kind, "layers": list(self.layers)}
            flat.update({p.name: p.metrics for p in self.pairs})
            if self.fleiss_kappa is not None:
                flat["fleiss_kappa"] = self.fleiss_kappa
            return flat
        out: dict[str, Any] = {}
        for kind in KINDS:
            pairs = self.part(kind)
            if not pairs:
                continue
            section: dict[str, Any] = {p.name: p.metrics for p in pairs}
            if kind == "semantic" and self.fleiss_kappa is not None:
                section["fleiss_kappa"] = self.fleiss_kappa
            out[kind] = section
        return out

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> AgreementResult:
        """Read back a dict of :meth:`as_dict` (either layout); other keys are ignored."""
        if "kind" in result and result["kind"] in KINDS:
            kind = str(result["kind"])
            pairs = tuple(
                PairAgreement(str(k), kind, v)
                for k, v in result.items()
                if isinstance(v, Mapping) and k != "maps"
            )
            fk = result.get("fleiss_kappa")
            return cls(
                pairs,
                None if fk is None else float(fk),
                tuple(result.get("layers", ())),
                kind,
            )
        found: list[PairAgreement] = []
        fleiss: float | None = None
        for kind in KINDS:
            section = result.get(kind)
            if not isinstance(section, Mapping):
                continue
            for k, v in section.items():
                if isinstance(v, Mapping):
                    found.append(PairAgreement(str(k), kind, v))
                elif k == "fleiss_kappa":
                    fleiss = float(v)
        if not found:  # a flat dict without "kind": tell each pair's part by its keys
            found = [
                PairAgreement(str(k), _kind_of(v), v)
                for k, v in result.items()
                if isinstance(v, Mapping) and k != "maps"
            ]
            fk = result.get("fleiss_kappa")
            fleiss = None if fk is None else float(fk)
        return cls(tuple(found), fleiss)

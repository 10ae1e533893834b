"""Team labeling: assignments, each annotator's labels, guideline versions.

* :mod:`.assignments`: annotator names and :class:`Assignments` (who labels which image,
  with a reproducible overlap for agreement);
* :mod:`.labels`: each annotator's sidecars (datasets of image files) and label images
  (mask stores, ``<base>.<annotator>`` with a lock per label image);
* :mod:`.guidelines`: the taxonomy version an annotation was made under and the QC check
  of labels made under an older guideline;
* :mod:`.agreement` and :mod:`.chart`: agreement per annotator pair and class over the
  overlap images, over time, with flags, and its chart;
* :mod:`.adjudicate`: difference overlay, per-object decisions, consensus, decision log.
"""

from __future__ import annotations

from .adjudicate import (
    CONSENSUS_METHODS,
    DECISIONS,
    DIFF_CODES,
    DecisionLog,
    ObjectDecision,
    consensus,
    consensus_dataset,
    decide_object,
    decisions_path,
    difference_map,
)
from .agreement import TeamAgreement, agreement_by_annotator, dataset_team_annotations
from .assignments import (
    ANNOTATOR_PATTERN,
    ASSIGNMENTS_FORMAT,
    Assignments,
    assign_dataset,
    assignments_path,
    parse_annotators,
    validate_annotator,
)
from .chart import agreement_chart, agreement_chart_svg
from .guidelines import (
    LABEL_VERSIONS_KEY,
    TAXONOMY_VERSION_KEY,
    annotation_taxonomy_version,
    label_versions,
    outdated_classes,
    outdated_guidelines,
    stamp_label_versions,
    stamp_taxonomy_version,
)
from .labels import (
    annotator_annotations,
    annotator_dir,
    annotator_label_name,
    annotator_sidecar_path,
    has_annotator_annotation,
    list_annotators,
    load_annotator_annotation,
    lock_annotator,
    open_for_annotator,
    parse_annotator_label_name,
    read_annotator_annotation,
    release_annotator_lock,
    save_annotator_annotation,
    write_annotator_annotation,
)

__all__ = [
    "CONSENSUS_METHODS",
    "DECISIONS",
    "DIFF_CODES",
    "DecisionLog",
    "ObjectDecision",
    "TeamAgreement",
    "agreement_by_annotator",
    "agreement_chart",
    "agreement_chart_svg",
    "consensus",
    "consensus_dataset",
    "dataset_team_annotations",
    "decide_object",
    "decisions_path",
    "difference_map",
    "ANNOTATOR_PATTERN",
    "ASSIGNMENTS_FORMAT",
    "LABEL_VERSIONS_KEY",
    "TAXONOMY_VERSION_KEY",
    "Assignments",
    "annotation_taxonomy_version",
    "annotator_annotations",
    "annotator_dir",
    "annotator_label_name",
    "annotator_sidecar_path",
    "assign_dataset",
    "assignments_path",
    "has_annotator_annotation",
    "label_versions",
    "list_annotators",
    "load_annotator_annotation",
    "lock_annotator",
    "open_for_annotator",
    "outdated_classes",
    "outdated_guidelines",
    "parse_annotator_label_name",
    "parse_annotators",
    "read_annotator_annotation",
    "release_annotator_lock",
    "save_annotator_annotation",
    "stamp_label_versions",
    "stamp_taxonomy_version",
    "validate_annotator",
    "write_annotator_annotation",
]

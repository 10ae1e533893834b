"""Semantic agreement metrics against scikit-learn and textbook values."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from napari_labelsuite.core.errors import QCError
from napari_labelsuite.core.qc import (
    class_iou_dice,
    cohen_kappa,
    confusion,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    majority_vote,
    pair_counts,
    semantic_agreement,
)
from napari_labelsuite.core.qc_pairs import iter_blocks


@pytest.fixture
def two_raters():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 4, (40, 50))
    noise = rng.integers(0, 5, a.shape)
    b = np.where(rng.random(a.shape) < 0.7, a, noise)
    return a, b


def test_confusion_equals_sklearn(two_raters):
    a, b = two_raters
    np.testing.assert_array_equal(confusion(a, b), confusion_matrix(a.ravel(), b.ravel()))


def test_confusion_with_labels_equals_sklearn(two_raters):
    a, b = two_raters
    labels = [3, 1, 7]
    expected = confusion_matrix(a.ravel(), b.ravel(), labels=labels)
    np.testing.assert_array_equal(confusion(a, b, labels=labels), expected)


def test_confusion_uint8_fast_path_equals_sklearn(two_raters):
    a, b = (x.astype(np.uint8) for x in two_raters)
    np.testing.assert_array_equal(confusion(a, b), confusion_matrix(a.ravel(), b.ravel()))


def test_kappa_equals_sklearn(two_raters):
    a, b = two_raters
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a.ravel(), b.ravel()), abs=1e-12)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_kappa_equals_sklearn(two_raters, weights):
    a, b = two_raters
    expected = cohen_kappa_score(a.ravel(), b.ravel(), weights=weights)
    assert cohen_kappa(a, b, weights=weights) == pytest.approx(expected, abs=1e-12)


def test_kappa_on_3d_zarr_read_in_blocks_equals_sklearn(tmp_path):
    rng = np.random.default_rng(2)
    a = rng.integers(0, 3, (6, 30, 40), dtype=np.uint16)
    b = np.where(rng.random(a.shape) < 0.8, a, 2).astype(np.uint16)
    za = zarr.create_array(tmp_path / "a.zarr", shape=a.shape, chunks=(2, 16, 16), dtype="u2")
    za[:] = a
    assert cohen_kappa(za, b) == pytest.approx(cohen_kappa_score(a.ravel(), b.ravel()))


def test_blocks_tile_the_array_exactly_once():
    hits = np.zeros((5, 7, 9), int)
    for sl in iter_blocks(hits.shape, block_elems=20):
        hits[sl] += 1
    assert (hits == 1).all()


def test_pair_counts_block_wise_equals_one_pass():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 50, (64, 64)) * (rng.random((64, 64)) < 0.5)
    b = rng.integers(0, 9, (64, 64))
    small = pair_counts(a, b, block_elems=100)
    key = a.ravel().astype(np.int64) * 100 + b.ravel()
    u, c = np.unique(key[key != 0], return_counts=True)
    got = dict(zip((small.a * 100 + small.b).tolist(), small.count.tolist()))
    assert got == dict(zip(u.tolist(), c.tolist()))


def test_negative_labels_raise_qc_error():
    with pytest.raises(QCError, match="labels must be >= 0"):
        confusion(np.array([[0, -1]]), np.array([[0, 1]]))


def test_shape_mismatch_names_the_shape():
    with pytest.raises(QCError, match=r"\(2, 3\)"):
        cohen_kappa(np.zeros((2, 2), int), np.zeros((2, 3), int))


def test_iou_and_dice_per_class():
    a = np.array([[1, 1, 0, 0]])
    b = np.array([[1, 0, 0, 2]])
    iou, dice = class_iou_dice(confusion(a, b))  # labels 0, 1, 2
    np.testing.assert_allclose(iou, [1 / 3, 1 / 2, 0.0])
    np.testing.assert_allclose(dice, [2 / 4, 2 / 3, 0.0])


def test_semantic_agreement_table_names_classes():
    a = np.array([[0, 1, 1, 2]])
    res = semantic_agreement(a, a, names={1: "nucleus", 2: "cytoplasm"})
    assert list(res["table"]["class"]) == ["background", "nucleus", "cytoplasm"]
    assert res["mean_iou"] == 1.0 and res["kappa"] == 1.0


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) via the Wikipedia worked example: 10 subjects, 14 raters, kappa 0.210
    counts = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    assert fleiss_kappa_from_counts(counts) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_kappa_of_masks_equals_counts_table():
    rng = np.random.default_rng(5)
    masks = [rng.integers(0, 3, (10, 12)) for _ in range(4)]
    stack = np.stack([m.ravel() for m in masks], axis=1)
    counts = np.stack([(stack == c).sum(axis=1) for c in range(3)], axis=1)
    assert fleiss_kappa(masks) == pytest.approx(fleiss_kappa_from_counts(counts), abs=1e-12)


def test_majority_vote_with_tie_left_to_background():
    a = np.array([[1, 1, 2, 3]])
    b = np.array([[1, 2, 2, 4]])
    c = np.array([[2, 1, 1, 5]])
    np.testing.assert_array_equal(majority_vote([a, b, c]), [[1, 1, 2, 0]])

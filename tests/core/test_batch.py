"""Data helpers of the batch commands, in core: input kinds, annotation sets, split tasks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.batch import (
    empty_annotation,
    load_annotation_set,
    sniff_input,
    split_annotation_file,
)
from napari_labelsuite.core.dataset import save_sidecar
from napari_labelsuite.core.errors import FormatError


def _two_touching_discs() -> np.ndarray:
    yy, xx = np.mgrid[:40, :60]
    mask = ((yy - 20) ** 2 + (xx - 18) ** 2 <= 100) | ((yy - 20) ** 2 + (xx - 36) ** 2 <= 100)
    return mask.astype(np.int32)


def test_sniff_tells_taxonomy_annotation_provenance_and_unknown(tmp_path):
    (tmp_path / "classes.yaml").write_text("classes: []\n")
    (tmp_path / "log.jsonl").write_text("")
    (tmp_path / "x.bin").write_bytes(b"\0")
    save_sidecar(ImageAnnotation("a.tif", (4, 4)), tmp_path / "a.json")
    kinds = {
        n: sniff_input(tmp_path / n) for n in ("classes.yaml", "log.jsonl", "x.bin", "a.json")
    }
    assert kinds == {
        "classes.yaml": "taxonomy",
        "log.jsonl": "provenance",
        "x.bin": "unknown",
        "a.json": "annotation",
    }


def test_annotation_set_of_a_saved_annotation_is_keyed_by_image_stem(tmp_path):
    inst = _two_touching_discs()
    save_sidecar(ImageAnnotation("cells.tif", inst.shape, instances=inst), tmp_path / "c.json")
    got = load_annotation_set(tmp_path / "c.json")
    assert list(got) == ["cells"]
    np.testing.assert_array_equal(got["cells"].instances, inst)
    with pytest.raises(FormatError, match="no such file"):
        load_annotation_set(tmp_path / "missing.json")


def test_split_task_matches_a_distance_watershed_and_writes_nothing(tmp_path):
    inst = _two_touching_discs()
    ann = ImageAnnotation("d.tif", inst.shape, instances=inst, objects={1: ObjectInfo(1)})
    path = save_sidecar(ann, tmp_path / "d.json")
    before = path.read_bytes()
    _, labels, objects, n_new = split_annotation_file((str(path), 7))
    assert n_new == 1 and sorted(objects) == sorted(np.unique(labels[labels > 0]).tolist())
    # the two discs, one object each: the same partition as a watershed from their centres
    markers = np.zeros_like(inst)
    markers[20, 18], markers[20, 36] = 1, 2
    ref = watershed(-ndi.distance_transform_edt(inst), markers, mask=inst > 0)
    pairs = set(zip(labels[inst > 0].tolist(), ref[inst > 0].tolist()))
    assert len(pairs) == 2 and len({a for a, _ in pairs}) == len({b for _, b in pairs}) == 2
    assert path.read_bytes() == before


def test_empty_annotation_holds_nothing():
    ann = empty_annotation("k")
    assert ann.image_name == "k" and ann.shape == (1, 1) and ann.instances is None


def test_split_result_is_saved_and_summarised(tmp_path):
    from napari_labelsuite.core.batch import path_summaries, save_split
    from napari_labelsuite.core.dataset import load_sidecar, summarize
    from napari_labelsuite.core.taxonomy import Taxonomy

    inst = _two_touching_discs()
    ann = ImageAnnotation("d.tif", inst.shape, instances=inst, objects={1: ObjectInfo(1)})
    path = save_sidecar(ann, tmp_path / "d.json")
    _, labels, objects, _ = split_annotation_file((str(path), 7))
    save_split(path, labels, objects)
    back = load_sidecar(path)
    np.testing.assert_array_equal(back.instances, labels)
    assert sorted(back.objects) == sorted(int(k) for k in objects)
    seen = []
    summaries, tax = path_summaries(
        path, Taxonomy([]), max_pixels=10, progress=lambda it, desc: seen.append(desc) or it
    )
    assert summaries == [summarize(back)] and len(tax) == 0
    assert seen == []  # one saved annotation: no loop to show progress for


def test_validate_input_summarises_a_good_file_and_names_a_bad_one(tmp_path):
    from napari_labelsuite.core.batch import validate_input
    from napari_labelsuite.core.errors import LabelsuiteError
    from napari_labelsuite.core.taxonomy import Taxonomy

    inst = _two_touching_discs()
    ann = ImageAnnotation("d.tif", inst.shape, instances=inst, objects={1: ObjectInfo(1)})
    path = save_sidecar(ann, tmp_path / "d.json")
    assert (
        validate_input(path, "auto", Taxonomy([])) == "annotation of 'd.tif': 1 objects, 0 boxes"
    )
    bad = tmp_path / "classes.yaml"
    bad.write_text("classes: [{id: 1, name: a}, {id: 1, name: b}]\n")
    with pytest.raises(LabelsuiteError) as err:
        validate_input(bad, "auto", Taxonomy([]))
    assert "classes.yaml" in str(err.value)

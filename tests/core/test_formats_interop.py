"""Files as other tools write them: COCO from Label Studio / labelme2coco, registry sniffing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools.coco import COCO

from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import coco
from napari_labelsuite.core.formats._common import ReadReport

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")


def _label_studio_coco() -> dict:
    """The shape of Label Studio's COCO export: 0-based ids, one image record per annotation."""
    return {
        "images": [
            {"width": 64, "height": 48, "id": 0, "file_name": "images/3f2a-street.jpg"},
            {"width": 64, "height": 48, "id": 1, "file_name": "images/3f2a-street.jpg"},
            {"width": 32, "height": 32, "id": 2, "file_name": "images/91bc-park.jpg"},
        ],
        "categories": [{"id": 0, "name": "Car"}, {"id": 1, "name": "Person"}],
        "annotations": [
            {"id": 0, "image_id": 0, "category_id": 0, "ignore": 0, "iscrowd": 0,
             "segmentation": [[4.5, 3.25, 30.8, 3.25, 30.8, 20.6, 4.5, 20.6]],
             "bbox": [4.5, 3.25, 26.3, 17.35], "area": 456.3},
            {"id": 1, "image_id": 1, "category_id": 1, "ignore": 0, "iscrowd": 0,
             "segmentation": [], "bbox": [40.0, 10.0, 12.0, 30.0], "area": 360.0},
            {"id": 2, "image_id": 2, "category_id": 0, "ignore": 0, "iscrowd": 0,
             "segmentation": [[1, 1, 10, 1, 10, 9]], "bbox": [1, 1, 9, 8], "area": 36.0},
        ],
        "info": {"year": 2024, "version": "1.0", "contributor": "Label Studio"},
    }  # fmt: skip


def test_zero_based_category_ids_are_remapped_and_reported(tmp_path):
    f = tmp_path / "result.json"
    f.write_text(json.dumps(_label_studio_coco()))
    report = ReadReport()
    anns, tax = coco.read(f, report=report)
    assert [(c.id, c.name) for c in tax] == [(1, "Car"), (2, "Person")]
    assert report.category_ids == {0: 1, 1: 2}
    assert any("start at 0" in n and "0->1" in n for n in report.notes)
    street = next(a for a in anns if a.image_name == "images/3f2a-street.jpg")
    assert {o.class_id for o in street.objects.values()} == {1}
    assert [(b.class_id, b.xyxy) for b in street.boxes] == [(2, (40.0, 10.0, 52.0, 40.0))]


def test_records_of_the_same_image_are_merged(tmp_path):
    f = tmp_path / "result.json"
    f.write_text(json.dumps(_label_studio_coco()))
    report = ReadReport()
    anns, _ = coco.read(f, report=report)
    assert [a.image_name for a in anns] == ["images/3f2a-street.jpg", "images/91bc-park.jpg"]
    street = anns[0]
    assert len(street.objects) == 1 and len(street.boxes) == 1
    assert any("merged" in n for n in report.notes)
    # the mask is pycocotools' own
    api = COCO(str(f))
    np.testing.assert_array_equal(
        np.asarray(street.instances) == 1, api.annToMask(api.anns[0]).astype(bool)
    )


def test_same_name_with_other_size_is_still_an_error(tmp_path):
    doc = _label_studio_coco()
    doc["images"][1]["width"] = 65
    f = tmp_path / "result.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="different sizes"):
        coco.read(f)


def test_export_back_with_the_files_own_ids(tmp_path):
    f = tmp_path / "result.json"
    f.write_text(json.dumps(_label_studio_coco()))
    report = ReadReport()
    anns, tax = coco.read(f, report=report)
    out = tmp_path / "back.json"
    coco.write(out, anns, tax, category_ids=report.export_ids())
    doc = json.loads(out.read_text())
    assert [(c["id"], c["name"]) for c in doc["categories"]] == [(0, "Car"), (1, "Person")]
    assert sorted(a["category_id"] for a in doc["annotations"]) == [0, 0, 1]
    # and it reads back to the same classes and masks
    again, tax2 = coco.read(out)
    assert [(c.id, c.name) for c in tax2] == [(1, "Car"), (2, "Person")]
    np.testing.assert_array_equal(np.asarray(again[0].instances), np.asarray(anns[0].instances))


def test_export_ids_that_collide_are_refused(tmp_path):
    f = tmp_path / "result.json"
    f.write_text(json.dumps(_label_studio_coco()))
    anns, tax = coco.read(f)
    with pytest.raises(FormatError, match="same id"):
        coco.write(tmp_path / "x.json", anns, tax, category_ids={1: 5, 2: 5})


# -- sniffing and the import report -------------------------------------------------------
def _write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _png(path, w: int = 8, h: int = 6):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((h, w), np.uint8)).save(path)


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("labelme_dir", "labelme"),
        ("labelstudio_json", "labelstudio"),
        ("results_json", "coco_results"),
        ("panoptic_json", "coco_panoptic"),
        ("coco_annotations_dir", "coco"),
        ("cvat_dir", "cvat"),
        ("cvat_xml", "cvat"),
        ("voc_xml", "voc"),
        ("darknet_dir", "yolo"),
        ("labelstudio_yolo_dir", "yolo"),
        ("roboflow_dir", "yolo"),
    ],
)
def test_sniff_names_the_format_of_each_tool_layout(tmp_path, layout, expected):
    from napari_labelsuite.core import formats

    labelme_doc = {"version": "5.4.1", "flags": {}, "shapes": [], "imagePath": "a.jpg",
                   "imageData": None, "imageHeight": 4, "imageWidth": 4}  # fmt: skip
    path = {
        "labelme_dir": lambda: (
            _write(tmp_path / "a.json", json.dumps(labelme_doc)),
            _write(tmp_path / "b.json", json.dumps(labelme_doc)),
            tmp_path,
        )[-1],
        "labelstudio_json": lambda: _write(
            tmp_path / "export.json",
            json.dumps([{"id": 1, "data": {"image": "x"}, "annotations": []}]),
        ),
        "results_json": lambda: _write(
            tmp_path / "r.json", json.dumps([{"image_id": 1, "category_id": 1, "score": 0.5}])
        ),
        "panoptic_json": lambda: _write(
            tmp_path / "panoptic.json",
            json.dumps(
                {
                    "images": [],
                    "categories": [],
                    "annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": []}],
                }
            ),
        ),  # fmt: skip
        "coco_annotations_dir": lambda: (
            _write(
                tmp_path / "annotations/instances_val2017.json",
                json.dumps({"images": [], "annotations": [], "categories": []}),
            ),
            tmp_path,
        )[-1],  # fmt: skip
        "cvat_dir": lambda: (
            _write(
                tmp_path / "annotations.xml", "<annotations><version>1.1</version></annotations>"
            ),
            tmp_path,
        )[-1],
        "cvat_xml": lambda: _write(
            tmp_path / "task.xml", "<annotations><version>1.1</version><meta/></annotations>"
        ),
        "voc_xml": lambda: _write(
            tmp_path / "a.xml", "<annotation><filename>a</filename></annotation>"
        ),
        "darknet_dir": lambda: (_write(tmp_path / "obj.data", "classes = 1\n"), tmp_path)[-1],
        "labelstudio_yolo_dir": lambda: (
            _write(tmp_path / "classes.txt", "a\n"),
            _write(tmp_path / "notes.json", '{"categories": [], "info": {}}'),
            tmp_path,
        )[-1],
        "roboflow_dir": lambda: (
            _write(tmp_path / "data.yaml", "train: ../train/images\nnames: [a]\n"),
            tmp_path,
        )[-1],
    }[layout]()
    assert formats.sniff(path)[0] == expected


def test_read_fills_the_report_and_names_the_format(tmp_path):
    from napari_labelsuite.core import formats

    f = _write(tmp_path / "result.json", json.dumps(_label_studio_coco()))
    report = ReadReport()
    anns, _ = formats.read(tmp_path, report=report)
    assert report.format == "coco"
    assert (report.images, report.instances, report.boxes) == (2, 2, 1)
    assert report.summary().startswith("coco: 2 images, 2 instances, 1 boxes; ")
    assert f.is_file() and len(anns) == 2


def test_zero_objects_from_a_non_empty_file_is_an_error(tmp_path):
    from napari_labelsuite.core import formats

    doc = _label_studio_coco()
    doc["annotations"] = []
    _write(tmp_path / "empty.json", json.dumps(doc))
    with pytest.raises(FormatError, match="read 0 objects as coco"):
        formats.read(tmp_path / "empty.json")


def test_a_folder_of_images_only_is_not_a_dataset(tmp_path):
    from napari_labelsuite.core import formats

    _png(tmp_path / "train/images/a.jpg")
    with pytest.raises(FormatError, match="cannot tell the format"):
        formats.read(tmp_path)


def test_report_counts_semantic_masks(tmp_path):
    from PIL import Image

    from napari_labelsuite.core import formats

    sem = np.zeros((6, 8), np.uint8)
    sem[1:4, 2:6] = 3
    (tmp_path / "semantic").mkdir()
    Image.fromarray(sem).save(tmp_path / "semantic/a.png")
    report = ReadReport()
    (ann,), _ = formats.read(tmp_path, report=report)
    assert (report.format, report.instances, report.semantic) == ("masks", 0, 1)
    assert report.summary() == "masks: 1 images, 0 instances, 0 boxes, 1 semantic masks"
    np.testing.assert_array_equal(np.asarray(ann.semantic), sem)

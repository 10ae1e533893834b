"""Hostile or broken files given to the readers end in a named LabelsuiteError: encodings,
deep nesting, alias bombs, fields of the wrong type, paths leaving their folder, huge
declared sizes. Each test builds its input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from napari_labelsuite.core.errors import FormatError, LabelsuiteError, TaxonomyError
from napari_labelsuite.core.taxonomy import Taxonomy

BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    + "classes: []\n"
)


# -- taxonomy ---------------------------------------------------------------------------------
def test_latin1_taxonomy_is_a_taxonomy_error_naming_the_line(tmp_path):
    f = tmp_path / "classes.yaml"
    f.write_bytes("classes:\n  - {id: 1, name: caf\u00e9}\n".encode("latin-1"))
    with pytest.raises(TaxonomyError) as err:
        Taxonomy.load(f)
    assert str(f) in str(err.value) and "line 2" in str(err.value)
    assert "UTF-8" in str(err.value)


def test_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    f = tmp_path / "classes.yaml"
    f.write_text(BOMB)
    assert len(BOMB) < 600
    with pytest.raises(TaxonomyError, match="alias"):
        Taxonomy.load(f)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_deeply_nested_taxonomy_is_refused(tmp_path, suffix):
    f = tmp_path / f"classes{suffix}"
    f.write_text('{"classes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(TaxonomyError, match="nest"):
        Taxonomy.load(f)


def test_nan_colour_is_refused_at_load(tmp_path):
    f = tmp_path / "classes.json"
    f.write_text('{"classes": [{"id": 1, "name": "cell", "color": [NaN, 0.5, 0.5]}]}')
    with pytest.raises(TaxonomyError) as err:
        Taxonomy.load(f)
    assert "color" in str(err.value)


def test_duplicate_reference_taxonomy_still_loads(tmp_path):
    """A small, honest use of anchors stays accepted."""
    f = tmp_path / "classes.yaml"
    f.write_text("classes:\n  - &c {id: 1, name: cell, color: red}\n  - {id: 2, name: nucleus}\n")
    assert Taxonomy.load(f)[1].name == "cell"


def test_error_values_are_shown_bounded():
    err = FormatError("bad", field="x", value=list(range(10**6)))
    assert len(str(err)) < 200


def _check_named(exc: BaseException) -> None:
    assert isinstance(exc, LabelsuiteError)
    assert "\n" not in str(exc)


__all__ = ["BOMB", "_check_named", "json", "np", "Path"]


# -- COCO -------------------------------------------------------------------------------------
def _coco(**changes) -> dict:
    doc = {
        "images": [{"id": 1, "file_name": "img1.png", "width": 8, "height": 6}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [1, 1, 3, 3],
                "segmentation": [[1, 1, 4, 1, 4, 4, 1, 4]],
            }
        ],
        "categories": [{"id": 1, "name": "cell"}],
    }
    doc.update(changes)
    return doc


def _read_coco(tmp_path, doc) -> tuple:
    from napari_labelsuite.core import formats

    f = tmp_path / "in.json"
    f.write_text(json.dumps(doc))
    return formats.read(f, "coco")


def test_coco_box_that_is_not_an_object(tmp_path):
    doc = _coco()
    doc["annotations"][0]["box"] = [1, 2]
    with pytest.raises(FormatError) as err:
        _read_coco(tmp_path, doc)
    assert "annotations[0]" in str(err.value) and "field 'box'" in str(err.value)


def test_coco_source_image_that_is_a_list(tmp_path):
    doc = _coco()
    doc["images"][0]["source_image"] = ["a"]
    with pytest.raises(FormatError) as err:
        _read_coco(tmp_path, doc)
    assert "images[0]" in str(err.value) and "source_image" in str(err.value)


def test_coco_duplicate_annotation_ids_are_refused(tmp_path):
    doc = _coco()
    doc["annotations"].append(dict(doc["annotations"][0], bbox=[4, 2, 2, 2]))
    with pytest.raises(FormatError) as err:
        _read_coco(tmp_path, doc)
    assert "annotations[1]" in str(err.value) and "duplicate annotation id" in str(err.value)


@pytest.mark.parametrize("size", [10**9, 60_000])
def test_coco_huge_declared_image_with_a_mask_is_refused(tmp_path, size):
    doc = _coco()
    doc["images"][0].update(width=size, height=size)
    with pytest.raises(FormatError) as err:
        _read_coco(tmp_path, doc)
    assert "limit" in str(err.value) and "img1.png" in str(err.value)


def test_coco_pixel_limit_can_be_raised(tmp_path):
    from napari_labelsuite.core.validate import pixel_limit

    doc = _coco()
    doc["images"][0].update(width=300, height=200)
    with pixel_limit(1000), pytest.raises(FormatError, match="limit of 1000"):
        _read_coco(tmp_path, doc)
    with pixel_limit(60_000):
        anns, _ = _read_coco(tmp_path, doc)
    assert anns[0].shape == (200, 300)


def test_coco_huge_declared_image_with_boxes_only_is_read(tmp_path):
    doc = _coco()
    doc["images"][0].update(width=10**9, height=10**9)
    del doc["annotations"][0]["segmentation"]
    anns, _ = _read_coco(tmp_path, doc)
    assert anns[0].instances is None and len(anns[0].boxes) == 1


def test_coco_latin1_and_deep_files(tmp_path):
    from napari_labelsuite.core import formats

    f = tmp_path / "in.json"
    f.write_bytes(json.dumps(_coco()).replace("cell", "caf\u00e9").encode("latin-1"))
    with pytest.raises(FormatError, match="UTF-8"):
        formats.read(f, "coco")
    f.write_text('{"images": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(FormatError, match="nested deeper"):
        formats.read(f, "coco")


def test_windows_file_name_matches_and_names_label_files(tmp_path):
    from napari_labelsuite.core import formats
    from napari_labelsuite.core.dataset import Dataset

    doc = _coco()
    doc["images"][0]["file_name"] = "C:\\Users\\ana\\data\\img1.png"
    anns, tax = _read_coco(tmp_path, doc)
    written = formats.write(tmp_path / "yolo", anns, tax, fmt="yolo")
    rel = [p.relative_to(tmp_path / "yolo").as_posix() for p in written]
    assert "labels/train/img1.txt" in rel
    root = tmp_path / "ds"
    root.mkdir()
    np.save(root / "img1.npy", np.zeros((6, 8), np.uint8))
    assert Dataset.open(root).find(anns[0].image_name) == 0


# -- YOLO -------------------------------------------------------------------------------------
def _yolo(tmp_path, task="segment") -> Path:
    from napari_labelsuite.core import formats
    from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo

    inst = np.zeros((6, 8), np.int32)
    inst[1:4, 1:5] = 1
    ann = ImageAnnotation("img1.png", (6, 8), instances=inst, objects={1: ObjectInfo(1)})
    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]})
    out = tmp_path / "yolo"
    formats.write(out, [ann], tax, fmt="yolo", task=task)
    return out


def _read_yolo(out):
    from napari_labelsuite.core import formats

    return formats.read(out, "yolo")


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: [], "must be an object"),
        (lambda d: {**d, "images": [{**d["images"][0], "files": {"img1": [1]}}]}, "files entry"),
        (
            lambda d: {
                **d,
                "images": [
                    {
                        **d["images"][0],
                        "files": {"img1": {"plane": [], "rows": [{"instance_id": "seven"}]}},
                    }  # fmt: skip
                ],
            },
            "field 'instance_id'",
        ),
        (lambda d: {**d, "images": [{**d["images"][0], "shape": ["6", 8]}]}, "field 'shape'"),
    ],
)
def test_yolo_sidecar_fields_of_the_wrong_type(tmp_path, mutate, needle):
    out = _yolo(tmp_path)
    side = out / "labelsuite.json"
    side.write_text(json.dumps(mutate(json.loads(side.read_text()))))
    with pytest.raises(FormatError) as err:
        _read_yolo(out)
    assert needle in str(err.value) and "labelsuite.json" in str(err.value)


def test_yolo_data_yaml_alias_bomb_is_refused(tmp_path):
    out = _yolo(tmp_path)
    (out / "labelsuite.json").unlink()
    (out / "data.yaml").write_text(BOMB.replace("classes: []", "names: [cell]"))
    with pytest.raises(FormatError, match="alias"):
        _read_yolo(out)


def test_yolo_deep_sidecar_and_latin1_label_file(tmp_path):
    out = _yolo(tmp_path)
    side = out / "labelsuite.json"
    good = side.read_bytes()
    side.write_text('{"images": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(FormatError, match="nested deeper"):
        _read_yolo(out)
    side.write_bytes(good)
    label = next((out / "labels").rglob("*.txt"))
    label.write_bytes(label.read_bytes() + b"# caf\xe9\n")
    with pytest.raises(FormatError) as err:
        _read_yolo(out)
    assert label.name in str(err.value) and "UTF-8" in str(err.value)


def test_yolo_huge_image_header_with_polygons_is_refused(tmp_path):
    """A PNG header declaring 60000x60000 pixels (a few hundred bytes) is not a reason to
    allocate 13 GiB."""
    import struct
    import zlib

    out = tmp_path / "plain"
    (out / "images" / "train").mkdir(parents=True)
    (out / "labels" / "train").mkdir(parents=True)
    (out / "data.yaml").write_text("path: .\ntrain: images/train\nnames: [cell]\n")

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
    (out / "images" / "train" / "big.png").write_bytes(png)
    (out / "labels" / "train" / "big.txt").write_text("0 0.1 0.1 0.5 0.1 0.5 0.5\n")
    with pytest.raises(FormatError) as err:
        _read_yolo(out)
    assert "big.png" in str(err.value) and "limit" in str(err.value)


# -- VOC --------------------------------------------------------------------------------------
_VOC = """<?xml version="1.0" encoding="{enc}"?>
<annotation><filename>caf\u00e9.png</filename>
  <size><width>8</width><height>6</height><depth>1</depth></size>{extra}
  <object><name>cell</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>5</xmax><ymax>4</ymax>
  </bndbox>{obj_extra}</object>
</annotation>
"""


def _voc(tmp_path, enc="UTF-8", extra="", obj_extra="", encode_as=None) -> Path:
    d = tmp_path / "voc" / "Annotations"
    d.mkdir(parents=True, exist_ok=True)
    text = _VOC.format(enc=enc, extra=extra, obj_extra=obj_extra)
    (d / "a.xml").write_bytes(text.encode(encode_as or enc))
    return tmp_path / "voc"


def test_voc_declaring_iso_8859_1_is_read_with_its_encoding(tmp_path):
    from napari_labelsuite.core import formats

    anns, tax = formats.read(_voc(tmp_path, enc="ISO-8859-1"), "voc")
    assert anns[0].image_name == "caf\u00e9.png" and len(anns[0].boxes) == 1


def test_voc_latin1_bytes_declared_utf8_is_a_format_error(tmp_path):
    from napari_labelsuite.core import formats

    with pytest.raises(FormatError, match="a.xml"):
        formats.read(_voc(tmp_path, enc="UTF-8", encode_as="latin-1"), "voc")


@pytest.mark.parametrize(
    ("extra", "obj_extra", "field"),
    [
        (
            "<labelsuite><source_image>x.png</source_image><metadata>{not json</metadata>"
            "</labelsuite>",
            "",
            "",
        ),
        (
            "<labelsuite><source_image>x.png</source_image><metadata>[1, 2]</metadata>"
            "</labelsuite>",
            "",
            "metadata",
        ),
        ("", "<labelsuite><instance_id>seven</instance_id></labelsuite>", "instance_id"),
    ],
)
def test_voc_labelsuite_fields_of_the_wrong_type(tmp_path, extra, obj_extra, field):
    from napari_labelsuite.core import formats

    with pytest.raises(FormatError) as err:
        formats.read(_voc(tmp_path, extra=extra, obj_extra=obj_extra), "voc")
    assert "a.xml" in str(err.value) and field in str(err.value)


# -- masks ------------------------------------------------------------------------------------
def _masks(tmp_path) -> Path:
    from napari_labelsuite.core import formats
    from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo

    inst = np.zeros((6, 8), np.int32)
    inst[1:4, 1:5] = 1
    ann = ImageAnnotation("img1.png", (6, 8), instances=inst, objects={1: ObjectInfo(1)})
    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]})
    out = tmp_path / "masks"
    formats.write(out, [ann], tax, fmt="masks")
    return out


@pytest.mark.parametrize("bad", [12, "../secret.png", "/etc/hostname", ""])
def test_masks_sidecar_path_must_be_a_file_inside_the_folder(tmp_path, bad):
    from napari_labelsuite.core import formats

    out = _masks(tmp_path)
    (tmp_path / "secret.png").write_bytes((out / "instances" / "img1.png").read_bytes())
    side = json.loads((out / "masks.json").read_text())
    side["images"][0]["files"]["instances"]["path"] = bad
    (out / "masks.json").write_text(json.dumps(side))
    with pytest.raises(FormatError) as err:
        formats.read(out, "masks")
    assert "files.instances.path" in str(err.value)


def test_masks_objects_of_the_wrong_type(tmp_path):
    from napari_labelsuite.core import formats

    out = _masks(tmp_path)
    side = json.loads((out / "masks.json").read_text())
    side["images"][0]["objects"] = [1]
    (out / "masks.json").write_text(json.dumps(side))
    with pytest.raises(FormatError, match="field 'objects'"):
        formats.read(out, "masks")


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_mask_files_are_bounded_by_their_header(tmp_path, suffix):
    import tifffile
    from PIL import Image

    from napari_labelsuite.core import formats
    from napari_labelsuite.core.validate import pixel_limit

    f = tmp_path / f"m{suffix}"
    arr = np.zeros((64, 64), np.uint8)
    if suffix == ".png":
        Image.fromarray(arr).save(f)
    else:
        tifffile.imwrite(f, arr, compression="zlib")
    with pixel_limit(1000), pytest.raises(FormatError) as err:
        formats.read(f, "masks")
    assert "4096 pixels" in str(err.value) and f.name in str(err.value)
    anns, _ = formats.read(f, "masks")
    assert anns[0].shape == (64, 64)


# -- regressions found by the fuzz test -----------------------------------------------------
def _sample(fmt: str, tmp_path: Path) -> Path:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import hostile_corpus

    return hostile_corpus.valid_sample(fmt, tmp_path)


def _edit(path: Path, fn) -> None:
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


def _labelme_file(tmp_path: Path) -> tuple[Path, Path]:
    folder = _sample("labelme", tmp_path)
    return folder, next(p for p in folder.rglob("*.json") if "shapes" in p.read_text())


def test_labelme_polygon_point_far_outside_the_image_is_refused(tmp_path):
    from napari_labelsuite.core import formats

    folder, f = _labelme_file(tmp_path)
    _edit(f, lambda d: d["shapes"][0]["points"][0].__setitem__(1, 1.15e17))
    with pytest.raises(FormatError, match="far outside"):
        formats.read(folder, "labelme")


def test_labelme_group_id_of_the_wrong_type(tmp_path):
    from napari_labelsuite.core import formats

    folder, f = _labelme_file(tmp_path)
    _edit(f, lambda d: d["shapes"][0].__setitem__("group_id", []))
    with pytest.raises(FormatError, match="group_id"):
        formats.read(folder, "labelme")


@pytest.mark.parametrize("size", [[-1, 16], [None, 16], [12], [10**9, 10**9]])
def test_coco_results_rle_size_is_checked(tmp_path, size):
    from napari_labelsuite.core import formats

    f = _sample("coco_results", tmp_path)
    _edit(f, lambda d: d[0]["segmentation"].__setitem__("size", size))
    with pytest.raises(FormatError, match="segmentation.size"):
        formats.read(f, "coco_results")


def test_labelstudio_brush_rle_with_null_is_named(tmp_path):
    from napari_labelsuite.core import formats

    f = _sample("labelstudio", tmp_path)
    f = f if f.is_file() else next(f.rglob("*.json"))

    def null_first(d):
        for r in d[0]["annotations"][0]["result"]:
            if r["type"] == "brushlabels":
                r["value"]["rle"][0] = None

    _edit(f, null_first)
    with pytest.raises(FormatError, match="brush RLE"):
        formats.read(f, "labelstudio")


def test_yolo_detect_sidecar_with_polygon_rows_is_a_named_error(tmp_path):
    """Polygon rows of a detect-task sidecar are painted into a scratch buffer (they once
    hit a read-only one); nothing is left, which the registry reports."""
    out = _yolo(tmp_path)  # written as task segment
    _edit(out / "labelsuite.json", lambda d: d.__setitem__("task", None))
    with pytest.raises(FormatError, match="read 0 objects"):
        _read_yolo(out)

"""YOLO, Pascal VOC and PNG/TIFF masks: layouts, round trips (hypothesis), bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import tifffile
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from scipy import ndimage as ndi

from napari_labelsuite.core import formats
from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import masks, voc, yolo
from napari_labelsuite.core.taxonomy import Taxonomy

HYP = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tax() -> Taxonomy:
    return Taxonomy(
        [
            {"id": 2, "name": "car", "color": "#ff0000", "attributes": [{"name": "truncated"}]},
            {"id": 5, "name": "person", "color": "#00ff00"},
        ]
    )


def _key(b: Box):
    return (b.plane, b.x0, b.y0, b.x1, b.y1, b.class_id)


@st.composite
def boxes_on(draw, shape):
    h, w = shape[-2:]
    out = []
    for _ in range(draw(st.integers(0, 5))):
        x0 = draw(st.integers(0, 2 * w - 1)) / 2
        y0 = draw(st.integers(0, 2 * h - 1)) / 2
        x1 = draw(st.integers(int(2 * x0) + 1, 2 * w)) / 2
        y1 = draw(st.integers(int(2 * y0) + 1, 2 * h)) / 2
        out.append(
            Box(
                x0,
                y0,
                x1,
                y1,
                class_id=draw(st.sampled_from([2, 5])),
                plane=tuple(draw(st.integers(0, n - 1)) for n in shape[:-2]),
                status=draw(st.sampled_from(["todo", "approved", "needs-fix"])),
                attributes={"truncated": draw(st.booleans())},
            )
        )
    return out


shapes = st.sampled_from([(9, 13), (2, 9, 13)])


# -- YOLO -------------------------------------------------------------------------------
def test_yolo_detect_rows_are_normalised_centre_boxes(tmp_path):
    ann = ImageAnnotation("a.jpg", (100, 200), boxes=[Box(10, 20, 50, 60, class_id=5)])
    yolo.write(tmp_path, [ann], _tax())
    assert (tmp_path / "labels/train/a.txt").read_text() == "1 0.15 0.4 0.2 0.4\n"
    data = yaml.safe_load((tmp_path / "data.yaml").read_text())
    assert data["names"] == {0: "car", 1: "person"}
    assert data["train"] == "images/train"


def test_yolo_segment_rows_are_polygons_of_filled_instances(tmp_path):
    labels = np.zeros((10, 10), np.int32)
    labels[2:8, 2:8] = 1
    labels[4:6, 4:6] = 0  # hole: YOLO cannot hold it
    ann = ImageAnnotation("a.png", labels.shape, instances=labels, objects={1: ObjectInfo(2)})
    yolo.write(tmp_path, [ann], _tax(), task="segment")
    (row,) = (tmp_path / "labels/train/a.txt").read_text().splitlines()
    assert row.split()[0] == "0" and len(row.split()) >= 7
    (back,), _ = yolo.read(tmp_path)
    np.testing.assert_array_equal(back.instances, ndi.binary_fill_holes(labels).astype(int))


def test_yolo_stack_has_one_label_file_per_plane(tmp_path):
    ann = ImageAnnotation("s.tif", (3, 8, 8), boxes=[Box(0, 0, 4, 4, class_id=2, plane=(1,))])
    yolo.write(tmp_path, [ann], _tax())
    names = sorted(p.name for p in (tmp_path / "labels/train").iterdir())
    assert names == ["s_z0.txt", "s_z1.txt", "s_z2.txt"]
    assert (tmp_path / "labels/train/s_z1.txt").read_text().startswith("0 ")


@HYP
@given(data=st.data(), shape=shapes)
def test_yolo_detect_round_trip_random_boxes(tmp_path_factory, data, shape):
    boxes = data.draw(boxes_on(shape))
    ann = ImageAnnotation("b.png", shape, boxes=boxes)
    out = tmp_path_factory.mktemp("yolo")
    yolo.write(out, [ann], _tax())
    (back,), tax = yolo.read(out)
    assert sorted(back.boxes, key=_key) == sorted(boxes, key=_key)
    assert tax == _tax()


@HYP
@given(
    labels=arrays(
        np.int32,
        st.tuples(st.integers(1, 2), st.integers(2, 12), st.integers(2, 12)),
        elements=st.integers(0, 4),
    )
)
def test_yolo_segment_round_trip_random_hole_free_masks(tmp_path_factory, labels):
    ids = [int(k) for k in np.unique(labels) if k]
    # YOLO polygons cannot hold holes: only masks without holes in any plane round-trip
    assume(all(not (ndi.binary_fill_holes(p == k) & (p != k)).any() for p in labels for k in ids))
    objects = {k: ObjectInfo(2 if k % 2 else 5, {"truncated": k == 1}) for k in ids}
    ann = ImageAnnotation("m.png", labels.shape, instances=labels, objects=objects)
    out = tmp_path_factory.mktemp("yolo")
    yolo.write(out, [ann], _tax(), task="segment")
    (back,), _ = yolo.read(out)
    np.testing.assert_array_equal(back.instances, labels)
    assert back.objects == objects


def test_yolo_reads_foreign_dataset_with_image_sizes_from_images(tmp_path):
    (tmp_path / "labels/val").mkdir(parents=True)
    (tmp_path / "images/val").mkdir(parents=True)
    Image.fromarray(np.zeros((50, 80), np.uint8)).save(tmp_path / "images/val/x.png")
    (tmp_path / "labels/val/x.txt").write_text("1 0.5 0.5 0.25 0.2\n")
    (tmp_path / "data.yaml").write_text("names: [bike, bus]\n")
    (ann,), tax = formats.read(tmp_path)
    assert tax.names() == ["bike", "bus"]
    assert ann.shape == (50, 80)
    assert [(b.xyxy, b.class_id) for b in ann.boxes] == [((30.0, 20.0, 50.0, 30.0), 2)]


def _yolo_dataset(tmp_path, row: str):
    ann = ImageAnnotation("a.png", (10, 10), boxes=[Box(0, 0, 2, 2, class_id=2)])
    yolo.write(tmp_path, [ann], _tax())
    f = tmp_path / "labels/train/a.txt"
    f.write_text(f.read_text() + row + "\n")
    return f


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("7 0.5 0.5 0.1 0.1", "class"),
        ("0 0.5 0.5 0.1", "values"),
        ("0 0.5 1.5 0.1 0.1", "values"),
        ("0 0.95 0.5 0.2 0.2", "values"),
        ("0 0.1 0.1", "values"),
    ],
    ids=["class-out-of-range", "three-values", "value-above-one", "box-outside", "one-point"],
)
def test_yolo_bad_row_names_file_line_and_field(tmp_path, row, field):
    f = _yolo_dataset(tmp_path, row)
    with pytest.raises(FormatError) as info:
        yolo.read(tmp_path)
    assert (info.value.path, info.value.where, info.value.field) == (str(f), "line 2", field)


def test_yolo_two_point_polygon_in_segment_dataset_is_rejected(tmp_path):
    labels = np.zeros((10, 10), np.int32)
    labels[2:5, 2:5] = 1
    ann = ImageAnnotation("a.png", labels.shape, instances=labels, objects={1: ObjectInfo(2)})
    yolo.write(tmp_path, [ann], _tax(), task="segment")
    f = tmp_path / "labels/train/a.txt"
    f.write_text(f.read_text() + "0 0.1 0.1 0.2 0.2\n")
    with pytest.raises(FormatError, match="at least 3") as info:
        yolo.read(tmp_path)
    assert info.value.where == "line 2"


def test_yolo_without_sizes_is_an_error(tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels/x.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "data.yaml").write_text("names: {0: a}\n")
    with pytest.raises(FormatError, match="image size unknown"):
        yolo.read(tmp_path)


def test_yolo_failed_write_leaves_nothing(tmp_path):
    good = np.zeros((6, 6), np.int32)
    good[1:3, 1:3] = 1
    a = ImageAnnotation("a.png", good.shape, instances=good, objects={1: ObjectInfo(2)})
    b = ImageAnnotation("b.png", good.shape, instances=good * 2, objects={1: ObjectInfo(2)})
    with pytest.raises(FormatError, match="object table"):
        yolo.write(tmp_path / "ds", [a, b], _tax(), task="segment")
    assert list(tmp_path.iterdir()) == []


# -- VOC --------------------------------------------------------------------------------
def test_voc_corners_are_one_based_inclusive(tmp_path):
    ann = ImageAnnotation(
        "a.jpg", (30, 40), boxes=[Box(0, 5, 10, 20, class_id=2, attributes={"truncated": True})]
    )
    voc.write(tmp_path, [ann], _tax())
    root = ET.parse(tmp_path / "Annotations/a.xml").getroot()
    bb = root.find("object/bndbox")
    assert [bb.find(t).text for t in ("xmin", "ymin", "xmax", "ymax")] == ["1", "6", "10", "20"]
    assert root.find("object/name").text == "car"
    assert root.find("object/truncated").text == "1"
    assert root.find("size/width").text == "40"


@HYP
@given(data=st.data(), shape=shapes)
def test_voc_round_trip_random_boxes(tmp_path_factory, data, shape):
    boxes = data.draw(boxes_on(shape))
    ann = ImageAnnotation("v.png", shape, boxes=boxes)
    out = tmp_path_factory.mktemp("voc")
    voc.write(out, [ann], _tax())
    (back,), tax = voc.read(out)
    assert sorted(back.boxes, key=_key) == sorted(boxes, key=_key)
    assert back.shape == shape and tax == _tax()


def test_voc_foreign_file_uses_flags_and_first_seen_classes(tmp_path):
    (tmp_path / "f.xml").write_text(
        "<annotation><filename>f.jpg</filename><size><width>20</width><height>10</height>"
        "<depth>3</depth></size><object><name>dog</name><difficult>1</difficult><bndbox>"
        "<xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>10</ymax></bndbox></object>"
        "</annotation>"
    )
    (ann,), tax = voc.read(tmp_path / "f.xml")
    assert tax.names() == ["dog"]
    (b,) = ann.boxes
    assert b.xyxy == (0.0, 0.0, 20.0, 10.0) and b.attributes == {"difficult": True}


def _voc_file(tmp_path, bndbox: str, name: str = "car", size: str | None = None) -> object:
    voc.write(tmp_path, [ImageAnnotation("a.jpg", (10, 20))], _tax())
    size = size or "<size><width>20</width><height>10</height></size>"
    f = tmp_path / "Annotations/a.xml"
    f.write_text(
        f"<annotation><filename>a.jpg</filename>{size}<object><name>{name}</name>"
        f"<bndbox>{bndbox}</bndbox></object></annotation>"
    )
    return f


@pytest.mark.parametrize(
    ("bndbox", "name", "size", "field"),
    [
        ("<xmin>1</xmin><ymin>1</ymin><xmax>21</xmax><ymax>5</ymax>", "car", None, "bndbox"),
        ("<xmin>-1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax>", "car", None, "bndbox"),
        ("<xmin>4</xmin><ymin>1</ymin><xmax>2</xmax><ymax>5</ymax>", "car", None, "bndbox"),
        ("<xmin>a</xmin><ymin>1</ymin><xmax>2</xmax><ymax>5</ymax>", "car", None, "xmin"),
        ("<xmin>1</xmin><ymin>1</ymin><ymax>5</ymax>", "car", None, "xmax"),
        ("<xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>5</ymax>", "tram", None, "name"),
        # no width and no image to take the size from
        ("<xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>5</ymax>", "car", "<size/>", "size"),
    ],
    ids=[
        "beyond-width",
        "negative-xmin",
        "inverted",
        "not-a-number",
        "missing-xmax",
        "unknown-class",
        "missing-width",
    ],
)
def test_voc_bad_object_names_file_and_field(tmp_path, bndbox, name, size, field):
    f = _voc_file(tmp_path, bndbox, name, size)
    with pytest.raises(FormatError) as info:
        voc.read(tmp_path)
    assert (info.value.path, info.value.field) == (str(f), field)


def test_voc_malformed_xml_names_the_line(tmp_path):
    f = tmp_path / "x.xml"
    f.write_text("<annotation>\n<size>\n</annotation>")
    with pytest.raises(FormatError, match="line 3"):
        voc.read(f)


# -- masks ------------------------------------------------------------------------------
def test_masks_choose_bit_depth_and_palette(tmp_path):
    sem = np.zeros((6, 7), np.int64)
    sem[1:3, 1:3] = 2
    ins = np.zeros((6, 7), np.int64)
    ins[0, 0] = 70000  # needs 32 bits: TIFF
    ann = ImageAnnotation(
        "a.png", sem.shape, semantic=sem, instances=ins, objects={70000: ObjectInfo(5)}
    )
    masks.write(tmp_path, [ann], _tax())
    with Image.open(tmp_path / "semantic/a.png") as img:
        assert img.mode == "P"
        assert img.getpalette()[6:9] == [255, 0, 0]  # class id 2 is red
        np.testing.assert_array_equal(np.asarray(img), sem)
    assert tifffile.imread(tmp_path / "instances/a.tif").dtype == np.uint32


def test_masks_16_bit_instance_png(tmp_path):
    ins = np.zeros((4, 4), np.int32)
    ins[0, 0] = 300
    ann = ImageAnnotation("a.png", ins.shape, instances=ins, objects={300: ObjectInfo(2)})
    masks.write(tmp_path, [ann], _tax())
    with Image.open(tmp_path / "instances/a.png") as img:
        assert np.asarray(img).max() == 300


@HYP
@given(
    sem=arrays(
        np.uint8,
        st.tuples(st.integers(1, 3), st.integers(1, 10), st.integers(1, 10)),
        elements=st.sampled_from([0, 2, 5]),
    ),
    data=st.data(),
    fmt=st.sampled_from(["png", "tiff"]),
    flat=st.booleans(),
)
def test_masks_round_trip_random_masks_and_boxes(tmp_path_factory, sem, data, fmt, flat):
    if flat:
        sem = sem[0]
    ins = ndi.label(sem > 0)[0] if sem.ndim == 2 else sem.astype(np.int32) * 1000
    objects = {
        int(k): ObjectInfo(2, {"truncated": True}, status="approved") for k in np.unique(ins) if k
    }
    boxes = data.draw(boxes_on(sem.shape))
    ann = ImageAnnotation(
        "m.png",
        sem.shape,
        semantic=sem,
        instances=ins,
        objects=objects,
        boxes=boxes,
        metadata={"k": 1},
    )
    out = tmp_path_factory.mktemp("masks")
    masks.write(out, [ann], _tax(), image_format=fmt)
    (back,), tax = masks.read(out)
    np.testing.assert_array_equal(back.semantic, sem)
    np.testing.assert_array_equal(back.instances, ins)
    assert back.instances.dtype == ins.dtype
    assert (back.objects, back.boxes, back.metadata) == (objects, boxes, {"k": 1})
    assert tax == _tax()


def test_masks_without_sidecar_take_classes_from_values(tmp_path):
    (tmp_path / "semantic").mkdir()
    (tmp_path / "instances").mkdir()
    sem = np.zeros((5, 5), np.uint8)
    sem[:2] = 3
    ins = np.zeros((5, 5), np.uint16)
    ins[:2, :2] = 9
    Image.fromarray(sem).save(tmp_path / "semantic/x.png")
    Image.fromarray(ins).save(tmp_path / "instances/x.png")
    (ann,), tax = masks.read(tmp_path)
    assert [(c.id, c.name) for c in tax] == [(3, "class 3")]
    assert ann.objects == {9: ObjectInfo(3)}


def test_masks_without_sidecar_give_each_instance_its_majority_class(tmp_path):
    (tmp_path / "semantic").mkdir()
    (tmp_path / "instances").mkdir()
    sem = np.zeros((4, 6), np.uint8)
    ins = np.zeros((4, 6), np.uint16)
    ins[0, :] = 1  # classes 3, 4, 4, 4, 0, 0 -> 4 (background does not vote)
    sem[0, :4] = [3, 4, 4, 4]
    ins[1, :4] = 2  # a tie between 6 and 5 -> the smaller class, 5
    sem[1, :4] = [6, 5, 6, 5]
    ins[3, :2] = 300  # no class under it -> "object"
    Image.fromarray(sem).save(tmp_path / "semantic/x.png")
    Image.fromarray(ins).save(tmp_path / "instances/x.png")
    (ann,), tax = masks.read(tmp_path)
    obj = tax.by_name("object").id
    assert {k: o.class_id for k, o in ann.objects.items()} == {1: 4, 2: 5, 300: obj}


def test_yolo_segment_writes_huge_uint64_instance(tmp_path):
    labels = np.zeros((10, 10), np.uint64)
    labels[2:5, 3:7] = 2**40
    ann = ImageAnnotation("a.png", (10, 10), instances=labels, objects={2**40: ObjectInfo(5)})
    yolo.write(tmp_path / "ds", [ann], _tax(), task="segment")
    (back,), _ = yolo.read(tmp_path / "ds")
    assert list(back.objects.values()) == [ObjectInfo(5)]
    np.testing.assert_array_equal(back.instances > 0, labels > 0)


def test_masks_size_mismatch_is_an_error(tmp_path):
    ann = ImageAnnotation("a.png", (4, 5), semantic=np.ones((4, 5), np.uint8) * 2)
    masks.write(tmp_path, [ann], _tax())
    side = json.loads((tmp_path / "masks.json").read_text())
    side["images"][0]["shape"] = [5, 5]
    (tmp_path / "masks.json").write_text(json.dumps(side))
    with pytest.raises(FormatError, match="does not match") as info:
        masks.read(tmp_path)
    assert info.value.path == str(tmp_path / "semantic/a.png")
    assert info.value.field == "shape"


def test_masks_missing_file_is_an_error(tmp_path):
    ann = ImageAnnotation("a.png", (4, 5), semantic=np.ones((4, 5), np.uint8) * 2)
    masks.write(tmp_path, [ann], _tax())
    (tmp_path / "semantic/a.png").unlink()
    with pytest.raises(FormatError, match="missing"):
        masks.read(tmp_path)


# -- dispatch ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.json", "coco"),
        ("data.yaml", "yolo"),
        ("x.xml", "voc"),
        ("m.png", "masks"),
        ("m.tiff", "masks"),
    ],
)
def test_format_is_guessed_from_suffix(tmp_path, name, fmt):
    assert formats.guess_format(tmp_path / name) == fmt


@pytest.mark.parametrize("fmt", ["coco", "yolo", "voc", "masks"])
def test_format_is_guessed_from_written_directory(tmp_path, fmt):
    ann = ImageAnnotation("a.png", (4, 4), boxes=[Box(0, 0, 1, 1, class_id=2)])
    target = tmp_path / "a.json" if fmt == "coco" else tmp_path / "out"
    formats.write(target, [ann], _tax(), fmt=fmt)
    assert formats.guess_format(tmp_path if fmt == "coco" else target) == fmt


def test_unknown_format_is_an_error(tmp_path):
    with pytest.raises(FormatError, match="unknown format") as info:
        formats.write(tmp_path / "x", [], _tax(), fmt="csv")
    assert info.value.field == "fmt"


def test_unguessable_path_is_an_error(tmp_path):
    with pytest.raises(FormatError, match="cannot tell the format"):
        formats.write(tmp_path / "out", [], _tax())

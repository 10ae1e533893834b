"""CVAT XML 1.1: boxes, polygons, polylines, points, mask RLE, attributes, z_order, tracks."""
# ruff: noqa: E501  (the XML is kept in the exact line layout CVAT writes)

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import cvat
from napari_labelsuite.core.formats._common import ReadReport

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")

POLY = "3.50,2.20;30.10,4.00;25.75,20.60;6.00,18.00"
UNDER = "0.00,0.00;40.00,0.00;40.00,30.00;0.00,30.00"

CVAT_IMAGES = f"""<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>12</id>
      <name>street</name>
      <size>1</size>
      <mode>annotation</mode>
      <labels>
        <label>
          <name>car</name>
          <color>#fa3253</color>
          <type>any</type>
          <attributes>
            <attribute>
              <name>parked</name>
              <mutable>False</mutable>
              <input_type>checkbox</input_type>
              <default_value>false</default_value>
              <values>false
true</values>
            </attribute>
          </attributes>
        </label>
        <label><name>person</name><color>#33ddff</color><type>any</type><attributes/></label>
        <label><name>road</name><color>#aaaaaa</color><type>any</type><attributes/></label>
        <label><name>lane</name><color>#00ff00</color><type>any</type><attributes/></label>
        <label><name>nose</name><color>#ff00ff</color><type>any</type><attributes/></label>
        <label><name>day</name><color>#ffff00</color><type>tag</type><attributes/></label>
      </labels>
    </task>
    <dumped>2024-05-01 10:00:00.000000+00:00</dumped>
  </meta>
  <image id="0" name="frame_000000.png" width="48" height="32">
    <box label="car" source="manual" occluded="0" xtl="10.50" ytl="20.00" xbr="30.00" ybr="31.30" z_order="2">
      <attribute name="parked">true</attribute>
    </box>
    <polygon label="road" source="manual" occluded="0" points="{UNDER}" z_order="0">
    </polygon>
    <polygon label="person" source="manual" occluded="1" points="{POLY}" z_order="1" group_id="3">
    </polygon>
    <box label="person" source="manual" occluded="0" xtl="3.00" ytl="2.00" xbr="31.00" ybr="21.00" z_order="0" group_id="3">
    </box>
    <mask label="road" source="manual" occluded="0" rle="3, 5, 2, 7, 7" left="40" top="25" width="4" height="6" z_order="3">
    </mask>
    <polyline label="lane" source="manual" occluded="0" points="1.00,31.00;20.00,25.50;47.00,24.00" z_order="0">
    </polyline>
    <points label="nose" source="manual" occluded="0" points="12.50,8.00;14.00,9.25" z_order="0">
    </points>
    <tag label="day" source="manual">
    </tag>
  </image>
</annotations>
"""


def _coco(points: str, h: int, w: int) -> np.ndarray:
    flat = [float(v) for p in points.split(";") for v in p.split(",")]
    return mask_utils.decode(mask_utils.frPyObjects([flat], h, w)[0]).astype(bool)


def test_cvat_for_images_reads_every_shape(tmp_path):
    f = tmp_path / "annotations.xml"
    f.write_text(CVAT_IMAGES)
    (ann,), tax = cvat.read(tmp_path)
    assert tax.names() == ["car", "person", "road", "lane", "nose", "day"]
    assert np.allclose(tax.by_name("car").color[:3], (0xFA / 255, 0x32 / 255, 0x53 / 255))
    assert ann.image_name == "frame_000000.png" and ann.shape == (32, 48)
    labels = np.asarray(ann.instances)
    # z_order: road (0) below person (1) below the mask (3)
    road = _coco(UNDER, 32, 48)
    person = _coco(POLY, 32, 48)
    mask = np.zeros((32, 48), bool)
    mask[25:31, 40:44] = np.repeat(np.arange(5) % 2 == 1, [3, 5, 2, 7, 7]).reshape(6, 4)
    expected = np.zeros((32, 48), np.int32)
    expected[road] = 1
    expected[person] = 2
    expected[mask] = 1  # the mask is a second road shape: a separate instance...
    k_mask = max(ann.objects)
    expected[mask] = k_mask
    np.testing.assert_array_equal(labels, expected)
    assert ann.objects[2].attributes == {"occluded": True, "z_order": 1, "group_id": 3}
    assert [(tax[b.class_id].name, b.xyxy, b.instance_id, b.attributes) for b in ann.boxes] == [
        ("car", (10.5, 20.0, 30.0, 31.3), 0, {"occluded": False, "z_order": 2, "parked": True}),
        ("person", (3.0, 2.0, 31.0, 21.0), 2, {"occluded": False, "group_id": 3}),
    ]
    assert [p["xy"] for p in ann.metadata["points"]] == [[12.5, 8.0], [14.0, 9.25]]
    assert ann.metadata["polylines"][0]["xy"] == [[1.0, 31.0], [20.0, 25.5], [47.0, 24.0]]
    assert ann.metadata["tags"] == ["day"]


def test_mask_rle_is_row_major_background_first():
    m = cvat.mask_from_rle([1, 2, 3, 0], 2, 3)
    assert m.tolist() == [[False, True, True], [False, False, False]]
    assert cvat.mask_to_rle(m) == [1, 2, 3]
    starts_set = np.array([[True, False], [False, True]])
    assert cvat.mask_to_rle(starts_set) == [0, 1, 2, 1]
    np.testing.assert_array_equal(cvat.mask_from_rle([0, 1, 2, 1], 2, 2), starts_set)


def test_video_tracks_are_read_per_frame(tmp_path):
    f = tmp_path / "video.xml"
    f.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
  <meta><task><size>3</size><mode>interpolation</mode>
    <labels><label><name>car</name><color>#fa3253</color><attributes/></label></labels>
    <original_size><width>40</width><height>20</height></original_size></task></meta>
  <track id="0" label="car" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1.00" ytl="2.00" xbr="11.00" ybr="12.00" z_order="0"/>
    <box frame="1" keyframe="0" outside="0" occluded="0" xtl="3.00" ytl="2.00" xbr="13.00" ybr="12.00" z_order="0"/>
    <box frame="2" keyframe="1" outside="1" occluded="0" xtl="5.00" ytl="2.00" xbr="15.00" ybr="12.00" z_order="0"/>
  </track>
</annotations>
"""
    )
    anns, _ = cvat.read(f)
    assert [a.image_name for a in anns] == ["frame_000000", "frame_000001"]
    assert [a.boxes[0].xyxy for a in anns] == [(1.0, 2.0, 11.0, 12.0), (3.0, 2.0, 13.0, 12.0)]
    assert anns[1].boxes[0].attributes["track_id"] == "0"


def test_bad_coordinates_name_file_shape_and_field(tmp_path):
    f = tmp_path / "a.xml"
    f.write_text(CVAT_IMAGES.replace('xtl="10.50"', 'xtl="left"'))
    with pytest.raises(FormatError) as info:
        cvat.read(f)
    assert (info.value.where, info.value.field) == ("image[0] box[0]", "xtl")
    f.write_text(CVAT_IMAGES.replace('rle="3, 5, 2, 7, 7"', 'rle="3, 5"'))
    with pytest.raises(FormatError, match="invalid mask rle"):
        cvat.read(f)


def test_round_trip_through_our_export(tmp_path):
    (tmp_path / "annotations.xml").write_text(CVAT_IMAGES)
    (ann,), tax = cvat.read(tmp_path)
    out = tmp_path / "out"
    report = ReadReport()
    cvat.write(out, [ann], tax)
    (again,), tax2 = cvat.read(out, report=report)
    assert tax2.names() == tax.names()
    np.testing.assert_array_equal(np.asarray(again.instances), np.asarray(ann.instances))
    assert [(b.class_id, b.xyxy, b.instance_id) for b in again.boxes] == [
        (b.class_id, b.xyxy, b.instance_id) for b in ann.boxes
    ]
    assert [p["xy"] for p in again.metadata["points"]] == [p["xy"] for p in ann.metadata["points"]]
    assert again.metadata["polylines"][0]["xy"] == ann.metadata["polylines"][0]["xy"]
    assert again.metadata["tags"] == ["day"]


def test_ellipse_becomes_an_instance_of_the_pixel_centres_inside(tmp_path):
    from skimage.draw import ellipse as draw_ellipse

    def read(rotation: float) -> np.ndarray:
        f = tmp_path / f"e{rotation}.xml"
        f.write_text(
            '<annotations><version>1.1</version><image id="0" name="a.png" width="40" '
            'height="30"><ellipse label="cell" occluded="0" cx="20.0" cy="14.5" rx="9.3" '
            f'ry="4.6" rotation="{rotation}" z_order="0"/></image></annotations>'
        )
        (ann,), _ = cvat.read(f)
        return np.asarray(ann.instances) == 1

    ref = np.zeros((30, 40), bool)
    rr, cc = draw_ellipse(14.5 - 0.5, 20.0 - 0.5, 4.6, 9.3, shape=(30, 40))
    ref[rr, cc] = True
    np.testing.assert_array_equal(read(0.0), ref)
    # a quarter turn swaps the radii
    ref90 = np.zeros((30, 40), bool)
    rr, cc = draw_ellipse(14.5 - 0.5, 20.0 - 0.5, 9.3, 4.6, shape=(30, 40))
    ref90[rr, cc] = True
    np.testing.assert_array_equal(read(90.0), ref90)

"""A corpus of hostile and broken inputs for every reader, built in a folder.

Each entry is ``(name, kind, path)``: ``kind`` is a format of
``napari_labelsuite.core.formats`` or one of ``taxonomy``, ``annotation``, ``provenance``,
``store``. Every input must end in a named ``LabelsuiteError``. Used by the corpus test
(tests/core/test_hardening_corpus.py) and the fuzz test.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_XML = "<annotations>" + "<a>" * 50_000 + "</a>" * 50_000 + "</annotations>"
BOMB_YAML = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    "<annotation><filename>&x;</filename></annotation>\n"
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY l "lol">'
    + "".join(
        f'<!ENTITY l{i} "{("&l" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )  # fmt: skip
    + "]>\n<annotation><filename>&l9;</filename></annotation>\n"
)

Entry = tuple[str, str, Path]


def _png_header(w: int, h: int) -> bytes:
    """A PNG file of a few bytes whose header declares ``w`` x ``h`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _taxonomy():
    from napari_labelsuite.core.taxonomy import Taxonomy

    return Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}, {"id": 2, "name": "dot"}]})


def sample_annotations():
    from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo

    inst = np.zeros((12, 16), np.int32)
    inst[2:6, 2:7] = 1
    inst[7:11, 9:14] = 2
    ann = ImageAnnotation(
        "img1.png",
        (12, 16),
        instances=inst,
        objects={1: ObjectInfo(1), 2: ObjectInfo(2)},
        boxes=[Box(1, 1, 5, 4, class_id=2)],
    )
    return [ann]


def sample_pose() -> tuple[Any, Any]:
    """A skeleton (nose, left, right; left and right swap in a mirror) and one pose of it
    with a labelled, a visible-only and an unlabelled point, on a 12 x 16 image."""
    from napari_labelsuite.core.objects import Keypoints, Skeleton

    skel = Skeleton(["nose", "left", "right"], edges=[(0, 1), (0, 2)], flip_pairs=[(1, 2)])
    kp = Keypoints(np.array([[3.0, 4.0, 2], [5.0, 4.0, 1], [0, 0, 0]]), 1, box=(2, 3, 7, 8))
    return skel, kp


def write_yolo_objects(d: Path, task: str, rotated: list[Any], tax: Any) -> None:
    """A one-image YOLO dataset in ``d`` (``images/train/a.png``, 12 x 16, black): task
    ``"obb"`` holds the ``rotated`` boxes, task ``"pose"`` the pose of :func:`sample_pose`."""
    from PIL import Image

    from napari_labelsuite.core.annotation import ImageAnnotation
    from napari_labelsuite.core.formats.yolo_objects import write_obb, write_pose

    (d / "images" / "train").mkdir(parents=True)
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(d / "images" / "train" / "a.png")
    if task == "obb":
        write_obb(d, [ImageAnnotation("a.png", (12, 16), rotated=rotated)], tax)
    else:
        skel, kp = sample_pose()
        write_pose(d, [ImageAnnotation("a.png", (12, 16), keypoints=[kp])], tax, skel)


def valid_sample(fmt: str, folder: Path) -> Path:
    """A valid file or folder of format ``fmt`` written by the plugin's own writer."""
    from napari_labelsuite.core import formats

    anns = sample_annotations()
    target = folder / (f"{fmt}.json" if fmt in ("coco", "coco_results") else fmt)
    opts: dict[str, Any] = {"task": "segment"} if fmt == "yolo" else {}
    written = formats.write(target, anns, _taxonomy(), fmt=fmt, **opts)
    if fmt in ("labelstudio",) and target.is_dir():
        jsons = [p for p in written if p.suffix == ".json"]
        return jsons[0] if len(jsons) == 1 else target
    return target


def _write(p: Path, data: bytes | str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    p.write_bytes(data)
    return p


def _json_edit(src: Path, dst: Path, fn: Callable[[Any], Any]) -> Path:
    doc = json.loads(src.read_text())
    out = fn(doc)
    return _write(dst, json.dumps(doc if out is None else out))


def _copy_tree(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def build(root: Path) -> list[Entry]:
    """Write the corpus under ``root``; return its entries."""
    root.mkdir(parents=True, exist_ok=True)
    out: list[Entry] = []
    base = root / "_valid"
    base.mkdir()

    def add(name: str, kind: str, path: Path) -> None:
        out.append((name, kind, path))

    # -- COCO -------------------------------------------------------------------------------
    coco = valid_sample("coco", base)

    def c(name: str, fn: Callable[[Any], Any]) -> None:
        add(f"coco/{name}", "coco", _json_edit(coco, root / "coco" / f"{name}.json", fn))

    add("coco/not-json", "coco", _write(root / "coco" / "nj.json", "{images: ["))
    add("coco/empty", "coco", _write(root / "coco" / "empty.json", ""))
    add("coco/latin1", "coco", _write(root / "coco" / "l1.json",
                                        coco.read_text().replace("cell", "caf\u00e9")
                                        .encode("latin-1")))  # fmt: skip
    add("coco/deep", "coco", _write(root / "coco" / "deep.json", '{"images": ' + DEEP_JSON + "}"))
    c("top-list", lambda d: [d])
    c("images-not-list", lambda d: d.__setitem__("images", {"a": 1}))
    c("width-text", lambda d: d["images"][0].__setitem__("width", "16"))
    c("width-zero", lambda d: d["images"][0].__setitem__("width", 0))
    c("width-huge-int", lambda d: d["images"][0].__setitem__("width", 10**400))
    c("dup-image-id", lambda d: d["images"].append(dict(d["images"][0], file_name="b.png")))
    c("bbox-3", lambda d: d["annotations"][0].__setitem__("bbox", [1, 2, 3]))
    c("bbox-text", lambda d: d["annotations"][0].__setitem__("bbox", ["1", 2, 3, 4]))
    c("bbox-outside", lambda d: d["annotations"][0].__setitem__("bbox", [10, 10, 50, 50]))
    c("unknown-category", lambda d: d["annotations"][0].__setitem__("category_id", 99))
    c("box-list", lambda d: d["annotations"][0].__setitem__("box", [1, 2]))
    c("source-image-list", lambda d: d["images"][0].__setitem__("source_image", ["x"]))
    c("dup-annotation-id", lambda d: d["annotations"].append(dict(d["annotations"][0])))
    c("huge-1e9", lambda d: d["images"][0].update(width=10**9, height=10**9))
    c("huge-60000", lambda d: d["images"][0].update(width=60000, height=60000))
    c("polygon-short", lambda d: d["annotations"][0].__setitem__("segmentation", [[1, 2, 3, 4]]))
    c("rle-sum", lambda d: d["annotations"][0].__setitem__(
        "segmentation", {"size": [12, 16], "counts": [5, 5]}))  # fmt: skip
    c("rle-size", lambda d: d["annotations"][0].__setitem__(
        "segmentation", {"size": [1, 1], "counts": [1]}))  # fmt: skip
    c("segmentation-text", lambda d: d["annotations"][0].__setitem__("segmentation", "abc"))
    c("instance-id-text", lambda d: d["annotations"][0].__setitem__("instance_id", "7"))
    c("attributes-list", lambda d: d["annotations"][0].__setitem__("attributes", [1]))
    c("categories-missing", lambda d: d.pop("categories"))
    c("category-id-text", lambda d: d["categories"][0].__setitem__("id", "1"))
    c("nan-bbox", lambda d: d["annotations"][0].__setitem__("bbox", [float("nan"), 1, 2, 2]))

    # -- YOLO -------------------------------------------------------------------------------
    yolo = valid_sample("yolo", base)

    def y(name: str, edit: Callable[[Path], None]) -> None:
        d = _copy_tree(yolo, root / "yolo" / name)
        edit(d)
        add(f"yolo/{name}", "yolo", d)

    def side_edit(fn: Callable[[Any], Any]) -> Callable[[Path], None]:
        return lambda d: _json_edit(d / "labelsuite.json", d / "labelsuite.json", fn) and None

    def plain(d: Path) -> None:
        (d / "labelsuite.json").unlink()

    def label_file(d: Path) -> Path:
        return next((d / "labels").rglob("*.txt"))

    y("yaml-bomb", lambda d: (plain(d), _write(d / "data.yaml", BOMB_YAML + "names: [a]\n")))
    y("yaml-deep", lambda d: (plain(d), _write(d / "data.yaml", "names: " + DEEP_JSON)))
    y("yaml-broken", lambda d: (plain(d), _write(d / "data.yaml", "names: [a\ntrain: {")))
    y("yaml-latin1", lambda d: (plain(d), _write(d / "data.yaml", b"names: [caf\xe9]\n")))
    y("yaml-python-tag", lambda d: (plain(d), _write(
        d / "data.yaml", "names: !!python/object/apply:os.system ['touch pwned']\n")))  # fmt: skip
    y("names-dict-text", lambda d: (plain(d), _write(d / "data.yaml", "names: {a: b}\n")))
    y("sidecar-list", side_edit(lambda s: []))
    y("sidecar-files-entry", side_edit(
        lambda s: s["images"][0].__setitem__("files", {"img1": [1]})))  # fmt: skip
    y("sidecar-instance-id-text", side_edit(lambda s: s["images"][0]["files"].__setitem__(
        "img1", {"plane": [], "rows": [{"instance_id": "x"}]})))  # fmt: skip
    y("sidecar-shape-huge", side_edit(
        lambda s: s["images"][0].__setitem__("shape", [10**6, 10**6])))  # fmt: skip
    y("sidecar-deep", lambda d: _write(d / "labelsuite.json", '{"images": ' + DEEP_JSON + "}"))
    y("label-latin1", lambda d: _write(label_file(d), b"0 0.1 0.1 caf\xe9\n"))
    y("label-class-range", lambda d: _write(label_file(d), "7 0.5 0.5 0.2 0.2\n"))
    y("label-text", lambda d: _write(label_file(d), "0 a b c d\n"))
    y("label-inf", lambda d: _write(label_file(d), "0 inf 0.5 0.2 0.2\n"))

    def huge_png(d: Path) -> None:
        plain(d)
        for f in list(d.rglob("*.txt")):
            f.unlink()
        _write(d / "data.yaml", "path: .\ntrain: images/train\nnames: [cell, dot]\n")
        _write(d / "images" / "train" / "big.png", _png_header(60000, 60000))
        _write(d / "labels" / "train" / "big.txt", "0 0.1 0.1 0.5 0.1 0.5 0.5\n")

    y("png-header-60000", huge_png)

    # -- VOC --------------------------------------------------------------------------------
    voc = valid_sample("voc", base)
    xml = next((voc / "Annotations").glob("*.xml"))

    def v(name: str, data: bytes | str | Callable[[str], str]) -> None:
        d = _copy_tree(voc, root / "voc" / name)
        f = d / "Annotations" / xml.name
        _write(f, data(f.read_text()) if callable(data) else data)
        add(f"voc/{name}", "voc", d)

    v("malformed", lambda t: t[:-30])
    v("latin1-declared-utf8", lambda t: t.replace("img1", "caf\u00e9"))
    v("xxe", XXE)
    v("billion-laughs", LAUGHS)
    v("root-not-annotation", "<x><y/></x>")
    v("width-text", lambda t: t.replace("<width>16</width>", "<width>wide</width>"))
    v("box-outside", lambda t: t.replace("<xmax>5</xmax>", "<xmax>500</xmax>"))
    v("metadata-not-json", lambda t: t.replace(
        "</source_image>", "</source_image><metadata>{x</metadata>", 1))  # fmt: skip
    v(
        "instance-id-text",
        lambda t: t.replace(
            "</bndbox>", "</bndbox><labelsuite><instance_id>x</instance_id></labelsuite>", 1
        ),
    )
    # the latin-1 case must really be latin-1 bytes
    f = root / "voc" / "latin1-declared-utf8" / "Annotations" / xml.name
    f.write_bytes(f.read_text().encode("latin-1"))

    # -- masks ------------------------------------------------------------------------------
    masks = valid_sample("masks", base)

    def m(name: str, edit: Callable[[Path], None]) -> None:
        d = _copy_tree(masks, root / "masks" / name)
        edit(d)
        add(f"masks/{name}", "masks", d)

    def mside(fn: Callable[[Any], Any]) -> Callable[[Path], None]:
        return lambda d: _json_edit(d / "masks.json", d / "masks.json", fn) and None

    def setpath(value: Any) -> Callable[[Any], Any]:
        return lambda s: s["images"][0]["files"]["instances"].__setitem__("path", value)

    m("path-number", mside(setpath(7)))
    m("path-dotdot", mside(setpath("../../_valid/masks/instances/img1.png")))
    m("path-absolute", mside(setpath(str((masks / "instances" / "img1.png").resolve()))))
    m("objects-list", mside(lambda s: s["images"][0].__setitem__("objects", [1])))
    m("sidecar-deep", lambda d: _write(d / "masks.json", '{"images": ' + DEEP_JSON + "}"))
    m("png-header-huge", lambda d: _write(d / "instances" / "img1.png", _png_header(60000, 60000)))

    def truncate_png(d: Path) -> None:
        f = d / "instances" / "img1.png"
        _write(f, f.read_bytes()[:40])

    m("png-truncated", truncate_png)

    # -- formats added later: generic damage to a valid sample -------------------------------
    from napari_labelsuite.core import formats

    for fmt in ("labelme", "cvat", "labelstudio", "coco_results", "coco_panoptic"):
        if fmt not in formats.FORMATS:
            continue
        try:
            sample = valid_sample(fmt, base)
        except Exception:  # a writer that needs other input: damage a JSON of our own
            sample = coco
        files = [sample] if sample.is_file() else sorted(
            p for p in sample.rglob("*") if p.suffix in (".json", ".xml"))  # fmt: skip
        if not files:
            continue
        main = files[0]
        for name, data in (
            ("truncated", main.read_bytes()[: max(1, len(main.read_bytes()) // 2)]),
            ("latin1", main.read_bytes().replace(b'"', b'"caf\xe9', 1)),
            ("deep", ('{"a": ' + DEEP_JSON + "}") if main.suffix == ".json" else DEEP_XML),
            ("top-string", '"hello"' if main.suffix == ".json" else XXE),
        ):
            if sample.is_file():
                d = _write(root / fmt / name / sample.name, data)
            else:
                d = _copy_tree(sample, root / fmt / name)
                _write(d / main.relative_to(sample), data)
            add(f"{fmt}/{name}", fmt, d)

    # -- taxonomy ---------------------------------------------------------------------------
    tx = root / "taxonomy"
    latin1 = b"classes:\n  - {id: 1, name: caf\xe9}\n"
    add("taxonomy/latin1", "taxonomy", _write(tx / "l1.yaml", latin1))
    add("taxonomy/bomb", "taxonomy", _write(tx / "bomb.yaml", BOMB_YAML + "classes: []\n"))
    add("taxonomy/deep", "taxonomy", _write(tx / "deep.yaml", "classes: " + DEEP_JSON))
    deep = '{"classes": ' + DEEP_JSON + "}"
    add("taxonomy/deep-json", "taxonomy", _write(tx / "deep.json", deep))
    add("taxonomy/nan", "taxonomy", _write(tx / "nan.json",
        '{"classes": [{"id": 1, "name": "a", "color": [NaN, 0, 0]}]}'))  # fmt: skip
    add("taxonomy/not-list", "taxonomy", _write(tx / "nl.yaml", "classes: {a: 1}\n"))
    add("taxonomy/dup-ids", "taxonomy", _write(tx / "dup.yaml",
        "classes:\n  - {id: 1, name: a}\n  - {id: 1, name: b}\n"))  # fmt: skip
    add("taxonomy/broken", "taxonomy", _write(tx / "broken.yaml", "classes: [\n  - {id: 1\n"))
    add("taxonomy/python-tag", "taxonomy", _write(tx / "tag.yaml",
        "classes: !!python/object/apply:os.system ['touch pwned']\n"))  # fmt: skip

    # -- saved annotations (dataset sidecars) -----------------------------------------------
    from napari_labelsuite.core.dataset import save_sidecar

    sc = root / "sidecar"

    def s(name: str, edit: Callable[[Path], None]) -> None:
        d = sc / name
        d.mkdir(parents=True)
        jp = save_sidecar(sample_annotations()[0], d / "img1.json")
        edit(jp)
        add(f"sidecar/{name}", "annotation", jp)

    def sdoc(fn: Callable[[Any], Any]) -> Callable[[Path], None]:
        return lambda jp: _json_edit(jp, jp, fn) and None

    s("masks-dotdot", sdoc(lambda d: d.__setitem__("masks", "../../_valid/coco.json")))
    s("masks-absolute", sdoc(lambda d: d.__setitem__("masks", "/etc/hostname")))
    s("masks-number", sdoc(lambda d: d.__setitem__("masks", 3)))
    s("objects-list", sdoc(lambda d: d["annotation"].__setitem__("objects", [1])))
    s("boxes-dict", sdoc(lambda d: d["annotation"].__setitem__("boxes", {"a": 1})))
    s("shape-text", sdoc(lambda d: d["annotation"].__setitem__("shape", "12x16")))
    s("deep", lambda jp: _write(jp, DEEP_JSON))
    s("latin1", lambda jp: _write(jp, b'{"format": "caf\xe9"}'))

    def npz_bomb(jp: Path) -> None:
        import io
        import zipfile

        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<i4", "fortran_order": False, "shape": (10**9, 10**9)}
        )
        with zipfile.ZipFile(jp.with_suffix(".npz"), "w") as zf:
            zf.writestr("instances.npy", header.getvalue() + b"\0" * 64)

    s("npz-huge-member", npz_bomb)
    s("npz-not-zip", lambda jp: _write(jp.with_suffix(".npz"), b"PK\x03\x04 torn"))
    s("npz-pickle", lambda jp: _write(jp.with_suffix(".npz"), _pickled_npz()))

    # -- provenance -------------------------------------------------------------------------
    from napari_labelsuite.core.provenance import ProvenanceLog

    def p(name: str, edit: Callable[[Path], None]) -> None:
        lg = ProvenanceLog(root / "prov" / name / "provenance.jsonl", key=None)
        for i in range(3):
            lg.append({"user": "ana", "action": f"a{i}", "params": {}})
        edit(lg.path)
        add(f"provenance/{name}", "provenance", lg.path)

    p("deep-line", lambda f: f.write_text(f.read_text() + DEEP_JSON + "\n"))
    p("dup-keys", lambda f: f.write_text(f.read_text().replace('"user"', '"seq": 0, "user"', 1)))
    p("truncated", lambda f: f.write_text("".join(f.read_text().splitlines(True)[:1])))
    p("emptied", lambda f: f.write_text(""))
    p("latin1", lambda f: f.write_bytes(f.read_bytes() + b'{"caf\xe9": 1}\n'))

    # -- stores -----------------------------------------------------------------------------
    from napari_labelsuite.core.store import MaskStore

    def st(name: str, doc: str, fn: Callable[[Any], Any]) -> None:
        path = root / "store" / f"{name}.ome.zarr"
        with MaskStore.create(path, shape=(32, 32), chunks=(16, 16), n_levels=2) as store:
            store.create_labels("cells", dtype="uint16", role="instances")[:4, :4] = 1
            store.save()
        _json_edit(path / doc, path / doc, fn)
        add(f"store/{name}", "store", path)

    st("marker-string", "zarr.json", lambda d: d["attributes"].__setitem__("labelsuite", "x"))
    st("annotation-string", "zarr.json",
       lambda d: d["attributes"]["labelsuite"].__setitem__("annotation", "x"))  # fmt: skip
    st("ome-string", "zarr.json", lambda d: d["attributes"].__setitem__("ome", "x"))
    st("transform-no-type", "labels/cells/zarr.json",
       lambda d: d["attributes"]["ome"]["multiscales"][0]["datasets"][0]
       ["coordinateTransformations"][0].pop("type"))  # fmt: skip
    st("scale-text", "labels/cells/zarr.json",
       lambda d: d["attributes"]["ome"]["multiscales"][0]["datasets"][1]
       ["coordinateTransformations"][0].__setitem__("scale", ["a", "b"]))  # fmt: skip
    st("label-value-text", "labels/cells/zarr.json",
       lambda d: d["attributes"]["ome"]["image-label"].__setitem__(
           "properties", [{"label-value": "1", "class_id": 1}]))  # fmt: skip
    out += object_formats(root / "objects")
    return out


def _tiff_header(width: int, height: int) -> bytes:
    """A TIFF of a few bytes whose IFD declares ``width`` x ``height`` 8-bit pixels."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, 1)]  # fmt: skip
    data_at = 8 + 2 + 12 * len(tags) + 4
    body = struct.pack("<H", len(tags))
    for tag, typ, val in tags:
        val = data_at if tag == 273 else val
        body += struct.pack("<HHIHH", tag, typ, 1, val, 0) if typ == 3 else struct.pack(
            "<HHII", tag, typ, 1, val)  # fmt: skip
    return b"II*\x00" + struct.pack("<I", 8) + body + struct.pack("<I", 0) + b"\x00"


def object_formats(root: Path) -> list[Entry]:
    """CTC, DOTA, YOLO-OBB / pose and COCO keypoints: non-UTF-8 text, deep nesting, fields
    of the wrong type, huge declared sizes (kinds ``ctc``, ``dota``, ``yolo``,
    ``coco_keypoints``)."""
    import shutil

    from PIL import Image

    from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
    from napari_labelsuite.core.formats import coco_keypoints, ctc, dota
    from napari_labelsuite.core.objects import RotatedBox
    from napari_labelsuite.core.taxonomy import Taxonomy

    out: list[Entry] = []
    base = root / "_valid"
    tax = _taxonomy()

    def variant(src: Path, name: str, kind: str, rel: str, data: bytes | str) -> None:
        dst = root / name
        shutil.copytree(src, dst)
        _write(dst / rel, data)
        out.append((name, kind, dst))

    # -- CTC: a track table and two frames
    inst = np.zeros((2, 12, 16), np.uint16)
    inst[:, 2:6, 2:7] = 1
    series = ImageAnnotation("movie", inst.shape, axes="tyx", instances=inst,
                             objects={1: ObjectInfo(1)})  # fmt: skip
    c = base / "ctc"
    ctc.write(c, [series], Taxonomy([{"id": 1, "name": "cell"}]))
    variant(c, "ctc/latin1-table", "ctc", "man_track.txt", b"1 0 1 0\n\xe9 0 1 0\n")
    variant(c, "ctc/text-frame", "ctc", "man_track.txt", "1 0 one 0\n")
    variant(c, "ctc/huge-frame-number", "ctc", "man_track.txt", f"1 0 {10**12} 0\n")
    variant(c, "ctc/huge-tiff", "ctc", "man_track001.tif", _tiff_header(100_000, 100_000))
    variant(c, "ctc/not-a-tiff", "ctc", "man_track001.tif", b"II*\x00garbage")

    # -- DOTA: labelTxt and an image
    rbs = [RotatedBox(8.0, 6.0, 6.0, 3.0, 30.0, class_id=1)]
    d = base / "dota"
    dota.write(d, [ImageAnnotation("a.png", (12, 16), rotated=rbs)], tax)
    (d / "images").mkdir()
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(d / "images" / "a.png")
    row = (d / "labelTxt" / "a.txt").read_bytes()
    variant(d, "dota/latin1", "dota", "labelTxt/a.txt", row.replace(b"cell", b"caf\xe9"))
    variant(d, "dota/text-corner", "dota", "labelTxt/a.txt", b"x" + row.split(b" ", 1)[1])
    variant(d, "dota/infinite-corner", "dota", "labelTxt/a.txt",
            b"inf " + row.split(b" ", 1)[1])  # fmt: skip
    variant(d, "dota/not-an-image", "dota", "images/a.png", b"\x89PNG\r\n\x1a\nbroken")

    # -- YOLO-OBB and YOLO-pose datasets
    _, kp = sample_pose()
    for task in ("obb", "pose"):
        y = base / f"yolo_{task}"
        write_yolo_objects(y, task, rbs, tax)
        lab = "labels/train/a.txt"
        row = (y / lab).read_bytes()
        variant(y, f"yolo_{task}/latin1-label", "yolo", lab, row + b"0 \xe9\n")
        variant(y, f"yolo_{task}/text-value", "yolo", lab, b"0 x" + row[3:])
        variant(y, f"yolo_{task}/huge-image", "yolo", "images/train/a.png",
                _png_header(10**6, 10**6))  # fmt: skip
        text = (y / "data.yaml").read_text()
        variant(y, f"yolo_{task}/yaml-bomb", "yolo", "data.yaml", BOMB_YAML + text)
        if task == "pose":
            variant(y, "yolo_pose/kpt-shape-text", "yolo", "data.yaml",
                    text.replace("kpt_shape:\n- 3\n- 3\n", "kpt_shape: three\n"))  # fmt: skip

    # -- COCO keypoints
    ktax = Taxonomy([{"id": 1, "name": "person", "keypoints": {"names": ["a", "b", "c"]}}])
    k = base / "keypoints.json"
    coco_keypoints.write(k, [ImageAnnotation("a.png", (12, 16), keypoints=[kp])], ktax)

    def kj(name: str, fn: Callable[[Any], Any]) -> None:
        out.append((f"coco_keypoints/{name}", "coco_keypoints",
                    _json_edit(k, root / "coco_keypoints" / f"{name}.json", fn)))  # fmt: skip

    out.append(
        (
            "coco_keypoints/deep",
            "coco_keypoints",
            _write(root / "coco_keypoints" / "deep.json", '{"images": ' + DEEP_JSON + "}"),
        )
    )
    out.append(
        (
            "coco_keypoints/latin1",
            "coco_keypoints",
            _write(
                root / "coco_keypoints" / "l1.json",
                k.read_text().replace("person", "caf\u00e9").encode("latin-1"),
            ),
        )
    )
    kj("keypoints-object", lambda d: d["annotations"][0].__setitem__("keypoints", {"x": 1}))
    kj("keypoints-text", lambda d: d["annotations"][0]["keypoints"].__setitem__(0, "3"))
    kj("bbox-text", lambda d: d["annotations"][0].__setitem__("bbox", ["2", 3, 5, 5]))
    kj("category-name-list", lambda d: d["categories"][0].__setitem__("name", ["person"]))
    kj("skeleton-not-pairs", lambda d: d["categories"][0].__setitem__("skeleton", [[1]]))
    kj("height-huge", lambda d: d["images"][0].update(height=10**9, width=10**9))
    kj("height-text", lambda d: d["images"][0].__setitem__("height", "12"))
    kj("top-list", lambda d: [d])
    return out


def _pickled_npz() -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, instances=np.array([{"a": 1}], dtype=object))
    return buf.getvalue()


def fifo(root: Path) -> list[Entry]:
    """Pipes named like annotation files (a reader must never block on them)."""
    if not hasattr(os, "mkfifo"):
        return []
    out = []
    for kind, name in (("coco", "p.json"), ("taxonomy", "p.yaml"), ("annotation", "p.json"),
                       ("provenance", "p.jsonl")):  # fmt: skip
        f = root / "fifo" / kind / name
        f.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(f)
        out.append((f"fifo/{kind}", kind, f))
    return out


__all__ = ["BOMB_YAML", "DEEP_JSON", "build", "fifo", "sample_annotations", "valid_sample",
           "base64"]  # fmt: skip

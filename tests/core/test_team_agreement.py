"""Agreement by annotator pair and class, against scikit-learn and pycocotools."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from sklearn.metrics import cohen_kappa_score

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import TeamError
from napari_labelsuite.core.taxonomy import Taxonomy
from napari_labelsuite.core.team.agreement import agreement_by_annotator
from napari_labelsuite.core.team.chart import agreement_chart

SHAPE = (64, 64)


def _disc_image(rng: np.random.Generator, n: int, drop: float, jitter: int) -> tuple:
    """Instance mask of ``n`` discs (classes 1, 2) on a grid; some dropped, all jittered."""
    inst = np.zeros(SHAPE, np.int32)
    objects = {}
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    k = 0
    for gy in range(3):
        for gx in range(3):
            if k >= n:
                break
            k += 1
            if rng.random() < drop:
                continue
            cy = 10 + gy * 21 + rng.integers(-jitter, jitter + 1)
            cx = 10 + gx * 21 + rng.integers(-jitter, jitter + 1)
            inst[(yy - cy) ** 2 + (xx - cx) ** 2 <= 36] = k
            objects[k] = ObjectInfo(1 + k % 2)
    return inst, objects


def _team(seed: int = 0, n_images: int = 3, annotators=("ana", "bob", "cy")) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n_images):
        by = {}
        for j, who in enumerate(annotators):
            inst, objects = _disc_image(rng, 9, drop=0.15 * j, jitter=j)
            by[who] = ImageAnnotation(f"img{i}", SHAPE, instances=inst, objects=objects)
        out[f"img{i}"] = by
    return out


def _semantic(ann: ImageAnnotation) -> np.ndarray:
    lut = np.zeros(int(ann.instances.max()) + 1, np.int64)
    for k, o in ann.objects.items():
        lut[k] = o.class_id
    return lut[ann.instances]


def test_pair_kappa_is_sklearn_on_the_pooled_pixels():
    team = _team()
    res = agreement_by_annotator(team)
    for a, b in (("ana", "bob"), ("ana", "cy"), ("bob", "cy")):
        sa = np.concatenate([_semantic(team[k][a]).ravel() for k in sorted(team)])
        sb = np.concatenate([_semantic(team[k][b]).ravel() for k in sorted(team)])
        row = res.pair_row(a, b)
        assert row["kappa"] == pytest.approx(cohen_kappa_score(sa, sb), abs=1e-12)
        for cid in (1, 2):
            per = res.pair_row(a, b, str(cid))
            assert per["kappa"] == pytest.approx(cohen_kappa_score(sa == cid, sb == cid), 1e-12)
            assert per["pixels_a"] == int((sa == cid).sum())
            assert per["pixels_b"] == int((sb == cid).sum())


def _coco_counts(team: dict, a: str, b: str) -> dict[int, tuple[int, int, int]]:
    """tp, fp, fn per class at IoU 0.5 from pycocotools' COCOeval (a = gt, b = detections)."""
    images, gts, dts = [], [], []
    for img_id, key in enumerate(sorted(team), start=1):
        images.append({"id": img_id, "height": SHAPE[0], "width": SHAPE[1]})
        for who, out in ((a, gts), (b, dts)):
            ann = team[key][who]
            for k, o in ann.objects.items():
                m = np.asfortranarray((ann.instances == k).astype(np.uint8))
                rle = mask_utils.encode(m)
                rle["counts"] = rle["counts"].decode()
                out.append(
                    {
                        "id": len(out) + 1,
                        "image_id": img_id,
                        "category_id": o.class_id,
                        "segmentation": rle,
                        "area": float(m.sum()),
                        "bbox": list(mask_utils.toBbox(rle)),
                        "iscrowd": 0,
                        "score": 1.0,
                    }
                )
    gt = COCO()
    gt.dataset = {"images": images, "annotations": gts, "categories": [{"id": 1}, {"id": 2}]}
    gt.createIndex()
    dt = gt.loadRes(dts)
    ev = COCOeval(gt, dt, "segm")
    ev.params.iouThrs = np.array([0.5])
    ev.params.areaRng = [[0, 1e10]]
    ev.params.areaRngLbl = ["all"]
    ev.params.maxDets = [1000]
    ev.evaluate()
    counts = {}
    for cid in (1, 2):
        tp = fp = fn = 0
        for e in ev.evalImgs:
            if e is None or e["category_id"] != cid:
                continue
            matched = e["dtMatches"][0] > 0
            tp += int(matched.sum())
            fp += int((~matched).sum())
            fn += int((e["gtMatches"][0] == 0).sum())
        counts[cid] = (tp, fp, fn)
    return counts


def test_detection_f1_per_class_is_pycocotools():
    team = _team(seed=3)
    res = agreement_by_annotator(team)
    for a, b in (("ana", "bob"), ("ana", "cy"), ("bob", "cy")):
        ref = _coco_counts(team, a, b)
        for cid, (tp, fp, fn) in ref.items():
            row = res.pair_row(a, b, str(cid))
            assert (row["tp"], row["fp"], row["fn"]) == (tp, fp, fn)
            assert row["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
        all_row = res.pair_row(a, b)
        assert all_row["tp"] == sum(v[0] for v in ref.values())


def test_mean_matched_iou_of_a_known_shift():
    a = np.zeros(SHAPE, np.int32)
    b = np.zeros(SHAPE, np.int32)
    a[10:20, 10:20] = 1
    b[10:20, 12:22] = 1  # 80 shared of 120: IoU 2/3
    a[40:50, 40:50] = 2
    b[40:50, 40:50] = 2
    objs = {1: ObjectInfo(1), 2: ObjectInfo(1)}
    team = {
        "x": {
            "a": ImageAnnotation("x", SHAPE, instances=a, objects=objs),
            "b": ImageAnnotation("x", SHAPE, instances=b, objects=dict(objs)),
        }
    }
    row = agreement_by_annotator(team).pair_row("a", "b")
    assert (row["tp"], row["fp"], row["fn"]) == (2, 0, 0)
    assert row["mean_iou"] == pytest.approx((80 / 120 + 1.0) / 2)


def test_boxes_only_annotations_use_box_matching():
    boxes_a = [Box(0, 0, 10, 10, 1), Box(20, 20, 30, 30, 2)]
    boxes_b = [Box(1, 0, 11, 10, 1), Box(50, 50, 60, 60, 2)]
    team = {
        "x": {
            "a": ImageAnnotation("x", SHAPE, boxes=boxes_a),
            "b": ImageAnnotation("x", SHAPE, boxes=boxes_b),
        }
    }
    res = agreement_by_annotator(team)
    assert (res.pair_row("a", "b", "1")["tp"], res.pair_row("a", "b", "2")["tp"]) == (1, 0)
    assert res.pair_row("a", "b", "2")["fp"] == 1 and res.pair_row("a", "b", "2")["fn"] == 1
    assert res.pair_row("a", "b", "1")["mean_iou"] == pytest.approx(90 / 110)
    assert math.isnan(res.pair_row("a", "b")["kappa"])  # no masks: no pixel kappa


def test_flags_name_the_annotator_and_class_below_threshold():
    tax = Taxonomy.from_dict(
        {
            "classes": [
                {"id": 1, "name": "round", "description": "Whole disc, rim included."},
                {"id": 2, "name": "odd", "description": "Only discs on odd grid places."},
            ]
        }
    )
    team = _team(seed=1, n_images=4)
    # cy mislabels every class-2 object as class 1
    for by in team.values():
        for o in by["cy"].objects.values():
            o.class_id = 1
    res = agreement_by_annotator(team, tax, kappa_threshold=0.6, f1_threshold=0.7)
    flagged = {(f["kind"], f["name"]) for f in res.flags}
    assert ("annotator", "cy") in flagged
    assert ("class", "odd") in flagged
    assert ("annotator", "ana") not in flagged
    assert res.guidelines[0]["class"] == "odd"
    assert res.guidelines[0]["guideline"] == "Only discs on odd grid places."
    assert res.guidelines[0]["guideline_version"] == 1
    assert "guideline of odd" in res.summary()


def test_over_time_per_day_and_per_n_images():
    team = _team(n_images=4, annotators=("a", "b"))
    times = {
        "img0": {"a": "2026-11-01T10:00:00+00:00", "b": "2026-11-01T11:00:00+00:00"},
        "img1": {"a": "2026-11-01T12:00:00+00:00", "b": "2026-11-02T09:00:00+00:00"},
        "img2": {"a": "2026-11-02T10:00:00+00:00", "b": "2026-11-02T10:30:00+00:00"},
        "img3": {"a": "2026-11-03T10:00:00+00:00", "b": "2026-11-03T10:30:00+00:00"},
    }
    per_day = agreement_by_annotator(team, times=times).over_time
    assert [(r["bucket"], r["images"]) for r in per_day] == [
        ("2026-11-01", 1),
        ("2026-11-02", 2),
        ("2026-11-03", 1),
    ]
    per_two = agreement_by_annotator(team, times=times, bucket=2).over_time
    assert [(r["bucket"], r["images"]) for r in per_two] == [("images 1-2", 2), ("images 3-4", 2)]
    # the bucket of one day is the kappa of that day's pixels alone
    s = [
        (_semantic(team[k]["a"]).ravel(), _semantic(team[k]["b"]).ravel())
        for k in ("img1", "img2")
    ]
    ref = cohen_kappa_score(np.concatenate([x for x, _ in s]), np.concatenate([y for _, y in s]))
    assert per_day[1]["kappa"] == pytest.approx(ref)


def test_rows_csv_and_chart_files(tmp_path):
    res = agreement_by_annotator(_team())
    rows = res.to_rows()
    assert {r["class"] for r in rows} == {"all", "1", "2"}
    assert len(rows) == 3 * 3  # 3 pairs x (all, 1, 2)
    csv_path = res.write_csv(tmp_path / "agree.csv")
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("annotator_a,annotator_b,class_id,class,images,kappa")
    assert len(lines) == 1 + len(rows)
    png = agreement_chart(res, tmp_path / "agree.png")
    svg = agreement_chart(res, tmp_path / "agree.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "ana vs bob" in text  # the heatmap's row label (text kept as text)


def test_bad_input_is_a_named_team_error():
    team = _team(n_images=1, annotators=("a", "b"))
    team["img0"]["b"] = ImageAnnotation("img0", (32, 32), instances=np.zeros((32, 32), np.int32))
    with pytest.raises(TeamError, match=r"'b'.*\(32, 32\)"):
        agreement_by_annotator(team)
    single = {"img0": {"a": _team(n_images=1)["img0"]["ana"]}}
    with pytest.raises(TeamError, match="no image was labelled by two"):
        agreement_by_annotator(single)
    with pytest.raises(TeamError, match="bucket"):
        agreement_by_annotator(_team(), bucket=0)


def test_dataset_loader_takes_save_times_from_provenance(tmp_path):
    from napari_labelsuite.core.dataset import Dataset
    from napari_labelsuite.core.provenance import ProvenanceLog
    from napari_labelsuite.core.team import dataset_team_annotations, save_annotator_annotation

    for i in range(3):
        np.save(tmp_path / f"im{i}.npy", np.zeros(SHAPE, np.uint8))
    ds = Dataset.open(tmp_path)
    team = _team(n_images=3, annotators=("a", "b"))
    log = ProvenanceLog(ds.provenance_path)
    for i, key in enumerate(ds.keys()):
        for who in ("a", "b"):
            save_annotator_annotation(ds, i, who, team[f"img{i}"][who])
            day = 1 if i < 2 else 3
            log.append({"user": who, "time": f"2026-11-0{day}T10:0{i}:00+00:00",
                        "action": "save", "params": {}, "image": key})  # fmt: skip
    anns, times = dataset_team_annotations(ds)
    assert sorted(anns) == ["im0", "im1", "im2"]
    assert times["im2"] == {"a": "2026-11-03T10:02:00+00:00", "b": "2026-11-03T10:02:00+00:00"}
    res = agreement_by_annotator(anns, times=times)
    assert [(r["bucket"], r["images"]) for r in res.over_time] == [
        ("2026-11-01", 2),
        ("2026-11-03", 1),
    ]
    assert res.pair_row("a", "b")["pixels_a"] == sum(
        int((team[f"img{i}"]["a"].instances > 0).sum()) for i in range(3)
    )
    with pytest.raises(TeamError, match="unknown annotator.*'zed'"):
        dataset_team_annotations(ds, ["a", "zed"])

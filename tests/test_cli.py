"""The ``napari-labelsuite`` command line, run on real files; exit codes are checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from napari_labelsuite.cli import SUBCOMMANDS, build_parser, main
from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.dataset import Dataset, load_sidecar, save_sidecar
from napari_labelsuite.core.provenance import read_log
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES, make_cells_2d
from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture
def taxonomy_file(tmp_path):
    return Taxonomy(NUCLEI_CLASSES, name="cells").save(tmp_path / "classes.yaml")


@pytest.fixture
def dataset(tmp_path):
    """Three 128x128 images; two saved annotations whose touching nuclei are merged."""
    root = tmp_path / "plates"
    root.mkdir()
    for seed in range(3):
        cells = make_cells_2d((128, 128), seed=seed)
        tifffile.imwrite(root / f"img{seed}.tif", cells.image[0])
    ds = Dataset.open(root)
    for seed in range(2):
        cells = make_cells_2d((128, 128), seed=seed)
        merged, n = ndi.label(cells.instances > 0)
        ann = ImageAnnotation(
            f"img{seed}",
            (128, 128),
            semantic=cells.semantic,
            instances=merged.astype(np.int32),
            objects={i: ObjectInfo(1) for i in range(1, n + 1)},
        )
        ds.save_annotation(seed, ann)
    return root


def test_every_subcommand_has_help_with_an_example(capsys):
    for name in SUBCOMMANDS:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "example:" in out and f"napari-labelsuite {name}" in out


def test_parser_lists_every_subcommand():
    text = build_parser().format_help()
    for name in SUBCOMMANDS:
        assert name in text


# -- validate --
def test_validate_good_inputs_exit_0(dataset, taxonomy_file, capsys):
    sidecar = dataset / "labelsuite" / "img0.json"
    code = main(["validate", str(taxonomy_file), str(sidecar), str(dataset)])
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("ok ") == 3
    assert "taxonomy with 2 classes" in out


def test_validate_taxonomy_with_duplicate_ids_exits_1(tmp_path, capsys):
    bad = tmp_path / "dup.yaml"
    bad.write_text("classes:\n  - {id: 1, name: a}\n  - {id: 1, name: b}\n")
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "dup.yaml" in err and "duplicate class id" in err


def test_validate_taxonomy_not_yaml_exits_1(tmp_path, capsys):
    bad = tmp_path / "broken.yaml"
    bad.write_text("classes: [ {id: 1, name: a\n")
    assert main(["validate", str(bad)]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_validate_missing_file_exits_1(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.json")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_validate_annotation_with_unknown_class_exits_1(dataset, taxonomy_file, capsys):
    sidecar = dataset / "labelsuite" / "img1.json"
    ann = load_sidecar(sidecar)
    ann.objects[1].class_id = 9
    save_sidecar(ann, sidecar)
    code = main(["validate", str(sidecar), "--taxonomy", str(taxonomy_file)])
    assert code == 1
    err = capsys.readouterr().err
    assert "field 'class_id'" in err and "got 9" in err


def test_validate_annotation_with_missing_masks_exits_1(dataset, capsys):
    (dataset / "labelsuite" / "img0.npz").unlink()
    assert main(["validate", str(dataset / "labelsuite" / "img0.json")]) == 1
    assert "cannot read masks" in capsys.readouterr().err


def test_validate_edited_provenance_log_exits_1(dataset, capsys):
    assert main(["split", str(dataset), "--user", "ana"]) == 0
    log = dataset / "labelsuite" / "provenance.jsonl"
    log.write_text(log.read_text().replace('"ana"', '"bob"', 1))
    assert main(["validate", str(log)]) == 1
    assert "line 1" in capsys.readouterr().err


def test_validate_unknown_json_exits_1(tmp_path, capsys):
    p = tmp_path / "x.json"
    p.write_text("[1, 2]")
    assert main(["validate", str(p)]) == 1
    assert "pass --kind" in capsys.readouterr().err


def test_validate_reports_every_bad_input_and_still_checks_good_ones(
    tmp_path, taxonomy_file, capsys
):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert main(["validate", str(bad), str(taxonomy_file)]) == 1
    cap = capsys.readouterr()
    assert "top-level 'classes' list" in cap.err
    assert "ok " in cap.out


# -- stats --
def test_stats_json_counts_instances_and_pixels(dataset, taxonomy_file, capsys):
    assert main(["stats", str(dataset), "--taxonomy", str(taxonomy_file), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    expected_inst = sum(
        ndi.label(make_cells_2d((128, 128), seed=s).instances > 0)[1] for s in range(2)
    )
    nucleus_px = sum(
        int((make_cells_2d((128, 128), seed=s).semantic == 1).sum()) for s in range(2)
    )
    assert stats["images"] == 3 and stats["labeled"] == 2
    assert stats["instances"] == expected_inst
    assert stats["classes"]["1"] == {
        "instances": expected_inst,
        "boxes": 0,
        "pixels": nucleus_px,
        "name": "nucleus",
    }


def test_stats_table_names_classes(dataset, taxonomy_file, capsys):
    assert main(["stats", str(dataset), "--taxonomy", str(taxonomy_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 images, 2 labeled")
    assert "nucleus" in out and "cytoplasm" in out


def test_stats_on_folder_without_images_exits_1(tmp_path, capsys):
    assert main(["stats", str(tmp_path)]) == 1
    assert "no images" in capsys.readouterr().err


# -- split --
def _expected_split(seed: int, min_distance: int = 7) -> np.ndarray:
    from napari_labelsuite.core.instances import split_touching

    merged, _ = ndi.label(make_cells_2d((128, 128), seed=seed).instances > 0)
    merged = merged.astype(np.int32)
    return split_touching(merged, min_distance=min_distance).apply(merged)


def _expected_new_instances() -> int:
    """New instances the split makes over the two saved annotations, by the core function."""
    total = 0
    for seed in range(2):
        merged, n = ndi.label(make_cells_2d((128, 128), seed=seed).instances > 0)
        total += len(np.unique(_expected_split(seed))) - 1 - n
    return total


def test_split_rewrites_annotations_and_logs_each(dataset, capsys):
    expected = _expected_new_instances()
    assert expected > 0
    assert main(["split", str(dataset), "--user", "ana"]) == 0
    assert f"split: 2 annotations, created {expected} new instances" in capsys.readouterr().out
    for seed in range(2):
        ann = load_sidecar(dataset / "labelsuite" / f"img{seed}.json")
        assert np.array_equal(ann.instances, _expected_split(seed))
        assert set(ann.objects) == set(np.unique(ann.instances)) - {0}
    # one entry per annotation the split changed (an unchanged one is not rewritten)
    changed = [
        f"img{seed}"
        for seed in range(2)
        if len(np.unique(_expected_split(seed)))
        != len(np.unique(ndi.label(make_cells_2d((128, 128), seed=seed).instances > 0)[0]))
    ]
    assert changed
    log = read_log(dataset / "labelsuite" / "provenance.jsonl")
    assert [(e["action"], e["params"]["image"], e["user"]) for e in log] == [
        ("split_touching", name, "ana") for name in changed
    ]


def test_split_dry_run_writes_nothing(dataset, capsys):
    before = (dataset / "labelsuite" / "img0.npz").read_bytes()
    assert main(["split", str(dataset), "--dry-run"]) == 0
    assert f"would create {_expected_new_instances()} " in capsys.readouterr().out
    assert (dataset / "labelsuite" / "img0.npz").read_bytes() == before
    assert not (dataset / "labelsuite" / "provenance.jsonl").exists()


def test_split_bad_min_distance_exits_1(dataset, capsys):
    assert main(["split", str(dataset), "--min-distance", "0"]) == 1
    assert "field '--min-distance'" in capsys.readouterr().err


def test_split_unreachable_scheduler_exits_1(dataset, capsys):
    code = main(
        ["split", str(dataset), "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "1"]
    )
    assert code == 1
    assert "cannot reach the dask scheduler" in capsys.readouterr().err


def test_split_on_local_cluster_equals_local_run(dataset, tmp_path):
    distributed = pytest.importorskip("distributed")
    other = tmp_path / "copy"
    shutil.copytree(dataset, other)
    assert main(["split", str(dataset)]) == 0
    with distributed.LocalCluster(
        n_workers=1, processes=False, threads_per_worker=2, dashboard_address=None
    ) as cluster:
        assert main(["split", str(other), "--scheduler", cluster.scheduler_address]) == 0
    for seed in range(2):
        a = load_sidecar(dataset / "labelsuite" / f"img{seed}.json")
        b = load_sidecar(other / "labelsuite" / f"img{seed}.json")
        assert np.array_equal(a.instances, b.instances)
        assert a.tables_to_dict()["objects"] == b.tables_to_dict()["objects"]


# -- open --
@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (run under Xvfb)")
def test_open_shows_the_first_image_and_exits_0(dataset, taxonomy_file, tmp_path):
    shot = tmp_path / "open.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_labelsuite.cli",
            "open",
            str(dataset),
            "--taxonomy",
            str(taxonomy_file),
            "--screenshot",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    from skimage.io import imread

    assert imread(shot).shape[1] >= 1000
    log = read_log(dataset / "labelsuite" / "provenance.jsonl")
    assert [e["action"] for e in log][:2] == ["set_taxonomy", "open_dataset"]


def test_open_with_bad_taxonomy_exits_1_before_a_window(dataset, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("nothing: here\n")
    assert main(["open", str(dataset), "--taxonomy", str(bad)]) == 1
    assert "bad.yaml" in capsys.readouterr().err


# -- export / import / convert --
def _same_partition(a, b) -> bool:
    """True when two instance masks hold the same objects (ids may differ)."""
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    pairs = np.unique(np.stack([a, b]), axis=1)
    return pairs.shape[1] == len(np.unique(a)) == len(np.unique(b))


def test_export_coco_holds_every_saved_instance(dataset, taxonomy_file, tmp_path, capsys):
    from napari_labelsuite.core import formats

    out = tmp_path / "out" / "coco.json"
    args = ["export", str(dataset), str(out), "--to", "coco", "--taxonomy", str(taxonomy_file)]
    assert main(args) == 0
    assert "export: 2 annotations as coco" in capsys.readouterr().out
    anns, tax = formats.read(out, "coco")
    assert [a.image_name for a in anns] == ["img0.tif", "img1.tif"]
    assert tax.names() == ["nucleus", "cytoplasm"]
    for seed, ann in enumerate(anns):
        saved = load_sidecar(dataset / "labelsuite" / f"img{seed}.json")
        assert _same_partition(ann.instances, saved.instances)


def test_export_without_taxonomy_exits_1(dataset, tmp_path, capsys):
    assert main(["export", str(dataset), str(tmp_path / "c.json"), "--to", "coco"]) == 1
    assert "pass --taxonomy" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_import_coco_into_a_fresh_dataset_restores_annotations(dataset, taxonomy_file, tmp_path):
    coco = tmp_path / "coco.json"
    assert (
        main(["export", str(dataset), str(coco), "--to", "coco", "--taxonomy", str(taxonomy_file)])
        == 0
    )
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for f in dataset.glob("*.tif"):
        shutil.copy(f, fresh / f.name)
    assert main(["import", str(coco), str(fresh), "--user", "ana"]) == 0
    for seed in range(2):
        a = load_sidecar(fresh / "labelsuite" / f"img{seed}.json")
        b = load_sidecar(dataset / "labelsuite" / f"img{seed}.json")
        assert _same_partition(a.instances, b.instances)
    assert Taxonomy.load(fresh / "labelsuite" / "taxonomy.yaml").names() == [
        "nucleus",
        "cytoplasm",
    ]
    log = read_log(fresh / "labelsuite" / "provenance.jsonl")
    assert [(e["action"], e["params"]["image"]) for e in log] == [
        ("import", "img0"),
        ("import", "img1"),
    ]


def test_import_with_unknown_image_exits_1_and_writes_nothing(
    dataset, taxonomy_file, tmp_path, capsys
):
    coco = tmp_path / "coco.json"
    main(["export", str(dataset), str(coco), "--to", "coco", "--taxonomy", str(taxonomy_file)])
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(dataset / "img0.tif", other / "img0.tif")
    assert main(["import", str(coco), str(other)]) == 1
    assert "img1.tif" in capsys.readouterr().err
    assert not (other / "labelsuite").exists()


def test_convert_coco_to_masks_keeps_instances(dataset, taxonomy_file, tmp_path, capsys):
    from napari_labelsuite.core import formats

    coco = tmp_path / "coco.json"
    main(["export", str(dataset), str(coco), "--to", "coco", "--taxonomy", str(taxonomy_file)])
    out = tmp_path / "masks"
    assert main(["convert", str(coco), str(out), "--to", "masks"]) == 0
    assert "convert: 2 annotations to masks" in capsys.readouterr().out
    coco_anns, _ = formats.read(coco, "coco")
    mask_anns, _ = formats.read(out, "masks")
    for a, b in zip(coco_anns, mask_anns):
        assert np.array_equal(a.instances, b.instances)


def test_convert_unreadable_source_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["convert", str(bad), str(tmp_path / "o"), "--to", "yolo"]) == 1
    assert "bad.json" in capsys.readouterr().err


def test_validate_coco_with_unknown_category_exits_1(tmp_path, capsys):
    p = tmp_path / "c.json"
    p.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "a.png", "width": 10, "height": 10}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 1, 2, 2]}],
                "categories": [{"id": 1, "name": "cat"}],
            }
        )
    )
    assert main(["validate", str(p)]) == 1
    err = capsys.readouterr().err
    assert "c.json" in err and "annotations[0]" in err


def test_stats_on_a_coco_file(dataset, taxonomy_file, tmp_path, capsys):
    coco = tmp_path / "coco.json"
    main(["export", str(dataset), str(coco), "--to", "coco", "--taxonomy", str(taxonomy_file)])
    capsys.readouterr()
    assert main(["stats", str(coco), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    expected = sum(ndi.label(make_cells_2d((128, 128), seed=s).instances > 0)[1] for s in range(2))
    assert stats["images"] == 2 and stats["instances"] == expected
    assert stats["classes"]["1"]["name"] == "nucleus"


# -- agree --
def _second_annotator(dataset, tmp_path):
    """A copy of the dataset whose img0 lost one instance (and its class pixels)."""
    other = tmp_path / "bob"
    shutil.copytree(dataset, other)
    sidecar = other / "labelsuite" / "img0.json"
    ann = load_sidecar(sidecar)
    ann.instances = ann.instances.copy()
    ann.semantic = ann.semantic.copy()
    gone = ann.instances == 1
    ann.instances[gone] = 0
    ann.semantic[gone] = 0
    del ann.objects[1]
    save_sidecar(ann, sidecar)
    return other


def test_agree_identical_datasets_is_perfect(dataset, capsys):
    assert main(["agree", str(dataset), str(dataset), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mean"]["kappa"] == pytest.approx(1.0)
    assert out["mean"]["f1@0.5"] == pytest.approx(1.0)
    assert [r["image"] for r in out["images"]] == ["img0", "img1"]


def test_agree_counts_a_missed_instance(dataset, tmp_path, capsys):
    other = _second_annotator(dataset, tmp_path)
    assert main(["agree", str(dataset), str(other), "--json"]) == 0
    rows = {r["image"]: r for r in json.loads(capsys.readouterr().out)["images"]}
    n0 = ndi.label(make_cells_2d((128, 128), seed=0).instances > 0)[1]
    # one of n0 reference objects is missing: recall (n0-1)/n0, precision 1
    assert rows["img0"]["f1@0.5"] == pytest.approx(2 * (n0 - 1) / (2 * n0 - 1))
    assert rows["img1"]["f1@0.5"] == pytest.approx(1.0)
    assert rows["img0"]["kappa"] < 1.0


def test_agree_writes_a_report(dataset, tmp_path, capsys):
    other = _second_annotator(dataset, tmp_path)
    report = tmp_path / "agreement.html"
    assert main(["agree", str(dataset), str(other), "--report", str(report)]) == 0
    assert "mean over 2 images" in capsys.readouterr().out
    data = json.loads(report.with_suffix(".json").read_text())
    assert len(data["per_image"]) == 2
    assert "img0" in report.read_text()


def test_agree_without_common_images_exits_1(dataset, tmp_path, capsys):
    lone = tmp_path / "lone"
    lone.mkdir()
    tifffile.imwrite(lone / "zzz.tif", np.zeros((8, 8), np.uint8))
    Dataset.open(lone).save_annotation(
        0, ImageAnnotation("zzz", (8, 8), semantic=np.ones((8, 8), np.uint8))
    )
    assert main(["agree", str(dataset), str(lone)]) == 1
    assert "share no image name" in capsys.readouterr().err


# -- stores: pyramid, validate, stats --
@pytest.fixture
def store_path(tmp_path, cells_taxonomy):
    from napari_labelsuite.core.store import MaskStore

    cells = make_cells_2d((256, 256), seed=4)
    path = tmp_path / "cells.ome.zarr"
    ann = ImageAnnotation(
        "cells",
        (256, 256),
        semantic=cells.semantic,
        instances=cells.instances,
        objects={int(i): ObjectInfo(1) for i in np.unique(cells.instances) if i},
    )
    store = MaskStore.create(path, shape=(256, 256), chunks=(64, 64), n_levels=3)
    store.write_annotation(ann, taxonomy=cells_taxonomy)
    store.close()
    return path


def _overwrite_level1(path, value: int) -> None:
    """Spoil pyramid level 1 of every label image directly in zarr."""
    import zarr

    for name in ("semantic", "instances"):
        arr = zarr.open_array(path / "labels" / name / "1", mode="r+")
        arr[:] = value


def test_pyramid_rebuilds_levels_from_level_0(store_path, capsys):
    import zarr

    _overwrite_level1(store_path, 0)
    assert main(["pyramid", str(store_path), "--method", "nearest"]) == 0
    assert str(store_path) in capsys.readouterr().out
    for name in ("semantic", "instances"):
        full = zarr.open_array(store_path / "labels" / name / "0", mode="r")[:]
        level1 = zarr.open_array(store_path / "labels" / name / "1", mode="r")[:]
        # nearest keeps every second pixel of level 0
        assert np.array_equal(level1, full[::2, ::2])


def test_pyramid_on_local_cluster_equals_local_run(store_path, tmp_path):
    import zarr

    distributed = pytest.importorskip("distributed")
    other = tmp_path / "other.ome.zarr"
    shutil.copytree(store_path, other)
    _overwrite_level1(store_path, 0)
    _overwrite_level1(other, 0)
    assert main(["pyramid", str(store_path)]) == 0
    with distributed.LocalCluster(
        n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        assert main(["pyramid", str(other), "--scheduler", cluster.scheduler_address]) == 0
    for name in ("semantic", "instances"):
        for lv in ("1", "2"):
            a = zarr.open_array(store_path / "labels" / name / lv, mode="r")[:]
            b = zarr.open_array(other / "labels" / name / lv, mode="r")[:]
            assert np.array_equal(a, b)


def test_pyramid_on_a_folder_that_is_not_a_store_exits_1(tmp_path, capsys):
    (tmp_path / "plain").mkdir()
    assert main(["pyramid", str(tmp_path / "plain")]) == 1
    assert "not a zarr store" in capsys.readouterr().err


def test_validate_store_ok_and_with_unknown_class_exits_1(store_path, tmp_path, capsys):
    assert main(["validate", str(store_path)]) == 0
    assert "store 256x256" in capsys.readouterr().out
    other_tax = Taxonomy([{"id": 5, "name": "other"}]).save(tmp_path / "other.yaml")
    assert main(["validate", str(store_path), "--taxonomy", str(other_tax)]) == 1
    assert "field 'class_id'" in capsys.readouterr().err


def test_validate_store_with_corrupt_metadata_exits_1(store_path, capsys):
    (store_path / "zarr.json").write_text("{ not json")
    assert main(["validate", str(store_path)]) == 1
    assert "cells.ome.zarr" in capsys.readouterr().err


def test_stats_on_a_store(store_path, capsys):
    cells = make_cells_2d((256, 256), seed=4)
    assert main(["stats", str(store_path), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["instances"] == cells.n_instances
    assert stats["classes"]["2"]["pixels"] == int((cells.semantic == 2).sum())
    assert stats["classes"]["2"]["name"] == "cytoplasm"


def _exported(dataset, taxonomy_file, tmp_path, fmt: str):
    out = tmp_path / fmt
    args = ["export", str(dataset), str(out), "--to", fmt, "--taxonomy", str(taxonomy_file)]
    assert main(args) == 0
    return out


def test_validate_yolo_with_class_index_out_of_range_exits_1(
    dataset, taxonomy_file, tmp_path, capsys
):
    out = _exported(dataset, taxonomy_file, tmp_path, "yolo")
    assert main(["validate", str(out)]) == 0
    label = sorted(out.rglob("*.txt"))[0]
    label.write_text("7 0.5 0.5 0.1 0.1\n")
    capsys.readouterr()
    assert main(["validate", str(out)]) == 1
    err = capsys.readouterr().err
    assert label.name in err and "line 1" in err


def test_validate_voc_with_malformed_xml_exits_1(dataset, taxonomy_file, tmp_path, capsys):
    out = _exported(dataset, taxonomy_file, tmp_path, "voc")
    assert main(["validate", str(out)]) == 0
    xml = sorted(out.rglob("*.xml"))[0]
    xml.write_text(xml.read_text()[:-40])
    capsys.readouterr()
    assert main(["validate", str(out)]) == 1
    assert xml.name in capsys.readouterr().err


def test_split_edits_instance_stores_of_a_dataset(tmp_path, cells_taxonomy, capsys):
    from napari_labelsuite.core.store import MaskStore

    root = tmp_path / "stores"
    merged, n = ndi.label(make_cells_2d((128, 128), seed=0).instances > 0)
    merged = merged.astype(np.int32)
    ann = ImageAnnotation(
        "plate",
        (128, 128),
        instances=merged,
        objects={i: ObjectInfo(1) for i in range(1, n + 1)},
    )
    st = MaskStore.create(root / "plate.ome.zarr", shape=(128, 128), chunks=(64, 64))
    st.write_annotation(ann, taxonomy=cells_taxonomy)
    st.close()
    assert main(["split", str(root), "--user", "ana"]) == 0
    assert "created 3 new instances" in capsys.readouterr().out
    with MaskStore.open(root / "plate.ome.zarr", "r") as st:
        back = st.read_annotation()
        assert np.array_equal(np.asarray(back.instances), _expected_split(0))
        assert set(back.objects) == set(np.unique(_expected_split(0))) - {0}
    log = read_log(root / "labelsuite" / "provenance.jsonl")
    assert [(e["action"], e["params"]["image"]) for e in log] == [
        ("split_touching", "plate.ome.zarr")
    ]

"""Headless scripting: a LabelSession walks a dataset, labels, splits, exports and reloads.

These tests use real napari layers in the session's own layer list (no Qt, no viewer).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.dataset import load_sidecar
from napari_labelsuite.core.errors import SessionError
from napari_labelsuite.core.instances import split_touching
from napari_labelsuite.core.provenance import read_log, verify
from napari_labelsuite.core.synthetic import make_cells_2d

N_IMAGES = 5
SHAPE = (128, 128)


@pytest.fixture
def plates(tmp_path):
    """A folder of five 128 x 128 nucleus images (img0.tif ... img4.tif)."""
    root = tmp_path / "plates"
    root.mkdir()
    for k in range(N_IMAGES):
        tifffile.imwrite(root / f"img{k}.tif", make_cells_2d(SHAPE, seed=k).image[0])
    return root


def _merged_nuclei(seed: int) -> np.ndarray:
    """What a quick annotator paints: touching nuclei end up as one object."""
    merged, _ = ndi.label(make_cells_2d(SHAPE, seed=seed).instances > 0)
    return merged.astype(np.int32)


def _paint(session: LabelSession, labels: np.ndarray) -> None:
    """Paint ``labels`` into the instance layer through napari's undoable write."""
    idx = np.nonzero(labels)
    session.instances.data_setitem(idx, labels[idx])


def _same_objects(a_labels, a_objects, b_labels, b_objects) -> bool:
    """Same pixels per object and same class per object; ids may differ."""
    a, b = np.asarray(a_labels).ravel(), np.asarray(b_labels).ravel()
    pairs = np.unique(np.stack([a, b]), axis=1)
    if not pairs.shape[1] == len(np.unique(a)) == len(np.unique(b)):
        return False
    return all(a_objects[int(i)].class_id == b_objects[int(j)].class_id for i, j in pairs.T if i)


def test_scripted_session_labels_splits_exports_and_reloads(plates, tmp_path, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_dataset(plates)
    for k in range(N_IMAGES):
        assert s.current.key == f"img{k}"
        merged = _merged_nuclei(k)
        _paint(s, merged)
        s.set_objects({i: ObjectInfo(1) for i in range(1, int(merged.max()) + 1)})
        s.split_touching(min_distance=7)
        if k < N_IMAGES - 1:
            s.next()  # autosaves img{k}
    coco = tmp_path / "export" / "plates.json"
    s.export_dataset(coco, "coco")  # saves the last image first

    # what the script should have produced, computed with the core functions
    saved = {}
    for k in range(N_IMAGES):
        merged = _merged_nuclei(k)
        expected = split_touching(merged, min_distance=7).apply(merged)
        ann = load_sidecar(plates / "labelsuite" / f"img{k}.json")
        assert np.array_equal(ann.instances, expected)
        assert set(ann.objects) == set(np.unique(expected)) - {0}
        saved[k] = ann

    # reload into a fresh copy of the images, in a new session
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for f in plates.glob("*.tif"):
        shutil.copy(f, fresh / f.name)
    s2 = LabelSession(user="bob")
    s2.open_dataset(fresh)
    assert s2.import_dataset(coco) == list(range(N_IMAGES))
    assert s2.taxonomy.names() == ["nucleus", "cytoplasm"]
    for k in range(N_IMAGES):
        s2.goto(k)
        back = s2.to_annotation()
        assert _same_objects(saved[k].instances, saved[k].objects, back.instances, s2.objects()), (
            f"img{k}"
        )


def test_provenance_log_has_an_entry_for_each_change(plates, tmp_path, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_dataset(plates)
    for k in range(2):
        merged = _merged_nuclei(k)
        _paint(s, merged)
        s.set_objects({i: ObjectInfo(1) for i in range(1, int(merged.max()) + 1)})
        s.split_touching(min_distance=5)
        s.next()
    s.export_dataset(tmp_path / "out.json", "coco")
    log = read_log(plates / "labelsuite" / "provenance.jsonl")
    assert verify(plates / "labelsuite" / "provenance.jsonl") == len(log)
    changes = [(e["action"], e.get("image")) for e in log if e["action"] != "load_annotation"]
    expected = [("set_taxonomy", None), ("open_dataset", None)]
    for k in range(2):
        merged = _merged_nuclei(k)
        parts = split_touching(merged, min_distance=5).apply(merged)
        expected.append(("set_objects", f"img{k}"))
        if parts.max() > merged.max():
            expected.append(("set_objects", f"img{k}"))  # the new parts inherit their class
        expected += [("split_touching", f"img{k}"), ("save", f"img{k}")]
    expected.append(("export_dataset", "img2"))
    assert sum(e[0] == "set_objects" for e in expected) > 2  # some split made new parts
    assert changes == expected
    split = next(e for e in log if e["action"] == "split_touching")
    assert split["user"] == "ana" and split["params"]["min_distance"] == 5
    assert split["time"].endswith("+00:00")
    # history() shows the same log
    assert [e["action"] for e in s.history()] == [e["action"] for e in log]


def test_reopening_a_dataset_restores_labels_and_history(plates, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_dataset(plates)
    merged = _merged_nuclei(0)
    _paint(s, merged)
    s.set_objects({i: ObjectInfo(2) for i in range(1, int(merged.max()) + 1)})
    s.save_current()
    n_logged = len(s.history())

    s2 = LabelSession(user="bob")  # no taxonomy given: the dataset's is adopted
    s2.open_dataset(plates)
    assert s2.taxonomy.names() == ["nucleus", "cytoplasm"]
    assert np.array_equal(s2.instances.data, merged)
    assert {o.class_id for o in s2.objects().values()} == {2}
    hist = s2.history()
    assert [e["user"] for e in hist[:n_logged]] == ["ana"] * n_logged
    assert hist[n_logged]["action"] == "open_dataset" and hist[n_logged]["user"] == "bob"


def test_browsing_without_labels_writes_no_annotation(plates, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    s.open_dataset(plates)
    s.next()
    s.next()
    s.prev()
    assert s.index == 1
    assert sorted(p.name for p in (plates / "labelsuite").iterdir()) == [
        "provenance.anchor.json",
        "provenance.jsonl",
    ]


def test_navigation_stays_within_the_dataset(plates, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    s.open_dataset(plates, start=-1)
    assert s.index == N_IMAGES - 1
    s.next()
    assert s.index == N_IMAGES - 1
    s.goto(0)
    s.prev()
    assert s.index == 0
    with pytest.raises(SessionError, match="field 'index'.*got 7"):
        s.goto(7)
    assert s.index == 0


def test_switching_replaces_the_image_and_annotation_layers(plates, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    s.open_dataset(plates)
    s.goto(3)
    names = [layer.name for layer in s.layers]
    assert names == ["img3", "semantic", "instances"]
    assert np.array_equal(s.image.data, tifffile.imread(plates / "img3.tif"))
    assert s.instances.data.shape == SHAPE and not s.instances.data.any()


def test_progress_counts_labeled_and_reviewed_images(plates, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    s.open_dataset(plates)
    merged = _merged_nuclei(0)
    _paint(s, merged)
    n = int(merged.max())
    s.set_objects({i: ObjectInfo(1, status="approved") for i in range(1, n + 1)})
    s.goto(1)
    _paint(s, _merged_nuclei(1))
    s.set_objects({1: ObjectInfo(1)})  # shown image: counted with its unsaved changes
    p = s.progress().set_index("image")
    assert p.loc["img0", ["saved", "labeled", "reviewed", "approved"]].tolist() == [
        True,
        True,
        True,
        n,
    ]
    assert p.loc["img1", ["saved", "labeled", "reviewed", "todo"]].tolist() == [
        False,
        True,
        False,
        1,
    ]
    assert not p.loc[["img2", "img3", "img4"], "labeled"].any()


def test_navigation_without_dataset_raises(cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    with pytest.raises(SessionError, match="open_dataset"):
        s.next()


def test_tampered_log_warns_on_open_and_keeps_working(plates, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_dataset(plates)
    log = plates / "labelsuite" / "provenance.jsonl"
    lines = log.read_text().splitlines()
    first = json.loads(lines[0])
    first["user"] = "mallory"
    lines[0] = json.dumps(first)
    log.write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match="fails verification"):
        LabelSession(user="bob").open_dataset(plates)


def test_corrupt_saved_annotation_keeps_the_current_image(plates, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    s.open_dataset(plates)
    (plates / "labelsuite" / "img2.json").write_text("{broken")
    with pytest.raises(Exception, match="img2.json"):
        s.goto(2)
    assert s.index == 0
    assert [layer.name for layer in s.layers][0] == "img0"


# -- datasets of mask stores --
@pytest.fixture
def stores(tmp_path, cells_taxonomy):
    from napari_labelsuite.core.store import MaskStore

    paths = []
    for k in range(2):
        cells = make_cells_2d(SHAPE, seed=k)
        p = tmp_path / "stores" / f"plate{k}.ome.zarr"
        st = MaskStore.create(p, image=cells.image[0], chunks=(64, 64))
        st.taxonomy = cells_taxonomy
        st.create_labels("instances", dtype="int32", role="instances")
        st.save()
        st.close()
        paths.append(p)
    return paths


def test_store_dataset_saves_into_the_store_when_switching(stores, cells_taxonomy):
    from napari_labelsuite.core.store import MaskStore

    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_dataset(stores)
    assert [it.key for it in s.dataset] == ["plate0", "plate1"]
    merged = _merged_nuclei(0)
    _paint(s, merged)
    s.set_objects({i: ObjectInfo(1) for i in range(1, int(merged.max()) + 1)})
    s.next()  # saves plate0 into its store and opens plate1
    assert s.store is not None and s.store.path.endswith("plate1.ome.zarr")
    with MaskStore.open(stores[0], "r") as st:
        ann = st.read_annotation()
        assert np.array_equal(np.asarray(ann.instances), merged)
        assert set(ann.objects) == set(range(1, int(merged.max()) + 1))
    p = s.progress().set_index("image")
    assert p.loc["plate0", "labeled"] and not p.loc["plate1", "labeled"]
    s.goto(0)
    assert np.array_equal(np.asarray(s.instances.data), merged)
    log = read_log(stores[0].parent / "labelsuite" / "provenance.jsonl")
    assert ("save_store", "plate0") in [(e["action"], e.get("image")) for e in log]


def test_the_scripting_guide_example_runs(tmp_path, monkeypatch, cells_taxonomy, capsys):
    """docs/scripting.md's complete session, on five synthetic images."""
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "scripting.md").read_text()
    code = re.search(r"## A complete session.*?```python\n(.*?)```", doc, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plates").mkdir()
    for k in range(N_IMAGES):
        tifffile.imwrite(
            tmp_path / "plates" / f"img{k}.tif", make_cells_2d(SHAPE, seed=k).image[0]
        )
    cells_taxonomy.save(tmp_path / "classes.yaml")
    namespace: dict = {}
    exec(compile(code, "docs/scripting.md", "exec"), namespace)
    session = namespace["labelsuite"]
    p = session.progress()
    assert p["labeled"].all() and p["reviewed"].all()
    assert (tmp_path / "export" / "plates.json").is_file()
    assert (tmp_path / "export" / "img0_yolo" / "data.yaml").is_file()
    assert session.index == 0


def test_dataset_image_is_the_sessions_image_even_with_other_layers(plates, cells_taxonomy):
    from napari.layers import Image

    s = LabelSession(taxonomy=cells_taxonomy)
    s.layers.append(Image(np.zeros((8, 8)), name="unrelated"))
    s.open_dataset(plates)
    s.goto(2)
    assert s.image.name == "img2"
    assert [layer.name for layer in s.layers][:2] == ["img2", "unrelated"]


def test_changes_to_a_store_opened_without_dataset_are_logged_beside_it(stores, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_store(str(stores[0]))
    s.set_objects({1: ObjectInfo(1)})
    s.save_store()
    s.close_store()
    log = read_log(stores[0].parent / "labelsuite" / "provenance.jsonl")
    assert {e["image"] for e in log} == {"plate0.ome.zarr"}
    actions = [e["action"] for e in log]
    assert actions.index("open_store") < actions.index("set_objects")
    assert actions[-2:] == ["save_store", "close_store"]
    assert not (stores[0] / "provenance.jsonl").exists()

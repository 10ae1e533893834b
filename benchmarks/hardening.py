"""Hardening: long crash trials, the hostile corpus, and what safe reading costs.

1. SIGKILL during ``MaskStore.write_annotation`` (``--kills`` trials) and during YOLO and
   VOC exports: counts stores whose pyramid is wrong after the next read-write open and
   save (goal 0) and export folders that mix two exports or keep a staging folder (goal 0).
2. The hostile corpus of the test suite (tests/hostile_corpus.py) through the core
   readers, ``validate``, ``import`` and the session, one forked child per input: named
   errors, slowest input, largest peak memory (goal: 100 %, <= 10 s, <= 512 MB).
3. Cost of the safe loaders against the peers they wrap, measured in the same run:
   ``validate.load_json`` vs ``json.loads`` on a generated COCO file, ``validate.load_yaml``
   vs ``yaml.load(CSafeLoader)`` on a taxonomy of 2,000 classes.

Run: ``python benchmarks/hardening.py [--kills 60]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _common import best_of

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent / "tests" / "core"))
warnings.filterwarnings("ignore", message="This process .* is multi-threaded")


def crash_trials(root: Path, kills: int) -> None:
    import functools

    import test_hardening_exports as ex
    import test_hardening_sigkill as sk

    from napari_labelsuite.core import formats
    from napari_labelsuite.core.store import MaskStore
    from napari_labelsuite.core.taxonomy import Taxonomy
    from sigkill import kill_during

    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]})
    path = str(root / "s.ome.zarr")
    with MaskStore.create(path, shape=sk.SHAPE, chunks=(sk.CHUNK,) * 2, n_levels=sk.LEVELS) as st:
        t0 = time.perf_counter()
        st.write_annotation(sk._annotation(0), taxonomy=tax)
        span = time.perf_counter() - t0
    wrong_after_repair = needed_repair = 0
    for k in range(kills):
        kill_during(functools.partial(sk._write_annotation, path, k + 1), span * 1.3 * k / kills)
        with MaskStore.open(path, "r") as ro:
            needed_repair += not all(sk._pyramid_ok(ro, n) for n in ro.label_names())
        with MaskStore.open(path, "r+") as st:
            st.save()
            wrong_after_repair += not all(sk._pyramid_ok(st, n) for n in st.label_names())
    print(
        f"write_annotation: {kills} SIGKILLs, {needed_repair} left work for the journal, "
        f"{wrong_after_repair} stores with a wrong pyramid after repair (goal 0)"
    )
    for fmt in ("yolo", "voc"):
        out = root / f"out-{fmt}"
        new_ref = root / f"ref-{fmt}"
        formats.write(new_ref, ex._anns(ex.NAMES_NEW, value=2, size=32), ex.TAX, fmt=fmt)
        new = ex._tree(new_ref)
        formats.write(out, ex._anns(ex.NAMES_OLD, value=1, size=32), ex.TAX, fmt=fmt)
        old = ex._tree(out)
        t0 = time.perf_counter()
        formats.write(root / "timing", ex._anns(ex.NAMES_NEW, value=2, size=32), ex.TAX, fmt=fmt)
        span = time.perf_counter() - t0
        mixed = stale = counts_old = 0
        for k in range(kills):
            ex._kill_export(out, fmt, span * 1.4 * k / kills)
            tree = ex._tree(out)
            if tree == old:
                counts_old += 1
            elif set(tree) != set(new) or any(tree[f] != new[f] for f in new):
                mixed += 1
            formats.write(out, ex._anns(ex.NAMES_OLD, value=1, size=32), ex.TAX, fmt=fmt)
            old = ex._tree(out)
            stale += sum(1 for p in root.iterdir() if p.name.startswith(f".out-{fmt}."))
        print(
            f"{fmt} export: {kills} SIGKILLs, {counts_old} left the old export, "
            f"{kills - counts_old - mixed} the new one, {mixed} mixed folders, {stale} staging "
            "folders left after the next export (goal 0 and 0)"
        )


def corpus(root: Path) -> None:
    import test_hardening_corpus as tc

    import hostile_corpus

    entries = hostile_corpus.build(root / "corpus") + hostile_corpus.fifo(root / "corpus")
    dataset = root / "dataset"
    dataset.mkdir()
    np.save(dataset / "img1.npy", np.zeros((12, 16), np.uint8))
    cwd = root / "cwd"
    cwd.mkdir()
    tc._warm_up(root / "warm", entries, dataset)
    named = 0
    slowest, heaviest = (0.0, ""), (0.0, "")
    for name, kind, path in entries:
        res = tc._run_child(kind, path, dataset, cwd)
        ok = all(v == "named" for k, v in res.items() if k not in ("seconds", "peak_mb"))
        named += ok
        if not ok:
            print(f"  NOT NAMED {name}: {res}")
        slowest = max(slowest, (res.get("seconds", 0.0), name))
        heaviest = max(heaviest, (res.get("peak_mb", 0.0), name))
    print(
        f"hostile corpus: {len(entries)} inputs x (core, validate, import, session): "
        f"{named}/{len(entries)} named errors ({100 * named / len(entries):.0f} %), slowest "
        f"{slowest[0]:.2f} s ({slowest[1]}), largest peak {heaviest[0]:.0f} MB ({heaviest[1]})"
    )


def loader_cost(root: Path) -> None:
    import yaml

    from napari_labelsuite.core.validate import load_json, load_yaml

    rng = np.random.default_rng(0)
    n_img, per = 2000, 20
    images = [{"id": i, "file_name": f"img{i}.png", "width": 640, "height": 480}
              for i in range(n_img)]  # fmt: skip
    anns = []
    for i in range(n_img * per):
        x, y = (float(v) for v in rng.uniform(0, 400, 2))
        poly = rng.uniform(0, 400, 24).round(1).tolist()
        anns.append({"id": i + 1, "image_id": i // per, "category_id": 1,
                     "bbox": [x, y, 30.0, 30.0], "segmentation": [poly], "area": 900.0,
                     "iscrowd": 0})  # fmt: skip
    coco = root / "big.json"
    coco.write_text(json.dumps({"images": images, "annotations": anns,
                                "categories": [{"id": 1, "name": "cell"}]}))  # fmt: skip
    mb = coco.stat().st_size / 2**20
    ours = best_of(3, lambda: load_json(coco))[0]
    peer = best_of(3, lambda: json.loads(coco.read_bytes()))[0]
    print(
        f"COCO {mb:.0f} MB, {len(anns)} annotations: validate.load_json {ours * 1000:.0f} ms | "
        f"json.loads {peer * 1000:.0f} ms | cost x{ours / peer:.2f}"
    )
    tax = root / "classes.yaml"
    classes = [{"id": i, "name": f"class{i}", "color": "#%06x" % (i * 997 % 2**24),
                "parent": None if i < 10 else i % 10 + 1} for i in range(1, 2001)]  # fmt: skip
    tax.write_text(yaml.safe_dump({"classes": classes}))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    ours = best_of(3, lambda: load_yaml(tax))[0]
    peer = best_of(3, lambda: yaml.load(tax.read_text(), Loader=loader))[0]  # noqa: S506
    print(
        f"taxonomy YAML, 2000 classes: validate.load_yaml {ours * 1000:.0f} ms | "
        f"yaml.load(CSafeLoader) {peer * 1000:.0f} ms | cost x{ours / peer:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=60, help="SIGKILL trials per operation")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="labelsuite-hardening-"))
    try:
        if hasattr(os, "fork"):
            (root / "crash").mkdir()
            crash_trials(root / "crash", args.kills)
            corpus(root / "c")
        loader_cost(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

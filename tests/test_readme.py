"""The README's scripting example runs as written, on a small synthetic dataset."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import tifffile

from napari_labelsuite.core.synthetic import NUCLEI_CLASSES, make_cells_2d
from napari_labelsuite.core.taxonomy import Taxonomy

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Scripting in twenty lines") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_scripting_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Taxonomy(NUCLEI_CLASSES).save("classes.yaml")
    plates = tmp_path / "plates"
    plates.mkdir()
    for i in range(2):
        sample = make_cells_2d((128, 128), seed=10 + i)
        tifffile.imwrite(plates / f"img{i}.tif", sample.image[0])
    # the first image arrives with a semantic mask, as if painted by an annotator
    ns: dict = {}
    code = _readme_example().replace(
        's.open_dataset("plates/")',
        's.open_dataset("plates/")\ns.semantic.data = semantic0',
    )
    ns["semantic0"] = make_cells_2d((128, 128), seed=10).semantic
    exec(compile(code, str(README), "exec"), ns)
    s = ns["s"]
    assert Path("export/plates.json").is_file()
    assert Path("plates.ome.zarr").is_dir()
    assert len(ns["preview"].variants) == 9
    actions = [e["action"] for e in s.history()]
    for action in ("split_touching", "remove_small", "set_review_status"):
        assert action in actions
    assert isinstance(ns["findings"], list)
    assert np.asarray(s.image.data).shape == (128, 128)

"""The core package must stay free of napari and Qt (it runs in batch jobs and workers)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import napari_labelsuite.core as core


def test_importing_every_core_module_loads_neither_napari_nor_qt():
    modules = [m.name for m in pkgutil.walk_packages(core.__path__, "napari_labelsuite.core.")]
    assert len(modules) > 10
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in "
        "{'napari', 'qtpy', 'PyQt6', 'PyQt5', 'PySide6', 'vispy', 'magicgui'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == ""

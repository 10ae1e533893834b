"""The hostile corpus (tests/hostile_corpus.py, 100+ inputs across every reader) through
the core readers, the command line and the session.

For every input: a named LabelsuiteError from the core, exit code 1 and one line without
a traceback from the CLI (``validate`` and, for formats, ``import``), a LabelsuiteError
from the session and no layer added; nothing written anywhere (no partial import, no file
outside the target); each input done within 10 s and with a peak memory increase under
512 MB (measured in a forked child whose peak-RSS counter is reset first).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hostile_corpus  # noqa: E402

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="fork and /proc are Linux's"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

SECONDS, MEGABYTES = 10, 512
FORMATS_CLI = {"coco", "yolo", "voc", "masks", "labelme", "cvat", "labelstudio",
               "coco_results", "coco_panoptic"}  # fmt: skip
#: kinds the command line does not offer (read by the core only)
NOT_IN_CLI = {"ctc", "dota", "coco_keypoints"}


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _core(kind: str, path: Path) -> None:
    from napari_labelsuite.core import formats
    from napari_labelsuite.core.dataset import load_sidecar
    from napari_labelsuite.core.provenance import verify
    from napari_labelsuite.core.store import MaskStore
    from napari_labelsuite.core.taxonomy import Taxonomy

    if kind == "taxonomy":
        Taxonomy.load(path)
    elif kind == "annotation":
        load_sidecar(path)
    elif kind == "provenance":
        verify(path, key=None)
    elif kind == "store":
        with MaskStore.open(path, "r") as st:
            st.read_annotation()
    elif kind in ("dota", "coco_keypoints"):  # readers outside the format registry
        from napari_labelsuite.core.formats import coco_keypoints, dota

        {"dota": dota, "coco_keypoints": coco_keypoints}[kind].read(path)
    else:
        formats.read(path, kind)


def _outcome(fn) -> str:
    from napari_labelsuite.core.errors import LabelsuiteError

    signal.alarm(SECONDS)
    try:
        fn()
    except LabelsuiteError as exc:
        return "named" if "\n" not in str(exc) else f"multi-line: {exc!r}"[:300]
    except _Timeout:
        return "timeout"
    except BaseException as exc:  # the failure this test exists to catch
        return f"BUG {type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
    return "accepted"


def _cli(args: list[str]) -> str:
    from napari_labelsuite.cli import main

    err = io.StringIO()
    signal.alarm(SECONDS)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(args)
    except _Timeout:
        return "timeout"
    except BaseException as exc:
        return f"BUG {type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
    lines = err.getvalue().strip().splitlines()
    if rc != 1 or len(lines) != 1 or "Traceback" in err.getvalue() or "unexpected" in lines[0]:
        return f"rc={rc} stderr={lines[:3]}"
    return "named"


def _session(kind: str, path: Path) -> str:
    from napari_labelsuite import LabelSession

    s = LabelSession()
    before = len(s.layers)
    res = _outcome(lambda: s.import_annotations(path, kind))
    if res == "named" and len(s.layers) != before:
        return "layers added before the error"
    return res


def _check(kind: str, path: Path, dataset: Path) -> dict:
    res: dict = {"core": _outcome(lambda: _core(kind, path))}
    if kind not in NOT_IN_CLI:
        res["validate"] = _cli(["validate", str(path), "--kind", kind])
    if kind in FORMATS_CLI:
        res["import"] = _cli(["import", str(path), str(dataset), "--from", kind])
        res["session"] = _session(kind, path)
    return res


def _run_child(kind: str, path: Path, dataset: Path, cwd: Path) -> dict:
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(rfd)
        out: dict = {}
        try:
            os.chdir(cwd)
            signal.signal(signal.SIGALRM, _alarm)
            with contextlib.suppress(OSError):
                Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS
            base = _rss_kb("VmRSS")
            t0 = time.perf_counter()
            out = _check(kind, path, dataset)
            out["seconds"] = time.perf_counter() - t0
            out["peak_mb"] = (_rss_kb("VmHWM") - base) / 1024
        except BaseException as exc:
            out = {"child": f"{type(exc).__name__}: {exc}"}
        os.write(wfd, json.dumps(out).encode())
        os._exit(0)
    os.close(wfd)
    chunks = []
    while True:
        b = os.read(rfd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(rfd)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks) or b'{"child": "died"}')


def _tree_digest(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink() or not p.exists():
            out[str(p)] = "link"
        elif p.is_file():
            out[str(p)] = hashlib.sha1(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[str(p)] = "dir"
        else:
            out[str(p)] = "special"
    return out


def _warm_up(folder: Path, corpus: list, dataset: Path) -> None:
    """Run each kind's code path once in this process, so that the forked children
    measure the input, not the first import of a module."""
    import shutil

    folder.mkdir()
    signal.signal(signal.SIGALRM, _alarm)
    seen = set()
    for _name, kind, path in corpus:
        if kind in seen or path.name.startswith("p."):  # not the pipes
            continue
        seen.add(kind)
        _check(kind, path, dataset)
    shutil.rmtree(folder)


def test_every_hostile_input_ends_in_a_named_error(tmp_path):
    corpus = hostile_corpus.build(tmp_path / "corpus") + hostile_corpus.fifo(tmp_path / "corpus")
    assert len(corpus) >= 60
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    np.save(dataset / "img1.npy", np.zeros((12, 16), np.uint8))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    _warm_up(tmp_path / "warm", corpus, dataset)
    before = _tree_digest(tmp_path)
    failures = {}
    slowest = (0.0, "")
    heaviest = (0.0, "")
    for name, kind, path in corpus:
        res = _run_child(kind, path, dataset, cwd)
        bad = {k: v for k, v in res.items() if k not in ("seconds", "peak_mb") and v != "named"}
        if res.get("seconds", 0) > SECONDS:
            bad["seconds"] = res["seconds"]
        if res.get("peak_mb", 0) > MEGABYTES:
            bad["peak_mb"] = res["peak_mb"]
        if bad:
            failures[name] = bad
        slowest = max(slowest, (res.get("seconds", 0), name))
        heaviest = max(heaviest, (res.get("peak_mb", 0), name))
    assert not failures, json.dumps(failures, indent=1)
    # nothing written: no partial import, no file outside the target, nothing executed
    assert _tree_digest(tmp_path) == before
    assert not list(cwd.iterdir())
    print(f"{len(corpus)} inputs; slowest {slowest}; largest peak {heaviest}")

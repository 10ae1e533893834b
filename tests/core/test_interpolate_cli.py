"""The ``interpolate`` and ``track`` subcommands: TIFF in, TIFF or CTC folder out."""

from __future__ import annotations

import numpy as np
import tifffile

from napari_labelsuite.cli import main
from napari_labelsuite.core.formats import ctc


def test_interpolate_subcommand_fills_between_keyframes(tmp_path, capsys):
    lab = np.zeros((5, 20, 20), np.uint16)
    lab[0, 5:15, 5:15] = 3
    lab[4, 5:15, 5:15] = 3
    lab[2, 0:2, 0:2] = 9
    tifffile.imwrite(tmp_path / "k.tif", lab)
    assert main(["interpolate", str(tmp_path / "k.tif"), str(tmp_path / "f.tif")]) == 0
    out = tifffile.imread(tmp_path / "f.tif")
    assert all((out[z, 5:15, 5:15] == 3).all() for z in range(5))
    assert out[2, 0, 0] == 9 and (out == 3).sum() == 500
    assert capsys.readouterr().out.startswith("300 pixels filled in 1 objects")


def test_interpolate_subcommand_reports_bad_input_in_one_line(tmp_path, capsys):
    lab = np.zeros((5, 20, 20), np.uint16)
    lab[0, 5:15, 5:15] = 3
    tifffile.imwrite(tmp_path / "k.tif", lab)
    code = main(["interpolate", str(tmp_path / "k.tif"), str(tmp_path / "f.tif"), "--ids", "3"])
    err = capsys.readouterr().err
    assert code == 1 and "annotated on one plane only" in err and "label_id" in err
    assert not (tmp_path / "f.tif").exists()


def test_track_subcommand_writes_a_ctc_folder(tmp_path, capsys):
    lab = np.zeros((3, 20, 20), np.uint16)
    lab[0, 2:10, 2:10] = 4
    lab[1, 2:5, 2:10] = 1
    lab[1, 6:10, 2:10] = 2
    lab[2, 2:5, 2:10] = 6
    lab[2, 6:10, 2:10] = 5
    tifffile.imwrite(tmp_path / "m.tif", lab)
    assert main(["track", str(tmp_path / "m.tif"), str(tmp_path / "RES"), "--result"]) == 0
    assert capsys.readouterr().out.startswith("3 tracks, 1 divisions")
    assert (tmp_path / "RES" / "res_track.txt").read_text() == "1 0 0 0\n2 1 2 1\n3 1 2 1\n"
    stack, rows = ctc.read_tracks(tmp_path / "RES")
    assert np.array_equal(stack > 0, lab > 0) and rows[3] == (1, 2, 1)

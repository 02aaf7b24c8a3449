"""``choreo library add / info / remove`` and ``choreo generate --weights danceit --library``
(issue 15): a fresh user's round trip, bad input said in one line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from choreo.cli import main
from choreo.core.generation import load_dance
from choreo.core.library import MotionLibrary
from choreo.core.models.weights import installed_models


@pytest.fixture
def takes(mocap_dir):
    return [str(p) for p in sorted((mocap_dir / "005").glob("005_*.bvh"))[:4]]


def test_add_info_remove(tmp_path, takes, capsys):
    lib = tmp_path / "mine"
    assert main(["library", "add", *takes[:3], "--library", str(lib)]) == 0
    out = capsys.readouterr().out
    assert "added s0001 005_01" in out and "3 sources" in out
    assert main(["library", "info", "--library", str(lib)]) == 0
    assert "3 sources" in capsys.readouterr().out
    assert main(["library", "remove", "005_02", "--library", str(lib)]) == 0
    assert main(["library", "add", takes[3], "--library", str(lib)]) == 0
    names = [r.name for r in MotionLibrary.open(lib).sources()]
    assert names == ["005_01", "005_03", "005_04"]
    embedded = [r.embedding is not None for r in MotionLibrary.open(lib).sources()]
    assert all(embedded) == ("danceit" in installed_models())


def test_bad_input_is_one_line(tmp_path, takes):
    pose2d = tmp_path / "frames.json"
    pose2d.write_text("{}")
    for argv, says in ((["library", "add", str(pose2d), "--library", str(tmp_path / "l")], "2D poses"),
                       (["library", "info", "--library", str(tmp_path / "nothing")], "no motion library"),
                       (["library", "add", takes[0], "--library", str(tmp_path / "x"), "--weights", "default"],
                        "not DanceIt's")):
        r = subprocess.run([sys.executable, "-m", "choreo", *argv], capture_output=True, text=True)
        assert r.returncode != 0 and says in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "l").exists()  # a refused add makes no library


@pytest.mark.skipif("danceit" not in installed_models(), reason="the shipped DanceIt weights are not installed")
def test_generate_from_my_library(tmp_path, takes, music_dir):
    lib = tmp_path / "mine"
    assert main(["library", "add", *takes, "--library", str(lib)]) == 0
    out = tmp_path / "dance.npz"
    song = music_dir / "mma09_bvfunk.ogg"
    assert main(["generate", str(song), "-o", str(out), "--weights", "danceit", "--library", str(lib),
                 "--end", "20", "--seed", "5"]) == 0
    dance = load_dance(out)
    assert dance.model == "danceit" and dance.sources
    ids = {r.id: r.name for r in MotionLibrary.open(lib).sources()}
    assert all(ids[p["source_id"]] == p["source"] for p in dance.sources)
    again = tmp_path / "again.npz"
    assert main(["generate", str(song), "-o", str(again), "--weights", "danceit", "--library", str(lib),
                 "--end", "20", "--seed", "5"]) == 0
    assert np.array_equal(load_dance(again).motion.joints, dance.motion.joints)
    assert main(["generate", str(song), "-o", str(out), "--weights", "default", "--library", str(lib)]) == 2

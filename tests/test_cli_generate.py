"""``choreo generate``: outputs, summary line, and one-line errors on bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from choreo.cli import main
from choreo.core.formats import load_motion
from choreo.core.generation import load_dance
from choreo.core.generation.random_init import save_random_weights


@pytest.fixture(scope="module")
def setup(tmp_path_factory, gridded_song):
    root = tmp_path_factory.mktemp("weights")
    song, track = gridded_song
    weights = root / "gen.safetensors"
    save_random_weights(weights)
    return song, weights, track


def test_generate_npz_and_bvh(setup, tmp_path, capsys):
    song, weights, track = setup
    out, bvh = tmp_path / "out" / "dance.npz", tmp_path / "dance.bvh"
    rc = main(["generate", str(song), "-o", str(out), "--bvh", str(bvh), "--weights", str(weights),
               "--seed", "5", "--energy", "1.5", "--start", "2", "--end", "8",
               "--beats", str(song.with_suffix(".json"))])
    assert rc == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and f"wrote {bvh}" in text
    assert "120.0 BPM" in text and "seed 5" in text and "took" in text
    d = load_dance(out)
    assert d.motion.num_frames == 180 and d.seed == 5 and d.energy == 1.5 and d.audio_start == 2.0
    assert np.allclose(d.beats, track.beats[(track.beats >= 2) & (track.beats < 8)] - 2)
    m = load_motion(bvh)
    assert m.num_frames == 180
    # BVH stores rotations and rest offsets: joint positions come back to within a few mm
    assert np.abs(m.joints - d.motion.joints).max() < 0.02
    assert sorted(p.name for p in out.parent.iterdir()) == ["dance.npz"]


def test_generate_bvh_out(setup, tmp_path, capsys):
    song, weights, _ = setup
    out = tmp_path / "d.bvh"
    assert main(["generate", str(song), "-o", str(out), "--weights", str(weights), "--end", "3"]) == 0
    assert load_motion(out).num_frames == 90


@pytest.mark.parametrize("argv_tail, message", [
    (["-o", "x.mp4"], "output must end in"),
    (["-o", "x.npz", "--render", "a.mp4"], "need a .blend output"),
    (["-o", "x.npz", "--start", "99"], "beyond the song's end"),
    (["-o", "x.npz", "--energy", "0"], "energy"),
    (["-o", "x.npz", "--weights", "missing.safetensors"], "missing.safetensors: weights file not found"),
    (["-o", "x.npz", "--beats", "nogrid.json"], "nogrid.json: cannot read"),
    (["-o", "x.npz", "--beats", "notes.json"], "notes.json: beat grid: 'beats' must be a list"),
])
def test_generate_errors_are_one_line(setup, tmp_path, capsys, argv_tail, message, monkeypatch):
    song, weights, _ = setup
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.json").write_text('{"beats": null}')
    if "--weights" not in argv_tail:
        argv_tail = argv_tail + ["--weights", str(weights)]
    assert main(["generate", str(song)] + argv_tail) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("choreo: error:") and message in err and "\n" not in err
    assert not (tmp_path / "x.npz").exists()


def test_generate_no_traceback_subprocess(setup, tmp_path):
    song, _, _ = setup
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    r = subprocess.run([sys.executable, "-m", "choreo", "generate", str(song), "-o", str(tmp_path / "o.npz"),
                        "--weights", str(bad)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bad.safetensors" in r.stderr and "not a safetensors" in r.stderr


@pytest.mark.blender
def test_generate_blend(setup, tmp_path, capsys):
    """A .blend OUT goes through rigs.scene.write_dance_blend (real bpy)."""
    pytest.importorskip("bpy")
    song, weights, _ = setup
    out = tmp_path / "dance.blend"
    assert main(["generate", str(song), "-o", str(out), "--weights", str(weights), "--end", "4",
                 "--key-mode", "dense"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert out.read_bytes()[:7] == b"BLENDER"

"""``choreo generate``: outputs, summary line, and one-line errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from choreo.cli import main
from choreo.core.formats import load_motion
from choreo.core.generation import load_dance
from choreo.core.generation.families.ren.random_init import save_random_weights


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
    (["-o", "x.npz", "--render", "a.mp4"], "x.npz: --render needs a .blend output"),
    (["-o", "x.npz", "--key-mode", "dense"], "x.npz: --key-mode needs a .blend output"),  # was ignored
    (["-o", "x.bvh", "--key-mode", "beats"], "x.bvh: --key-mode needs a .blend output"),
    (["-o", "x.npz", "--rig", "r.blend"], "x.npz: --rig needs a .blend output"),
    (["-o", "x.bvh", "--pack-audio"], "x.bvh: --pack-audio needs a .blend output"),
    (["-o", "x.npz", "--fps", "24"], "x.npz: --fps needs a .blend output"),
    (["-o", "x.blend", "--render", "x.txt"], "x.txt: --render file must end in .mp4"),  # was after the work
    (["-o", "x.blend", "--rig", "r.txt"], "r.txt: --rig must be a .blend or .fbx"),
    (["-o", "x.blend", "--rig", "r.blend"], "r.blend: rig file not found"),
    (["-o", "x.bvh", "--bvh", "./x.bvh"], "./x.bvh: is the same file as x.bvh"),
    (["-o", "x.npz", "--start", "99"], "beyond the song's end"),
    (["-o", "x.npz", "--energy", "0"], "energy"),
    # values before any file is read: the (missing) weights are never reached
    (["-o", "x.npz", "--seed", "9223372036854775808", "--weights", "missing.safetensors"],
     "seed: 9223372036854775808 is out of range"),  # was a traceback after generating
    (["-o", "x.npz", "--seed", "-1", "--weights", "missing.safetensors"], "seed: -1 is out of range"),
    (["-o", "x.npz", "--energy", "nan", "--weights", "missing.safetensors"], "energy"),
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


def test_generate_writes_through_a_symlink(setup, tmp_path, capsys):
    song, weights, _ = setup
    real = tmp_path / "kept" / "dance.npz"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "dance.npz"
    link.symlink_to(real)
    assert main(["generate", str(song), "-o", str(link), "--weights", str(weights), "--end", "3"]) == 0
    assert link.is_symlink() and load_dance(real).motion.num_frames == 90  # was: the link became a file


@pytest.mark.blender
def test_generate_replaces_all_outputs_or_none(setup, tmp_path, capsys):
    """The .blend fails (an unreadable rig) after the BVH is made: neither old file is replaced."""
    pytest.importorskip("bpy")
    song, weights, _ = setup
    rig = tmp_path / "rig.blend"
    rig.write_bytes(b"not a blend file")
    blend, bvh = tmp_path / "dance.blend", tmp_path / "dance.bvh"
    blend.write_bytes(b"earlier scene")
    bvh.write_bytes(b"earlier bvh")
    assert main(["generate", str(song), "-o", str(blend), "--bvh", str(bvh), "--rig", str(rig),
                 "--weights", str(weights), "--end", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rig.blend: not a readable .blend" in err, err
    assert blend.read_bytes() == b"earlier scene" and bvh.read_bytes() == b"earlier bvh"  # was: the BVH replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dance.blend", "dance.bvh", "rig.blend"]


@pytest.mark.parametrize("bad", [{"fps": 0}, {"fps": float("nan")}, {"sample_rate": -16000}, {"hidden": 0},
                                 {"enc_kernels": [32, 8]}, {"noise_period": float("inf")}])
def test_weights_with_an_unusable_config_are_refused_before_the_audio(setup, tmp_path, capsys, bad):
    from choreo.core.generation.families.ren.random_init import GeneratorConfig

    path = tmp_path / "bad.safetensors"
    cfg = GeneratorConfig()
    save_random_weights(path, cfg, meta={"kind": "generator", "model": "ren", "variant": "x",
                                         "config": {**cfg.to_dict(), **bad}})
    # The song does not exist: the weights' error coming first shows nothing was read before it.
    assert main(["generate", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "x.npz"),
                 "--weights", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: generator config in the weights is unusable" in err, err
    assert next(iter(bad)) in err


@pytest.mark.parametrize("grid, message", [
    ({"beats": [0.5, 1.0], "meter": 1}, "'meter' must be beats per bar (2–16)"),  # was accepted
    ({"beats": [0.5, 1.0], "meter": [4, 0]}, "'meter'"),  # was accepted
    ({"beats": [0.5, 1.0], "meter": 17}, "'meter'"),  # was accepted
    ({"beats": [0.5, 1.0], "meter": 1e9}, "'meter'"),
    ({"beats": [0.5, 1.0], "bpm": 1e9}, "'bpm' must be a number in 10–1000"),  # was accepted
    ({"beats": [0.5, 0.5 + 1e-9]}, "BPM, outside 10–1000"),  # was accepted: 6e10 BPM
    ({"beats": [0.5, float("nan")]}, "NaN"), ({"beats": [0.5, float("inf")]}, "infinite"),
    ({"beats": [1.0, 0.5]}, "strictly increasing"), ({"beats": [-1.0, 0.5]}, "negative"),
])
def test_bad_beat_grids_are_one_line_naming_the_grid(setup, tmp_path, capsys, grid, message):
    _, weights, _ = setup
    path = tmp_path / "g.json"
    path.write_text(json.dumps(grid))
    assert main(["generate", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "x.npz"), "--weights", str(weights),
                 "--beats", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: beat grid" in err and message in err, err

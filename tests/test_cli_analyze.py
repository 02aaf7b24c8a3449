"""``choreo analyze`` and ``choreo demo``: output, JSON, and one-line errors on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from choreo.cli import main
from choreo.core.audio.beats import f_measure
from choreo.core.audio.demo import synthesize_demo, write_demo_wav


@pytest.fixture(scope="module")
def demo_wav(tmp_path_factory):
    """12 bars of the demo (about 24 s) as a WAV, with its exact grid."""
    track = synthesize_demo(tempo=120.0, bars=12)
    path = tmp_path_factory.mktemp("song") / "demo.wav"
    write_demo_wav(path, track)
    return path, track


def test_analyze_prints_and_writes_json(demo_wav, tmp_path, capsys):
    path, track = demo_wav
    out = tmp_path / "sub" / "beats.json"
    assert main(["analyze", str(path), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "BPM" in text and "sections" in text and str(out) in text
    data = json.loads(out.read_text())
    for key in ("file", "duration", "tempo", "meter", "beats", "downbeats", "sections"):
        assert key in data
    assert data["file"] == os.path.abspath(path)
    assert data["duration"] == pytest.approx(track.duration, abs=1e-3)
    assert abs(data["tempo"] - 120) < 3 and data["meter"] == 4
    assert f_measure(track.beats, data["beats"]) >= 0.95
    assert set(data["downbeats"]) <= set(data["beats"])
    sections = data["sections"]
    assert sections[0][0] == 0.0 and sections[-1][1] == pytest.approx(data["duration"], abs=1e-3)
    assert all(len(s) == 3 and s[0] < s[1] for s in sections)
    assert os.listdir(out.parent) == ["beats.json"]


def test_analyze_pulse_double(demo_wav, tmp_path):
    path, _ = demo_wav
    out = tmp_path / "double.json"
    assert main(["analyze", str(path), "--pulse", "double", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert abs(data["tempo"] - 240) < 6 and len(data["beats"]) > 1.6 * 48


def _bad_inputs(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "text.wav"
    text.write_text("not audio at all\n" * 10)
    cut = tmp_path / "cut.wav"
    sf.write(cut, np.zeros(44100, np.float32), 22050, subtype="PCM_16")
    cut.write_bytes(cut.read_bytes()[:30000])
    nan = tmp_path / "nan.wav"
    y = np.full(44100, 0.1, np.float32)
    y[5] = np.nan
    sf.write(nan, y, 22050, subtype="FLOAT")
    short = tmp_path / "short.wav"
    sf.write(short, 0.1 * np.sin(np.arange(11025) / 5.0).astype(np.float32), 22050)
    return {"missing": (tmp_path / "missing.wav", "no such file"), "empty": (empty, "empty"),
            "not audio": (text, "not a WAV file (it starts with text: 'not audio at all')"), "truncated": (cut, "truncated"),
            "nan": (nan, "NaN"), "short": (short, "bar")}


@pytest.mark.parametrize("case", ["missing", "empty", "not audio", "truncated", "nan", "short"])
def test_analyze_bad_input(tmp_path, capsys, case):
    path, words = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out.json"
    assert main(["analyze", str(path), "--json", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"choreo: error: {path}: "), captured.err
    assert words in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.suffix == ".json"] == []


def test_module_entry_point_reports_error(tmp_path):
    """``python -m choreo analyze`` is wired up and exits 2 with one line on bad input."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-m", "choreo", "analyze", str(tmp_path / "x.ogg")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"choreo: error: {tmp_path / 'x.ogg'}: no such file"


@pytest.mark.blender
def test_demo_command(tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["demo", "--out", str(out_dir), "--no-render"]) == 0  # the render: tests/test_headless.py
    text = capsys.readouterr().out
    assert sorted(os.listdir(out_dir)) == ["demo.blend", "demo.wav", "demo_beats.json", "demo_dance.npz"]
    data = json.loads((out_dir / "demo_beats.json").read_text())
    assert data["truth"]["tempo"] == 118.0 and len(data["truth"]["beats"]) == 120
    assert data["f_measure"]["beats"] >= 0.95
    assert "F-measure" in text and str(out_dir / "demo.wav") in text and "sections" in text
    info = sf.info(out_dir / "demo.wav")
    assert info.samplerate == 22050 and 55 < info.duration < 65


def test_analyze_real_track(music_dir, tmp_path):
    """A shared track: beats are seconds from the file start (checked against its exact grid)."""
    song = music_dir / "mma07_rhumba.ogg"
    truth = json.loads(song.with_suffix(".json").read_text())
    out = tmp_path / "rhumba.json"
    assert main(["analyze", str(song), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert f_measure(truth["beats"], data["beats"]) >= 0.8
    assert len(data["sections"]) >= 1


def test_analyze_reports_tempo_changes(tmp_path, capsys):
    """A song that speeds up from 100 to 132 BPM: the JSON and the summary carry both tempi."""
    import json

    import soundfile as sf

    from choreo.core.audio.medley import drum_song

    first = np.arange(0, 30, 0.6)
    beats = np.r_[first, first[-1] + 0.6 + np.arange(0, 30, 60 / 132)]
    song = tmp_path / "speeds_up.wav"
    sf.write(song, drum_song(beats, 4, 60.0, 22050, seed=7), 22050, subtype="PCM_16")
    out = tmp_path / "map.json"
    assert main(["analyze", str(song), "--json", str(out)]) == 0
    changes = json.loads(out.read_text())["tempo_changes"]
    assert [bpm for _, bpm in changes] == pytest.approx([100, 132], rel=0.02)
    assert changes[1][0] == pytest.approx(30.0, abs=0.05)
    out_text = capsys.readouterr().out
    assert "changes: " in out_text and " 100.0 BPM, " in out_text and " 132.0 BPM" in out_text

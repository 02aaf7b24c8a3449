"""The beat benchmark's peers (benchmarks/beat_benchmark.py, issue 13 item 3).

madmom (models CC BY-NC-SA) and essentia (AGPL) are benchmark-only: they live
in .venv-peers, and Choreo's own code never imports them. These tests run in
.venv without either: they check the pure pieces (madmom's bar output, the
import shim, the records of both data sets, the tables) and one end-to-end run
of the benchmark on a synthetic track with a stand-in tracker."""

from __future__ import annotations

import importlib.metadata as md
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import beat_benchmark as bb  # noqa: E402


def test_madmom_bars_reads_positions():
    t = np.arange(12) * 0.5 + 0.25
    pos = np.tile([3, 1, 2], 4)                   # a pickup beat, then 3-beat bars
    beats, downs, meter = bb.madmom_bars(np.c_[t, pos])
    assert np.allclose(beats, t)
    assert np.allclose(downs, t[1::3])
    assert meter == 3
    # 6/8 counted in dotted quarters: 2 beats a bar, as the labels count it
    _, downs, meter = bb.madmom_bars(np.c_[t, np.tile([1.0, 2.0], 6)])
    assert meter == 2 and np.allclose(downs, t[0::2])
    beats, downs, meter = bb.madmom_bars(np.zeros((0, 2)))
    assert len(beats) == 0 and len(downs) == 0 and meter is None
    assert 2 in bb.MADMOM_BEATS_PER_BAR


def test_import_madmom_restores_metadata_lookup():
    orig = md.distribution
    try:
        mod = bb.import_madmom()
    except ImportError:
        mod = None                                  # .venv: not installed, as it should be
    assert md.distribution is orig
    if mod is not None:
        assert mod.__version__


def test_choreo_never_imports_the_peers():
    skip = {"benchmarks", "tests", "out", "node_modules"}
    pat = re.compile(r"^\s*(import|from)\s+(madmom|essentia)\b", re.M)
    bad = []
    for p in REPO.rglob("*.py"):
        rel = p.relative_to(REPO).parts
        if rel[0] in skip or rel[0].startswith("."):
            continue
        if pat.search(p.read_text(errors="replace")):
            bad.append(str(p.relative_to(REPO)))
    assert not bad, f"benchmark-only peers imported by Choreo: {bad}"


def _write_track(folder: Path, name: str, bpm: float, meter: int, extra: dict | None = None) -> dict:
    sf = pytest.importorskip("soundfile")
    sr, dur = 22050, 8.0
    beats = np.arange(0.5, dur - 0.2, 60.0 / bpm)
    y = np.zeros(int(sr * dur), np.float32)
    for b in beats:
        i = int(b * sr)
        y[i: i + 200] += np.hanning(200).astype(np.float32)
    sf.write(folder / f"{name}.ogg", y, sr)
    rec = {"title": name, "bpm": bpm, "meter": [meter, 4], "beats": beats.round(6).tolist(),
           "downbeats": beats[::meter].round(6).tolist(), "duration_s": dur}
    rec.update(extra or {})
    (folder / f"{name}.json").write_text(json.dumps(rec))
    return rec


def _perfect(y, sr):
    """A stand-in tracker that reads the answer from the last written labels."""
    rec = _perfect.rec
    b = np.asarray(rec["beats"], float)
    bpb = rec.get("beats_per_bar", rec["meter"][0])
    return bb.tempo_of(b), b, b[::bpb], bpb


def test_shared_records_have_the_beatset_shape(tmp_path):
    _write_track(tmp_path, "t1", 120.0, 3)
    recs = bb.shared_set(tmp_path)
    assert len(recs) == 1
    r = recs[0]
    assert r["split"] == "shared" and r["beats_per_bar"] == 3 and r["features"] == {}
    assert r["audio"] == tmp_path / "t1.ogg"


def test_benchmark_end_to_end_shared_and_beatset(tmp_path, monkeypatch, capsys):
    music, bset = tmp_path / "music", tmp_path / "beatset"
    music.mkdir()
    bset.mkdir()
    _perfect.rec = _write_track(music, "shared1", 100.0, 4)
    # a 6/8 beat-set track: 2 dotted-quarter beats a bar
    _write_track(bset, "bs000_x", 90.0, 6, {"split": "dev", "beats_per_bar": 2, "meter": [6, 8],
                                             "features": {"meter": "6/8", "feel": "normal"}})
    monkeypatch.setitem(bb.TRACKERS, "perfect", _perfect)
    out = tmp_path / "res" / "r.json"
    assert bb.main(["--music", str(music), "--beatset", str(tmp_path / "missing"), "--only", "perfect",
                    "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "### shared tracks" in text and "make beatset" in text
    row = next(line for line in text.splitlines() if line.startswith("| perfect |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "1.000" and cells[2] == "1.000" and cells[4] == "1 / 1"
    assert cells[6] == "1.000" and cells[7] == "1 / 1"
    saved = json.loads(out.read_text())
    assert saved["results"]["shared"]["perfect"][0]["f"] == 1.0

    # the beat set, read by benchmarks/beatset/score.py's loader; meter right counts 2 for 6/8
    _perfect.rec = json.loads((bset / "bs000_x.json").read_text())
    assert bb.main(["--no-shared", "--beatset", str(bset), "--splits", "dev", "--only", "perfect"]) == 0
    text = capsys.readouterr().out
    assert "### beat set dev split" in text and "test split" not in text
    row = next(line for line in text.splitlines() if line.startswith("| perfect |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "1.000" and cells[7] == "1 / 1"

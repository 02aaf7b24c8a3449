"""Shared fixtures. Tests that need ../shared/data skip when it is absent,
except under CI=true, where its absence is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CHOREO_SHARED_DATA", REPO.parent / "shared" / "data"))


def _require(path: Path) -> Path:
    if path.exists():
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{path} is missing: CI must have ../shared/data beside the clone")
    pytest.skip(f"{path} not found (set CHOREO_SHARED_DATA or put shared/ beside the repo)")


@pytest.fixture(scope="session")
def music_dir() -> Path:
    """../shared/data/music: tracks with exact beat grids."""
    return _require(SHARED_DATA / "music")


@pytest.fixture(scope="session")
def mocap_dir() -> Path:
    """../shared/data/mocap/cmu: CMU takes on the CC_Base skeleton (BVH)."""
    return _require(SHARED_DATA / "mocap" / "cmu")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep feature caches out of the user's home during tests."""
    monkeypatch.setenv("CHOREO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def gridded_song(tmp_path_factory):
    """A 12-s synthetic song (120 BPM, 16 kHz wav) with its exact beat grid as SONG.json
    beside it, the way the shared music ships: ``(song_path, DemoTrack)``."""
    import json

    from choreo.core.audio.demo import synthesize_demo, write_demo_wav

    root = tmp_path_factory.mktemp("gridded_song")
    track = synthesize_demo(tempo=120.0, bars=6, sr=16000)
    song = root / "song.wav"
    write_demo_wav(song, track)
    song.with_suffix(".json").write_text(json.dumps(
        {"bpm": 120, "meter": [4, 4], "beats": track.beats.tolist(), "downbeats": track.downbeats.tolist(),
         "duration_s": track.duration}))
    return song, track

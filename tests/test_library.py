"""The motion library (issue 15): sources from files, normalised and cut on kinematic
beats, an append-only documented format, damaged and foreign folders refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from choreo.core import skeleton as sk
from choreo.core.errors import ChoreoInputError
from choreo.core.formats import load_motion, save_motion
from choreo.core.library import BODY_HEIGHT, MotionLibrary
from choreo.core.library.sources import body_height, normalize_source
from choreo.core.motion import Motion


@pytest.fixture(scope="module")
def take(mocap_dir) -> Motion:
    return load_motion(mocap_dir / "005" / "005_02.bvh").resample(sk.FPS)


def test_normalised_sources_share_scale_floor_and_facing(take):
    big = Motion(take.joints * 1.3 + np.array([2.0, -1.0, 0.5]), take.fps)
    a, b = normalize_source(take), normalize_source(big)
    for m in (a, b):
        assert body_height(m.joints) == pytest.approx(BODY_HEIGHT, rel=1e-6)
        assert abs(m.floor_height()) < 1e-6
        assert abs(m.facing_angle(0) - np.arctan2(-1.0, 0.0)) < 1e-6
        assert np.allclose(m.joints[0, 0, :2], 0.0, atol=1e-6)
    assert np.allclose(a.joints, b.joints, atol=1e-4)  # the same moves, whatever the scale and place


def test_add_round_trip_and_append_only(tmp_path, take):
    lib = MotionLibrary.create(tmp_path / "lib")
    f = tmp_path / "take.npz"
    save_motion(take, f)
    emb = ("model-sha", 60, lambda joints, starts, n: np.stack([joints[s, 0] for s in starts]))
    added = lib.add_files([f], embed=emb)
    added += lib.add_files([f], embed=emb)
    assert [r.name for r in added] == ["take", "take"]
    log_before = (tmp_path / "lib" / "log.jsonl").read_bytes()
    files_before = {p.name: p.read_bytes() for p in (tmp_path / "lib" / "sources").iterdir()}

    again = MotionLibrary.open(tmp_path / "lib")
    assert [r.id for r in again.sources()] == ["s0001", "s0002"]
    src = again.load(again.sources()[0])
    assert src.motion.num_frames == added[0].frames and src.starts[0] == 0
    assert np.all(np.diff(src.starts) > 0) and len(src.starts) == added[0].fragments > 3
    assert src.embedding.shape == (len(src.starts), 3) and src.embedding_key == ("model-sha", 60)

    more = tmp_path / "more.bvh"
    save_motion(take.frames(0, 120), more)
    again.add_files([more])
    again.remove("s0001")
    log_after = (tmp_path / "lib" / "log.jsonl").read_bytes()
    assert log_after.startswith(log_before)  # appended, never rewritten
    for name, data in files_before.items():
        assert (tmp_path / "lib" / "sources" / name).read_bytes() == data
    final = MotionLibrary.open(tmp_path / "lib")
    assert [r.id for r in final.sources()] == ["s0002", "s0003"]
    assert final.info()["removed"] == 1
    for rec in map(json.loads, log_after.decode().splitlines()):
        assert rec["op"] in ("add", "remove")


def test_bad_files_add_nothing(tmp_path, take):
    lib = MotionLibrary.create(tmp_path / "lib")
    good = tmp_path / "good.npz"
    save_motion(take, good)
    pose2d = tmp_path / "frames.json"
    pose2d.write_text("{}")
    with pytest.raises(ChoreoInputError, match="2D poses"):
        lib.add_files([good, pose2d])
    short = tmp_path / "short.npz"
    save_motion(take.frames(0, 10), short)
    with pytest.raises(ChoreoInputError, match="shorter than one fragment"):
        lib.add_files([good, short])
    assert MotionLibrary.open(tmp_path / "lib").sources() == []


def test_damaged_and_foreign_libraries_are_refused(tmp_path, take):
    with pytest.raises(ChoreoInputError, match="no motion library"):
        MotionLibrary.open(tmp_path / "missing")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "library.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ChoreoInputError, match="not a Choreo motion library"):
        MotionLibrary.open(tmp_path / "foreign")
    lib = MotionLibrary.create(tmp_path / "lib")
    lib.add_motion(take, "take")
    src = tmp_path / "lib" / "sources" / "s0001.npz"
    src.write_bytes(src.read_bytes()[:-10])
    with pytest.raises(ChoreoInputError, match="does not match its record"):
        MotionLibrary.open(tmp_path / "lib").load(MotionLibrary.open(tmp_path / "lib").sources()[0])
    log = tmp_path / "lib" / "log.jsonl"
    log.write_text("not json\n" + log.read_text())
    with pytest.raises(ChoreoInputError, match="line 1: damaged library record"):
        MotionLibrary.open(tmp_path / "lib")
    newer = tmp_path / "newer"
    MotionLibrary.create(newer)
    (newer / "library.json").write_text(json.dumps({"format": "choreo-motion-library", "version": 99}))
    with pytest.raises(ChoreoInputError, match="newer"):
        MotionLibrary.open(newer)


def test_interrupted_record_is_ignored(tmp_path, take):
    lib = MotionLibrary.create(tmp_path / "lib")
    lib.add_motion(take, "take")
    with open(tmp_path / "lib" / "log.jsonl", "a") as f:
        f.write('{"op": "add", "id": "s00')  # the add was killed mid-record
    again = MotionLibrary.open(tmp_path / "lib")
    assert [r.name for r in again.sources()] == ["take"]
    again.add_motion(take.frames(0, 90), "next")  # the cut-off record is dropped, not glued to the next
    assert [r.name for r in MotionLibrary.open(tmp_path / "lib").sources()] == ["take", "next"]

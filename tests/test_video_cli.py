"""``choreo video`` end to end (issue 16): a stand-in clip rendered by Blender → prepare → train →
a Choreo dance rendered as the target with its song in sync; bad input is one line and nothing
half-written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from choreo.cli import main
from choreo.core.video.io import VideoReader

pytestmark = pytest.mark.blender  # the stand-in clip and .blend dances need bpy


def _audio(path):
    import av

    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None, None
        s = c.streams.audio[0]
        return np.concatenate([f.to_ndarray().mean(axis=0) for f in c.decode(s)]), s.rate


@pytest.fixture(scope="module")
def dance(tmp_path_factory, music_dir):
    d = tmp_path_factory.mktemp("dance")
    song = music_dir / "mma03_softrock.ogg"
    assert main(["generate", str(song), "--start", "6", "--end", "9", "-o", str(d / "d.npz")]) == 0
    return {"npz": d / "d.npz", "song": song, "dir": d}


def test_stand_in_prepare_train_render(tmp_path, dance, capsys):
    pytest.importorskip("mediapipe")  # Python 3.11 only (0.10.21 has no wheel for 3.13)
    pytest.importorskip("torch")
    clip, target = tmp_path / "standin.mp4", tmp_path / "target"
    assert main(["video", "stand-in", str(clip), "--take", "05_02", "--seconds", "2", "--size", "256",
                 "--samples", "1"]) == 0
    assert main(["video", "prepare", str(clip), "--out", str(target), "--size", "64"]) == 0
    meta = json.loads((target / "target.json").read_text())
    assert meta["frames"] >= 50 and meta["size"] == 64
    assert main(["video", "train", str(target), "--config", "tiny", "--steps", "6"]) == 0
    weights = target / "renderer.safetensors"
    assert weights.is_file() and any((target / "train").iterdir())
    capsys.readouterr()
    assert main(["video", "train", str(target), "--config", "tiny", "--steps", "3"]) == 0  # resumes: already past 3
    assert "6 steps already" in capsys.readouterr().err
    out = tmp_path / "out.mp4"
    assert main(["video", "render", str(dance["npz"]), "--target", str(weights), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    with VideoReader(out) as r:
        frames = list(r.frames_rgb())
        assert (r.width, r.height, r.fps) == (64, 64, 30.0)
    assert len(frames) == 90  # 3 s of dance at 30 fps


def test_the_video_plays_the_dances_part_of_the_song(tmp_path, dance, photoreal_weights):
    from choreo.core.audio.io import load_audio

    out = tmp_path / "v.mp4"
    assert main(["video", "render", str(dance["npz"]), "--target", str(photoreal_weights), "-o", str(out),
                 "--backend", "numpy"]) == 0
    y, sr = _audio(out)
    full, _ = load_audio(dance["song"], sr=sr)
    a = int(6.0 * sr)
    seg = y[: 2 * sr]
    lag = np.argmax(np.correlate(full[a - sr // 10:a + 2 * sr + sr // 10], seg, mode="valid")) - sr // 10
    assert abs(lag) / sr < 0.03  # second 6 of the song under the first frame, to a frame
    silent = tmp_path / "silent.mp4"
    assert main(["video", "render", str(dance["npz"]), "--target", str(photoreal_weights), "-o", str(silent),
                 "--no-audio", "--backend", "numpy"]) == 0
    assert _audio(silent)[0] is None


def test_a_blend_dance_renders_too(tmp_path, dance, photoreal_weights):
    blend = tmp_path / "d.blend"
    assert main(["generate", str(dance["song"]), "--start", "6", "--end", "8", "-o", str(blend)]) == 0
    out = tmp_path / "b.mp4"
    assert main(["video", "render", str(blend), "--target", str(photoreal_weights), "-o", str(out),
                 "--backend", "numpy"]) == 0
    with VideoReader(out) as r:
        assert len(list(r.frames_rgb())) == 60


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, dance, photoreal_weights, capsys):
    from choreo.core.generation import load_dance, save_dance

    bad = load_dance(dance["npz"])
    bad.motion.joints[5, 3] = np.nan
    save_dance(bad, tmp_path / "nan.npz")
    moved = load_dance(dance["npz"])
    moved.audio_path = str(tmp_path / "gone.ogg")
    save_dance(moved, tmp_path / "nosong.npz")
    from choreo.core.models.weights import shipped_path

    shipped = shipped_path("default")
    cases = {
        "nan": (["video", "render", str(tmp_path / "nan.npz"), "--target", str(photoreal_weights)], "NaN"),
        "no song": (["video", "render", str(tmp_path / "nosong.npz"), "--target", str(photoreal_weights)],
                    "--no-audio"),
        "other weights": (["video", "render", str(dance["npz"]), "--target", str(shipped)],
                          "not photoreal renderer weights"),
        "not a dance": (["video", "render", str(dance["song"]), "--target", str(photoreal_weights)], ".npz"),
        "corrupt clip": (["video", "prepare", str(tmp_path / "nan.npz"), "--out", str(tmp_path / "t")], ""),
    }
    for kind, (argv, message) in cases.items():
        out = tmp_path / "out.mp4"
        args = argv + (["-o", str(out), "--backend", "numpy"] if argv[:2] == ["video", "render"] else [])
        assert main(args) == 2, kind
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("choreo: error: ") and message in err, (kind, err)
        assert not out.exists() and not (tmp_path / "t").exists(), kind
    assert sorted(os.listdir(tmp_path)) == ["nan.npz", "nosong.npz"]


def test_training_refuses_what_is_not_a_target_and_choreo_train_refuses_a_renderers_config(tmp_path, capsys):
    pytest.importorskip("torch")
    (tmp_path / "notes.txt").write_text("mine")
    config = Path(__file__).resolve().parents[1] / "configs" / "photoreal_cpu.json"
    for argv, message in ((["video", "train", str(tmp_path), "--config", "tiny"], "not a video target"),
                          (["train", "--config", str(config)], "choreo video train")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]

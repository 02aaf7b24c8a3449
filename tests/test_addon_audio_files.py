"""Bad sound files in real Blender: a cut-off or non-audio strip is one operator
report line and the scene stays as it was (Blender's aud would play the cut file
silently short, and may abort on a non-audio one); a real file under another
format's extension is read like the CLI reads it."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

import choreo  # noqa: E402
from choreo.addon import strip_audio  # noqa: E402
from choreo.core.audio.io import load_audio  # noqa: E402
from choreo.core.errors import ChoreoInputError  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def addon():
    choreo.register()
    yield
    choreo.unregister()


def _scene(path):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    ed = sc.sequence_editor_create()
    s = ed.strips.new_sound("Music", str(path), channel=1, frame_start=1)
    ed.active_strip = s
    return sc, s


def _state():
    return (sorted(o.name for o in bpy.data.objects), sorted(a.name for a in bpy.data.actions),
            len(bpy.context.scene.timeline_markers), (bpy.context.scene.frame_start, bpy.context.scene.frame_end))


def _one_report(path, problem):
    sc, s = _scene(path)
    before = _state()
    with pytest.raises(RuntimeError) as info:
        bpy.ops.choreo.generate()
    line = str(info.value).strip()
    assert "\n" not in line and f"{path}: {problem}" in line, line
    assert _state() == before
    return sc, s


def test_cut_ogg_strip_is_one_report(music_dir, tmp_path):
    cut = tmp_path / "head.ogg"
    cut.write_bytes((music_dir / "mma01_popballad.ogg").read_bytes()[:20_000])
    sc, s = _one_report(cut, "truncated OGG file: it ends inside the page at byte")
    # packed into the .blend, it is refused the same way, naming the strip
    s.sound.pack()
    with pytest.raises(ChoreoInputError, match=r"Music \(packed head.ogg\): truncated OGG file"):
        strip_audio.read_strip_audio(s, sc)


@pytest.mark.parametrize("ext,name", [("mp3", "an MP3"), ("ogg", "an OGG"), ("wav", "a WAV"), ("flac", "a FLAC")])
def test_text_strip_is_one_report(tmp_path, ext, name):
    fake = tmp_path / f"notes.{ext}"
    fake.write_text("this is not audio\n" * 50)
    _one_report(fake, f"not {name} file (it starts with text: 'this is not audio')")


def test_ogg_named_mp3_reads_as_in_the_cli(music_dir, tmp_path):
    """aud, like soundfile, decodes by content: the strip gives the CLI's samples."""
    odd = tmp_path / "song.mp3"
    odd.write_bytes((music_dir / "mma01_popballad.ogg").read_bytes())
    sc, s = _scene(odd)
    sc.render.fps, sc.render.fps_base = 30, 1.0
    s.frame_final_end = 1 + 90  # 3 s
    got = strip_audio.read_strip_audio(s, sc, sr=22050)
    want, _ = load_audio(odd, sr=22050, offset=0.0, duration=got.duration)
    assert len(got.samples) == len(want) == 3 * 22050
    assert np.max(np.abs(got.samples - want)) < 1e-3

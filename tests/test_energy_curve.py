"""The Energy curve (issue 12, item 4): the energy control over time, in the core
(every generator family through the shared path), the dance files, the CLI
(``--energy-curve FILE``) and the add-on (``scene.choreo.energy`` keyed on the timeline).

The response is measured on the shipped default generator: a curve at 0.3 for the
first half of 20 s of the demo song and 3 for the second half against a constant
energy, as the mean joint speed (root-relative, m/s) of each half."""

from __future__ import annotations

import json

import numpy as np
import pytest

from choreo.cli import main
from choreo.core.audio.demo import synthesize_demo, write_demo_wav
from choreo.core.errors import ChoreoInputError
from choreo.core.generation import (EnergyCurve, generate_dance, generate_from_samples, generate_pose2d,
                                    load_dance, read_energy_curve, save_dance)
from choreo.core.generation import pipeline
from choreo.core.generation.dance2d import load_dance2d, save_dance2d
from choreo.core.generation.energy import ENERGY_RANGE, check_energy
from choreo.core.generation.song import Song

LOW, HIGH = 0.3, 3.0


def half_speeds(joints: np.ndarray, fps: float) -> tuple[float, float]:
    """Mean root-relative joint speed (m/s) of the first and the second half of ``joints``
    ((T, J, 2|3): SMPL-24 joints, pelvis first, or 2D keypoints relative to the first)."""
    rel = joints - joints[:, :1]
    speed = np.linalg.norm(np.diff(rel, axis=0), axis=-1).mean(1) * fps
    h = len(speed) // 2
    return float(speed[:h].mean()), float(speed[h:].mean())


def step_curve(duration: float, first: float = LOW, second: float = HIGH) -> EnergyCurve:
    """``first`` up to half a second before the middle of ``duration`` s, ``second`` from half a second after."""
    mid = duration / 2
    return EnergyCurve([0.0, mid - 0.5, mid + 0.5], [first, first, second])


@pytest.fixture(scope="module")
def demo():
    """20 s of the demo song (120 BPM) with its exact beats, at 16 kHz."""
    return synthesize_demo(bars=10, sr=16000)


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """The same 20 s as a wav file (for generate_dance, generate_pose2d and the CLI)."""
    path = tmp_path_factory.mktemp("energy") / "demo.wav"
    track = write_demo_wav(path, bars=10, tempo=120.0)
    return path, track


def _dance(demo, energy, seed=0, **kw):
    return generate_from_samples(demo.audio, demo.sr, beats=np.asarray(demo.beats),
                                 downbeats=np.asarray(demo.downbeats), seed=seed, energy=energy, **kw)


# -- core ---------------------------------------------------------------------------

def test_a_low_then_high_curve_makes_the_second_half_livelier(demo):
    """The shipped default: 0.3 then 3 makes the second half's joint speed several
    times the first's, far beyond what the music alone does with a constant energy
    (the demo's second half is louder); the curve reversed turns it round."""
    duration = len(demo.audio) / demo.sr
    for seed in (0, 1):
        const = _dance(demo, 1.0, seed)
        step = _dance(demo, step_curve(duration), seed)
        back = _dance(demo, step_curve(duration, HIGH, LOW), seed)
        c1, c2 = half_speeds(const.motion.joints, 30.0)
        s1, s2 = half_speeds(step.motion.joints, 30.0)
        b1, b2 = half_speeds(back.motion.joints, 30.0)
        print(f"seed {seed}: speed 1st/2nd half (m/s) constant {c1:.3f}/{c2:.3f} (x{c2 / c1:.2f}), "
              f"curve {LOW}->{HIGH} {s1:.3f}/{s2:.3f} (x{s2 / s1:.2f}), reversed {b1:.3f}/{b2:.3f} (x{b2 / b1:.2f})")
        assert s2 / s1 > 2 * (c2 / c1)
        assert s1 < c1 < c2 < s2
        assert b2 / b1 < c2 / c1 and b1 > c1 and b2 < c2
        # the dance records the curve and its mean over the dance's frames
        assert step.energy_curve == step_curve(duration) and const.energy_curve is None
        t = np.arange(step.motion.num_frames) / 30.0
        assert step.energy == pytest.approx(np.interp(t, [0, duration / 2 - 0.5, duration / 2 + 0.5],
                                                      [LOW, LOW, HIGH]).mean())


def test_a_constant_curve_is_the_number(demo):
    for e in (1.0, 2.5):
        a, b = _dance(demo, e), _dance(demo, EnergyCurve([3.0], [e]))
        assert np.allclose(a.motion.joints, b.motion.joints, atol=1e-5)
        assert b.energy == e


def test_a_part_uses_the_curve_at_its_file_times(demo):
    """A part's frames get the curve at their own file seconds: the same features as
    the whole song's there (the same condition), not the curve restarted at the part."""
    gen, _ = pipeline.load_generator(None)
    T = len(demo.audio) * 30 // demo.sr
    song = Song(samples=demo.audio, sr=demo.sr, fps=gen.fps, part=(0, T), tempo=120.0,
                downbeats=np.asarray(demo.downbeats))
    curve = EnergyCurve([0.0, 6.0, 14.0, 20.0], [0.5, 2.0, 0.4, 3.0])
    whole, _ = gen.generate(song, seed=2, energy=curve, frames=(0, T))
    a, b = 300, 450  # 10–15 s
    part, _ = gen.generate(song, seed=2, energy=curve, frames=(a, b))
    assert np.allclose(part, whole[a:b], atol=1e-4)
    restarted = EnergyCurve(curve.times_s - a / 30.0, curve.values)
    moved, _ = gen.generate(song, seed=2, energy=restarted, frames=(a, b))
    assert np.abs(moved - part).max() > 1e-2
    # Dance of a part: its energy is the curve's mean over the part's frames
    d = _dance(demo, curve, start=10.0, end=15.0)
    assert d.audio_start == 10.0 and d.energy == pytest.approx(curve.at(10.0 + np.arange(150) / 30).mean())


def test_the_2d_path_follows_the_curve_and_files_keep_it(song, tmp_path):
    """The 2D family (ren_2d) gets the curve through the same path; both dance files
    store it, read it back, and files without one read as before."""
    path, track = song
    curve = step_curve(track.duration)
    const = generate_pose2d(path, weights="ren_2d")
    d2 = generate_pose2d(path, weights="ren_2d", energy=curve)
    c1, c2 = half_speeds(const.keypoints, 30.0)
    s1, s2 = half_speeds(d2.keypoints, 30.0)
    print(f"2D: constant x{c2 / c1:.2f}, curve x{s2 / s1:.2f}")
    assert s2 / s1 > 2 * (c2 / c1)
    save_dance2d(d2, tmp_path / "d2.npz")
    back = load_dance2d(tmp_path / "d2.npz")
    assert back.energy_curve == curve and back.energy == pytest.approx(d2.energy)
    d3 = generate_dance(path, energy=curve, start=2.0, end=8.0)
    save_dance(d3, tmp_path / "d3.npz")
    assert load_dance(tmp_path / "d3.npz").energy_curve == curve
    # a file without the curve (as every older file): None; a damaged curve is named
    plain = generate_dance(path, start=2.0, end=8.0)
    save_dance(plain, tmp_path / "plain.npz")
    assert "energy_times" not in np.load(tmp_path / "plain.npz").files
    assert load_dance(tmp_path / "plain.npz").energy_curve is None
    with np.load(tmp_path / "d3.npz") as f:
        arrays = {k: f[k] for k in f.files}
    arrays["energy_values"] = arrays["energy_values"] * 10
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ChoreoInputError, match=r"bad\.npz: energy curve value 30 at 10\.5 s is out of range"):
        load_dance(tmp_path / "bad.npz")


@pytest.mark.parametrize("times, values, message", [
    ([], [], "energy curve: has no points"),
    ([0, 1], [1.0], r"energy curve: needs as many times as values"),
    ([0, 2, 2], [1, 1, 1], r"energy curve: times must be strictly increasing: 2 s \(point 3\) follows 2 s"),
    ([0, 5, 3], [1, 1, 1], r"times must be strictly increasing: 3 s \(point 3\) follows 5 s"),
    ([0, float("nan")], [1, 1], r"energy curve: time nan \(point 2\) is not a finite number of seconds"),
    ([0, 4], [1, 20], r"energy curve: value 20 at 4 s is out of range \(0\.1–10; 1 = the corpus's typical"),
    ([0, 4], [0.05, 1], r"energy curve: value 0\.05 at 0 s is out of range"),
    ([0, 4], [1, float("inf")], r"energy curve: value inf at 4 s is out of range"),
    ([0, 4], ["a", 1], r"energy curve: times and values must be numbers"),
])
def test_bad_curves_are_one_clear_error(times, values, message):
    with pytest.raises(ChoreoInputError, match=message):
        EnergyCurve(times, values)


def test_check_energy_takes_a_number_or_a_curve(tmp_path):
    curve = EnergyCurve([0, 10], list(ENERGY_RANGE))
    assert check_energy(curve) is curve and check_energy(2) == 2.0
    with pytest.raises(ChoreoInputError, match=r"energy: must be a number or an EnergyCurve, not \[\(0, 1\)\]"):
        check_energy([(0, 1)])
    # checked before the song or the weights are read
    for call in (lambda: generate_dance(tmp_path / "missing.wav", weights=tmp_path / "gone", energy="x"),
                 lambda: generate_from_samples(np.zeros(10, np.float32), 16000, weights=tmp_path / "gone",
                                               energy=[1, 2])):
        with pytest.raises(ChoreoInputError, match="energy: must be a number"):
            call()
    assert curve.times_s.flags.writeable is False  # a checked curve stays checked


def test_read_energy_curve_files(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("# my curve\nseconds,energy\n0, 0.5\n\n10;2  # chorus\n20\t1\n")
    assert read_energy_curve(csv) == EnergyCurve([0, 10, 20], [0.5, 2, 1])
    (tmp_path / "p.json").write_text("[[0, 0.5], [10, 2]]")
    (tmp_path / "o.json").write_text('{"times": [0, 10], "values": [0.5, 2]}')
    assert read_energy_curve(tmp_path / "p.json") == read_energy_curve(tmp_path / "o.json") \
        == EnergyCurve([0, 10], [0.5, 2])
    bad = {"a.csv": ("0,1\n1,x\n", r"a\.csv: energy curve: line 2 \('1,x'\) is not a seconds,multiplier pair"),
           "b.csv": ("0,1\n1,1,1\n", r"b\.csv: energy curve: line 2"),
           "c.csv": ("0,1\n5,12\n", r"c\.csv: energy curve value 12 at 5 s is out of range"),
           "d.csv": ("5,1\n0,1\n", r"d\.csv: energy curve times must be strictly increasing"),
           "e.csv": ("# nothing\n", r"e\.csv: energy curve has no points"),
           "f.json": ('{"beats": [1]}', r"f\.json: energy curve must be a JSON list of \[seconds, multiplier\]"),
           "g.json": ("[[0, true]]", r"g\.json: energy curve: times and values must be numbers"),
           "h.json": ("[[0, 1]", r"h\.json: not valid JSON")}
    for name, (text, message) in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ChoreoInputError, match=message):
            read_energy_curve(tmp_path / name)
    with pytest.raises(ChoreoInputError, match=r"missing\.csv: cannot read"):
        read_energy_curve(tmp_path / "missing.csv")


# -- CLI ----------------------------------------------------------------------------

def test_cli_energy_curve(song, tmp_path, capsys):
    path, track = song
    curve = tmp_path / "curve.csv"
    curve.write_text("seconds,multiplier\n0,0.3\n9.5,0.3\n10.5,3\n")
    out = tmp_path / "d.npz"
    assert main(["generate", str(path), "-o", str(out), "--energy-curve", str(curve), "--start", "4",
                 "--end", "16"]) == 0
    text = capsys.readouterr().out
    assert "energy curve 0.3–3 (mean " in text
    d = load_dance(out)
    assert d.energy_curve == read_energy_curve(curve) and d.audio_start == 4.0
    s1, s2 = half_speeds(d.motion.joints, 30.0)
    assert s2 > 2 * s1
    assert d.energy == pytest.approx(d.energy_curve.at(4.0 + np.arange(d.motion.num_frames) / 30).mean())


@pytest.mark.parametrize("tail, message", [
    (["--energy-curve", "bad.csv"], "bad.csv: energy curve value 12 at 1 s is out of range"),
    (["--energy-curve", "nope.csv"], "nope.csv: cannot read"),
    (["--energy-curve", "ok.csv", "--energy", "2"], "ok.csv: give --energy or --energy-curve, not both"),
])
def test_cli_energy_curve_errors_are_one_line(song, tmp_path, capsys, monkeypatch, tail, message):
    path, _ = song
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("0,1\n1,12\n")
    (tmp_path / "ok.csv").write_text("0,1\n1,2\n")
    # refused before the weights (missing here) or the song are read
    assert main(["generate", str(path), "-o", "x.npz", "--weights", "missing.safetensors"] + tail) == 2
    err = capsys.readouterr().err
    assert err.startswith("choreo: error:") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.npz").exists()


# -- add-on (real Blender) ------------------------------------------------------------

@pytest.fixture(scope="module")
def addon():
    bpy = pytest.importorskip("bpy")
    import choreo

    choreo.register()
    yield bpy
    choreo.unregister()


def _scene(bpy, song, frame_start=1):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = 30, 1.0
    ed = sc.sequence_editor_create()
    ed.active_strip = ed.strips.new_sound("Music", str(song), channel=1, frame_start=frame_start)
    sc.choreo.model = "DEFAULT"
    return sc, ed.active_strip


@pytest.mark.blender
def test_keyed_energy_drives_generate(addon, song):
    """Energy keyed at 0.3 (frame 290) and 3 (frame 310) on a 20-s strip from frame 1:
    Generate's dance is several times livelier in the second half than in the first,
    far more than with the energy unkeyed; unkeyed, the plan and the dance are exactly
    what generating with the one number gives."""
    bpy = addon
    from choreo.addon import operators
    from choreo.rigs.floor import posed_heads

    path, _ = song
    sc, _ = _scene(bpy, path)
    plan = operators.make_plan(bpy.context)
    assert plan.energy_curve is None and plan.energy == 1.0
    before = operators.generate(plan)
    a = plan.audio
    direct = generate_from_samples(a.samples, a.sr, audio_path=a.path or None, audio_start=a.offset, seed=0, energy=1.0,
                                   stage=plan.stage)
    assert np.array_equal(before.motion.joints, direct.motion.joints) and before.energy_curve is None
    c1, c2 = half_speeds(before.motion.joints, 30.0)

    sc.choreo.energy = LOW
    sc.choreo.keyframe_insert("energy", frame=290)
    sc.choreo.energy = HIGH
    sc.choreo.keyframe_insert("energy", frame=310)
    plan = operators.make_plan(bpy.context)
    curve = plan.energy_curve
    assert curve is not None and curve.at(1.0) == pytest.approx(LOW) and curve.at(15.0) == pytest.approx(HIGH)
    dance = operators.generate(plan)
    s1, s2 = half_speeds(dance.motion.joints, 30.0)
    print(f"add-on: speed 1st/2nd half unkeyed {c1:.3f}/{c2:.3f} (x{c2 / c1:.2f}), keyed {LOW}->{HIGH} "
          f"{s1:.3f}/{s2:.3f} (x{s2 / s1:.2f})")
    assert s2 / s1 > 2 * (c2 / c1)
    assert dance.energy_curve == curve

    # the operator end to end: the keyed armature follows
    sc.choreo.key_mode = "DENSE"
    assert bpy.ops.choreo.generate() == {"FINISHED"}
    heads = posed_heads(sc, sc.choreo.target, np.arange(1, 600))
    k1, k2 = half_speeds(heads, 30.0)
    assert k2 > 3 * k1, (k1, k2)


@pytest.mark.blender
def test_the_curve_is_read_where_the_strip_plays(addon, song):
    """A strip placed at frame 41, its left 60 frames trimmed and its sound delayed
    0.5 s: the curve's time for scene frame f is the file second f plays; one key
    (a constant curve) is that number, exactly as unkeyed."""
    bpy = addon
    from choreo.addon import operators
    from choreo.addon.energy import energy_fcurve

    path, _ = song
    sc, s = _scene(bpy, path, frame_start=41)
    s.frame_final_start = 41 + 60
    s.sound_offset = 0.5
    for frame, value in ((120, 0.5), (200, 4.0), (330, 1.0)):
        sc.choreo.energy = value
        sc.choreo.keyframe_insert("energy", frame=frame)
    plan = operators.make_plan(bpy.context)
    fc, a = energy_fcurve(sc), plan.audio
    for f in (101, 150, 200, 251.5, 400):
        file_s = (f - 41) / 30.0 - 0.5  # the file second scene frame f plays
        assert plan.energy_curve.at(file_s) == pytest.approx(fc.evaluate(f), abs=1e-4)
    assert plan.energy_curve.times_s[0] == pytest.approx(a.offset)
    fc.mute = True  # a muted curve is not applied by Blender: the one number
    assert operators.make_plan(bpy.context).energy_curve is None
    fc.mute = False
    sc.animation_data.action = None
    sc.choreo.energy = 2.0
    sc.choreo.keyframe_insert("energy", frame=100)
    plan = operators.make_plan(bpy.context)
    assert plan.energy_curve is None and plan.energy == 2.0

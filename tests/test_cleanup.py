"""The shared clean-up (feet, legs, turning, travel) and the measures behind it
(``core/metrics/physical.py``, ``core/metrics/music_dependence.py``), on made-up
motions with known answers and on real generated dances."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.cli import main
from choreo.core import skeleton as sk
from choreo.core.cleanup import StagePlan, clean_dance
from choreo.core.cleanup.feet import ground, plant_feet, separate_legs, swivel_knees
from choreo.core.cleanup.stage import stage_dance
from choreo.core.errors import ChoreoInputError
from choreo.core.metrics.music_dependence import dependence_scores, energy_loudness_r, pearson
from choreo.core.metrics.physical import feet_scores, limb_scores, physical_scores, segment_distance, travel_scores
from choreo.core.motion import Motion

J = sk.JOINT_INDEX
FPS = 30.0


def _rest(T: int) -> np.ndarray:
    """(T, 24, 3) an upright standing pose (the SMPL-ish template used by the rigs), feet on z = 0."""
    p = np.zeros((24, 3))
    pos = {"pelvis": (0, 0, 0.95), "l_hip": (0.09, 0, 0.88), "r_hip": (-0.09, 0, 0.88), "spine1": (0, 0, 1.05),
           "l_knee": (0.1, 0, 0.5), "r_knee": (-0.1, 0, 0.5), "spine2": (0, 0, 1.18), "l_ankle": (0.1, 0, 0.08),
           "r_ankle": (-0.1, 0, 0.08), "spine3": (0, 0, 1.3), "l_foot": (0.1, -0.12, 0.0),
           "r_foot": (-0.1, -0.12, 0.0), "neck": (0, 0, 1.5), "l_collar": (0.08, 0, 1.45),
           "r_collar": (-0.08, 0, 1.45), "head": (0, 0, 1.65), "l_shoulder": (0.18, 0, 1.42),
           "r_shoulder": (-0.18, 0, 1.42), "l_elbow": (0.45, 0, 1.42), "r_elbow": (-0.45, 0, 1.42),
           "l_wrist": (0.7, 0, 1.42), "r_wrist": (-0.7, 0, 1.42), "l_hand": (0.78, 0, 1.42),
           "r_hand": (-0.78, 0, 1.42)}
    for k, v in pos.items():
        p[J[k]] = v
    return np.repeat(p[None], T, 0)


def test_segment_distance_known_cases():
    o = np.zeros(3)
    assert segment_distance(o, np.array([1.0, 0, 0]), np.array([0.5, 1, -1]), np.array([0.5, 1, 1])) \
        == pytest.approx(1.0)
    assert segment_distance(o, np.array([1.0, 0, 0]), np.array([2.0, 0, 0]), np.array([3.0, 0, 0])) \
        == pytest.approx(1.0)  # collinear, apart
    assert segment_distance(o, np.array([0, 0, 1.0]), np.array([-1, 0, 0.5]), np.array([1, 0, 0.5])) \
        == pytest.approx(0.0)  # crossing


def test_floating_dancer_is_measured_and_brought_down():
    j = _rest(60)
    legs = [J[n] for n in ("l_knee", "r_knee", "l_ankle", "r_ankle", "l_foot", "r_foot")]
    j[5:, legs, 2] += 0.10                   # feet 10 cm up, the pelvis where it stands: floating
    m = Motion(j, FPS)
    assert feet_scores(m)["float_frac"] > 0.9 and feet_scores(m)["both_up_frac"] > 0.9
    g = ground(m)
    s = feet_scores(g)
    assert s["float_frac"] == 0 and s["touch_frac"] >= 0.95 and s["below_floor_frac"] == 0


def test_a_jump_keeps_its_flight():
    j = _rest(90)
    lift = 0.25 * np.sin(np.linspace(0, np.pi, 20))  # the whole body, pelvis included, rises: a jump
    j[40:60, :, 2] += lift[:, None]
    g = ground(Motion(j, FPS))
    high = 40 + np.flatnonzero(lift > 0.15)
    assert np.abs(g.joints[high, 0, 2] - j[high, 0, 2]).max() < 0.02
    assert feet_scores(g)["float_frac"] == 0


def test_legs_passing_through_are_separated_with_constant_bones():
    j = _rest(60)
    # the right shin swings across the left one and back
    x = 0.12 * np.sin(np.linspace(0, 2 * np.pi, 60))
    for n in ("r_knee", "r_ankle", "r_foot"):
        j[:, J[n], 0] += np.clip(x, 0, None) * (1.6 if n != "r_knee" else 1.0)
    m = Motion(j, FPS).with_bone_lengths()
    assert limb_scores(m)["legs_through_frac"] > 0.1
    s = separate_legs(m)
    assert limb_scores(s)["legs_through_frac"] == 0
    legs = [J[n] - 1 for n in ("l_knee", "r_knee", "l_ankle", "r_ankle")]
    bl = s.bone_lengths()[:, legs]
    assert np.abs(bl - m.bone_lengths()[:, legs]).max() < 1e-4


def test_knees_swivel_apart_and_the_feet_stay():
    """Feet planted close together, knees knocked in towards each other: the knees turn
    outwards about the hip → ankle lines; ankles do not move, bones keep their length."""
    j = _rest(30)
    j[:, J["l_ankle"], 0], j[:, J["r_ankle"], 0] = 0.05, -0.05   # feet 10 cm apart
    j[:, J["l_foot"], 0], j[:, J["r_foot"], 0] = 0.05, -0.05
    j[:, J["l_knee"]] = [0.012, -0.1, 0.5]                       # knees knocked in, 2.4 cm apart
    j[:, J["r_knee"]] = [-0.012, -0.1, 0.5]
    m = Motion(j, FPS)
    assert limb_scores(m)["legs_through_frac"] == 1.0
    out = swivel_knees(m)
    assert limb_scores(out)["legs_through_frac"] == 0.0
    ankles = [J[n] for n in ("l_ankle", "r_ankle", "l_foot", "r_foot")]
    assert np.array_equal(out.joints[:, ankles], m.joints[:, ankles])
    assert np.abs(out.bone_lengths() - m.bone_lengths()).max() < 1e-4
    assert out.joints[0, J["l_knee"], 0] > m.joints[0, J["l_knee"], 0]  # the left knee went left


def test_sliding_feet_are_planted():
    j = _rest(60)
    j[:, [J["l_knee"], J["r_knee"]], 1] -= 0.06   # knees a little bent: room to hold the feet
    j[:, :, 0] += np.linspace(0, 0.15, 60)[:, None]  # the whole dancer drifts 15 cm in 2 s: feet skate
    m = Motion(j, FPS)
    assert feet_scores(m)["slide_cm_s"] > 6
    p, contacts = plant_feet(m)
    assert (contacts["l"] == 1).all() and (contacts["r"] == 1).all()
    assert feet_scores(p)["slide_cm_s"] < 0.5
    # the knees bend to keep the feet while the hips move on; bones keep their length
    assert np.abs(p.bone_lengths() - m.bone_lengths()).max() < 1e-4


def test_a_straight_leg_keeps_its_knee_side_when_planted():
    """A nearly straight leg whose knee sits a millimetre either side of the hip → ankle
    line (noise) must not flip its knee when the ankle is moved by IK: the knee leans
    towards the toes (knee_pole), before it swung to whichever side the noise was."""
    from choreo.core.cleanup.feet import _resolve_knee

    rng = np.random.default_rng(0)
    j = _rest(40)
    j[:, J["l_knee"], 1] = rng.choice([-0.001, 0.001], 40)          # straight, noisy side
    goal = j[:, J["l_ankle"]] + [0.0, -0.02, 0.06]                   # the ankle raised: the knee must bend
    _resolve_knee(j, "l", goal, 0.42, 0.42)
    forward = j[:, J["l_knee"], 1] - 0.5 * (j[:, J["l_hip"], 1] + j[:, J["l_ankle"], 1])
    assert np.all(forward < 0)                                        # all towards the toes (-y)
    assert np.abs(np.diff(j[:, J["l_knee"]], axis=0)).max() < 0.002   # no flip (it would be 40 cm)


def test_feet_carried_from_one_hold_to_the_next_without_a_jump():
    """Two contacts two frames apart whose holds are 25 cm apart: the foot goes over the
    gap between them, not in one frame (ankles at 10 m/s, knees flipping with them)."""
    from choreo.core.cleanup.contacts import plant

    x = np.zeros((40, 3))
    x[:, 0] = np.linspace(0, 0.6, 40)                                 # a foot sliding 60 cm
    contact = np.zeros(40, bool)
    contact[5:19], contact[21:35] = True, True
    out, w = plant(x, contact)
    assert np.allclose(out[6:18, 0], out[6, 0]) and np.allclose(out[22:34, 0], out[22, 0])   # held
    step = np.abs(np.diff(out[:, 0]))
    assert out[22, 0] - out[6, 0] > 0.2 and step.max() < 0.14        # 25 cm over the 3-frame gap


def _spinning_traveller(seconds=60.0):
    T = int(seconds * FPS)
    j = _rest(T)
    t = np.arange(T) / FPS
    a = 2 * np.pi * 10 / 60 * t                  # 10 turns a minute, always the same way
    c, s = np.cos(a), np.sin(a)
    x, y = j[..., 0].copy(), j[..., 1].copy()
    j[..., 0] = c[:, None] * x - s[:, None] * y
    j[..., 1] = s[:, None] * x + c[:, None] * y
    j[..., 0] += (20 / 60 * t)[:, None]          # and 20 m a minute in a straight line
    return Motion(j, FPS)


def test_turning_and_travel_follow_the_choices_and_stay_on_stage():
    m = _spinning_traveller()
    raw = travel_scores(m)
    assert raw["net_turns_per_min"] == pytest.approx(10, rel=0.02) and raw["wander_m"] > 19
    d = travel_scores(stage_dance(m))                    # defaults: half, capped at 4 turns/min, 4 m stage
    assert d["net_turns_per_min"] <= 5.0 and d["wander_m"] <= 2.0
    still = travel_scores(stage_dance(m, StagePlan(turn=0.0, travel=0.0)))
    assert still["net_turns_per_min"] < 0.5 and still["wander_m"] < 0.5
    # one dancer's body is rotated and moved, never deformed
    out = stage_dance(m, StagePlan(0.3, 0.7, 10.0))
    assert np.allclose(out.bone_lengths(), m.bone_lengths(), atol=1e-5)
    assert np.allclose(out.joints[..., 2], m.joints[..., 2])


def test_all_choices_on_keeps_a_calm_dance_unchanged():
    j = _rest(300)
    j[:, :, 0] += 0.2 * np.sin(np.linspace(0, 4 * np.pi, 300))[:, None]  # sways, no sustained turn
    m = Motion(j, FPS)
    out = stage_dance(m, StagePlan(1.0, 1.0, 10.0))
    assert np.abs(out.joints - m.joints).max() < 1e-4


@pytest.mark.parametrize("bad", [dict(turn=-0.1), dict(travel=1.5), dict(stage_m=0.5), dict(turn=float("nan"))])
def test_stage_plan_is_checked(bad):
    with pytest.raises(ChoreoInputError):
        StagePlan(**bad).checked()


def test_cli_refuses_a_turn_out_of_range(gridded_song, tmp_path, capsys):
    song, _ = gridded_song
    assert main(["generate", str(song), "-o", str(tmp_path / "x.npz"), "--turn", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "turn: 3" in err[0] and "out of range" in err[0]
    assert not (tmp_path / "x.npz").exists()


def test_dependence_measures_known_cases():
    rng = np.random.default_rng(0)
    base = _rest(300)

    def dancer(seed_wave, song_wave):
        j = base.copy()
        j[:, J["l_wrist"], 2] += seed_wave + song_wave
        j[:, J["r_wrist"], 2] += seed_wave + song_wave
        return Motion(j, FPS)

    t = np.arange(300) / FPS
    seeds = {k: 0.3 * np.sin(2 * np.pi * t * (0.3 + 0.2 * k)) for k in range(2)}
    songs = {s: 0.3 * np.cumsum(rng.standard_normal(300)) / 10 for s in "ab"}
    seed_rules = dependence_scores({s: {k: dancer(seeds[k], 0 * songs[s]) for k in seeds} for s in songs})
    assert seed_rules["same_seed_speed_r"] > 0.99
    song_rules = dependence_scores({s: {k: dancer(0 * seeds[k], songs[s]) for k in seeds} for s in songs})
    assert song_rules["same_song_speed_r"] > 0.99 and song_rules["same_seed_speed_r"] < 0.6
    assert pearson([1, 2, 3], [2, 4, 6.5]) > 0.99


def test_energy_follows_loudness_measure():
    sr = 8000
    T = 600
    level = np.where((np.arange(T) // 60) % 2 == 0, 0.05, 0.5)  # loud and quiet 2-s stretches
    y = np.repeat(level, sr // 30) * np.sin(np.arange(T * (sr // 30)) * 0.3)
    j = _rest(T)
    j[:, J["l_wrist"], 0] += np.cumsum(np.where(level > 0.1, 0.02, 0.002) * np.sign(np.sin(np.arange(T))))
    assert energy_loudness_r(Motion(j, FPS), y, sr) > 0.9


@pytest.fixture(scope="module")
def generated(music_dir):
    """The shipped default on two shared songs × two seeds, 30 s each (what a user gets)."""
    from choreo.core.generation.pipeline import generate_dance

    return {s: {k: generate_dance(music_dir / f"{s}.ogg", seed=k, end=30.0) for k in (0, 1)}
            for s in ("mma03_softrock", "mma21_polka")}


def test_generated_dances_stand_on_the_floor(generated):
    for song in generated.values():
        for d in song.values():
            s = physical_scores(d.motion)
            # before the clean-up (measured): float 0.22, slide 67 cm/s, 9 net turns/min, 4.4 m from the start
            assert s["float_frac"] <= 0.05 and s["below_floor_frac"] <= 0.01
            assert s["touch_frac"] >= 0.5 and s["slide_cm_s"] < 35
            assert s["net_turns_per_min"] <= 5 and s["wander_m"] <= 2.0 and s["legs_through_frac"] <= 0.01
            bl = d.motion.bone_lengths()
            assert np.abs(bl - np.median(bl, 0)).max() < 0.01


def test_the_song_not_only_the_seed_decides(generated, music_dir):
    """Before (seed-driven noise in seconds, constant energy): same-seed speed r ≈ 0.9 on
    different songs, energy–loudness r ≈ 0."""
    from choreo.core.audio.io import load_audio

    dep = dependence_scores({s: {k: d.motion for k, d in v.items()} for s, v in generated.items()})
    assert dep["same_seed_speed_r"] < 0.7 and dep["same_seed_heading_r"] < 0.9
    r = []
    for s, v in generated.items():
        y, sr = load_audio(music_dir / f"{s}.ogg", sr=16000, duration=30.0)
        r += [energy_loudness_r(d.motion, y, sr) for d in v.values()]
    assert np.mean(r) > 0.2


def test_clean_dance_is_deterministic(generated):
    d = generated["mma03_softrock"][0]
    assert np.array_equal(clean_dance(d.motion).joints, clean_dance(d.motion).joints)

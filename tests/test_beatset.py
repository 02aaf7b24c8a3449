"""The beat set's generator (benchmarks/beatset): deterministic song plans, a
stable stratified split, and labels that are exact by construction.

The checks that run MMA skip when the Debian packages are absent (CI machines
do not have them); the rest is pure Python."""

from __future__ import annotations

import hashlib
import random
import shutil
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from beatset.catalog import CATALOG, SHARED_FILES, SHARED_GROOVES, Groove  # noqa: E402
from beatset.labels import derive, grid_ticks  # noqa: E402
from beatset.midi import Midi, read_midi  # noqa: E402
from beatset.song import Plan, plan_song, to_mma, track_list  # noqa: E402
from beatset.split import assign, full_split  # noqa: E402

N = len(track_list())
NEEDS_MMA = pytest.mark.skipif(shutil.which("mma") is None,
                               reason="mma not installed (apt-get install -y mma): the MMA round trip is skipped")


def test_plan_is_deterministic_and_seeded():
    for i in (0, 7, 77, N - 1):
        assert plan_song(i).mma_text() == plan_song(i).mma_text()
    texts = {plan_song(i, 1).mma_text() for i in (3, 4)}
    assert plan_song(3, 1).mma_text() != plan_song(3, 2).mma_text()
    assert len(texts) == 2


def test_set_covers_the_brief():
    plans = [plan_song(i) for i in range(N)]
    assert N >= 150
    names = [p.name for p in plans]
    assert len(set(names)) == N
    f = Counter()
    for p in plans:
        for k, v in p.features.items():
            f[f"{k}={v}" if isinstance(v, str) else k] += bool(v)
        assert 60 - 1e-9 <= p.bpm <= 190 + 1e-9
        assert f"{p.groove.lib}/{p.groove.file}" not in SHARED_FILES
        assert p.groove.qualified not in SHARED_GROOVES
    for k in ("meter=3/4", "meter=6/8", "meter=12/8", "latin", "swing", "pickup", "tempo_change",
              "nodrum_intro", "humanised", "feel=half", "feel=double"):
        assert f[k] >= 5, (k, f[k])
    assert len({p.groove.genre for p in plans}) >= 20


def test_generator_is_pinned():
    """The set (and so the test split) changes only when someone changes the
    generator on purpose: then update these hashes and say so in docs/beatset.md."""
    text = "".join(plan_song(i).mma_text() for i in range(N))
    split = "".join(f"{n}:{s}\n" for n, s in sorted(full_split().items()))
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == PINNED_MMA
    assert hashlib.sha256(split.encode()).hexdigest()[:16] == PINNED_SPLIT


PINNED_MMA = "9ffcf86ea8f6ea53"
PINNED_SPLIT = "23ad1334a071718e"


def test_split_is_stable_and_stratified():
    plans = [plan_song(i) for i in range(N)]
    feats = {p.name: p.features for p in plans}
    s1 = assign(feats)
    items = list(feats.items())
    random.Random(0).shuffle(items)
    assert assign(dict(items)) == s1                     # input order does not matter
    assert s1 == full_split()
    n_test = sum(v == "test" for v in s1.values())
    assert abs(n_test / N - 1 / 3) < 0.02
    groups: dict[str, list[str]] = {}
    for n, f in feats.items():
        for k, v in f.items():
            if v is True or isinstance(v, str):
                groups.setdefault(f"{k}={v}" if isinstance(v, str) else k, []).append(n)
    for k, members in groups.items():
        if len(members) >= 6:
            frac = sum(s1[n] == "test" for n in members) / len(members)
            assert 0.2 <= frac <= 0.47, (k, frac, len(members))


# ------------------------------------------------------------------ labels

def _smf(tempos, ppq=192, notes=()) -> bytes:
    """A one-track SMF: tempo events [(tick, µs per quarter)] and drum notes [tick]."""
    ev = [(t, b"\xff\x51\x03" + us.to_bytes(3, "big")) for t, us in tempos]
    ev += [(t, bytes([0x99, 36, 100])) for t in notes] + [(t + 10, bytes([0x89, 36, 0])) for t in notes]
    ev.sort(key=lambda e: e[0])
    body, last = b"", 0

    def vl(v):
        out = [v & 0x7F]
        v >>= 7
        while v:
            out.insert(0, (v & 0x7F) | 0x80)
            v >>= 7
        return bytes(out)
    for t, e in ev:
        body += vl(t - last) + e
        last = t
    body += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, ppq) + b"MTrk" + struct.pack(">I", len(body)) + body


def test_midi_tempo_map(tmp_path):
    p = tmp_path / "t.mid"
    p.write_bytes(_smf([(0, 500000), (768, 400000)], notes=[0, 192, 768, 960]))
    m = read_midi(p)
    assert m.ppq == 192 and [n[0] for n in m.notes] == [0, 192, 768, 960]
    assert m.seconds([0, 192, 768, 960]) == pytest.approx([0.0, 0.5, 2.0, 2.4], abs=1e-12)
    assert m.bpm_at(800) == pytest.approx(150.0)


def _tiny_plan(pickup: int, change_bar: int | None) -> Plan:
    g = next(x for x in CATALOG if x.file == "8beat" and x.lib == "stdlib")
    bars = [("8Beat", ["z!", "z!", "z!", "G7"] if pickup else ["C", "/", "/", "/"], True, "pickup")]
    bars += [("8Beat", [c, "/", "/", "/"], True, "A") for c in ("C", "F", "G", "C")]
    tc = None if change_bar is None else {"kind": "step", "bar": change_bar, "mma_tempo": 150, "beats": 0}
    return Plan(0, "tiny", g, 11, 120.0, 120, "normal", 1.0, 4, pickup, 0, 0, False, tc, bars)


def test_grid_with_pickup_and_tempo_change_pure():
    """Labels from a hand-made tempo map: 120 BPM, 150 BPM from bar 3 (tick 1536)."""
    p = _tiny_plan(pickup=1, change_bar=2)
    m = Midi(ppq=192, tempos=[(0, 500000), (1536, 400000)], timesigs=[(0, 4, 4)],
             notes=[(k * 192, 9, 36, 100) for k in range(3, 20)], end_tick=3840)
    lab = derive(p, m)
    # audio starts at the pickup (beat 4 of bar 1, 1.5 s): beats every 0.5 s,
    # then every 0.4 s from bar 3; first downbeat 0.5 s after the start
    want = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5] + [2.5 + 0.4 * k for k in range(1, 12)]
    assert lab["beats"].tolist() == pytest.approx(want, abs=1e-6)
    assert lab["downbeats"].tolist() == pytest.approx([0.5, 2.5, 4.1, 5.7], abs=1e-6)
    assert lab["downbeats"].tolist() == lab["beats"][1::4].tolist()
    assert lab["tempo_changes"] == [(2.5, 150.0)]
    assert lab["checks"]["on_beat_fraction"] == 1.0 and lab["checks"]["beat_coverage"] == 1.0
    assert lab["checks"]["offbeat_coverage"] == 0.0


def test_six_eight_and_feels_grid():
    g68 = next(x for x in CATALOG if x.file == "68swing")
    p = Plan(0, "t68", g68, 1, 80.0, 240, "normal", 3.0, 2, 0, 0, 0, False, None,
             [("68Swing", ["C"] + ["/"] * 5, True, "A")] * 3)
    gt = grid_ticks(p, 192)
    assert gt["pulse"] == 576 and gt["beats"].tolist() == [0, 576, 1152, 1728, 2304, 2880]
    assert gt["downbeats"].tolist() == [0, 1152, 2304]       # 2 dotted quarters per 6/8 bar
    half = plan_song(next(i for i in range(N) if plan_song(i).feel == "half"))
    assert half.mult == 0.5 and half.bpm == 2 * half.mma_tempo
    double = plan_song(next(i for i in range(N) if plan_song(i).feel == "double"))
    assert double.mult == 2.0 and double.bpm == double.mma_tempo / 2


@NEEDS_MMA
def test_mma_round_trip_is_exact(tmp_path):
    """A 4-bar song (plus a pickup bar) with a tempo change, through mma: the
    labels follow the MIDI tempo map, the drum hits sit on them, and running
    mma again gives the same MIDI bytes."""
    p = _tiny_plan(pickup=1, change_bar=3)
    text = to_mma(p)
    assert "z! z! z! G7" in text and "Tempo 150" in text
    (tmp_path / "s.mma").write_text(text)
    for out in ("a.mid", "b.mid"):
        r = subprocess.run(["mma", "-f", out, "s.mma"], cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "a.mid").read_bytes() == (tmp_path / "b.mid").read_bytes()
    m = read_midi(tmp_path / "a.mid")
    assert sorted({us for _, us in m.tempos}) == [400000, 500000]
    assert (2304, 400000) in m.tempos                    # bar 4 of the file = 3 * 768 ticks
    lab = derive(p, m)
    want = [0.5 * k for k in range(10)] + [4.5 + 0.4 * k for k in range(1, 8)]
    assert lab["beats"].tolist() == pytest.approx(want, abs=1e-6)
    assert lab["downbeats"].tolist() == pytest.approx([0.5, 2.5, 4.5, 6.1], abs=1e-6)
    assert lab["tempo_changes"] == [(4.5, 150.0)]
    c = lab["checks"]
    assert c["timesig_ok"] and c["bars_ok"] and c["beat_coverage"] > 0.9
    drums = np.array([n[0] for n in m.notes if n[1] == 9])
    assert drums.size and drums.min() >= 576 - 12         # nothing sounds before the pickup
    # 8Beat plays quarters and eighths, moved by the library's own RTime only
    off = np.abs(drums - np.round(drums / 96) * 96)
    assert np.mean(off <= 12) >= 0.95


def test_catalog_grooves_exist_in_mma_library():
    lib = Path("/usr/share/mma/lib")
    if not lib.is_dir():
        pytest.skip("MMA groove library not installed (apt-get install -y mma)")
    import re
    for g in CATALOG:
        text = (lib / g.lib / f"{g.file}.mma").read_text(encoding="latin-1")
        for name in (g.main, g.var, g.intro, g.end):
            if name:
                assert re.search(r"(?im)^\s*defgroove\s+" + re.escape(name) + r"(?:\s|$)", text), (g.file, name)


# ------------------------------------------------------------------ the train set (song.TRAIN)

def test_train_set_is_disjoint_deterministic_and_named_bt():
    """The train set (for the beat activation network) uses no groove file of
    the beat set or of the shared set, so dev stays a validation set and test
    stays untouched; its plans are fixed by the seed and named bt..."""
    from beatset.song import TRAIN
    from beatset.train_catalog import DRUM_ONLY_LIBS, TRAIN_CATALOG, check_disjoint
    check_disjoint()
    train_files = {f"{g.lib}/{g.file}" for g in TRAIN_CATALOG}
    assert not train_files & {f"{g.lib}/{g.file}" for g in CATALOG}
    assert not train_files & SHARED_FILES
    assert len(TRAIN_CATALOG) >= 150
    n = len(track_list(TRAIN))
    assert n == 2 * len(TRAIN_CATALOG) >= 300
    plans = [plan_song(i, spec=TRAIN) for i in range(n)]
    assert all(p.name.startswith("bt") for p in plans) and len({p.name for p in plans}) == n
    for i in (0, 1, n // 2, n - 1):
        assert plan_song(i, spec=TRAIN).mma_text() == plans[i].mma_text()
    assert plan_song(5, 1, TRAIN).mma_text() != plan_song(5, 2, TRAIN).mma_text()
    for p in plans:
        assert 60 - 1e-9 <= p.bpm <= 190 + 1e-9
        text = p.mma_text()
        # MMA resolves "lib:Name" by name over all libraries: the train set names the file
        assert all(ln.startswith(f"Groove {p.groove.lib}/{p.groove.file}:")
                   for ln in text.splitlines() if ln.startswith("Groove "))
        assert not (p.nodrum_bars and p.groove.lib in DRUM_ONLY_LIBS)    # no silent intros
    assert plan_song(0).name.startswith("bs")                            # the beat set is untouched


def test_train_grooves_exist_in_mma_library():
    if not Path("/usr/share/mma/lib").is_dir():
        pytest.skip("MMA groove library not installed (apt-get install -y mma)")
    from beatset.train_catalog import library_problems
    assert library_problems() == []


# ------------------------------------------------------------------ the gen set (song.GEN, gen_grooves)

def test_gen_set_is_procedural_deterministic_and_named_bg():
    """The gen set writes its own grooves (no MMA library file), so it is disjoint
    from the beat set by construction; its plans are fixed by the seed, named
    bg..., and cover the triple and compound meters the train set lacks."""
    import re
    from beatset.gen_grooves import GEN_CATALOG, groove_text
    from beatset.song import GEN
    n = len(track_list(GEN))
    assert n == len(GEN_CATALOG) >= 200
    plans = [plan_song(i, spec=GEN) for i in range(n)]
    assert all(p.name.startswith("bg") for p in plans) and len({p.name for p in plans}) == n
    for i in (0, 1, n // 2, n - 1):
        assert plan_song(i, spec=GEN).mma_text() == plans[i].mma_text()
    assert plan_song(5, 1, GEN).mma_text() != plan_song(5, 2, GEN).mma_text()
    meters = Counter(p.features["meter"] for p in plans)
    assert meters["3/4"] >= 60 and meters["6/8"] >= 60 and meters["12/8"] >= 30, meters
    assert meters["2/4"] and meters["4/4"]
    grid = {"2/4": (2, 1, 2), "3/4": (3, 1, 3), "4/4": (4, 1, 4), "6/8": (6, 3, 2), "12/8": (12, 3, 4)}
    for p in plans:
        g = p.groove
        assert g.lib == "gen" and 60 - 1e-9 <= p.bpm <= 190 + 1e-9
        assert (g.time, g.mult, g.ppb) == grid[p.features["meter"]]
        text = p.mma_text()
        for name in (g.main, g.var, g.intro, g.end):           # every groove played is defined here
            assert re.search(rf"(?m)^DefGroove {name} ", text)
        played = {ln.split()[1] for ln in text.splitlines() if ln.startswith("Groove ")}
        assert played <= {g.main, g.var, g.intro, g.end}
        assert not re.search(r"(?im)^\s*(include|use|lib|groove\s+\S*[:/])", text)   # no library file
        assert f"Time {g.time}\n" in text
    assert groove_text(GEN_CATALOG[0]) == groove_text(GEN_CATALOG[0])
    assert plan_song(0).name.startswith("bs")                            # the beat set is untouched


def test_synth_set_plans_are_fixed_and_seeded_apart_from_the_tests():
    from beatset import synth

    plans = [synth.plan(i) for i in range(synth.N_DRUMS + synth.N_DEMO)]
    assert plans == [synth.plan(i) for i in range(len(plans))]
    assert min(p["seed"] for p in plans) >= 1000  # the tests' drum songs use seeds below
    assert {p["meter"] for p in plans} == {2, 3, 4} and {p["kind"] for p in plans} == {"steady", "step", "glide", "demo"}
    y, beats, downs = synth.render(plans[0])
    assert len(y) / synth.SR >= beats[-1] and np.array_equal(downs, beats[:: plans[0]["meter"]])

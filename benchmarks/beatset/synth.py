"""The synth set: drum-machine songs from Choreo's own two synthesisers, labelled exactly.

Run: ``.venv/bin/python benchmarks/beatset/synth.py [--out out/beatsynth]`` (``make beatsynth``).

Part of the beat network's training data (docs/beats.md): the MMA sets are all
General MIDI sound fonts; these are bare synthesised drums (``medley.drum_song``:
kick, snare, hats and a quiet organ whose chord changes every bar, the only cue
for beat 1) and the demo song (``demo.synthesize_demo``: drums, bass, pads),
at steady tempi, tempo steps and glides, in 2, 3 and 4 beats to the bar. Seeds
start at 1000, disjoint from the tests' (which use 0-200). Every track is split
"train"; nothing here is ever scored. Deterministic: a pure function of the
track index.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO.parent))

from choreo.core.audio.demo import synthesize_demo  # noqa: E402
from choreo.core.audio.medley import drum_song, ramp_beats  # noqa: E402

SR = 22050
N_DRUMS, N_DEMO = 120, 40
SEED = 1000


def plan(i: int) -> dict:
    rng = random.Random(f"beatsynth:{i}")
    meter = rng.choice([4, 4, 4, 3, 3, 2])
    seconds = rng.uniform(25.0, 45.0)
    kind = "demo" if i >= N_DRUMS else rng.choice(["steady", "steady", "step", "glide"])
    bpm = rng.uniform(60.0, 190.0)
    return {"index": i, "kind": kind, "meter": meter, "seconds": round(seconds, 3), "bpm": round(bpm, 3),
            "bpm2": round(bpm * rng.choice([0.8, 0.87, 1.15, 1.25]), 3), "seed": SEED + i}


def render(p: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(audio, beats, downbeats) of a plan."""
    if p["kind"] == "demo":
        bars = max(4, int(p["seconds"] * p["bpm"] / 60 / p["meter"]))
        t = synthesize_demo(tempo=p["bpm"], meter=p["meter"], bars=bars, sr=SR, seed=p["seed"])
        return t.audio, t.beats, t.downbeats
    s, a, b = p["seconds"], p["bpm"], p["bpm2"]
    if p["kind"] == "steady":
        beats = np.arange(0.0, s, 60.0 / a)
    elif p["kind"] == "glide":
        beats = ramp_beats(a, b, s)
    else:  # a step half-way, on a bar line
        first = np.arange(0.0, s / 2, 60.0 / a)
        first = first[: max(p["meter"], len(first) // p["meter"] * p["meter"])]
        beats = np.r_[first, first[-1] + 60.0 / a + np.arange(0.0, s / 2, 60.0 / b)]
        s = float(beats[-1] + 60.0 / b)
    beats = beats[beats < s - 0.05]
    return drum_song(beats, p["meter"], s, SR, p["seed"]), beats, beats[:: p["meter"]]


def main(argv=None) -> int:
    import soundfile as sf

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/beatsynth"))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(N_DRUMS + N_DEMO):
        p = plan(i)
        name = f"sy{i:03d}_{p['kind']}_{p['meter']}"
        y, beats, downs = render(p)
        sf.write(args.out / f"{name}.wav", y, SR, subtype="PCM_16")
        rec = {"title": name, "split": "train", "beats_per_bar": p["meter"], "plan": p,
               "beats": [round(float(b), 6) for b in beats], "downbeats": [round(float(b), 6) for b in downs],
               "duration_s": round(len(y) / SR, 6), "source": "benchmarks/beatset/synth.py"}
        (args.out / f"{name}.json").write_text(json.dumps(rec))
    print(f"wrote {N_DRUMS + N_DEMO} tracks to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

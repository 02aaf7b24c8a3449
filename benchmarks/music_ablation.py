"""Which part of "the song drives the dance" does what: an ablation on the held-out windows.

Run: ``.venv/bin/python benchmarks/music_ablation.py [--corpus out/corpus.npz] [--weights default]``

The shipped generator is run on the benchmark's held-out tracks (whole tracks,
seed 0, windows cut out as ``choreo bench`` does; 60 s × seeds 0–2 for the
dependence figures) with the generation-time music steps switched on one by one:

- ``none``: constant energy, noise knots every 2 s of file time, no beat alignment;
- ``+ level``: the song's level drives the energy (``conditioning.level_gain``);
- ``+ beat knots``: the seed's noise knots a whole number of beats apart;
- ``+ on the beat``: the dance's kinematic beats moved onto the music's, and a
  brief hold on the beats none reached (``cleanup/beats.py``) — the shipped setting.

The clean-up (turn, travel, stage, floor, feet) is on in every row. Figures:
FID_k, Div_k, BAS (both variants) on the held-out windows against the train
reference; same-seed speed and heading r, energy–loudness r on the 60-s dances.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))
SHARED_MUSIC = REPO.parent / "shared" / "data" / "music"

STEPS = ("none", "+ level", "+ beat knots", "+ on the beat")


def _switches(step: int):
    """Context managers that turn off the steps after ``step``."""
    import choreo.core.cleanup.beats as beats
    import choreo.core.generation.families.ren.generate as ren

    off = []
    if step < 1:
        off.append(mock.patch.object(ren, "level_gain", lambda training: 0.0))
    if step < 2:
        off.append(mock.patch.object(ren, "musical_noise_period", lambda tempo, cfg: None))
    if step < 3:
        off.append(mock.patch.object(beats, "REACH", 0.0))
        off.append(mock.patch.object(beats, "HOLD_SPEED", 1.0))
    return off


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="out/corpus.npz")
    ap.add_argument("--weights", default=None, help="generator weights (default: the shipped default)")
    args = ap.parse_args(argv)

    from choreo.core.audio.io import load_audio
    from choreo.core.data.corpus import Corpus
    from choreo.core.generation.pipeline import generate_dance
    from choreo.core.metrics import baselines as BL
    from choreo.core.metrics.music_dependence import dependence_scores, energy_loudness_r
    from choreo.core.metrics.suite import evaluate_set, set_features

    corpus = Corpus.load(args.corpus)
    windows = BL.eval_windows(corpus, "val")
    tracks = sorted({w.track for w in windows})
    train_items = [(p.motion, p.beats) for p in corpus.pairs("train")]
    ref = set_features(train_items)
    audio = {t: load_audio(SHARED_MUSIC / f"{t}.ogg", sr=22050, duration=60.0) for t in tracks}
    print("| step | FID_k ↓ | Div_k ↑ | BAS_bailando ↑ | BAS_fact ↑ | same-seed speed r ↓ | same-seed heading r ↓ "
          "| energy–loudness r ↑ |")
    print("|---|---|---|---|---|---|---|---|")
    for k, name in enumerate(STEPS):
        with ExitStack() as stack:
            for s in _switches(k):
                stack.enter_context(s)
            whole = {t: generate_dance(SHARED_MUSIC / f"{t}.ogg", weights=args.weights, seed=0).motion
                     for t in tracks}
            cut = []
            for w in windows:
                m = whole[w.track]
                a = int(round(w.music_start * m.fps))
                idx = np.minimum(np.arange(a, a + w.frames), m.num_frames - 1)
                cut.append((type(m)(m.joints[idx], m.fps), w.beats))
            s = evaluate_set(cut, train_items, ref_features=ref)
            dances = {t: {seed: generate_dance(SHARED_MUSIC / f"{t}.ogg", weights=args.weights, seed=seed,
                                               end=60.0).motion for seed in range(3)} for t in tracks}
        dep = dependence_scores(dances)
        el = np.nanmean([energy_loudness_r(m, *audio[t]) for t, v in dances.items() for m in v.values()])
        print(f"| {name} | {s['FID_k']:.1f} | {s['Div_k']:.2f} | {s['BAS_bailando']:.3f} | {s['BAS_fact']:.3f} | "
              f"{dep['same_seed_speed_r']:.2f} | {dep['same_seed_heading_r']:.2f} | {el:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build Choreo's beat set: MMA songs -> MIDI -> FluidSynth audio + exact labels.

Run: ``.venv/bin/python benchmarks/beatset/build.py --out out/beatset [--jobs 2] [--limit N]``

Needs the Debian packages mma, fluidsynth and fluid-soundfont-gm (nothing is
downloaded). Writes, under --out:

- ``src/NAME.mma`` and ``src/NAME.mid`` (the song and MMA's MIDI file),
- ``NAME.ogg`` (mono, 22.05 kHz, Vorbis; ``--format wav`` for 16-bit WAV),
- ``NAME.json`` (labels, same schema as ../shared/data/music plus the
  beat-set fields), and ``manifest.json`` (package versions, the split,
  counts, sha256 of every output, timings).

Tracks whose outputs exist and whose .mma text is unchanged are skipped, so an
interrupted build resumes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE.parent))

from beatset.labels import derive  # noqa: E402
from beatset.midi import read_midi  # noqa: E402
from beatset.song import SET_SEED, plan_song, track_list  # noqa: E402
from beatset.split import assign  # noqa: E402

SF2 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SR = 22050
RENDER_SR = 44100
TAIL_S, FADE_S = 1.5, 1.0
TARGET_RMS_DB, PEAK = -20.0, 0.891      # RMS -20 dBFS, peaks at most -1 dBFS (scaled down, never limited)
PACKAGES = ("mma", "fluidsynth", "fluid-soundfont-gm", "libsndfile1")
#: bump when the JSON derivation changes: existing tracks are relabelled from their MIDI, not re-rendered
LABEL_VERSION = 3
LICENSE = "GPL-2.0-or-later (MMA groove library); FluidR3_GM soundfont MIT"


def missing_tools() -> list[str]:
    miss = []
    if not shutil.which("mma"):
        miss.append("mma")
    if not shutil.which("fluidsynth"):
        miss.append("fluidsynth")
    if not SF2.exists():
        miss.append("fluid-soundfont-gm")
    return miss


def package_versions() -> dict:
    out = {}
    for pkg in PACKAGES:
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
            out[pkg] = r.stdout.strip() or None
        except OSError:
            out[pkg] = None
    import soundfile
    import soxr
    out["python:soundfile"] = soundfile.__version__
    out["python:libsndfile"] = soundfile.__libsndfile_version__
    out["python:soxr"] = soxr.__version__
    out["python:numpy"] = np.__version__
    return out


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_mma(mma_path: Path, mid_path: Path) -> None:
    r = subprocess.run(["mma", "-f", mid_path.name, mma_path.name], cwd=mma_path.parent,
                       capture_output=True, text=True)
    if r.returncode != 0 or not mid_path.exists():
        raise RuntimeError(f"mma failed on {mma_path.name}: {r.stdout[-400:]} {r.stderr[-400:]}")
    errs = [ln for ln in (r.stdout + r.stderr).splitlines() if "Error" in ln]
    if errs:
        raise RuntimeError(f"mma on {mma_path.name}: {errs[0]}")


def render(mid_path: Path, start_s: float, end_s: float) -> tuple[np.ndarray, int]:
    """FluidSynth -> mono float at SR, cut to [start, end + tail], faded and
    normalised. Returns (samples, start sample index at SR)."""
    import soundfile as sf
    import soxr

    with tempfile.TemporaryDirectory() as td:
        wav = Path(td) / "r.wav"
        r = subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.4", "-r", str(RENDER_SR), "-T", "wav",
                            "-O", "float", "-F", str(wav), str(SF2), str(mid_path)],
                           capture_output=True, text=True)
        if r.returncode != 0 or not wav.exists():
            raise RuntimeError(f"fluidsynth failed on {mid_path.name}: {r.stderr[-400:]}")
        y, sr = sf.read(wav, dtype="float64", always_2d=True)
    y = y.mean(axis=1)
    y = soxr.resample(y, sr, SR, quality="HQ")
    a = int(round(start_s * SR))
    b = min(len(y), int(round((end_s + TAIL_S) * SR)))
    y = y[a:b].copy()
    nf = int(FADE_S * SR)
    if len(y) > nf:
        y[-nf:] *= np.linspace(1.0, 0.0, nf) ** 2
    rms = float(np.sqrt(np.mean(y ** 2))) or 1.0
    y *= 10 ** (TARGET_RMS_DB / 20) / rms
    peak = float(np.abs(y).max()) or 1.0
    if peak > PEAK:
        y *= PEAK / peak
    return y, a


def build_one(index: int, out: str, fmt: str, split: str, seed: int) -> dict:
    import soundfile as sf

    t_start = time.perf_counter()
    out_p = Path(out)
    src = out_p / "src"
    p = plan_song(index, seed)
    text = p.mma_text()
    mma_sha = hashlib.sha256(text.encode()).hexdigest()
    jpath = out_p / f"{p.name}.json"
    apath = out_p / f"{p.name}.{fmt}"
    mma_path = src / f"{p.name}.mma"
    mid_path = src / f"{p.name}.mid"
    if jpath.exists() and apath.exists() and mid_path.exists():
        try:
            old = json.loads(jpath.read_text())
        except (OSError, ValueError):
            old = {}
        if old.get("mma_sha256") == mma_sha:
            if old.get("label_version") == LABEL_VERSION and old.get("split") == split:
                return {"name": p.name, "skipped": True, "seconds": 0.0}
            m = read_midi(mid_path)
            a = int(round(derive(p, m)["t0_s"] * SR))
            n = int(round(old["duration_s"] * SR))
            rec = make_record(p, derive(p, m, start_sample=a, sr=SR), n, old["pcm_sha256"], split, mma_sha)
            jpath.write_text(json.dumps(rec, indent=1))
            return {"name": p.name, "skipped": True, "relabelled": True, "seconds": 0.0}
    mma_path.write_text(text)
    t0 = time.perf_counter()
    run_mma(mma_path, mid_path)
    t_mma = time.perf_counter() - t0
    m = read_midi(mid_path)
    lab0 = derive(p, m)
    t0 = time.perf_counter()
    y, a = render(mid_path, lab0["t0_s"], lab0["t0_s"] + lab0["end_s"])
    t_render = time.perf_counter() - t0
    lab = derive(p, m, start_sample=a, sr=SR)
    pcm = np.clip(np.round(y * 32767), -32768, 32767).astype("<i2")
    if fmt == "ogg":
        sf.write(apath, y.astype(np.float32), SR, format="OGG", subtype="VORBIS")
    else:
        sf.write(apath, pcm, SR, subtype="PCM_16")
    rec = make_record(p, lab, len(y), hashlib.sha256(pcm.tobytes()).hexdigest(), split, mma_sha)
    jpath.write_text(json.dumps(rec, indent=1))
    return {"name": p.name, "skipped": False, "seconds": time.perf_counter() - t_start,
            "mma_s": t_mma, "render_s": t_render, "audio_s": len(y) / SR}


def make_record(p, lab: dict, n_samples: int, pcm_sha: str, split: str, mma_sha: str) -> dict:
    """The track's JSON: the shared set's schema, then the beat-set fields."""
    g = p.groove
    beats = lab["beats"]
    bpm = round(p.bpm, 3)
    rec = {
        "title": p.name,
        "groove": g.qualified,
        "genre": g.genre,
        "bpm": int(round(bpm)) if abs(bpm - round(bpm)) < 1e-9 else bpm,
        "meter": list(g.meter),
        "beats": beats.tolist(),
        "downbeats": lab["downbeats"].tolist(),
        "duration_s": round(n_samples / SR, 6),
        "source": f"generated with MMA groove {g.lib}/{g.file}:{g.main}, rendered with FluidR3_GM (Choreo beat set)",
        "license": LICENSE,
        # ---- beat-set fields
        "split": split,
        "beats_per_bar": p.ppb,
        "beat_unit": "dotted quarter" if g.meter[1] == 8 else "quarter",
        "first_downbeat_s": lab["downbeats"][0] if len(lab["downbeats"]) else None,
        "tempo_changes": lab["tempo_changes"],
        "features": p.features,
        "grooves": sorted({b[0] for b in p.bars}),
        "mma_tempo": p.mma_tempo,
        "mma_beats_per_beat": p.mult,
        "rnd_seed": p.seed,
        "humanise_rtime_ticks": p.humanise,
        "checks": lab["checks"],
        "mma_sha256": mma_sha,
        "pcm_sha256": pcm_sha,
        "label_version": LABEL_VERSION,
    }
    down = np.asarray(rec["downbeats"])
    if p.pickup:
        assert np.allclose(down, beats[p.pickup::p.ppb][: len(down)])
    else:
        assert np.allclose(down, beats[::p.ppb][: len(down)])
    return rec


def write_manifest(out: Path, fmt: str, seed: int, splits: dict, timings: list, wall: float) -> dict:
    files = {}
    tracks = []
    for name in sorted(splits):
        j = out / f"{name}.json"
        if not j.exists():
            continue
        rec = json.loads(j.read_text())
        tracks.append(rec)
        for pth in (j, out / f"{name}.{fmt}", out / "src" / f"{name}.mma", out / "src" / f"{name}.mid"):
            if pth.exists():
                files[str(pth.relative_to(out))] = sha256_file(pth)
    counts: dict = {}
    for rec in tracks:
        s = rec["split"]
        f = rec["features"]
        keys = [f"meter {f['meter']}", f"feel {f['feel']}"] + [k for k, v in f.items() if v is True]
        for k in ["all"] + keys:
            counts.setdefault(k, {"dev": 0, "test": 0})
            counts[k][s] += 1
    manifest = {
        "set_seed": seed,
        "packages": package_versions(),
        "format": fmt,
        "n_planned": len(splits),
        "n_built": len(tracks),
        "counts": counts,
        "audio_minutes": round(sum(r["duration_s"] for r in tracks) / 60, 2),
        "split": {n: splits[n] for n in sorted(splits)},
        "pcm_sha256": {r["title"]: r["pcm_sha256"] for r in tracks},
        "sha256": files,
        "note": "MIDI, .mma and labels are byte-identical for the same package versions; "
                "Ogg files are not (the Vorbis stream serial number is random): pcm_sha256 "
                "is the hash of the 16-bit samples before encoding.",
        "last_build": {"wall_s": round(wall, 1),
                       "built": sum(1 for t in timings if not t.get("skipped")),
                       "per_track_s": round(float(np.mean([t["seconds"] for t in timings if not t.get("skipped")])), 2)
                       if any(not t.get("skipped") for t in timings) else None},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/beatset"))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="build only the first N tracks")
    ap.add_argument("--format", choices=("ogg", "wav"), default="ogg")
    ap.add_argument("--seed", type=int, default=SET_SEED)
    args = ap.parse_args(argv)
    miss = missing_tools()
    if miss:
        print(f"beatset: needs the Debian packages mma, fluidsynth and fluid-soundfont-gm "
              f"(missing: {', '.join(miss)}): apt-get install -y mma fluidsynth fluid-soundfont-gm",
              file=sys.stderr)
        return 2
    n_all = len(track_list())
    plans = [plan_song(i, args.seed) for i in range(n_all)]
    splits = assign({p.name: p.features for p in plans})
    idx = list(range(n_all if args.limit is None else min(args.limit, n_all)))
    (args.out / "src").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    timings = []
    jobs = [(i, str(args.out), args.format, splits[plans[i].name], args.seed) for i in idx]
    if args.jobs <= 1:
        for j in jobs:
            timings.append(build_one(*j))
            print(f"[{len(timings)}/{len(jobs)}] {timings[-1]['name']} {timings[-1]['seconds']:.1f} s", flush=True)
    else:
        with ProcessPoolExecutor(args.jobs) as ex:
            for r in ex.map(build_one, *zip(*jobs)):
                timings.append(r)
                print(f"[{len(timings)}/{len(jobs)}] {r['name']} {r['seconds']:.1f} s", flush=True)
    wall = time.perf_counter() - t0
    man = write_manifest(args.out, args.format, args.seed, splits, timings, wall)
    bad = []
    for n in sorted(splits):
        j = args.out / f"{n}.json"
        if j.exists():
            c = json.loads(j.read_text())["checks"]
            if not (c["timesig_ok"] and c["bars_ok"]) or (c.get("drum_onsets", 0)
                                                           and c["beat_coverage"] < c["offbeat_coverage"]):
                bad.append(n)
    print(f"built {man['n_built']}/{man['n_planned']} tracks ({man['audio_minutes']} min of audio) in "
          f"{wall:.0f} s -> {args.out}; dev/test {man['counts'].get('all')}")
    if bad:
        print(f"check warnings ({len(bad)}): {', '.join(bad)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

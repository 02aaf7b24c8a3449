"""The ``choreo`` command as a whole: outputs checked before any work, interrupts,
a closed stdout, progress in logs. Real subprocesses, files and signals."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from choreo.cli import main
from choreo.core.audio.demo import synthesize_demo, write_demo_wav
from choreo.core.generation.families.ren.random_init import save_random_weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "gen.safetensors"
    save_random_weights(path)
    return path


def _device_node(folder: Path) -> Path:
    """A character device to write to: one of our own as root (so a regression could
    never replace /dev/full), else /dev/full (which nobody else can replace)."""
    if os.geteuid() != 0:
        return Path("/dev/full")
    node = folder / "full"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    return node


def _bad_targets(tmp_path: Path, suffix: str) -> dict[str, tuple[Path, str]]:
    """Targets that cannot be written, as (path, expected message); a symlink is followed,
    so each special file is reached through one named with ``suffix``."""
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "file.txt").write_text("x")
    out = {}
    for kind, special in (("a folder", tmp_path / "folder"), ("a FIFO", tmp_path / "fifo"),
                          ("a device", _device_node(tmp_path))):
        link = tmp_path / f"to {kind}{suffix}"
        link.symlink_to(special)
        out[kind] = (link, f"is {kind}")
    out["a parent that is a file"] = (tmp_path / "file.txt" / f"x{suffix}", "file.txt is not a folder")
    return out


def _train_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "train.json"
    cfg.write_text(json.dumps({"steps": 2, "corpus": str(tmp_path / "no corpus.npz")}))
    return cfg


# argv with OUT where the output goes; every input is missing or unusable, so an output
# error (not the input's) shows the outputs are checked before any work starts.
COMMANDS = {
    "analyze --json": (["analyze", "{missing}.wav", "--json", "OUT"], ".json"),
    "generate -o": (["generate", "{missing}.wav", "-o", "OUT", "--weights", "{weights}"], ".npz"),
    "generate --bvh": (["generate", "{missing}.wav", "-o", "{tmp}/x.npz", "--bvh", "OUT", "--weights", "{weights}"],
                       ".bvh"),
    "dataset build --out": (["dataset", "build", "--mocap", "{missing}", "--music", "{missing}", "--out", "OUT"],
                            ".npz"),
    "import -o": (["import", "openpose", "{missing}", "-o", "OUT"], ".npz"),
    "train --out": (["train", "--config", "{config}", "--out", "OUT"], ""),
    "bench --json": (["bench", "--corpus", "{missing}.npz", "--json", "OUT"], ".json"),
    "bench --out": (["bench", "--corpus", "{missing}.npz", "--out", "OUT"], ""),
    "batch --out": (["batch", "{missing}.toml", "--out", "OUT"], ""),
}
FOLDER_OUTPUTS = ("train --out", "bench --out", "batch --out")


@pytest.mark.parametrize("command", COMMANDS)
def test_unwritable_outputs_are_one_line_before_any_work(command, weights, tmp_path, capsys):
    argv, suffix = COMMANDS[command]
    fill = {"missing": str(tmp_path / "missing"), "weights": str(weights), "tmp": str(tmp_path),
            "config": str(_train_config(tmp_path))}
    targets = _bad_targets(tmp_path, suffix)
    if command in FOLDER_OUTPUTS:  # these write into a folder: anything else there is refused
        del targets["a folder"]
        targets = {k: (t, m if k == "a parent that is a file" else "exists and is not a folder")
                   for k, (t, m) in targets.items()}
        targets["a file"] = (tmp_path / "file.txt", "exists and is not a folder")
    for kind, (target, message) in targets.items():
        args = [str(target) if a == "OUT" else a.format(**fill) for a in argv]
        assert main(args) == 2, kind
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"choreo: error: {target}: ") and message in err, (kind, err)
    assert stat.S_ISFIFO(os.stat(tmp_path / "fifo").st_mode) and (tmp_path / "folder").is_dir()
    assert stat.S_ISCHR(os.stat(targets["a device"][0]).st_mode)  # the node itself is untouched


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder this process may not write: a chmod 555 one, or as root (who may write
    to any folder) a read-only mount, /proc/sys where it is one (containers)."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        return ro
    if not os.access("/proc/sys", os.W_OK):
        return Path("/proc/sys")
    pytest.skip("running as root with no read-only folder to write to")


def test_read_only_folder_is_refused_before_any_work(weights, tmp_path):
    ro = _read_only_folder(tmp_path)
    fill = {"missing": str(tmp_path / "missing"), "weights": str(weights), "tmp": str(tmp_path),
            "config": str(_train_config(tmp_path))}
    runs = [[str(ro / f"x{suffix}") if a == "OUT" else a.format(**fill) for a in argv]
            for argv, suffix in COMMANDS.values()]
    before = sorted(os.listdir(ro))
    driver = "import json, sys\nfrom choreo.cli import main\nprint(json.dumps([main(a) for a in json.loads(sys.argv[1])]))"
    r = subprocess.run([sys.executable, "-c", driver, json.dumps(runs)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and json.loads(r.stdout) == [2] * len(runs), r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == len(runs) and "Traceback" not in r.stderr, r.stderr
    for line in lines:  # was: a traceback after all the work
        assert line.startswith("choreo: error: ") and f"cannot write: folder {ro} is not writable" in line, line
    assert sorted(os.listdir(ro)) == before
    if ro.is_relative_to(tmp_path):
        ro.chmod(0o755)


def test_a_closed_stdout_ends_quietly(tmp_path):
    song = tmp_path / "short.wav"
    write_demo_wav(song, synthesize_demo(tempo=120.0, bars=2, sr=16000))
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written (`choreo analyze … | head -0`)
    try:
        r = subprocess.run([sys.executable, "-m", "choreo", "analyze", str(song)], stdout=write,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert r.stderr == "" and r.returncode == 141  # was: a BrokenPipeError traceback


def _start(argv: list[str], cwd: Path, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "CHOREO_PROGRESS_INTERVAL": "0.1", "CHOREO_CACHE_DIR": str(cache)}
    # SIGINT reset to its default: a test runner started in the background may ignore it.
    return subprocess.Popen([sys.executable, "-m", "choreo", *argv], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt_mid_work(proc: subprocess.Popen, marker: str, signum: int) -> tuple[int, str, float]:
    """Wait for a progress line containing ``marker`` (the command is working), send
    ``signum``; returns the exit code, the rest of stderr and the seconds it took to stop."""
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            break
    else:
        proc.wait()
        pytest.fail(f"finished before any progress line: {''.join(seen)}")
    t0 = time.monotonic()
    proc.send_signal(signum)
    _, rest = proc.communicate(timeout=60)
    return proc.returncode, rest, time.monotonic() - t0


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.startswith(".") or ".part" in p.name)


def test_sigterm_stops_generate_and_keeps_the_old_outputs(weights, tmp_path):
    song = tmp_path / "long.wav"
    write_demo_wav(song, synthesize_demo(tempo=120.0, bars=40, sr=16000))  # 80 s: a few seconds of work
    out = tmp_path / "out"
    out.mkdir()
    (out / "dance.npz").write_bytes(b"earlier dance")
    (out / "dance.bvh").write_bytes(b"earlier bvh")
    proc = _start(["generate", str(song), "-o", "out/dance.npz", "--bvh", "out/dance.bvh", "--weights",
                   str(weights)], tmp_path, tmp_path / "cache")
    code, err, seconds = _interrupt_mid_work(proc, "generate:", signal.SIGTERM)
    assert code == 143 and err.strip().splitlines()[-1] == "choreo: interrupted", err
    assert "Traceback" not in err and seconds < 15
    assert (out / "dance.npz").read_bytes() == b"earlier dance" and (out / "dance.bvh").read_bytes() == b"earlier bvh"
    assert _leftovers(tmp_path) == []


def test_sigterm_stops_dataset_build_and_keeps_the_old_corpus(mocap_dir, music_dir, tmp_path):
    corpus = tmp_path / "corpus.npz"
    corpus.write_bytes(b"earlier corpus")
    proc = _start(["dataset", "build", "--mocap", str(mocap_dir), "--music", str(music_dir), "--out", str(corpus),
                   "--takes", "005_02", "005_18", "--val-takes", "005_18", "--tracks", "mma07_rhumba",
                   "mma13_boneym", "--val-tracks", "mma07_rhumba"], tmp_path, tmp_path / "cache")
    code, err, seconds = _interrupt_mid_work(proc, "building corpus:", signal.SIGTERM)
    assert code == 143 and err.strip().splitlines()[-1] == "choreo: interrupted", err
    assert "Traceback" not in err and seconds < 15
    assert corpus.read_bytes() == b"earlier corpus"
    assert _leftovers(tmp_path) == []  # the feature cache's temporary files too

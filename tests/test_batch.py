"""``choreo batch`` end to end (issue 18), as a studio runs it: the example job file from a
fresh clone, ``--resume``, a bad song failing only its job, a bad job file stopping before any
work, and a local Ray cluster (started here) with a worker killed mid-job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.blender

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "batch.toml"


def choreo(*args, timeout=900, env=None):
    return subprocess.run([sys.executable, "-m", "choreo", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _leftovers(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.startswith(".")]


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _movie(path: Path) -> tuple[set, float, tuple]:
    import av

    with av.open(str(path)) as c:
        kinds = {s.type for s in c.streams}
        v = c.streams.video[0]
        return kinds, float(c.duration) / 1e6, (v.codec_context.width, v.codec_context.height)


def test_the_example_batch_runs_then_resumes(tmp_path):
    out = tmp_path / "batch"
    r = choreo("batch", EXAMPLE, "--out", out)
    assert r.returncode == 0, r.stderr[-3000:]
    folders = sorted(p for p in out.iterdir() if p.is_dir() and p.name != "songs")
    assert [p.name for p in folders] == sorted(["demo_mannequin_default_seed0", "demo_mannequin_default_seed1",
                                                "demo_actor_default_seed0", "demo_actor_default_seed1"])
    assert _leftovers(out) == []
    for folder in folders:
        m = _manifest(folder)
        assert m["status"] == "done" and set(m["outputs"]) == {"blend", "preview"}
        assert m["key"]["inputs"]["song"] and m["key"]["choreo"] and m["peak_rss_mb"] > 50
        assert m["timings"]["total_s"] > 0 and m["timings"]["render_s"] > 0
        kinds, seconds, size = _movie(folder / "preview.mp4")
        assert kinds == {"video", "audio"} and abs(seconds - 8.0) < 0.3 and size == (480, 270)
    summary = json.loads((out / "batch.json").read_text())
    assert summary["counts"] == {"done": 4, "skipped": 0, "failed": 0}
    assert "done 4, skipped 0, failed 0" in r.stdout

    # The saved scene: the dancer keyed, the follow camera keyed, markers, the song, the movie's size.
    bpy.ops.wm.open_mainfile(filepath=str(out / "demo_actor_default_seed1" / "dance.blend"), load_ui=False)
    scene = bpy.context.scene
    assert scene.camera.animation_data.action is not None
    assert (scene.render.resolution_x, scene.render.resolution_y) == (480, 270)
    assert any(o.name.endswith(" Actor") for o in scene.objects)
    assert any(m.name.startswith("choreo:") for m in scene.timeline_markers)
    assert len(scene.sequence_editor.strips_all) == 1

    # --list says which jobs are finished, and writes nothing (nor anywhere new).
    r = choreo("batch", EXAMPLE, "--out", out, "--list")
    assert r.returncode == 0 and r.stdout.count("(finished; line") == 4, r.stdout + r.stderr
    r = choreo("batch", EXAMPLE, "--out", tmp_path / "elsewhere", "--list")
    assert r.stdout.count("(to do; line") == 4 and not (tmp_path / "elsewhere").exists()
    # --resume: every finished job is skipped, nothing rewritten.
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "batch.json"}
    r = choreo("batch", EXAMPLE, "--out", out, "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "done 0, skipped 4, failed 0" in r.stdout
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "batch.json"}
    # A job whose output went missing is made again; the others stay skipped.
    (out / "demo_mannequin_default_seed1" / "preview.mp4").unlink()
    r = choreo("batch", EXAMPLE, "--out", out, "--resume")
    assert r.returncode == 0 and "done 1, skipped 3, failed 0" in r.stdout, r.stdout + r.stderr[-2000:]
    assert (out / "demo_mannequin_default_seed1" / "preview.mp4").is_file()


def _small_job_file(tmp_path: Path, songs: list[str], seeds=(0,), outputs=("npz",), end=4.0) -> Path:
    p = tmp_path / "jobs.toml"
    p.write_text(textwrap.dedent(f"""
        [[jobs]]
        songs = {json.dumps(songs)}
        seeds = {list(seeds)}
        end = {end}
        outputs = {json.dumps(list(outputs))}
        [jobs.preview]
        width = 160
        height = 90
        """), encoding="utf-8")
    return p


def test_rig_files_photoreal_and_failures_of_single_jobs(tmp_path, photoreal_weights):
    """A rig file, every file output, and two jobs that fail (a damaged song, a rig file without an
    armature) while the others finish: exit 1, each failure one line, no folder for it."""
    from choreo.rigs.testrigs import build_mixamo_rig

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "empty.blend"), copy=True)
    build_mixamo_rig(collection=bpy.context.scene.collection)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "mixamo.blend"), copy=True)
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk" * 10)
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(textwrap.dedent(f"""
        [defaults]
        end = 3.0
        [[jobs]]
        songs = ["demo", "broken.wav"]
        outputs = ["npz", "bvh", "photoreal"]
        photoreal.target = "{photoreal_weights}"
        [[jobs]]
        songs = ["demo"]
        rigs = ["mixamo.blend", "empty.blend"]
        key_mode = "dense"
        outputs = ["blend"]
        """), encoding="utf-8")
    out = tmp_path / "out"
    r = choreo("batch", jobs, "--out", out)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    status = {j["job"]: j for j in json.loads((out / "batch.json").read_text())["jobs"]}
    assert {k: v["status"] for k, v in status.items()} == {
        "demo_mannequin_default_seed0": "done", "broken_mannequin_default_seed0": "failed",
        "demo_mixamo_default_seed0": "done", "demo_empty_default_seed0": "failed"}
    for failed, words in (("broken_mannequin_default_seed0", "broken.wav"), ("demo_empty_default_seed0", "no armature")):
        err = status[failed]["error"]
        assert words in err and "\n" not in err and err in r.stdout, err
        assert not (out / failed).exists()
    assert _leftovers(out) == []
    demo = out / "demo_mannequin_default_seed0"
    assert set(_manifest(demo)["outputs"]) == {"npz", "bvh", "photoreal"}
    assert {p.name for p in demo.iterdir()} == {"dance.npz", "dance.bvh", "photoreal.mp4", "manifest.json"}
    kinds, seconds, size = _movie(demo / "photoreal.mp4")
    assert kinds == {"video", "audio"} and abs(seconds - 3.0) < 0.3 and size == (64, 64)
    assert "photoreal_target" in _manifest(demo)["key"]["inputs"]
    bpy.ops.wm.open_mainfile(filepath=str(out / "demo_mixamo_default_seed0" / "dance.blend"), load_ui=False)
    arms = [o for o in bpy.context.scene.objects if o.type == "ARMATURE"]
    assert [a.name for a in arms] == ["Mixamo Rig"] and arms[0].animation_data.action is not None
    assert "rig" in _manifest(out / "demo_mixamo_default_seed0")["key"]["inputs"]


def test_a_bad_job_file_stops_before_any_work(tmp_path):
    jobs = tmp_path / "jobs.toml"
    jobs.write_text('[[jobs]]\nsongs = ["demo"]\nseeds = [0, "one"]\n', encoding="utf-8")
    out = tmp_path / "out"
    r = choreo("batch", jobs, "--out", out)
    assert r.returncode == 2 and f"{jobs}:3: seeds must be a whole number" in r.stderr, r.stderr
    assert not out.exists()
    jobs.write_text('[[jobs]]\nsongs = ["demo"]\nfps = "fast"\n', encoding="utf-8")
    r = choreo("batch", jobs, "--out", out)
    assert r.returncode == 2 and f"{jobs}:1: not a frame rate" in r.stderr and not out.exists(), r.stderr


@pytest.fixture()
def ray_cluster():
    """A local Ray cluster of two worker slots on 127.0.0.1, stopped afterwards."""
    pytest.importorskip("ray")
    from choreo.core.batch.cluster import local_ray_cluster

    with local_ray_cluster(num_cpus=2) as address:
        yield address, {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}


def test_ray_cluster_runs_the_batch_and_retries_a_killed_worker(tmp_path, ray_cluster):
    address, env = ray_cluster
    jobs = _small_job_file(tmp_path, ["demo"], seeds=(0, 1, 2), outputs=("blend", "preview"), end=3.0)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "choreo", "batch", str(jobs), "--out", str(out), "--ray", address,
                             "--memory-per-job", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    killed = None
    try:
        deadline = time.time() + 600
        while killed is None and time.time() < deadline and proc.poll() is None:
            # A job being made is a ".JOB.PID.xxxx.part" folder of the Ray worker running it.
            for p in out.glob(".*.part") if out.is_dir() else ():
                job, pid = p.name[1:].split(".")[:2]
                time.sleep(1.0)  # well into the job
                os.kill(int(pid), signal.SIGKILL)
                killed = (job, int(pid))
                break
            time.sleep(0.2)
        stdout, stderr = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed is not None, "no job was seen running"
    assert proc.returncode == 0, stdout + stderr[-3000:]
    assert "done 3, skipped 0, failed 0" in stdout
    m = _manifest(out / killed[0])
    assert m["pid"] != killed[1] and m["status"] == "done"                # made again, by another worker
    assert len({_manifest(out / f"demo_mannequin_default_seed{s}")["pid"] for s in range(3)}) >= 2
    assert _leftovers(out) == []
    for s in range(3):
        kinds, seconds, _ = _movie(out / f"demo_mannequin_default_seed{s}" / "preview.mp4")
        assert kinds == {"video", "audio"} and abs(seconds - 3.0) < 0.3
    r = subprocess.run([sys.executable, "-m", "choreo", "batch", str(jobs), "--out", str(out), "--ray", address,
                        "--resume"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0 and "done 0, skipped 3, failed 0" in r.stdout, r.stdout + r.stderr[-2000:]
    assert np.all([(out / f"demo_mannequin_default_seed{s}" / "dance.blend").is_file() for s in range(3)])


def test_an_interrupted_batch_leaves_nothing_half_written(tmp_path):
    """Ctrl-C mid-job: `choreo: interrupted`, exit 130, the job's process gone, no part folder."""
    jobs = _small_job_file(tmp_path, ["demo"], seeds=(0, 1), outputs=("blend", "preview"), end=6.0)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "choreo", "batch", str(jobs), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and not (out.is_dir() and any(out.glob(".*.part"))):
            time.sleep(0.1)
        assert any(out.glob(".*.part")), "no job was seen running"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "choreo: interrupted" in stderr, stderr
    assert _leftovers(out) == [] and not any(p.is_dir() and p.name != "songs" for p in out.iterdir())
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(jobs) not in ps and "batch_job" not in ps.replace("test_batch", "")

"""The generation benchmark (benchmarks/generate_benchmark.py) on short songs: every
family's weights in one run (speed rows, peak memory, numpy vs torch, seams or none,
part vs whole, freezing, a summary line each), and its stock mode without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from choreo.core.generation.families.dancerevolution.random_init import save_random_weights
from choreo.core.models.config import DRConfig

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import generate_benchmark as gb  # noqa: E402

SHORT = ["--minutes", "0.25", "--compare-minutes", "0.25", "--seam-minutes", "0.5", "--runs", "1"]


@pytest.fixture(scope="module")
def dr_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("gb") / "dr.safetensors"
    save_random_weights(path, DRConfig(d_model=32, layers=2, heads=4, ff=48, window=5, dec_hidden=24, dec_layers=2,
                                       noise_dim=3))
    return path


def test_both_families_in_one_run(dr_weights, tmp_path, capsys):
    out = tmp_path / "gb.json"
    assert gb.main(["--weights", f"default,{dr_weights}", *SHORT, "--torch-threads", "1",
                    "--corpus", str(tmp_path / "none.npz"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    ren, dr = json.loads(out.read_text())["results"]
    assert (ren["family"], dr["family"]) == ("ren", "dancerevolution") and ren["label"] == "default"
    for r in (ren, dr):
        (row,) = r["speed"]
        assert row["model_s"] > 0 and row["full_s"] > 0 and row["peak_mb"] > 0 and row["again_s"] > 0
        assert r["numpy_vs_torch"]["max_abs_diff"] < 1e-4 * max(1.0, r["numpy_vs_torch"]["max_abs_output"])
        assert r["numpy_vs_torch"]["torch_threads"] == 1
        assert r["freeze"]["windows"] == 7 and "below" not in r["freeze"]
        assert r["part_vs_whole"]["seconds"] > 0
    assert ren["seams"]["windows"] > 1 and dr["seams"] is None
    assert "no windows (streaming decoder)" in text
    summary = text.split("summary:\n")[1].split("\n\n")[0].splitlines()
    assert len(summary) == 2 and summary[0].startswith("  default (ren): 0.2-min song model ")
    assert summary[1].startswith(f"  {dr_weights} (dancerevolution):") and "× default's" in summary[1]
    assert "target" not in summary[0]  # the 100× target is for a 3-min song


def test_a_shipped_family_name_not_installed_is_random_init(tmp_path, monkeypatch):
    monkeypatch.setattr(gb.W, "registry", lambda: {})
    path, note = gb.pick_weights("dancerevolution", str(tmp_path))
    assert Path(path).is_file() and note.startswith("RANDOM-INIT dancerevolution")
    assert gb.pick_weights("nothing-such", str(tmp_path))[0] == "nothing-such"


def test_stock_mode_runs_without_torch(dr_weights, tmp_path):
    out = tmp_path / "stock.json"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate_benchmark.py"), "--stock",
                        "--weights", str(dr_weights), *SHORT, "--json", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "skipped (--stock: torch cannot be imported)" in r.stdout
    (res,) = json.loads(out.read_text())["results"]
    assert json.loads(out.read_text())["stock"] and "numpy_vs_torch" not in res and res["speed"][0]["model_s"] > 0

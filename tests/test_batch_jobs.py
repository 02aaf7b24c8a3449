"""Batch job files (issue 18): expansion into jobs with stable ids, and every problem named
with the job file's line before any work."""

from __future__ import annotations

import textwrap

import pytest

from choreo.core.batch import JobFileError, read_job_file
from choreo.core.batch.jobs import key_lines


def _write(tmp_path, text, name="jobs.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


@pytest.fixture()
def songs(tmp_path):
    d = tmp_path / "songs"
    d.mkdir()
    for name in ("a.wav", "b.ogg", "notes.txt"):
        (d / name).write_bytes(b"RIFF0000WAVE" if name.endswith(".wav") else b"OggS")
    return d


def test_groups_expand_into_the_product_with_stable_ids(tmp_path, songs):
    rig = tmp_path / "hero.blend"
    rig.write_bytes(b"BLENDER-v405" + bytes(20))
    p = _write(tmp_path, """
        out = "renders"
        [defaults]
        outputs = ["blend", "bvh"]
        [defaults.preview]
        width = 320
        height = 180

        [[jobs]]
        songs = ["songs"]            # a folder: its two audio files
        rigs = ["default", "hero.blend"]
        characters = ["mannequin", "actor"]
        seeds = [0, 7]

        [[jobs]]
        songs = "demo"
        energy = [0.5, 2]
        [jobs.preview]
        camera = "stage"
        """)
    jf = read_job_file(p)
    assert jf.out == str((tmp_path / "renders").resolve())
    first = [j for j in jf.jobs if j.line == 8]
    assert len(first) == 2 * (2 + 1) * 2              # songs × (2 characters + the rig file) × seeds
    ids = [j.id for j in jf.jobs]
    assert len(set(ids)) == len(ids)
    assert "a_actor_default_seed7" in ids and "b_hero_default_seed0" in ids
    assert "demo_mannequin_default_seed0_energy0.5" in ids and "demo_mannequin_default_seed0_energy2" in ids
    hero = next(j for j in jf.jobs if j.id == "b_hero_default_seed0")
    assert hero.character is None and hero.rig == str(rig.resolve()) and hero.song == str((songs / "b.ogg").resolve())
    demo = next(j for j in jf.jobs if j.song == "demo")
    assert demo.settings["preview"]["camera"] == "stage" and demo.settings["preview"]["width"] == 320
    assert demo.settings["preview"]["engine"] == "workbench" and demo.settings["outputs"] == ["blend", "bvh"]
    assert [j.id for j in read_job_file(p).jobs] == ids           # the same file, the same ids


@pytest.mark.parametrize("body, line, words", [
    ('[[jobs]]\nsongs = ["demo"]\ncolour = "red"\n', 3, "unknown key 'colour'"),
    ('[[jobs]]\nsongs = ["demo"]\n\n[[jobs]]\nsongs = ["nope.wav"]\n', 5, "song not found"),
    ('[[jobs]]\nsongs = ["demo"]\nseeds = [1, -3]\n', 3, "seed -3 is out of range"),
    ('[[jobs]]\nsongs = ["demo"]\nseeds = [1.5]\n', 3, "seeds must be a whole number"),
    ('[[jobs]]\nsongs = ["demo"]\nrigs = ["bad.blend"]\n', 3, "is not a .blend file"),
    ('[[jobs]]\nsongs = ["demo"]\nrigs = ["missing.fbx"]\n', 3, "rig not found"),
    ('[defaults]\nenergy = 20\n[[jobs]]\nsongs = ["demo"]\n', 2, "energy 20 is out of range"),
    ('[[jobs]]\nsongs = ["demo"]\n[jobs.preview]\nwidth = 321\n', 4, "must be even"),
    ('[[jobs]]\nsongs = ["demo"]\noutputs = ["blend", "gif"]\n', 3, "outputs 'gif' is not one of"),
    ('[[jobs]]\nsongs = ["demo"]\noutputs = ["photoreal"]\n', 3, "needs photoreal.target"),
    ('[[jobs]]\nsongs = ["demo"]\nfamilies = ["nobody"]\n', 3, "no shipped model named 'nobody'"),
    ('[[jobs]]\nsongs = ["demo", "demo"]\n', 1, "made twice"),
    ('[[jobs]]\nsongs = ["demo"\n', 2, "not valid TOML"),
    ('[[jobs]]\nrigs = ["default"]\n', 1, "needs songs"),
    ('speed = 2\n[[jobs]]\nsongs = ["demo"]\n', 1, "unknown key 'speed' at the top level"),
    ('[defaults]\nsongs = ["demo"]\n', None, "no jobs"),
    ('[[jobs]]\nsongs = ["demo"]\nstart = 10\nend = 5\n', 4, "end 5 is not after start 10"),
])
def test_a_bad_job_file_names_its_line(tmp_path, body, line, words):
    (tmp_path / "bad.blend").write_bytes(b"not a blend at all" * 4)
    p = _write(tmp_path, body)
    with pytest.raises(JobFileError) as err:
        read_job_file(p)
    assert words in str(err.value)
    assert err.value.line == line
    assert str(err.value).startswith(f"{p}:{line}:" if line else f"{p}:")


def test_key_lines_follow_tables_subtables_and_multiline_values():
    lines = key_lines(textwrap.dedent("""
        out = "x"
        [defaults]
        seeds = [
          1, 2,  # a comment ] with a bracket
        ]
        [[jobs]]
        songs = ["a"]
        preview.width = 320
        [jobs.preview]
        height = 180
        [[jobs]]
        songs = ["b"]   # [not a header]
        """).lstrip("\n"))
    assert lines[("out",)] == 1 and lines[("defaults", "seeds")] == 3
    assert lines[("jobs", 0)] == 6 and lines[("jobs", 0, "songs")] == 7
    assert lines[("jobs", 0, "preview.width")] == 8 and lines[("jobs", 0, "preview.height")] == 10
    assert lines[("jobs", 1, "songs")] == 12


def test_the_example_job_file_reads(repo_root=None):
    from pathlib import Path

    jf = read_job_file(Path(__file__).resolve().parents[1] / "examples" / "batch.toml")
    assert len(jf.jobs) == 4 and {j.character for j in jf.jobs} == {"mannequin", "actor"}
    assert all(set(j.settings["outputs"]) == {"blend", "preview"} for j in jf.jobs)

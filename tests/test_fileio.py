import os

import pytest

from choreo.core.fileio import atomic_path


def test_atomic_path_replaces_on_success(tmp_path):
    target = tmp_path / "sub" / "out.json"
    with atomic_path(target, suffix=".json") as tmp:
        assert tmp.endswith(".json") and os.path.dirname(tmp) == str(target.parent)
        with open(tmp, "w") as f:
            f.write("new")
    assert target.read_text() == "new"
    assert os.listdir(target.parent) == ["out.json"]


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_read_json_names_the_file_on_bad_input(tmp_path):
    from choreo.core.errors import ChoreoInputError
    from choreo.core.fileio import read_json

    good = tmp_path / "ok.json"
    good.write_text('{"beats": [0.5]}')
    assert read_json(good) == {"beats": [0.5]}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ChoreoInputError, match="bad.json: not valid JSON"):
        read_json(bad)
    with pytest.raises(ChoreoInputError, match="missing.json: cannot read"):
        read_json(tmp_path / "missing.json")


def test_atomic_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from choreo.core.fileio import atomic_path

    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "x.txt") as tmp:
            open(tmp, "w").write("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o644

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


def test_a_symlinked_output_replaces_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real" / "out.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with atomic_path(link, suffix=".json") as tmp:
        assert os.path.dirname(tmp) == str(target.parent)  # the temp lies beside the file replaced
        open(tmp, "w").write("new")
    assert link.is_symlink() and target.read_text() == "new"  # was: the link became a regular file


def _special_targets(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    targets = {"a folder": folder, "a FIFO": fifo}
    if os.geteuid() == 0:  # a device node of our own, so a regression could never replace /dev/full
        dev = tmp_path / "full"
        os.mknod(dev, 0o666 | __import__("stat").S_IFCHR, os.makedev(1, 7))
        targets["a device"] = dev
    else:
        targets["a device"] = "/dev/full"
    return targets


def test_outputs_are_only_regular_files(tmp_path):
    import stat

    from choreo.core.errors import ChoreoInputError

    for kind, target in _special_targets(tmp_path).items():
        mode = os.stat(target).st_mode
        with pytest.raises(ChoreoInputError, match=f"is {kind}.*not a regular file"):
            with atomic_path(target) as tmp:
                open(tmp, "w").write("x")  # was: replaced the FIFO / device node
        assert stat.S_IFMT(os.stat(target).st_mode) == stat.S_IFMT(mode), kind
    assert sorted(os.listdir(tmp_path)) == sorted(p for p in ("folder", "fifo", "full") if (tmp_path / p).exists())


def test_check_output_refuses_what_cannot_be_written(tmp_path):
    from choreo.core.errors import ChoreoInputError
    from choreo.core.fileio import check_output, check_output_dir, check_outputs

    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ChoreoInputError, match=r"file.txt/sub/x.npz: cannot write: .*file.txt is not a folder"):
        check_output(tmp_path / "file.txt" / "sub" / "x.npz")
    with pytest.raises(ChoreoInputError, match="file.txt: exists and is not a folder"):
        check_output_dir(tmp_path / "file.txt")
    with pytest.raises(ChoreoInputError, match="is the same file as"):
        check_outputs([tmp_path / "a.bvh", tmp_path / "." / "a.bvh"])
    assert check_output(tmp_path / "new" / "x.npz") == str(tmp_path / "new" / "x.npz")
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_atomic_paths_replace_all_or_none(tmp_path):
    from choreo.core.errors import ChoreoInputError
    from choreo.core.fileio import atomic_paths

    a, b = tmp_path / "a.npz", tmp_path / "b.bvh"
    a.write_text("old a")
    b.write_text("old b")
    with pytest.raises(KeyboardInterrupt):
        with atomic_paths([a, b]) as (ta, tb):
            open(ta, "w").write("new a")
            raise KeyboardInterrupt  # an interrupt while the second is being written
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    with pytest.raises(ChoreoInputError, match="b.bvh: is a folder"):
        with atomic_paths([a, b]) as (ta, tb):
            open(ta, "w").write("new a")
            open(tb, "w").write("new b")
            b.unlink()
            b.mkdir()  # the second target turned into a folder meanwhile: it cannot be replaced
    assert a.read_text() == "old a" and b.is_dir()
    b.rmdir()
    with atomic_paths([a, b]) as (ta, tb):
        assert ta.endswith(".npz") and tb.endswith(".bvh")
        open(ta, "w").write("new a")
        open(tb, "w").write("new b")
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert sorted(os.listdir(tmp_path)) == ["a.npz", "b.bvh"]


def test_a_long_output_name_still_gets_its_temporary_file(tmp_path):
    target = tmp_path / ("d" * 240 + ".json")  # a legal name; name + temp decorations is not
    with atomic_path(target, suffix=".json") as tmp:
        open(tmp, "w").write("x")  # was: OSError, file name too long
    assert target.read_text() == "x"


def test_cache_removes_the_temporary_files_of_dead_writers(tmp_path, monkeypatch):
    import subprocess
    import sys
    import time

    import numpy as np

    from choreo.core.audio import cache

    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv("CHOREO_CACHE_DIR", str(folder))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    names = {
        f".k1.npz.{dead_pid}.abc123.part.npz": False,  # its writer is gone: removed
        f".k2.npz.{os.getpid()}.abc123.part.npz": True,  # its writer (this process) is alive: kept
        ".k3.npz.x7y8z9.npz": True,  # an old-style name, fresh: kept
        ".k4.npz.q1w2e3.npz": False,  # an old-style name, two hours old: removed
        "entry.npz": True,  # an entry
    }
    for name in names:
        (folder / name).write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(folder / ".k4.npz.q1w2e3.npz", (two_hours_ago, two_hours_ago))
    assert cache.load("missing-key") is None  # using the cache sweeps it (was: orphans stayed forever)
    assert sorted(os.listdir(folder)) == sorted(n for n, keep in names.items() if keep)
    assert cache.save("k5", {"x": np.arange(3)}) is not None


def test_progress_in_a_log_is_a_plain_line_every_interval(capsys):
    import time

    from choreo.core.progress import cli_bar

    with cli_bar("generate", interval=0.2) as bar:  # stderr is captured: not a terminal
        bar(0.1, "tracking beats")  # within the first interval: not shown
        time.sleep(0.25)
        bar(0.42, "render frame 100/1831")
        bar(0.43, "render frame 101/1831")  # within the interval after the last line: not shown
    assert capsys.readouterr().err.splitlines() == ["generate: 42% render frame 100/1831"]
    with cli_bar("quiet", enabled=False, interval=0.0) as bar:
        bar(0.5, "x")
    assert capsys.readouterr().err == ""

"""Shared fixtures. Tests that need ../shared/data skip when it is absent,
except under CI=true, where its absence is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CHOREO_SHARED_DATA", REPO.parent / "shared" / "data"))


def _require(path: Path) -> Path:
    if path.exists():
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{path} is missing: CI must have ../shared/data beside the clone")
    pytest.skip(f"{path} not found (set CHOREO_SHARED_DATA or put shared/ beside the repo)")


@pytest.fixture(scope="session")
def music_dir() -> Path:
    """../shared/data/music: tracks with exact beat grids."""
    return _require(SHARED_DATA / "music")


@pytest.fixture(scope="session")
def mocap_dir() -> Path:
    """../shared/data/mocap/cmu: CMU takes on the CC_Base skeleton (BVH)."""
    return _require(SHARED_DATA / "mocap" / "cmu")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep feature caches out of the user's home during tests."""
    monkeypatch.setenv("CHOREO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))

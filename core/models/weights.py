"""Model weights on disk: safetensors (never pickle) with Choreo's metadata as JSON.

A weights file holds float tensors and, in its safetensors metadata, a
``choreo`` JSON entry: the model kind, its config, the corpus it was trained
on and how. The weights Choreo ships are listed with their sha256 in
``weights/weights.json``; :func:`load_weights` checks a file against it so a
truncated or altered file is reported by name with the expected checksum.
An install may hold only some of the registered files (the extension zip
ships ``default`` and the beat tracker's ``beats`` alone): :func:`installed_models` lists those present, and
:func:`shipped_path` says so for one that is not. Reading and writing need
numpy only (:mod:`.safetensors`; no torch, no safetensors package).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import atomic_path, sha256_file
from .safetensors import read_safetensors, write_safetensors

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
REGISTRY = WEIGHTS_DIR / "weights.json"
DEFAULT_MODEL = "default"


def registry() -> dict:
    """The shipped weights: ``{name: {"file", "sha256", "bytes", "description"}}``."""
    if not REGISTRY.is_file():
        return {}
    with open(REGISTRY, encoding="utf-8") as f:
        return json.load(f)


def installed_models() -> list[str]:
    """Names in :func:`registry` whose weights file is present in this install, sorted."""
    return sorted(n for n, e in registry().items() if (WEIGHTS_DIR / e["file"]).is_file())


def shipped_path(name: str = DEFAULT_MODEL) -> Path:
    """Path of the shipped weights called ``name`` (see :func:`registry`).

    Raises :class:`ChoreoInputError` for a name the registry does not know, or
    one whose file is not part of this install (the extension ships only
    ``default`` and ``beats``; the other models live in the source repository).
    """
    reg = registry()
    if name not in reg:
        known = ", ".join(sorted(reg)) or "none"
        raise ChoreoInputError(REGISTRY, f"no shipped weights named {name!r} (known: {known})")
    path = WEIGHTS_DIR / reg[name]["file"]
    if not path.is_file():
        have = ", ".join(installed_models()) or "none"
        raise ChoreoInputError(REGISTRY, f"the {name} weights are not part of this install (installed: "
                                         f"{have}); copy {reg[name]['file']} from the Choreo repository's "
                                         f"weights/ folder into {WEIGHTS_DIR}, or pass the file itself")
    return path


def expected_sha256(path: str | os.PathLike) -> str | None:
    """The registry's checksum for ``path`` when it is a shipped weights file."""
    p = Path(path).resolve()
    for entry in registry().values():
        if (WEIGHTS_DIR / entry["file"]).resolve() == p:
            return entry["sha256"]
    return None


def save_weights(path: str | os.PathLike, tensors: dict[str, np.ndarray], meta: dict) -> str:
    """Write ``tensors`` (name → array) and ``meta`` atomically; returns the sha256."""
    write_safetensors(path, tensors, metadata={"choreo": json.dumps(meta, sort_keys=True)})
    return sha256_file(path)


def load_weights(path: str | os.PathLike, expected: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """(tensors, meta) from a Choreo weights file.

    ``expected`` (sha256 hex) defaults to the registry's checksum when ``path``
    is a shipped file; a mismatch raises :class:`ChoreoInputError` naming the
    file and the expected checksum.
    """
    path = Path(path)
    if not path.is_file():
        raise ChoreoInputError(path, "weights file not found")
    expected = expected or expected_sha256(path)
    if expected is not None:
        actual = sha256_file(path)
        if actual != expected:
            raise ChoreoInputError(path, f"weights file is corrupt or altered: sha256 {actual[:16]}…, "
                                         f"expected {expected}")
    try:
        tensors, metadata = read_safetensors(path)
    except ChoreoInputError as exc:
        raise ChoreoInputError(path, f"not a safetensors weights file ({exc.problem})") from None
    raw = metadata.get("choreo")
    if raw is None:
        raise ChoreoInputError(path, "safetensors file has no Choreo metadata (not Choreo weights)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise ChoreoInputError(path, "Choreo metadata in the weights file is not valid JSON") from None
    return tensors, meta


def module_tensors(module) -> dict[str, np.ndarray]:
    """A torch module's parameters and buffers as float32 numpy arrays."""
    return {k: v.detach().cpu().float().numpy() for k, v in module.state_dict().items()}


def register_weights(name: str, path: str | os.PathLike, description: str) -> dict:
    """Add or update ``name`` in ``weights/weights.json`` for a file in ``weights/``
    (its sha256 and size), written atomically; returns the entry."""
    path = Path(path).resolve()
    if path.parent != WEIGHTS_DIR.resolve():
        raise ValueError(f"shipped weights must live in {WEIGHTS_DIR}, got {path}")
    reg = registry()
    reg[name] = {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size,
                 "description": description}
    with atomic_path(REGISTRY, suffix=".json") as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(reg, f, indent=2, sort_keys=True)
            f.write("\n")
    return reg[name]

"""Model weights on disk: safetensors (never pickle) with Choreo's metadata as JSON.

A weights file holds float tensors and, in its safetensors metadata, a
``choreo`` JSON entry: the model kind, its config, the corpus it was trained
on and how. The weights Choreo ships are listed with their sha256 in
``weights/weights.json``; :func:`load_weights` checks a file against it so a
truncated or altered file is reported by name with the expected checksum.
Loading needs numpy and the ``safetensors`` package only (no torch).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from ..errors import ChoreoInputError
from ..fileio import atomic_path, sha256_file

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
REGISTRY = WEIGHTS_DIR / "weights.json"
DEFAULT_MODEL = "default"
_MAX_HEADER = 100 * 1024 * 1024


def registry() -> dict:
    """The shipped weights: ``{name: {"file", "sha256", "bytes", "description"}}``."""
    if not REGISTRY.is_file():
        return {}
    with open(REGISTRY, encoding="utf-8") as f:
        return json.load(f)


def shipped_path(name: str = DEFAULT_MODEL) -> Path:
    """Path of the shipped weights called ``name`` (see :func:`registry`)."""
    reg = registry()
    if name not in reg:
        known = ", ".join(sorted(reg)) or "none"
        raise ChoreoInputError(REGISTRY, f"no shipped weights named {name!r} (known: {known})")
    return WEIGHTS_DIR / reg[name]["file"]


def expected_sha256(path: str | os.PathLike) -> str | None:
    """The registry's checksum for ``path`` when it is a shipped weights file."""
    p = Path(path).resolve()
    for entry in registry().values():
        if (WEIGHTS_DIR / entry["file"]).resolve() == p:
            return entry["sha256"]
    return None


def save_weights(path: str | os.PathLike, tensors: dict[str, np.ndarray], meta: dict) -> str:
    """Write ``tensors`` (name → array) and ``meta`` atomically; returns the sha256."""
    from safetensors.numpy import save_file

    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file(arrays, tmp, metadata={"choreo": json.dumps(meta, sort_keys=True)})
    return sha256_file(path)


def _check_header(path: Path) -> None:
    """Reject files that are not safetensors before handing them to the parser."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ChoreoInputError(path, "not a safetensors weights file (too short)")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, _MAX_HEADER):
            raise ChoreoInputError(path, "not a safetensors weights file (bad header length)")
        try:
            json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ChoreoInputError(path, "not a safetensors weights file (unreadable header)") from None


def load_weights(path: str | os.PathLike, expected: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """(tensors, meta) from a Choreo weights file.

    ``expected`` (sha256 hex) defaults to the registry's checksum when ``path``
    is a shipped file; a mismatch raises :class:`ChoreoInputError` naming the
    file and the expected checksum.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise ChoreoInputError(path, "weights file not found")
    expected = expected or expected_sha256(path)
    if expected is not None:
        actual = sha256_file(path)
        if actual != expected:
            raise ChoreoInputError(path, f"weights file is corrupt or altered: sha256 {actual[:16]}…, "
                                         f"expected {expected}")
    _check_header(path)
    try:
        tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            raw = (f.metadata() or {}).get("choreo")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ChoreoInputError(path, f"unreadable safetensors weights ({exc})") from None
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

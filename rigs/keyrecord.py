"""Which keys of a dance are Choreo's and which are the animator's.

When Choreo keys a dance it records, on the action, a fingerprint of every key it
wrote (channel, frame, value). A key whose fingerprint is not in the record is
the animator's: one they inserted, or a Choreo key they moved or changed (a
re-keyed pose on a beat, a drag in the Graph Editor). **Regenerate Range** and
**Fill Between Keys** treat those keys as poses the new dance must pass through
(:mod:`.edits`); an action Choreo never wrote (a blocking pass keyed by hand)
has no record, so every key in it is the animator's.

The record is one ID property on the action (``choreo_keys``: sorted 52-bit
fingerprints stored as doubles, exact below 2⁵³), so it is saved with the
.blend, copied with the action, and undone with it. Fingerprints use the
float32 bits Blender stores, so a key matches only if it is bit-for-bit what
Choreo wrote.
"""

from __future__ import annotations

import hashlib

import numpy as np

PROPERTY = "choreo_keys"
_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)


def _channel_id(data_path: str, index: int) -> np.uint64:
    digest = hashlib.blake2b(f"{data_path}[{index}]".encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def fingerprints(data_path: str, index: int, co: np.ndarray) -> np.ndarray:
    """(n,) float64 fingerprints of keys ``co`` (n, 2: frame, value, float32) on one channel."""
    bits = np.ascontiguousarray(np.asarray(co, np.float32).reshape(-1, 2)).view(np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = _channel_id(data_path, index) ^ (bits[:, 0] * _M1) ^ ((bits[:, 1] + np.uint64(1)) * _M2)
        h = (h ^ (h >> np.uint64(29))) * _M3
    return (h >> np.uint64(12)).astype(np.float64)


def read_record(action) -> np.ndarray | None:
    """The sorted fingerprints recorded on ``action``, or None (no record: not Choreo's)."""
    if action is None or PROPERTY not in action:
        return None
    return np.sort(np.asarray(action[PROPERTY], np.float64).ravel())


def store_record(action, prints: np.ndarray) -> None:
    action[PROPERTY] = np.unique(np.asarray(prints, np.float64)).tolist()


def animator_keys(fc, record: np.ndarray | None) -> np.ndarray:
    """Frames (float) of the keys on F-curve ``fc`` that are not in ``record`` (all of
    them without a record)."""
    from .actions import read_keys

    co = read_keys(fc, ("co",))["co"]
    if record is None:
        return co[:, 0].astype(np.float64)
    mine = np.isin(fingerprints(fc.data_path, fc.array_index, co), record)
    return co[~mine, 0].astype(np.float64)

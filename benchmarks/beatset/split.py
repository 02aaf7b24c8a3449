"""The fixed dev/test split of the beat set.

Tracks are ordered by their feature stratum (meter, Latin, swing, pickup,
tempo change, drum-less intro, feel), and within a stratum by the sha256 of
the track name; every third track of that order (positions 1, 4, 7, ...) is
``test``, the rest ``dev``. The order depends only on the names and the
features of the fixed plan (``song.plan_song``), never on which tracks were
rendered (``--limit``) or on any result, so the split never changes unless
the generator does. Never tune on ``test``.
"""

from __future__ import annotations

import hashlib


def stratum(features: dict) -> tuple:
    f = features
    return (f["meter"], f["latin"], f["swing"], f["pickup"], f["tempo_change"],
            f["nodrum_intro"], f["feel"])


def name_hash(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def assign(tracks: dict[str, dict]) -> dict[str, str]:
    """{name: features} -> {name: "dev" | "test"}."""
    order = sorted(tracks, key=lambda n: (stratum(tracks[n]), name_hash(n)))
    return {n: ("test" if i % 3 == 1 else "dev") for i, n in enumerate(order)}


def full_split(set_seed: int | None = None) -> dict[str, str]:
    from .song import SET_SEED, plan_song, track_list
    seed = SET_SEED if set_seed is None else set_seed
    plans = [plan_song(i, seed) for i in range(len(track_list()))]
    return assign({p.name: p.features for p in plans})

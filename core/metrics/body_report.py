"""``choreo bench``'s second table: the body on the floor, and whether the music matters.

One row per method: the means of :func:`.physical.physical_scores` over its
dances, the energy–loudness correlation (:func:`.music_dependence.energy_loudness_r`,
2-s windows) and, for generators, :func:`.music_dependence.dependence_scores`
over the long-term dances (several songs × seeds). GT and the real-dance
reference set are measured with the same functions. :func:`plot_music` draws
the picture behind the numbers.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..motion import Motion
from .music_dependence import dependence_scores, energy_loudness_r, speed_curve
from .physical import PHYSICAL_METRICS, physical_scores
from .report import _fmt

DEPENDENCE = {
    "same_seed_speed_r": ("↓", "speed-curve r, one seed on different songs (≤ 0.3: the song matters)"),
    "same_seed_heading_r": ("↓", "heading-rate r, one seed on different songs"),
    "same_song_speed_r": ("≈", "speed-curve r, different seeds on one song"),
    "same_seed_pose_cm": ("↑", "joint distance between one seed's dances on different songs (cm)"),
    "same_song_pose_cm": ("↑", "joint distance between seeds on one song (cm)"),
    "energy_loudness_r": ("↑", "r of dance energy and music level per 2-s window (≥ 0.35)"),
    "rig_below_floor_frac": ("↓", "on the default mannequin: frames with its mesh > 1 cm under the floor"),
    "rig_feet_on_floor_frac": ("↑", "on the mannequin: contact frames with its mesh within 2 cm of the floor"),
    "rig_joint_err_cm": ("↓", "on the mannequin: mean joint distance to the dance after retargeting (cm)"),
}
SHOWN = ("energy_loudness_r", "same_seed_speed_r", "same_seed_heading_r", "same_song_speed_r",
         "same_seed_pose_cm", "same_song_pose_cm", "touch_frac", "both_up_frac", "float_frac", "slide_cm_s",
         "below_floor_frac", "legs_through_frac", "arm_through_body_frac", "net_turns_per_min",
         "travel_m_per_min", "wander_m", "rig_below_floor_frac", "rig_feet_on_floor_frac", "rig_joint_err_cm")


def body_row(method: str, motions: Sequence[Motion], audio: Sequence[tuple[np.ndarray, int]] | None = None,
             dances: dict | None = None, rig=None) -> dict:
    """The row of ``method``: physical means over ``motions``, energy–loudness r with
    ``audio[i] = (samples from the dance's start, rate)``, dependence over ``dances[song][seed]``,
    and ``rig(motion) -> dict`` (the ``rig_*`` figures; bpy lives outside core) of the first dance."""
    scores = [physical_scores(m) for m in motions]
    out = {k: float(np.mean([s[k] for s in scores])) for k in PHYSICAL_METRICS}
    if audio is not None:
        r = [energy_loudness_r(m, y, sr) for m, (y, sr) in zip(motions, audio)]
        out["energy_loudness_r"] = float(np.nanmean(r)) if np.isfinite(r).any() else float("nan")
    if dances:
        out.update(dependence_scores(dances))
    if rig is not None and len(motions):
        out.update(rig(motions[0]))
    return {"method": method, "metrics": out}


def markdown_body_table(rows: Sequence[dict]) -> str:
    """Markdown: a row per method, the :data:`SHOWN` columns."""
    d = {**DEPENDENCE, **PHYSICAL_METRICS}
    heads = [f"{k} {d[k][0]}" for k in SHOWN]
    lines = ["| method | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for r in rows:
        lines.append(f"| {r['method']} | " + " | ".join(_fmt(r["metrics"].get(k)) for k in SHOWN) + " |")
    return "\n".join(lines) + "\n"


def body_note() -> str:
    d = {**DEPENDENCE, **PHYSICAL_METRICS}
    return "\n".join(f"- **{k}** {d[k][0]}: {d[k][1]}" for k in SHOWN) + "\n"


def plot_music(dances: dict[str, dict[int, Motion]], levels: dict[str, np.ndarray], path: str | os.PathLike,
               title: str = "") -> None:
    """Two panels: one seed's speed curve on each song (with the song's level, dashed),
    and each seed's on the first song. PNG written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..fileio import atomic_path

    songs = sorted(dances)
    seed = min(dances[songs[0]])
    fig, axes = plt.subplots(2, 1, figsize=(8, 5.5), dpi=110, sharex=True)
    for i, s in enumerate(songs):
        m = dances[s][seed]
        t = m.times
        line, = axes[0].plot(t, speed_curve(m), lw=1.2, label=s)
        lv = levels.get(s)
        if lv is not None and len(lv):
            lv = np.asarray(lv)[: len(t)]
            scale = speed_curve(m)
            z = (lv - lv.mean()) / max(lv.std(), 1e-9) * scale.std() + scale.mean()
            axes[0].plot(t[: len(z)], z, lw=0.8, ls="--", color=line.get_color(), alpha=0.7)
    axes[0].set_ylabel("mean joint speed (m/s)")
    axes[0].set_title(f"{title} seed {seed} on each song (dashed: the song's level, scaled)")
    axes[0].legend(fontsize=7, ncol=2)
    for k, m in sorted(dances[songs[0]].items()):
        axes[1].plot(m.times, speed_curve(m), lw=1.2, label=f"seed {k}")
    axes[1].set_title(f"each seed on {songs[0]}")
    axes[1].set_xlabel("time (s)")
    axes[1].set_ylabel("mean joint speed (m/s)")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)

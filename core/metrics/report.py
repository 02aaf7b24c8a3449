"""The benchmark's outputs: markdown table, JSON, a bar plot of every metric.

Rows are methods, columns metrics with their direction in the header
(↑ higher is better, ↓ lower is better); variants are listed under the table.
"""

from __future__ import annotations

import json
import math
import os
from typing import Sequence

import numpy as np

from ..fileio import atomic_path

#: Columns that are not in :data:`choreo.core.metrics.suite.METRICS`: (direction, description).
EXTRA = {
    "crossmodal": ("↓", "Ren et al. §6.3.2: ||S−S'||² to the dance of the nearest training music, learned pose-metric space"),
}
RESOURCES = {
    "speed_x_realtime": ("↑", "generated seconds per wall second, whole pipeline from samples, 1 thread"),
    "peak_rss_mb": ("↓", "peak RSS (MB) of a fresh process that loads the weights and generates"),
}


def columns() -> dict[str, tuple[str, str, str]]:
    """name -> (direction, description, variant) of every metric column."""
    from .suite import METRICS

    cols = {k: (v.direction, v.description, v.variant) for k, v in METRICS.items()}
    cols.update({k: (d, desc, "") for k, (d, desc) in EXTRA.items()})
    return cols


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def markdown_table(rows: Sequence[dict]) -> str:
    """Markdown table: a row per method, a column per metric (and resources)."""
    cols = columns()
    heads = [f"{k} {d}" for k, (d, _, _) in cols.items()] + [f"{k} {d}" for k, (d, _) in RESOURCES.items()]
    lines = ["| method | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for r in rows:
        vals = [_fmt(r["metrics"].get(k)) for k in cols]
        res = r.get("resources") or {}
        vals += [_fmt(res.get(k)) for k in RESOURCES]
        lines.append(f"| {r['method']} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def markdown_danceit_table(rows: Sequence[dict]) -> str:
    """DanceIt's own forms (its Tables I and II): S_BA, MDD and SDD, the hand and foot
    moving distribution (% of adjacent-frame displacements per Table II bin, in DanceIt's
    pixels: 0–20–40–60–80–400 px per 1/30 s, 1 px ≈ 3.2 mm) and, for dances assembled from
    fragments, the join figure (p95 velocity change at joins / inside, ±1 and ±5 frames)."""
    bins = ("0–20", "20–40", "40–60", "60–80", "80+")
    heads = (["S_BA ↑", "MDD-H ↓", "MDD-F ↓", "SDD-H ↓", "SDD-F ↓"] + [f"hand {b}" for b in bins]
             + [f"foot {b}" for b in bins] + ["join/inside p95 ±1 ↓", "±5 ↓"])
    lines = ["| method | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for r in rows:
        m, d = r["metrics"], r.get("danceit") or {}
        vals = [_fmt(m.get(k)) for k in ("S_BA", "MDD_hand", "MDD_foot", "SDD_hand", "SDD_foot")]
        vals += [f"{v:.1f}" for v in d.get("hand_pct", [float("nan")] * 5)]
        vals += [f"{v:.1f}" for v in d.get("foot_pct", [float("nan")] * 5)]
        vals += [_fmt(d.get("join_p95_ratio_1")), _fmt(d.get("join_p95_ratio_5"))]
        lines.append(f"| {r['method']} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def variants_note() -> str:
    cols = columns()
    out = [f"- **{k}** {d}: {desc}" + (f" — *{var}*" if var else "") for k, (d, desc, var) in cols.items()]
    out += [f"- **{k}** {d}: {desc}" for k, (d, desc) in RESOURCES.items()]
    return "\n".join(out) + "\n"


def _clean(o):
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    if isinstance(o, (np.floating, float)):
        return float(o) if math.isfinite(float(o)) else None
    if isinstance(o, np.integer):
        return int(o)
    return o


def write_json(path: str | os.PathLike, data: dict) -> None:
    """JSON (NaN/inf → null), atomically."""
    with atomic_path(path, suffix=".json") as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_clean(data), f, indent=1, ensure_ascii=False)
            f.write("\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path, suffix=".md") as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def plot_metrics(rows: Sequence[dict], path: str | os.PathLike) -> None:
    """One small bar chart per metric (methods side by side), PNG written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = columns()
    n = len(cols)
    ncol = 4
    nrow = int(math.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), dpi=100, squeeze=False)
    names = [r["method"] for r in rows]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (k, (d, _, _)) in zip(axes.flat, cols.items()):
        vals = [r["metrics"].get(k) for r in rows]
        vals = [np.nan if v is None else float(v) for v in vals]
        ax.bar(range(len(vals)), vals, color=[colors[i % len(colors)] for i in range(len(vals))])
        ax.set_title(f"{k} {d}", fontsize=9)
        ax.set_xticks(range(len(vals)))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)

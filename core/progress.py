"""Progress reporting shared by the CLI (tqdm) and the add-on (panel bar).

Long-running core functions take ``progress: ProgressFn | None`` and call it
with a fraction in [0, 1] and a short label. They never print.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, Optional

ProgressFn = Callable[[float, str], None]


def report(progress: Optional[ProgressFn], fraction: float, label: str = "") -> None:
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), label)


def scaled(progress: Optional[ProgressFn], start: float, stop: float) -> Optional[ProgressFn]:
    """A callback that maps [0, 1] onto [start, stop] of ``progress`` (for sub-steps)."""
    if progress is None:
        return None
    return lambda f, label="": report(progress, start + (stop - start) * f, label)


@contextlib.contextmanager
def cli_bar(desc: str, enabled: bool | None = None) -> Iterator[ProgressFn]:
    """A tqdm bar on stderr driven by a :data:`ProgressFn` (hidden when not a terminal
    unless ``enabled`` is True)."""
    from tqdm import tqdm

    if enabled is None:
        enabled = sys.stderr.isatty()
    bar = tqdm(total=1000, desc=desc, disable=not enabled, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")
    try:
        def update(fraction: float, label: str = "") -> None:
            bar.n = int(round(fraction * 1000))
            if label:
                bar.set_postfix_str(label, refresh=False)
            bar.refresh()
        yield update
    finally:
        bar.close()

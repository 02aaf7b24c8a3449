"""Progress reporting shared by the CLI (tqdm, or plain lines in logs) and the add-on (panel bar).

Long-running core functions take ``progress: ProgressFn | None`` and call it
with a fraction in [0, 1] and a short label. They never print.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
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


#: Seconds between plain progress lines when stderr is not a terminal (a log);
#: ``$CHOREO_PROGRESS_INTERVAL`` overrides it.
LOG_INTERVAL = 5.0


def _log_interval() -> float:
    try:
        return max(float(os.environ.get("CHOREO_PROGRESS_INTERVAL", LOG_INTERVAL)), 0.0)
    except ValueError:
        return LOG_INTERVAL


@contextlib.contextmanager
def cli_bar(desc: str, enabled: bool | None = None, interval: float | None = None) -> Iterator[ProgressFn]:
    """A :data:`ProgressFn` shown on stderr: a tqdm bar on a terminal; elsewhere (a
    log file, a pipe) one plain line such as ``generate: 42% render frame 100/1831``
    every ``interval`` seconds (default :data:`LOG_INTERVAL`), so long runs are not
    silent in logs. ``enabled`` True forces the bar, False shows nothing."""
    if enabled is None and not sys.stderr.isatty():
        yield _log_lines(desc, _log_interval() if interval is None else interval)
        return
    from tqdm import tqdm

    bar = tqdm(total=1000, desc=desc, disable=enabled is False, leave=False,
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


def _log_lines(desc: str, interval: float) -> ProgressFn:
    """Print the latest state at most once per ``interval`` s (the first after ``interval``)."""
    last = [time.monotonic()]

    def update(fraction: float, label: str = "") -> None:
        now = time.monotonic()
        if now - last[0] >= interval:
            last[0] = now
            print(f"{desc}: {100 * fraction:.0f}%" + (f" {label}" if label else ""), file=sys.stderr, flush=True)
    return update

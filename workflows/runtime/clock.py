"""Clocks for the runtime's processes.

Production runs on the system clock. End-to-end tests must move time by days without
sleeping, across separate worker and scheduler processes: ``RAPPORT_CLOCK_FILE`` names a file
holding an offset in seconds that every process adds to the system time (re-read when the
file changes), so a test writes one number and all processes agree on the new "now".

:func:`utcnow` is the runtime's "now" in this process (run transitions, e-mail and timer
bookkeeping); :func:`set_clock` replaces it (the worker installs :func:`process_clock`, tests a
controlled clock).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

CLOCK_FILE_VARIABLE = "RAPPORT_CLOCK_FILE"


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now()


class OffsetFileClock(SystemClock):
    """System time plus the offset (seconds) written in ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: float | None = None
        self._offset = dt.timedelta(0)

    def _read(self) -> dt.timedelta:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return dt.timedelta(0)
        if stamp != self._stamp:
            text = self.path.read_text(encoding="utf-8").strip()
            self._offset = dt.timedelta(seconds=float(text or 0))
            self._stamp = stamp
        return self._offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self._read()


def process_clock() -> SystemClock:
    """The clock this process runs on: the offset file when configured, else the system's."""
    path = os.environ.get(CLOCK_FILE_VARIABLE)
    return OffsetFileClock(path) if path else SystemClock()


def _system_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_current: Callable[[], dt.datetime] = _system_time


def set_clock(clock: Callable[[], dt.datetime] | None) -> None:
    """Drive this process's runtime by ``clock`` (tests, simulations); None: the system's."""
    global _current
    _current = clock or _system_time


def utcnow() -> dt.datetime:
    """Now, by the clock set with :func:`set_clock` (aware UTC)."""
    return _current()

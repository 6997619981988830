"""A clock the tests move by hand, installed as the workflow runtime's clock, and the firing of
the timers it makes due (what the scheduler and a worker do, in this process)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from workflows.runtime import dispatch, relay, timers


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now.astimezone(dt.UTC)


@contextmanager
def installed_clock(start: dt.datetime) -> Iterator[FakeClock]:
    """The runtime reads a clock starting at ``start`` and drives runs in this process;
    both are undone on exit."""
    fake = FakeClock(start)
    dispatch.set_clock(fake)
    dispatch.install()
    try:
        yield fake
    finally:
        dispatch.set_clock(None)
        timers.set_timer_handler(None)
        relay.set_event_handler(None)


async def fire_due(clock: FakeClock) -> int:
    """Claim the timers due at ``clock()`` and fire them; how many fired."""
    fired = 0
    for timer in await timers.claim_due_timers(clock()):
        fired += await timers.fire_timer(timer.id, timer.claim_token, clock())
    return fired

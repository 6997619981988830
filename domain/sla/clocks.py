"""One metric instance of one ticket (a clock) and the moves it can make; pure.

A clock accumulates business time on its target's calendar while it runs. It keeps what it ran
before its latest start (``elapsed_before``) and when that start was (``running_since``), so the
business time elapsed at any instant is exact to the second, and the due instant is where the
time still owed ends on the calendar.

States: ACTIVE (running, not yet due), PAUSED (stopped, waiting on the customer), FULFILLED
(stopped within its target), BREACHED (its due instant passed; it may keep running until it is
fulfilled, so the compliance report can tell how late it was).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.calendars import add_business_time, business_time_between
from domain.sla.policies import Target

ZERO = timedelta()


class State(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    FULFILLED = "FULFILLED"
    BREACHED = "BREACHED"


class Kind(StrEnum):
    """What an ``SlaEvent`` row records."""

    ACTIVATED = "ACTIVATED"
    PAUSED = "PAUSED"
    RESUMED = "RESUMED"
    WARNED = "WARNED"
    FULFILLED = "FULFILLED"
    BREACHED = "BREACHED"


@dataclass(frozen=True)
class Change:
    """One move of one clock: ``margin`` is target minus business time elapsed at ``at``
    (negative once late)."""

    kind: Kind
    metric: str
    cycle: int
    at: datetime
    margin: timedelta


@dataclass(frozen=True)
class Clock:
    metric: str
    cycle: int  # 1 for the first instance of this metric on the ticket, 2 for the next...
    policy: str
    target: Target
    warn_percent: int
    started_at: datetime
    state: State
    elapsed_before: timedelta = ZERO
    running_since: datetime | None = None
    due_at: datetime | None = None
    warned_at: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def open(self) -> bool:
        """Not stopped for good (fulfilled): it runs or is paused."""
        return self.stopped_at is None

    def elapsed(self, at: datetime) -> timedelta:
        if self.running_since is None:
            return self.elapsed_before
        ran = business_time_between(self.target.calendar, self.running_since, at)
        return self.elapsed_before + max(ran, ZERO)

    def left(self, at: datetime) -> timedelta:
        return self.target.duration - self.elapsed(at)

    @property
    def warn_after(self) -> timedelta:
        """The share of the target at which the warning is due, in whole seconds (rounded up
        so that it never comes before the share)."""
        seconds = math.ceil(self.target.duration.total_seconds() * self.warn_percent / 100)
        return timedelta(seconds=seconds)

    @property
    def warn_due(self) -> datetime | None:
        """When ``sla.warning`` is due: only for an ACTIVE running clock not yet warned."""
        if self.state is not State.ACTIVE or self.running_since is None or self.warned_at:
            return None
        owed = max(self.warn_after - self.elapsed_before, ZERO)
        return _add(self, self.running_since, owed)

    @property
    def achieved(self) -> timedelta | None:
        """Business time it took, once stopped for good."""
        return self.elapsed_before if self.stopped_at is not None else None

    @property
    def met(self) -> bool | None:
        if self.stopped_at is None:
            return None
        return self.breached_at is None


def _add(clock: Clock, start: datetime, owed: timedelta) -> datetime:
    return add_business_time(clock.target.calendar, start, owed)


def _margin(clock: Clock, at: datetime) -> timedelta:
    return clock.target.duration - clock.elapsed(at)


def _change(clock: Clock, kind: Kind, at: datetime) -> Change:
    return Change(kind, clock.metric, clock.cycle, at, _margin(clock, at))


def _planned(clock: Clock) -> Clock:
    """The clock with its due instant worked out from where it runs (None while stopped)."""
    if clock.running_since is None:
        # A breached clock keeps the instant it was due; a paused one has none.
        due = None if clock.breached_at is None else clock.due_at
        return dataclasses.replace(clock, due_at=due)
    if clock.breached_at is not None:
        return clock
    owed = max(clock.target.duration - clock.elapsed_before, ZERO)
    return dataclasses.replace(clock, due_at=_add(clock, clock.running_since, owed))


def start(
    metric: str, cycle: int, policy: str, target: Target, warn_percent: int, at: datetime
) -> tuple[Clock, Change]:
    held = target.resolved(at)
    clock = _planned(Clock(metric, cycle, policy, held, warn_percent, at, State.ACTIVE, ZERO, at))
    return clock, _change(clock, Kind.ACTIVATED, at)


def catch_up(clock: Clock, at: datetime) -> tuple[Clock, list[Change]]:
    """Record the warning and the breach whose instants are at or before ``at``, each at its own
    instant (not at ``at``): a timer or an update that comes late still tells the truth."""
    changes: list[Change] = []
    warn_due = clock.warn_due
    before_due = clock.due_at is None or (warn_due is not None and warn_due < clock.due_at)
    if warn_due is not None and warn_due <= at and before_due:
        clock = dataclasses.replace(clock, warned_at=warn_due)
        changes.append(_change(clock, Kind.WARNED, warn_due))
    if clock.state is State.ACTIVE and clock.due_at is not None and clock.due_at <= at:
        due = clock.due_at
        clock = dataclasses.replace(clock, state=State.BREACHED, breached_at=due)
        changes.append(_change(clock, Kind.BREACHED, due))
    return clock, changes


def pause(clock: Clock, at: datetime) -> tuple[Clock, list[Change]]:
    if clock.running_since is None or clock.stopped_at is not None:
        return clock, []
    state = State.PAUSED if clock.state is State.ACTIVE else clock.state
    stopped = dataclasses.replace(
        clock, state=state, elapsed_before=clock.elapsed(at), running_since=None
    )
    return _planned(stopped), [_change(stopped, Kind.PAUSED, at)]


def resume(clock: Clock, at: datetime) -> tuple[Clock, list[Change]]:
    if clock.running_since is not None or clock.stopped_at is not None:
        return clock, []
    state = State.ACTIVE if clock.state is State.PAUSED else clock.state
    running = _planned(dataclasses.replace(clock, state=state, running_since=at))
    return running, [_change(running, Kind.RESUMED, at)]


def fulfil(clock: Clock, at: datetime) -> tuple[Clock, list[Change]]:
    if clock.stopped_at is not None:
        return clock, []
    state = State.FULFILLED if clock.breached_at is None else State.BREACHED
    done = dataclasses.replace(
        clock, state=state, elapsed_before=clock.elapsed(at), running_since=None, stopped_at=at
    )
    return done, [_change(done, Kind.FULFILLED, at)]


def retarget(clock: Clock, policy: str, target: Target, warn_percent: int, at: datetime) -> Clock:
    """The same clock held to another target (a new priority or policy): the business time
    already run is kept; the rest runs on the new target's calendar from ``at``."""
    if clock.stopped_at is not None:
        return clock
    elapsed = clock.elapsed(at)
    moved = dataclasses.replace(
        clock,
        policy=policy,
        target=target.resolved(clock.started_at),  # working days count from the clock's start
        warn_percent=warn_percent,
        elapsed_before=elapsed,
        running_since=at if clock.running else None,
    )
    if moved.warned_at is not None and elapsed < moved.warn_after:
        moved = dataclasses.replace(moved, warned_at=None)  # the new target warns again
    return _planned(moved)

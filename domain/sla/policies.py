"""SLA policies as the clocks use them: targets per priority and metric, each on a calendar.

A deployed policy set is stored as plain data (see :meth:`PolicyBook.from_data`): the workflow
language validates the YAML and writes this form, the domain reads it back. Selection evaluates
each policy's ``applies_when`` (CEL, over ``ticket`` and ``now``) in order; the first that holds
applies. CEL runs here with the ``cel`` package directly, so the domain needs nothing above it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

import cel

from domain.calendars import (
    BUILTIN_CALENDARS,
    BusinessCalendar,
    business_time_between,
    end_of_business_day,
)

METRICS = ("first_reply", "next_reply", "resolution")
PRIORITIES = ("URGENT", "HIGH", "NORMAL", "LOW")
FINAL_STATUSES = frozenset({"SOLVED", "CLOSED"})


class PolicyError(Exception):
    """A stored policy set that cannot be used (it validated when deployed)."""


@dataclass(frozen=True)
class Target:
    """One promise: ``minutes`` of business time on ``calendar``, or the closing of the
    ``business_days``-th working day after the clock starts.

    A clock holds its target :meth:`resolved` at its start: ``exact`` is then the business time
    allowed (for ``business_days``, from the start to that closing, to the microsecond).
    """

    minutes: int
    calendar: BusinessCalendar
    business_days: int | None = None
    exact: timedelta | None = None

    @property
    def duration(self) -> timedelta:
        return self.exact if self.exact is not None else timedelta(minutes=self.minutes)

    def resolved(self, start: dt.datetime) -> Target:
        if self.business_days is None or self.exact is not None:
            return self
        closing = end_of_business_day(self.calendar, start, self.business_days)
        allowed = business_time_between(self.calendar, start, closing)
        return dataclasses.replace(self, minutes=allowed // timedelta(minutes=1), exact=allowed)


@dataclass(frozen=True)
class Policy:
    key: str
    applies_when: str
    targets: Mapping[str, Mapping[str, Target]]
    pause_statuses: frozenset[str] = frozenset()
    warn_percent: int = 75

    def target(self, priority: str, metric: str) -> Target | None:
        return self.targets.get(priority, {}).get(metric)


@dataclass(frozen=True)
class PolicyBook:
    """The policies of one deployed set, in selection order."""

    policies: tuple[Policy, ...] = ()
    version: int = 0
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    _by_key: dict[str, Policy] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update({policy.key: policy for policy in self.policies})

    def get(self, key: str | None) -> Policy | None:
        return self._by_key.get(key) if key else None

    def select(self, ticket: Mapping[str, Any], now: dt.datetime) -> Policy | None:
        """The first policy whose condition holds for ``ticket`` (a CEL map), or None.

        A condition that fails to evaluate (a field missing on this ticket) does not hold.
        """
        for policy in self.policies:
            try:
                holds = _program(policy.applies_when).execute({"ticket": dict(ticket), "now": now})
            except Exception:
                continue
            if holds is True:
                return policy
        return None

    @classmethod
    def from_data(cls, data: Mapping[str, Any], version: int = 0) -> PolicyBook:
        """``{"calendars": {key: calendar data}, "policies": [{key, applies_when, calendar,
        targets: {PRIORITY: {metric: minutes, calendar?}}, pause_when_status, warn_at}]}``;
        calendars not given are the built-in ones."""
        calendars = dict(BUILTIN_CALENDARS)
        for key, spec in (data.get("calendars") or {}).items():
            calendars[key] = BusinessCalendar.from_data(key, spec)
        policies = [_policy(item, calendars) for item in data.get("policies") or []]
        return cls(tuple(policies), version, calendars)


def _policy(item: Mapping[str, Any], calendars: Mapping[str, BusinessCalendar]) -> Policy:
    def calendar(key: str | None) -> BusinessCalendar:
        found = calendars.get(key or "always")
        if found is None:
            raise PolicyError(f"policy {item.get('key')!r}: unknown calendar {key!r}")
        return found

    default = item.get("calendar")
    targets: dict[str, dict[str, Target]] = {}
    for priority, spec in (item.get("targets") or {}).items():
        on = calendar(spec.get("calendar") or default)
        targets[priority] = {
            metric: _target(spec[metric], on) for metric in METRICS if spec.get(metric)
        }
    return Policy(
        key=str(item["key"]),
        applies_when=str(item.get("applies_when") or "true"),
        targets=targets,
        pause_statuses=frozenset(item.get("pause_when_status") or ()),
        warn_percent=int(item.get("warn_at") or 75),
    )


def _target(value: Any, calendar: BusinessCalendar) -> Target:
    """Stored as business minutes, or as ``{"business_days": N}``."""
    if isinstance(value, Mapping):
        return Target(0, calendar, business_days=int(value["business_days"]))
    return Target(int(value), calendar)


@lru_cache(maxsize=512)
def _program(source: str) -> Any:
    return cel.compile(source)


def policy_book(policies: Sequence[Policy], version: int = 0) -> PolicyBook:
    """A book from policies built in code (tests, defaults)."""
    return PolicyBook(tuple(policies), version)

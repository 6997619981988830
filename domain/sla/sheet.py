"""A ticket's SLA sheet: its clocks and the few facts about the ticket they depend on; pure.

:func:`apply` moves the sheet by one thing that happened to the ticket and returns the changes
(the ``SlaEvent`` rows to write). Before anything else, every clock is caught up to the instant
of the happening, so a warning or breach that was due earlier is recorded at its own instant.

| metric | starts | fulfilled by | paused |
|---|---|---|---|
| first_reply | ticket created | first public agent reply | never |
| next_reply | a customer message after an agent reply, none open | next agent reply | never |
| resolution | ticket created, again on reopen | status SOLVED or CLOSED | pause statuses |

Solving or closing a ticket also stops the reply clocks still running: nobody owes a reply on a
solved ticket. A re-evaluation (priority, customer or tags changed) holds the open clocks to the
new policy's targets, keeping the business time already run; a metric the new targets leave out
stops being tracked, and one they add starts then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.sla import clocks
from domain.sla.clocks import Change, Clock
from domain.sla.policies import FINAL_STATUSES, Policy


@dataclass(frozen=True)
class Opened:
    at: datetime
    status: str
    priority: str
    policy: Policy | None


@dataclass(frozen=True)
class StatusChanged:
    at: datetime
    status: str


@dataclass(frozen=True)
class AgentReplied:
    at: datetime


@dataclass(frozen=True)
class CustomerReplied:
    at: datetime


@dataclass(frozen=True)
class Reevaluated:
    """The policy was selected again: after a priority, customer or tag change."""

    at: datetime
    priority: str
    policy: Policy | None


@dataclass(frozen=True)
class Tick:
    """Time passed (a timer fired): only warnings and breaches can happen."""

    at: datetime


Happening = Opened | StatusChanged | AgentReplied | CustomerReplied | Reevaluated | Tick


@dataclass(frozen=True)
class Sheet:
    status: str = "NEW"
    priority: str = "NORMAL"
    policy: Policy | None = None
    agent_replied: bool = False
    awaiting_reply: bool = False
    clocks: tuple[Clock, ...] = ()

    def current(self, metric: str) -> Clock | None:
        """The open instance of ``metric`` (running or paused), if any."""
        for clock in self.clocks:
            if clock.metric == metric and clock.open:
                return clock
        return None

    def latest(self, metric: str) -> Clock | None:
        found = [clock for clock in self.clocks if clock.metric == metric]
        return max(found, key=lambda clock: clock.cycle) if found else None


def replay(happenings: Iterable[Happening]) -> tuple[Sheet, list[Change]]:
    """The sheet after ``happenings`` in order, from an empty one, and every change made."""
    sheet, changes = Sheet(), []
    for happening in happenings:
        sheet, made = apply(sheet, happening)
        changes += made
    return sheet, changes


def apply(sheet: Sheet, happening: Happening) -> tuple[Sheet, list[Change]]:
    at = happening.at
    changes: list[Change] = []
    caught: list[Clock] = []
    for clock in sheet.clocks:
        clock, made = clocks.catch_up(clock, at)
        caught.append(clock)
        changes += made
    sheet = dataclasses.replace(sheet, clocks=tuple(caught))
    match happening:
        case Opened(status=status, priority=priority, policy=policy):
            sheet = dataclasses.replace(sheet, status=status, priority=priority, policy=policy)
            sheet = _start(sheet, "first_reply", at, changes)
            sheet = _start(sheet, "resolution", at, changes)
            if policy is not None and status in policy.pause_statuses:
                sheet = _move(sheet, "resolution", clocks.pause, at, changes)
        case StatusChanged(status=status):
            sheet = _status(sheet, status, at, changes)
        case AgentReplied():
            sheet = _move(sheet, "first_reply", clocks.fulfil, at, changes)
            sheet = _move(sheet, "next_reply", clocks.fulfil, at, changes)
            sheet = dataclasses.replace(sheet, agent_replied=True, awaiting_reply=False)
        case CustomerReplied():
            sheet = dataclasses.replace(sheet, awaiting_reply=True)
            if sheet.agent_replied and sheet.status not in FINAL_STATUSES:
                sheet = _start(sheet, "next_reply", at, changes)
        case Reevaluated(priority=priority, policy=policy):
            sheet = _reevaluate(sheet, priority, policy, at, changes)
        case Tick():
            pass
    return sheet, changes


def _replace(sheet: Sheet, old: Clock, new: Clock | None) -> Sheet:
    kept: list[Clock] = []
    for clock in sheet.clocks:
        if clock is not old:
            kept.append(clock)
        elif new is not None:
            kept.append(new)
    return dataclasses.replace(sheet, clocks=tuple(kept))


def _start(sheet: Sheet, metric: str, at: datetime, changes: list[Change]) -> Sheet:
    policy = sheet.policy
    target = policy.target(sheet.priority, metric) if policy is not None else None
    if policy is None or target is None or sheet.current(metric) is not None:
        return sheet
    latest = sheet.latest(metric)
    cycle = 1 if latest is None else latest.cycle + 1
    clock, change = clocks.start(metric, cycle, policy.key, target, policy.warn_percent, at)
    changes.append(change)
    return dataclasses.replace(sheet, clocks=(*sheet.clocks, clock))


def _move(sheet: Sheet, metric: str, move: object, at: datetime, changes: list[Change]) -> Sheet:
    clock = sheet.current(metric)
    if clock is None:
        return sheet
    moved, made = move(clock, at)  # type: ignore[operator]
    changes += made
    return _replace(sheet, clock, moved)


def _status(sheet: Sheet, status: str, at: datetime, changes: list[Change]) -> Sheet:
    before = sheet.status
    sheet = dataclasses.replace(sheet, status=status)
    pauses = sheet.policy.pause_statuses if sheet.policy is not None else frozenset()
    if status in FINAL_STATUSES:
        for metric in ("first_reply", "next_reply", "resolution"):
            sheet = _move(sheet, metric, clocks.fulfil, at, changes)
        return sheet
    if before in FINAL_STATUSES:  # reopened: a new resolution clock
        sheet = _start(sheet, "resolution", at, changes)
    if status in pauses:
        return _move(sheet, "resolution", clocks.pause, at, changes)
    return _move(sheet, "resolution", clocks.resume, at, changes)


def _reevaluate(
    sheet: Sheet, priority: str, policy: Policy | None, at: datetime, changes: list[Change]
) -> Sheet:
    sheet = dataclasses.replace(sheet, priority=priority, policy=policy)
    for clock in [clock for clock in sheet.clocks if clock.open]:
        target = policy.target(priority, clock.metric) if policy is not None else None
        if policy is None or target is None:
            sheet = _replace(sheet, clock, None)
            continue
        moved = clocks.retarget(clock, policy.key, target, policy.warn_percent, at)
        sheet = _replace(sheet, clock, moved)
    if sheet.status not in FINAL_STATUSES:
        if not sheet.agent_replied and sheet.latest("first_reply") is None:
            sheet = _start(sheet, "first_reply", at, changes)
        if sheet.current("resolution") is None:
            sheet = _start(sheet, "resolution", at, changes)
            if policy is not None and sheet.status in policy.pause_statuses:
                sheet = _move(sheet, "resolution", clocks.pause, at, changes)
        elif policy is not None:
            # The new policy's pause statuses hold from now on: a PENDING ticket moved to a
            # policy that pauses on PENDING stops its clock (and the reverse resumes it).
            move = clocks.pause if sheet.status in policy.pause_statuses else clocks.resume
            sheet = _move(sheet, "resolution", move, at, changes)
    # A smaller target may already be due: record that now.
    caught: list[Clock] = []
    for clock in sheet.clocks:
        clock, made = clocks.catch_up(clock, at)
        caught.append(clock)
        changes += made
    return dataclasses.replace(sheet, clocks=tuple(caught))

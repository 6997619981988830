"""SLA clocks in SQL: each change to a ticket moves its sheet in the ticket's own transaction.

The ticket services call these functions inside their transaction; a fired SLA timer calls
:func:`tick`. Each loads the ticket's sheet and clocks, applies the pure core
(:func:`domain.sla.sheet.apply`), and writes back the clocks that changed, one ``SlaEvent`` per
change, the ``sla.warning`` / ``sla.breached`` domain events, and the durable timers that will
tick the sheet at the next warning or due instant (re-planned whenever an instant moves).

The sheet row is written first, conditionally on its ``lock_version``: two writers that loaded
the same sheet (a reply racing the breach timer) cannot both record a breach; the loser raises
:class:`SheetChanged` and its transaction rolls back (a timer then fires again after its lease).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from domain.errors import Conflict
from domain.persistence.models import Customer, SlaEvent, SlaMetric, SlaSheet, Ticket, Timer
from domain.recording import emit, to_json
from domain.sla.book import calendar_of, current_book
from domain.sla.clocks import Change, Clock, Kind, State
from domain.sla.policies import PolicyBook, Target
from domain.sla.sheet import (
    AgentReplied,
    CustomerReplied,
    Happening,
    Opened,
    Reevaluated,
    Sheet,
    StatusChanged,
    Tick,
    apply,
)
from domain.text import decode_tags

TIMER_PURPOSE = "sla"
ACTOR = "system:sla"
_EVENT_OF = {Kind.WARNED: "sla.warning", Kind.BREACHED: "sla.breached"}


class SheetChanged(Conflict):
    """Someone else moved this ticket's clocks since they were read: try again."""


async def ticket_opened(ticket: Ticket, at: dt.datetime) -> None:
    book = await current_book()
    policy = book.select(await ticket_map(ticket), at)
    if policy is None:
        return
    sheet, changes = apply(Sheet(), Opened(at, ticket.status, ticket.priority, policy))
    await SlaSheet.create(
        ticket_id=ticket.id,
        policy_key=policy.key,
        status=sheet.status,
        priority=sheet.priority,
        agent_replied=sheet.agent_replied,
        awaiting_reply=sheet.awaiting_reply,
    )
    await _write(ticket, Sheet(), sheet, changes)


async def status_changed(ticket: Ticket, at: dt.datetime) -> None:
    await _advance(ticket, StatusChanged(at, ticket.status))


async def agent_replied(ticket: Ticket, at: dt.datetime) -> None:
    await _advance(ticket, AgentReplied(at))


async def customer_replied(ticket: Ticket, at: dt.datetime) -> None:
    await _advance(ticket, CustomerReplied(at))


async def reevaluate(ticket: Ticket, at: dt.datetime) -> None:
    """Select the policy again (priority, customer or tags changed); elapsed time is kept.

    A ticket no policy applied to when it was opened gets its clocks now, if one applies.
    """
    book = await current_book()
    policy = book.select(await ticket_map(ticket), at)
    if await SlaSheet.filter(ticket_id=ticket.id).exists():
        await _advance(ticket, Reevaluated(at, ticket.priority, policy), book)
    elif policy is not None and ticket.status not in ("SOLVED", "CLOSED"):
        await ticket_opened(ticket, at)


async def reevaluate_customer(customer_id: int, at: dt.datetime) -> None:
    """The customer's tags or details changed: re-select the policy of their open tickets."""
    tickets = await Ticket.filter(
        customer_id=customer_id, deleted_at=None, status__not_in=("SOLVED", "CLOSED")
    )
    for ticket in tickets:
        await reevaluate(ticket, at)


async def tick(ticket_id: int, at: dt.datetime) -> None:
    """A timer of this ticket fired: record the warnings and breaches due by ``at``."""
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is not None:
        await _advance(ticket, Tick(at))


async def ticket_map(ticket: Ticket) -> dict[str, Any]:
    """The ticket as policy conditions see it (``ticket.customer.tags``, ``ticket.priority``)."""
    customer = await Customer.get_or_none(id=ticket.customer_id)
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "tags": decode_tags(ticket.tags),
        "teamId": ticket.team_id,
        "assigneeId": ticket.assignee_id,
        "customer": None if customer is None else {
            "id": customer.id,
            "kind": customer.kind,
            "displayName": customer.display_name,
            "country": customer.country,
            "lifecycleStage": customer.lifecycle_stage,
            "tags": decode_tags(customer.tags),
            "attributes": customer.attributes or {},
        },
    }  # fmt: skip


async def _load_sheet(ticket_id: int) -> SlaSheet | None:
    query = SlaSheet.filter(ticket_id=ticket_id)
    if SlaSheet._meta.db.capabilities.dialect != "sqlite":
        # PostgreSQL: a reply and the breach timer queue up on the row instead of one failing.
        # (SQLite has no row locks; its single writer and lock_version do the same job.)
        query = query.select_for_update()
    return await query.first()


async def _advance(ticket: Ticket, happening: Happening, book: PolicyBook | None = None) -> None:
    row = await _load_sheet(ticket.id)
    if row is None:
        return
    book = book or await current_book()
    rows = await SlaMetric.filter(ticket_id=ticket.id)
    before = Sheet(
        status=row.status,
        priority=row.priority,
        policy=book.get(row.policy_key),
        agent_replied=row.agent_replied,
        awaiting_reply=row.awaiting_reply,
        clocks=tuple(_clock(metric, book) for metric in rows),
    )
    after, changes = apply(before, happening)
    claimed = await SlaSheet.filter(id=row.id, lock_version=row.lock_version).update(
        lock_version=row.lock_version + 1,
        policy_key=after.policy.key if after.policy is not None else None,
        status=after.status,
        priority=after.priority,
        agent_replied=after.agent_replied,
        awaiting_reply=after.awaiting_reply,
    )
    if not claimed:
        raise SheetChanged(f"the SLA clocks of ticket {ticket.id} changed meanwhile; try again")
    await _write(ticket, before, after, changes, rows)


async def _write(
    ticket: Ticket,
    before: Sheet,
    after: Sheet,
    changes: list[Change],
    rows: Iterable[SlaMetric] = (),
) -> None:
    stored = {(metric.metric, metric.cycle): metric for metric in rows}
    old = {(clock.metric, clock.cycle): clock for clock in before.clocks}
    kept = {(clock.metric, clock.cycle) for clock in after.clocks}
    timers = _TimerPlan(ticket.id)
    for key, dropped in list(stored.items()):
        if key not in kept:  # the new policy does not track this metric
            timers.cancel_all(key)
            await dropped.delete()
            del stored[key]
    for clock in after.clocks:
        key = (clock.metric, clock.cycle)
        previous = old.get(key)
        if previous == clock and key in stored:
            continue
        values = _columns(clock)
        existing = stored.get(key)
        if existing is None:
            stored[key] = await SlaMetric.create(
                ticket_id=ticket.id, metric=clock.metric, cycle=clock.cycle, **values
            )
        else:
            await SlaMetric.filter(id=existing.id).update(**values)
        timers.replan(clock, previous)
    await timers.save()
    due = next_due(after.clocks)
    if due != ticket.sla_due_at:
        await Ticket.filter(id=ticket.id).update(sla_due_at=due)
        ticket.sla_due_at = due
    events: list[SlaEvent] = []
    for change in changes:
        metric_row = stored.get((change.metric, change.cycle))
        if metric_row is None:  # a clock dropped by the same change
            continue
        events.append(
            SlaEvent(
                ticket_id=ticket.id,
                sla_metric_id=metric_row.id,
                kind=change.kind.value,
                policy_key=metric_row.policy_key,
                metric=change.metric,
                at=change.at,
                margin_seconds=change.margin.total_seconds(),
            )
        )
        event = _EVENT_OF.get(change.kind)
        if event is not None:
            clock = next(
                c for c in after.clocks if (c.metric, c.cycle) == (change.metric, change.cycle)
            )
            await emit(
                ACTOR,
                event,
                "Ticket",
                ticket.id,
                _payload(ticket, clock, change),
                occurred_at=change.at,  # the due instant, however late the timer fired
            )
    if events:
        await SlaEvent.bulk_create(events)


def next_due(clocks: Iterable[Clock]) -> dt.datetime | None:
    """The ticket's next deadline: the earliest due instant of its running clocks (a breached
    one that still runs is the most overdue); None when none runs."""
    dues = [c.due_at for c in clocks if c.running and c.due_at is not None]
    return min(dues).astimezone(dt.UTC) if dues else None


def _payload(ticket: Ticket, clock: Clock, change: Change) -> Mapping[str, Any]:
    sla = {
        "policy": clock.policy,
        "metric": clock.metric,
        "cycle": clock.cycle,
        "dueAt": to_json(clock.due_at),
        "at": to_json(change.at),
        "targetSeconds": clock.target.duration.total_seconds(),
        "marginSeconds": change.margin.total_seconds(),
    }
    return {"customerId": ticket.customer_id, "priority": ticket.priority, "sla": sla}


def _plan(clock: Clock) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The instants the clock's timers fire at: its warning, and its due instant while ACTIVE."""
    due = clock.due_at if clock.state is State.ACTIVE and clock.running else None
    return clock.warn_due, due


def _timer_keys(ticket_id: int, key: tuple[str, int]) -> tuple[str, str]:
    base = f"sla:{ticket_id}:{key[0]}:{key[1]}"
    return f"{base}:warn", f"{base}:due"


class _TimerPlan:
    """The timer moves of one write, saved in two statements: one UPDATE cancelling the timers
    whose instant moved, one INSERT of their replacements."""

    def __init__(self, ticket_id: int) -> None:
        self.ticket_id = ticket_id
        self.cancelled: list[str] = []
        self.created: list[Timer] = []

    def cancel_all(self, key: tuple[str, int]) -> None:
        self.cancelled += _timer_keys(self.ticket_id, key)

    def replan(self, clock: Clock, previous: Clock | None) -> None:
        """Move the timers whose instant changed (the warning, the due instant); a timer that
        has fired or whose instant is unchanged stays as it is."""
        key = (clock.metric, clock.cycle)
        before = _plan(previous) if previous is not None else (None, None)
        payload = {"ticketId": self.ticket_id, "metric": clock.metric, "cycle": clock.cycle}
        for which, (timer_key, instant) in enumerate(
            zip(_timer_keys(self.ticket_id, key), _plan(clock), strict=True)
        ):
            if instant == before[which]:
                continue
            if before[which] is not None:
                self.cancelled.append(timer_key)
            if instant is not None:
                self.created.append(
                    Timer(
                        run_id=None,
                        key=timer_key,
                        purpose=TIMER_PURPOSE,
                        due_at=instant.astimezone(dt.UTC),
                        payload=payload,
                    )
                )

    async def save(self) -> None:
        if self.cancelled:  # first: the replacements carry the same keys
            await Timer.filter(
                run_id=None, key__in=self.cancelled, status__in=("PENDING", "CLAIMED")
            ).update(status="CANCELLED", claim_token=None, claimed_until=None)
        if self.created:
            await Timer.bulk_create(self.created)


def _columns(clock: Clock) -> dict[str, Any]:
    elapsed = clock.elapsed_before // dt.timedelta(microseconds=1)
    return {
        "policy_key": clock.policy,
        "target_microseconds": clock.target.duration // dt.timedelta(microseconds=1),
        "calendar_key": clock.target.calendar.key,
        "warn_percent": clock.warn_percent,
        "state": clock.state.value,
        "started_at": clock.started_at,
        "elapsed_microseconds": elapsed,
        "running_since": clock.running_since,
        "due_at": clock.due_at,
        "warn_due_at": clock.warn_due,
        "warned_at": clock.warned_at,
        "stopped_at": clock.stopped_at,
        "breached_at": clock.breached_at,
    }


def _clock(row: SlaMetric, book: PolicyBook) -> Clock:
    return Clock(
        metric=row.metric,
        cycle=row.cycle,
        policy=row.policy_key,
        target=Target(
            row.target_microseconds // 60_000_000,
            calendar_of(book, row.calendar_key),
            exact=dt.timedelta(microseconds=row.target_microseconds),
        ),
        warn_percent=row.warn_percent,
        started_at=row.started_at,
        state=State(row.state),
        elapsed_before=dt.timedelta(microseconds=row.elapsed_microseconds),
        running_since=row.running_since,
        due_at=row.due_at,
        warned_at=row.warned_at,
        stopped_at=row.stopped_at,
        breached_at=row.breached_at,
    )


def clock_of(row: SlaMetric, book: PolicyBook) -> Clock:
    """A stored clock as the pure core sees it (for reading: ``ticket.sla``, reports)."""
    return _clock(row, book)


__all__ = [
    "SheetChanged",
    "agent_replied",
    "clock_of",
    "customer_replied",
    "next_due",
    "reevaluate",
    "reevaluate_customer",
    "status_changed",
    "tick",
    "ticket_map",
    "ticket_opened",
]

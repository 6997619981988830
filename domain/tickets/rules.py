"""Ticket vocabularies and the status machine, free of any I/O."""

from __future__ import annotations

import datetime as dt

from domain.errors import Conflict, ValidationFailed

STATUSES = ("NEW", "OPEN", "PENDING", "ON_HOLD", "SOLVED", "CLOSED")
#: Statuses of a ticket still being worked (someone has to answer it).
OPEN_STATUSES = ("NEW", "OPEN", "PENDING", "ON_HOLD")
PRIORITIES = ("LOW", "NORMAL", "HIGH", "URGENT")
CHANNELS = ("EMAIL", "PHONE", "CHAT", "WEB", "SMS", "SOCIAL", "API")

#: Statuses a ticket may move to from each status. NEW is only ever a starting point; SOLVED can
#: be reopened (OPEN) or closed; CLOSED is final (a later customer message opens a follow-up).
TRANSITIONS: dict[str, frozenset[str]] = {
    "NEW": frozenset({"OPEN", "PENDING", "ON_HOLD", "SOLVED", "CLOSED"}),
    "OPEN": frozenset({"PENDING", "ON_HOLD", "SOLVED", "CLOSED"}),
    "PENDING": frozenset({"OPEN", "ON_HOLD", "SOLVED", "CLOSED"}),
    "ON_HOLD": frozenset({"OPEN", "PENDING", "SOLVED", "CLOSED"}),
    "SOLVED": frozenset({"OPEN", "CLOSED"}),
    "CLOSED": frozenset(),
}

#: A customer message within this long after ``solved_at`` reopens a SOLVED ticket; a later one
#: opens a follow-up ticket linked to it (the old conversation stays as it was resolved).
REOPEN_WINDOW = dt.timedelta(days=7)


def check_status(status: str, field: str = "status") -> str:
    if status not in STATUSES:
        raise ValidationFailed(field, f"unknown ticket status {status!r}", "INVALID_STATUS")
    return status


def check_priority(priority: str, field: str = "priority") -> str:
    if priority not in PRIORITIES:
        raise ValidationFailed(field, f"unknown ticket priority {priority!r}", "INVALID_PRIORITY")
    return priority


def check_channel(channel: str, field: str = "channel") -> str:
    if channel not in CHANNELS:
        raise ValidationFailed(field, f"unknown ticket channel {channel!r}", "INVALID_CHANNEL")
    return channel


def check_transition(ticket_id: int, current: str, target: str) -> None:
    check_status(target)
    if target not in TRANSITIONS[current]:
        raise Conflict(f"ticket {ticket_id} cannot go from {current} to {target}", field="status")


def can_reopen(solved_at: dt.datetime | None, at: dt.datetime) -> bool:
    return solved_at is not None and at - solved_at <= REOPEN_WINDOW


def clean_text(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed(field, f"{field} is required", "REQUIRED")
    return text


def require_not_closed(ticket_id: int, status: str) -> None:
    if status == "CLOSED":
        raise Conflict(f"ticket {ticket_id} is CLOSED", field="status")

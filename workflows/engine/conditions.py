"""The run-level conditions: goal, exit_when, the send window and email consent.

A CEL condition that fails to evaluate (a missing field, a type mismatch) counts as not met:
a goal or an exit must hold positively to end a run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from domain.calendars import BusinessCalendar, is_open, next_opening
from workflows.language.expressions import ExpressionError, evaluate
from workflows.language.spec import ExitEvent, SendWindow, Workflow
from workflows.language.steps import SendEmailStep

from .context import Context, cel_ready
from .positions import iter_steps

__all__ = [
    "SUPPRESSION_SEGMENT",
    "condition_holds",
    "consenting_customer",
    "email_suppression",
    "exit_reason",
    "goal_met",
    "is_marketing",
    "unsubscribed",
    "window_opening",
]


def condition_holds(source: str, variables: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether CEL `source` is true, and the evaluation error when it could not be evaluated."""
    try:
        return evaluate(source, variables) is True, None
    except ExpressionError as error:
        return False, str(error)


def goal_met(ctx: Context) -> bool:
    goal = ctx.workflow.goal
    return goal is not None and condition_holds(goal, ctx.variables())[0]


def exit_reason(ctx: Context, event_name: str | None = None) -> str | None:
    """Why the run exits now: ``event NAME`` for a matching exit event, the CEL text of a
    condition that holds, or None."""
    variables = ctx.variables()
    for condition in ctx.workflow.exit_when:
        if isinstance(condition, ExitEvent):
            if event_name is not None and condition.event == event_name:
                return f"event {event_name}"
        elif condition_holds(condition, variables)[0]:
            return condition
    return None


#: The key of the workspace's suppression segment: e-mail under consent is never sent to a
#: customer in it (workflows.md). Defined like any segment, in a bundle file (``segments:``).
SUPPRESSION_SEGMENT = "suppression"


def is_marketing(workflow: Workflow) -> bool:
    """A marketing workflow e-mails its customer (a ``send_email`` step to ``subject``).
    Unsubscribing ends those; a sales follow-up (tasks, notes to staff) and the service mail of
    a ticket workflow go on."""
    return workflow.subject == "customer" and any(
        isinstance(step, SendEmailStep) and step.send_email.to == "subject"
        for _, step in iter_steps(workflow)
    )


def unsubscribed(subject: Mapping[str, Any]) -> bool:
    consent = subject.get("consent")
    return isinstance(consent, Mapping) and bool(consent.get("unsubscribedAt"))


def consenting_customer(workflow: Workflow, subject: Mapping[str, Any], to: str) -> Any:
    """The customer whose consent governs an e-mail ``to`` in a workflow on ``subject``, or
    None when no consent applies: the customer of a customer workflow (``to: subject``), the
    customer of a deal (``to: subject`` or ``subject.customer``). Mail to staff is not
    marketing, nor is a ticket's mail to its customer: that is the service they asked for."""
    if workflow.subject == "customer":
        return subject if to == "subject" else None
    if workflow.subject == "opportunity" and to in ("subject", "subject.customer"):
        return subject.get("customer") or {}
    return None


def email_suppression(ctx: Context, to: str) -> str | None:
    """Why an email to `to` must not be sent, or None. Mail to a customer under consent (see
    ``consenting_customer``) needs ``consent.emailOptIn`` true and no
    ``consent.unsubscribedAt``, and the customer outside the workspace's suppression segment."""
    customer = consenting_customer(ctx.workflow, ctx.subject, to)
    if customer is None:
        return None
    if ctx.env.suppressed or _in_suppression_segment(ctx, customer):
        return "in the suppression segment"
    if not isinstance(customer, Mapping):
        return "no email consent"
    if unsubscribed(customer):
        return "unsubscribed"
    consent = customer.get("consent")
    if not isinstance(consent, Mapping) or consent.get("emailOptIn") is not True:
        return "no email consent"
    return None


def _in_suppression_segment(ctx: Context, customer: Any) -> bool:
    condition = ctx.env.suppression
    if condition is None or not isinstance(customer, Mapping):
        return False
    variables = cel_ready(
        {
            "subject": customer,
            "event": {},
            "now": ctx.now,
            "run": {"id": "", "startedAt": ctx.now, "vars": {}},
        }
    )
    return condition_holds(condition, variables)[0]


def window_opening(ctx: Context, window: SendWindow) -> dt.datetime | None:
    """None when ``ctx.now`` is inside the send window, else when it next opens."""
    zone = ctx.zone(window.timezone)
    calendar = _window_calendar(zone.key, tuple(window.days), window.hours)
    if is_open(calendar, ctx.now):
        return None
    return next_opening(calendar, ctx.now)


@lru_cache(maxsize=256)
def _window_calendar(zone: str, days: tuple[str, ...], hours: str) -> BusinessCalendar:
    data = {"timezone": zone, "hours": {day: [hours.replace(" ", "")] for day in days}}
    return BusinessCalendar.from_data("send-window", data)

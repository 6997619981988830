"""Scalar types of the workflow language, as pydantic annotated types whose errors read well.

Each check raises `PydanticCustomError`; CEL and Jinja errors carry the position inside the
expression or template in their context (``line``, ``col``), which validation adds to the YAML
position of the string.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from . import durations, expressions, templates
from .calendars import is_time_zone

__all__ = [
    "EVENTS",
    "BusinessDuration",
    "Cel",
    "Clock",
    "Day",
    "Duration",
    "EmailAddress",
    "EventName",
    "HtmlTemplate",
    "Model",
    "PolicyCel",
    "SignedDuration",
    "Slug",
    "StepId",
    "TemplateText",
    "TimeZone",
    "TimeZoneOrSubject",
    "angled",
]

EVENTS = frozenset(
    {
        "customer.created",
        "customer.updated",
        "customer.stage_changed",
        "customer.unsubscribed",
        "customer.tag_added",
        "interaction.logged",
        "task.completed",
        "opportunity.created",
        "opportunity.stage_changed",
        "opportunity.won",
        "opportunity.lost",
        "ticket.created",
        "ticket.updated",
        "ticket.status_changed",
        "ticket.agent_replied",
        "ticket.customer_replied",
        "sla.warning",
        "sla.breached",
        "order.placed",
        "segment.entered",
        "segment.exited",
        "campaign.member_added",
        "form.submitted",
    }
)

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_STEP_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Model(BaseModel):
    """Base of every construct: unknown keys are errors, and models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def angled(kind_of: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """A discriminator whose tags are written ``<kind>``: tags appear in pydantic's error
    locations, and this spelling never collides with a YAML key when they are mapped back."""

    def discriminate(value: Any) -> str | None:
        kind = kind_of(value)
        return f"<{kind}>" if kind is not None else None

    return discriminate


def _fail(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, "{message}", {"message": message, **context})


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise _fail(
            "slug", f"{value!r} is not a lowercase slug (a-z, 0-9 and '-', e.g. trial-welcome)"
        )
    return value


def _step_id(value: str) -> str:
    if not _STEP_ID.fullmatch(value):
        raise _fail("step_id", f"step id {value!r}: use lowercase letters, digits, '-' and '_'")
    return value


def _event(value: str) -> str:
    if value not in EVENTS:
        close = difflib.get_close_matches(value, sorted(EVENTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _fail("event", f"unknown event {value!r}{hint}")
    return value


def _duration(value: str) -> str:
    try:
        durations.parse_duration(value)
    except durations.DurationError as error:
        raise _fail("duration", str(error)) from None
    return value


def _business_duration(value: str) -> str:
    try:
        durations.parse_business_duration(value)
    except durations.DurationError as error:
        raise _fail("duration", str(error)) from None
    return value


def _signed_duration(value: str) -> str:
    try:
        durations.parse_signed_duration(value)
    except durations.DurationError as error:
        raise _fail("duration", str(error)) from None
    return value


def _cel_checker(variables: frozenset[str]) -> Any:
    def check(value: str) -> str:
        problem = expressions.check(value, variables)
        if problem is not None:
            raise _fail("cel", problem.message, line=problem.line, col=problem.col)
        return value

    return check


def _template_checker(html: bool) -> Any:
    def check(value: str) -> str:
        problem = templates.check_template(value, html=html)
        if problem is not None:
            raise _fail("template", problem.message, template_line=problem.line)
        return value

    return check


def _clock(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise _fail("clock", f"invalid time {value!r} (expected HH:MM, 00:00-23:59)")
    return value


def _time_zone(value: str) -> str:
    if not is_time_zone(value):
        raise _fail("time_zone", f"unknown time zone {value!r} (e.g. Asia/Ho_Chi_Minh, UTC)")
    return value


def _time_zone_or_subject(value: str) -> str:
    return value if value == "subject" else _time_zone(value)


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise _fail("email", f"{value!r} is not an e-mail address")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
StepId = Annotated[str, AfterValidator(_step_id)]
EventName = Annotated[str, AfterValidator(_event)]
Duration = Annotated[str, AfterValidator(_duration)]
BusinessDuration = Annotated[str, AfterValidator(_business_duration)]
SignedDuration = Annotated[str, AfterValidator(_signed_duration)]
Cel = Annotated[str, AfterValidator(_cel_checker(expressions.WORKFLOW_VARIABLES))]
PolicyCel = Annotated[str, AfterValidator(_cel_checker(expressions.POLICY_VARIABLES))]
TemplateText = Annotated[str, AfterValidator(_template_checker(html=False))]
HtmlTemplate = Annotated[str, AfterValidator(_template_checker(html=True))]
Clock = Annotated[str, AfterValidator(_clock)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
TimeZoneOrSubject = Annotated[str, AfterValidator(_time_zone_or_subject)]
EmailAddress = Annotated[str, AfterValidator(_email)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def check_recipient(value: str, words: frozenset[str]) -> str:
    """`value` is one of `words`, a ``subject.`` path (e.g. ``subject.customer``) or an e-mail."""
    if value in words or (value.startswith("subject.") and "subject" in words):
        return value
    if "@" in value:
        return _email(value)
    allowed = ", ".join(sorted(words))
    raise _fail("recipient", f"unknown recipient {value!r} (expected {allowed} or an e-mail)")

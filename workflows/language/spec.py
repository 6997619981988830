"""Pydantic models of the workflow language: a workflow file, or a bundle of named resources.

Every model forbids unknown keys. A document with ``key:`` is a `Workflow`; one with any of
``templates``, ``calendars``, ``sla_policies``, ``segments`` is a `Bundle`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import AfterValidator, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

from .fields import (
    BusinessDuration,
    Cel,
    Clock,
    Day,
    Duration,
    EventName,
    HtmlTemplate,
    Model,
    PolicyCel,
    SignedDuration,
    Slug,
    TemplateText,
    TimeZone,
    TimeZoneOrSubject,
    angled,
)
from .steps import Step

__all__ = [
    "BUNDLE_SECTIONS",
    "Bundle",
    "Enrollment",
    "MessageTemplate",
    "Segment",
    "SendWindow",
    "SlaPolicy",
    "Workflow",
]

BUNDLE_SECTIONS = ("templates", "calendars", "sla_policies", "segments")
SubjectKind = Literal["customer", "ticket", "opportunity"]


def _one_of(keys: tuple[str, ...]) -> Any:
    def kind(value: Any) -> str | None:
        if isinstance(value, str):
            return "text"
        if not isinstance(value, dict):
            return None
        found = [key for key in keys if key in value]
        return found[0] if len(found) == 1 else None

    return kind


class EventTrigger(Model):
    event: EventName
    when: Cel | None = None


class Schedule(Model):
    cron: Annotated[str, AfterValidator(_cron)]
    timezone: TimeZone = "UTC"


class ForEachSegment(Model):
    segment: Slug


class ForEachFilter(Model):
    when: Cel


class ScheduleTrigger(Model):
    schedule: Schedule
    for_each: Annotated[
        Annotated[ForEachSegment, Tag("<segment>")] | Annotated[ForEachFilter, Tag("<when>")],
        Discriminator(
            angled(_one_of(("segment", "when"))),
            custom_error_type="for_each",
            custom_error_message="for_each: expected {segment: KEY} or {when: CEL}",
        ),
    ]


class SegmentTrigger(Model):
    segment: Slug


class ManualTrigger(Model):
    manual: Literal[True]


class DateTrigger(Model):
    class Date(Model):
        field: Annotated[str, Field(pattern=r"^subject(\.[A-Za-z_][A-Za-z0-9_]*)+$")]
        offset: SignedDuration = "0m"
        at: Clock | None = None
        timezone: TimeZoneOrSubject = "subject"

    date: Date


TRIGGER_KINDS = ("event", "schedule", "segment", "manual", "date")

Trigger = Annotated[
    Annotated[EventTrigger, Tag("<event>")]
    | Annotated[ScheduleTrigger, Tag("<schedule>")]
    | Annotated[SegmentTrigger, Tag("<segment>")]
    | Annotated[ManualTrigger, Tag("<manual>")]
    | Annotated[DateTrigger, Tag("<date>")],
    Discriminator(
        angled(_one_of(TRIGGER_KINDS)),
        custom_error_type="trigger",
        custom_error_message="a trigger needs exactly one of: " + ", ".join(TRIGGER_KINDS),
    ),
]


class ReenrollAfter(Model):
    after: Duration


class Enrollment(Model):
    reenroll: Annotated[
        Annotated[Literal["never", "always"], Tag("<text>")]
        | Annotated[ReenrollAfter, Tag("<after>")],
        Discriminator(
            angled(_one_of(("after",))),
            custom_error_type="reenroll",
            custom_error_message="reenroll: expected never, always or {after: DURATION}",
        ),
    ] = "never"


class ExitEvent(Model):
    event: EventName


ExitCondition = Annotated[
    Annotated[Cel, Tag("<text>")] | Annotated[ExitEvent, Tag("<event>")],
    Discriminator(
        angled(_one_of(("event",))),
        custom_error_type="exit_when",
        custom_error_message="exit_when: expected a CEL condition or {event: NAME}",
    ),
]


_HOURS = re.compile(r"(\d{2}):([0-5]\d)-(\d{2}):([0-5]\d)")


def _hours(value: str) -> str:
    match = _HOURS.fullmatch(value.replace(" ", ""))
    if match is None:
        raise PydanticCustomError("hours", "hours must look like 09:00-17:00")
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4))
    if start >= 24 * 60 or end > 24 * 60:
        raise PydanticCustomError("hours", "hours must lie within 00:00-24:00")
    if start >= end:
        raise PydanticCustomError("hours", "hours must end after they start")
    return value


def _cron(value: str) -> str:
    if not croniter.is_valid(value):
        raise PydanticCustomError(
            "cron", "invalid cron expression '{cron}' (e.g. '0 9 * * MON')", {"cron": value}
        )
    return value


def _distinct_days(days: list[str]) -> list[str]:
    if len(set(days)) != len(days):
        raise PydanticCustomError("days", "a day is listed twice")
    return days


class SendWindow(Model):
    days: Annotated[list[Day], Field(min_length=1), AfterValidator(_distinct_days)] = [
        "mon", "tue", "wed", "thu", "fri",
    ]  # fmt: skip
    hours: Annotated[str, AfterValidator(_hours)]
    timezone: TimeZoneOrSubject = "subject"


class Workflow(Model):
    key: Slug
    name: str | None = None
    description: str | None = None
    subject: SubjectKind = "customer"
    trigger: Trigger
    enrollment: Enrollment = Enrollment()
    goal: Cel | None = None
    exit_when: list[ExitCondition] = []
    send_window: SendWindow | None = None
    calendar: Slug | None = None
    steps: Annotated[list[Step], Field(min_length=1)]


class MessageTemplate(Model):
    subject: TemplateText
    text: TemplateText
    html: HtmlTemplate | None = None


class Segment(Model):
    name: str | None = None
    description: str | None = None
    subject: SubjectKind = "customer"
    when: Cel


Priority = Literal["URGENT", "HIGH", "NORMAL", "LOW"]


class BusinessDaysTarget(Model):
    """By the closing of the Nth working day after the clock starts."""

    business_days: int = Field(ge=1, le=366)


SlaTarget = Annotated[
    Annotated[BusinessDuration, Tag("<text>")]
    | Annotated[BusinessDaysTarget, Tag("<business_days>")],
    Discriminator(
        angled(_one_of(("business_days",))),
        custom_error_type="sla_target",
        custom_error_message="a target is a business duration (4h, 90m) or {business_days: N}",
    ),
]


class SlaTargets(Model):
    first_reply: SlaTarget | None = None
    next_reply: SlaTarget | None = None
    resolution: SlaTarget | None = None
    calendar: Slug | None = None


def _percent(value: str | int) -> str | int:
    number = value
    if isinstance(value, str):
        text = value.strip().removesuffix("%")
        number = int(text) if text.isdigit() else -1
    if not isinstance(number, int) or not 0 < number < 100:
        raise PydanticCustomError("percent", "warn_at must be a share between 1% and 99%")
    return value


class SlaPolicy(Model):
    key: Slug
    name: str | None = None
    applies_when: PolicyCel
    calendar: Slug | None = None
    targets: dict[Priority, SlaTargets]
    # SOLVED and CLOSED stop the resolution clock for good; they cannot pause it.
    pause_when_status: list[Literal["NEW", "OPEN", "PENDING", "ON_HOLD"]] = []
    warn_at: Annotated[str | int, AfterValidator(_percent)] = "75%"


class Bundle(Model):
    templates: dict[Slug, MessageTemplate] = {}
    calendars: dict[Slug, dict[str, Any]] = {}
    sla_policies: list[SlaPolicy] = []
    segments: dict[Slug, Segment] = {}

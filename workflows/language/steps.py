"""The steps of a workflow (the table in workflows.md), one model per kind.

A step is a mapping with exactly one kind key (``wait``, ``send_email``, ...) plus ``id`` and,
for actions, ``retry`` and ``on_failure``. Lists of steps nest under ``then``/``else``, switch
cases, split arms, ``on_event``/``on_timeout`` and ``on_failure``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from . import durations
from .fields import (
    BusinessDuration,
    Cel,
    Clock,
    Day,
    Duration,
    EventName,
    Model,
    Slug,
    StepId,
    TemplateText,
    TimeZoneOrSubject,
    angled,
    check_recipient,
)

STEP_KINDS = (
    "wait",
    "wait_for",
    "if",
    "switch",
    "split",
    "send_email",
    "notify",
    "create_task",
    "update",
    "add_tag",
    "remove_tag",
    "assign",
    "webhook",
    "enroll",
    "escalate",
    "end",
)
WAIT_KINDS = ("business", "business_days", "until", "until_time")
RETRY_MAX_ATTEMPTS = 20
RETRY_MAX_BACKOFF = dt.timedelta(days=1)


def step_kind(value: Any) -> str | None:
    """The kind key of a step mapping, or None unless it has exactly one."""
    if not isinstance(value, dict):
        return None
    kinds = [kind for kind in STEP_KINDS if kind in value]
    return kinds[0] if len(kinds) == 1 else None


def wait_kind(value: Any) -> str | None:
    """``duration`` for text, the form's key for a mapping with exactly one, else None."""
    if isinstance(value, str):
        return "duration"
    if not isinstance(value, dict):
        return None
    kinds = [kind for kind in WAIT_KINDS if kind in value]
    return kinds[0] if len(kinds) == 1 else None


class BusinessWait(Model):
    business: BusinessDuration
    calendar: Slug | None = None


class BusinessDaysWait(Model):
    business_days: int = Field(ge=1, le=366)
    calendar: Slug | None = None


class UntilWait(Model):
    until: Cel


class UntilTimeWait(Model):
    until_time: Clock
    days: list[Day] | None = Field(default=None, min_length=1)
    timezone: TimeZoneOrSubject = "subject"


WaitForm = Annotated[
    Annotated[Duration, Tag("<duration>")]
    | Annotated[BusinessWait, Tag("<business>")]
    | Annotated[BusinessDaysWait, Tag("<business_days>")]
    | Annotated[UntilWait, Tag("<until>")]
    | Annotated[UntilTimeWait, Tag("<until_time>")],
    Discriminator(
        angled(wait_kind),
        custom_error_type="wait_form",
        custom_error_message=(
            "expected a duration (30m, 2d, PT36H) or one of {business: 4h}, "
            "{business_days: N}, {until: CEL}, {until_time: HH:MM}"
        ),
    ),
]


class Retry(Model):
    attempts: int = Field(default=8, ge=1, le=RETRY_MAX_ATTEMPTS)
    backoff: Duration = "1m"
    max_backoff: Duration = "1h"

    @model_validator(mode="after")
    def _ordered(self) -> Retry:
        backoff = durations.parse_duration(self.backoff)
        ceiling = durations.parse_duration(self.max_backoff)
        if ceiling < backoff:
            raise PydanticCustomError("retry", "max_backoff must not be shorter than backoff")
        if ceiling > RETRY_MAX_BACKOFF:
            raise PydanticCustomError("retry", "max_backoff must be at most 1d")
        return self


class StepBase(Model):
    id: StepId | None = None


class ActionBase(StepBase):
    retry: Retry | None = None
    on_failure: list[Step] | None = None


class WaitStep(StepBase):
    wait: WaitForm


class WaitFor(Model):
    event: EventName
    when: Cel | None = None
    timeout: WaitForm


class WaitForStep(StepBase):
    wait_for: WaitFor
    on_event: list[Step] = []
    on_timeout: list[Step] = []


class IfStep(StepBase):
    if_: Cel = Field(alias="if")
    then: list[Step]
    else_: list[Step] = Field(default=[], alias="else")


class SwitchCase(Model):
    when: Cel
    steps: list[Step]


class SwitchDefault(Model):
    default: list[Step]


def _switch_kind(value: Any) -> str | None:
    return "default" if isinstance(value, dict) and "default" in value else "case"


def _check_switch(cases: list[SwitchCase | SwitchDefault]) -> list[SwitchCase | SwitchDefault]:
    defaults = [index for index, case in enumerate(cases) if isinstance(case, SwitchDefault)]
    if len(defaults) > 1:
        raise PydanticCustomError("switch", "a switch has at most one default")
    if defaults and defaults[0] != len(cases) - 1:
        raise PydanticCustomError("switch", "the default of a switch must be its last case")
    return cases


class SwitchStep(StepBase):
    switch: Annotated[
        list[
            Annotated[
                Annotated[SwitchCase, Tag("<case>")] | Annotated[SwitchDefault, Tag("<default>")],
                Discriminator(angled(_switch_kind)),
            ]
        ],
        Field(min_length=1),
        AfterValidator(_check_switch),
    ]


class SplitArm(Model):
    name: Slug
    weight: int = Field(ge=0, le=100)
    steps: list[Step] = []


def _check_split(arms: list[SplitArm]) -> list[SplitArm]:
    names = [arm.name for arm in arms]
    complaints = [f"duplicate arm name {name!r}" for name in sorted(set(names))
                  if names.count(name) > 1]  # fmt: skip
    total = sum(arm.weight for arm in arms)
    if total != 100:
        complaints.append(f"split weights sum to {total}, not 100")
    if complaints:
        raise PydanticCustomError("split", "{message}", {"message": "; ".join(complaints)})
    return arms


class SplitStep(StepBase):
    split: Annotated[list[SplitArm], Field(min_length=2), AfterValidator(_check_split)]


def _email_recipient(value: str) -> str:
    return check_recipient(value, frozenset({"subject", "owner"}))


def _staff_recipient(value: str) -> str:
    return check_recipient(value, frozenset({"owner", "assignee", "team_lead", "manager"}))


def _task_assignee(value: str) -> str:
    return check_recipient(value, frozenset({"owner"}))


class SendEmail(Model):
    template: Slug
    to: Annotated[str, AfterValidator(_email_recipient)] = "subject"


class SendEmailStep(ActionBase):
    send_email: SendEmail


class Notify(Model):
    to: Annotated[str, AfterValidator(_staff_recipient)]
    template: Slug


class NotifyStep(ActionBase):
    notify: Notify


#: A team as the docs and templates write it: its name ("Kinh doanh Hà Nội") or that name as a
#: slug ("kinh-doanh-ha-noi"); matched case- and accent-insensitively when the step runs.
def _team_name(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("team", "a team name is required")
    return value.strip()


TeamName = Annotated[str, Field(max_length=200), AfterValidator(_team_name)]


class RoundRobin(Model):
    round_robin: TeamName


class LeastLoaded(Model):
    least_loaded: TeamName


def _by_shape(value: Any) -> str | None:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict):
        return "least_loaded" if "least_loaded" in value else "round_robin"
    if isinstance(value, list):
        return "list"
    return None


Person = Annotated[str, AfterValidator(_task_assignee)]
Assignee = Annotated[
    Annotated[Person, Tag("<name>")] | Annotated[RoundRobin, Tag("<round_robin>")],
    Discriminator(angled(_by_shape)),
]
Owner = Annotated[
    Annotated[Person, Tag("<name>")]
    | Annotated[RoundRobin, Tag("<round_robin>")]
    | Annotated[LeastLoaded, Tag("<least_loaded>")],
    Discriminator(angled(_by_shape)),
]


class CreateTask(Model):
    title: TemplateText
    assignee: Assignee = "owner"
    due: WaitForm | None = None


class CreateTaskStep(ActionBase):
    create_task: CreateTask


class UpdateStep(ActionBase):
    update: Annotated[dict[str, Any], Field(min_length=1)]


Tags = Annotated[
    Annotated[str, Field(min_length=1), Tag("<name>")]
    | Annotated[list[str], Field(min_length=1), Tag("<list>")],
    Discriminator(angled(_by_shape)),
]


class AddTagStep(ActionBase):
    add_tag: Tags


class RemoveTagStep(ActionBase):
    remove_tag: Tags


class Assign(Model):
    owner: Owner


class AssignStep(ActionBase):
    assign: Assign


class Webhook(Model):
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    body: Any = None
    headers: dict[str, str] = {}


class WebhookStep(ActionBase):
    webhook: Webhook


class Enroll(Model):
    workflow: Slug


class EnrollStep(ActionBase):
    enroll: Enroll


class Escalate(Model):
    level: int = Field(ge=1, le=10)
    to: Annotated[str, AfterValidator(_staff_recipient)] | None = None


class EscalateStep(ActionBase):
    escalate: Escalate


class EndStep(StepBase):
    end: Literal["converted", "exited"]


Step = Annotated[
    Annotated[WaitStep, Tag("<wait>")]
    | Annotated[WaitForStep, Tag("<wait_for>")]
    | Annotated[IfStep, Tag("<if>")]
    | Annotated[SwitchStep, Tag("<switch>")]
    | Annotated[SplitStep, Tag("<split>")]
    | Annotated[SendEmailStep, Tag("<send_email>")]
    | Annotated[NotifyStep, Tag("<notify>")]
    | Annotated[CreateTaskStep, Tag("<create_task>")]
    | Annotated[UpdateStep, Tag("<update>")]
    | Annotated[AddTagStep, Tag("<add_tag>")]
    | Annotated[RemoveTagStep, Tag("<remove_tag>")]
    | Annotated[AssignStep, Tag("<assign>")]
    | Annotated[WebhookStep, Tag("<webhook>")]
    | Annotated[EnrollStep, Tag("<enroll>")]
    | Annotated[EscalateStep, Tag("<escalate>")]
    | Annotated[EndStep, Tag("<end>")],
    Discriminator(
        angled(step_kind),
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of: " + ", ".join(STEP_KINDS),
    ),
]

_RECURSIVE: tuple[type[Model], ...] = (
    ActionBase, WaitForStep, IfStep, SwitchCase, SwitchDefault, SplitArm, SwitchStep, SplitStep,
    SendEmailStep, NotifyStep, CreateTaskStep, UpdateStep, AddTagStep, RemoveTagStep,
    AssignStep, WebhookStep, EnrollStep, EscalateStep,
)  # fmt: skip
for _model in _RECURSIVE:
    _model.model_rebuild()

"""Inputs of the customer use cases.

One dataclass serves both create and update: a field left at :data:`UNSET` was not given (keep the
stored value on update, use the default on create), while ``None`` explicitly clears it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any, Final, TypeAlias, TypeVar


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
T = TypeVar("T")
Maybe: TypeAlias = T | _Unset

PERSON = "PERSON"
ORGANIZATION = "ORGANIZATION"
LIFECYCLE_STAGES: Final = (
    "SUBSCRIBER",
    "LEAD",
    "MQL",
    "SQL",
    "OPPORTUNITY",
    "CUSTOMER",
    "EVANGELIST",
    "CHURNED",
)
NAME_ORDERS: Final = ("FAMILY_FIRST", "GIVEN_FIRST")


def is_set(value: object) -> bool:
    return value is not UNSET


@dataclass(frozen=True)
class Labeled:
    """An e-mail address or phone number with an optional label ("work", "home")."""

    value: str
    label: str | None = None


@dataclass(frozen=True)
class SourceInput:
    """Where the lead came from."""

    channel: str | None = None
    campaign: str | None = None
    utm: dict[str, str] | None = None


@dataclass(kw_only=True)
class CustomerInput:
    """Fields shared by people and organizations."""

    display_name: Maybe[str | None] = UNSET
    emails: Maybe[list[str | Labeled]] = UNSET  # the first one is the primary address
    phones: Maybe[list[str | Labeled]] = UNSET
    address: Maybe[dict[str, Any] | None] = UNSET
    country: Maybe[str | None] = UNSET
    timezone: Maybe[str | None] = UNSET
    lifecycle_stage: Maybe[str] = UNSET
    source: Maybe[SourceInput | None] = UNSET
    owner_id: Maybe[int | None] = UNSET
    tags: Maybe[list[str]] = UNSET
    # Merged into the stored attributes; a ``None`` value removes the key.
    attributes: Maybe[dict[str, Any]] = UNSET
    email_opt_in: Maybe[bool] = UNSET
    sms_opt_in: Maybe[bool] = UNSET
    # True unsubscribes (sets ``unsubscribed_at``, clears both opt-ins); False resubscribes.
    unsubscribed: Maybe[bool] = UNSET

    def given(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        return {name: value for name, value in values.items() if is_set(value)}


@dataclass(kw_only=True)
class PersonInput(CustomerInput):
    first_name: Maybe[str | None] = UNSET
    last_name: Maybe[str | None] = UNSET  # the family name
    name_order: Maybe[str] = UNSET
    job_title: Maybe[str | None] = UNSET
    organization_id: Maybe[int | None] = UNSET

    kind: str = field(default=PERSON, init=False)


@dataclass(kw_only=True)
class OrganizationInput(CustomerInput):
    legal_name: Maybe[str | None] = UNSET
    domain: Maybe[str | None] = UNSET
    tax_code: Maybe[str | None] = UNSET
    industry: Maybe[str | None] = UNSET
    size: Maybe[int | None] = UNSET
    parent_id: Maybe[int | None] = UNSET

    kind: str = field(default=ORGANIZATION, init=False)


def input_from_mapping(row: dict[str, Any]) -> PersonInput | OrganizationInput:
    """Build an input from a loose row (CSV/JSON import): ``kind`` plus snake_case field names.

    Raises ``ValueError`` naming the offending key; the importer turns it into a row error.
    """
    data = dict(row)
    kind = str(data.pop("kind", "") or "").upper()
    cls: type[PersonInput] | type[OrganizationInput]
    if kind == PERSON:
        cls = PersonInput
    elif kind == ORGANIZATION:
        cls = OrganizationInput
    else:
        raise ValueError("kind")
    allowed = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(unknown[0])
    source = data.get("source")
    if isinstance(source, dict):
        data["source"] = SourceInput(**source)
    return cls(**data)

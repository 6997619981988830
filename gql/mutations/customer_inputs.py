"""Inputs of the customer mutations and their translation to the domain's commands."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from domain.customers.commands import (
    UNSET as DOMAIN_UNSET,
)
from domain.customers.commands import (
    Labeled,
    OrganizationInput,
    PersonInput,
    SourceInput,
)
from gql.enums import LifecycleStage, NameOrder
from gql.ids import decode_pk
from gql.mutations.results import given_fields

UNSET = strawberry.UNSET


@strawberry.input
class EmailInput:
    address: str
    label: str | None = None


@strawberry.input
class PhoneInput:
    number: str
    label: str | None = None


@strawberry.input
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    ward: str | None = None
    district: str | None = None
    city: str | None = None
    province: str | None = None
    postal_code: str | None = None
    country: str | None = None


@strawberry.input
class SourceFields:
    channel: str | None = None
    campaign: str | None = None
    utm: JSON | None = None


@strawberry.input(name="CustomerFields", description="Fields every customer has.")
class CustomerFields:
    display_name: str | None = UNSET
    emails: list[EmailInput] | None = strawberry.field(
        default=UNSET, description="The first address is the primary one."
    )
    phones: list[PhoneInput] | None = UNSET
    address: AddressInput | None = UNSET
    country: str | None = UNSET
    timezone: str | None = UNSET
    lifecycle_stage: LifecycleStage | None = UNSET
    source: SourceFields | None = UNSET
    owner_id: strawberry.ID | None = UNSET
    tags: list[str] | None = UNSET
    attributes: JSON | None = UNSET
    email_opt_in: bool | None = UNSET
    sms_opt_in: bool | None = UNSET
    unsubscribed: bool | None = UNSET


@strawberry.input(
    name="PersonInput",
    description="Fields of a person; omitted fields are left unchanged on update.",
)
class PersonFields(CustomerFields):
    first_name: str | None = UNSET
    last_name: str | None = strawberry.field(default=UNSET, description="Family name (họ).")
    name_order: NameOrder | None = UNSET
    job_title: str | None = UNSET
    organization_id: strawberry.ID | None = UNSET


@strawberry.input(
    name="OrganizationInput",
    description="Fields of an organization; omitted fields are left unchanged.",
)
class OrganizationFields(CustomerFields):
    legal_name: str | None = UNSET
    domain: str | None = UNSET
    tax_code: str | None = UNSET
    industry: str | None = UNSET
    size: int | None = UNSET
    parent_id: strawberry.ID | None = UNSET


_ID_FIELDS = {
    "owner_id": ("User",),
    "organization_id": ("Organization",),
    "parent_id": ("Organization",),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _convert(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in _ID_FIELDS and value is not None and value is not DOMAIN_UNSET:
            value = decode_pk(value, *_ID_FIELDS[name], field=_camel(name))
        elif name == "emails" and value is not None:
            value = [Labeled(e.address, e.label) for e in value]
        elif name == "phones" and value is not None:
            value = [Labeled(p.number, p.label) for p in value]
        elif name == "address" and value is not None:
            value = {_camel(k): v for k, v in vars(value).items() if v is not None}
        elif name == "source" and value is not None:
            value = SourceInput(channel=value.channel, campaign=value.campaign, utm=value.utm)
        out[name] = value
    return out


def person_command(fields: PersonFields) -> PersonInput:
    return PersonInput(**_convert(given_fields(fields)))


def organization_command(fields: OrganizationFields) -> OrganizationInput:
    return OrganizationInput(**_convert(given_fields(fields)))

"""A run's subject as CEL and templates see it: the API's field names, relations one level deep."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Collection
from typing import Any

from tortoise.functions import Max

from domain.persistence import models as m
from domain.text import decode_tags


def user_map(user: m.User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "name": user.name,
        "displayName": user.name,
        "email": user.email,
        "role": user.role,
        "timezone": user.timezone,
    }


async def customer_subject(customer: m.Customer) -> dict[str, Any]:
    return (await customer_subjects([customer]))[0]


async def customer_subjects(customers: list[m.Customer]) -> list[dict[str, Any]]:
    """Subject maps for many customers with one query per relation, not per customer."""
    owner_ids = {c.owner_id for c in customers if c.owner_id}
    org_ids = {c.organization_id for c in customers if c.organization_id}
    owners = {u.id: u for u in await m.User.filter(id__in=owner_ids)} if owner_ids else {}
    organizations = {o.id: o for o in await m.Customer.filter(id__in=org_ids)} if org_ids else {}
    last_touch: dict[int, Any] = {}
    if customers:
        rows = (
            await m.Interaction.filter(customer_id__in=[c.id for c in customers], deleted_at=None)
            .annotate(last=Max("occurred_at"))
            .group_by("customer_id")
            .values("customer_id", "last")
        )
        last_touch = {row["customer_id"]: _timestamp(row["last"]) for row in rows}
    return [
        _customer_map(
            c,
            owners.get(c.owner_id or 0),
            organizations.get(c.organization_id or 0),
            last_touch.get(c.id),
        )
        for c in customers
    ]


def _timestamp(value: Any) -> Any:
    """Aggregates skip the ORM's conversion: SQLite hands back ISO text."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _customer_map(
    customer: m.Customer,
    owner: m.User | None,
    organization: m.Customer | None,
    last_interaction_at: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": customer.id,
        "kind": customer.kind,
        "displayName": customer.display_name,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "jobTitle": customer.job_title,
        "primaryEmail": customer.primary_email,
        "emails": [e["address"] for e in customer.emails or []],
        "primaryPhone": customer.primary_phone,
        "country": customer.country,
        "timezone": customer.timezone,
        "lifecycleStage": customer.lifecycle_stage,
        "source": {
            "channel": customer.source_channel,
            "campaign": customer.source_campaign,
            "utm": customer.source_utm or {},
        },
        "tags": decode_tags(customer.tags),
        "attributes": customer.attributes or {},
        "consent": {
            "emailOptIn": customer.email_opt_in,
            "smsOptIn": customer.sms_opt_in,
            "unsubscribedAt": customer.unsubscribed_at,
        },
        "owner": user_map(owner),
        "organization": None
        if organization is None
        else {
            "id": organization.id,
            "displayName": organization.display_name,
            "domain": organization.domain,
            "industry": organization.industry,
        },
        "industry": customer.industry,
        "domain": customer.domain,
        "createdAt": customer.created_at,
        "updatedAt": customer.updated_at,
        "deleted": customer.deleted_at is not None,
    }
    if last_interaction_at is not None:
        # Absent (not null) when there is none, so CEL's has() tells the two apart.
        data["lastInteractionAt"] = last_interaction_at
    return data


async def opportunity_subjects(deals: list[m.Opportunity]) -> list[dict[str, Any]]:
    """Subject maps for many opportunities: one query per relation, not per opportunity."""
    customer_ids = {deal.customer_id for deal in deals}
    owner_ids = {deal.owner_id for deal in deals if deal.owner_id}
    found = await m.Customer.filter(id__in=customer_ids) if customer_ids else []
    customers = dict(zip([c.id for c in found], await customer_subjects(found), strict=True))
    owners = {u.id: u for u in await m.User.filter(id__in=owner_ids)} if owner_ids else {}
    return [
        {
            "id": deal.id,
            "name": deal.name,
            "status": deal.status,
            "amount": str(deal.amount),
            "currency": deal.currency,
            "stageId": deal.stage_id,
            "expectedCloseOn": deal.expected_close_on,
            "closedAt": deal.closed_at,
            "createdAt": deal.created_at,
            "customer": customers.get(deal.customer_id),
            "owner": user_map(owners.get(deal.owner_id or 0)),
        }
        for deal in deals
    ]


async def load_subject(subject_type: str, subject_id: int) -> dict[str, Any] | None:
    """The subject map, or None when it no longer exists (deleted subjects end their runs)."""
    if subject_type == "customer":
        customer = await m.Customer.get_or_none(id=subject_id, deleted_at=None)
        return None if customer is None else await customer_subject(customer)
    if subject_type == "opportunity":
        deal = await m.Opportunity.get_or_none(id=subject_id, deleted_at=None)
        return None if deal is None else (await opportunity_subjects([deal]))[0]
    if subject_type == "ticket":
        from workflows.runtime.ticket_subject import load_ticket_subject  # imports this module

        return await load_ticket_subject(subject_id)
    return None


async def load_subjects(subject_type: str, ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """The subject maps of many subjects of one type, by id (deleted ones are absent), with a
    few queries per type rather than per subject."""
    if not ids:
        return {}
    if subject_type == "customer":
        customers = await m.Customer.filter(id__in=list(ids), deleted_at=None)
        maps = await customer_subjects(customers)
        return {customer.id: subject for customer, subject in zip(customers, maps, strict=True)}
    if subject_type == "opportunity":
        deals = await m.Opportunity.filter(id__in=list(ids), deleted_at=None)
        maps = await opportunity_subjects(deals)
        return {deal.id: subject for deal, subject in zip(deals, maps, strict=True)}
    found: dict[int, dict[str, Any]] = {}
    for subject_id in ids:
        subject = await load_subject(subject_type, subject_id)
        if subject is not None:
            found[subject_id] = subject
    return found


async def subject_pages(
    subject_type: str, size: int = 500
) -> AsyncIterator[list[tuple[int, dict[str, Any]]]]:
    """Every live subject of a type as (id, subject map), in pages of `size` by id (keyset)."""
    last_id = 0
    while True:
        if subject_type == "customer":
            customers = (
                await m.Customer.filter(id__gt=last_id, deleted_at=None).order_by("id").limit(size)
            )
            maps = await customer_subjects(customers)
            ids = [c.id for c in customers]
        elif subject_type == "opportunity":
            deals = (
                await m.Opportunity.filter(id__gt=last_id, deleted_at=None)
                .order_by("id")
                .limit(size)
            )
            maps = await opportunity_subjects(deals)
            ids = [d.id for d in deals]
        elif subject_type == "ticket":
            from workflows.runtime.ticket_subject import ticket_subject  # imports this module

            tickets = (
                await m.Ticket.filter(id__gt=last_id, deleted_at=None).order_by("id").limit(size)
            )
            maps = [await ticket_subject(ticket) for ticket in tickets]
            ids = [t.id for t in tickets]
        else:
            return
        if not ids:
            return
        yield list(zip(ids, maps, strict=True))
        last_id = ids[-1]

"""A run's subject as CEL and templates see it: the API's field names, relations one level deep."""

from __future__ import annotations

from typing import Any

from domain.persistence import models as m
from domain.text import decode_tags


def _user(user: m.User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "timezone": user.timezone,
    }


async def customer_subject(customer: m.Customer) -> dict[str, Any]:
    owner = await m.User.get_or_none(id=customer.owner_id) if customer.owner_id else None
    organization = (
        await m.Customer.get_or_none(id=customer.organization_id)
        if customer.organization_id
        else None
    )
    return {
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
        "owner": _user(owner),
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


async def load_subject(subject_type: str, subject_id: int) -> dict[str, Any] | None:
    """The subject map, or None when it no longer exists (deleted subjects end their runs)."""
    if subject_type == "customer":
        customer = await m.Customer.get_or_none(id=subject_id, deleted_at=None)
        return None if customer is None else await customer_subject(customer)
    if subject_type == "opportunity":
        deal = await m.Opportunity.get_or_none(id=subject_id, deleted_at=None)
        if deal is None:
            return None
        customer = await m.Customer.get_or_none(id=deal.customer_id)
        return {
            "id": deal.id,
            "name": deal.name,
            "status": deal.status,
            "amount": str(deal.amount),
            "currency": deal.currency,
            "stageId": deal.stage_id,
            "customer": None if customer is None else await customer_subject(customer),
            "owner": _user(await m.User.get_or_none(id=deal.owner_id) if deal.owner_id else None),
        }
    return None  # tickets arrive with the service desk

"""Touch points with a customer on any channel."""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from domain.customers.services import get_customer
from domain.errors import ValidationFailed
from domain.persistence.models import Interaction, Opportunity, User
from domain.recording import record, to_json, utcnow
from domain.text import fold

INTERACTION_KINDS = ("EMAIL", "CALL", "MEETING", "NOTE", "CHAT", "SMS", "VISIT", "FORM", "WEB")
DIRECTIONS = ("INBOUND", "OUTBOUND")


def aware(value: dt.datetime, field: str) -> dt.datetime:
    """Naive datetimes are ambiguous across time zones (Vietnam vs UTC), so they are refused."""
    if value.tzinfo is None:
        raise ValidationFailed(field, "a time zone is required", "NAIVE_DATETIME")
    return value


async def log_interaction(
    *,
    customer_id: int,
    kind: str,
    direction: str = "OUTBOUND",
    subject: str | None = None,
    body: str | None = None,
    occurred_at: dt.datetime | None = None,
    user_id: int | None = None,
    opportunity_id: int | None = None,
    actor: str,
) -> Interaction:
    """Record one interaction; an opportunity, when linked, must belong to the same customer."""
    if kind not in INTERACTION_KINDS:
        raise ValidationFailed("kind", f"unknown interaction kind {kind!r}", "INVALID_KIND")
    if direction not in DIRECTIONS:
        raise ValidationFailed("direction", f"unknown direction {direction!r}", "INVALID_KIND")
    when = aware(occurred_at, "occurredAt") if occurred_at else utcnow()
    clean_subject = " ".join(subject.split()) if subject else None
    customer = await get_customer(customer_id)
    if user_id is not None and not await User.filter(id=user_id, deleted_at=None).exists():
        raise ValidationFailed("userId", f"user {user_id} not found", "NOT_FOUND")
    if opportunity_id is not None:
        opportunity = await Opportunity.filter(id=opportunity_id, deleted_at=None).first()
        if opportunity is None:
            raise ValidationFailed("opportunityId", "opportunity not found", "NOT_FOUND")
        if opportunity.customer_id != customer.id:
            raise ValidationFailed(
                "opportunityId", "the opportunity belongs to another customer", "MISMATCH"
            )
    async with in_transaction():
        interaction = await Interaction.create(
            kind=kind,
            direction=direction,
            subject=clean_subject,
            subject_fold=fold(clean_subject),
            body=body,
            occurred_at=when,
            customer_id=customer.id,
            user_id=user_id,
            opportunity_id=opportunity_id,
            created_by=actor,
            updated_by=actor,
        )
        changes = {
            "kind": [None, kind],
            "direction": [None, direction],
            "subject": [None, clean_subject],
            "occurred_at": [None, to_json(when)],
        }
        await record(
            actor,
            "interaction.log",
            "Interaction",
            interaction.id,
            changes,
            "interaction.logged",
            {
                "customerId": customer.id,
                "kind": kind,
                "direction": direction,
                "userId": user_id,
                "opportunityId": opportunity_id,
                "occurredAt": to_json(when),
            },
        )
    return interaction

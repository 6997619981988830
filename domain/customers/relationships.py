"""Typed, directed, dated edges between customers: the graph in "customer graph"."""

from __future__ import annotations

import datetime as dt
import re

from tortoise.transactions import in_transaction

from domain.customers.services import get_customer
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.persistence.models import Relationship
from domain.recording import record, to_json

BUILT_IN_KINDS = ("WORKS_AT", "SUBSIDIARY_OF", "REFERRED_BY", "FAMILY_OF", "PARTNER_OF")
# Workspace-defined kinds follow the same UPPER_SNAKE spelling as the built-in ones.
_CUSTOM_KIND = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")


def normalize_kind(kind: str) -> str:
    value = kind.strip().upper()
    if value not in BUILT_IN_KINDS and not _CUSTOM_KIND.match(value):
        raise ValidationFailed("kind", f"invalid relationship kind {kind!r}", "INVALID_KIND")
    return value


async def get_relationship(relationship_id: int) -> Relationship:
    edge = await Relationship.filter(id=relationship_id, deleted_at=None).first()
    if edge is None:
        raise NotFound("Relationship", relationship_id)
    return edge


async def create_relationship(
    *,
    kind: str,
    from_customer_id: int,
    to_customer_id: int,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    notes: str | None = None,
    actor: str,
) -> Relationship:
    """Add ``from --kind--> to``; self-edges and live duplicates are refused."""
    value = normalize_kind(kind)
    if from_customer_id == to_customer_id:
        raise ValidationFailed("toCustomerId", "a customer cannot relate to itself", "SELF_EDGE")
    if starts_on and ends_on and starts_on > ends_on:
        raise ValidationFailed("endsOn", "the end is before the start", "OUT_OF_RANGE")
    await get_customer(from_customer_id)
    await get_customer(to_customer_id)
    duplicate = await Relationship.filter(
        kind=value,
        from_customer_id=from_customer_id,
        to_customer_id=to_customer_id,
        ends_on=None,
        deleted_at=None,
    ).first()
    if duplicate is not None and ends_on is None:
        raise Conflict("this relationship already exists", field="kind", existing_id=duplicate.id)
    async with in_transaction():
        edge = await Relationship.create(
            kind=value,
            from_customer_id=from_customer_id,
            to_customer_id=to_customer_id,
            starts_on=starts_on,
            ends_on=ends_on,
            notes=notes,
            created_by=actor,
            updated_by=actor,
        )
        changes = {
            "kind": [None, value],
            "from_customer_id": [None, from_customer_id],
            "to_customer_id": [None, to_customer_id],
            "starts_on": [None, to_json(starts_on)],
            "ends_on": [None, to_json(ends_on)],
        }
        await record(
            actor, "relationship.create", "Relationship", edge.id, changes, "relationship.created"
        )
    return edge


async def end_relationship(
    relationship_id: int, *, ends_on: dt.date | None = None, actor: str
) -> Relationship:
    """Close an edge on ``ends_on`` (today by default); the history stays queryable."""
    edge = await get_relationship(relationship_id)
    end = ends_on or dt.date.today()
    if edge.starts_on and end < edge.starts_on:
        raise ValidationFailed("endsOn", "the end is before the start", "OUT_OF_RANGE")
    before = edge.ends_on
    edge.ends_on = end
    edge.updated_by = actor
    async with in_transaction():
        await edge.save(update_fields=["ends_on", "updated_by", "updated_at"])
        await record(
            actor,
            "relationship.end",
            "Relationship",
            edge.id,
            {"ends_on": [to_json(before), end.isoformat()]},
            "relationship.ended",
        )
    return edge


async def delete_relationship(relationship_id: int, *, actor: str) -> None:
    """Remove an edge entered by mistake (soft delete, like every record)."""
    edge = await get_relationship(relationship_id)
    edge.deleted_at = dt.datetime.now(dt.UTC)
    edge.updated_by = actor
    async with in_transaction():
        await edge.save(update_fields=["deleted_at", "updated_by", "updated_at"])
        await record(
            actor,
            "relationship.delete",
            "Relationship",
            edge.id,
            {"deleted_at": [None, to_json(edge.deleted_at)]},
            "relationship.deleted",
        )

"""Merging duplicate customers into one survivor.

Everything that points at a source (interactions, tasks, deals, relationships, employees,
subsidiaries) is re-pointed at the target; contact details are united; the target's empty fields
are filled from the sources; each source is soft-deleted with ``merged_into`` set so that old links
and later upserts can follow it to the survivor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.transactions import in_transaction

from domain.customers.commands import ORGANIZATION
from domain.customers.normalize import refresh_derived, snapshot
from domain.customers.services import FUNNEL, get_customer
from domain.errors import ValidationFailed
from domain.persistence.models import (
    Customer,
    Interaction,
    Opportunity,
    Relationship,
    StageChange,
    Task,
)
from domain.recording import Record, record_many, utcnow
from domain.text import decode_tags, encode_tags

# Target columns filled from the first source that has a value, when the target has none.
FILLABLE = (
    "first_name",
    "last_name",
    "job_title",
    "organization_id",
    "legal_name",
    "tax_code",
    "industry",
    "size",
    "address",
    "country",
    "timezone",
    "source_channel",
    "source_campaign",
    "source_utm",
    "owner_id",
)


async def _load(target_id: int, source_ids: Sequence[int]) -> tuple[Customer, list[Customer]]:
    unique = list(dict.fromkeys(source_ids))
    if not unique:
        raise ValidationFailed("sourceIds", "at least one source is required", "REQUIRED")
    if target_id in unique:
        raise ValidationFailed("sourceIds", "the target cannot be its own source", "SELF_MERGE")
    target = await get_customer(target_id)
    sources = []
    for index, source_id in enumerate(unique):
        source = await Customer.filter(id=source_id, deleted_at=None).first()
        if source is None:
            raise ValidationFailed(f"sourceIds[{index}]", "customer not found", "NOT_FOUND")
        if source.kind != target.kind:
            raise ValidationFailed(
                f"sourceIds[{index}]", "only customers of the same kind merge", "INVALID_KIND"
            )
        sources.append(source)
    return target, sources


def _unite_contacts(target: Customer, sources: list[Customer]) -> None:
    emails = {e["address"]: e for e in target.emails or []}
    phones = {p["number"]: p for p in target.phones or []}
    tags = decode_tags(target.tags)
    attributes = dict(target.attributes or {})
    for source in sources:
        for email in source.emails or []:
            emails.setdefault(email["address"], email)
        for phone in source.phones or []:
            phones.setdefault(phone["number"], phone)
        tags += decode_tags(source.tags)
        for key, value in (source.attributes or {}).items():
            attributes.setdefault(key, value)
    target.emails = list(emails.values())
    target.primary_email = target.emails[0]["address"] if target.emails else None
    target.phones = list(phones.values())
    target.primary_phone = target.phones[0]["number"] if target.phones else None
    target.tags = encode_tags(tags)
    target.attributes = attributes


def _fill_target(target: Customer, sources: list[Customer]) -> None:
    for column in FILLABLE:
        if getattr(target, column) in (None, "", {}, []):
            for source in sources:
                value = getattr(source, column)
                if value not in (None, "", {}, []) and value != target.id:
                    setattr(target, column, value)
                    break
    # The survivor is as far down the funnel as the furthest of the duplicates.
    stages = [c.lifecycle_stage for c in [target, *sources] if c.lifecycle_stage in FUNNEL]
    if stages and target.lifecycle_stage in FUNNEL:
        target.lifecycle_stage = max(stages, key=FUNNEL.index)


async def _move(model: Any, column: str, source_ids: list[int], target_id: int) -> list[int]:
    ids: list[int] = await model.filter(
        **{f"{column}__in": source_ids}, deleted_at=None
    ).values_list("id", flat=True)
    if ids:
        await model.filter(id__in=ids).update(**{column: target_id})
    return sorted(ids)


async def _move_relationships(target: Customer, source_ids: list[int]) -> dict[str, list[int]]:
    """Re-point edges; drop the ones that would become self-loops or duplicate a live edge."""
    merged = {target.id, *source_ids}
    edges = await Relationship.filter(deleted_at=None).filter(
        from_customer_id__in=list(merged)
    ) + await Relationship.filter(deleted_at=None, to_customer_id__in=list(merged)).exclude(
        from_customer_id__in=list(merged)
    )
    # The target's own edges are seen first, so they are the ones kept.
    edges.sort(
        key=lambda e: (e.from_customer_id != target.id and e.to_customer_id != target.id, e.id)
    )
    seen: set[tuple[str, int, int, Any]] = set()
    moved, dropped = [], []
    for edge in edges:
        new_from = target.id if edge.from_customer_id in merged else edge.from_customer_id
        new_to = target.id if edge.to_customer_id in merged else edge.to_customer_id
        key = (edge.kind, new_from, new_to, edge.ends_on)
        if new_from == new_to or key in seen:
            edge.deleted_at = utcnow()
            await edge.save(update_fields=["deleted_at", "updated_at"])
            dropped.append(edge.id)
            continue
        seen.add(key)
        if (new_from, new_to) != (edge.from_customer_id, edge.to_customer_id):
            edge.from_customer_id, edge.to_customer_id = new_from, new_to
            await edge.save(update_fields=["from_customer_id", "to_customer_id", "updated_at"])
            moved.append(edge.id)
    return {"moved": moved, "dropped": dropped}


async def merge_customers(target_id: int, source_ids: Sequence[int], *, actor: str) -> Customer:
    """Merge ``source_ids`` into ``target_id`` (same kind) in one transaction; return the target.

    The audit trail gets one entry per moved group and per source; the target gets one
    ``customer.merged`` event.
    """
    target, sources = await _load(target_id, source_ids)
    ids = [s.id for s in sources]
    before = snapshot(target)
    _unite_contacts(target, sources)
    _fill_target(target, sources)
    if target.parent_id in ids:
        target.parent_id = None
    refresh_derived(target)
    target.updated_by = actor
    now = utcnow()
    moved_groups: dict[str, Any] = {}
    async with in_transaction():
        moved_groups["interactions"] = await _move(Interaction, "customer_id", ids, target.id)
        moved_groups["tasks"] = await _move(Task, "customer_id", ids, target.id)
        moved_groups["opportunities"] = await _move(Opportunity, "customer_id", ids, target.id)
        if moved_groups["opportunities"]:
            await StageChange.filter(opportunity_id__in=moved_groups["opportunities"]).update(
                customer_id=target.id
            )
        if target.kind == ORGANIZATION:
            moved_groups["employees"] = await _move(Customer, "organization_id", ids, target.id)
            moved_groups["subsidiaries"] = await _move(Customer, "parent_id", ids, target.id)
            # A subsidiary moved onto the target must not end up as its own parent.
            await Customer.filter(id=target.id, parent_id=target.id).update(parent_id=None)
        else:
            await _move(Customer, "organization_id", ids, target.id)
        moved_groups["relationships"] = await _move_relationships(target, ids)
        for source in sources:
            source.deleted_at = now
            source.merged_into_id = target.id
            source.updated_by = actor
            await source.save(
                update_fields=["deleted_at", "merged_into_id", "updated_by", "updated_at"]
            )
        await target.save()
        after = snapshot(target)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        records = [
            Record(
                actor, f"customer.merge.move_{group}", "Customer", target.id, {group: [ids, moved]}
            )
            for group, moved in moved_groups.items()
            if moved and (not isinstance(moved, dict) or any(moved.values()))
        ]
        records += [
            Record(
                actor,
                "customer.merged_away",
                "Customer",
                source.id,
                {"deleted_at": [None, now.isoformat()], "merged_into_id": [None, target.id]},
            )
            for source in sources
        ]
        records.append(
            Record(
                actor,
                "customer.merge",
                "Customer",
                target.id,
                changes,
                "customer.merged",
                {"sourceIds": ids, "moved": moved_groups, "changes": changes},
            )
        )
        await record_many(records)
    return target

"""Use cases of people and organizations: create, update, upsert, delete and restore."""

from __future__ import annotations

import dataclasses
from typing import Any

from tortoise.transactions import in_transaction

from domain.customers.attributes import load_definitions, validate_attributes
from domain.customers.commands import (
    ORGANIZATION,
    PERSON,
    UNSET,
    OrganizationInput,
    PersonInput,
)
from domain.customers.normalize import (
    apply_values,
    derived_events,
    new_customer,
    normalize_input,
    snapshot,
)
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.persistence.models import Customer, User
from domain.recording import Changes, Record, record, record_many, utcnow
from domain.sla import tracking as sla


async def get_customer(
    customer_id: int, *, kind: str | None = None, include_deleted: bool = False
) -> Customer:
    query = Customer.filter(id=customer_id)
    if kind:
        query = query.filter(kind=kind)
    if not include_deleted:
        query = query.filter(deleted_at=None)
    customer = await query.first()
    if customer is None:
        raise NotFound(kind.title() if kind else "Customer", customer_id)
    return customer


async def check_owner(owner_id: int | None, *, field: str = "ownerId") -> None:
    if owner_id is None:
        return
    owner = await User.filter(id=owner_id, deleted_at=None).first()
    if owner is None:
        raise ValidationFailed(field, f"user {owner_id} not found", "NOT_FOUND")
    if not owner.active:
        raise ValidationFailed(field, f"user {owner_id} is not active", "INACTIVE")


async def check_organization(org_id: int | None, *, field: str) -> Customer | None:
    if org_id is None:
        return None
    org = await Customer.filter(id=org_id, deleted_at=None).first()
    if org is None:
        raise ValidationFailed(field, f"organization {org_id} not found", "NOT_FOUND")
    if org.kind != ORGANIZATION:
        raise ValidationFailed(field, f"customer {org_id} is not an organization", "INVALID_KIND")
    return org


def domain_conflict(existing: Customer) -> Conflict:
    if existing.deleted_at is not None:
        message = (
            f"domain {existing.domain} belongs to deleted organization {existing.id}; "
            "restore it instead of creating a new one"
        )
    else:
        message = f"domain {existing.domain} already belongs to organization {existing.id}"
    return Conflict(message, field="domain", existing_id=existing.id)


async def _check_parent(parent_id: int | None, customer_id: int | None) -> None:
    if parent_id is None:
        return
    if parent_id == customer_id:
        raise ValidationFailed("parentId", "an organization cannot be its own parent", "CYCLE")
    parent = await check_organization(parent_id, field="parentId")
    seen: set[int] = set()
    # Walk up the ancestors: reaching ourselves means the new edge would close a loop.
    while parent is not None and parent.parent_id is not None and parent.id not in seen:
        seen.add(parent.id)
        if parent.parent_id == customer_id:
            raise ValidationFailed("parentId", "parent would create a cycle", "CYCLE")
        parent = await Customer.filter(id=parent.parent_id).first()


async def check_references(values: dict[str, Any], kind: str, customer_id: int | None) -> None:
    """Database-backed checks of normalized ``values``; coerces ``attributes`` in place."""
    if "owner_id" in values:
        await check_owner(values["owner_id"])
    if "organization_id" in values:
        await check_organization(values["organization_id"], field="organizationId")
    if "parent_id" in values:
        await _check_parent(values["parent_id"], customer_id)
    if values.get("domain"):
        existing = await Customer.filter(domain=values["domain"]).exclude(id=customer_id).first()
        if existing is not None:
            raise domain_conflict(existing)
    if values.get("attributes"):
        definitions = await load_definitions(kind)
        values["attributes"] = validate_attributes(values["attributes"], definitions)


def customer_record(customer: Customer, changes: Changes, *, actor: str, created: bool) -> Record:
    kind = "person" if customer.kind == PERSON else "organization"
    return Record(
        actor=actor,
        action=f"{kind}.{'create' if created else 'update'}",
        target_type="Customer",
        target_id=customer.id,
        changes=changes,
        event_type="customer.created" if created else "customer.updated",
        payload={"kind": customer.kind, "changes": changes},
        extra_events=derived_events(changes),
    )


async def _create(data: PersonInput | OrganizationInput, *, actor: str) -> Customer:
    values = normalize_input(data)
    await check_references(values, data.kind, None)
    customer = new_customer(data, actor=actor)
    changes = apply_values(customer, values, now=utcnow())
    async with in_transaction():
        await customer.save()
        await record_many([customer_record(customer, changes, actor=actor, created=True)])
    return customer


async def _update(
    customer_id: int, data: PersonInput | OrganizationInput, *, actor: str
) -> Customer:
    customer = await get_customer(customer_id, kind=data.kind)
    values = normalize_input(data)
    await check_references(values, data.kind, customer.id)
    changes = apply_values(customer, values, now=utcnow())
    if not changes:
        return customer
    customer.updated_by = actor
    async with in_transaction():
        await customer.save()
        await record_many([customer_record(customer, changes, actor=actor, created=False)])
        # SLA policies select on the customer (tags, tier...): their open tickets re-select.
        await sla.reevaluate_customer(customer.id, utcnow())
    return customer


async def create_person(data: PersonInput, *, actor: str) -> Customer:
    """Create a person; the display name follows ``name_order`` unless given explicitly."""
    return await _create(data, actor=actor)


async def update_person(customer_id: int, data: PersonInput, *, actor: str) -> Customer:
    return await _update(customer_id, data, actor=actor)


async def create_organization(data: OrganizationInput, *, actor: str) -> Customer:
    """Create an organization; its normalized domain must be unused (even by a deleted one)."""
    return await _create(data, actor=actor)


async def update_organization(customer_id: int, data: OrganizationInput, *, actor: str) -> Customer:
    return await _update(customer_id, data, actor=actor)


async def find_person_by_email(email: str) -> Customer | None:
    return (
        await Customer.filter(kind=PERSON, primary_email=email, deleted_at=None)
        .order_by("id")
        .first()
    )


async def upsert_person(data: PersonInput, *, actor: str) -> tuple[Customer, bool]:
    """Update the live person whose primary e-mail matches the input's first e-mail, or create.

    Returns ``(customer, created)``.
    """
    values = normalize_input(data)
    email = values.get("primary_email")
    existing = await find_person_by_email(email) if email else None
    if existing is None:
        return await _create(data, actor=actor), True
    return await _update(existing.id, data, actor=actor), False


async def upsert_organization(data: OrganizationInput, *, actor: str) -> tuple[Customer, bool]:
    """Update the organization holding the input's domain, or create one.

    A soft-deleted holder raises ``Conflict`` (restore it first) rather than being revived silently.
    """
    values = normalize_input(data)
    domain = values.get("domain")
    existing = await Customer.filter(domain=domain).first() if domain else None
    if existing is None:
        return await _create(data, actor=actor), True
    survivor = await follow_merges(existing)
    if survivor.deleted_at is not None:
        raise domain_conflict(survivor)
    if survivor.id != existing.id:
        # The merged-away holder keeps its domain for the record; the survivor keeps its own.
        data = dataclasses.replace(data, domain=UNSET)
    return await _update(survivor.id, data, actor=actor), False


async def follow_merges(customer: Customer) -> Customer:
    """The live survivor a merged customer ended up in (the customer itself if not merged)."""
    seen = {customer.id}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        survivor = await Customer.filter(id=customer.merged_into_id).first()
        if survivor is None:
            break
        seen.add(survivor.id)
        customer = survivor
    return customer


async def delete_customer(customer_id: int, *, actor: str) -> Customer:
    """Soft delete: the row stays (and keeps its domain) until restored."""
    customer = await get_customer(customer_id)
    before = snapshot(customer)
    customer.deleted_at = utcnow()
    customer.updated_by = actor
    async with in_transaction():
        await customer.save(update_fields=["deleted_at", "updated_by", "updated_at"])
        await record(
            actor,
            "customer.delete",
            "Customer",
            customer.id,
            {"deleted_at": [before["deleted_at"], snapshot(customer)["deleted_at"]]},
            "customer.deleted",
            {"kind": customer.kind},
        )
    return customer


async def restore_customer(customer_id: int, *, actor: str) -> Customer:
    customer = await get_customer(customer_id, include_deleted=True)
    if customer.deleted_at is None:
        return customer
    if customer.merged_into_id is not None:
        raise Conflict(
            f"customer {customer_id} was merged into {customer.merged_into_id}",
            existing_id=customer.merged_into_id,
        )
    before = snapshot(customer)["deleted_at"]
    customer.deleted_at = None
    customer.updated_by = actor
    async with in_transaction():
        await customer.save(update_fields=["deleted_at", "updated_by", "updated_at"])
        await record(
            actor,
            "customer.restore",
            "Customer",
            customer.id,
            {"deleted_at": [before, None]},
            "customer.restored",
            {"kind": customer.kind},
        )
    return customer


async def add_tags(customer_id: int, tags: list[str], *, actor: str) -> Customer:
    """Add tags, keeping the existing ones (emits ``customer.tag_added``)."""
    from domain.text import decode_tags

    customer = await get_customer(customer_id)
    merged = decode_tags(customer.tags) + list(tags)
    data: PersonInput | OrganizationInput = (
        PersonInput(tags=merged) if customer.kind == PERSON else OrganizationInput(tags=merged)
    )
    return await _update(customer.id, data, actor=actor)


async def unsubscribe(customer_id: int, *, actor: str) -> Customer:
    """Record an unsubscribe: sets ``unsubscribed_at`` and clears both opt-ins."""
    customer = await get_customer(customer_id)
    data: PersonInput | OrganizationInput = (
        PersonInput(unsubscribed=True)
        if customer.kind == PERSON
        else OrganizationInput(unsubscribed=True)
    )
    return await _update(customer.id, data, actor=actor)


# Funnel order; CHURNED sits outside it, so a churned customer who buys again is won back.
FUNNEL = ("SUBSCRIBER", "LEAD", "MQL", "SQL", "OPPORTUNITY", "CUSTOMER", "EVANGELIST")


async def advance_lifecycle(customer: Customer, target: str, *, actor: str) -> bool:
    """Move ``customer`` forward to ``target`` unless it is already there or further on.

    Writes its own audit entry and ``customer.stage_changed`` event. Call it inside the
    caller's transaction (a won deal and its customer's promotion commit together).
    """
    current = customer.lifecycle_stage
    if current in FUNNEL and FUNNEL.index(current) >= FUNNEL.index(target):
        return False
    customer.lifecycle_stage = target
    customer.updated_by = actor
    await customer.save(update_fields=["lifecycle_stage", "updated_by", "updated_at"])
    changes = {"lifecycle_stage": [current, target]}
    await record_many(
        [
            Record(
                actor=actor,
                action="customer.lifecycle",
                target_type="Customer",
                target_id=customer.id,
                changes=changes,
                event_type="customer.stage_changed",
                payload={"from": current, "to": target},
            )
        ]
    )
    return True

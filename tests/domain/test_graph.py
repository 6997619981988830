from __future__ import annotations

import datetime as dt

import pytest

from domain.activities.interactions import log_interaction
from domain.activities.tasks import TaskInput, create_task
from domain.customers.commands import OrganizationInput, PersonInput
from domain.customers.merge import merge_customers
from domain.customers.relationships import (
    create_relationship,
    delete_relationship,
    end_relationship,
)
from domain.customers.services import create_organization, create_person, upsert_organization
from domain.errors import Conflict, ValidationFailed
from domain.persistence.models import (
    AuditEntry,
    Customer,
    DomainEvent,
    Interaction,
    Opportunity,
    Relationship,
    StageChange,
    Task,
)
from domain.sales.opportunities import create_opportunity
from domain.sales.pipelines import ensure_default_pipelines

pytestmark = pytest.mark.usefixtures("db")


async def test_relationship_rules() -> None:
    a = await create_person(PersonInput(first_name="A"), actor="t")
    b = await create_person(PersonInput(first_name="B"), actor="t")
    with pytest.raises(ValidationFailed) as error:
        await create_relationship(
            kind="REFERRED_BY", from_customer_id=a.id, to_customer_id=a.id, actor="t"
        )
    assert error.value.code == "SELF_EDGE"
    with pytest.raises(ValidationFailed) as error:
        await create_relationship(
            kind="best friend", from_customer_id=a.id, to_customer_id=b.id, actor="t"
        )
    assert error.value.code == "INVALID_KIND"
    with pytest.raises(ValidationFailed) as error:
        await create_relationship(
            kind="FAMILY_OF",
            from_customer_id=a.id,
            to_customer_id=b.id,
            starts_on=dt.date(2025, 2, 1),
            ends_on=dt.date(2025, 1, 1),
            actor="t",
        )
    assert error.value.code == "OUT_OF_RANGE"
    edge = await create_relationship(
        kind="mentor_of", from_customer_id=a.id, to_customer_id=b.id, actor="t"
    )
    assert edge.kind == "MENTOR_OF"
    with pytest.raises(Conflict):
        await create_relationship(
            kind="MENTOR_OF", from_customer_id=a.id, to_customer_id=b.id, actor="t"
        )
    ended = await end_relationship(edge.id, ends_on=dt.date(2026, 1, 1), actor="t")
    assert ended.ends_on == dt.date(2026, 1, 1)
    await delete_relationship(edge.id, actor="t")
    assert await Relationship.filter(deleted_at=None).count() == 0


async def test_merge_moves_everything_and_leaves_audit() -> None:
    await ensure_default_pipelines()
    acme = await create_organization(OrganizationInput(display_name="Acme"), actor="t")
    target = await create_person(
        PersonInput(first_name="An", last_name="Lê", emails=["an@a.vn"], tags=["vip"]), actor="t"
    )
    source = await create_person(
        PersonInput(
            first_name="An",
            emails=["an@b.vn", "an@a.vn"],
            phones=["0912345678"],
            tags=["hn"],
            job_title="CTO",
            organization_id=acme.id,
            lifecycle_stage="SQL",
        ),
        actor="t",
    )
    friend = await create_person(PersonInput(first_name="F"), actor="t")
    await log_interaction(customer_id=source.id, kind="CALL", actor="t")
    await create_task(TaskInput(title="Follow", customer_id=source.id), actor="t")
    deal = await create_opportunity(name="D", customer_id=source.id, actor="t")
    await create_relationship(
        kind="REFERRED_BY", from_customer_id=source.id, to_customer_id=friend.id, actor="t"
    )
    await create_relationship(
        kind="REFERRED_BY", from_customer_id=target.id, to_customer_id=friend.id, actor="t"
    )
    await create_relationship(
        kind="FAMILY_OF", from_customer_id=source.id, to_customer_id=target.id, actor="t"
    )

    merged = await merge_customers(target.id, [source.id], actor="user:9")

    assert await Interaction.filter(customer_id=target.id).count() == 1
    assert await Task.filter(customer_id=target.id).count() == 1
    assert (await Opportunity.get(id=deal.id)).customer_id == target.id
    assert await StageChange.filter(customer_id=source.id).count() == 0
    live = await Relationship.filter(deleted_at=None)
    assert [(e.kind, e.from_customer_id, e.to_customer_id) for e in live] == [
        ("REFERRED_BY", target.id, friend.id)
    ]
    assert [e["address"] for e in merged.emails] == ["an@a.vn", "an@b.vn"]
    assert merged.primary_phone == "+84912345678"
    assert merged.tags == "|hn|vip|"
    assert (merged.job_title, merged.organization_id) == ("CTO", acme.id)
    assert merged.lifecycle_stage == "OPPORTUNITY"
    assert "an@b.vn" in merged.search_text
    gone = await Customer.get(id=source.id)
    assert (gone.merged_into_id, gone.deleted_at is not None) == (target.id, True)
    actions = set(await AuditEntry.filter(actor="user:9").values_list("action", flat=True))
    assert {
        "customer.merge",
        "customer.merged_away",
        "customer.merge.move_interactions",
        "customer.merge.move_tasks",
        "customer.merge.move_opportunities",
        "customer.merge.move_relationships",
    } <= actions
    assert await DomainEvent.filter(type="customer.merged", subject_id=target.id).exists()


async def test_merge_organizations_moves_employees_and_follows_domain() -> None:
    target = await create_organization(
        OrganizationInput(display_name="A", domain="a.vn"), actor="t"
    )
    source = await create_organization(
        OrganizationInput(display_name="B", domain="b.vn"), actor="t"
    )
    employee = await create_person(
        PersonInput(first_name="E", organization_id=source.id), actor="t"
    )
    await merge_customers(target.id, [source.id], actor="t")
    assert (await Customer.get(id=employee.id)).organization_id == target.id
    survivor, created = await upsert_organization(
        OrganizationInput(domain="b.vn", industry="Bank"), actor="t"
    )
    assert (survivor.id, created) == (target.id, False)


async def test_merge_refuses_mixed_kinds_and_writes_nothing() -> None:
    org = await create_organization(OrganizationInput(display_name="A"), actor="t")
    person = await create_person(PersonInput(first_name="P"), actor="t")
    audits = await AuditEntry.all().count()
    with pytest.raises(ValidationFailed) as error:
        await merge_customers(org.id, [person.id], actor="t")
    assert (error.value.field, error.value.code) == ("sourceIds[0]", "INVALID_KIND")
    assert await AuditEntry.all().count() == audits
    assert (await Customer.get(id=person.id)).deleted_at is None

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.activities.interactions import log_interaction
from domain.activities.tasks import TaskInput, cancel_task, complete_task, create_task, update_task
from domain.customers.commands import PersonInput
from domain.customers.services import create_person
from domain.errors import Conflict, ValidationFailed
from domain.persistence.models import (
    AuditEntry,
    Customer,
    DomainEvent,
    Opportunity,
    Stage,
    StageChange,
)
from domain.sales.opportunities import (
    create_opportunity,
    lose_opportunity,
    move_opportunity,
    reopen_opportunity,
    win_opportunity,
)
from domain.sales.pipelines import create_pipeline, ensure_default_pipelines, pipeline_stages
from domain.staff.teams import add_member, create_team
from domain.staff.users import create_user

pytestmark = pytest.mark.usefixtures("db")


async def person(**kwargs: object) -> Customer:
    return await create_person(PersonInput(first_name="An", **kwargs), actor="t")  # type: ignore[arg-type]


async def test_ensure_default_pipelines_is_idempotent() -> None:
    pipeline = await ensure_default_pipelines()
    again = await ensure_default_pipelines()
    assert pipeline.id == again.id
    stages = await pipeline_stages(pipeline.id)
    assert [(s.name, s.probability) for s in stages] == [
        ("Qualification", 10),
        ("Needs analysis", 30),
        ("Proposal", 60),
        ("Negotiation", 80),
    ]


async def test_stage_probability_out_of_range() -> None:
    with pytest.raises(ValidationFailed) as error:
        await create_pipeline(name="X", stages=[("A", 10), ("B", 101)], actor="t")
    assert (error.value.field, error.value.code) == ("stages[1].probability", "OUT_OF_RANGE")


async def test_opportunity_defaults_and_lifecycle_bump() -> None:
    pipeline = await ensure_default_pipelines()
    customer = await person(lifecycle_stage="MQL")
    deal = await create_opportunity(
        name="Deal", customer_id=customer.id, amount="1500000", currency="vnd", actor="user:1"
    )
    first = (await pipeline_stages(pipeline.id))[0]
    assert (deal.pipeline_id, deal.stage_id, deal.currency) == (pipeline.id, first.id, "VND")
    assert deal.amount == Decimal("1500000")
    assert await StageChange.filter(opportunity_id=deal.id).count() == 1
    assert (await Customer.get(id=customer.id)).lifecycle_stage == "OPPORTUNITY"


async def test_opportunity_validation() -> None:
    await ensure_default_pipelines()
    other = await create_pipeline(name="Other", stages=[("Only", 50)], actor="t")
    foreign_stage = (await pipeline_stages(other.id))[0]
    customer = await person()
    before = await Opportunity.all().count()
    with pytest.raises(ValidationFailed) as error:
        await create_opportunity(name="D", customer_id=customer.id, amount=-1, actor="t")
    assert error.value.code == "OUT_OF_RANGE"
    with pytest.raises(ValidationFailed) as error:
        await create_opportunity(
            name="D", customer_id=customer.id, stage_id=foreign_stage.id, actor="t"
        )
    assert error.value.code == "INVALID_STAGE"
    with pytest.raises(ValidationFailed) as error:
        await create_opportunity(name="D", customer_id=customer.id, currency="dong", actor="t")
    assert error.value.field == "currency"
    assert await Opportunity.all().count() == before


async def test_move_win_moves_customer_to_customer_stage() -> None:
    pipeline = await ensure_default_pipelines()
    stages = await pipeline_stages(pipeline.id)
    customer = await person()
    deal = await create_opportunity(name="D", customer_id=customer.id, actor="t")
    await move_opportunity(deal.id, stage_id=stages[2].id, actor="t")
    won = await win_opportunity(deal.id, actor="user:3")
    assert won.status == "WON"
    assert won.closed_at is not None
    history = await StageChange.filter(opportunity_id=deal.id).order_by("id")
    assert [h.status for h in history] == ["OPEN", "OPEN", "WON"]
    assert (await Customer.get(id=customer.id)).lifecycle_stage == "CUSTOMER"
    lifecycle_audit = await AuditEntry.filter(
        target_type="Customer", target_id=customer.id, action="customer.lifecycle"
    ).order_by("-id")
    assert lifecycle_audit[0].changes == {"lifecycle_stage": ["OPPORTUNITY", "CUSTOMER"]}
    assert lifecycle_audit[0].actor == "user:3"
    events = await DomainEvent.filter(type="customer.stage_changed", subject_id=customer.id)
    assert events[-1].payload == {"from": "OPPORTUNITY", "to": "CUSTOMER"}
    assert await DomainEvent.filter(type="opportunity.won", subject_id=deal.id).exists()
    with pytest.raises(Conflict):
        await move_opportunity(deal.id, stage_id=stages[0].id, actor="t")


async def test_lose_requires_reason_and_reopen() -> None:
    await ensure_default_pipelines()
    customer = await person()
    deal = await create_opportunity(name="D", customer_id=customer.id, actor="t")
    with pytest.raises(ValidationFailed):
        await lose_opportunity(deal.id, reason="  ", actor="t")
    lost = await lose_opportunity(deal.id, reason="price", actor="t")
    assert (lost.status, lost.lost_reason) == ("LOST", "price")
    reopened = await reopen_opportunity(deal.id, actor="t")
    assert (reopened.status, reopened.closed_at) == ("OPEN", None)


async def test_interaction_opportunity_must_belong_to_customer() -> None:
    await ensure_default_pipelines()
    a, b = await person(), await person()
    deal = await create_opportunity(name="D", customer_id=a.id, actor="t")
    with pytest.raises(ValidationFailed) as error:
        await log_interaction(customer_id=b.id, kind="CALL", opportunity_id=deal.id, actor="t")
    assert error.value.field == "opportunityId"
    with pytest.raises(ValidationFailed) as error:
        await log_interaction(customer_id=a.id, kind="FAX", actor="t")
    assert error.value.code == "INVALID_KIND"
    when = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
    logged = await log_interaction(
        customer_id=a.id,
        kind="MEETING",
        direction="INBOUND",
        subject="Gặp  mặt",
        occurred_at=when,
        opportunity_id=deal.id,
        actor="t",
    )
    assert (logged.subject_fold, logged.occurred_at) == ("gap mat", when)
    assert await DomainEvent.filter(type="interaction.logged", subject_id=logged.id).exists()


async def test_task_lifecycle() -> None:
    user = await create_user(name="Bob", email="Bob@CRM.vn", actor="t")
    assert user.email == "bob@crm.vn"
    customer = await person()
    task = await create_task(
        TaskInput(title="Call back", assignee_id=user.id, customer_id=customer.id), actor="t"
    )
    task = await update_task(task.id, TaskInput(notes="after lunch"), actor="t")
    assert task.notes == "after lunch"
    done = await complete_task(task.id, actor="user:1")
    assert (done.status, done.completed_at is not None) == ("DONE", True)
    assert await DomainEvent.filter(type="task.completed", subject_id=task.id).exists()
    with pytest.raises(Conflict):
        await cancel_task(task.id, actor="t")
    with pytest.raises(ValidationFailed):
        await create_task(TaskInput(title=" "), actor="t")


async def test_team_members() -> None:
    lead = await create_user(name="Lead", email="lead@crm.vn", role="MANAGER", actor="t")
    member = await create_user(name="Mem", email="mem@crm.vn", manager_id=lead.id, actor="t")
    team = await create_team(name="Sales HN", lead_id=lead.id, actor="t")
    await add_member(team.id, member.id, actor="t")
    assert {u.id for u in await team.members.all()} == {lead.id, member.id}
    with pytest.raises(ValidationFailed):
        await create_user(name="X", email="x@crm.vn", role="BOSS", actor="t")
    with pytest.raises(Conflict):
        await create_user(name="Dup", email="MEM@crm.vn", actor="t")


async def test_events_roll_back_with_the_change() -> None:
    await ensure_default_pipelines()
    stage_count = await Stage.all().count()
    events = await DomainEvent.all().count()
    with pytest.raises(ValidationFailed):
        await create_pipeline(name="Bad", stages=[("A", 10), ("", 20)], actor="t")
    assert (await Stage.all().count(), await DomainEvent.all().count()) == (stage_count, events)

"""``date:`` triggers and waits until a subject's date, on real records (SQLite and
PostgreSQL): the timer follows the field when it changes (in the relay's transaction), fires at
the new time on a clock the test controls, fires at once when moved into the past, and is
cancelled when the field is cleared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from domain.customers import services
from domain.customers.attributes import create_attribute_definition
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from tests.runtime_clock import FakeClock, fire_due, installed_clock
from workflows.runtime import relay
from workflows.runtime.dates import timer_key
from workflows.runtime.deploy import deploy_texts

ICT = dt.timezone(dt.timedelta(hours=7))
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ICT)

FLOW = """\
key: renewal-reminder
trigger:
  date: {field: subject.attributes.renewal_date, offset: -7d, at: "10:00"}
enrollment: {reenroll: always}
steps:
  - id: remind
    send_email: {template: renewal-soon, to: subject}
  - id: until-renewal
    wait: {until: 'subject.attributes.renewal_date'}
  - id: renewal-day
    send_email: {template: renewal-day, to: subject}
"""
TEMPLATES = """\
templates:
  renewal-soon: {subject: "Gia hạn sắp tới", text: "Còn 7 ngày"}
  renewal-day: {subject: "Hôm nay gia hạn", text: "Hôm nay"}
"""


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(MONDAY_10) as fake:
        yield fake


async def _deploy(clock: FakeClock, flow: str = FLOW) -> None:
    result = await deploy_texts(
        {"renewal.yaml": flow, "templates.yaml": TEMPLATES}, actor="user:test", now=clock()
    )
    assert result.problems == []


async def _customer(email: str, renewal: str | None) -> m.Customer:
    return await services.create_person(
        PersonInput(
            first_name="Lan",
            emails=[email],
            email_opt_in=True,
            attributes={"renewal_date": renewal} if renewal else {},
        ),
        actor="user:test",
    )


async def _renew(customer: m.Customer, renewal: str | None) -> None:
    await services.update_person(
        customer.id, PersonInput(attributes={"renewal_date": renewal}), actor="user:test"
    )
    await relay.relay_events()


async def _pending(customer: m.Customer) -> list[dt.datetime]:
    key = timer_key("renewal-reminder", "customer", customer.id)
    rows = await m.Timer.filter(key=key, status="PENDING").order_by("id")
    return [row.due_at for row in rows]


@pytest.fixture
async def renewal_attribute(database: str) -> None:
    await create_attribute_definition(
        entity="CUSTOMER", key="renewal_date", label="Renewal", type="DATE", actor="user:test"
    )


async def test_the_trigger_timer_follows_the_field(
    renewal_attribute: None, clock: FakeClock
) -> None:
    await _deploy(clock)
    lan = await _customer("lan@khach.vn", "2026-12-10")
    await relay.relay_events()
    assert await _pending(lan) == [dt.datetime(2026, 12, 3, 10, 0, tzinfo=ICT)]
    await _renew(lan, "2026-12-20")
    assert await _pending(lan) == [dt.datetime(2026, 12, 13, 10, 0, tzinfo=ICT)]
    # the old due time passes: nothing fires
    clock.now = dt.datetime(2026, 12, 3, 10, 1, tzinfo=ICT)
    assert await fire_due(clock) == 0
    assert await m.WorkflowRun.filter(subject_id=lan.id).count() == 0
    # the new one fires and enrolls
    clock.now = dt.datetime(2026, 12, 13, 10, 0, 1, tzinfo=ICT)
    assert await fire_due(clock) == 1
    run = await m.WorkflowRun.get(subject_id=lan.id)
    assert run.state == "WAITING"
    assert [e.subject for e in await m.EmailMessage.filter(run_id=run.id)] == ["Gia hạn sắp tới"]
    # the run waits until the renewal day (local midnight), and that wait moves too
    wait = await m.Timer.get(run_id=run.id, status="PENDING")
    assert wait.due_at == dt.datetime(2026, 12, 20, 0, 0, tzinfo=ICT)
    await _renew(lan, "2026-12-22")
    moved = await m.Timer.get(run_id=run.id, status="PENDING")
    assert moved.id == wait.id
    assert moved.due_at == dt.datetime(2026, 12, 22, 0, 0, tzinfo=ICT)
    # the trigger's moment changed too, but the run is still live: its new timer is armed
    # and enrolls nobody twice (reenroll needs the previous run to have ended)
    clock.now = dt.datetime(2026, 12, 22, 0, 0, 1, tzinfo=ICT)
    assert await fire_due(clock) >= 1
    run = await m.WorkflowRun.get(id=run.id)
    assert run.state == "COMPLETED"
    sent = [e.subject for e in await m.EmailMessage.filter(run_id=run.id).order_by("id")]
    assert sent == ["Gia hạn sắp tới", "Hôm nay gia hạn"]
    history = await m.WorkflowRunStep.filter(run_id=run.id, outcome="MOVED").count()
    assert history == 1


async def test_a_wait_moved_into_the_past_fires_at_once(
    renewal_attribute: None, clock: FakeClock
) -> None:
    await _deploy(clock)
    lan = await _customer("lan@khach.vn", "2026-11-30")
    await relay.relay_events()
    # seven days before the 30th is behind us, the 30th is ahead: enrolled at once
    assert await _pending(lan) == [MONDAY_10]
    assert await fire_due(clock) == 1
    run = await m.WorkflowRun.get(subject_id=lan.id)
    assert run.state == "WAITING"
    clock.now = MONDAY_10 + dt.timedelta(hours=1)
    await _renew(lan, "2026-11-23")  # today, midnight: already past
    run = await m.WorkflowRun.get(id=run.id)
    assert run.state == "COMPLETED"
    assert await m.EmailMessage.filter(run_id=run.id).count() == 2
    assert not await m.Timer.filter(run_id=run.id, status="PENDING").exists()


async def test_cleared_and_past_dates_arm_nothing(
    renewal_attribute: None, clock: FakeClock
) -> None:
    soon = await _customer("soon@khach.vn", "2026-11-26")
    later = await _customer("later@khach.vn", "2027-01-15")
    over = await _customer("over@khach.vn", "2026-11-01")
    none = await _customer("none@khach.vn", None)
    await relay.relay_events()
    await _deploy(clock)  # a deploy arms every subject whose date is ahead
    assert await _pending(soon) == [MONDAY_10]
    assert await _pending(later) == [dt.datetime(2027, 1, 8, 10, 0, tzinfo=ICT)]
    assert await _pending(over) == []
    assert await _pending(none) == []
    await _renew(later, None)
    assert await _pending(later) == []
    cancelled = await m.Timer.get(key=timer_key("renewal-reminder", "customer", later.id))
    assert cancelled.status == "CANCELLED"
    # fired once for a moment: an unrelated change later does not arm it again
    assert await fire_due(clock) == 1
    await services.update_person(soon.id, PersonInput(job_title="CEO"), actor="user:test")
    await relay.relay_events()
    assert await _pending(soon) == []
    assert await m.WorkflowRun.filter(subject_id=soon.id).count() == 1


async def test_deploy_checks_the_attribute_is_a_date(database: str, clock: FakeClock) -> None:
    await create_attribute_definition(
        entity="CUSTOMER", key="plan", label="Plan", type="STRING", actor="user:test"
    )
    for key, message in (
        ("plan", "attribute 'plan' is of type STRING; a date trigger needs a DATE attribute"),
        (
            "renewal_date",
            "attribute 'renewal_date' is not a customer attribute; "
            "a date trigger needs a DATE attribute",
        ),
    ):
        flow = FLOW.replace("attributes.renewal_date, offset", f"attributes.{key}, offset")
        result = await deploy_texts(
            {"renewal.yaml": flow, "templates.yaml": TEMPLATES}, actor="user:test", now=clock()
        )
        assert [(p.line, p.col, p.message) for p in result.problems] == [(3, 17, message)]
    assert await m.Workflow.all().count() == 0


async def test_a_version_deployed_while_paused_is_armed_on_resume(
    renewal_attribute: None, clock: FakeClock
) -> None:
    from workflows.runtime import admin

    await _deploy(clock)
    lan = await _customer("lan@khach.vn", "2026-12-10")
    await relay.relay_events()
    await admin.pause_workflow("renewal-reminder", actor="user:test")
    await _deploy(clock, FLOW.replace("offset: -7d", "offset: -3d"))
    assert await _pending(lan) == []  # paused: the new version armed nothing
    await admin.resume_workflow("renewal-reminder", actor="user:test", now=clock())
    assert await _pending(lan) == [dt.datetime(2026, 12, 7, 10, 0, tzinfo=ICT)]

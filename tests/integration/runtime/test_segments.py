"""Segment membership on real records (SQLite and PostgreSQL): entries and exits recorded with
their ``segment.entered``/``segment.exited`` events through the outbox, ``segment: KEY``
triggers enrolling on entry, and the durable tick that notices time-based conditions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from domain.activities.interactions import log_interaction
from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from tests.runtime_clock import FakeClock, fire_due, installed_clock
from workflows.runtime import relay, segments
from workflows.runtime.deploy import deploy_texts

ICT = dt.timezone(dt.timedelta(hours=7))
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ICT)

BUNDLE = """\
segments:
  vip:
    name: Khách VIP
    when: '"vip" in subject.tags'
  quiet-customers:
    name: Khách hàng im lặng
    when: >-
      subject.lifecycleStage == "CUSTOMER" && has(subject.lastInteractionAt) &&
      now - subject.lastInteractionAt > duration("720h")
templates:
  vip-hello: {subject: "Chào khách VIP", text: "Cảm ơn"}
  miss-you: {subject: "Lâu rồi không gặp", text: "Chào bạn"}
"""
VIP = """\
key: vip-hello
trigger: {segment: vip}
enrollment: {reenroll: always}
steps:
  - {id: hello, send_email: {template: vip-hello, to: subject}}
"""
QUIET = """\
key: miss-you
trigger: {segment: quiet-customers}
steps:
  - {id: miss, send_email: {template: miss-you, to: subject}}
"""


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(MONDAY_10) as fake:
        yield fake


async def _deploy(clock: FakeClock, *flows: str) -> None:
    texts = {f"flow-{n}.yaml": flow for n, flow in enumerate(flows)} | {"bundle.yaml": BUNDLE}
    result = await deploy_texts(texts, actor="user:test", now=clock())
    assert result.problems == []


async def _person(email: str, **extra: object) -> m.Customer:
    return await services.create_person(
        PersonInput(first_name="Lan", emails=[email], email_opt_in=True, **extra),  # type: ignore[arg-type]
        actor="user:test",
    )


async def _stays(customer: m.Customer, key: str) -> list[tuple[bool, bool]]:
    rows = await m.SegmentMembership.filter(customer_id=customer.id, segment__key=key).order_by(
        "id"
    )
    return [(row.entered_at is not None, row.exited_at is not None) for row in rows]


async def _events(customer: m.Customer) -> list[tuple[str, str]]:
    rows = await m.DomainEvent.filter(
        subject_type="Customer", subject_id=customer.id, type__startswith="segment."
    ).order_by("id")
    return [(row.type, row.payload["segment"]["key"]) for row in rows]


async def test_entering_a_segment_enrolls_and_leaving_it_is_recorded(
    database: str, clock: FakeClock
) -> None:
    already = await _person("old@khach.vn", tags=["vip"])
    await relay.relay_events()
    await _deploy(clock, VIP)
    # the members at deploy time are recorded, but did not "enter": no event, no run
    assert await _stays(already, "vip") == [(True, False)]
    assert await _events(already) == []
    lan = await _person("lan@khach.vn")
    await relay.relay_events()
    assert await _stays(lan, "vip") == []
    await services.add_tags(lan.id, ["vip"], actor="user:test")
    await relay.relay_events()  # the tag event, then the segment.entered it caused
    assert await _stays(lan, "vip") == [(True, False)]
    assert await _events(lan) == [("segment.entered", "vip")]
    run = await m.WorkflowRun.get(subject_id=lan.id)
    assert run.state == "COMPLETED"
    assert [e.subject for e in await m.EmailMessage.filter(run_id=run.id)] == ["Chào khách VIP"]
    await services.update_person(lan.id, PersonInput(tags=[]), actor="user:test")
    await relay.relay_events()
    assert await _stays(lan, "vip") == [(True, True)]
    assert await _events(lan) == [("segment.entered", "vip"), ("segment.exited", "vip")]
    # entering again is a new stay and, with reenroll: always, a new run
    await services.add_tags(lan.id, ["vip"], actor="user:test")
    await relay.relay_events()
    assert await _stays(lan, "vip") == [(True, True), (True, False)]
    assert await m.WorkflowRun.filter(subject_id=lan.id).count() == 2
    assert await m.WorkflowRun.filter(subject_id=already.id).count() == 0
    # a deleted customer leaves every segment
    await services.delete_customer(lan.id, actor="user:test")
    await relay.relay_events()
    assert await _stays(lan, "vip") == [(True, True), (True, True)]


async def test_the_tick_notices_time_based_conditions(database: str, clock: FakeClock) -> None:
    await _deploy(clock, QUIET)
    tick = await m.Timer.get(key=segments.TICK_KEY, status="PENDING")
    assert tick.due_at == MONDAY_10 + segments.TICK_EVERY
    an = await _person("an@khach.vn", lifecycle_stage="CUSTOMER")
    await log_interaction(
        customer_id=an.id,
        kind="CALL",
        subject="Gọi điện",
        occurred_at=MONDAY_10 - dt.timedelta(days=20),
        actor="user:test",
    )
    await relay.relay_events()
    assert await _stays(an, "quiet-customers") == []
    # eleven days later nothing happened to An, but 30 days have passed since the call
    clock.now = MONDAY_10 + dt.timedelta(days=11)
    assert await fire_due(clock) == 1  # the tick (one, however late: it re-arms from now)
    assert await _stays(an, "quiet-customers") == [(True, False)]
    await relay.relay_events()
    run = await m.WorkflowRun.get(subject_id=an.id)
    assert [e.subject for e in await m.EmailMessage.filter(run_id=run.id)] == ["Lâu rồi không gặp"]
    following = await m.Timer.get(key=segments.TICK_KEY, status="PENDING")
    assert following.due_at == clock() + segments.TICK_EVERY
    # a new interaction takes An out at once (the event, not the tick)
    await log_interaction(
        customer_id=an.id, kind="CALL", subject="Gọi lại", occurred_at=clock(), actor="user:test"
    )
    await relay.relay_events()
    assert await _stays(an, "quiet-customers") == [(True, True)]
    assert await _events(an) == [
        ("segment.entered", "quiet-customers"),
        ("segment.exited", "quiet-customers"),
    ]
    # and the next tick changes nothing
    clock.now = following.due_at + dt.timedelta(seconds=1)
    assert await fire_due(clock) == 1
    assert await _stays(an, "quiet-customers") == [(True, True)]

"""Workflows driving real records: deploy, enrollment on a domain event, durable timers,
the e-mail outbox, goal and exit, on SQLite and PostgreSQL, with a clock the test controls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.activities.interactions import log_interaction
from domain.customers import services
from domain.customers.attributes import create_attribute_definition
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from domain.sales.opportunities import create_opportunity, win_opportunity
from domain.sales.pipelines import ensure_default_pipelines
from domain.staff.users import create_user
from domain.text import decode_tags
from domain.tickets.lifecycle import change_ticket_status, create_ticket
from tests.runtime_clock import FakeClock, fire_due, installed_clock
from workflows.engine import RunState
from workflows.language.validate import BUNDLED_DIR
from workflows.runtime import relay, timers
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.runs import enroll

ICT = dt.timezone(dt.timedelta(hours=7))
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ICT)


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(MONDAY_10) as fake:
        yield fake


def _bundled(*names: str) -> dict[str, str]:
    return {name: (Path(BUNDLED_DIR) / name).read_text(encoding="utf-8") for name in names}


async def _lead(email: str, **extra: object) -> m.Customer:
    return await services.create_person(
        PersonInput(
            first_name="Lan",
            last_name="Trần",
            emails=[email],
            email_opt_in=True,
            lifecycle_stage="LEAD",
            **extra,
        ),  # type: ignore[arg-type]
        actor="user:test",
    )


async def test_deploy_is_versioned_by_content(database: str) -> None:
    texts = _bundled("welcome-nurture.yaml", "templates.yaml")
    first = await deploy_texts(texts, actor="user:test")
    again = await deploy_texts(texts, actor="user:test")
    assert [(d.key, d.version, d.created) for d in first.deployed] == [("welcome-nurture", 1, True)]
    assert [(d.key, d.version, d.created) for d in again.deployed] == [
        ("welcome-nurture", 1, False)
    ]
    changed = dict(texts)
    changed["welcome-nurture.yaml"] = texts["welcome-nurture.yaml"].replace("wait: 2d", "wait: 3d")
    third = await deploy_texts(changed, actor="user:test")
    assert [(d.version, d.created) for d in third.deployed] == [(2, True)]
    bad = await deploy_texts({"x.yaml": "key: x\nsteps: []\n"}, actor="user:test")
    assert bad.problems
    assert await m.Workflow.all().count() == 1


async def test_redeploying_an_earlier_content_makes_that_version_current_again(
    database: str, clock: FakeClock
) -> None:
    """A roll-back: deploying v1's content after v2 makes v1 current (no v3), so new
    enrollments use it; deploying it once more changes nothing."""
    first = _bundled("welcome-nurture.yaml", "templates.yaml")
    second = dict(first)
    second["welcome-nurture.yaml"] = first["welcome-nurture.yaml"].replace("wait: 2d", "wait: 3d")
    await deploy_texts(first, actor="user:test")
    await deploy_texts(second, actor="user:test")
    rolled_back = await deploy_texts(first, actor="user:test")
    assert [(d.version, d.created, d.reactivated) for d in rolled_back.deployed] == [
        (1, False, True)
    ]
    row = await m.Workflow.get(key="welcome-nurture")
    v1 = await m.WorkflowVersion.get(workflow_id=row.id, number=1)
    assert row.current_version_id == v1.id
    assert await m.WorkflowVersion.filter(workflow_id=row.id).count() == 2
    audit = await m.AuditEntry.filter(action="workflow.deploy", target_id=row.id).order_by("-id")
    assert audit[0].changes == {"version": [2, 1]}
    lan = await _lead("rollback@khach.vn")
    await relay.relay_events()
    assert (await m.WorkflowRun.get(subject_id=lan.id)).version_id == v1.id
    again = await deploy_texts(first, actor="user:test")
    assert [(d.version, d.created, d.reactivated) for d in again.deployed] == [(1, False, False)]


async def test_welcome_nurture_from_creation_to_tips(database: str, clock: FakeClock) -> None:
    await deploy_texts(_bundled("welcome-nurture.yaml", "templates.yaml"), actor="user:test")
    lan = await _lead("lan@khach.vn")
    assert await relay.relay_events() >= 1
    run = await m.WorkflowRun.get(subject_id=lan.id)
    assert run.state == "WAITING"
    welcome = await m.EmailMessage.get(run_id=run.id)
    assert welcome.to_address == "lan@khach.vn"
    assert welcome.subject.startswith("Chào mừng Trần Lan")
    # nothing is due before two days have passed
    clock.now = MONDAY_10 + dt.timedelta(days=1, hours=23)
    assert await fire_due(clock) == 0
    clock.now = MONDAY_10 + dt.timedelta(days=2, seconds=1)
    assert await fire_due(clock) == 1
    run = await m.WorkflowRun.get(id=run.id)
    assert run.state == "COMPLETED"
    subjects = [e.subject for e in await m.EmailMessage.filter(run_id=run.id).order_by("id")]
    assert len(subjects) == 2
    assert "3 mẹo" in subjects[1]
    # a fired timer delivered again does nothing
    timer = await m.Timer.filter(run_id=run.id).first()
    assert timer is not None
    assert await timers.fire_timer(timer.id, timer.claim_token, clock()) is False
    assert await m.EmailMessage.filter(run_id=run.id).count() == 2
    steps = await m.WorkflowRunStep.filter(run_id=run.id).values_list("step_id", flat=True)
    assert "welcome" in steps
    assert "tips" in steps


async def test_goal_met_mid_run_converts_and_sends_nothing_more(
    database: str, clock: FakeClock
) -> None:
    await deploy_texts(_bundled("welcome-nurture.yaml", "templates.yaml"), actor="user:test")
    lan = await _lead("lan2@khach.vn")
    await relay.relay_events()
    clock.now = MONDAY_10 + dt.timedelta(hours=5)
    await services.update_person(lan.id, PersonInput(lifecycle_stage="CUSTOMER"), actor="user:test")
    await relay.relay_events()
    run = await m.WorkflowRun.get(subject_id=lan.id)
    assert run.state == "CONVERTED"
    clock.now = MONDAY_10 + dt.timedelta(days=3)
    assert await fire_due(clock) == 0
    assert await m.EmailMessage.filter(run_id=run.id).count() == 1


async def test_no_consent_is_suppressed_and_unsubscribe_exits(
    database: str, clock: FakeClock
) -> None:
    await deploy_texts(_bundled("welcome-nurture.yaml", "templates.yaml"), actor="user:test")
    quiet = await services.create_person(
        PersonInput(first_name="Minh", emails=["minh@khach.vn"], lifecycle_stage="LEAD"),
        actor="user:test",
    )
    loud = await _lead("loud@khach.vn")
    await relay.relay_events()
    quiet_run = await m.WorkflowRun.get(subject_id=quiet.id)
    assert await m.EmailMessage.filter(run_id=quiet_run.id).count() == 0
    outcomes = await m.WorkflowRunStep.filter(run_id=quiet_run.id, step_id="welcome").values_list(
        "outcome", flat=True
    )
    assert "SUPPRESSED" in outcomes
    await services.unsubscribe(loud.id, actor="user:test")
    await relay.relay_events()
    loud_run = await m.WorkflowRun.get(subject_id=loud.id)
    assert loud_run.state == "EXITED"
    clock.now = MONDAY_10 + dt.timedelta(days=3)
    await fire_due(clock)
    assert await m.EmailMessage.filter(run_id=loud_run.id).count() == 1


async def test_unsubscribing_ends_every_marketing_run_but_not_sales_follow_ups(
    database: str, clock: FakeClock
) -> None:
    """Consent wins even where a workflow has no exit_when for it: the unsubscribe's event
    ends the customer's marketing runs (they e-mail the customer) before their next step; a
    sales follow-up (a task, then a note to the owner) goes on."""
    drip = (
        "key: drip\nname: Drip\nsubject: customer\ntrigger: {manual: true}\nsteps:\n"
        "  - {id: hello, send_email: {template: welcome-lead, to: subject}}\n"
        "  - {id: pause, wait: 2d}\n"
        "  - {id: again, send_email: {template: welcome-tips, to: subject}}\n"
    )
    follow_up = (
        "key: follow-up\nname: Follow-up\nsubject: customer\ntrigger: {manual: true}\nsteps:\n"
        "  - {id: call, create_task: {title: Call back, assignee: owner, due: 1d}}\n"
        "  - {id: pause, wait: 2d}\n"
        "  - {id: remind, notify: {to: binh@rapport.vn, template: welcome-tips}}\n"
    )
    await create_user(name="Bình", email="binh@rapport.vn", actor="user:test")
    texts = {"drip.yaml": drip, "follow-up.yaml": follow_up, **_bundled("templates.yaml")}
    assert not (await deploy_texts(texts, actor="user:test")).problems
    lan = await _lead("lan-unsub@khach.vn")
    await relay.relay_events()
    runs = {}
    for key in ("drip", "follow-up"):
        workflow_row = await m.Workflow.get(key=key)
        run = await enroll(workflow_row, "customer", lan.id, clock())
        assert run is not None
        assert run.state == "WAITING"
        runs[key] = run.id
    assert await m.EmailMessage.filter(run_id=runs["drip"]).count() == 1

    clock.now = MONDAY_10 + dt.timedelta(hours=1)
    await services.unsubscribe(lan.id, actor="user:test")
    await relay.relay_events()
    drip_run = await m.WorkflowRun.get(id=runs["drip"])
    assert (drip_run.state, RunState.from_json(drip_run.state_json).ended_reason) == (
        "EXITED",
        "unsubscribed",
    )
    clock.now = MONDAY_10 + dt.timedelta(days=3)
    assert await fire_due(clock) == 1  # the follow-up's wait; the drip's timer was cancelled
    assert await m.EmailMessage.filter(run_id=runs["drip"]).count() == 1
    assert (await m.WorkflowRun.get(id=runs["follow-up"])).state == "COMPLETED"
    reminder = await m.EmailMessage.get(run_id=runs["follow-up"])
    assert reminder.to_address == "binh@rapport.vn"
    # And an unsubscribed customer is not enrolled in marketing again.
    assert await enroll(await m.Workflow.get(key="drip"), "customer", lan.id, clock()) is None


async def test_a_stage_change_triggers_a_workflow_on_customer_stage_changed(
    database: str, clock: FakeClock
) -> None:
    """The catalogue's ``customer.stage_changed`` is the event a lifecycle change emits, with
    ``event.from`` / ``event.to``."""
    flow = (
        "key: mql-hand-off\nname: MQL\nsubject: customer\n"
        "trigger: {event: customer.stage_changed, when: 'event.to == \"MQL\"'}\nsteps:\n"
        "  - {id: tag, add_tag: mql}\n"
    )
    assert not (await deploy_texts({"mql.yaml": flow}, actor="user:test")).problems
    lan = await _lead("stage@khach.vn")
    await relay.relay_events()
    assert not await m.WorkflowRun.filter(subject_id=lan.id).exists()
    await services.update_person(lan.id, PersonInput(lifecycle_stage="MQL"), actor="user:test")
    await relay.relay_events()
    run = await m.WorkflowRun.get(subject_id=lan.id)
    assert run.state == "COMPLETED"
    assert "mql" in (await m.Customer.get(id=lan.id)).tags


async def test_a_deal_workflow_mails_the_deals_customer_under_their_consent(
    database: str, clock: FakeClock
) -> None:
    """``send_email: {to: subject}`` on an opportunity workflow writes to the deal's customer,
    and only with that customer's consent."""
    flow = (
        "key: deal-thanks\nname: Deal thanks\nsubject: opportunity\n"
        "trigger: {event: opportunity.created}\nsteps:\n"
        "  - {id: thanks, send_email: {template: deal-thanks, to: subject}}\n"
    )
    template = (
        "templates:\n  deal-thanks:\n"
        '    subject: "Cảm ơn {{ subject.customer.displayName }}"\n'
        '    text: "{{ subject.name }}"\n'
    )
    texts = {"deal.yaml": flow, "t.yaml": template}
    assert not (await deploy_texts(texts, actor="user:test")).problems
    await ensure_default_pipelines(actor="user:test")
    willing = await _lead("deal-yes@khach.vn")
    unwilling = await services.create_person(
        PersonInput(first_name="Không", emails=["deal-no@khach.vn"], lifecycle_stage="LEAD"),
        actor="user:test",
    )
    await relay.relay_events()
    deals = [
        await create_opportunity(name=f"Deal {c.id}", customer_id=c.id, actor="user:test")
        for c in (willing, unwilling)
    ]
    await relay.relay_events()
    sent = await m.EmailMessage.all().values_list("to_address", flat=True)
    assert list(sent) == ["deal-yes@khach.vn"]
    refused = await m.WorkflowRun.get(subject_type="opportunity", subject_id=deals[1].id)
    outcomes = await m.WorkflowRunStep.filter(run_id=refused.id).values_list("outcome", flat=True)
    assert list(outcomes) == ["SUPPRESSED"]


async def test_a_template_that_does_not_render_fails_its_run_not_the_relay(
    database: str, clock: FakeClock
) -> None:
    """A template naming what this subject lacks fails the step (the run is a dead letter,
    with the error); the event is still dispatched and the relay goes on with the others."""
    flow = (
        "key: broken\nname: Broken\nsubject: customer\n"
        "trigger: {event: customer.created}\nsteps:\n"
        "  - {id: hello, send_email: {template: broken, to: subject}}\n"
        "  - {id: after, add_tag: never}\n"
    )
    template = (
        "templates:\n  broken:\n"
        '    subject: "Hi {{ subject.attributes.contract.number }}"\n'
        '    text: "x"\n'
    )
    assert not (await deploy_texts({"b.yaml": flow, "t.yaml": template}, actor="t")).problems
    first = await _lead("broken-1@khach.vn")
    second = await _lead("broken-2@khach.vn")
    assert await relay.relay_events() >= 2
    assert await m.DomainEvent.filter(dispatched_at=None).count() == 0
    for lead in (first, second):
        run = await m.WorkflowRun.get(subject_id=lead.id)
        state = RunState.from_json(run.state_json)
        assert run.state == "FAILED"
        assert state.ended_reason is not None
        assert state.ended_reason.startswith("step hello failed: UndefinedError")
        lines = await m.WorkflowRunStep.filter(run_id=run.id).values_list("step_id", "outcome")
        assert ("hello", "FAILED") in lines
        assert "never" not in (await m.Customer.get(id=lead.id)).tags
    assert await m.EmailMessage.all().count() == 0


async def test_no_mail_reaches_a_customer_in_the_suppression_segment(
    database: str, clock: FakeClock
) -> None:
    """The workspace's suppression segment (key ``suppression``, deployed in a bundle of its
    own) wins over consent: its members' sends are SUPPRESSED, the others' go out."""
    bundle = (
        "segments:\n  suppression:\n    name: Do not mail\n"
        "    when: 'subject.tags.exists(t, t == \"bounced\")'\n"
    )
    assert not (await deploy_texts({"suppression.yaml": bundle}, actor="user:test")).problems
    assert (await m.Segment.get(key="suppression")).name == "Do not mail"
    flow = (
        "key: promo\nname: Promo\nsubject: customer\ntrigger: {manual: true}\nsteps:\n"
        "  - {id: offer, send_email: {template: welcome-lead, to: subject}}\n"
    )
    texts = {"promo.yaml": flow, **_bundled("templates.yaml")}
    assert not (await deploy_texts(texts, actor="user:test")).problems
    bounced = await _lead("bounced@khach.vn", tags=["bounced"])
    fine = await _lead("fine@khach.vn")
    promo = await m.Workflow.get(key="promo")
    runs = [await enroll(promo, "customer", c.id, clock()) for c in (bounced, fine)]
    sent = await m.EmailMessage.all().values_list("to_address", flat=True)
    assert list(sent) == ["fine@khach.vn"]
    assert runs[0] is not None
    (line,) = await m.WorkflowRunStep.filter(run_id=runs[0].id, step_id="offer")
    assert (line.outcome, line.detail["reason"]) == ("SUPPRESSED", "in the suppression segment")


async def test_update_of_one_attribute_keeps_the_others_and_tags_reach_tickets(
    database: str, clock: FakeClock
) -> None:
    """``update: {attributes.tier: gold}`` changes that custom attribute only (it used to be
    dropped with a warning); ``add_tag`` on a ticket workflow tags the ticket."""
    promote = (
        "key: promote\nname: Promote\nsubject: customer\ntrigger: {manual: true}\nsteps:\n"
        "  - {id: tier, update: {attributes.tier: gold, lifecycleStage: CUSTOMER}}\n"
    )
    triage = (
        "key: triage\nname: Triage\nsubject: ticket\ntrigger: {event: ticket.created}\n"
        "steps:\n  - {id: mark, add_tag: triaged}\n  - {id: unmark, remove_tag: new}\n"
    )
    broken = (
        "key: broken-update\nname: Broken\nsubject: customer\ntrigger: {manual: true}\n"
        "steps:\n  - {id: oops, update: {attributes.nobody_defined: x}}\n"
    )
    texts = {"promote.yaml": promote, "triage.yaml": triage, "broken.yaml": broken}
    assert not (await deploy_texts(texts, actor="user:test")).problems
    for key in ("tier", "region"):
        await create_attribute_definition(
            entity="CUSTOMER", key=key, label=key, type="STRING", actor="user:test"
        )
    lan = await _lead("attrs@khach.vn")
    await m.Customer.filter(id=lan.id).update(attributes={"tier": "silver", "region": "north"})
    run = await enroll(await m.Workflow.get(key="promote"), "customer", lan.id, clock())
    assert run is not None
    assert run.state == "COMPLETED"
    stored = await m.Customer.get(id=lan.id)
    assert stored.attributes == {"tier": "gold", "region": "north"}
    assert stored.lifecycle_stage == "CUSTOMER"
    # An attribute nobody defined: the domain refuses it, the step fails (the run is a dead
    # letter) and the caller's transaction goes on.
    failed = await enroll(await m.Workflow.get(key="broken-update"), "customer", lan.id, clock())
    assert failed is not None
    assert (await m.WorkflowRun.get(id=failed.id)).state == "FAILED"
    assert (await m.Customer.get(id=lan.id)).attributes == {"tier": "gold", "region": "north"}

    ticket = await create_ticket(
        subject="Hỏng", customer_id=lan.id, tags=["new", "vip"], actor="user:test"
    )
    await relay.relay_events()
    tagged = await m.Ticket.get(id=ticket.id)
    assert sorted(decode_tags(tagged.tags)) == ["triaged", "vip"]


async def test_reenroll_never_and_one_active_run(database: str, clock: FakeClock) -> None:
    await deploy_texts(_bundled("welcome-nurture.yaml", "templates.yaml"), actor="user:test")
    lan = await _lead("lan3@khach.vn")
    await relay.relay_events()
    # the same event relayed twice (a crash before the mark): still one run
    await m.DomainEvent.filter(type="customer.created", subject_id=lan.id).update(
        dispatched_at=None
    )
    await relay.relay_events()
    assert await m.WorkflowRun.filter(subject_id=lan.id).count() == 1


async def test_schedule_trigger_enrolls_the_segment_each_tick(
    database: str, clock: FakeClock
) -> None:
    texts = _bundled("re-engagement.yaml", "templates.yaml")
    await deploy_texts(texts, actor="user:test")
    tick = await m.Timer.get(key="schedule:re-engagement", status="PENDING")
    local = tick.due_at.astimezone(ICT)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)  # Mondays 09:00 ICT
    assert tick.due_at > dt.datetime.now(dt.UTC)

    dormant = await services.create_person(
        PersonInput(
            first_name="Cũ", emails=["cu@khach.vn"], email_opt_in=True, lifecycle_stage="CUSTOMER"
        ),
        actor="user:test",
    )
    recent = await services.create_person(
        PersonInput(
            first_name="Mới", emails=["moi@khach.vn"], email_opt_in=True, lifecycle_stage="CUSTOMER"
        ),
        actor="user:test",
    )
    lead = await _lead("lead@khach.vn")
    clock.now = tick.due_at + dt.timedelta(seconds=1)
    await log_interaction(
        customer_id=recent.id,
        kind="CALL",
        subject="Hỏi thăm",
        occurred_at=clock.now - dt.timedelta(days=10),
        actor="user:test",
    )
    assert await fire_due(clock) == 1
    enrolled = set(await m.WorkflowRun.all().values_list("subject_id", flat=True))
    assert enrolled == {dormant.id}
    assert lead.id not in enrolled
    following = await m.Timer.get(key="schedule:re-engagement", status="PENDING")
    assert following.due_at == tick.due_at + dt.timedelta(days=7)
    # the next tick respects reenroll: {after: 90d}
    clock.now = following.due_at + dt.timedelta(seconds=1)
    assert await fire_due(clock) == 1
    assert await m.WorkflowRun.filter(subject_id=dormant.id).count() == 1


async def _sales_team() -> tuple[m.User, m.User]:
    from domain.staff.teams import add_member, create_team
    from domain.staff.users import create_user

    lead = await create_user(name="Trưởng Nhóm", email="lead@rapport.vn", actor="user:test")
    owner = await create_user(name="Chủ Sở Hữu", email="owner@rapport.vn", actor="user:test")
    team = await create_team(name="Kinh doanh", lead_id=lead.id, actor="user:test")
    await add_member(team.id, owner.id, actor="user:test")
    return lead, owner


@pytest.mark.parametrize("kind", ["opportunity", "ticket"])
async def test_a_schedule_trigger_enrolls_deals_and_tickets_too(
    database: str, clock: FakeClock, kind: str
) -> None:
    """``schedule`` + ``for_each: {when}`` scans the workflow's own subject type: open deals,
    open tickets, not only customers."""
    when = 'subject.status == "OPEN"'
    flow = (
        f"key: sweep\nname: Sweep\nsubject: {kind}\n"
        "trigger: {schedule: {cron: '0 9 * * *', timezone: Asia/Ho_Chi_Minh}, "
        f"for_each: {{when: '{when}'}}}}\n"
        "steps:\n  - {id: pause, wait: 1d}\n"
    )
    assert not (await deploy_texts({"sweep.yaml": flow}, actor="user:test")).problems
    await ensure_default_pipelines(actor="user:test")
    lan = await _lead("sweep@khach.vn")
    if kind == "opportunity":
        open_one = await create_opportunity(name="Mở", customer_id=lan.id, actor="user:test")
        closed = await create_opportunity(name="Thắng", customer_id=lan.id, actor="user:test")
        await win_opportunity(closed.id, actor="user:test")
        open_id = open_one.id
    else:
        ticket = await create_ticket(subject="Hỏng", customer_id=lan.id, actor="user:test")
        await change_ticket_status(ticket.id, status="OPEN", actor="user:test")
        await create_ticket(subject="Mới", customer_id=lan.id, actor="user:test")  # NEW
        open_id = ticket.id
    await relay.relay_events()
    tick = await m.Timer.get(key="schedule:sweep", status="PENDING")
    clock.now = tick.due_at + dt.timedelta(seconds=1)
    assert await fire_due(clock) == 1
    runs = await m.WorkflowRun.all().values_list("subject_type", "subject_id", "state")
    assert list(runs) == [(kind, open_id, "WAITING")]


async def test_meeting_follow_up_reminds_owner_then_team_lead(
    database: str, clock: FakeClock
) -> None:
    # Tuesday 24 November 2026 is Vietnam Cultural Day (a holiday), so use another week.
    clock.now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ICT)
    await deploy_texts(_bundled("meeting-follow-up.yaml", "templates.yaml"), actor="user:test")
    _lead_user, owner = await _sales_team()
    customer = await _lead("khach@khach.vn", owner_id=owner.id)
    await relay.relay_events()
    await log_interaction(
        customer_id=customer.id,
        kind="MEETING",
        subject="Gặp mặt",
        occurred_at=clock(),
        user_id=owner.id,
        actor="user:test",
    )
    await relay.relay_events()
    run = await m.WorkflowRun.get(subject_id=customer.id)
    task = await m.Task.get(customer_id=customer.id)
    assert task.assignee_id == owner.id
    # vn-office: the end of the next working day after Monday 10:00 is Tuesday 17:30
    assert task.due_at == dt.datetime(2026, 12, 8, 17, 30, tzinfo=ICT)
    clock.now = dt.datetime(2026, 12, 8, 17, 29, tzinfo=ICT)
    assert await fire_due(clock) == 0
    clock.now = dt.datetime(2026, 12, 8, 17, 31, tzinfo=ICT)  # overdue: remind the owner
    assert await fire_due(clock) == 1
    clock.now = dt.datetime(2026, 12, 9, 17, 31, tzinfo=ICT)  # a working day later: the lead
    assert await fire_due(clock) == 1
    sent = await m.EmailMessage.filter(run_id=run.id).order_by("id")
    assert [e.to_address for e in sent] == ["owner@rapport.vn", "lead@rapport.vn"]
    assert "Nhắc việc" in sent[0].subject
    assert (await m.WorkflowRun.get(id=run.id)).state == "COMPLETED"


async def test_meeting_follow_up_done_in_time_converts(database: str, clock: FakeClock) -> None:
    from domain.activities.tasks import complete_task

    await deploy_texts(_bundled("meeting-follow-up.yaml", "templates.yaml"), actor="user:test")
    _lead_user, owner = await _sales_team()
    customer = await _lead("khach2@khach.vn", owner_id=owner.id)
    await log_interaction(
        customer_id=customer.id,
        kind="MEETING",
        subject="Gặp mặt",
        occurred_at=clock(),
        user_id=owner.id,
        actor="user:test",
    )
    await relay.relay_events()
    task = await m.Task.get(customer_id=customer.id)
    await complete_task(task.id, actor=f"user:{owner.id}")
    await relay.relay_events()
    run = await m.WorkflowRun.get(subject_id=customer.id)
    assert run.state == "CONVERTED"
    clock.now = dt.datetime(2026, 11, 26, 18, 0, tzinfo=ICT)
    assert await fire_due(clock) == 0
    assert await m.EmailMessage.filter(run_id=run.id).count() == 0


async def test_enroll_step_starts_a_workflow_deployed_alongside(
    database: str, clock: FakeClock
) -> None:
    # A stored version is re-validated alone when it runs: the workflow its ``enroll`` names
    # was deployed with it, and must still count as known then.
    texts = {
        "first.yaml": (
            "key: first\ntrigger: {event: customer.created}\n"
            "steps:\n  - add_tag: first-ran\n  - enroll: {workflow: second}\n"
        ),
        "second.yaml": "key: second\ntrigger: {manual: true}\nsteps:\n  - add_tag: second-ran\n",
    }
    deployed = await deploy_texts(texts, actor="user:test")
    assert not deployed.problems
    lead = await _lead("enroll@example.vn")
    await relay.relay_events()
    runs = await m.WorkflowRun.filter(subject_id=lead.id).prefetch_related("workflow")
    assert sorted(run.workflow.key for run in runs) == ["first", "second"]
    assert all(run.state == "COMPLETED" for run in runs), [run.state for run in runs]
    await lead.refresh_from_db()
    assert "|first-ran|" in lead.tags
    assert "|second-ran|" in lead.tags

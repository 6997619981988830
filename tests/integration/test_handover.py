"""Handing over a departing salesperson's work: 500 customers, 40 open deals, open tasks and
running workflows, on SQLite and PostgreSQL. Nothing is left pointing at the inactive user
(counted in SQL), the audit has one entry per changed record, and the runs' next steps reach
the new owners."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.activities.interactions import log_interaction
from domain.errors import NotFound, Unauthenticated, ValidationFailed
from domain.identity.authentication import authenticate
from domain.identity.sessions import login, refresh, set_password
from domain.identity.tokens import TokenConfig
from domain.persistence import models as m
from domain.persistence.statement_log import StatementLog
from domain.sales.pipelines import ensure_default_pipelines
from domain.staff.handover import ROUND_ROBIN_IN_TEAM, hand_over_and_deactivate
from domain.staff.teams import add_member, create_team
from domain.staff.users import create_user
from tests.runtime_clock import FakeClock, fire_due, installed_clock
from workflows.language.validate import BUNDLED_DIR
from workflows.runtime import relay
from workflows.runtime.deploy import deploy_texts

ICT = dt.timezone(dt.timedelta(hours=7))
MONDAY_10 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ICT)
ACTOR = "user:admin"


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(MONDAY_10) as fake:
        yield fake


async def _scalar(sql: str, *params: object) -> int:
    db = m.User._meta.db
    if db.capabilities.dialect == "sqlite":
        sql = sql.replace("$1", "?")
    rows = await db.execute_query_dict(sql, list(params))
    return int(next(iter(rows[0].values())))


async def _team() -> tuple[m.User, m.User, list[m.User]]:
    """A lead, the departing salesperson, two active teammates and one inactive one."""
    lead = await create_user(name="Trưởng Nhóm", email="lead@rapport.vn", actor=ACTOR)
    leaving = await create_user(name="Người Nghỉ", email="leaving@rapport.vn", actor=ACTOR)
    team = await create_team(name="Kinh doanh", lead_id=lead.id, actor=ACTOR)
    staying = []
    for i, name in enumerate(("An", "Bình", "Cường")):
        user = await create_user(name=name, email=f"staff{i}@rapport.vn", actor=ACTOR)
        await add_member(team.id, user.id, actor=ACTOR)
        staying.append(user)
    await add_member(team.id, leaving.id, actor=ACTOR)
    await m.User.filter(id=staying[2].id).update(active=False)
    return lead, leaving, [lead, *staying[:2]]


async def _book(owner: m.User, customers: int) -> list[m.Customer]:
    await m.Customer.bulk_create(
        [
            m.Customer(
                kind="PERSON",
                display_name=f"Khách {i}",
                display_name_fold=f"khach {i}",
                primary_email=f"khach{i}@khach.vn",
                emails=[{"address": f"khach{i}@khach.vn", "label": None}],
                owner_id=owner.id,
                email_opt_in=True,
            )
            for i in range(customers)
        ]
    )
    return await m.Customer.filter(owner_id=owner.id).order_by("id")


async def _deals(owner: m.User, customers: list[m.Customer], open_: int, won: int) -> None:
    pipeline = await ensure_default_pipelines()
    stage = await m.Stage.filter(pipeline_id=pipeline.id).order_by("position").first()
    assert stage is not None
    await m.Opportunity.bulk_create(
        [
            m.Opportunity(
                name=f"Deal {i}",
                name_fold=f"deal {i}",
                customer_id=customers[i * 7].id,
                owner_id=owner.id,
                pipeline_id=pipeline.id,
                stage_id=stage.id,
                amount=1_000_000 * (i + 1),
                status="OPEN" if i < open_ else "WON",
            )
            for i in range(open_ + won)
        ]
    )


async def _tasks(owner: m.User, customers: list[m.Customer], open_: int, done: int) -> None:
    await m.Task.bulk_create(
        [
            m.Task(
                title=f"Gọi lại {i}",
                title_fold=f"goi lai {i}",
                assignee_id=owner.id,
                # Every third task is about nobody in particular.
                customer_id=None if i % 3 == 0 else customers[i].id,
                status="OPEN" if i < open_ else "DONE",
            )
            for i in range(open_ + done)
        ]
    )


async def _tickets(assignee: m.User, customers: list[m.Customer]) -> None:
    """Two tickets in each open status, and three the departing agent already solved or closed."""
    statuses = ["NEW", "OPEN", "PENDING", "ON_HOLD"] * 2 + ["SOLVED", "SOLVED", "CLOSED"]
    await m.Ticket.bulk_create(
        [
            m.Ticket(
                subject=f"Sự cố {i}",
                subject_fold=f"su co {i}",
                status=status,
                customer_id=customers[i].id,
                assignee_id=assignee.id,
            )
            for i, status in enumerate(statuses)
        ]
    )


async def _meeting(customer: m.Customer, owner: m.User, clock: FakeClock) -> m.WorkflowRun:
    await log_interaction(
        customer_id=customer.id,
        kind="MEETING",
        subject="Gặp mặt",
        occurred_at=clock(),
        user_id=owner.id,
        actor=ACTOR,
    )
    await relay.relay_events()
    return await m.WorkflowRun.get(subject_id=customer.id)


async def test_round_robin_handover_leaves_nothing_behind(database: str, clock: FakeClock) -> None:
    bundled = Path(BUNDLED_DIR)
    await deploy_texts(
        {n: (bundled / n).read_text("utf-8") for n in ("meeting-follow-up.yaml", "templates.yaml")},
        actor=ACTOR,
    )
    lead, leaving, heirs = await _team()
    book = await _book(leaving, 500)
    await _deals(leaving, book, open_=40, won=5)
    await _tasks(leaving, book, open_=30, done=10)
    await _tickets(leaving, book)
    # Run A reminds the owner before the handover (the e-mail waits in the outbox); run B
    # starts a day later, so its reminder is decided after the handover.
    run_a = await _meeting(book[1], leaving, clock)
    clock.now = dt.datetime(2026, 12, 8, 17, 31, tzinfo=ICT)
    assert await fire_due(clock) == 1
    reminder_a = await m.EmailMessage.get(run_id=run_a.id)
    assert (reminder_a.to_address, reminder_a.status) == ("leaving@rapport.vn", "PENDING")
    # Every workflow action is audited under the run and the step that took it; the run's
    # start under the system, naming the event that triggered it.
    [started] = await m.AuditEntry.filter(action="workflow.enroll", target_id=run_a.id)
    assert started.actor == "system"
    assert started.changes["trigger"][1].startswith("event:interaction.logged:")
    [queued] = await m.AuditEntry.filter(target_type="EmailMessage", target_id=reminder_a.id)
    assert (queued.actor, queued.action) == (
        f"workflow:run:{run_a.id}:step:remind-owner",
        "email.enqueue",
    )
    [task_a] = await m.Task.filter(customer_id=book[1].id, created_by__startswith="workflow:")
    [created] = await m.AuditEntry.filter(target_type="Task", target_id=task_a.id)
    assert created.actor == f"workflow:run:{run_a.id}:step:follow-up-task"
    run_b = await _meeting(book[2], leaving, clock)
    audit_before = await m.AuditEntry.all().count()

    with StatementLog() as log:
        result = await hand_over_and_deactivate(
            leaving.id, strategy=ROUND_ROBIN_IN_TEAM, actor=ACTOR
        )
    # Statements grow with the kinds of record and the new owners, not with the 580 records
    # (37 measured with tickets: a read per kind, an UPDATE per new owner and kind, bulk audit
    # inserts).
    assert log.count <= 40

    # 30 open tasks + the follow-up task of each of the two runs; the 8 unsolved tickets
    assert result.reassigned == {"Customer": 500, "Opportunity": 40, "Task": 32, "Ticket": 8}
    assert result.redirected_emails == 1
    uid = leaving.id
    assert await _scalar("SELECT COUNT(*) FROM customers WHERE owner_id = $1", uid) == 0
    assert (
        await _scalar(
            "SELECT COUNT(*) FROM opportunities WHERE owner_id = $1 AND status = 'OPEN'", uid
        )
        == 0
    )
    assert (
        await _scalar("SELECT COUNT(*) FROM tasks WHERE assignee_id = $1 AND status = 'OPEN'", uid)
        == 0
    )
    assert (
        await _scalar(
            "SELECT COUNT(*) FROM email_messages WHERE to_address = $1 AND status = 'PENDING'",
            leaving.email,
        )
        == 0
    )
    # History stays with who made it: won deals and finished tasks keep their owner.
    assert await m.Opportunity.filter(owner_id=uid, status="WON").count() == 5
    assert await m.Task.filter(assignee_id=uid, status="DONE").count() == 10
    assert await m.Ticket.filter(assignee_id=uid).count() == 3  # solved and closed: history
    assert await m.Ticket.filter(assignee_id=uid, status__in=["SOLVED", "CLOSED"]).count() == 3
    tickets = Counter(
        await m.Ticket.filter(status__not_in=["SOLVED", "CLOSED"]).values_list(
            "assignee_id", flat=True
        )
    )
    assert set(tickets) == {u.id for u in heirs}  # spread over the teammates, 8 over 3
    assert max(tickets.values()) - min(tickets.values()) <= 1
    assert (await m.User.get(id=uid)).active is False

    # Spread evenly over the active teammates (the inactive one gets nothing).
    spread = Counter(
        await m.Customer.filter(id__in=[c.id for c in book]).values_list("owner_id", flat=True)
    )
    assert set(spread) == {u.id for u in heirs}
    assert max(spread.values()) - min(spread.values()) <= 1
    # A deal, and a task about a customer, follow that customer's new owner.
    owners = dict(await m.Customer.all().values_list("id", "owner_id"))
    for deal in await m.Opportunity.filter(status="OPEN"):
        assert deal.owner_id == owners[deal.customer_id]
    for task in await m.Task.filter(status="OPEN", customer_id__isnull=False):
        assert task.assignee_id == owners[task.customer_id]

    # One audit entry per changed record, with before and after.
    entries = await m.AuditEntry.filter(id__gt=0).order_by("id").offset(audit_before)
    reassigned = [e for e in entries if e.action.endswith(".reassign")]
    assert Counter(e.target_type for e in reassigned) == {
        "Customer": 500,
        "Opportunity": 40,
        "Task": 32,
        "Ticket": 8,
    }
    for entry in reassigned:
        column = "assignee_id" if entry.target_type in ("Task", "Ticket") else "owner_id"
        assert entry.actor == ACTOR
        assert entry.changes[column][0] == uid
        assert entry.changes[column][1] in {u.id for u in heirs}
    customer_entries = {
        e.target_id: e.changes["owner_id"][1] for e in reassigned if e.target_type == "Customer"
    }
    assert customer_entries == {c.id: owners[c.id] for c in book}
    [redirect] = [e for e in entries if e.action == "email.redirect"]
    [deactivation] = [e for e in entries if e.action == "user.deactivate"]
    assert deactivation.changes == {"active": [True, False], "sessions_revoked": [None, 0]}
    assert redirect.target_id == reminder_a.id

    # Runs resolve ``owner`` when they act: A's queued reminder now goes to A's new owner, and
    # B's reminder, decided after the handover, reaches B's new owner.
    emails = dict(await m.User.all().values_list("id", "email"))
    await reminder_a.refresh_from_db()
    assert reminder_a.to_address == emails[owners[book[1].id]]
    clock.now = dt.datetime(2026, 12, 9, 17, 31, tzinfo=ICT)
    assert await fire_due(clock) == 2  # A: the team lead's turn; B: the owner's reminder
    [reminder_b] = await m.EmailMessage.filter(run_id=run_b.id)
    assert reminder_b.to_address == emails[owners[book[2].id]]
    [lead_note] = await m.EmailMessage.filter(run_id=run_a.id, id__gt=reminder_a.id)
    assert lead_note.to_address == lead.email


async def test_handover_to_one_user_and_typed_errors(database: str) -> None:
    lead, leaving, heirs = await _team()
    inactive = await m.User.get(email="staff2@rapport.vn")
    book = await _book(leaving, 12)
    await _deals(leaving, book, open_=1, won=0)
    audit_before = await m.AuditEntry.all().count()

    with pytest.raises(NotFound):
        await hand_over_and_deactivate(999_999, reassign_to=lead.id, actor=ACTOR)
    for target, code in ((leaving.id, "SELF"), (inactive.id, "INACTIVE"), (888_888, "NOT_FOUND")):
        with pytest.raises(ValidationFailed) as failure:
            await hand_over_and_deactivate(leaving.id, reassign_to=target, actor=ACTOR)
        assert (failure.value.field, failure.value.code) == ("reassignTo", code)
    with pytest.raises(ValidationFailed) as failure:
        await hand_over_and_deactivate(
            leaving.id, reassign_to=lead.id, strategy=ROUND_ROBIN_IN_TEAM, actor=ACTOR
        )
    assert failure.value.code == "ONE_OF"
    # The refused attempts changed nothing.
    assert await m.Customer.filter(owner_id=leaving.id).count() == 12
    assert (await m.User.get(id=leaving.id)).active is True
    assert await m.AuditEntry.all().count() == audit_before

    config = TokenConfig(secret="handover-test-secret-0123456789abcdef")
    await set_password(leaving.id, "mật khẩu dài đủ 12", actor=ACTOR)
    phone = await login(config, "leaving@rapport.vn", "mật khẩu dài đủ 12")
    laptop = await login(config, "leaving@rapport.vn", "mật khẩu dài đủ 12")
    assert (await authenticate(phone.access_token, config)).user_id == leaving.id

    result = await hand_over_and_deactivate(leaving.id, reassign_to=heirs[1].id, actor=ACTOR)
    assert result.reassigned == {"Customer": 12, "Opportunity": 1, "Task": 0, "Ticket": 0}
    # Every token they hold stops working at once.
    for tokens in (phone, laptop):
        with pytest.raises(Unauthenticated):
            await authenticate(tokens.access_token, config)
        with pytest.raises(Unauthenticated):
            await refresh(config, tokens.refresh_token)
    [deactivation] = await m.AuditEntry.filter(action="user.deactivate")
    assert deactivation.changes == {"active": [True, False], "sessions_revoked": [None, 2]}
    assert await m.Customer.filter(owner_id=heirs[1].id).count() == 12
    # Again, for an already inactive user: nothing left to move, no second deactivation.
    again = await hand_over_and_deactivate(leaving.id, reassign_to=heirs[1].id, actor=ACTOR)
    assert again.reassigned == {"Customer": 0, "Opportunity": 0, "Task": 0, "Ticket": 0}
    assert await m.AuditEntry.filter(action="user.deactivate").count() == 1


async def test_round_robin_without_teammates_is_refused(database: str) -> None:
    loner = await create_user(name="Một Mình", email="loner@rapport.vn", actor=ACTOR)
    await _book(loner, 3)
    with pytest.raises(ValidationFailed) as failure:
        await hand_over_and_deactivate(loner.id, strategy=ROUND_ROBIN_IN_TEAM, actor=ACTOR)
    assert failure.value.code == "NO_CANDIDATES"
    assert await m.Customer.filter(owner_id=loner.id).count() == 3

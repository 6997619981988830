"""Personal data requests on SQLite and PostgreSQL: the export holds everything about the
customer and nothing about anyone else; after erasure their names, e-mails, phones and
address are nowhere in the database (every table scanned), search finds nothing, unsent
e-mails are cancelled and runs ended, while counts, amounts and history stay."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.activities.interactions import log_interaction
from domain.activities.tasks import TaskInput, create_task
from domain.customers import services
from domain.customers.commands import OrganizationInput, PersonInput
from domain.customers.relationships import create_relationship
from domain.errors import NotFound
from domain.persistence import models as m
from domain.persistence.models import __models__
from domain.persistence.querying.scope import EVERYTHING
from domain.persistence.querying.search import search_customers
from domain.privacy.erase import erase_customer
from domain.privacy.export import FORMAT, export_customer_data
from domain.sales.opportunities import create_opportunity, win_opportunity
from domain.sales.pipelines import ensure_default_pipelines
from domain.staff.users import create_user
from tests.runtime_clock import FakeClock, installed_clock
from workflows.language.validate import BUNDLED_DIR
from workflows.runtime import relay
from workflows.runtime.deploy import deploy_texts

ICT = dt.timezone(dt.timedelta(hours=7))
MONDAY_10 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ICT)
ACTOR = "user:admin"
#: What identifies An, as entered and as folded into shadow columns.
NEEDLES = (
    "Nguyễn Văn An",
    "nguyen van an",
    "an.nguyen@khach.vn",
    "an.rieng@gmail.com",
    "912345678",
    "Lý Thường Kiệt",
    "ly thuong kiet",
    "Kỹ sư trưởng",
)


#: Posts each called customer to an integration, then waits a day (the post stays queued).
TELL_CRM = """key: tell-crm
subject: customer
trigger: {event: interaction.logged, when: 'event.interaction.kind == "CALL"'}
steps:
  - id: tell-crm
    webhook:
      url: https://hooks.example.vn/crm
      body: {name: "${ subject.displayName }", email: "${ subject.primaryEmail }"}
  - id: later
    wait: 1d
"""


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(MONDAY_10) as fake:
        yield fake


async def _world(clock: FakeClock) -> dict[str, Any]:
    bundled = Path(BUNDLED_DIR)
    names = ("welcome-nurture.yaml", "meeting-follow-up.yaml", "templates.yaml")
    texts = {n: (bundled / n).read_text("utf-8") for n in names}
    await deploy_texts({**texts, "tell-crm.yaml": TELL_CRM}, actor=ACTOR)
    owner = await create_user(name="Chủ Sở Hữu", email="owner@rapport.vn", actor=ACTOR)
    employer = await services.create_organization(
        OrganizationInput(display_name="Công ty Xây dựng Sông Hồng", domain="songhong.vn"),
        actor=ACTOR,
    )
    an = await services.create_person(
        PersonInput(
            first_name="An",
            last_name="Nguyễn Văn",
            job_title="Kỹ sư trưởng",
            emails=["an.nguyen@khach.vn", "an.rieng@gmail.com"],
            phones=["0912 345 678"],
            address={"line1": "12 Lý Thường Kiệt", "city": "Hà Nội"},
            organization_id=employer.id,
            owner_id=owner.id,
            email_opt_in=True,
            lifecycle_stage="LEAD",
        ),
        actor=ACTOR,
    )
    binh = await services.create_person(
        PersonInput(
            first_name="Bình",
            last_name="Trần Thị",
            emails=["binh.tran@khach.vn"],
            phones=["0987 654 321"],
            owner_id=owner.id,
            email_opt_in=True,
            lifecycle_stage="LEAD",
        ),
        actor=ACTOR,
    )
    await relay.relay_events()  # welcome e-mails for both, queued in the outbox
    await create_relationship(
        kind="REFERRED_BY",
        from_customer_id=an.id,
        to_customer_id=binh.id,
        notes="Nguyễn Văn An được chị Bình giới thiệu",
        actor=ACTOR,
    )
    await log_interaction(
        customer_id=an.id,
        kind="MEETING",
        subject="Gặp Nguyễn Văn An tại 12 Lý Thường Kiệt",
        body="Anh An (0912 345 678) muốn báo giá",
        occurred_at=clock(),
        user_id=owner.id,
        actor=ACTOR,
    )
    await log_interaction(
        customer_id=an.id, kind="CALL", subject="Gọi lại", occurred_at=clock(), actor=ACTOR
    )
    await relay.relay_events()  # the meeting starts a follow-up run: a task for the owner
    await ensure_default_pipelines(actor=ACTOR)
    won = await create_opportunity(
        name="Hợp đồng với Nguyễn Văn An", customer_id=an.id, amount=50_000_000, actor=ACTOR
    )
    await win_opportunity(won.id, actor=ACTOR)
    await create_opportunity(name="Gói bảo trì", customer_id=an.id, amount=7_000_000, actor=ACTOR)
    await create_task(
        TaskInput(title="Gửi hợp đồng", notes="gọi an.rieng@gmail.com trước", customer_id=an.id),
        actor=ACTOR,
    )
    await relay.relay_events()
    return {"owner": owner, "an": an, "binh": binh, "employer": employer}


async def _dump_database() -> str:
    """Every row of every table, as one text to search."""
    rows: list[Any] = []
    for model in __models__:
        rows += await model.all().values()
    rows += await m.User._meta.db.execute_query_dict("SELECT * FROM team_memberships")
    return json.dumps(rows, default=str, ensure_ascii=False)


async def test_export_holds_everything_about_them_and_nobody_else(
    database: str, clock: FakeClock
) -> None:
    world = await _world(clock)
    an = world["an"]
    data = await export_customer_data(an.id, actor=ACTOR)
    text = json.dumps(data, ensure_ascii=False)

    assert data["format"] == FORMAT
    customer = data["customer"]
    assert (customer["first_name"], customer["last_name"]) == ("An", "Nguyễn Văn")
    assert [e["address"] for e in customer["emails"]] == [
        "an.nguyen@khach.vn",
        "an.rieng@gmail.com",
    ]
    assert customer["primary_phone"] == "+84912345678"
    assert customer["address"]["line1"] == "12 Lý Thường Kiệt"
    assert customer["organization_id"] == world["employer"].id
    assert "search_text" not in customer
    assert "display_name_fold" not in customer
    assert data["consent"] == {"emailOptIn": True, "smsOptIn": False, "unsubscribedAt": None}
    [relationship] = data["relationships"]
    assert relationship["kind"] == "REFERRED_BY"
    assert relationship["to_customer_id"] == world["binh"].id
    assert sorted(i["kind"] for i in data["interactions"]) == ["CALL", "MEETING"]
    titles = sorted(t["title"] for t in data["tasks"])
    assert titles == ["Follow-up sau buổi gặp với Nguyễn Văn An", "Gửi hợp đồng"]
    deals = {d["name"]: d for d in data["opportunities"]}
    assert deals["Hợp đồng với Nguyễn Văn An"]["status"] == "WON"
    assert deals["Hợp đồng với Nguyễn Văn An"]["amount"] == "50000000.00"
    assert len(deals["Hợp đồng với Nguyễn Văn An"]["stage_changes"]) == 2  # opened, won
    runs = {r["workflow_id"]: r for r in data["workflowRuns"]}
    assert len(runs) == 3  # welcome nurture, meeting follow-up, tell-crm
    assert all(r["steps"] for r in runs.values())
    [welcome] = data["emails"]
    assert welcome["to_address"] == "an.nguyen@khach.vn"
    assert welcome["status"] == "PENDING"
    actions = {e["action"] for e in data["auditEntries"]}
    assert {"person.create", "interaction.log", "opportunity.create", "task.create"} <= actions
    # Nothing about Bình beyond the edge that links them.
    assert "binh.tran@khach.vn" not in text
    assert "987654321" not in text
    [exported] = await m.AuditEntry.filter(action="customer.export")
    assert exported.target_id == an.id
    assert exported.actor == ACTOR

    with pytest.raises(NotFound):
        await export_customer_data(999_999, actor=ACTOR)


async def test_erasure_leaves_nothing_personal_and_keeps_history(
    database: str, clock: FakeClock
) -> None:
    world = await _world(clock)
    an, binh = world["an"], world["binh"]
    dump = await _dump_database()
    assert [needle for needle in NEEDLES if needle not in dump] == []
    before = {
        "interactions": await m.Interaction.filter(customer_id=an.id).count(),
        "tasks": await m.Task.filter(customer_id=an.id).count(),
        "deals": await m.Opportunity.filter(customer_id=an.id).count(),
        "stage_changes": await m.StageChange.filter(customer_id=an.id).count(),
        "audit": await m.AuditEntry.filter(target_type="Customer", target_id=an.id).count(),
    }
    binh_before = await m.Customer.get(id=binh.id)
    live_runs = await m.WorkflowRun.filter(subject_id=an.id, state__in=("ACTIVE", "WAITING"))
    # The welcome run converted when the deal was won; the meeting follow-up and the
    # integration's run still wait, the integration's post still queued.
    assert len(live_runs) == 2
    [post] = await m.WebhookDelivery.all()
    assert post.body == {"name": "Nguyễn Văn An", "email": "an.nguyen@khach.vn"}

    erasure = await erase_customer(an.id, actor=ACTOR)

    assert erasure.counts["cancelledEmails"] == 1
    assert erasure.counts["endedRuns"] == 2
    assert erasure.counts["cancelledWebhooks"] == 1
    await post.refresh_from_db()
    assert (post.status, post.body) == ("CANCELLED", {"name": "[erased]", "email": "[erased]"})
    dump = await _dump_database()
    for needle in NEEDLES:
        assert needle not in dump, needle
    for query in (
        "Nguyễn Văn An",
        "nguyen van an",
        "an.nguyen@khach.vn",
        "0912345678",
        "+84912345678",
    ):
        assert [h.customer.id for h in await search_customers(query, 20, EVERYTHING)] == [], query
    erased = await m.Customer.get(id=an.id)
    assert erased.display_name == "Erased customer"
    assert (erased.emails, erased.phones, erased.address) == ([], [], None)
    assert erased.search_text == ""
    assert (erased.email_opt_in, erased.unsubscribed_at is not None) == (False, True)
    assert erased.lifecycle_stage == "CUSTOMER"  # history and aggregates stay
    assert erased.owner_id == world["owner"].id
    assert erased.organization_id == world["employer"].id
    assert {
        "interactions": await m.Interaction.filter(customer_id=an.id).count(),
        "tasks": await m.Task.filter(customer_id=an.id).count(),
        "deals": await m.Opportunity.filter(customer_id=an.id).count(),
        "stage_changes": await m.StageChange.filter(customer_id=an.id).count(),
        "audit": await m.AuditEntry.filter(target_type="Customer", target_id=an.id).count() - 1,
    } == before
    amounts = await m.Opportunity.filter(customer_id=an.id).values_list("amount", flat=True)
    assert sum(Decimal(str(a)) for a in amounts) == Decimal(57_000_000)
    assert await m.Opportunity.filter(customer_id=an.id, status="WON").count() == 1
    # Unsent mail to them is cancelled; Bình's is not; runs ended, their timers cancelled.
    [welcome_an] = await m.EmailMessage.filter(run__subject_id=an.id, step_id="welcome")
    assert welcome_an.status == "CANCELLED"
    [welcome_binh] = await m.EmailMessage.filter(to_address="binh.tran@khach.vn")
    assert welcome_binh.status == "PENDING"
    runs = await m.WorkflowRun.filter(subject_type="customer", subject_id=an.id)
    assert sorted(r.state for r in runs) == ["CONVERTED", "EXITED", "EXITED"]
    assert await m.Timer.filter(run_id__in=[r.id for r in runs], status="PENDING").count() == 0
    assert await m.WorkflowRun.filter(subject_id=binh.id, state="WAITING").count() == 1
    # Bình is untouched, and the edge between them stays.
    binh_after = await m.Customer.get(id=binh.id)
    assert (binh_after.display_name, binh_after.search_text) == (
        binh_before.display_name,
        binh_before.search_text,
    )
    assert await m.Relationship.filter(from_customer_id=an.id, to_customer_id=binh.id).count() == 1
    # The erasure is audited, without the erased values.
    [entry] = await m.AuditEntry.filter(action="customer.erase")
    assert entry.actor == ACTOR
    assert entry.changes["first_name"] == ["[erased]", None]
    assert entry.changes["emails"] == ["[erased]", None]
    # Erasing again finds nothing more to erase and still succeeds.
    again = await erase_customer(an.id, actor=ACTOR)
    assert again.counts["cancelledEmails"] == 0
    with pytest.raises(NotFound):
        await erase_customer(999_999, actor=ACTOR)


async def test_erasing_a_merged_customer_erases_the_survivor_too(
    database: str, clock: FakeClock
) -> None:
    from domain.customers.merge import merge_customers

    world = await _world(clock)
    an = world["an"]
    duplicate = await services.create_person(
        PersonInput(first_name="An", last_name="Nguyễn Văn", phones=["+84 912 345 678"]),
        actor=ACTOR,
    )
    await merge_customers(an.id, [duplicate.id], actor=ACTOR)
    exported = await export_customer_data(an.id, actor=ACTOR)
    assert [c["id"] for c in exported["mergedCustomers"]] == [duplicate.id]
    await erase_customer(duplicate.id, actor=ACTOR)
    dump = await _dump_database()
    for needle in NEEDLES:
        assert needle not in dump, needle
    assert (await m.Customer.get(id=duplicate.id)).search_text == ""


#: What An wrote to the desk: free text about them that names nobody.
TICKET_NEEDLES = ("Máy bơm nhà tôi rò nước", "Ngõ 5 Hàng Bông, gọi sau 6 giờ tối")


async def _desk(world: dict[str, Any]) -> dict[str, int]:
    from domain.tickets.conversation import add_customer_message, add_internal_note, reply_to_ticket
    from domain.tickets.lifecycle import change_ticket_status, create_ticket

    an, binh, owner = world["an"], world["binh"], world["owner"]
    ticket = await create_ticket(
        subject=TICKET_NEEDLES[0], customer_id=an.id, body="Nước chảy khắp sàn", actor=ACTOR
    )
    reply = await reply_to_ticket(
        ticket.id, body="Chào anh Nguyễn Văn An, kỹ thuật viên sẽ gọi", author_id=owner.id,
        actor=ACTOR,
    )  # fmt: skip
    note = await add_internal_note(
        ticket.id, body="Đã đặt lịch thợ sáng mai", author_id=owner.id, actor=ACTOR
    )
    message = await add_customer_message(ticket.id, body=TICKET_NEEDLES[1], actor=ACTOR)
    await change_ticket_status(ticket.id, status="SOLVED", actor=ACTOR)
    other = await create_ticket(
        subject="Hỏi về bảo hành", customer_id=binh.id, body="Bình hỏi", actor=ACTOR
    )
    return {
        "ticket": ticket.id,
        "reply": reply.id,
        "note": note.id,
        "message": message.comment.id,
        "other": other.id,
    }


async def test_tickets_and_their_conversation_are_exported_and_erased(
    database: str, clock: FakeClock
) -> None:
    world = await _world(clock)
    desk = await _desk(world)
    an = world["an"]
    data = await export_customer_data(an.id, actor=ACTOR)
    [ticket] = data["tickets"]
    assert (ticket["id"], ticket["subject"], ticket["status"]) == (
        desk["ticket"],
        TICKET_NEEDLES[0],
        "SOLVED",
    )
    bodies = [c["body"] for c in ticket["comments"]]
    assert bodies == [
        "Nước chảy khắp sàn",
        "Chào anh Nguyễn Văn An, kỹ thuật viên sẽ gọi",
        "Đã đặt lịch thợ sáng mai",
        TICKET_NEEDLES[1],
    ]
    assert "Bình hỏi" not in json.dumps(data, ensure_ascii=False)
    assert {"ticket.create", "ticket.reply"} <= {e["action"] for e in data["auditEntries"]}

    solved_at = (await m.Ticket.get(id=desk["ticket"])).solved_at
    erasure = await erase_customer(an.id, actor=ACTOR)
    assert erasure.counts["Ticket"] == 1
    # their two messages and the reply that names them; the plain internal note is work record
    assert erasure.counts["TicketComment"] == 3
    dump = await _dump_database()
    for needle in (*TICKET_NEEDLES, "Nước chảy khắp sàn", *NEEDLES):
        assert needle not in dump, needle
    erased = await m.Ticket.get(id=desk["ticket"])
    assert erased.subject == "(about an erased customer)"
    assert (erased.status, erased.solved_at) == ("SOLVED", solved_at)  # reports unchanged
    comments = {c.id: c for c in await m.TicketComment.filter(ticket_id=desk["ticket"])}
    assert len(comments) == 4
    assert comments[desk["message"]].body == "[erased]"
    assert comments[desk["reply"]].body == "[erased]"
    assert comments[desk["note"]].body == "Đã đặt lịch thợ sáng mai"
    # Bình's ticket is untouched
    other = await m.Ticket.get(id=desk["other"])
    assert other.subject == "Hỏi về bảo hành"
    assert await m.TicketComment.filter(ticket_id=other.id, body="Bình hỏi").exists()

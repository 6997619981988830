"""``round_robin: TEAM`` / ``least_loaded: TEAM`` find the team the way people write it: its
name in any case, with or without accents, or that name as a slug."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.activities.tasks import TaskInput, create_task
from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from domain.staff.teams import add_member, create_team
from domain.staff.users import create_user, deactivate_user
from workflows.language.validate import validate_texts
from workflows.runtime import admin
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.teams import find_team, team_slug

NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)

FLOW = """\
key: assign-to-team
trigger: {manual: true}
steps:
  - id: give
    assign: {owner: {least_loaded: TEAM}}
  - id: task
    create_task: {title: "Gọi lại", assignee: {round_robin: TEAM}}
"""


def test_team_slug_folds_vietnamese() -> None:
    assert team_slug("Kinh doanh Hà Nội") == "kinh-doanh-ha-noi"
    assert team_slug("  Đội  Hỗ trợ / CSKH ") == "doi-ho-tro-cskh"


def test_a_team_name_with_spaces_and_accents_validates() -> None:
    for reference in ("Kinh doanh Hà Nội", "kinh-doanh-ha-noi"):
        _, problems = validate_texts({"f.yaml": FLOW.replace("TEAM", f'"{reference}"')})
        assert problems == []
    _, problems = validate_texts({"f.yaml": FLOW.replace("TEAM", '"  "')})
    assert [p.message for p in problems] == ["a team name is required"] * 2


async def test_find_team_by_name_folded_or_slug(database: str) -> None:
    hanoi = await create_team(name="Kinh doanh Hà Nội", actor="user:test")
    await create_team(name="Kinh doanh", actor="user:test")
    for reference in (
        "Kinh doanh Hà Nội",
        "kinh doanh ha noi",
        "KINH DOANH HÀ NỘI",
        "kinh-doanh-ha-noi",
        "Kinh-Doanh-Hà-Nội",
    ):
        found = await find_team(reference)
        assert found is not None, reference
        assert found.id == hanoi.id, reference
    plain = await find_team("kinh-doanh")
    assert plain is not None
    assert plain.name == "Kinh doanh"
    assert await find_team("kinh-doanh-sai-gon") is None
    assert await find_team("---") is None


@pytest.mark.parametrize("reference", ["kinh-doanh-ha-noi", "Kinh doanh Hà Nội"])
async def test_steps_assign_within_the_named_team(database: str, reference: str) -> None:
    team = await create_team(name="Kinh doanh Hà Nội", actor="user:test")
    busy = await create_user(name="Bận Rộn", email="busy@rapport.vn", actor="user:test")
    free = await create_user(name="Rảnh Rỗi", email="free@rapport.vn", actor="user:test")
    for user in (busy, free):
        await add_member(team.id, user.id, actor="user:test")
    await create_task(TaskInput(title="Việc cũ", assignee_id=busy.id), actor="user:test")
    deployed = await deploy_texts(
        {"assign.yaml": FLOW.replace("TEAM", f'"{reference}"')}, actor="user:test"
    )
    assert deployed.problems == []
    customer = await services.create_person(
        PersonInput(first_name="Lan", emails=["lan@khach.vn"]), actor="user:test"
    )
    run = await admin.enroll_manually(
        "assign-to-team", "customer", customer.id, actor="user:test", now=NOW
    )
    assert run.state == "COMPLETED"
    assert (await m.Customer.get(id=customer.id)).owner_id == free.id
    task = await m.Task.get(customer_id=customer.id)
    assert task.assignee_id == free.id


async def test_deploy_refuses_an_unknown_team(database: str) -> None:
    await create_team(name="Kinh doanh Hà Nội", actor="user:test")
    result = await deploy_texts(
        {"assign.yaml": FLOW.replace("TEAM", "kinh-doanh-sai-gon")}, actor="user:test"
    )
    assert [(p.line, p.col, p.message) for p in result.problems] == [
        (5, 36, "unknown team 'kinh-doanh-sai-gon'"),
        (7, 61, "unknown team 'kinh-doanh-sai-gon'"),
    ]
    assert await m.Workflow.all().count() == 0


STAFF_FLOW = """\
key: staff-by-email
trigger: {manual: true}
steps:
  - id: tell
    notify: {to: lead@rapport.vn, template: t}
  - id: task
    create_task: {title: "Gọi lại", assignee: Sales@Rapport.vn}
  - id: give
    assign: {owner: gone@rapport.vn}
  - id: mail
    send_email: {template: t, to: nobody@rapport.vn}
"""
TEMPLATE = 'templates:\n  t: {subject: "Hi", text: "Hi"}\n'


async def test_deploy_refuses_staff_e_mails_of_no_active_user(database: str) -> None:
    """Staff named by e-mail must be active users (in any case): an unknown address or a
    deactivated user is refused at its line and column, and nothing is deployed."""
    await create_user(name="Lead", email="lead@rapport.vn", actor="user:test")
    await create_user(name="Sales", email="sales@rapport.vn", actor="user:test")
    gone = await create_user(name="Gone", email="gone@rapport.vn", actor="user:test")
    await deactivate_user(gone.id, actor="user:test")
    texts = {"staff.yaml": STAFF_FLOW, "t.yaml": TEMPLATE}
    result = await deploy_texts(texts, actor="user:test")
    assert [(p.line, p.col, p.message) for p in result.problems] == [
        (9, 21, "no active user has the e-mail 'gone@rapport.vn'"),
        (11, 35, "no active user has the e-mail 'nobody@rapport.vn'"),
    ]
    assert await m.Workflow.all().count() == 0

    await create_user(name="Nobody", email="nobody@rapport.vn", actor="user:test")
    fixed = STAFF_FLOW.replace("gone@rapport.vn", "LEAD@rapport.vn")
    assert (await deploy_texts({**texts, "staff.yaml": fixed}, actor="user:test")).problems == []

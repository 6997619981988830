"""User and team mutations over HTTP: normalization, unique e-mails, primary teams, typed
errors that write nothing, and the audit entry plus outbox event of every change."""

from __future__ import annotations

from typing import Any

import httpx

from domain.persistence import models as m
from gql.ids import decode_pk, encode_id
from tests.helpers import gql

ERRORS = """
  ... on ValidationError { field code message }
  ... on NotFoundError { code message }
  ... on ConflictError { field code existingId message }
"""
CREATE_USER = f"""mutation($input: CreateUserInput!) {{ createUser(input: $input) {{
  __typename
  ... on UserSuccess {{ user {{ id name email role active timezone team {{ id name }}
      manager {{ id }} }} }}
  {ERRORS}
}} }}"""
TEAM_RESULT = f"""
  __typename
  ... on TeamSuccess {{ team {{ id name calendarKey lead {{ id }} }} }}
  {ERRORS}
"""
CREATE_TEAM = (
    f"mutation($input: CreateTeamInput!) {{ createTeam(input: $input) {{ {TEAM_RESULT} }} }}"
)
ADD_MEMBER = (
    "mutation($team: ID!, $user: ID!) "
    f"{{ addTeamMember(input: {{teamId: $team, userId: $user}}) {{ {TEAM_RESULT} }} }}"
)
USER_TEAM = "query($id: ID!) { node(id: $id) { ... on User { team { id name } } } }"


async def _memberships() -> int:
    rows = await m.User._meta.db.execute_query_dict("SELECT COUNT(*) AS n FROM team_memberships")
    return int(rows[0]["n"])


async def _counts() -> tuple[int, ...]:
    return (
        await m.User.all().count(),
        await m.Team.all().count(),
        await _memberships(),
        await m.AuditEntry.all().count(),
        await m.DomainEvent.all().count(),
    )


async def _marks() -> tuple[int, int]:
    audit = await m.AuditEntry.all().order_by("-id").first()
    event = await m.DomainEvent.all().order_by("-id").first()
    return (audit.id if audit else 0, event.id if event else 0)


async def _written_since(marks: tuple[int, int]) -> tuple[list[m.AuditEntry], list[m.DomainEvent]]:
    audits = await m.AuditEntry.filter(id__gt=marks[0]).order_by("id")
    events = await m.DomainEvent.filter(id__gt=marks[1]).order_by("id")
    return audits, events


async def _user(api: httpx.AsyncClient, email: str, **extra: Any) -> dict[str, Any]:
    body = await gql(api, CREATE_USER, {"input": {"name": "Nhân viên", "email": email, **extra}})
    result = body["data"]["createUser"]
    assert result["__typename"] == "UserSuccess", result
    return dict(result["user"])


async def _team(api: httpx.AsyncClient, name: str, **extra: Any) -> dict[str, Any]:
    body = await gql(api, CREATE_TEAM, {"input": {"name": name, **extra}})
    result = body["data"]["createTeam"]
    assert result["__typename"] == "TeamSuccess", result
    return dict(result["team"])


async def _team_ids_of(user_id: str) -> list[int]:
    user = await m.User.get(id=decode_pk(user_id, "User"))
    return sorted(t.id for t in await user.teams.all())


async def test_create_user_normalizes_and_records(api: httpx.AsyncClient) -> None:
    marks = await _marks()
    body = await gql(
        api,
        CREATE_USER,
        {
            "input": {
                "name": "  Trần   Thị Hoa ",
                "email": " Hoa.Tran@Rapport.VN ",
                "role": "MANAGER",
            }
        },
    )
    result = body["data"]["createUser"]
    assert result["__typename"] == "UserSuccess"
    user = result["user"]
    assert user["name"] == "Trần Thị Hoa"
    assert user["email"] == "hoa.tran@rapport.vn"
    assert (user["role"], user["active"], user["timezone"]) == ("MANAGER", True, "Asia/Ho_Chi_Minh")
    assert user["team"] is None
    assert user["manager"] is None
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["user.create"]
    assert [e.type for e in events] == ["user.created"]
    assert encode_id("User", events[0].subject_id) == user["id"]
    assert audits[0].changes["email"] == [None, "hoa.tran@rapport.vn"]
    report = await _user(api, "nam@rapport.vn", managerId=user["id"])
    assert report["manager"]["id"] == user["id"]


async def test_create_user_failures_write_nothing(api: httpx.AsyncClient) -> None:
    first = await _user(api, "hoa@rapport.vn")
    team = await _team(api, "Kinh doanh")
    cases: list[tuple[dict[str, Any], str, str | None, str]] = [
        ({"email": "HOA@Rapport.vn"}, "ConflictError", "email", "CONFLICT"),
        ({"email": "not-an-email"}, "ValidationError", "email", "INVALID_EMAIL"),
        ({"name": "   "}, "ValidationError", "name", "REQUIRED"),
        ({"teamId": encode_id("Team", 9999)}, "ValidationError", "teamId", "NOT_FOUND"),
        ({"teamId": first["id"]}, "ValidationError", "teamId", "WRONG_ID_TYPE"),
        ({"managerId": encode_id("User", 9999)}, "ValidationError", "managerId", "NOT_FOUND"),
        ({"managerId": team["id"]}, "ValidationError", "managerId", "WRONG_ID_TYPE"),
    ]
    for override, typename, field, code in cases:
        before = await _counts()
        body = await gql(
            api, CREATE_USER, {"input": {"name": "Hoa", "email": "new@rapport.vn", **override}}
        )
        result = body["data"]["createUser"]
        assert (result["__typename"], result["field"], result["code"]) == (typename, field, code), (
            override,
            result,
        )
        if typename == "ConflictError":
            assert result["existingId"] == first["id"]
        assert await _counts() == before, override


async def test_create_user_in_a_team(api: httpx.AsyncClient) -> None:
    team = await _team(api, "Kinh doanh")
    user = await _user(api, "hoa@rapport.vn", teamId=team["id"])
    assert user["team"]["id"] == team["id"]
    assert await _team_ids_of(user["id"]) == [decode_pk(team["id"], "Team")]


async def test_create_team_records_and_adds_lead(api: httpx.AsyncClient) -> None:
    lead = await _user(api, "lead@rapport.vn")
    marks = await _marks()
    before_memberships = await _memberships()
    body = await gql(
        api,
        CREATE_TEAM,
        {"input": {"name": "  Kinh doanh   Hà Nội ", "leadId": lead["id"], "calendarKey": "hn"}},
    )
    result = body["data"]["createTeam"]
    assert result["__typename"] == "TeamSuccess"
    team = result["team"]
    assert (team["name"], team["calendarKey"], team["lead"]["id"]) == (
        "Kinh doanh Hà Nội",
        "hn",
        lead["id"],
    )
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["team.create"]
    assert [e.type for e in events] == ["team.created"]
    assert encode_id("Team", audits[0].target_id) == team["id"]
    assert await _memberships() == before_memberships + 1
    assert await _team_ids_of(lead["id"]) == [decode_pk(team["id"], "Team")]


async def test_team_lead_without_a_team_gets_it_as_primary(api: httpx.AsyncClient) -> None:
    lead = await _user(api, "lead@rapport.vn")
    team = await _team(api, "Kinh doanh", leadId=lead["id"])
    read = await gql(api, USER_TEAM, {"id": lead["id"]})
    assert read["data"]["node"]["team"] == {"id": team["id"], "name": "Kinh doanh"}


async def test_create_team_failures_write_nothing(api: httpx.AsyncClient) -> None:
    team = await _team(api, "Existing")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": "  "}, "name", "REQUIRED"),
        ({"leadId": encode_id("User", 9999)}, "leadId", "NOT_FOUND"),
        ({"leadId": team["id"]}, "leadId", "WRONG_ID_TYPE"),
    ]
    for override, field, code in cases:
        before = await _counts()
        body = await gql(api, CREATE_TEAM, {"input": {"name": "Nhóm", **override}})
        result = body["data"]["createTeam"]
        assert (result["__typename"], result["field"], result["code"]) == (
            "ValidationError",
            field,
            code,
        ), (override, result)
        assert await _counts() == before, override


async def test_add_team_member_sets_the_primary_team_once(api: httpx.AsyncClient) -> None:
    user = await _user(api, "hoa@rapport.vn")
    hanoi = await _team(api, "Hà Nội")
    saigon = await _team(api, "Sài Gòn")
    marks = await _marks()
    body = await gql(api, ADD_MEMBER, {"team": hanoi["id"], "user": user["id"]})
    assert body["data"]["addTeamMember"]["team"]["id"] == hanoi["id"]
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["team.add_member"]
    assert [e.type for e in events] == ["team.member_added"]
    assert encode_id("User", events[0].payload["userId"]) == user["id"]
    read = await gql(api, USER_TEAM, {"id": user["id"]})
    assert read["data"]["node"]["team"] == {"id": hanoi["id"], "name": "Hà Nội"}
    # A second team is a membership, not a new primary team.
    await gql(api, ADD_MEMBER, {"team": saigon["id"], "user": user["id"]})
    read = await gql(api, USER_TEAM, {"id": user["id"]})
    assert read["data"]["node"]["team"]["id"] == hanoi["id"]
    assert await _team_ids_of(user["id"]) == sorted(
        decode_pk(t["id"], "Team") for t in (hanoi, saigon)
    )
    filtered = await gql(api, '{ users(filter: {team: {name: {eq: "ha noi"}}}) { totalCount } }')
    assert filtered["data"]["users"]["totalCount"] == 1
    # Adding an existing member again is a no-op.
    before = await _counts()
    again = await gql(api, ADD_MEMBER, {"team": saigon["id"], "user": user["id"]})
    assert again["data"]["addTeamMember"]["__typename"] == "TeamSuccess"
    assert await _counts() == before


async def test_add_team_member_failures_write_nothing(api: httpx.AsyncClient) -> None:
    user = await _user(api, "hoa@rapport.vn")
    team = await _team(api, "Hà Nội")
    cases: list[tuple[dict[str, str], str, str | None, str]] = [
        ({"team": encode_id("Team", 9999)}, "NotFoundError", None, "NOT_FOUND"),
        ({"user": encode_id("User", 9999)}, "ValidationError", "userId", "NOT_FOUND"),
        ({"user": team["id"]}, "ValidationError", "userId", "WRONG_ID_TYPE"),
        ({"team": user["id"]}, "ValidationError", "teamId", "WRONG_ID_TYPE"),
    ]
    for override, typename, field, code in cases:
        before = await _counts()
        body = await gql(api, ADD_MEMBER, {"team": team["id"], "user": user["id"], **override})
        result = body["data"]["addTeamMember"]
        assert (result["__typename"], result["code"]) == (typename, code), (override, result)
        if field is not None:
            assert result["field"] == field
        assert await _counts() == before, override
    read = await gql(api, USER_TEAM, {"id": user["id"]})
    assert read["data"]["node"]["team"] is None


async def test_overlong_team_name_is_a_validation_error(api: httpx.AsyncClient) -> None:
    before = await _counts()
    body = await gql(api, CREATE_TEAM, {"input": {"name": "x" * 300}})
    result = body["data"]["createTeam"]
    assert (result["__typename"], result["field"]) == ("ValidationError", "name")
    assert await _counts() == before

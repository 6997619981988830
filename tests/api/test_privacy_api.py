"""``deactivateUser``, ``exportCustomerData``, ``eraseCustomer`` and ``auditEntries`` over HTTP:
typed errors that change nothing, the payloads, and administrators only (a manager holding a
real session token is refused, and nothing changes)."""

from __future__ import annotations

from typing import Any

import httpx

from app.settings import Settings
from domain.identity.sessions import login, set_password
from domain.identity.tokens import TokenConfig
from domain.persistence import models as m
from domain.staff.teams import add_member, create_team
from domain.staff.users import create_user
from gql.ids import encode_id
from tests.helpers import gql

ERRORS = """
  ... on ValidationError { field code message }
  ... on NotFoundError { code message }
  ... on PermissionDeniedError { code message }
"""
DEACTIVATE = f"""mutation($input: DeactivateUserInput!) {{ deactivateUser(input: $input) {{
  __typename
  ... on DeactivateUserSuccess {{ user {{ id active }} reassigned {{ recordType count }}
      redirectedEmails }}
  {ERRORS}
}} }}"""
ERASE = f"""mutation($id: ID!) {{ eraseCustomer(input: {{id: $id}}) {{
  __typename
  ... on EraseCustomerSuccess {{ customer {{ id displayName emails {{ address }} }}
      changed {{ recordType count }} }}
  {ERRORS}
}} }}"""
EXPORT = "query($id: ID!) { exportCustomerData(id: $id) }"
SEARCH = "query($q: String!) { search(query: $q) { customer { id } } }"
ACTOR = "user:admin"


async def _staff() -> dict[str, m.User]:
    lead = await create_user(name="Trưởng", email="lead@rapport.vn", actor=ACTOR)
    leaving = await create_user(name="Người Nghỉ", email="leaving@rapport.vn", actor=ACTOR)
    other = await create_user(name="Khác", email="other@rapport.vn", actor=ACTOR)
    gone = await create_user(name="Đã Nghỉ", email="gone@rapport.vn", actor=ACTOR)
    team = await create_team(name="Kinh doanh", lead_id=lead.id, actor=ACTOR)
    for user in (leaving, other):
        await add_member(team.id, user.id, actor=ACTOR)
    await m.User.filter(id=gone.id).update(active=False)
    return {"lead": lead, "leaving": leaving, "other": other, "gone": gone}


async def _customers(owner: m.User, count: int) -> list[str]:
    ids = []
    for i in range(count):
        body = await _create_person(owner, f"Khách {i}", f"khach{i}@khach.vn")
        ids.append(body)
    return ids


async def _create_person(owner: m.User, name: str, email: str) -> str:
    from domain.customers import services
    from domain.customers.commands import PersonInput

    row = await services.create_person(
        PersonInput(first_name=name, emails=[email], phones=["0912 000 111"], owner_id=owner.id),
        actor=ACTOR,
    )
    return encode_id("Person", row.id)


async def _deactivate(api: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    body = await gql(api, DEACTIVATE, {"input": given})
    result: dict[str, Any] = body["data"]["deactivateUser"]
    return result


async def test_deactivate_user_errors_change_nothing(api: httpx.AsyncClient) -> None:
    staff = await _staff()
    await _customers(staff["leaving"], 4)
    uid = encode_id("User", staff["leaving"].id)
    audit_before = await m.AuditEntry.all().count()
    cases = [
        ({"id": encode_id("User", 9999), "reassignTo": uid}, "NotFoundError", "NOT_FOUND"),
        ({"id": uid, "reassignTo": uid}, "ValidationError", "SELF"),
        (
            {"id": uid, "reassignTo": encode_id("User", staff["gone"].id)},
            "ValidationError",
            "INACTIVE",
        ),
        ({"id": uid}, "ValidationError", "ONE_OF"),
        (
            {
                "id": uid,
                "reassignTo": encode_id("User", staff["other"].id),
                "strategy": "ROUND_ROBIN_IN_TEAM",
            },
            "ValidationError",
            "ONE_OF",
        ),
        ({"id": uid, "reassignTo": encode_id("Team", 1)}, "ValidationError", "WRONG_ID_TYPE"),
    ]
    for given, typename, code in cases:
        result = await _deactivate(api, **given)
        assert (result["__typename"], result["code"]) == (typename, code), given
    assert await m.Customer.filter(owner_id=staff["leaving"].id).count() == 4
    assert (await m.User.get(id=staff["leaving"].id)).active is True
    assert await m.AuditEntry.all().count() == audit_before


async def test_deactivate_user_round_robin(api: httpx.AsyncClient) -> None:
    staff = await _staff()
    await _customers(staff["leaving"], 9)
    result = await _deactivate(
        api, id=encode_id("User", staff["leaving"].id), strategy="ROUND_ROBIN_IN_TEAM"
    )
    assert result["__typename"] == "DeactivateUserSuccess"
    assert result["user"]["active"] is False
    assert {r["recordType"]: r["count"] for r in result["reassigned"]} == {
        "Customer": 9,
        "Opportunity": 0,
        "Task": 0,
        "Ticket": 0,
    }
    assert result["redirectedEmails"] == 0
    owners = await m.Customer.all().values_list("owner_id", flat=True)
    assert sorted(owners) == sorted([staff["lead"].id] * 5 + [staff["other"].id] * 4)
    audit = await gql(
        api,
        """query($t: ID!) { auditEntries(filter: {actor: "api", action: "customer.reassign"},
          first: 100) { totalCount } u: auditEntries(filter: {target: $t}, first: 1) {
          edges { node { action changes } } } }""",
        {"t": encode_id("User", staff["leaving"].id)},
    )
    assert audit["data"]["auditEntries"]["totalCount"] == 9
    [last] = audit["data"]["u"]["edges"]
    assert last["node"]["action"] == "user.deactivate"


async def test_export_then_erase_over_http(api: httpx.AsyncClient) -> None:
    staff = await _staff()
    person = await _create_person(staff["leaving"], "Phạm Thị Hoa", "hoa.pham@khach.vn")
    exported = (await gql(api, EXPORT, {"id": person}))["data"]["exportCustomerData"]
    assert exported["customer"]["primary_email"] == "hoa.pham@khach.vn"
    assert exported["customer"]["first_name"] == "Phạm Thị Hoa"
    assert [e["action"] for e in exported["auditEntries"]] == ["person.create"]
    hits = (await gql(api, SEARCH, {"q": "hoa.pham@khach.vn"}))["data"]["search"]
    assert [h["customer"]["id"] for h in hits] == [person]

    erased = (await gql(api, ERASE, {"id": person}))["data"]["eraseCustomer"]
    assert erased["__typename"] == "EraseCustomerSuccess"
    assert erased["customer"] == {"id": person, "displayName": "Erased customer", "emails": []}
    changed = {c["recordType"]: c["count"] for c in erased["changed"]}
    assert changed["Customer"] == 1
    for query in ("hoa.pham@khach.vn", "Phạm Thị Hoa", "pham thi hoa", "0912000111"):
        assert (await gql(api, SEARCH, {"q": query}))["data"]["search"] == [], query
    again = (await gql(api, EXPORT, {"id": person}))["data"]["exportCustomerData"]
    text = str(again)
    assert "hoa.pham" not in text
    assert "Phạm Thị Hoa" not in text
    assert [e["action"] for e in again["auditEntries"]] == [
        "person.create",
        "customer.export",
        "customer.erase",
    ]
    missing = await gql(api, EXPORT, {"id": encode_id("Person", 9999)}, expect_errors=True)
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    wrong = (await gql(api, ERASE, {"id": encode_id("Task", 1)}))["data"]["eraseCustomer"]
    assert (wrong["__typename"], wrong["code"]) == ("ValidationError", "WRONG_ID_TYPE")


async def test_only_admins(api: httpx.AsyncClient, settings: Settings) -> None:
    staff = await _staff()
    person = await _create_person(staff["leaving"], "Đỗ Minh", "minh.do@khach.vn")
    manager = await create_user(
        name="Quản Lý", email="manager@rapport.vn", role="MANAGER", actor=ACTOR
    )
    await set_password(manager.id, "mật khẩu quản lý 2026", actor=ACTOR)
    tokens = await login(
        TokenConfig(secret=settings.token_secret), "manager@rapport.vn", "mật khẩu quản lý 2026"
    )
    as_manager = {"authorization": f"Bearer {tokens.access_token}"}
    audit_before = await m.AuditEntry.all().count()

    denied = await gql(
        api,
        DEACTIVATE,
        {
            "input": {
                "id": encode_id("User", staff["leaving"].id),
                "reassignTo": encode_id("User", staff["other"].id),
            }
        },
        headers=as_manager,
    )
    assert denied["data"]["deactivateUser"]["__typename"] == "PermissionDeniedError"
    erase = await gql(api, ERASE, {"id": person}, headers=as_manager)
    assert erase["data"]["eraseCustomer"]["__typename"] == "PermissionDeniedError"
    for query, variables in ((EXPORT, {"id": person}), ("{ auditEntries { totalCount } }", None)):
        body = await gql(api, query, variables, headers=as_manager, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
        assert body["data"] is None
    assert (await m.User.get(id=staff["leaving"].id)).active is True
    assert (await m.Customer.get(display_name="Đỗ Minh")).primary_email == "minh.do@khach.vn"
    assert await m.AuditEntry.all().count() == audit_before

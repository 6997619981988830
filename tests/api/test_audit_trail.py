"""Audit entries name who acted (user, API key, import batch) and the request that caused
them (``X-Request-Id`` or a generated id)."""

from __future__ import annotations

import httpx

from app.settings import Settings
from domain.persistence import models as m
from tests.helpers import gql

CREATE_TEAM = """mutation($name: String!) { createTeam(input: {name: $name}) {
  ... on TeamSuccess { team { id } } } }"""


async def test_audit_entries_carry_the_request_id(api: httpx.AsyncClient) -> None:
    await gql(api, CREATE_TEAM, {"name": "Một"}, headers={"x-request-id": "req-0001"})
    await gql(api, CREATE_TEAM, {"name": "Hai"})
    await gql(api, CREATE_TEAM, {"name": "Ba"})
    first, second, third = await m.AuditEntry.filter(action="team.create").order_by("id")
    assert first.request_id == "req-0001"
    # Without the header each request gets its own generated id, never the previous one's.
    assert second.request_id is not None
    assert third.request_id is not None
    assert len({first.request_id, second.request_id, third.request_id}) == 3


IMPORT = """mutation($rows: [ImportRowInput!]!) { importCustomers(input: {rows: $rows}) {
  ... on ImportCustomersSuccess { created } } }"""
AUDIT_BY_ACTOR = """query($actor: String!) { auditEntries(filter: {actor: $actor}) {
  totalCount edges { node { actorRef action requestId } } } }"""


async def test_imports_are_audited_as_an_import_batch(api: httpx.AsyncClient) -> None:
    rows = [
        {"person": {"firstName": "Mai", "emails": [{"address": "mai@khach.vn"}]}},
        {"organization": {"displayName": "Hải Âu", "domain": "haiau.vn"}},
    ]
    await gql(api, IMPORT, {"rows": rows}, headers={"x-request-id": "batch-7"})
    await gql(api, CREATE_TEAM, {"name": "Không phải nhập"})
    imported = (await gql(api, AUDIT_BY_ACTOR, {"actor": "import"}))["data"]["auditEntries"]
    assert imported["totalCount"] == 2
    # The batch and the principal who ran it (the tests' trusted client acts as "api").
    assert {e["node"]["actorRef"] for e in imported["edges"]} == {"import:batch-7:api"}
    assert {e["node"]["requestId"] for e in imported["edges"]} == {"batch-7"}
    batch = (await gql(api, AUDIT_BY_ACTOR, {"actor": "import:batch-7"}))["data"]
    assert batch["auditEntries"]["totalCount"] == 2


async def test_users_and_api_keys_are_audited_as_themselves(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    from domain.identity.api_keys import create_api_key
    from domain.identity.sessions import login, set_password
    from domain.identity.tokens import TokenConfig
    from domain.staff.users import create_user

    admin = await create_user(name="Quản Trị", email="admin@rapport.vn", role="ADMIN", actor="t")
    await set_password(admin.id, "mật khẩu quản trị 2026", actor="t")
    session = await login(
        TokenConfig(secret=settings.token_secret), "admin@rapport.vn", "mật khẩu quản trị 2026"
    )
    key = await create_api_key(name="ERP", scopes=["create:Team"], expires_at=None, actor="t")
    as_user = {"authorization": f"Bearer {session.access_token}", "x-request-id": "req-user"}
    as_key = {"authorization": f"Bearer {key.plaintext}", "x-request-id": "req-key"}
    await gql(api, CREATE_TEAM, {"name": "Của người dùng"}, headers=as_user)
    await gql(api, CREATE_TEAM, {"name": "Của khóa API"}, headers=as_key)
    by_user, by_key = await m.AuditEntry.filter(action="team.create").order_by("id")
    assert (by_user.actor, by_user.request_id) == (f"user:{admin.id}", "req-user")
    assert (by_key.actor, by_key.request_id) == (f"apikey:{key.key.id}", "req-key")

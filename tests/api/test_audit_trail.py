"""Audit entries name the request that caused them (``X-Request-Id`` or a generated id)."""

from __future__ import annotations

import httpx

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

"""Relationship mutations over HTTP: kinds, direction, ending and deleting edges, typed errors
that write nothing, and the audit entry plus outbox event of every change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from domain.persistence import models as m
from gql.ids import encode_id
from tests.helpers import gql

ERRORS = """
  ... on ValidationError { field code message }
  ... on NotFoundError { code message }
  ... on ConflictError { field code message }
"""
REL_RESULT = f"""
  __typename
  ... on RelationshipSuccess {{ relationship {{ id kind startsOn endsOn notes
      fromCustomer {{ id }} toCustomer {{ id }} }} }}
  {ERRORS}
"""
CREATE_REL = (
    "mutation($input: CreateRelationshipInput!) "
    f"{{ createRelationship(input: $input) {{ {REL_RESULT} }} }}"
)
END_REL = (
    "mutation($id: ID!, $endsOn: Date) "
    f"{{ endRelationship(input: {{id: $id, endsOn: $endsOn}}) {{ {REL_RESULT} }} }}"
)
DELETE_REL = f"""mutation($id: ID!) {{ deleteRelationship(input: {{id: $id}}) {{
  __typename ... on DeletedSuccess {{ id }} {ERRORS} }} }}"""
EDGES = """query($id: ID!) { node(id: $id) { ... on Customer {
  out: relationships(direction: OUTGOING) {
    totalCount edges { node { id kind toCustomer { id } } } }
  in: relationships(direction: INCOMING) {
    totalCount edges { node { id kind fromCustomer { id } } } }
} } }"""
CREATE_PERSON = """mutation($input: PersonInput!) { createPerson(input: $input) {
  ... on PersonSuccess { person { id } } } }"""
CREATE_ORG = """mutation($input: OrganizationInput!) { createOrganization(input: $input) {
  ... on OrganizationSuccess { organization { id } } } }"""
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  ... on UserSuccess { user { id } } } }"""


async def _counts() -> tuple[int, ...]:
    return (
        await m.Relationship.all().count(),
        await m.Relationship.filter(deleted_at=None).count(),
        await m.Relationship.filter(ends_on=None).count(),
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


async def _person(api: httpx.AsyncClient, name: str) -> str:
    body = await gql(api, CREATE_PERSON, {"input": {"firstName": name}})
    return str(body["data"]["createPerson"]["person"]["id"])


async def _org(api: httpx.AsyncClient, name: str, domain: str) -> str:
    body = await gql(api, CREATE_ORG, {"input": {"displayName": name, "domain": domain}})
    return str(body["data"]["createOrganization"]["organization"]["id"])


async def _relate(
    api: httpx.AsyncClient, kind: str, source: str, target: str, **extra: Any
) -> dict[str, Any]:
    body = await gql(
        api,
        CREATE_REL,
        {"input": {"kind": kind, "fromCustomerId": source, "toCustomerId": target, **extra}},
    )
    result = body["data"]["createRelationship"]
    assert result["__typename"] == "RelationshipSuccess", result
    return dict(result["relationship"])


async def test_create_relationship_shows_in_both_directions(api: httpx.AsyncClient) -> None:
    person = await _person(api, "Hoa")
    org = await _org(api, "Sao Việt", "saoviet.vn")
    marks = await _marks()
    body = await gql(
        api,
        CREATE_REL,
        {
            "input": {
                "kind": "WORKS_AT",
                "fromCustomerId": person,
                "toCustomerId": org,
                "startsOn": "2024-01-15",
                "notes": "Kế toán trưởng",
            }
        },
    )
    result = body["data"]["createRelationship"]
    assert result["__typename"] == "RelationshipSuccess"
    edge = result["relationship"]
    assert (edge["kind"], edge["startsOn"], edge["endsOn"], edge["notes"]) == (
        "WORKS_AT",
        "2024-01-15",
        None,
        "Kế toán trưởng",
    )
    assert (edge["fromCustomer"]["id"], edge["toCustomer"]["id"]) == (person, org)
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["relationship.create"]
    assert [e.type for e in events] == ["relationship.created"]
    assert encode_id("Relationship", events[0].subject_id) == edge["id"]
    assert events[0].actor == "api"
    from_person = (await gql(api, EDGES, {"id": person}))["data"]["node"]
    assert from_person["out"]["edges"] == [
        {"node": {"id": edge["id"], "kind": "WORKS_AT", "toCustomer": {"id": org}}}
    ]
    assert from_person["in"]["totalCount"] == 0
    from_org = (await gql(api, EDGES, {"id": org}))["data"]["node"]
    assert from_org["out"]["totalCount"] == 0
    assert from_org["in"]["edges"] == [
        {"node": {"id": edge["id"], "kind": "WORKS_AT", "fromCustomer": {"id": person}}}
    ]


async def test_custom_kinds_are_upper_snake(api: httpx.AsyncClient) -> None:
    a = await _person(api, "A")
    b = await _person(api, "B")
    assert (await _relate(api, "MENTOR_OF", a, b))["kind"] == "MENTOR_OF"
    # The domain normalizes case and surrounding blanks.
    assert (await _relate(api, "  referred_by ", a, b))["kind"] == "REFERRED_BY"
    assert (await _relate(api, "classmate_of", b, a))["kind"] == "CLASSMATE_OF"
    listed = (await gql(api, EDGES, {"id": a}))["data"]["node"]
    assert sorted(e["node"]["kind"] for e in listed["out"]["edges"]) == ["MENTOR_OF", "REFERRED_BY"]
    assert [e["node"]["kind"] for e in listed["in"]["edges"]] == ["CLASSMATE_OF"]


async def test_create_relationship_failures_write_nothing(api: httpx.AsyncClient) -> None:
    a = await _person(api, "A")
    b = await _person(api, "B")
    user = await gql(api, CREATE_USER, {"input": {"name": "Nam", "email": "nam@rapport.vn"}})
    uid = user["data"]["createUser"]["user"]["id"]
    await _relate(api, "PARTNER_OF", a, b)
    cases: list[tuple[dict[str, Any], str, str | None, str]] = [
        ({"toCustomerId": a}, "ValidationError", "toCustomerId", "SELF_EDGE"),
        ({"kind": "best friend!"}, "ValidationError", "kind", "INVALID_KIND"),
        ({"kind": "đối_tác"}, "ValidationError", "kind", "INVALID_KIND"),
        ({"kind": "9LIVES"}, "ValidationError", "kind", "INVALID_KIND"),
        ({"kind": ""}, "ValidationError", "kind", "INVALID_KIND"),
        ({"kind": "X" * 41}, "ValidationError", "kind", "INVALID_KIND"),
        ({"kind": "PARTNER_OF"}, "ConflictError", "kind", "CONFLICT"),
        (
            {"startsOn": "2025-02-01", "endsOn": "2025-01-01"},
            "ValidationError",
            "endsOn",
            "OUT_OF_RANGE",
        ),
        ({"toCustomerId": encode_id("Organization", 9999)}, "NotFoundError", None, "NOT_FOUND"),
        ({"fromCustomerId": uid}, "ValidationError", "fromCustomerId", "WRONG_ID_TYPE"),
        ({"toCustomerId": "%%%"}, "ValidationError", "toCustomerId", "INVALID_ID"),
    ]
    for override, typename, field, code in cases:
        before = await _counts()
        body = await gql(
            api,
            CREATE_REL,
            {"input": {"kind": "FAMILY_OF", "fromCustomerId": a, "toCustomerId": b, **override}},
        )
        result = body["data"]["createRelationship"]
        assert (result["__typename"], result["code"]) == (typename, code), (override, result)
        if field is not None:
            assert result["field"] == field, (override, result)
        assert await _counts() == before, override
    # The reverse direction is a different edge, not a duplicate.
    assert (await _relate(api, "PARTNER_OF", b, a))["kind"] == "PARTNER_OF"


async def test_end_relationship(api: httpx.AsyncClient) -> None:
    a = await _person(api, "A")
    org = await _org(api, "Minh Phát", "minhphat.vn")
    edge = await _relate(api, "WORKS_AT", a, org, startsOn="2024-01-01")
    # An end before the start is refused and writes nothing.
    before = await _counts()
    early = await gql(api, END_REL, {"id": edge["id"], "endsOn": "2023-12-31"})
    result = early["data"]["endRelationship"]
    assert (result["__typename"], result["field"], result["code"]) == (
        "ValidationError",
        "endsOn",
        "OUT_OF_RANGE",
    )
    missing = await gql(api, END_REL, {"id": encode_id("Relationship", 9999)})
    assert missing["data"]["endRelationship"]["__typename"] == "NotFoundError"
    wrong = await gql(api, END_REL, {"id": a})
    assert wrong["data"]["endRelationship"]["code"] == "WRONG_ID_TYPE"
    assert await _counts() == before
    marks = await _marks()
    ended = await gql(api, END_REL, {"id": edge["id"], "endsOn": "2025-06-30"})
    closed = ended["data"]["endRelationship"]["relationship"]
    assert (closed["startsOn"], closed["endsOn"]) == ("2024-01-01", "2025-06-30")
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["relationship.end"]
    assert [e.type for e in events] == ["relationship.ended"]
    assert audits[0].changes == {"ends_on": [None, "2025-06-30"]}
    # Its history stays queryable, and a new live edge of the same kind may be added.
    listed = (await gql(api, EDGES, {"id": a}))["data"]["node"]
    assert listed["out"]["totalCount"] == 1
    again = await _relate(api, "WORKS_AT", a, org, startsOn="2025-09-01")
    assert again["id"] != edge["id"]


async def test_end_relationship_defaults_to_today(api: httpx.AsyncClient) -> None:
    a = await _person(api, "A")
    b = await _person(api, "B")
    edge = await _relate(api, "FAMILY_OF", a, b)
    before = dt.date.today()
    body = await gql(api, END_REL, {"id": edge["id"]})
    ends_on = dt.date.fromisoformat(body["data"]["endRelationship"]["relationship"]["endsOn"])
    assert before <= ends_on <= dt.date.today()


async def test_delete_relationship(api: httpx.AsyncClient) -> None:
    a = await _person(api, "A")
    b = await _person(api, "B")
    keep = await _relate(api, "FAMILY_OF", a, b)
    edge = await _relate(api, "REFERRED_BY", a, b)
    marks = await _marks()
    body = await gql(api, DELETE_REL, {"id": edge["id"]})
    assert body["data"]["deleteRelationship"] == {"__typename": "DeletedSuccess", "id": edge["id"]}
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["relationship.delete"]
    assert [e.type for e in events] == ["relationship.deleted"]
    assert await m.Relationship.all().count() == 2  # soft delete
    listed = (await gql(api, EDGES, {"id": a}))["data"]["node"]
    assert [e["node"]["id"] for e in listed["out"]["edges"]] == [keep["id"]]
    incoming = (await gql(api, EDGES, {"id": b}))["data"]["node"]
    assert [e["node"]["id"] for e in incoming["in"]["edges"]] == [keep["id"]]
    node = await gql(api, "query($id: ID!) { node(id: $id) { id } }", {"id": edge["id"]})
    assert node["data"]["node"] is None
    # Deleting it again, or ending it, finds nothing and writes nothing.
    before = await _counts()
    again = await gql(api, DELETE_REL, {"id": edge["id"]})
    assert again["data"]["deleteRelationship"]["__typename"] == "NotFoundError"
    end = await gql(api, END_REL, {"id": edge["id"]})
    assert end["data"]["endRelationship"]["__typename"] == "NotFoundError"
    wrong = await gql(api, DELETE_REL, {"id": a})
    assert wrong["data"]["deleteRelationship"]["code"] == "WRONG_ID_TYPE"
    assert await _counts() == before
    # The same edge can be created again once the old one is deleted.
    assert (await _relate(api, "REFERRED_BY", a, b))["kind"] == "REFERRED_BY"

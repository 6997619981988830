"""mergeCustomers and importCustomers over HTTP."""

from __future__ import annotations

import httpx

from domain.persistence import models as m
from gql.ids import encode_id
from tests.api.graph import build_graph
from tests.helpers import gql

IMPORT = """mutation($rows: [ImportRowInput!]!) { importCustomers(input: {rows: $rows}) {
  __typename
  ... on ImportCustomersSuccess { created updated rejected
      rows { index status errors { field code } customer { id displayName } } }
  ... on ValidationError { field code } } }"""

MERGE = """mutation($target: ID!, $sources: [ID!]!) {
  mergeCustomers(input: {targetId: $target, sourceIds: $sources}) {
    __typename
    ... on CustomerSuccess { customer { id ... on Person { emails { address } tags
        interactions { totalCount } opportunities { totalCount } } } }
    ... on ValidationError { field code }
    ... on NotFoundError { code } } }"""


async def test_import_mixed_rows_reports_each_and_writes_only_valid_ones(
    api: httpx.AsyncClient,
) -> None:
    existing = await gql(
        api,
        """mutation { upsertPerson(input: {firstName: "Cũ",
        emails: [{address: "old@khach.vn"}]}) { ... on PersonSuccess { person { id } } } }""",
    )
    old_id = existing["data"]["upsertPerson"]["person"]["id"]
    rows = [
        {"person": {"firstName": "Mai", "lastName": "Đỗ", "emails": [{"address": "mai@khach.vn"}]}},
        {"person": {"firstName": "Sai", "emails": [{"address": "not an email"}]}},
        {"organization": {"displayName": "Hải Âu", "domain": "haiau.vn"}},
        {"person": {"jobTitle": "Giám đốc", "emails": [{"address": "OLD@khach.vn"}]}},
        {"person": {"firstName": "Chủ", "ownerId": "garbage"}},
        {"person": {"firstName": "X"}, "organization": {"displayName": "Y"}},
        {"organization": {"displayName": "Hải Âu 2", "domain": "https://haiau.vn"}},
    ]
    customers_before = await m.Customer.all().count()
    body = await gql(api, IMPORT, {"rows": rows})
    result = body["data"]["importCustomers"]
    assert result["__typename"] == "ImportCustomersSuccess"
    statuses = [r["status"] for r in result["rows"]]
    assert statuses == [
        "CREATED",
        "REJECTED",
        "CREATED",
        "UPDATED",
        "REJECTED",
        "REJECTED",
        "UPDATED",
    ]
    assert [r["index"] for r in result["rows"]] == list(range(7))
    assert (result["created"], result["updated"], result["rejected"]) == (2, 2, 3)
    assert result["rows"][1]["errors"][0]["code"] == "INVALID_EMAIL"
    assert result["rows"][4]["errors"][0]["code"] == "INVALID_ID"
    assert result["rows"][3]["customer"]["id"] == old_id
    # the repeated domain updated the organization the earlier row created
    assert result["rows"][6]["customer"]["id"] == result["rows"][2]["customer"]["id"]
    assert await m.Customer.all().count() == customers_before + 2
    updated = await m.Customer.get(primary_email="old@khach.vn")
    assert updated.job_title == "Giám đốc"


async def test_import_refuses_more_than_ten_thousand_rows(api: httpx.AsyncClient) -> None:
    rows = [{"organization": {"displayName": f"Org {i}"}} for i in range(10_001)]
    body = await gql(api, IMPORT, {"rows": rows})
    result = body["data"]["importCustomers"]
    assert (result["__typename"], result["code"]) == ("ValidationError", "OUT_OF_RANGE")
    assert await m.Customer.all().count() == 0


async def test_import_two_thousand_rows_in_one_call(api: httpx.AsyncClient) -> None:
    rows = [
        {
            "person": {
                "firstName": f"Khách {i}",
                "lastName": "Lê",
                "emails": [{"address": f"k{i}@lo.vn"}],
                "phones": [{"number": "0912345678"}],
                "tags": ["import"],
            }
        }
        for i in range(2000)
    ]
    body = await gql(api, IMPORT, {"rows": rows})
    result = body["data"]["importCustomers"]
    assert (result["created"], result["rejected"]) == (2000, 0)
    assert await m.Customer.filter(tags__contains="|import|").count() == 2000
    again = await gql(api, IMPORT, {"rows": rows[:10]})
    assert again["data"]["importCustomers"]["updated"] == 10
    assert await m.Customer.all().count() == 2000


async def test_merge_moves_everything_and_keeps_an_audit_trail(api: httpx.AsyncClient) -> None:
    g = await build_graph(people=4, interactions_per_person=2)
    target, source = g.people[0], g.people[3]  # person 0: open + won deal; person 3: open deal
    deals = await m.Opportunity.filter(customer_id__in=[target, source]).count()
    audit_before = await m.AuditEntry.filter(target_id=target).count()
    body = await gql(
        api,
        MERGE,
        {"target": encode_id("Person", target), "sources": [encode_id("Person", source)]},
    )
    customer = body["data"]["mergeCustomers"]["customer"]
    assert customer["interactions"]["totalCount"] == 4
    assert customer["opportunities"]["totalCount"] == deals
    assert {e["address"] for e in customer["emails"]} == {"an0@khachhang.vn", "an3@khachhang.vn"}
    merged = await m.Customer.get(id=source)
    assert merged.deleted_at is not None
    assert merged.merged_into_id == target
    assert await m.AuditEntry.filter(target_id=target).count() > audit_before
    listed = await gql(api, "{ people { totalCount } }")
    assert listed["data"]["people"]["totalCount"] == 3


async def test_merge_rejects_mixed_kinds_and_unknown_ids(api: httpx.AsyncClient) -> None:
    g = await build_graph(people=1, interactions_per_person=0)
    person, org = encode_id("Person", g.people[0]), encode_id("Organization", g.orgs[0])
    mixed = await gql(api, MERGE, {"target": person, "sources": [org]})
    assert mixed["data"]["mergeCustomers"]["__typename"] == "ValidationError"
    missing = await gql(api, MERGE, {"target": person, "sources": [encode_id("Person", 424242)]})
    # a missing source is reported against the input field that names it
    assert missing["data"]["mergeCustomers"] == {
        "__typename": "ValidationError",
        "field": "sourceIds[0]",
        "code": "NOT_FOUND",
    }
    assert (await m.Customer.get(id=g.orgs[0])).deleted_at is None

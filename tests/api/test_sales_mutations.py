"""Deal and pipeline mutations over HTTP: defaults, stage moves, closing, lifecycle promotion,
typed errors that write nothing, and the audit entry plus outbox event of every change."""

from __future__ import annotations

from typing import Any

import httpx

from domain.persistence import models as m
from domain.sales.pipelines import ensure_default_pipelines
from gql.ids import encode_id
from tests.helpers import gql

OPP_FIELDS = """
  id name amount currency status lostReason closedAt
  customer { id lifecycleStage }
  pipeline { id name }
  stage { id name position probability }
  stageHistory { status fromStage { name } toStage { name } }
"""
ERRORS = """
  ... on ValidationError { field code message }
  ... on NotFoundError { code message }
  ... on ConflictError { field code message }
"""
OPP_RESULT = f"__typename ... on OpportunitySuccess {{ opportunity {{ {OPP_FIELDS} }} }} {ERRORS}"
CREATE_OPP = (
    "mutation($input: CreateOpportunityInput!) "
    f"{{ createOpportunity(input: $input) {{ {OPP_RESULT} }} }}"
)
MOVE_OPP = (
    "mutation($id: ID!, $stage: ID!) "
    f"{{ moveOpportunity(input: {{id: $id, stageId: $stage}}) {{ {OPP_RESULT} }} }}"
)
WIN_OPP = f"mutation($id: ID!) {{ winOpportunity(input: {{id: $id}}) {{ {OPP_RESULT} }} }}"
REOPEN_OPP = f"mutation($id: ID!) {{ reopenOpportunity(input: {{id: $id}}) {{ {OPP_RESULT} }} }}"
LOSE_OPP = (
    "mutation($id: ID!, $reason: String!) "
    f"{{ loseOpportunity(input: {{id: $id, reason: $reason}}) {{ {OPP_RESULT} }} }}"
)
CREATE_PIPELINE = f"""mutation($input: CreatePipelineInput!) {{ createPipeline(input: $input) {{
  __typename
  ... on PipelineSuccess {{ pipeline {{ id name isDefault currency
      stages {{ id name position probability }} }} }}
  {ERRORS}
}} }}"""
CREATE_PERSON = """mutation($input: PersonInput!) { createPerson(input: $input) {
  ... on PersonSuccess { person { id lifecycleStage } } } }"""
CUSTOMER_STAGE = """query($id: ID!) { node(id: $id) { ... on Customer { lifecycleStage } } }"""


async def _counts() -> tuple[int, ...]:
    return tuple(
        [
            await model.all().count()
            for model in (
                m.Opportunity,
                m.StageChange,
                m.Pipeline,
                m.Stage,
                m.Customer,
                m.AuditEntry,
                m.DomainEvent,
            )
        ]
    )


async def _marks() -> tuple[int, int]:
    audit = await m.AuditEntry.all().order_by("-id").first()
    event = await m.DomainEvent.all().order_by("-id").first()
    return (audit.id if audit else 0, event.id if event else 0)


async def _written_since(marks: tuple[int, int]) -> tuple[list[m.AuditEntry], list[m.DomainEvent]]:
    audits = await m.AuditEntry.filter(id__gt=marks[0]).order_by("id")
    events = await m.DomainEvent.filter(id__gt=marks[1]).order_by("id")
    return audits, events


async def _person(api: httpx.AsyncClient, name: str = "Hoa") -> str:
    body = await gql(api, CREATE_PERSON, {"input": {"firstName": name, "lastName": "Trần"}})
    person = body["data"]["createPerson"]["person"]
    assert person["lifecycleStage"] == "LEAD"
    return str(person["id"])


async def _stage_of(api: httpx.AsyncClient, customer_id: str) -> str:
    body = await gql(api, CUSTOMER_STAGE, {"id": customer_id})
    return str(body["data"]["node"]["lifecycleStage"])


async def _open_deal(api: httpx.AsyncClient, customer_id: str, **extra: Any) -> dict[str, Any]:
    body = await gql(
        api,
        CREATE_OPP,
        {"input": {"name": "Hợp đồng", "customerId": customer_id, "amount": "1000000", **extra}},
    )
    result = body["data"]["createOpportunity"]
    assert result["__typename"] == "OpportunitySuccess", result
    return dict(result["opportunity"])


async def _default_stages() -> list[str]:
    pipeline = await ensure_default_pipelines(actor="user:test")
    stages = await m.Stage.filter(pipeline_id=pipeline.id).order_by("position")
    return [encode_id("Stage", s.id) for s in stages]


async def test_create_opportunity_defaults_and_promotes_customer(api: httpx.AsyncClient) -> None:
    await _default_stages()
    other = await gql(
        api,
        CREATE_PIPELINE,
        {"input": {"name": "Dự án", "stages": [{"name": "Khảo sát", "probability": 5}]}},
    )
    assert other["data"]["createPipeline"]["pipeline"]["isDefault"] is False
    pid = await _person(api)
    marks = await _marks()
    body = await gql(
        api,
        CREATE_OPP,
        {"input": {"name": "  Hợp   đồng  CRM ", "customerId": pid, "amount": "1500000.50"}},
    )
    result = body["data"]["createOpportunity"]
    assert result["__typename"] == "OpportunitySuccess"
    deal = result["opportunity"]
    assert deal["name"] == "Hợp đồng CRM"
    assert deal["pipeline"]["name"] == "Sales"
    assert (deal["stage"]["name"], deal["stage"]["position"]) == ("Qualification", 0)
    assert deal["status"] == "OPEN"
    assert deal["closedAt"] is None
    assert deal["currency"] == "VND"
    assert float(deal["amount"]) == 1500000.5
    assert deal["stageHistory"] == [
        {"status": "OPEN", "fromStage": None, "toStage": {"name": "Qualification"}}
    ]
    assert deal["customer"]["lifecycleStage"] == "OPPORTUNITY"
    assert await _stage_of(api, pid) == "OPPORTUNITY"
    audits, events = await _written_since(marks)
    assert sorted(a.action for a in audits) == ["customer.lifecycle", "opportunity.create"]
    assert sorted(e.type for e in events) == ["customer.stage_changed", "opportunity.created"]
    assert all(a.actor == "api" for a in audits)
    assert all(e.actor == "api" for e in events)
    lifecycle = next(e for e in events if e.type == "customer.stage_changed")
    assert lifecycle.payload == {"from": "LEAD", "to": "OPPORTUNITY"}
    # A second deal does not promote (or audit) the customer again.
    marks = await _marks()
    await _open_deal(api, pid)
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["opportunity.create"]
    assert [e.type for e in events] == ["opportunity.created"]


async def test_create_opportunity_without_any_pipeline_is_a_validation_error(
    api: httpx.AsyncClient,
) -> None:
    pid = await _person(api)
    before = await _counts()
    body = await gql(api, CREATE_OPP, {"input": {"name": "X", "customerId": pid}})
    result = body["data"]["createOpportunity"]
    assert (result["__typename"], result["field"]) == ("ValidationError", "pipelineId")
    assert await _counts() == before
    assert await _stage_of(api, pid) == "LEAD"


async def test_create_opportunity_failures_write_nothing(api: httpx.AsyncClient) -> None:
    await _default_stages()
    other = await gql(
        api,
        CREATE_PIPELINE,
        {"input": {"name": "Dự án", "stages": [{"name": "Khảo sát", "probability": 5}]}},
    )
    foreign_stage = other["data"]["createPipeline"]["pipeline"]["stages"][0]["id"]
    pid = await _person(api)
    user = await m.User.create(
        name="Nam", name_fold="nam", email="nam@rapport.vn", created_by="test", updated_by="test"
    )
    cases: list[tuple[dict[str, Any], str, str | None, str | None]] = [
        ({"stageId": foreign_stage}, "ValidationError", "stageId", "INVALID_STAGE"),
        ({"amount": "-1"}, "ValidationError", "amount", "OUT_OF_RANGE"),
        (
            {"customerId": encode_id("User", user.id)},
            "ValidationError",
            "customerId",
            "WRONG_ID_TYPE",
        ),
        ({"customerId": encode_id("Person", 99999)}, "NotFoundError", None, "NOT_FOUND"),
        ({"pipelineId": encode_id("Pipeline", 99999)}, "NotFoundError", None, "NOT_FOUND"),
        ({"ownerId": encode_id("User", 99999)}, "ValidationError", "ownerId", "NOT_FOUND"),
        ({"currency": "dollars"}, "ValidationError", "currency", "INVALID_CURRENCY"),
        ({"name": "   "}, "ValidationError", "name", "REQUIRED"),
    ]
    for override, typename, field, code in cases:
        before = await _counts()
        body = await gql(
            api,
            CREATE_OPP,
            {"input": {"name": "Deal", "customerId": pid, "amount": "10", **override}},
        )
        result = body["data"]["createOpportunity"]
        assert result["__typename"] == typename, (override, result)
        assert result["code"] == code, (override, result)
        if field is not None:
            assert result["field"] == field, (override, result)
        assert await _counts() == before, override
    assert await _stage_of(api, pid) == "LEAD"


async def test_move_opportunity_appends_stage_history(api: httpx.AsyncClient) -> None:
    stages = await _default_stages()
    pid = await _person(api)
    deal = await _open_deal(api, pid)
    marks = await _marks()
    moved = await gql(api, MOVE_OPP, {"id": deal["id"], "stage": stages[2]})
    result = moved["data"]["moveOpportunity"]["opportunity"]
    assert result["stage"]["name"] == "Proposal"
    assert [
        (h["fromStage"] and h["fromStage"]["name"], h["toStage"]["name"])
        for h in result["stageHistory"]
    ] == [(None, "Qualification"), ("Qualification", "Proposal")]
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["opportunity.move"]
    assert [e.type for e in events] == ["opportunity.stage_changed"]
    assert encode_id("Opportunity", events[0].subject_id) == deal["id"]
    assert audits[0].changes["stage_id"][0] != audits[0].changes["stage_id"][1]
    again = await gql(api, MOVE_OPP, {"id": deal["id"], "stage": stages[1]})
    history = again["data"]["moveOpportunity"]["opportunity"]["stageHistory"]
    assert [h["toStage"]["name"] for h in history] == [
        "Qualification",
        "Proposal",
        "Needs analysis",
    ]
    # Moving to the current stage is a no-op.
    before = await _counts()
    same = await gql(api, MOVE_OPP, {"id": deal["id"], "stage": stages[1]})
    assert len(same["data"]["moveOpportunity"]["opportunity"]["stageHistory"]) == 3
    assert await _counts() == before


async def test_move_failures_write_nothing(api: httpx.AsyncClient) -> None:
    stages = await _default_stages()
    other = await gql(
        api,
        CREATE_PIPELINE,
        {"input": {"name": "Dự án", "stages": [{"name": "Khảo sát", "probability": 5}]}},
    )
    foreign_stage = other["data"]["createPipeline"]["pipeline"]["stages"][0]["id"]
    deal = await _open_deal(api, await _person(api))
    before = await _counts()
    foreign = await gql(api, MOVE_OPP, {"id": deal["id"], "stage": foreign_stage})
    assert foreign["data"]["moveOpportunity"]["code"] == "INVALID_STAGE"
    unknown = await gql(api, MOVE_OPP, {"id": encode_id("Opportunity", 9999), "stage": stages[1]})
    assert unknown["data"]["moveOpportunity"]["__typename"] == "NotFoundError"
    wrong = await gql(api, MOVE_OPP, {"id": deal["id"], "stage": deal["pipeline"]["id"]})
    assert wrong["data"]["moveOpportunity"]["code"] == "WRONG_ID_TYPE"
    assert await _counts() == before


async def test_win_opportunity_closes_and_makes_a_customer(api: httpx.AsyncClient) -> None:
    stages = await _default_stages()
    pid = await _person(api)
    deal = await _open_deal(api, pid)
    marks = await _marks()
    body = await gql(api, WIN_OPP, {"id": deal["id"]})
    result = body["data"]["winOpportunity"]
    assert result["__typename"] == "OpportunitySuccess"
    won = result["opportunity"]
    assert won["status"] == "WON"
    assert won["closedAt"] is not None
    assert won["customer"]["lifecycleStage"] == "CUSTOMER"
    assert won["stageHistory"][-1]["status"] == "WON"
    assert len(won["stageHistory"]) == 2
    audits, events = await _written_since(marks)
    assert sorted(a.action for a in audits) == ["customer.lifecycle", "opportunity.won"]
    assert sorted(e.type for e in events) == ["customer.stage_changed", "opportunity.won"]
    lifecycle = next(e for e in events if e.type == "customer.stage_changed")
    assert lifecycle.payload == {"from": "OPPORTUNITY", "to": "CUSTOMER"}
    # Visible through the query API.
    assert await _stage_of(api, pid) == "CUSTOMER"
    listed = await gql(
        api,
        "{ customers(filter: {lifecycleStage: {eq: CUSTOMER}}) "
        "{ totalCount edges { node { id } } } "
        "opportunities(filter: {status: {eq: WON}}) { totalCount } }",
    )
    assert listed["data"]["customers"]["totalCount"] == 1
    assert listed["data"]["customers"]["edges"][0]["node"]["id"] == pid
    assert listed["data"]["opportunities"]["totalCount"] == 1
    # A won deal cannot move, be won again or be lost; nothing is written.
    before = await _counts()
    move = await gql(api, MOVE_OPP, {"id": deal["id"], "stage": stages[3]})
    assert move["data"]["moveOpportunity"]["__typename"] == "ConflictError"
    assert move["data"]["moveOpportunity"]["field"] == "status"
    again = await gql(api, WIN_OPP, {"id": deal["id"]})
    assert again["data"]["winOpportunity"]["__typename"] == "ConflictError"
    lose = await gql(api, LOSE_OPP, {"id": deal["id"], "reason": "price"})
    assert lose["data"]["loseOpportunity"]["__typename"] == "ConflictError"
    assert await _counts() == before
    unknown = await gql(api, WIN_OPP, {"id": encode_id("Opportunity", 9999)})
    assert unknown["data"]["winOpportunity"]["__typename"] == "NotFoundError"
    assert await _counts() == before


async def test_lose_opportunity_requires_a_reason(api: httpx.AsyncClient) -> None:
    await _default_stages()
    pid = await _person(api)
    deal = await _open_deal(api, pid)
    before = await _counts()
    blank = await gql(api, LOSE_OPP, {"id": deal["id"], "reason": "   "})
    result = blank["data"]["loseOpportunity"]
    assert (result["__typename"], result["field"], result["code"]) == (
        "ValidationError",
        "reason",
        "REQUIRED",
    )
    assert await _counts() == before
    marks = await _marks()
    body = await gql(api, LOSE_OPP, {"id": deal["id"], "reason": "  Giá quá cao "})
    lost = body["data"]["loseOpportunity"]["opportunity"]
    assert lost["status"] == "LOST"
    assert lost["lostReason"] == "Giá quá cao"
    assert lost["closedAt"] is not None
    assert lost["stageHistory"][-1]["status"] == "LOST"
    assert lost["customer"]["lifecycleStage"] == "OPPORTUNITY"
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["opportunity.lost"]
    assert [e.type for e in events] == ["opportunity.lost"]
    assert events[0].payload["reason"] == "Giá quá cao"


async def test_reopen_opportunity(api: httpx.AsyncClient) -> None:
    stages = await _default_stages()
    pid = await _person(api)
    deal = await _open_deal(api, pid)
    # Reopening an open deal is a no-op.
    before = await _counts()
    noop = await gql(api, REOPEN_OPP, {"id": deal["id"]})
    assert noop["data"]["reopenOpportunity"]["opportunity"]["status"] == "OPEN"
    assert await _counts() == before
    await gql(api, LOSE_OPP, {"id": deal["id"], "reason": "timing"})
    marks = await _marks()
    body = await gql(api, REOPEN_OPP, {"id": deal["id"]})
    reopened = body["data"]["reopenOpportunity"]["opportunity"]
    assert reopened["status"] == "OPEN"
    assert reopened["closedAt"] is None
    assert reopened["lostReason"] is None
    assert [h["status"] for h in reopened["stageHistory"]] == ["OPEN", "LOST", "OPEN"]
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["opportunity.open"]
    assert [e.type for e in events] == ["opportunity.reopened"]
    moved = await gql(api, MOVE_OPP, {"id": deal["id"], "stage": stages[1]})
    assert moved["data"]["moveOpportunity"]["__typename"] == "OpportunitySuccess"
    # Won, then reopened: the customer stays a CUSTOMER.
    await gql(api, WIN_OPP, {"id": deal["id"]})
    again = await gql(api, REOPEN_OPP, {"id": deal["id"]})
    assert again["data"]["reopenOpportunity"]["opportunity"]["status"] == "OPEN"
    assert await _stage_of(api, pid) == "CUSTOMER"


async def test_create_pipeline_keeps_stage_order_and_default(api: httpx.AsyncClient) -> None:
    await _default_stages()
    marks = await _marks()
    body = await gql(
        api,
        CREATE_PIPELINE,
        {
            "input": {
                "name": " Bán  sỉ ",
                "isDefault": True,
                "currency": "usd",
                "stages": [
                    {"name": "Liên hệ", "probability": 10},
                    {"name": "Báo giá", "probability": 50},
                    {"name": "Chốt", "probability": 100},
                ],
            }
        },
    )
    result = body["data"]["createPipeline"]
    assert result["__typename"] == "PipelineSuccess"
    pipeline = result["pipeline"]
    assert (pipeline["name"], pipeline["isDefault"], pipeline["currency"]) == (
        "Bán sỉ",
        True,
        "USD",
    )
    assert [(s["name"], s["position"], s["probability"]) for s in pipeline["stages"]] == [
        ("Liên hệ", 0, 10),
        ("Báo giá", 1, 50),
        ("Chốt", 2, 100),
    ]
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["pipeline.create"]
    assert [e.type for e in events] == ["pipeline.created"]
    listed = await gql(api, "{ pipelines { name isDefault } }")
    assert {p["name"]: p["isDefault"] for p in listed["data"]["pipelines"]} == {
        "Sales": False,
        "Bán sỉ": True,
    }
    # New deals now land in the new default pipeline, in its currency.
    deal = await _open_deal(api, await _person(api))
    assert (deal["pipeline"]["name"], deal["stage"]["name"], deal["currency"]) == (
        "Bán sỉ",
        "Liên hệ",
        "USD",
    )


async def test_create_pipeline_failures_write_nothing(api: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"stages": [{"name": "A", "probability": 10}, {"name": "B", "probability": 150}]},
            "stages[1].probability",
            "OUT_OF_RANGE",
        ),
        ({"stages": [{"name": "A", "probability": -1}]}, "stages[0].probability", "OUT_OF_RANGE"),
        ({"stages": []}, "stages", "REQUIRED"),
        ({"stages": [{"name": " ", "probability": 1}]}, "stages[0].name", "REQUIRED"),
        ({"name": "  "}, "name", "REQUIRED"),
        ({"currency": "VN"}, "currency", "INVALID_CURRENCY"),
    ]
    for override, field, code in cases:
        before = await _counts()
        body = await gql(
            api,
            CREATE_PIPELINE,
            {
                "input": {
                    "name": "P",
                    "isDefault": True,
                    "stages": [{"name": "A", "probability": 1}],
                    **override,
                }
            },
        )
        result = body["data"]["createPipeline"]
        assert (result["__typename"], result["field"], result["code"]) == (
            "ValidationError",
            field,
            code,
        ), override
        assert await _counts() == before, override


async def test_overlong_deal_name_is_a_validation_error(api: httpx.AsyncClient) -> None:
    await _default_stages()
    pid = await _person(api)
    before = await _counts()
    body = await gql(api, CREATE_OPP, {"input": {"name": "x" * 400, "customerId": pid}})
    result = body["data"]["createOpportunity"]
    assert (result["__typename"], result["field"]) == ("ValidationError", "name")
    assert await _counts() == before


async def test_amount_beyond_column_precision_is_a_validation_error(
    api: httpx.AsyncClient,
) -> None:
    await _default_stages()
    pid = await _person(api)
    before = await _counts()
    body = await gql(
        api,
        CREATE_OPP,
        {"input": {"name": "Deal", "customerId": pid, "amount": "100000000000000000000"}},
    )
    result = body["data"]["createOpportunity"]
    assert (result["__typename"], result["field"]) == ("ValidationError", "amount")
    assert await _counts() == before

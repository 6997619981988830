"""Ticket mutations and queries over HTTP: the conversation, status machine, assignment, typed
errors that write nothing, nested comments, `tickets` filtering and the customer's timeline."""

from __future__ import annotations

from typing import Any

import httpx

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from domain.staff.teams import create_team
from domain.staff.users import create_user
from gql.ids import encode_id
from tests.helpers import gql

ERRORS = """
  ... on ValidationError { field code message }
  ... on NotFoundError { code message }
  ... on ConflictError { field code message }
"""
TICKET_FIELDS = """id subject status priority channel escalationLevel tags solvedAt closedAt
  customer { id displayName } assignee { id name } team { id name } followUpOf { id }
  comments { totalCount edges { node { public body authorUser { id } authorCustomer { id } } } }"""
TICKET_RESULT = f"__typename ... on TicketSuccess {{ ticket {{ {TICKET_FIELDS} }} }} {ERRORS}"
COMMENT_RESULT = f"""__typename ... on TicketCommentSuccess {{ comment {{ id public body }}
  ticket {{ status }} }} {ERRORS}"""
CREATE = f"mutation($i: CreateTicketInput!) {{ createTicket(input: $i) {{ {TICKET_RESULT} }} }}"
REPLY = f"mutation($i: ReplyToTicketInput!) {{ replyToTicket(input: $i) {{ {COMMENT_RESULT} }} }}"
NOTE = (
    f"mutation($i: AddInternalNoteInput!) {{ addInternalNote(input: $i) {{ {COMMENT_RESULT} }} }}"
)
MESSAGE = f"""mutation($i: AddCustomerMessageInput!) {{ addCustomerMessage(input: $i) {{
  __typename ... on CustomerMessageSuccess {{ reopened followUp comment {{ body }}
    ticket {{ id status followUpOf {{ id }} }} }} {ERRORS} }} }}"""
STATUS = f"""mutation($i: ChangeTicketStatusInput!) {{ changeTicketStatus(input: $i) {{
  {TICKET_RESULT} }} }}"""
PRIORITY = f"""mutation($i: ChangeTicketPriorityInput!) {{ changeTicketPriority(input: $i) {{
  {TICKET_RESULT} }} }}"""
TAGS = f"mutation($i: SetTicketTagsInput!) {{ setTicketTags(input: $i) {{ {TICKET_RESULT} }} }}"
ASSIGN = f"mutation($i: AssignTicketInput!) {{ assignTicket(input: $i) {{ {TICKET_RESULT} }} }}"


async def _setup() -> dict[str, Any]:
    lead = await create_user(name="Phạm Lead", email="lead@rapport.vn", role="SUPPORT", actor="t")
    team = await create_team(name="CSKH", lead_id=lead.id, actor="t")
    agent = await create_user(
        name="Ngô Agent", email="agent@rapport.vn", role="SUPPORT", team_id=team.id, actor="t"
    )
    person = await services.create_person(
        PersonInput(first_name="Hùng", last_name="Đỗ", tags=["gold"]), actor="t"
    )
    return {
        "lead": encode_id("User", lead.id),
        "team": encode_id("Team", team.id),
        "agent": encode_id("User", agent.id),
        "person": encode_id("Person", person.id),
        "person_pk": person.id,
    }


async def _counts() -> tuple[int, ...]:
    return tuple(
        [
            await model.all().count()
            for model in (m.Ticket, m.TicketComment, m.AuditEntry, m.DomainEvent)
        ]
    )


async def test_ticket_conversation_end_to_end(api: httpx.AsyncClient) -> None:
    ids = await _setup()
    created = (
        await gql(
            api,
            CREATE,
            {
                "i": {
                    "subject": "Không đăng nhập được",
                    "customerId": ids["person"],
                    "body": "Mật khẩu sai",
                    "priority": "HIGH",
                    "channel": "CHAT",
                    "assigneeId": ids["agent"],
                    "tags": ["Login"],
                }
            },
        )
    )["data"]["createTicket"]
    assert created["__typename"] == "TicketSuccess"
    ticket = created["ticket"]
    assert (ticket["status"], ticket["priority"], ticket["channel"]) == ("NEW", "HIGH", "CHAT")
    assert (ticket["team"]["id"], ticket["tags"], ticket["escalationLevel"]) == (
        ids["team"],
        ["login"],
        0,
    )
    assert ticket["comments"]["edges"][0]["node"]["authorCustomer"]["id"] == ids["person"]
    tid = ticket["id"]

    reply = await gql(api, REPLY, {"i": {"id": tid, "body": "Đã reset", "authorId": ids["agent"]}})
    assert reply["data"]["replyToTicket"]["ticket"]["status"] == "OPEN"
    note = await gql(api, NOTE, {"i": {"id": tid, "body": "check SSO", "authorId": ids["lead"]}})
    assert note["data"]["addInternalNote"]["comment"]["public"] is False
    solved = await gql(api, STATUS, {"i": {"id": tid, "status": "SOLVED"}})
    assert solved["data"]["changeTicketStatus"]["ticket"]["solvedAt"] is not None
    again = (await gql(api, MESSAGE, {"i": {"id": tid, "body": "Lại lỗi"}}))["data"]
    landed = again["addCustomerMessage"]
    assert (landed["reopened"], landed["followUp"], landed["ticket"]["id"]) == (True, False, tid)
    assert landed["ticket"]["status"] == "OPEN"

    comments = await gql(
        api,
        """query($id: ID!) { node(id: $id) { ... on Ticket {
          comments { totalCount edges { node { public body } } }
          internal: comments(filter: {public: {eq: false}}) { totalCount } } } }""",
        {"id": tid},
    )
    node = comments["data"]["node"]
    assert [e["node"]["body"] for e in node["comments"]["edges"]] == [
        "Mật khẩu sai",
        "Đã reset",
        "check SSO",
        "Lại lỗi",
    ]
    assert node["internal"]["totalCount"] == 1
    kinds = [e.type for e in await m.DomainEvent.filter(subject_type="Ticket").order_by("id")]
    assert kinds == [
        "ticket.created",
        "ticket.agent_replied",
        "ticket.status_changed",
        "ticket.status_changed",
        "ticket.customer_replied",
        "ticket.status_changed",
    ]


async def test_typed_errors_write_nothing(api: httpx.AsyncClient) -> None:
    ids = await _setup()
    tid = (await gql(api, CREATE, {"i": {"subject": "S", "customerId": ids["person"]}}))["data"][
        "createTicket"
    ]["ticket"]["id"]
    await gql(api, STATUS, {"i": {"id": tid, "status": "CLOSED"}})
    before = await _counts()
    cases = [
        (CREATE, {"subject": " ", "customerId": ids["person"]}, "ValidationError", "REQUIRED"),
        (CREATE, {"subject": "S", "customerId": ids["agent"]}, "ValidationError", "WRONG_ID_TYPE"),
        (
            CREATE,
            {"subject": "S", "customerId": encode_id("Person", 999)},
            "NotFoundError",
            "NOT_FOUND",
        ),
        (
            CREATE,
            {"subject": "S", "customerId": ids["person"], "tags": ["#"]},
            "ValidationError",
            "INVALID_TAG",
        ),
        (REPLY, {"id": tid, "body": "x"}, "ValidationError", "REQUIRED"),  # no author
        (REPLY, {"id": tid, "body": "x", "authorId": ids["agent"]}, "ConflictError", "CONFLICT"),
        (STATUS, {"id": tid, "status": "OPEN"}, "ConflictError", "CONFLICT"),
        (PRIORITY, {"id": tid, "priority": "URGENT"}, "ConflictError", "CONFLICT"),
        (ASSIGN, {"id": tid, "teamId": ids["team"]}, "ConflictError", "CONFLICT"),
        (TAGS, {"id": tid, "tags": ["x"]}, "ConflictError", "CONFLICT"),
        (
            NOTE,
            {"id": encode_id("Ticket", 999), "body": "x", "authorId": ids["agent"]},
            "NotFoundError",
            "NOT_FOUND",
        ),
        (MESSAGE, {"id": tid, "body": "   "}, "ValidationError", "REQUIRED"),
    ]
    for query, variables, typename, code in cases:
        data = (await gql(api, query, {"i": variables}))["data"]
        result = next(iter(data.values()))
        assert (result["__typename"], result["code"]) == (typename, code), (variables, result)
    assert await _counts() == before


async def test_assignment_priority_and_follow_up(api: httpx.AsyncClient) -> None:
    ids = await _setup()
    tid = (await gql(api, CREATE, {"i": {"subject": "S", "customerId": ids["person"]}}))["data"][
        "createTicket"
    ]["ticket"]["id"]
    assigned = (await gql(api, ASSIGN, {"i": {"id": tid, "assigneeId": ids["lead"]}}))["data"]
    ticket = assigned["assignTicket"]["ticket"]
    assert (ticket["assignee"]["id"], ticket["team"]["id"]) == (ids["lead"], ids["team"])
    cleared = (await gql(api, ASSIGN, {"i": {"id": tid, "assigneeId": None}}))["data"]
    ticket = cleared["assignTicket"]["ticket"]
    assert (ticket["assignee"], ticket["team"]["id"]) == (None, ids["team"])
    tagged = await gql(api, TAGS, {"i": {"id": tid, "tags": ["Hóa đơn", "vip"]}})
    assert tagged["data"]["setTicketTags"]["ticket"]["tags"] == ["hoa-don", "vip"]
    bad_tag = await gql(api, TAGS, {"i": {"id": tid, "tags": ["?"]}})
    assert bad_tag["data"]["setTicketTags"]["code"] == "INVALID_TAG"
    tag_event = await m.DomainEvent.filter(type="ticket.updated").order_by("-id").first()
    assert tag_event is not None
    assert tag_event.payload["changes"] == {"tags": ["", "|hoa-don|vip|"]}
    urgent = await gql(api, PRIORITY, {"i": {"id": tid, "priority": "URGENT"}})
    assert urgent["data"]["changeTicketPriority"]["ticket"]["priority"] == "URGENT"
    await gql(api, STATUS, {"i": {"id": tid, "status": "CLOSED"}})
    landed = (await gql(api, MESSAGE, {"i": {"id": tid, "body": "Còn lỗi"}}))["data"][
        "addCustomerMessage"
    ]
    assert (landed["reopened"], landed["followUp"]) == (False, True)
    assert landed["ticket"]["followUpOf"]["id"] == tid
    assert landed["ticket"]["status"] == "NEW"


async def test_tickets_list_filters_and_customer_views(api: httpx.AsyncClient) -> None:
    ids = await _setup()
    for subject, priority in (("Hóa đơn", "LOW"), ("Giao hàng", "URGENT"), ("Bảo hành", "URGENT")):
        await gql(
            api,
            CREATE,
            {"i": {"subject": subject, "customerId": ids["person"], "priority": priority}},
        )
    listed = await gql(
        api,
        """{ tickets(filter: {priority: {eq: URGENT}, customer: {tags: {hasAny: ["gold"]}}},
              orderBy: [{field: SUBJECT, direction: DESC}]) {
              totalCount edges { node { subject } } } }""",
    )
    page = listed["data"]["tickets"]
    assert page["totalCount"] == 2
    assert [e["node"]["subject"] for e in page["edges"]] == ["Giao hàng", "Bảo hành"]
    searched = await gql(
        api, '{ tickets(filter: {subject: {contains: "hoa don"}}) { totalCount } }'
    )
    assert searched["data"]["tickets"]["totalCount"] == 1
    customer = await gql(
        api,
        """query($id: ID!) { node(id: $id) { ... on Person {
            tickets(first: 2) { totalCount edges { node { subject } } pageInfo { hasNextPage } }
            timeline(first: 10) { edges { node { __typename ... on Ticket { subject } } } }
        } } }""",
        {"id": ids["person"]},
    )
    node = customer["data"]["node"]
    assert node["tickets"]["totalCount"] == 3
    assert node["tickets"]["pageInfo"]["hasNextPage"] is True
    timeline_tickets = [
        e["node"]["subject"]
        for e in node["timeline"]["edges"]
        if e["node"]["__typename"] == "Ticket"
    ]
    assert sorted(timeline_tickets) == ["Bảo hành", "Giao hàng", "Hóa đơn"]
    with_tickets = await gql(
        api, "{ customers(filter: {tickets: {some: {priority: {eq: LOW}}}}) { totalCount } }"
    )
    assert with_tickets["data"]["customers"]["totalCount"] == 1


async def test_ticket_runs_show_and_enroll_by_ticket_id(api: httpx.AsyncClient) -> None:
    from tests.integration.runtime.ticket_escalation import TEMPLATES
    from workflows.runtime.deploy import deploy_texts

    manual = (
        "key: escalate-by-hand\nsubject: ticket\ntrigger: {manual: true}\n"
        "steps:\n  - escalate: {level: 1}\n  - wait: 1h\n"
    )
    deployed = await deploy_texts({"w.yaml": manual, "t.yaml": TEMPLATES}, actor="t")
    assert not deployed.problems
    ids = await _setup()
    tid = (await gql(api, CREATE, {"i": {"subject": "Sập mạng", "customerId": ids["person"]}}))[
        "data"
    ]["createTicket"]["ticket"]["id"]
    enrolled = await gql(
        api,
        """mutation($key: String!, $subject: ID!) {
          enrollInWorkflow(input: {key: $key, subjectId: $subject}) {
            __typename ... on WorkflowRunSuccess { run { state } } } }""",
        {"key": "escalate-by-hand", "subject": tid},
    )
    assert enrolled["data"]["enrollInWorkflow"]["__typename"] == "WorkflowRunSuccess"
    runs = await gql(
        api,
        """query($id: ID!) { workflowRuns(filter: {subjectId: $id}) { edges { node {
            subjectType subject { __typename ... on Ticket { subject } } } } } }""",
        {"id": tid},
    )
    [edge] = runs["data"]["workflowRuns"]["edges"]
    assert edge["node"]["subjectType"] == "ticket"
    assert edge["node"]["subject"] == {"__typename": "Ticket", "subject": "Sập mạng"}
    assert (await m.Ticket.get(subject="Sập mạng")).escalation_level == 1

"""Tickets (the service desk) and their comments."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain.persistence import models as m
from domain.persistence.querying.spec import SortKey
from domain.text import decode_tags
from gql.context import Context
from gql.entity_filters import TicketCommentFilter
from gql.enums import TicketChannel, TicketPriority, TicketStatus
from gql.fields import computed, to_many, to_one
from gql.ordering import TicketCommentOrder
from gql.pagination import Connection
from gql.types.node import Record
from gql.types.sla import SlaClock, ticket_sla
from gql.types.staff import Team, User

if TYPE_CHECKING:
    from gql.types.customers import Customer

CustomerRef = Annotated["Customer", strawberry.lazy("gql.types.customers")]


@strawberry.type(description="An inquiry or complaint from a customer.")
class Ticket(Record):
    subject: str
    status: TicketStatus
    priority: TicketPriority
    channel: TicketChannel
    escalation_level: int = strawberry.field(
        description="0 until an escalation step raises it; never lowered."
    )
    solved_at: dt.datetime | None
    closed_at: dt.datetime | None
    sla_due_at: dt.datetime | None = strawberry.field(
        description="The next SLA deadline: the earliest due instant of the running clocks."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Ticket)

    tags: list[str] = computed(lambda root: decode_tags(root.tags))

    customer: CustomerRef | None = to_one("Customer", "customer_id")

    assignee: User | None = to_one("User", "assignee_id")

    team: Team | None = to_one("Team", "team_id")

    follow_up_of: Ticket | None = to_one(
        "Ticket",
        "follow_up_of_id",
        description="The closed ticket this one continues (a customer wrote in again).",
    )

    @strawberry.field(description="The SLA clocks: the latest instance of each metric.")
    async def sla(
        self, root: strawberry.Parent[m.Ticket], info: strawberry.Info[Context, None]
    ) -> list[SlaClock]:
        return await ticket_sla(info.context, root.id)

    comments: Connection[TicketComment] = to_many(
        "TicketComment",
        "ticket_id",
        filter_type=TicketCommentFilter,
        order_type=TicketCommentOrder,
        default_order=(SortKey("createdAt"),),
        description="Public replies, customer messages and internal notes, oldest first.",
    )


@strawberry.type(description="A message on a ticket: a reply, a customer message or a note.")
class TicketComment(Record):
    public: bool = strawberry.field(description="False for internal notes.")
    body: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.TicketComment)

    ticket: Ticket | None = to_one("Ticket", "ticket_id")

    author_user: User | None = to_one(
        "User", "author_user_id", description="The staff member who wrote it, if one did."
    )

    author_customer: CustomerRef | None = to_one(
        "Customer", "author_customer_id", description="The customer who wrote it, if one did."
    )

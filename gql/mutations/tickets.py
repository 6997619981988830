"""Mutations of the service desk: opening tickets, the conversation, status, priority and
assignment. Each is one domain use case (one transaction) returning a success or a typed error."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from domain.errors import ValidationFailed
from domain.tickets import conversation, lifecycle
from gql.context import Context
from gql.enums import TicketChannel, TicketPriority, TicketStatus
from gql.ids import decode_pk
from gql.mutations.results import MutationFailure, attempt
from gql.types.tickets import Ticket, TicketComment

Info = strawberry.Info[Context, None]
CUSTOMER_TYPES = ("Person", "Organization")
UNSET = strawberry.UNSET


def _optional_pk(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return None if value is None else decode_pk(value, type_name, field=field)


def _author(context: Context, author_id: strawberry.ID | None) -> int:
    """The writing user: ``authorId`` when given, else the acting user; API keys must name one."""
    if author_id is not None:
        return decode_pk(author_id, "User", field="authorId")
    kind, _, ref = context.actor.partition(":")
    if kind == "user" and ref.isdigit():
        return int(ref)
    raise ValidationFailed("authorId", "name the user who writes this", "REQUIRED")


@strawberry.type
class TicketSuccess:
    ticket: Ticket


@strawberry.type
class TicketCommentSuccess:
    comment: TicketComment
    ticket: Ticket


@strawberry.type
class CustomerMessageSuccess:
    comment: TicketComment
    ticket: Ticket = strawberry.field(
        description="The ticket the message landed on: a new follow-up when `followUp`."
    )
    reopened: bool = strawberry.field(description="A SOLVED ticket was reopened by the message.")
    follow_up: bool = strawberry.field(
        description="The ticket was CLOSED or solved over 7 days ago: a linked one was opened."
    )


TicketResult = Annotated[TicketSuccess | MutationFailure, strawberry.union("TicketResult")]
TicketCommentResult = Annotated[
    TicketCommentSuccess | MutationFailure, strawberry.union("TicketCommentResult")
]
CustomerMessageResult = Annotated[
    CustomerMessageSuccess | MutationFailure, strawberry.union("CustomerMessageResult")
]


@strawberry.input
class CreateTicketInput:
    subject: str
    customer_id: strawberry.ID
    body: str | None = strawberry.field(
        default=None, description="The customer's first message (a public comment)."
    )
    priority: TicketPriority = TicketPriority.NORMAL
    channel: TicketChannel = TicketChannel.EMAIL
    assignee_id: strawberry.ID | None = None
    team_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the assignee's primary team."
    )
    tags: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class ReplyToTicketInput:
    id: strawberry.ID
    body: str
    author_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the acting user."
    )
    status: TicketStatus | None = strawberry.field(
        default=None, description="Move the ticket with the reply (a NEW ticket becomes OPEN)."
    )


@strawberry.input
class AddInternalNoteInput:
    id: strawberry.ID
    body: str
    author_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the acting user."
    )


@strawberry.input(description="A message from the ticket's customer, e.g. an inbound e-mail.")
class AddCustomerMessageInput:
    id: strawberry.ID
    body: str


@strawberry.input
class ChangeTicketStatusInput:
    id: strawberry.ID
    status: TicketStatus


@strawberry.input
class ChangeTicketPriorityInput:
    id: strawberry.ID
    priority: TicketPriority


@strawberry.input(description="The ticket's tags, replacing the current ones.")
class SetTicketTagsInput:
    id: strawberry.ID
    tags: list[str]


@strawberry.input(description="Omitted fields are kept; null clears the assignee or the team.")
class AssignTicketInput:
    id: strawberry.ID
    assignee_id: strawberry.ID | None = UNSET
    team_id: strawberry.ID | None = UNSET


def _kept(value: Any, type_name: str, field: str) -> Any:
    if value is UNSET:
        return lifecycle.UNCHANGED
    return _optional_pk(value, type_name, field)


@strawberry.type
class TicketMutations:
    @strawberry.mutation(description="Open a ticket for a customer.")
    async def create_ticket(self, info: Info, input: CreateTicketInput) -> TicketResult:
        async def run() -> TicketSuccess:
            row = await lifecycle.create_ticket(
                subject=input.subject,
                customer_id=decode_pk(input.customer_id, *CUSTOMER_TYPES, field="customerId"),
                body=input.body,
                priority=input.priority.value,
                channel=input.channel.value,
                assignee_id=_optional_pk(input.assignee_id, "User", "assigneeId"),
                team_id=_optional_pk(input.team_id, "Team", "teamId"),
                tags=input.tags,
                actor=info.context.actor,
            )
            return TicketSuccess(ticket=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="A public reply from staff to the customer.")
    async def reply_to_ticket(self, info: Info, input: ReplyToTicketInput) -> TicketCommentResult:
        async def run() -> TicketCommentSuccess:
            ticket_id = decode_pk(input.id, "Ticket")
            comment = await conversation.reply_to_ticket(
                ticket_id,
                body=input.body,
                author_id=_author(info.context, input.author_id),
                status=input.status.value if input.status else None,
                actor=info.context.actor,
            )
            ticket = await lifecycle.get_ticket(ticket_id)
            return TicketCommentSuccess(comment=comment, ticket=ticket)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="A note only staff can see.")
    async def add_internal_note(
        self, info: Info, input: AddInternalNoteInput
    ) -> TicketCommentResult:
        async def run() -> TicketCommentSuccess:
            ticket_id = decode_pk(input.id, "Ticket")
            comment = await conversation.add_internal_note(
                ticket_id,
                body=input.body,
                author_id=_author(info.context, input.author_id),
                actor=info.context.actor,
            )
            ticket = await lifecycle.get_ticket(ticket_id)
            return TicketCommentSuccess(comment=comment, ticket=ticket)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(
        description="An inbound message from the customer: reopens a ticket solved within 7 days,"
        " or opens a linked follow-up for a closed one."
    )
    async def add_customer_message(
        self, info: Info, input: AddCustomerMessageInput
    ) -> CustomerMessageResult:
        async def run() -> CustomerMessageSuccess:
            landed = await conversation.add_customer_message(
                decode_pk(input.id, "Ticket"), body=input.body, actor=info.context.actor
            )
            return CustomerMessageSuccess(
                comment=landed.comment,  # type: ignore[arg-type]
                ticket=landed.ticket,  # type: ignore[arg-type]
                reopened=landed.reopened,
                follow_up=landed.follow_up,
            )

        return await attempt(info.context, run)

    @strawberry.mutation(description="Move a ticket to another status (CLOSED is final).")
    async def change_ticket_status(
        self, info: Info, input: ChangeTicketStatusInput
    ) -> TicketResult:
        async def run() -> TicketSuccess:
            row = await lifecycle.change_ticket_status(
                decode_pk(input.id, "Ticket"), status=input.status.value, actor=info.context.actor
            )
            return TicketSuccess(ticket=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation
    async def change_ticket_priority(
        self, info: Info, input: ChangeTicketPriorityInput
    ) -> TicketResult:
        async def run() -> TicketSuccess:
            row = await lifecycle.change_ticket_priority(
                decode_pk(input.id, "Ticket"),
                priority=input.priority.value,
                actor=info.context.actor,
            )
            return TicketSuccess(ticket=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Set the assignee and/or the team of a ticket.")
    async def assign_ticket(self, info: Info, input: AssignTicketInput) -> TicketResult:
        async def run() -> TicketSuccess:
            row = await lifecycle.assign_ticket(
                decode_pk(input.id, "Ticket"),
                assignee_id=_kept(input.assignee_id, "User", "assigneeId"),
                team_id=_kept(input.team_id, "Team", "teamId"),
                actor=info.context.actor,
            )
            return TicketSuccess(ticket=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Replace a ticket's tags (SLA policies may select on them).")
    async def set_ticket_tags(self, info: Info, input: SetTicketTagsInput) -> TicketResult:
        async def run() -> TicketSuccess:
            row = await lifecycle.set_ticket_tags(
                decode_pk(input.id, "Ticket"), input.tags, actor=info.context.actor
            )
            return TicketSuccess(ticket=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

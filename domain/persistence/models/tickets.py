from __future__ import annotations

from tortoise import fields

from domain.persistence.models.base import Record
from domain.persistence.models.customers import Customer
from domain.persistence.models.staff import Team, User


# An inquiry or complaint from a customer, worked by an assignee and/or a team.
#
# ``follow_up_of`` links a ticket opened by a customer message to a ticket that was CLOSED or
# SOLVED too long ago to reopen (see domain.tickets.conversation). ``tags`` uses the customers'
# ``|a|b|`` encoding so SLA policy conditions and filters can test them with a plain LIKE.
class Ticket(Record):
    subject = fields.CharField(max_length=500)
    subject_fold = fields.CharField(max_length=500)
    status = fields.CharField(max_length=8, default="NEW", db_index=True)
    priority = fields.CharField(max_length=8, default="NORMAL", db_index=True)
    channel = fields.CharField(max_length=8, default="EMAIL")
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="tickets", on_delete=fields.CASCADE
    )
    customer_id: int
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL
    )
    assignee_id: int | None
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    team_id: int | None
    follow_up_of: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="follow_ups", null=True, on_delete=fields.SET_NULL
    )
    follow_up_of_id: int | None
    escalation_level = fields.IntField(default=0)
    tags = fields.CharField(max_length=2000, default="")
    solved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    # The earliest due instant of the ticket's running SLA clocks (kept by domain.sla.tracking),
    # so the agent queue sorts by time left in SQL; null when no clock runs.
    sla_due_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "tickets"
        indexes = (("customer_id", "created_at"), ("assignee_id", "status"))


# One message on a ticket. ``public`` comments are seen by the customer: from a user they are
# replies, from the customer they are the customer's messages; internal notes are never public.
class TicketComment(Record):
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="comments", on_delete=fields.CASCADE
    )
    ticket_id: int
    author_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="ticket_comments", null=True, on_delete=fields.SET_NULL
    )
    author_user_id: int | None
    author_customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="ticket_comments", null=True, on_delete=fields.SET_NULL
    )
    author_customer_id: int | None
    public = fields.BooleanField(default=True)
    body = fields.TextField()

    class Meta:
        table = "ticket_comments"
        indexes = (("ticket_id", "created_at"),)

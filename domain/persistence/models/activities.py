from __future__ import annotations

from tortoise import fields

from domain.persistence.models.base import Record
from domain.persistence.models.customers import Customer
from domain.persistence.models.sales import Opportunity
from domain.persistence.models.staff import User


class Interaction(Record):
    kind = fields.CharField(max_length=10)  # EMAIL CALL MEETING NOTE CHAT SMS VISIT FORM WEB
    direction = fields.CharField(max_length=8, default="OUTBOUND")
    subject = fields.CharField(max_length=500, null=True)
    subject_fold = fields.CharField(max_length=500, null=True)
    body = fields.TextField(null=True)
    occurred_at = fields.DatetimeField()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="interactions", on_delete=fields.CASCADE
    )
    customer_id: int
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="interactions", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    opportunity: fields.ForeignKeyNullableRelation[Opportunity] = fields.ForeignKeyField(
        "models.Opportunity", related_name="interactions", null=True, on_delete=fields.SET_NULL
    )
    opportunity_id: int | None
    ticket_id = fields.IntField(null=True)  # tickets arrive in a later issue

    class Meta:
        table = "interactions"
        indexes = (("customer_id", "occurred_at"),)


class Task(Record):
    title = fields.CharField(max_length=300)
    title_fold = fields.CharField(max_length=300)
    notes = fields.TextField(null=True)
    due_at = fields.DatetimeField(null=True, db_index=True)
    status = fields.CharField(max_length=10, default="OPEN", db_index=True)
    completed_at = fields.DatetimeField(null=True)
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tasks", null=True, on_delete=fields.SET_NULL
    )
    assignee_id: int | None
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    opportunity: fields.ForeignKeyNullableRelation[Opportunity] = fields.ForeignKeyField(
        "models.Opportunity", related_name="tasks", null=True, on_delete=fields.SET_NULL
    )
    opportunity_id: int | None
    ticket_id = fields.IntField(null=True)

    class Meta:
        table = "tasks"

from __future__ import annotations

from tortoise import fields

from domain.persistence.models.base import Record
from domain.persistence.models.customers import Customer
from domain.persistence.models.staff import User


class Pipeline(Record):
    name = fields.CharField(max_length=200)
    name_fold = fields.CharField(max_length=200)
    is_default = fields.BooleanField(default=False)
    currency = fields.CharField(max_length=3, default="VND")

    class Meta:
        table = "pipelines"


class Stage(Record):
    pipeline: fields.ForeignKeyRelation[Pipeline] = fields.ForeignKeyField(
        "models.Pipeline", related_name="stages", on_delete=fields.CASCADE
    )
    pipeline_id: int
    name = fields.CharField(max_length=200)
    name_fold = fields.CharField(max_length=200)
    position = fields.IntField()
    probability = fields.IntField()  # percent, 0..100

    class Meta:
        table = "stages"


class Opportunity(Record):
    name = fields.CharField(max_length=300)
    name_fold = fields.CharField(max_length=300, db_index=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="opportunities", on_delete=fields.CASCADE
    )
    customer_id: int
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="opportunities", null=True, on_delete=fields.SET_NULL
    )
    owner_id: int | None
    pipeline: fields.ForeignKeyRelation[Pipeline] = fields.ForeignKeyField(
        "models.Pipeline", related_name="opportunities", on_delete=fields.RESTRICT
    )
    pipeline_id: int
    stage: fields.ForeignKeyRelation[Stage] = fields.ForeignKeyField(
        "models.Stage", related_name="opportunities", on_delete=fields.RESTRICT
    )
    stage_id: int
    amount = fields.DecimalField(max_digits=18, decimal_places=2, default=0)
    currency = fields.CharField(max_length=3, default="VND")
    expected_close_on = fields.DateField(null=True)
    status = fields.CharField(max_length=8, default="OPEN", db_index=True)  # OPEN | WON | LOST
    lost_reason = fields.TextField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "opportunities"
        indexes = (("customer_id", "status"),)


# One entry of an opportunity's stage history (the first has no ``from_stage``).
class StageChange(Record):
    opportunity: fields.ForeignKeyRelation[Opportunity] = fields.ForeignKeyField(
        "models.Opportunity", related_name="stage_changes", on_delete=fields.CASCADE
    )
    opportunity_id: int
    customer_id = fields.IntField(db_index=True)  # denormalized for the customer's timeline
    from_stage: fields.ForeignKeyNullableRelation[Stage] = fields.ForeignKeyField(
        "models.Stage", related_name="changes_from", null=True, on_delete=fields.SET_NULL
    )
    from_stage_id: int | None
    to_stage: fields.ForeignKeyRelation[Stage] = fields.ForeignKeyField(
        "models.Stage", related_name="changes_to", on_delete=fields.RESTRICT
    )
    to_stage_id: int
    status = fields.CharField(max_length=8, default="OPEN")
    changed_at = fields.DatetimeField()

    class Meta:
        table = "stage_changes"

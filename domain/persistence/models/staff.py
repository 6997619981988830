from __future__ import annotations

from tortoise import fields

from domain.persistence.models.base import Record


class Team(Record):
    name = fields.CharField(max_length=200)
    name_fold = fields.CharField(max_length=200, db_index=True)
    lead: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="led_teams", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    calendar_key = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "teams"


# A staff member. ``team`` is the primary team; ``teams`` lists every membership.
class User(Record):
    name = fields.CharField(max_length=200)
    name_fold = fields.CharField(max_length=200, db_index=True)
    email = fields.CharField(max_length=254, unique=True)
    role = fields.CharField(max_length=20, default="SALES")
    active = fields.BooleanField(default=True)
    password_hash = fields.CharField(max_length=200, null=True)  # argon2id; None: cannot log in
    timezone = fields.CharField(max_length=64, default="Asia/Ho_Chi_Minh")
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="primary_members", null=True, on_delete=fields.SET_NULL
    )
    team_id: int | None
    teams: fields.ManyToManyRelation[Team] = fields.ManyToManyField(
        "models.Team", related_name="members", through="team_memberships"
    )
    manager: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reports", null=True, on_delete=fields.SET_NULL
    )
    manager_id: int | None

    class Meta:
        table = "users"

"""Staff: users and teams."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.persistence import models as m
from gql.context import Context
from gql.dataloaders import memberships
from gql.enums import Role
from gql.fields import to_one
from gql.types.node import Record


@strawberry.type(description="A staff member.")
class User(Record):
    name: str
    email: str
    role: Role
    active: bool
    timezone: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.User)

    team: Team | None = to_one("Team", "team_id", description="The user's primary team.")

    @strawberry.field(description="Every team the user belongs to.")
    async def teams(
        self, root: strawberry.Parent[m.User], info: strawberry.Info[Context, None]
    ) -> list[Team]:
        return await memberships(info.context, of="user").load(root.id)

    manager: User | None = to_one("User", "manager_id")


@strawberry.type(description="A team of staff, with a lead.")
class Team(Record):
    name: str
    calendar_key: str | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Team)

    @strawberry.field(description="The team's members, by name.")
    async def members(
        self, root: strawberry.Parent[m.Team], info: strawberry.Info[Context, None]
    ) -> list[User]:
        return await memberships(info.context, of="team").load(root.id)

    lead: User | None = to_one("User", "lead_id")

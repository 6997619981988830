"""Who is asking (``me``) and the API keys integrations use."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from domain.persistence import models as m
from gql.context import Context
from gql.dataloaders import load
from gql.enums import Role
from gql.types.node import Actor, Node, actor_of
from gql.types.staff import User

Info = strawberry.Info[Context, None]


@strawberry.type(
    description="The principal of this request: a user, an API key, or a trusted actor."
)
class Viewer:
    kind: str = strawberry.field(description="user, apikey or system")
    role: Role | None = strawberry.field(description="The user's role (none for API keys).")
    scopes: list[str] = strawberry.field(description="An API key's scopes (`read:Customer`, ...).")
    user_id: strawberry.Private[int | None]

    @strawberry.field
    async def user(self, info: Info) -> User | None:
        return await load(info.context, "User", self.user_id)


@strawberry.type(description="A key for an integration; its secret was shown once, at creation.")
class ApiKey(Node):
    name: str
    prefix: str = strawberry.field(description="The key's public part: rk_<prefix>_...")
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None = strawberry.field(description="Recorded to the minute.")
    created_at: dt.datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.ApiKey)

    @strawberry.field
    def scopes(self, root: strawberry.Parent[m.ApiKey]) -> list[str]:
        return list(root.scopes)

    @strawberry.field
    def created_by(self, root: strawberry.Parent[m.ApiKey]) -> Actor:
        return actor_of(root.created_by)

"""The Relay ``Node`` interface and the ``Actor`` who created or changed a record."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from gql.context import Context
from gql.dataloaders import load
from gql.fields import fast
from gql.ids import encode_id

if TYPE_CHECKING:
    from gql.types.staff import User


def _fast_id(root: Any, info: Any) -> str:
    return encode_id(info.parent_type.name, root.id)


@strawberry.interface(description="An object with a global, opaque id.")
class Node:
    @strawberry.field
    @fast(_fast_id)
    def id(
        self, root: strawberry.Parent[Any], info: strawberry.Info[Context, None]
    ) -> strawberry.ID:
        return strawberry.ID(encode_id(info._raw_info.parent_type.name, root.id))


@strawberry.type(description="Who did something: a user, an API key, an import or a workflow run.")
class Actor:
    kind: str
    ref: str | None

    @strawberry.field
    async def user(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("gql.types.staff")] | None:
        if self.kind != "user" or not self.ref or not self.ref.isdigit():
            return None
        return await load(info.context, "User", int(self.ref))


def actor_of(value: str) -> Actor:
    kind, _, ref = value.partition(":")
    return Actor(kind=kind, ref=ref or None)


@strawberry.interface(description="Timestamps, soft delete and actors every record carries.")
class Record(Node):
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @strawberry.field
    def created_by(self, root: strawberry.Parent[Any]) -> Actor:
        return actor_of(root.created_by)

    @strawberry.field
    def updated_by(self, root: strawberry.Parent[Any]) -> Actor:
        return actor_of(root.updated_by)

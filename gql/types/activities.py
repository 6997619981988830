"""Interactions (touch points on any channel) and tasks."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain.persistence import models as m
from gql.context import Context
from gql.dataloaders import load
from gql.enums import Direction, InteractionKind, TaskStatus
from gql.types.node import Record
from gql.types.sales import Opportunity
from gql.types.staff import User

if TYPE_CHECKING:
    from gql.types.customers import Customer

CustomerRef = Annotated["Customer", strawberry.lazy("gql.types.customers")]


@strawberry.type(description="One touch point with a customer on any channel.")
class Interaction(Record):
    kind: InteractionKind
    direction: Direction
    subject: str | None
    body: str | None
    occurred_at: dt.datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Interaction)

    @strawberry.field
    async def customer(
        self, root: strawberry.Parent[m.Interaction], info: strawberry.Info[Context, None]
    ) -> CustomerRef | None:
        return await load(info.context, "Customer", root.customer_id)

    @strawberry.field
    async def user(
        self, root: strawberry.Parent[m.Interaction], info: strawberry.Info[Context, None]
    ) -> User | None:
        return await load(info.context, "User", root.user_id)

    @strawberry.field
    async def opportunity(
        self, root: strawberry.Parent[m.Interaction], info: strawberry.Info[Context, None]
    ) -> Opportunity | None:
        return await load(info.context, "Opportunity", root.opportunity_id)


@strawberry.type(description="Follow-up work for a user, optionally about a customer or deal.")
class Task(Record):
    title: str
    notes: str | None
    due_at: dt.datetime | None
    status: TaskStatus
    completed_at: dt.datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Task)

    @strawberry.field
    async def assignee(
        self, root: strawberry.Parent[m.Task], info: strawberry.Info[Context, None]
    ) -> User | None:
        return await load(info.context, "User", root.assignee_id)

    @strawberry.field
    async def customer(
        self, root: strawberry.Parent[m.Task], info: strawberry.Info[Context, None]
    ) -> CustomerRef | None:
        return await load(info.context, "Customer", root.customer_id)

    @strawberry.field
    async def opportunity(
        self, root: strawberry.Parent[m.Task], info: strawberry.Info[Context, None]
    ) -> Opportunity | None:
        return await load(info.context, "Opportunity", root.opportunity_id)

"""Interactions (touch points on any channel) and tasks."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain.persistence import models as m
from gql.enums import Direction, InteractionKind, TaskStatus
from gql.fields import to_one
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

    customer: CustomerRef | None = to_one("Customer", "customer_id")

    user: User | None = to_one("User", "user_id")

    opportunity: Opportunity | None = to_one("Opportunity", "opportunity_id")


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

    assignee: User | None = to_one("User", "assignee_id")

    customer: CustomerRef | None = to_one("Customer", "customer_id")

    opportunity: Opportunity | None = to_one("Opportunity", "opportunity_id")

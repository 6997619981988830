"""``orderBy`` inputs. Each enum value is the entity field it sorts by; the primary key is
always appended as the last key, so keyset cursors are total."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from domain.persistence.querying.spec import SortKey
from gql.enums import NullsOrder, SortDirection


@strawberry.enum
class CustomerOrderField(Enum):
    ID = "id"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    DISPLAY_NAME = "displayName"
    LIFECYCLE_STAGE = "lifecycleStage"
    COUNTRY = "country"
    EMAIL = "email"
    INDUSTRY = "industry"
    SIZE = "size"


@strawberry.enum
class OpportunityOrderField(Enum):
    ID = "id"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    NAME = "name"
    AMOUNT = "amount"
    EXPECTED_CLOSE_ON = "expectedCloseOn"
    CLOSED_AT = "closedAt"


@strawberry.enum
class InteractionOrderField(Enum):
    ID = "id"
    OCCURRED_AT = "occurredAt"
    CREATED_AT = "createdAt"


@strawberry.enum
class TaskOrderField(Enum):
    ID = "id"
    DUE_AT = "dueAt"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    TITLE = "title"


@strawberry.enum
class TicketOrderField(Enum):
    ID = "id"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    SUBJECT = "subject"
    STATUS = "status"
    ESCALATION_LEVEL = "escalationLevel"
    SOLVED_AT = "solvedAt"
    # The agent queue: the next SLA deadline first (overdue ones before); no running clock last.
    SLA_DUE_AT = "slaDueAt"


@strawberry.enum
class TicketCommentOrderField(Enum):
    ID = "id"
    CREATED_AT = "createdAt"


@strawberry.enum
class UserOrderField(Enum):
    ID = "id"
    NAME = "name"
    EMAIL = "email"
    CREATED_AT = "createdAt"


@strawberry.enum
class TeamOrderField(Enum):
    ID = "id"
    NAME = "name"


@strawberry.enum
class RelationshipOrderField(Enum):
    ID = "id"
    STARTS_ON = "startsOn"
    CREATED_AT = "createdAt"


def _order_input(name: str, field_enum: type[Enum], default: Enum) -> type:
    cls = type(
        name,
        (),
        {
            "__annotations__": {
                "field": field_enum,
                "direction": SortDirection,
                "nulls": NullsOrder | None,
            },
            "field": default,
            "direction": SortDirection.ASC,
            "nulls": None,
        },
    )
    return strawberry.input(cls)


CustomerOrder = _order_input("CustomerOrder", CustomerOrderField, CustomerOrderField.ID)
OpportunityOrder = _order_input("OpportunityOrder", OpportunityOrderField, OpportunityOrderField.ID)
InteractionOrder = _order_input(
    "InteractionOrder", InteractionOrderField, InteractionOrderField.OCCURRED_AT
)
TaskOrder = _order_input("TaskOrder", TaskOrderField, TaskOrderField.ID)
TicketOrder = _order_input("TicketOrder", TicketOrderField, TicketOrderField.ID)
TicketCommentOrder = _order_input(
    "TicketCommentOrder", TicketCommentOrderField, TicketCommentOrderField.CREATED_AT
)
UserOrder = _order_input("UserOrder", UserOrderField, UserOrderField.ID)
TeamOrder = _order_input("TeamOrder", TeamOrderField, TeamOrderField.ID)
RelationshipOrder = _order_input(
    "RelationshipOrder", RelationshipOrderField, RelationshipOrderField.ID
)


def to_sort_keys(order_by: list[Any] | None, default: tuple[SortKey, ...]) -> tuple[SortKey, ...]:
    """Sort keys from ``orderBy`` items (Strawberry inputs, or graphql-core dicts)."""
    if not order_by:
        return default
    keys = []
    for item in order_by:
        if isinstance(item, dict):
            field, direction, nulls = item["field"], item.get("direction"), item.get("nulls")
        else:
            field, direction, nulls = item.field, item.direction, item.nulls
        keys.append(
            SortKey(
                field=field.value,
                descending=direction is SortDirection.DESC,
                nulls_first=None if nulls is None else nulls is NullsOrder.FIRST,
            )
        )
    return tuple(keys)

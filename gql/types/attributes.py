"""Definitions of the workspace's typed custom attributes."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from domain.persistence import models as m
from gql.types.node import Record


@strawberry.enum
class AttributeType(Enum):
    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    CHOICE = "CHOICE"


@strawberry.enum
class AttributeEntity(Enum):
    CUSTOMER = "CUSTOMER"
    PERSON = "PERSON"
    ORGANIZATION = "ORGANIZATION"


@strawberry.type(description="A custom field: values in `attributes` are checked against it.")
class AttributeDefinition(Record):
    entity: AttributeEntity
    key: str
    label: str
    type: AttributeType
    choices: list[str]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.AttributeDefinition)

"""Typed custom attributes: workspace-defined keys validated against their definition."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from tortoise.transactions import in_transaction

from domain.errors import Conflict, ValidationFailed
from domain.persistence.models import AttributeDefinition
from domain.recording import record
from domain.text import fold_required

ATTRIBUTE_TYPES = ("STRING", "NUMBER", "BOOLEAN", "DATE", "CHOICE")
ATTRIBUTE_ENTITIES = ("CUSTOMER", "PERSON", "ORGANIZATION")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


async def create_attribute_definition(
    *,
    entity: str,
    key: str,
    label: str,
    type: str,
    choices: list[str] | None = None,
    actor: str,
) -> AttributeDefinition:
    """Define a custom attribute for customers, people or organizations."""
    if entity not in ATTRIBUTE_ENTITIES:
        raise ValidationFailed("entity", f"unknown entity {entity!r}", "INVALID_KIND")
    if not _KEY.match(key):
        raise ValidationFailed("key", "keys are lower_snake_case", "INVALID_KEY")
    if not label.strip():
        raise ValidationFailed("label", "a label is required", "REQUIRED")
    if type not in ATTRIBUTE_TYPES:
        raise ValidationFailed("type", f"unknown attribute type {type!r}", "INVALID_KIND")
    choice_list = [c.strip() for c in choices or [] if c.strip()]
    if type == "CHOICE" and not choice_list:
        raise ValidationFailed("choices", "a CHOICE attribute needs choices", "REQUIRED")
    if await AttributeDefinition.filter(entity=entity, key=key).exists():
        raise Conflict(f"attribute {key!r} already exists", field="key")
    async with in_transaction():
        definition = await AttributeDefinition.create(
            entity=entity,
            key=key,
            label=label.strip(),
            type=type,
            choices=choice_list,
            created_by=actor,
            updated_by=actor,
        )
        await record(
            actor,
            "attribute_definition.create",
            "AttributeDefinition",
            definition.id,
            {"key": [None, key], "type": [None, type]},
        )
    return definition


async def load_definitions(kind: str) -> dict[str, AttributeDefinition]:
    """The definitions that apply to a customer of ``kind`` (its own plus CUSTOMER-wide)."""
    rows = await AttributeDefinition.filter(entity__in=["CUSTOMER", kind], deleted_at=None)
    return definitions_by_key(rows)


def definitions_by_key(rows: Iterable[AttributeDefinition]) -> dict[str, AttributeDefinition]:
    return {row.key: row for row in rows}


def _coerce(definition: AttributeDefinition, value: Any, field: str) -> Any:
    kind = definition.type
    if kind == "STRING" and isinstance(value, str):
        return value
    if kind == "NUMBER" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind == "NUMBER" and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    if kind == "BOOLEAN" and isinstance(value, bool):
        return value
    if kind == "BOOLEAN" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "DATE":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
    if kind == "CHOICE" and isinstance(value, str):
        by_fold = {fold_required(choice): choice for choice in definition.choices}
        if value in definition.choices:
            return value
        if fold_required(value) in by_fold:
            return by_fold[fold_required(value)]
        raise ValidationFailed(
            field, f"{value!r} is not one of {definition.choices}", "INVALID_CHOICE"
        )
    raise ValidationFailed(field, f"expected a {kind} value", "INVALID_TYPE")


def validate_attributes(
    values: Mapping[str, Any], definitions: Mapping[str, AttributeDefinition]
) -> dict[str, Any]:
    """Check and coerce ``values`` (DATE to ISO text, CHOICE to its canonical spelling).

    ``None`` is kept: it means "remove this key" to :func:`merge_attributes`.
    """
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        field = f"attributes.{key}"
        definition = definitions.get(key)
        if definition is None:
            raise ValidationFailed(field, f"no attribute {key!r} is defined", "UNKNOWN_ATTRIBUTE")
        cleaned[key] = None if value is None else _coerce(definition, value, field)
    return cleaned


def merge_attributes(stored: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(stored)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged

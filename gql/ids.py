"""Opaque global ids: base64 of ``Type:pk``, checked against the types a field accepts."""

from __future__ import annotations

import base64
import binascii

from domain.errors import ValidationFailed

#: GraphQL type name -> the entity it is stored as (Person/Organization share the customer table).
STORAGE_OF = {"Person": "Customer", "Organization": "Customer"}


def encode_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def decode_id(
    value: str, *, expected: set[str] | None = None, field: str = "id"
) -> tuple[str, int]:
    """Return ``(type_name, pk)``; a malformed id or one of another type is a ValidationFailed."""
    try:
        type_name, _, raw_pk = base64.b64decode(value, validate=True).decode().partition(":")
        pk = int(raw_pk)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(field, f"malformed id {value!r}", "INVALID_ID") from exc
    if not type_name or pk <= 0:
        raise ValidationFailed(field, f"malformed id {value!r}", "INVALID_ID")
    if expected is not None and type_name not in expected:
        wanted = " or ".join(sorted(expected))
        raise ValidationFailed(
            field, f"id {value!r} is a {type_name}, expected {wanted}", "WRONG_ID_TYPE"
        )
    return type_name, pk


def decode_pk(value: str, *expected: str, field: str = "id") -> int:
    return decode_id(value, expected=set(expected), field=field)[1]

"""Column limits checked before writing, so oversize input is a validation error on every
database (SQLite does not enforce VARCHAR lengths; PostgreSQL rejects them mid-transaction)."""

from __future__ import annotations

from tortoise import fields
from tortoise.exceptions import ValidationError as StorageValidationError
from tortoise.models import Model

from domain.errors import ValidationFailed


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def check_lengths(instance: Model) -> None:
    """Raise ValidationFailed for the first text value longer than its column."""
    for name, field in instance._meta.fields_map.items():
        if isinstance(field, fields.CharField):
            value = getattr(instance, name, None)
            if isinstance(value, str) and len(value) > field.max_length:
                raise ValidationFailed(
                    camel(name.removesuffix("_fold")),
                    f"at most {field.max_length} characters",
                    "TOO_LONG",
                )


def storage_validation_failed(exc: StorageValidationError) -> ValidationFailed:
    """Tortoise's own field validation (run on save) as our typed error, naming the field."""
    field, _, message = str(exc).partition(": ")
    code = "TOO_LONG" if message.startswith("Length of") else "INVALID"
    return ValidationFailed(camel(field.removesuffix("_fold")), message or str(exc), code)

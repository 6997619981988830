"""Typed mutation errors, and running a use case so that every failure becomes one of them.

A mutation's result is a union of its success type and these errors: clients branch on
``__typename`` and never parse messages. The use case runs in one transaction, so an error
leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any, TypeVar

import strawberry
from tortoise.exceptions import ValidationError as StorageValidationError

from domain.customers.commands import UNSET as DOMAIN_UNSET
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.persistence.constraints import storage_validation_failed
from gql.context import Context

T = TypeVar("T")


@strawberry.interface(description="Something a client can correct or report.")
class MutationError:
    message: str
    code: str


@strawberry.type(description="The input broke a rule; `field` names the offending input field.")
class ValidationError(MutationError):
    field: str | None


@strawberry.type(description="A referenced record does not exist (or is not visible to you).")
class NotFoundError(MutationError):
    id: strawberry.ID | None


@strawberry.type(description="The change clashes with existing data (e.g. a duplicate domain).")
class ConflictError(MutationError):
    field: str | None
    existing_id: strawberry.ID | None = strawberry.field(
        description="The record already holding the value, when there is one."
    )


@strawberry.type
class PermissionDeniedError(MutationError):
    pass


ERROR_TYPES = (ValidationError, NotFoundError, ConflictError, PermissionDeniedError)
MutationFailure = ValidationError | NotFoundError | ConflictError | PermissionDeniedError


async def attempt(
    context: Context,
    use_case: Callable[[], Awaitable[T]],
    *,
    existing_type: str | None = None,
) -> T | MutationFailure:
    """Run ``use_case``; translate domain errors into typed results.

    Loaders are cleared afterwards: what the request reads next must see the change.
    """
    from gql.ids import encode_id

    try:
        try:
            return await use_case()
        except StorageValidationError as exc:
            raise storage_validation_failed(exc) from exc
    except ValidationFailed as exc:
        return ValidationError(message=exc.message, code=exc.code, field=exc.field)
    except NotFound as exc:
        return NotFoundError(message=exc.message, code=exc.code, id=None)
    except Conflict as exc:
        existing = (
            strawberry.ID(encode_id(existing_type, exc.existing_id))
            if existing_type and exc.existing_id
            else None
        )
        return ConflictError(
            message=exc.message, code=exc.code, field=exc.field, existing_id=existing
        )
    except PermissionDenied as exc:
        return PermissionDeniedError(message=exc.message, code=exc.code)
    finally:
        context.loaders.clear()


def plain(value: Any) -> Any:
    """An input value with strawberry's UNSET mapped to the domain's and enums to their values."""
    if value is strawberry.UNSET:
        return DOMAIN_UNSET
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def given_fields(obj: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of an input object that the client actually sent."""
    assert is_dataclass(obj)
    return {
        f.name: plain(getattr(obj, f.name))
        for f in fields(obj)
        if f.name not in skip and getattr(obj, f.name) is not strawberry.UNSET
    }

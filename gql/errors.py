"""What clients see of errors: our typed domain errors with a code, never internals.

Domain errors raised while resolving a query field become GraphQL errors whose
``extensions`` carry ``code`` (and ``field``); anything unexpected is replaced by an opaque
"Internal error" carrying the request id, and logged with its stack trace under that id.
Parse and validation errors (no original error) pass through unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from domain.errors import DomainError

log = logging.getLogger("rapport.errors")


def _request_id(execution_context: ExecutionContext) -> str | None:
    context = execution_context.context
    return getattr(context, "request_id", None)


def public_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if original is None or isinstance(error.original_error, GraphQLError):
        return error
    if isinstance(original, DomainError):
        extensions: dict[str, Any] = {"code": original.code}
        if getattr(original, "field", None):
            extensions["field"] = original.field  # type: ignore[attr-defined]
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    return GraphQLError(
        f"Internal error (request {request_id})",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL", "requestId": request_id},
    )


class PublicErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            request_id = _request_id(self.execution_context)
            result.errors = [public_error(e, request_id) for e in errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Subscription events are sent one by one, before the operation ends: mask each.
        errors = getattr(result, "errors", None)
        if errors:
            request_id = _request_id(self.execution_context)
            result.errors = [public_error(e, request_id) for e in errors]
        yield


def log_unexpected(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Log what is not a client's fault; typed domain errors are answers, not incidents."""
    request_id = _request_id(execution_context) if execution_context else None
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, DomainError | GraphQLError):
            continue
        log.error("unexpected error in request %s", request_id, exc_info=original)

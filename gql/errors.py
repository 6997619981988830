"""What clients see of errors: our typed errors and GraphQL's own request errors, never internals.

Every error leaving the API carries ``extensions.code``:

- domain errors raised while resolving a field: their code (and ``field``) and message;
- parse errors (``GRAPHQL_PARSE_FAILED``, or ``TOO_MANY_TOKENS`` when the parser gave up at
  the token limit), validation errors (``GRAPHQL_VALIDATION_FAILED``; query limits bring their
  own codes) and bad variables (``BAD_USER_INPUT``): graphql-core's message, cut to
  ``MAX_MESSAGE_LENGTH`` (a parse error quotes the offending token, which may be huge) and, when
  field suggestions are off, without "Did you mean ...?" (it reveals the schema);
- anything else, including an exception raised outside any field: an opaque ``INTERNAL``
  "Internal error (request <id>)", logged with its stack trace under that request id.

``public_error`` is idempotent: the schema extension applies it to every result, and the HTTP
view applies it again to results that bypassed extensions (an exception in an extension).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql.error import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from domain.errors import DomainError

log = logging.getLogger("rapport.errors")

MAX_MESSAGE_LENGTH = 300
_TOKEN_LIMIT = re.compile(r"Document contains more than (\d+) tokens")
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def _request_id(execution_context: ExecutionContext) -> str | None:
    context = execution_context.context
    return getattr(context, "request_id", None)


def is_internal(error: GraphQLError) -> bool:
    """True for errors that are the server's fault: masked for clients, logged for us."""
    if error.extensions and "code" in error.extensions:
        return False
    original = error.original_error
    if original is None:
        # graphql-core's own errors: before execution the request's fault (invalid document or
        # variables); during execution (a path) ours, e.g. null for a non-null field.
        return error.path is not None
    if isinstance(original, DomainError | GraphQLError):
        return False
    return not _is_variable_error(error)


def _is_variable_error(error: GraphQLError) -> bool:
    # graphql-core wraps a scalar's parse error of a variable (e.g. "not a date") with its cause.
    return error.path is None and error.message.startswith("Variable '$")


def _clipped(message: str) -> str:
    if len(message) <= MAX_MESSAGE_LENGTH:
        return message
    return message[: MAX_MESSAGE_LENGTH - 1] + "…"


def _request_error(error: GraphQLError, *, suggestions: bool) -> GraphQLError:
    message = error.message if suggestions else _SUGGESTION.sub("", error.message)
    extensions: dict[str, Any]
    if isinstance(error, GraphQLSyntaxError):
        too_long = _TOKEN_LIMIT.search(message)
        if too_long:
            limit = int(too_long.group(1))
            message = f"The document has more than {limit} tokens"
            extensions = {"code": "TOO_MANY_TOKENS", "limit": limit}
        else:
            extensions = {"code": "GRAPHQL_PARSE_FAILED"}
    elif _is_variable_error(error):
        extensions = {"code": "BAD_USER_INPUT"}
    else:
        extensions = {"code": "GRAPHQL_VALIDATION_FAILED"}
    return GraphQLError(
        _clipped(message),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def public_error(
    error: GraphQLError, request_id: str | None, *, suggestions: bool = True
) -> GraphQLError:
    """What the client may see of ``error`` (see the module docstring)."""
    original = error.original_error
    if error.extensions and "code" in error.extensions:
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
    if isinstance(original, GraphQLError) and not _is_variable_error(error):
        return error  # raised on purpose, already public
    if not is_internal(error):
        return _request_error(error, suggestions=suggestions)
    return GraphQLError(
        f"Internal error (request {request_id})",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL", "requestId": request_id},
    )


def public_errors(
    errors: list[GraphQLError], request_id: str | None, *, suggestions: bool
) -> list[GraphQLError]:
    return [public_error(error, request_id, suggestions=suggestions) for error in errors]


class PublicErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            suggestions = not self.execution_context.schema.config.disable_field_suggestions
            result.errors = public_errors(
                errors, _request_id(self.execution_context), suggestions=suggestions
            )

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
        if not is_internal(error):
            continue
        log.error(
            "unexpected error in request %s: %s",
            request_id,
            error.message,
            exc_info=error.original_error,
        )

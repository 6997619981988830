"""CEL conditions and computed values (the ``common-expression-language`` package).

An expression is compiled once and cached. Workflows see four variables: ``subject`` (the record
as a map, relations one level deep), ``event`` (the triggering or awaited event), ``run`` (``id``,
``startedAt``, ``vars``) and ``now``; SLA policies see ``ticket``. Timestamps are passed as aware
`datetime` values and come back the same way.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel

__all__ = [
    "POLICY_VARIABLES",
    "WORKFLOW_VARIABLES",
    "CompileError",
    "ExpressionError",
    "check",
    "compile_expression",
    "evaluate",
]

WORKFLOW_VARIABLES = frozenset({"subject", "event", "run", "now"})
POLICY_VARIABLES = frozenset({"ticket", "now"})

# Names bound by comprehension macros, e.g. the `t` of `tags.exists(t, t == "vip")`.
_BOUND = re.compile(r"\b(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*?)(?:\n|$)")


class ExpressionError(Exception):
    """An expression that failed to compile or to evaluate."""


@dataclass(frozen=True)
class CompileError:
    """Why an expression does not compile, with its 1-based line and column inside the text."""

    message: str
    line: int | None = None
    col: int | None = None


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> cel.Program:
    """Compile `source` once; raises `ExpressionError` with the parser's message."""
    try:
        return cel.compile(source)
    except ValueError as error:
        raise ExpressionError(_parse_message(str(error))[0]) from error


def check(source: object, variables: Collection[str] = WORKFLOW_VARIABLES) -> CompileError | None:
    """None if `source` compiles and names only known variables, else why not (and where)."""
    if not isinstance(source, str) or not source.strip():
        return CompileError("expected a CEL expression")
    try:
        program = compile_expression(source)
    except ExpressionError as error:
        message, line, col = _parse_message(str(error.__cause__ or error))
        return CompileError(f"CEL does not compile: {message}", line, col)
    bound = set(_BOUND.findall(source))
    unknown = sorted(set(program.variables()) - bound - set(variables))
    if unknown:
        known = ", ".join(sorted(variables))
        return CompileError(f"unknown variable {unknown[0]!r} in CEL (known: {known})")
    return None


def evaluate(source: str, variables: Mapping[str, Any]) -> Any:
    """Evaluate `source` with `variables`; any failure is an `ExpressionError`."""
    program = compile_expression(source)
    try:
        return program.execute(dict(variables))
    except Exception as error:
        raise ExpressionError(f"{source!r}: {type(error).__name__}: {error}") from error


def _parse_message(text: str) -> tuple[str, int | None, int | None]:
    match = _POSITION.search(text)
    if match is None:
        return text.strip(), None, None
    return match.group(3).strip(), int(match.group(1)), int(match.group(2))

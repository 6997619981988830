"""Message templates: Jinja2 in a sandbox, with the same variables as CEL (``subject``, ``event``,
``run``, ``now``).

The sandbox refuses access to internals (``__class__``, ``mro``, functions' globals, ...), and
undefined names are errors (`StrictUndefined`), so a typo or a probe for internals fails the
render instead of sending a message with a blank in it. HTML bodies autoescape; subjects and text
bodies do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["TemplateProblem", "TemplateRenderError", "check_template", "compile_template", "render"]

_TEXT = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)


class TemplateRenderError(Exception):
    """A template that failed to compile or render (undefined name, unsafe access, ...)."""


@dataclass(frozen=True)
class TemplateProblem:
    """Why a template does not compile, with its 1-based line inside the template."""

    message: str
    line: int | None = None


@lru_cache(maxsize=1024)
def compile_template(source: str, *, html: bool = False) -> Template:
    """Compile `source` once in the sandbox; raises `TemplateRenderError` on a syntax error."""
    try:
        return (_HTML if html else _TEXT).from_string(source)
    except TemplateError as error:
        raise TemplateRenderError(str(error.message or error)) from error


def check_template(source: object, *, html: bool = False) -> TemplateProblem | None:
    """None if `source` compiles, else the compiler's message and line."""
    if not isinstance(source, str):
        return TemplateProblem("expected template text")
    try:
        compile_template(source, html=html)
    except TemplateRenderError as error:
        cause = error.__cause__
        line = getattr(cause, "lineno", None)
        return TemplateProblem(f"template does not compile: {error}", line)
    return None


def render(source: str, variables: Mapping[str, Any], *, html: bool = False) -> str:
    """Render `source` with `variables`; any failure (including sandbox refusals) raises
    `TemplateRenderError`."""
    template = compile_template(source, html=html)
    try:
        return template.render(dict(variables))
    except TemplateError as error:
        raise TemplateRenderError(f"{type(error).__name__}: {error}") from error

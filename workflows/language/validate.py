"""Validation of workflow and bundle files: syntax, schema and meaning, every problem at once.

`validate_paths` takes any mix of files and folders. References (templates, calendars, segments,
workflows) resolve first among the files given, then among the definitions shipped in
``workflows/definitions/``. Each problem names the file, the 1-based line and column, the YAML
path and what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import checks
from .source import Problem, Source, YamlPath, load_source
from .spec import BUNDLE_SECTIONS, Bundle, MessageTemplate, Segment, SlaPolicy, Workflow

__all__ = [
    "BUNDLED_DIR",
    "Definitions",
    "Document",
    "bundled_documents",
    "expand_paths",
    "validate_paths",
    "validate_texts",
]

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "definitions"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Document:
    """One file: its source (None on a syntax error) and its model (None on schema errors)."""

    file: str
    source: Source | None
    model: Workflow | Bundle | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Definitions:
    """What the files define; resources fall back to the bundled ones, workflows do not."""

    workflows: dict[str, Workflow] = field(default_factory=dict)
    templates: dict[str, MessageTemplate] = field(default_factory=dict)
    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)
    sla_policies: dict[str, SlaPolicy] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)

    def add(self, model: Workflow | Bundle) -> None:
        if isinstance(model, Workflow):
            self.workflows[model.key] = model
            return
        self.templates.update(model.templates)
        self.calendars.update(model.calendars)
        self.sla_policies.update({policy.key: policy for policy in model.sla_policies})
        self.segments.update(model.segments)


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Files named directly, plus the ``*.yaml``/``*.yml`` files under folders, in order."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(raw), 1, 1, (), "no such file or folder"))
    unique = list(dict.fromkeys(files))
    return unique, problems


def validate_paths(paths: Iterable[str | Path]) -> tuple[Definitions, list[Problem]]:
    """Validate files and folders; returns what they define and every problem, sorted."""
    files, problems = expand_paths(paths)
    texts: dict[str, str] = {}
    for path in files:
        try:
            texts[str(path)] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(str(path), 1, 1, (), f"cannot read: {error}"))
    given = {path.resolve() for path in files}
    bundled = [doc for doc in bundled_documents() if Path(doc.file).resolve() not in given]
    definitions, found = _validate(texts, bundled)
    return definitions, sorted(problems + found)


def validate_texts(
    texts: Mapping[str, str], *, with_bundled: bool = True, known_workflows: Iterable[str] = ()
) -> tuple[Definitions, list[Problem]]:
    """Validate in-memory documents (name -> YAML text), e.g. a deploy through the API;
    ``enroll`` may also name the ``known_workflows``."""
    definitions, problems = _validate(
        texts, bundled_documents() if with_bundled else [], known_workflows
    )
    return definitions, sorted(problems)


@lru_cache(maxsize=1)
def _bundled_cache() -> tuple[Document, ...]:
    texts = {
        str(path): path.read_text(encoding="utf-8") for path in sorted(BUNDLED_DIR.glob("*.y*ml"))
    }
    return tuple(load_document(name, text) for name, text in texts.items())


def bundled_documents() -> list[Document]:
    """The definitions shipped with the product (parsed once)."""
    return list(_bundled_cache())


def _validate(
    texts: Mapping[str, str], bundled: list[Document], known_workflows: Iterable[str] = ()
) -> tuple[Definitions, list[Problem]]:
    documents = [load_document(name, text) for name, text in texts.items()]
    problems = [problem for doc in documents for problem in doc.problems]
    problems += checks.check_documents(
        [doc.source for doc in documents if doc.source is not None],
        [doc.source for doc in bundled if doc.source is not None],
        known_workflows,
    )
    definitions = Definitions()
    for doc in [*bundled, *documents]:
        if isinstance(doc.model, Bundle):
            definitions.add(doc.model)
    for doc in documents:
        if isinstance(doc.model, Workflow):
            definitions.add(doc.model)
    return definitions, list(dict.fromkeys(problems))


def load_document(file: str, text: str) -> Document:
    """Parse and schema-check one document (no cross-file checks)."""
    source, problems = load_source(file, text)
    document = Document(file, source, problems=problems)
    if source is None:
        return document
    data = source.data
    if not isinstance(data, dict) or not data:
        document.problems.append(
            source.problem(
                (), "expected a workflow (with key:) or a bundle of " + ", ".join(BUNDLE_SECTIONS)
            )
        )
        return document
    kind: type[Workflow] | type[Bundle] = Workflow
    if "key" not in data and any(section in data for section in BUNDLE_SECTIONS):
        kind = Bundle
    try:
        document.model = kind.model_validate(data)
    except ValidationError as error:
        document.problems += schema_problems(source, error)
    return document


def schema_problems(source: Source, error: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems at the YAML positions their `loc` points to."""
    problems: list[Problem] = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        path = yaml_path(source.data, loc)
        kind = detail["type"]
        context = detail.get("ctx") or {}
        if kind == "missing":
            problems.append(source.problem(path, f"missing required key {loc[-1]!r}"))
        elif kind == "extra_forbidden":
            problems.append(source.problem(path, f"unknown key {loc[-1]!r}", at_key=True))
        elif "[key]" in loc:
            problems.append(source.problem(path, _message(detail), at_key=True))
        elif context.get("template_line"):
            problems.append(_template_problem(source, path, _message(detail), context))
        else:
            offset = None
            if context.get("line") and context.get("col"):
                offset = (int(context["line"]), int(context["col"]))
            problems.append(source.problem(path, _message(detail), offset=offset))
    return problems


def yaml_path(data: Any, loc: tuple[Any, ...]) -> YamlPath:
    """The part of pydantic's `loc` that names nodes of `data` (union tags are skipped)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
            path.append(part)
    return tuple(path)


def _message(detail: Mapping[str, Any]) -> str:
    message = str(detail["msg"])
    value = detail.get("input")
    if detail["type"] in ("literal_error", "enum") and isinstance(value, str | int | float):
        message += f", got {value!r}"
    return message


def _template_problem(
    source: Source, path: YamlPath, message: str, context: Mapping[str, Any]
) -> Problem:
    """Jinja reports a line inside the template; for a block scalar (``|``) that is a line of
    the file below the indicator, otherwise the problem is put at the string."""
    line, col = source.located.value(path)
    lines = source.text.splitlines()
    template_line = int(context["template_line"])
    if line <= len(lines) and lines[line - 1][col - 1 : col] in ("|", ">"):
        target = line + template_line
        if target <= len(lines):
            text = lines[target - 1]
            return Problem(source.file, target, len(text) - len(text.lstrip()) + 1, path, message)
    return Problem(source.file, line, col, path, message)

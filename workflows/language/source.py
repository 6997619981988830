"""YAML sources with a position for every node, and the `Problem` that points into them.

Files are read with ruamel.yaml's round-trip loader, which keeps the line and column of every
key, value and list item. The tree is converted to plain Python data (dicts, lists, str, int,
float, bool, None) for the schema, and the positions are kept aside in a `Located` map keyed by
YAML path, e.g. ``("steps", 2, "wait_for", "timeout")``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

YamlPath = tuple[str | int, ...]
Position = tuple[int, int]

__all__ = [
    "Located",
    "Position",
    "Problem",
    "Source",
    "YamlPath",
    "dotted",
    "load_source",
]


def dotted(path: Iterable[str | int]) -> str:
    """``("steps", 2, "wait_for")`` -> ``steps[2].wait_for``; the empty path is ``(root)``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(root)"


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem: where it is (1-based line and column, YAML path) and what."""

    file: str
    line: int
    col: int
    path: YamlPath = field(compare=False)
    message: str = field(compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {dotted(self.path)}: {self.message}"


@dataclass
class Located:
    """1-based positions of the values (and, for mapping entries, the keys) of a document."""

    values: dict[YamlPath, Position] = field(default_factory=dict)
    keys: dict[YamlPath, Position] = field(default_factory=dict)

    def value(self, path: YamlPath) -> Position:
        """Position of the value at `path`, or of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def key(self, path: YamlPath) -> Position:
        """Position of the key of the mapping entry at `path` (its value's if it has no key)."""
        return self.keys.get(path) or self.value(path)


@dataclass
class Source:
    """A loaded YAML document: its plain data, the positions of its nodes, and its text."""

    file: str
    text: str
    data: Any
    located: Located

    def problem(
        self, path: YamlPath, message: str, *, at_key: bool = False, offset: Position | None = None
    ) -> Problem:
        """A `Problem` at the value (or key) of `path`.

        `offset` is a 1-based (line, column) inside a single-line scalar, e.g. where a CEL parser
        stopped; it is added when the scalar's text in the file is exactly the value, so the
        column points at the character itself.
        """
        line, col = self.located.key(path) if at_key else self.located.value(path)
        if offset is not None and not at_key:
            shifted = self._shift(path, line, col, offset)
            if shifted is not None:
                line, col = shifted
        return Problem(self.file, line, col, path, message)

    def _shift(self, path: YamlPath, line: int, col: int, offset: Position) -> Position | None:
        value = self._data_at(path)
        if not isinstance(value, str) or "\n" in value or offset[0] != 1:
            return None
        lines = self.text.splitlines()
        if line > len(lines):
            return None
        text = lines[line - 1][col - 1 :]
        for quote in ("'", '"', ""):
            if text.startswith(quote + value) and (
                not quote or text[len(value) + 1 :].startswith(quote)
            ):
                return line, col + len(quote) + offset[1] - 1
        return None

    def _data_at(self, path: YamlPath) -> Any:
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def load_source(file: str, text: str) -> tuple[Source | None, list[Problem]]:
    """Parse `text` (named `file` in problems); YAML errors become problems at the parser's mark."""
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = error.problem or error.context or "invalid YAML"
        if error.context and error.problem:
            message = f"{error.problem} ({error.context})"
        return None, [Problem(file, line, col, (), f"YAML syntax error: {message}")]
    except YAMLError as error:
        return None, [Problem(file, 1, 1, (), f"YAML syntax error: {error}")]
    located = Located(values={(): (1, 1)})
    problems: list[Problem] = []
    data = _plain(tree, (), located, problems, file)
    return Source(file, text, data, located), problems


def _plain(node: Any, path: YamlPath, located: Located, problems: list[Problem], file: str) -> Any:
    if isinstance(node, CommentedMap):
        result: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*path, key if isinstance(key, str | int) else str(key))
            line, col = node.lc.key(key)
            located.keys[child] = (line + 1, col + 1)
            vline, vcol = node.lc.value(key)
            located.values[child] = (vline + 1, vcol + 1)
            result[child[-1]] = _plain(value, child, located, problems, file)
        return result
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*path, index)
            line, col = node.lc.item(index)
            located.values[child] = (line + 1, col + 1)
            items.append(_plain(value, child, located, problems, file))
        return items
    if isinstance(node, TaggedScalar):
        line, col = located.value(path)
        problems.append(Problem(file, line, col, path, f"unsupported YAML tag {node.tag.value}"))
        return node.value
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, dt.date):
        # Unquoted dates and times stay text, as the schema expects ISO strings.
        return node.isoformat()
    return node

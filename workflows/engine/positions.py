"""Walking a workflow's step tree by path: the step at a position, the first step of a nested
list, the position after a step (climbing out of branches and handlers), and step ids.

A position is the path of a step from the workflow's root, with the YAML's key names:
``("steps", 2, "then", 0)``, ``("steps", 1, "switch", 0, "steps", 3)``,
``("steps", 4, "split", 1, "steps", 0)``, ``("steps", 3, "on_timeout", 0)``,
``("steps", 0, "on_failure", 0)``. A list path is a position without its last index.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from workflows.language.spec import Workflow

from .model import StepPath

__all__ = [
    "KIND_BY_CLASS",
    "after",
    "enter",
    "find_step",
    "iter_steps",
    "step_at",
    "step_id",
    "step_kind",
    "steps_at",
]

#: YAML key -> attribute of the pydantic model holding it.
_ATTRIBUTES = {"else": "else_", "if": "if_"}
#: List keys owned directly by a step (the parent step is the list path minus this key).
_HANDLER_LISTS = frozenset({"then", "else", "on_event", "on_timeout", "on_failure"})

KIND_BY_CLASS = {
    "WaitStep": "wait",
    "WaitForStep": "wait_for",
    "IfStep": "if",
    "SwitchStep": "switch",
    "SplitStep": "split",
    "SendEmailStep": "send_email",
    "NotifyStep": "notify",
    "CreateTaskStep": "create_task",
    "UpdateStep": "update",
    "AddTagStep": "add_tag",
    "RemoveTagStep": "remove_tag",
    "AssignStep": "assign",
    "WebhookStep": "webhook",
    "EnrollStep": "enroll",
    "EscalateStep": "escalate",
    "EndStep": "end",
}


def step_kind(step: Any) -> str:
    """The step's kind key (``wait``, ``send_email``, ...)."""
    return KIND_BY_CLASS[type(step).__name__]


def _resolve(workflow: Workflow, path: StepPath) -> Any:
    node: Any = workflow
    for part in path:
        node = node[part] if isinstance(part, int) else getattr(node, _ATTRIBUTES.get(part, part))
    return node


def steps_at(workflow: Workflow, list_path: StepPath) -> list[Any]:
    """The list of steps at `list_path` (e.g. ``("steps",)`` or ``("steps", 2, "then")``)."""
    value = _resolve(workflow, list_path)
    return list(value) if value is not None else []


def step_at(workflow: Workflow, path: StepPath) -> Any:
    """The step at `path`; raises ``LookupError`` when the path leads nowhere."""
    try:
        return _resolve(workflow, path)
    except (IndexError, AttributeError, TypeError) as error:
        raise LookupError(f"no step at {path!r}") from error


def _parent(list_path: StepPath) -> StepPath | None:
    """The step owning the list at `list_path`, or None for the root list."""
    if len(list_path) == 1:
        return None
    if list_path[-1] in _HANDLER_LISTS:
        return list_path[:-1]
    return list_path[:-3]  # (..., "switch"|"split", n, "steps"|"default")


def after(workflow: Workflow, path: StepPath) -> StepPath | None:
    """The position of the step that runs after the step at `path` is done, or None once the
    workflow's own list is finished. Leaving a nested list continues after its owning step."""
    list_path, index = path[:-1], path[-1]
    while True:
        assert isinstance(index, int)
        if index + 1 < len(steps_at(workflow, list_path)):
            return (*list_path, index + 1)
        parent = _parent(list_path)
        if parent is None:
            return None
        list_path, index = parent[:-1], parent[-1]


def enter(workflow: Workflow, list_path: StepPath) -> StepPath | None:
    """The first step of the nested list at `list_path`; an empty list continues after its
    owning step."""
    if steps_at(workflow, list_path):
        return (*list_path, 0)
    parent = _parent(list_path)
    return None if parent is None else after(workflow, parent)


def step_id(step: Any, path: StepPath) -> str:
    """The step's explicit ``id``, else its dotted path (``steps.2.then.0``)."""
    explicit = getattr(step, "id", None)
    return explicit if explicit else ".".join(str(part) for part in path)


def iter_steps(workflow: Workflow) -> Iterator[tuple[StepPath, Any]]:
    """Every step with its position, depth first."""
    yield from _walk(workflow.steps, ("steps",))


def _walk(steps: list[Any], list_path: StepPath) -> Iterator[tuple[StepPath, Any]]:
    for index, step in enumerate(steps):
        here = (*list_path, index)
        yield here, step
        for key in ("then", "else", "on_event", "on_timeout", "on_failure"):
            nested = getattr(step, _ATTRIBUTES.get(key, key), None)
            if nested:
                yield from _walk(nested, (*here, key))
        for number, case in enumerate(getattr(step, "switch", None) or []):
            key = "default" if hasattr(case, "default") else "steps"
            yield from _walk(getattr(case, key), (*here, "switch", number, key))
        for number, arm in enumerate(getattr(step, "split", None) or []):
            yield from _walk(arm.steps, (*here, "split", number, "steps"))


def find_step(workflow: Workflow, wanted: str) -> StepPath | None:
    """The position of the step whose id (explicit or path) is `wanted`."""
    for path, step in iter_steps(workflow):
        if step_id(step, path) == wanted:
            return path
    return None

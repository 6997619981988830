"""Action steps -> the commands the runtime carries out, with their idempotency keys.

Values written ``${ CEL }`` (in ``update`` values and webhook bodies) are evaluated: a value that
is exactly one ``${ }`` takes the expression's value and type, ``${ }`` inside longer text is
replaced by the value's text. Task titles are Jinja templates. A failure to evaluate or render
is an `ActionError`: the step fails as if the action had (``on_failure`` or FAILED).
"""

from __future__ import annotations

import re
from typing import Any

from workflows.language import steps as s
from workflows.language.expressions import ExpressionError, evaluate
from workflows.language.templates import TemplateRenderError, render

from .context import Context
from .model import (
    AssignOwner,
    CallWebhook,
    ChangeTags,
    Command,
    CreateTask,
    EnrollOther,
    Escalate,
    Notify,
    SendEmail,
    UpdateSubject,
)
from .waits import wait_until

__all__ = ["ACTION_KINDS", "ActionError", "action_commands", "interpolate", "set_path"]

ACTION_KINDS = frozenset(
    {"send_email", "notify", "create_task", "update", "add_tag", "remove_tag", "assign",
     "webhook", "enroll", "escalate"}
)  # fmt: skip
_CEL = re.compile(r"\$\{(.*?)\}", re.DOTALL)


class ActionError(Exception):
    """An action that cannot even be formed (CEL or template failure)."""


def interpolate(value: Any, variables: dict[str, Any]) -> Any:
    """`value` with every ``${ CEL }`` evaluated, recursively through maps and lists."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _CEL.fullmatch(value.strip())
    if whole is not None:
        return evaluate(whole.group(1).strip(), variables)
    return _CEL.sub(lambda match: str(evaluate(match.group(1).strip(), variables)), value)


def _tags(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _dump(value: Any) -> Any:
    return value.model_dump() if hasattr(value, "model_dump") else value


def _renders(ctx: Context, template_key: str) -> None:
    """Raise TemplateRenderError if the template does not render for this run now (the
    runtime renders it again, for real, when it writes the message)."""
    template = ctx.env.templates.get(template_key)
    if template is None:
        return
    variables = ctx.variables()
    render(template.subject, variables)
    render(template.text, variables)
    if template.html:
        render(template.html, variables, html=True)


def action_commands(
    ctx: Context, step: Any, step_id: str, key: str
) -> tuple[list[Command], dict[str, Any]]:
    """The commands of action `step` and the detail recorded for it."""
    try:
        return _commands(ctx, step, step_id, key)
    except (ExpressionError, TemplateRenderError, LookupError) as error:
        raise ActionError(str(error)) from error


def _commands(
    ctx: Context, step: Any, step_id: str, key: str
) -> tuple[list[Command], dict[str, Any]]:
    retry = step.retry.model_dump() if getattr(step, "retry", None) else None
    if isinstance(step, s.SendEmailStep):
        mail = step.send_email
        _renders(ctx, mail.template)
        command: Command = SendEmail(key, step_id, mail.template, mail.to, retry)
        return [command], {"template": mail.template, "to": mail.to}
    if isinstance(step, s.NotifyStep):
        note = step.notify
        _renders(ctx, note.template)
        return [Notify(key, step_id, note.to, note.template)], {
            "template": note.template,
            "to": note.to,
        }
    if isinstance(step, s.CreateTaskStep):
        task = step.create_task
        title = render(task.title, ctx.variables())
        due = wait_until(ctx, task.due) if task.due is not None else None
        assignee = _dump(task.assignee)
        return [CreateTask(key, step_id, title, assignee, due)], {
            "title": title,
            "assignee": assignee,
            "due_at": due,
        }
    if isinstance(step, s.UpdateStep):
        values = interpolate(dict(step.update), ctx.variables())
        for field, value in values.items():
            ctx.set_subject(field, value)
        return [UpdateSubject(key, step_id, values)], {"values": values}
    if isinstance(step, s.AddTagStep | s.RemoveTagStep):
        adding = isinstance(step, s.AddTagStep)
        tags = _tags(step.add_tag if isinstance(step, s.AddTagStep) else step.remove_tag)
        current = [tag for tag in ctx.subject.get("tags") or [] if tag not in tags]
        ctx.set_subject("tags", current + list(tags) if adding else current)
        change = (
            ChangeTags(key, step_id, add=tags) if adding else ChangeTags(key, step_id, remove=tags)
        )
        return [change], {"add" if adding else "remove": list(tags)}
    if isinstance(step, s.AssignStep):
        owner = _dump(step.assign.owner)
        return [AssignOwner(key, step_id, owner)], {"owner": owner}
    if isinstance(step, s.WebhookStep):
        hook = step.webhook
        body = interpolate(hook.body, ctx.variables())
        return [CallWebhook(key, step_id, hook.url, body, dict(hook.headers), retry)], {
            "url": hook.url,
            "body": body,
        }
    if isinstance(step, s.EnrollStep):
        workflow = step.enroll.workflow
        return [EnrollOther(key, step_id, workflow)], {"workflow": workflow}
    if isinstance(step, s.EscalateStep):
        level, to = step.escalate.level, step.escalate.to
        # As the runtime will store it: conditions later in this transition see the new level.
        ctx.set_subject("escalationLevel", max(level, int(ctx.subject.get("escalationLevel") or 0)))
        return [Escalate(key, step_id, level, to)], {"level": level, "to": to}
    raise TypeError(f"not an action step: {step!r}")


def set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
            target[part] = child
        target = child
    target[last] = value

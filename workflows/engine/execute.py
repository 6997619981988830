"""Running one step at the run's position: what it records, the commands it produces, and
where the run goes next (or that it waits, or ends)."""

from __future__ import annotations

import hashlib
from typing import Any

from workflows.language import steps as s
from workflows.language.expressions import ExpressionError

from .actions import ActionError, action_commands
from .conditions import condition_holds, email_suppression, window_opening
from .context import Context
from .model import EndRun, RunStatus, ScheduleTimer, StepPath, Waiting
from .positions import after, enter, step_at, step_id, step_kind
from .waits import describe_wait, until_due, wait_until

__all__ = ["choose_arm", "end_run", "execute", "fail_step"]


def end_run(ctx: Context, status: RunStatus, reason: str) -> None:
    """End the run: cancel its pending timer, then EndRun."""
    state = ctx.state
    sid = "run"
    if state.position is not None:
        sid = step_id(step_at(ctx.workflow, state.position), state.position)
    ctx.cancel_pending_timer(sid)
    state.status, state.ended_reason = status, reason
    state.waiting, state.position = None, None
    ctx.commands.append(EndRun(f"{ctx.env.run_id}:end", sid, status, reason))


def _wait(ctx: Context, sid: str, due: Any, waiting: Waiting, purpose: str) -> None:
    ctx.commands.append(ScheduleTimer(waiting.timer_key or "", sid, due, purpose))
    ctx.state.waiting = waiting
    ctx.state.status = "WAITING"


def choose_arm(run_id: str, sid: str, weights: list[int]) -> int:
    """The arm a run takes at a split: a point in [0, 100) from a hash of (run, step), placed
    on the cumulative weights. Deterministic, so the same run always takes the same arm."""
    digest = hashlib.sha256(f"{run_id}:{sid}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % 10_000 / 100
    total = 0
    for index, weight in enumerate(weights):
        total += weight
        if point < total:
            return index
    return max(range(len(weights)), key=lambda index: weights[index])


def fail_step(ctx: Context, path: StepPath, step: Any, error: str) -> bool:
    """The step at `path` failed: continue with its ``on_failure`` steps (then the steps after
    it) if it has any, else end the run as FAILED. True when the run goes on."""
    sid = step_id(step, path)
    handlers = getattr(step, "on_failure", None)
    ctx.record(sid, step_kind(step), "FAILED", {"error": error, "handled": bool(handlers)})
    if handlers:
        ctx.state.position = enter(ctx.workflow, (*path, "on_failure"))
        return True
    ctx.state.position = path
    end_run(ctx, "FAILED", f"step {sid} failed: {error}")
    return False


def execute(ctx: Context, path: StepPath, step: Any, *, bypass_window: bool = False) -> bool:
    """Run the step at `path`. True when the run goes on at ``state.position``; False when it
    waits or has ended."""
    sid, kind = step_id(step, path), step_kind(step)
    if kind in ("wait", "wait_for"):
        try:
            return _wait_step(ctx, path, step, sid, kind)
        except (ExpressionError, LookupError) as error:
            ctx.begin_visit(sid)
            return fail_step(ctx, path, step, str(error))
    if kind == "send_email" and not bypass_window and _hold_for_window(ctx, step, sid):
        return False
    visit = ctx.begin_visit(sid)
    if isinstance(step, s.IfStep):
        holds, failure = condition_holds(step.if_, ctx.variables())
        branch = "then" if holds else "else"
        detail = {"condition": step.if_, "result": holds, "branch": branch}
        ctx.record(sid, kind, "DONE", detail | ({"error": failure} if failure else {}))
        ctx.state.position = enter(ctx.workflow, (*path, branch))
        return True
    if isinstance(step, s.SwitchStep):
        return _switch(ctx, path, step, sid)
    if isinstance(step, s.SplitStep):
        chosen = ctx.state.vars.setdefault("splits", {}).get(sid)
        names = [arm.name for arm in step.split]
        if chosen not in names:
            chosen = names[choose_arm(ctx.env.run_id, sid, [arm.weight for arm in step.split])]
            ctx.state.vars["splits"][sid] = chosen
        index = names.index(chosen)
        ctx.record(sid, kind, "DONE", {"arm": chosen, "weight": step.split[index].weight})
        ctx.state.position = enter(ctx.workflow, (*path, "split", index, "steps"))
        return True
    if isinstance(step, s.EndStep):
        ctx.record(sid, kind, "DONE", {"end": step.end})
        end_run(ctx, "CONVERTED" if step.end == "converted" else "EXITED", f"end step {sid}")
        return False
    if isinstance(step, s.SendEmailStep):
        reason = email_suppression(ctx, step.send_email.to)
        if reason is not None:
            detail = {"template": step.send_email.template, "to": step.send_email.to}
            ctx.record(sid, kind, "SUPPRESSED", detail | {"reason": reason})
            ctx.state.position = after(ctx.workflow, path)
            return True
    try:
        commands, detail = action_commands(ctx, step, sid, ctx.key(sid, visit))
    except ActionError as error:
        return fail_step(ctx, path, step, str(error))
    ctx.commands.extend(commands)
    ctx.record(sid, kind, "DONE", detail)
    ctx.state.position = after(ctx.workflow, path)
    return True


def _wait_step(ctx: Context, path: StepPath, step: Any, sid: str, kind: str) -> bool:
    form = step.wait if kind == "wait" else step.wait_for.timeout
    due = until_due(ctx, form) if isinstance(form, s.UntilWait) else wait_until(ctx, form)
    visit = ctx.begin_visit(sid)
    key = ctx.key(sid, visit)
    if due is None:
        # ``until`` a date that is not set: hold here, with no timer, until the subject's
        # field is set (the wait then moves to it) or the goal or an exit ends the run.
        detail: dict[str, Any] = {"form": describe_wait(form), "reason": "date not set"}
        if isinstance(step, s.WaitForStep):
            awaited = step.wait_for
            detail |= {"event": awaited.event, "when": awaited.when}
            waiting = Waiting("event", key, None, event=awaited.event, when=awaited.when)
        else:
            waiting = Waiting("timer", key, None)
        ctx.record(sid, kind, "WAITING", detail)
        ctx.state.waiting, ctx.state.status = waiting, "WAITING"
        return False
    if isinstance(step, s.WaitStep):
        if due <= ctx.now:
            detail = {"form": describe_wait(form), "due_at": due, "reason": "already past"}
            ctx.record(sid, kind, "SKIPPED", detail)
            ctx.state.position = after(ctx.workflow, path)
            return True
        ctx.record(sid, kind, "WAITING", {"form": describe_wait(form), "due_at": due})
        _wait(ctx, sid, due, Waiting("timer", key, due), "wait")
        return False
    awaited = step.wait_for
    detail = {"event": awaited.event, "when": awaited.when, "timeout_at": due}
    if due <= ctx.now:
        ctx.record(sid, kind, "TIMED_OUT", detail)
        ctx.state.position = enter(ctx.workflow, (*path, "on_timeout"))
        return True
    ctx.record(sid, kind, "WAITING", detail)
    waiting = Waiting("event", key, due, event=awaited.event, when=awaited.when)
    _wait(ctx, sid, due, waiting, "timeout")
    return False


def _hold_for_window(ctx: Context, step: s.SendEmailStep, sid: str) -> bool:
    window = ctx.workflow.send_window
    if window is None or email_suppression(ctx, step.send_email.to) is not None:
        return False
    opening = window_opening(ctx, window)
    if opening is None:
        return False
    key = f"{ctx.key(sid, ctx.visit(sid) + 1)}:window"
    detail = {"template": step.send_email.template, "to": step.send_email.to}
    ctx.record(sid, "send_email", "WAITING", detail | {"held_until": opening})
    _wait(ctx, sid, opening, Waiting("window", key, opening), "window")
    return True


def _switch(ctx: Context, path: StepPath, step: s.SwitchStep, sid: str) -> bool:
    errors: list[str] = []
    variables = ctx.variables()
    for index, case in enumerate(step.switch):
        if isinstance(case, s.SwitchDefault):
            ctx.record(sid, "switch", "DONE", {"case": index, "when": "default"})
            ctx.state.position = enter(ctx.workflow, (*path, "switch", index, "default"))
            return True
        holds, error = condition_holds(case.when, variables)
        if error:
            errors.append(error)
        if holds:
            ctx.record(sid, "switch", "DONE", {"case": index, "when": case.when})
            ctx.state.position = enter(ctx.workflow, (*path, "switch", index, "steps"))
            return True
    detail: dict[str, Any] = {"reason": "no case matched"}
    ctx.record(sid, "switch", "SKIPPED", detail | ({"errors": errors} if errors else {}))
    ctx.state.position = after(ctx.workflow, path)
    return True

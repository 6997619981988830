"""`advance`: one input applied to one run, as a pure function.

The run executes steps from ``state.position`` until one makes it wait (a timer, an awaited
event, the send window, a pause) or it ends. Before every step the goal (-> CONVERTED) and the
exit conditions (-> EXITED) are checked, and a paused workflow holds the run there.
"""

from __future__ import annotations

import copy

from workflows.language import steps as s
from workflows.language.expressions import ExpressionError
from workflows.language.spec import Workflow

from .conditions import condition_holds, exit_reason, goal_met, unsubscribed
from .context import Context, json_safe
from .environment import Environment
from .execute import end_run, execute, fail_step
from .model import (
    ENDED,
    ActionFailed,
    EventArrived,
    Input,
    RunState,
    ScheduleTimer,
    Start,
    SubjectChanged,
    TimerFired,
    Transition,
    Waiting,
)
from .positions import after, enter, find_step, step_at, step_id, step_kind
from .waits import follows_subject, until_due

__all__ = ["MAX_STEPS_PER_TRANSITION", "advance"]

#: A guard against a definition that would never stop within one transition.
MAX_STEPS_PER_TRANSITION = 10_000


def advance(definition: Workflow, state: RunState, event: Input, env: Environment) -> Transition:
    """Apply `event` to the run in `state` (left unchanged) and return its new state with the
    commands to carry out, in order. An ended run ignores every input."""
    state = copy.deepcopy(state)
    if state.status in ENDED:
        return Transition(state, [])
    ctx = Context(definition, env, state, event.now)
    if isinstance(event, Start):
        _start(ctx, event)
    elif isinstance(event, TimerFired):
        _timer_fired(ctx, event)
    elif isinstance(event, EventArrived):
        _event_arrived(ctx, event)
    elif isinstance(event, SubjectChanged):
        if not _ended_by_conditions(ctx) and not _move_wait(ctx):
            _resume_if_unpaused(ctx)
    elif isinstance(event, ActionFailed):
        _action_failed(ctx, event)
    return Transition(ctx.state, ctx.commands)


def _run(ctx: Context, *, bypass_window: bool = False) -> None:
    state = ctx.state
    state.status, state.waiting = "ACTIVE", None
    for _ in range(MAX_STEPS_PER_TRANSITION):
        if state.position is None:
            end_run(ctx, "COMPLETED", "all steps done")
            return
        if _ended_by_conditions(ctx):
            return
        if ctx.env.paused:
            state.status, state.waiting = "WAITING", Waiting("paused")
            return
        step = step_at(ctx.workflow, state.position)
        if not execute(ctx, state.position, step, bypass_window=bypass_window):
            return
        bypass_window = False
    end_run(ctx, "FAILED", f"more than {MAX_STEPS_PER_TRANSITION} steps in one transition")


def _ended_by_conditions(ctx: Context, event_name: str | None = None) -> bool:
    """Check the goal, then exit_when, then consent (an unsubscribed customer leaves every
    marketing workflow); end the run and return True if one holds."""
    if goal_met(ctx):
        end_run(ctx, "CONVERTED", "goal met")
        return True
    reason = exit_reason(ctx, event_name)
    if reason is not None:
        end_run(ctx, "EXITED", f"exit_when: {reason}")
        return True
    if ctx.marketing and unsubscribed(ctx.subject):
        end_run(ctx, "EXITED", "unsubscribed")
        return True
    return False


def _resume_if_unpaused(ctx: Context) -> None:
    waiting = ctx.state.waiting
    if waiting is not None and waiting.reason == "paused" and not ctx.env.paused:
        _run(ctx)


def _start(ctx: Context, event: Start) -> None:
    ctx.event = event.event or {}
    ctx.state.vars["event"] = json_safe(ctx.event)
    if goal_met(ctx):
        end_run(ctx, "CONVERTED", "goal met at enrollment")
        return
    _run(ctx)


def _timer_fired(ctx: Context, event: TimerFired) -> None:
    state, waiting = ctx.state, ctx.state.waiting
    if waiting is None or waiting.timer_key != event.key or state.position is None:
        _resume_if_unpaused(ctx)  # a stale or repeated timer changes nothing else
        return
    path = state.position
    state.waiting = None
    if waiting.reason == "timer":
        state.position = after(ctx.workflow, path)
        _run(ctx)
    elif waiting.reason == "event":
        step = step_at(ctx.workflow, path)
        detail = {"event": waiting.event, "timeout_at": waiting.due_at}
        ctx.record(step_id(step, path), "wait_for", "TIMED_OUT", detail)
        state.position = enter(ctx.workflow, (*path, "on_timeout"))
        _run(ctx)
    else:  # the send window opened: the held email goes now
        _run(ctx, bypass_window=True)


def _event_arrived(ctx: Context, event: EventArrived) -> None:
    ctx.event = event.data
    if _ended_by_conditions(ctx, event.name):
        return
    state, waiting = ctx.state, ctx.state.waiting
    if waiting is None or waiting.reason != "event" or waiting.event != event.name:
        if not _move_wait(ctx):
            _resume_if_unpaused(ctx)
        return
    if waiting.when is not None and not condition_holds(waiting.when, ctx.variables())[0]:
        _move_wait(ctx)
        return
    assert state.position is not None
    path = state.position
    sid = step_id(step_at(ctx.workflow, path), path)
    ctx.cancel_pending_timer(sid)
    state.waiting = None
    state.vars["event"] = json_safe(event.data)
    ctx.record(sid, "wait_for", "MATCHED", {"event": event.name, "when": waiting.when})
    state.position = enter(ctx.workflow, (*path, "on_event"))
    _run(ctx)


def _move_wait(ctx: Context) -> bool:
    """A run waiting ``until`` a moment computed from the subject follows the subject: the
    wait (or a ``wait_for`` timeout) moves to the new moment, ends at once when the moment is
    now past, and holds with no timer while the date is unset. Only an expression that reads
    ``subject`` and not ``now`` moves (``now + duration("48h")`` would otherwise be pushed back
    by every change). True when the run was moved."""
    state, waiting = ctx.state, ctx.state.waiting
    if waiting is None or waiting.reason not in ("timer", "event") or state.position is None:
        return False
    path = state.position
    step = step_at(ctx.workflow, path)
    if isinstance(step, s.WaitStep):
        form = step.wait
    elif isinstance(step, s.WaitForStep):
        form = step.wait_for.timeout
    else:
        return False
    if not isinstance(form, s.UntilWait) or not follows_subject(form):
        return False
    sid, kind = step_id(step, path), step_kind(step)
    # Re-evaluated as when the wait began: with the run's event, not the one arriving now.
    arriving, ctx.event = ctx.event, None
    try:
        due = until_due(ctx, form)
    except ExpressionError as error:
        ctx.event = arriving
        ctx.cancel_pending_timer(sid)
        state.waiting = None
        if fail_step(ctx, path, step, str(error)):
            _run(ctx)
        return True
    ctx.event = arriving
    if due == waiting.due_at:
        return False
    detail = {"from": waiting.due_at, "to": due}
    moves = state.vars.setdefault("moves", {})
    moves[sid] = repeat = int(moves.get(sid, 0)) + 1
    if due is None:
        ctx.cancel_pending_timer(sid)
        waiting.due_at = None
        ctx.record(sid, kind, "MOVED", detail | {"reason": "date not set"}, repeat=repeat)
        return True
    if due > ctx.now:
        assert waiting.timer_key is not None
        waiting.due_at = due
        purpose = "wait" if waiting.reason == "timer" else "timeout"
        ctx.commands.append(ScheduleTimer(waiting.timer_key, sid, due, purpose))
        ctx.record(sid, kind, "MOVED", detail, repeat=repeat)
        return True
    # Moved into the past: the wait is over now, as if its timer had fired.
    ctx.cancel_pending_timer(sid)
    ctx.record(sid, kind, "MOVED", detail | {"reason": "now past"}, repeat=repeat)
    state.waiting = None
    if waiting.reason == "timer":
        state.position = after(ctx.workflow, path)
    else:
        ctx.record(sid, kind, "TIMED_OUT", {"event": waiting.event, "timeout_at": due})
        state.position = enter(ctx.workflow, (*path, "on_timeout"))
    _run(ctx)
    return True


def _action_failed(ctx: Context, event: ActionFailed) -> None:
    path = find_step(ctx.workflow, event.step_id)
    if path is None:
        end_run(ctx, "FAILED", f"unknown step {event.step_id} failed: {event.error}")
        return
    step = step_at(ctx.workflow, path)
    resumed = getattr(step, "on_failure", None)
    if resumed:
        # The run leaves whatever it was waiting for and takes the handler, then the steps
        # after the failed one.
        waiting_at = ctx.state.position
        sid = step_id(step_at(ctx.workflow, waiting_at), waiting_at) if waiting_at else "run"
        ctx.cancel_pending_timer(sid)
        ctx.state.waiting = None
    if fail_step(ctx, path, step, event.error):
        _run(ctx)

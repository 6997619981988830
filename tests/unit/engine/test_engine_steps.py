"""Every step kind and wait form, run by the pure engine."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from engine_support import FRIDAY_16, MONDAY, VN, Driver, of, records, subject, workflow

from workflows.engine import RunState, Start, TimerFired, advance
from workflows.engine.model import (
    AssignOwner,
    CallWebhook,
    CancelTimer,
    ChangeTags,
    CreateTask,
    EndRun,
    EnrollOther,
    Escalate,
    Notify,
    RecordStep,
    ScheduleTimer,
    SendEmail,
    UpdateSubject,
    Waiting,
)

ACTIONS = """
steps:
  - {id: hello, send_email: {template: welcome-lead, to: subject}}
  - {id: ping, notify: {to: owner, template: welcome-tips}}
  - id: call
    create_task: {title: "Call {{ subject.displayName }}", assignee: owner, due: {business: 4h}}
  - id: stage
    update: {lifecycleStage: MQL, score: '${ 40 + 2 }', note: 'hi ${ subject.displayName }'}
  - {id: tag, add_tag: [hot, web]}
  - {id: untag, remove_tag: cold}
  - {id: owner, assign: {owner: {round_robin: sales}}}
  - id: hook
    webhook: {url: "https://example.com/h", body: {who: '${ subject.email }'}}
  - {id: other, enroll: {workflow: welcome-nurture}}
"""


def test_actions_produce_their_commands_with_idempotency_keys() -> None:
    run = Driver(workflow(ACTIONS), subject=subject(tags=["cold"]))
    commands = run.start(FRIDAY_16)
    (mail,) = of(SendEmail, commands)
    assert (mail.key, mail.template, mail.to) == ("run-1:hello:1", "welcome-lead", "subject")
    assert of(Notify, commands)[0].to == "owner"
    (task,) = of(CreateTask, commands)
    assert task.title == "Call Nguyễn Văn An"
    assert task.due_at == dt.datetime(2026, 11, 28, 10, 30, tzinfo=VN)  # vn-office Saturday
    (update,) = of(UpdateSubject, commands)
    assert update.values == {"lifecycleStage": "MQL", "score": 42, "note": "hi Nguyễn Văn An"}
    tags = of(ChangeTags, commands)
    assert (tags[0].add, tags[1].remove) == (("hot", "web"), ("cold",))
    assert of(AssignOwner, commands)[0].owner == {"round_robin": "sales"}
    assert of(CallWebhook, commands)[0].body == {"who": "an@example.vn"}
    assert of(EnrollOther, commands)[0].workflow == "welcome-nurture"
    keys = [c.key for c in commands if not isinstance(c, RecordStep | EndRun)]
    steps = ("hello", "ping", "call", "stage", "tag", "untag", "owner", "hook", "other")
    assert keys == [f"run-1:{step}:1" for step in steps]
    assert [r[2] for r in records(commands)] == ["DONE"] * 9
    assert of(EndRun, commands)[0].status == "COMPLETED"
    assert run.state.status == "COMPLETED"
    assert run.state.position is None


def test_escalate_on_a_ticket() -> None:
    flow = workflow("subject: ticket\nsteps:\n  - escalate: {level: 2, to: team_lead}\n")
    (escalate,) = of(Escalate, Driver(flow).start())
    assert (escalate.level, escalate.to, escalate.key) == (2, "team_lead", "run-1:steps.0:1")


def _first_due(text: str, at: dt.datetime, **overrides: object) -> dt.datetime:
    run = Driver(workflow(text), subject=subject(**overrides))
    run.start(at)
    assert run.state.status == "WAITING"
    return run.timer().due_at


def test_wait_forms() -> None:
    assert _first_due("steps: [{wait: 2d}]", MONDAY) == MONDAY + dt.timedelta(days=2)
    assert _first_due("steps: [{wait: PT36H}]", MONDAY) == MONDAY + dt.timedelta(hours=36)
    business = "steps: [{wait: {business: 4h}}]"
    assert _first_due(business, FRIDAY_16) == dt.datetime(2026, 11, 28, 10, 30, tzinfo=VN)
    always = "steps: [{wait: {business: 4h, calendar: always}}]"
    assert _first_due(always, FRIDAY_16) == FRIDAY_16 + dt.timedelta(hours=4)
    days = "steps: [{wait: {business_days: 1}}]"
    assert _first_due(days, FRIDAY_16) == dt.datetime(2026, 11, 28, 12, 0, tzinfo=VN)
    until = "steps: [{wait: {until: 'now + duration(\"90m\")'}}]"
    assert _first_due(until, MONDAY) == MONDAY + dt.timedelta(minutes=90)
    local = "steps: [{wait: {until_time: '10:00', days: [mon], timezone: subject}}]"
    paris = ZoneInfo("Europe/Paris")
    due = _first_due(local, MONDAY, timezone="Europe/Paris")
    assert due == dt.datetime(2026, 11, 23, 10, 0, tzinfo=paris)  # 03:00 there at the start
    zone = "steps: [{wait: {until_time: '08:30', timezone: Asia/Tokyo}}]"
    assert _first_due(zone, MONDAY) == dt.datetime(
        2026, 11, 24, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo")
    )


def test_a_wait_until_the_past_continues_at_once() -> None:
    flow = workflow("steps:\n  - wait: {until: 'now - duration(\"1h\")'}\n  - add_tag: x\n")
    commands = Driver(flow).start()
    assert records(commands) == [("steps.0", "wait", "SKIPPED"), ("steps.1", "add_tag", "DONE")]
    assert not of(ScheduleTimer, commands)


def test_a_timer_continues_the_run_and_a_stale_one_changes_nothing() -> None:
    run = Driver(workflow("steps:\n  - {id: w, wait: 1h}\n  - {id: t, add_tag: x}\n"))
    (timer,) = of(ScheduleTimer, run.start())
    assert (timer.key, timer.purpose, timer.step_id) == ("run-1:w:1", "wait", "w")
    assert run.state.waiting is not None
    assert run.state.waiting.reason == "timer"
    assert run.feed(TimerFired(key="run-1:other:1", now=MONDAY)) == []
    commands = run.fire()
    assert of(ChangeTags, commands)[0].key == "run-1:t:1"
    assert run.state.status == "COMPLETED"
    assert run.feed(TimerFired(key=timer.key, now=timer.due_at)) == []  # delivered twice


WAIT_FOR = """
steps:
  - id: reply
    wait_for:
      event: interaction.logged
      when: 'event.interaction.direction == "INBOUND"'
      timeout: 3d
    on_event: [{id: thanks, notify: {to: owner, template: welcome-tips}}]
    on_timeout: [{id: nudge, send_email: {template: welcome-tips, to: subject}}]
  - {id: after, add_tag: done}
"""


def test_wait_for_the_event() -> None:
    run = Driver(workflow(WAIT_FOR))
    (timer,) = of(ScheduleTimer, run.start())
    assert (timer.purpose, timer.due_at) == ("timeout", MONDAY + dt.timedelta(days=3))
    later = MONDAY + dt.timedelta(hours=5)
    assert run.event("interaction.logged", {"interaction": {"direction": "OUT"}}, later) == []
    assert run.event("task.completed", {}, later) == []
    commands = run.event("interaction.logged", {"interaction": {"direction": "INBOUND"}}, later)
    assert of(CancelTimer, commands)[0].key == timer.key
    assert records(commands) == [
        ("reply", "wait_for", "MATCHED"),
        ("thanks", "notify", "DONE"),
        ("after", "add_tag", "DONE"),
    ]
    assert not of(SendEmail, run.commands)
    assert run.state.vars["event"] == {"interaction": {"direction": "INBOUND"}}


def test_wait_for_times_out() -> None:
    run = Driver(workflow(WAIT_FOR))
    run.start()
    commands = run.fire()
    assert records(commands) == [
        ("reply", "wait_for", "TIMED_OUT"), ("nudge", "send_email", "DONE"),
        ("after", "add_tag", "DONE"),
    ]  # fmt: skip
    assert not of(Notify, run.commands)
    assert of(SendEmail, commands)[0].key == "run-1:nudge:1"


BRANCHES = """
steps:
  - id: vip
    if: 'subject.tags.exists(t, t == "vip")'
    then: [{id: vip-mail, send_email: {template: welcome-lead}}]
    else:
      - id: stage
        switch:
          - when: 'subject.lifecycleStage == "CUSTOMER"'
            steps: [{id: customer-tag, add_tag: customer}]
          - when: 'subject.lifecycleStage == "LEAD"'
            steps: [{id: lead-tag, add_tag: lead}]
          - default: [{id: other-tag, add_tag: other}]
  - {id: last, add_tag: last}
"""


def test_if_and_switch_record_the_branch_and_why() -> None:
    commands = Driver(workflow(BRANCHES)).start()
    assert records(commands) == [
        ("vip", "if", "DONE"), ("stage", "switch", "DONE"), ("lead-tag", "add_tag", "DONE"),
        ("last", "add_tag", "DONE"),
    ]  # fmt: skip
    branch, case = of(RecordStep, commands)[:2]
    assert branch.detail == {
        "condition": 'subject.tags.exists(t, t == "vip")', "result": False, "branch": "else",
    }  # fmt: skip
    assert case.detail == {"case": 1, "when": 'subject.lifecycleStage == "LEAD"'}
    vip = Driver(workflow(BRANCHES), subject=subject(tags=["vip"])).start()
    assert [r[0] for r in records(vip)] == ["vip", "vip-mail", "last"]
    other = Driver(workflow(BRANCHES), subject=subject(lifecycleStage="MQL")).start()
    assert [r[0] for r in records(other)] == ["vip", "stage", "other-tag", "last"]


def test_a_condition_that_cannot_be_evaluated_takes_else_and_says_why() -> None:
    flow = workflow("steps:\n  - if: 'subject.missing == 1'\n    then: [{add_tag: x}]\n")
    (record,) = of(RecordStep, Driver(flow).start())
    assert record.detail["branch"] == "else"
    assert "missing" in record.detail["error"]


def test_a_switch_without_match_or_default_goes_on() -> None:
    flow = workflow(
        "steps:\n  - switch: [{when: 'false', steps: [{add_tag: x}]}]\n  - add_tag: y\n"
    )
    assert records(Driver(flow).start()) == [
        ("steps.0", "switch", "SKIPPED"), ("steps.1", "add_tag", "DONE"),
    ]  # fmt: skip


def test_end_steps() -> None:
    converted = Driver(workflow("steps: [{end: converted}, {add_tag: x}]"))
    assert of(EndRun, converted.start())[0].status == "CONVERTED"
    assert not of(ChangeTags, converted.commands)
    exited = Driver(workflow("steps: [{end: exited}]"))
    exited.start()
    assert exited.state.status == "EXITED"
    assert exited.state.ended_reason == "end step steps.0"


def test_an_ended_run_ignores_every_input() -> None:
    run = Driver(workflow("steps: [{end: exited}]"))
    run.start()
    assert run.start() == []
    assert run.changed(MONDAY) == []


def test_keys_are_unique_per_visit() -> None:
    run = Driver(
        workflow("steps:\n  - {id: hi, send_email: {template: welcome-lead}}\n  - wait: 1d\n")
    )
    first = run.start()
    # An admin moved the run back to the first step (a migration), and it resumed there.
    run.state.position, run.state.waiting = ("steps", 0), Waiting("paused")
    second = run.changed(MONDAY)
    assert of(SendEmail, first)[0].key == "run-1:hi:1"
    assert of(SendEmail, second)[0].key == "run-1:hi:2"
    assert of(ScheduleTimer, second)[0].key == "run-1:steps.1:2"
    keys = [c.key for c in run.commands]
    assert len(keys) == len(set(keys))


def test_paused_runs_hold_at_their_next_step() -> None:
    flow = workflow("steps:\n  - {id: w, wait: 1h}\n  - {id: t, add_tag: x}\n")
    paused = Driver(flow, paused=True)
    assert paused.start() == []
    assert paused.state.waiting is not None
    assert paused.state.waiting.reason == "paused"
    paused.env_options["paused"] = False
    assert records(paused.changed(MONDAY)) == [("w", "wait", "WAITING")]
    paused.env_options["paused"] = True
    assert paused.fire() == []
    assert paused.state.status == "WAITING"
    assert paused.state.position == ("steps", 1)
    paused.env_options["paused"] = False
    assert records(paused.changed(MONDAY + dt.timedelta(hours=2))) == [("t", "add_tag", "DONE")]


def test_advance_leaves_its_input_state_alone() -> None:
    state = RunState()
    env = Driver(workflow("steps: [{wait: 1d}]")).env()
    transition = advance(workflow("steps: [{wait: 1d}]"), state, Start(now=MONDAY), env)
    assert state == RunState()
    assert transition.state.status == "WAITING"

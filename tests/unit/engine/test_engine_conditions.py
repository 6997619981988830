"""Goal, exit_when, send window, consent, splits, failures, enrollment and persistence."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from engine_support import FRIDAY_16, MONDAY, VN, Driver, of, records, subject, workflow

from workflows.engine import ActionFailed, EnrollmentHistory, TimerFired, should_enroll
from workflows.engine.execute import choose_arm
from workflows.engine.model import (
    CancelTimer,
    ChangeTags,
    EndRun,
    Notify,
    ScheduleTimer,
    SendEmail,
)

NURTURE = """
goal: 'subject.lifecycleStage == "CUSTOMER"'
exit_when:
  - event: customer.unsubscribed
  - 'subject.tags.exists(t, t == "do-not-contact")'
steps:
  - {id: welcome, send_email: {template: welcome-lead}}
  - {id: pause, wait: 2d}
  - {id: tips, send_email: {template: welcome-tips}}
"""


def test_goal_met_mid_run_converts_and_nothing_more_is_sent() -> None:
    run = Driver(workflow(NURTURE))
    (timer,) = of(ScheduleTimer, run.start())
    commands = run.changed(MONDAY + dt.timedelta(hours=3), lifecycleStage="CUSTOMER")
    assert of(CancelTimer, commands)[0].key == timer.key
    (end,) = of(EndRun, commands)
    assert (end.status, end.reason, end.step_id) == ("CONVERTED", "goal met", "pause")
    assert run.feed(TimerFired(key=timer.key, now=timer.due_at)) == []
    assert len(of(SendEmail, run.commands)) == 1
    assert run.state.status == "CONVERTED"


def test_goal_already_met_at_start_runs_nothing() -> None:
    run = Driver(workflow(NURTURE), subject=subject(lifecycleStage="CUSTOMER"))
    commands = run.start()
    assert [type(c).__name__ for c in commands] == ["EndRun"]
    assert run.state.ended_reason == "goal met at enrollment"


def test_goal_is_checked_before_every_step() -> None:
    flow = workflow(
        "goal: 'subject.lifecycleStage == \"CUSTOMER\"'\n"
        "steps:\n  - update: {lifecycleStage: CUSTOMER}\n  - add_tag: never\n"
    )
    run = Driver(flow)
    run.start()
    assert run.state.status == "CONVERTED"
    assert not of(ChangeTags, run.commands)


def test_exit_by_event() -> None:
    run = Driver(workflow(NURTURE))
    (timer,) = of(ScheduleTimer, run.start())
    commands = run.event("customer.unsubscribed", {}, MONDAY + dt.timedelta(hours=1))
    assert of(CancelTimer, commands)[0].key == timer.key
    assert of(EndRun, commands)[0].status == "EXITED"
    assert run.state.ended_reason == "exit_when: event customer.unsubscribed"


def test_exit_by_condition() -> None:
    run = Driver(workflow(NURTURE))
    run.start()
    assert run.event("interaction.logged", {}, MONDAY) == []
    commands = run.changed(MONDAY + dt.timedelta(hours=1), tags=["do-not-contact"])
    assert of(EndRun, commands)[0].status == "EXITED"
    assert len(of(SendEmail, run.commands)) == 1


WINDOW = """
send_window: {days: [mon, tue, wed, thu, fri], hours: "08:00-18:00", timezone: subject}
steps:
  - {id: welcome, send_email: {template: welcome-lead}}
  - {id: pause, wait: 2d}
  - {id: tips, send_email: {template: welcome-tips}}
"""


def test_send_window_holds_then_sends_and_later_steps_are_timed_from_the_send() -> None:
    run = Driver(workflow(WINDOW))
    friday_evening = dt.datetime(2026, 11, 27, 19, 0, tzinfo=VN)
    (hold,) = of(ScheduleTimer, run.start(friday_evening))
    monday = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)
    assert (hold.purpose, hold.due_at, hold.key) == ("window", monday, "run-1:welcome:1:window")
    assert run.state.waiting is not None
    assert run.state.waiting.reason == "window"
    assert not of(SendEmail, run.commands)
    commands = run.fire()
    assert of(SendEmail, commands)[0].key == "run-1:welcome:1"
    (wait,) = of(ScheduleTimer, commands)
    assert wait.due_at == monday + dt.timedelta(days=2)
    tips = run.fire()
    assert records(tips) == [("tips", "send_email", "DONE")]
    assert of(SendEmail, tips)[0].key == "run-1:tips:1"


def test_send_window_in_the_subjects_zone() -> None:
    london = subject(timezone="Europe/London")
    run = Driver(workflow(WINDOW), subject=london)
    run.start(dt.datetime(2026, 11, 23, 14, 0, tzinfo=VN))  # 07:00 in London
    (hold,) = of(ScheduleTimer, run.commands)
    assert hold.due_at == dt.datetime(2026, 11, 23, 15, 0, tzinfo=VN)  # 08:00 in London
    inside = Driver(workflow(WINDOW))
    assert of(SendEmail, inside.start(MONDAY))


@pytest.mark.parametrize(
    ("overrides", "env", "reason"),
    [
        ({"consent": {"emailOptIn": False}}, {}, "no email consent"),
        ({}, {"suppressed": True}, "in the suppression segment"),
    ],
)  # fmt: skip
def test_consent_suppresses_emails_to_the_subject(
    overrides: dict[str, object], env: dict[str, object], reason: str
) -> None:
    flow = workflow(
        "steps:\n  - {id: hi, send_email: {template: welcome-lead}}\n"
        "  - {id: boss, send_email: {template: welcome-lead, to: owner}}\n"
    )
    run = Driver(flow, subject=subject(**overrides), **env)
    commands = run.start()
    assert records(commands) == [("hi", "send_email", "SUPPRESSED"), ("boss", "send_email", "DONE")]
    assert [c.to for c in of(SendEmail, commands)] == ["owner"]
    assert commands[0].detail["reason"] == reason


UNSUBSCRIBED = {"emailOptIn": True, "unsubscribedAt": "2026-11-24T08:00:00Z"}


def test_a_deals_mail_to_its_customer_follows_the_customers_consent() -> None:
    flow = workflow(
        "subject: opportunity\nsteps:\n"
        "  - {id: offer, send_email: {template: welcome-lead, to: subject}}\n"
        "  - {id: again, send_email: {template: welcome-lead, to: subject.customer}}\n"
        "  - {id: rep, send_email: {template: welcome-lead, to: owner}}\n"
    )
    gone = Driver(flow, subject={"name": "Deal", "customer": subject(consent=UNSUBSCRIBED)})
    assert records(gone.start()) == [
        ("offer", "send_email", "SUPPRESSED"),
        ("again", "send_email", "SUPPRESSED"),
        ("rep", "send_email", "DONE"),
    ]
    willing = Driver(flow, subject={"name": "Deal", "customer": subject()})
    assert [c.to for c in of(SendEmail, willing.start())] == [
        "subject",
        "subject.customer",
        "owner",
    ]
    orphan = Driver(flow, subject={"name": "Deal"})
    assert records(orphan.start())[0] == ("offer", "send_email", "SUPPRESSED")


def test_a_tickets_mail_to_its_customer_is_service_mail() -> None:
    """A ticket's customer gets the replies and apologies of the service they asked for,
    whatever their marketing consent."""
    flow = workflow(
        "subject: ticket\nsteps:\n"
        "  - {id: ack, send_email: {template: welcome-lead, to: subject}}\n"
        "  - {id: sorry, send_email: {template: welcome-lead, to: subject.customer}}\n"
    )
    ticket = {"subject": "Hỏng máy", "customer": subject(consent=UNSUBSCRIBED)}
    run = Driver(flow, subject=ticket)
    assert records(run.start()) == [("ack", "send_email", "DONE"), ("sorry", "send_email", "DONE")]


#: Marketing (it e-mails the customer) and without an exit_when of its own.
DRIP = """
steps:
  - {id: hi, send_email: {template: welcome-lead}}
  - {id: pause, wait: 2d}
  - {id: tips, send_email: {template: welcome-tips}}
"""
#: A sales follow-up: a task and a note to the owner, nothing to the customer.
FOLLOW_UP = """
steps:
  - {id: call, create_task: {title: Call back, assignee: owner, due: 1d}}
  - {id: pause, wait: 2d}
  - {id: remind, notify: {to: owner, template: welcome-lead}}
"""


def test_unsubscribing_exits_a_marketing_workflow_before_its_next_step() -> None:
    run = Driver(workflow(DRIP))
    (timer,) = of(ScheduleTimer, run.start())
    commands = run.changed(MONDAY + dt.timedelta(days=1), consent=UNSUBSCRIBED)
    assert of(CancelTimer, commands)[0].key == timer.key
    (end,) = of(EndRun, commands)
    assert (end.status, end.reason) == ("EXITED", "unsubscribed")
    assert run.feed(TimerFired(key=timer.key, now=timer.due_at)) == []
    assert len(of(SendEmail, run.commands)) == 1


def test_an_unsubscribed_customer_is_not_enrolled_in_marketing_and_leaves_at_once() -> None:
    fresh = EnrollmentHistory(now=MONDAY)
    gone = subject(consent=UNSUBSCRIBED)
    drip = workflow(DRIP)
    assert should_enroll(drip, gone, None, fresh) == (False, "unsubscribed (a marketing workflow)")
    assert should_enroll(workflow(FOLLOW_UP), gone, None, fresh) == (True, "enrolled")
    # Started anyway (a run enrolled before its subject's unsubscribe was relayed): it ends
    # before its first step, with nothing sent.
    run = Driver(drip, subject=gone)
    commands = run.start()
    assert not of(SendEmail, commands)
    assert of(EndRun, commands)[0].reason == "unsubscribed"


def test_unsubscribed_customers_keep_their_sales_follow_ups() -> None:
    run = Driver(workflow(FOLLOW_UP))
    run.start()
    assert run.changed(MONDAY + dt.timedelta(hours=1), consent=UNSUBSCRIBED) == []
    commands = run.fire()
    assert [(n.step_id, n.to) for n in of(Notify, commands)] == [("remind", "owner")]
    assert run.state.status == "COMPLETED"


SPLIT = """
steps:
  - id: offer
    split:
      - {name: a, weight: 45, steps: [{id: mail-a, send_email: {template: welcome-lead}}]}
      - {name: b, weight: 45, steps: [{id: mail-b, send_email: {template: welcome-tips}}]}
      - {name: holdout, weight: 10}
  - {id: done, add_tag: offered}
"""


def test_split_is_sticky_and_recorded() -> None:
    first = Driver(workflow(SPLIT), run_id="run-42")
    first.start()
    arm = first.state.vars["splits"]["offer"]
    again = Driver(workflow(SPLIT), run_id="run-42")
    again.start()
    assert again.state.vars["splits"]["offer"] == arm
    assert records(first.commands)[0] == ("offer", "split", "DONE")
    assert first.commands[0].detail["arm"] == arm
    assert records(first.commands)[-1] == ("done", "add_tag", "DONE")


def test_split_follows_the_weights() -> None:
    counts = Counter(choose_arm(f"run-{n}", "offer", [45, 45, 10]) for n in range(10_000))
    assert abs(counts[0] / 10_000 - 0.45) < 0.02
    assert abs(counts[1] / 10_000 - 0.45) < 0.02
    assert abs(counts[2] / 10_000 - 0.10) < 0.02


FAILING = """
steps:
  - id: hook
    webhook: {url: "https://example.com/h"}
    on_failure: [{id: tell, notify: {to: owner, template: welcome-tips}}]
  - {id: pause, wait: 1d}
  - {id: mail, send_email: {template: welcome-lead}}
"""


def test_action_failed_runs_on_failure_then_the_steps_after() -> None:
    run = Driver(workflow(FAILING))
    (timer,) = of(ScheduleTimer, run.start())
    later = MONDAY + dt.timedelta(hours=2)
    commands = run.feed(ActionFailed(step_id="hook", error="HTTP 503", now=later))
    assert of(CancelTimer, commands)[0].key == timer.key
    assert records(commands) == [
        ("hook", "webhook", "FAILED"), ("tell", "notify", "DONE"), ("pause", "wait", "WAITING"),
    ]  # fmt: skip
    assert of(ScheduleTimer, commands)[0].key == "run-1:pause:2"
    assert of(Notify, commands)[0].key == "run-1:tell:1"


def test_action_failed_without_handler_fails_the_run() -> None:
    run = Driver(workflow("steps:\n  - {id: mail, send_email: {template: x}}\n  - wait: 1d\n"))
    (timer,) = of(ScheduleTimer, run.start())
    commands = run.feed(ActionFailed(step_id="mail", error="SMTP down", now=MONDAY))
    assert of(CancelTimer, commands)[0].key == timer.key
    (end,) = of(EndRun, commands)
    assert (end.status, end.reason) == ("FAILED", "step mail failed: SMTP down")


def test_an_update_that_cannot_be_evaluated_fails_the_step() -> None:
    run = Driver(workflow("steps:\n  - update: {score: '${ subject.nope + 1 }'}\n"))
    run.start()
    assert run.state.status == "FAILED"


def test_updates_are_seen_by_later_steps_and_leave_the_environment_unchanged() -> None:
    """A transition works on its own view of the subject: a nested update, a tag and a
    condition after them see the new values; the subject it was given (shared with the
    other runs of a batch in the runtime) is not changed, not even its nested maps."""
    given = subject(attributes={"tier": "silver", "score": 1}, tags=["vip"])
    frozen = json.dumps(given, default=str, sort_keys=True)
    flow = workflow(
        "steps:\n"
        "  - update: {attributes.tier: gold}\n"
        "  - add_tag: upgraded\n"
        "  - id: check\n"
        '    if: \'subject.attributes.tier == "gold" && subject.attributes.score == 1'
        ' && "upgraded" in subject.tags\'\n'
        "    then: [{id: yes, add_tag: seen}]\n"
        "    else: [{id: no, add_tag: missed}]\n"
    )
    run = Driver(flow, subject=given)
    run.start()
    tags = [c.add for c in of(ChangeTags, run.commands)]
    assert tags == [("upgraded",), ("seen",)]
    assert json.dumps(given, default=str, sort_keys=True) == frozen


def test_persisting_between_inputs_gives_the_same_continuation() -> None:
    def play(persist: bool) -> list[object]:
        run = Driver(workflow(NURTURE + WAIT_FOR_TAIL), persist=persist)
        run.start(FRIDAY_16)
        run.fire()
        run.event("interaction.logged", {"kind": "EMAIL"}, FRIDAY_16 + dt.timedelta(days=3))
        while run.state.status == "WAITING":
            run.fire()
        return run.commands

    assert play(persist=True) == play(persist=False)


WAIT_FOR_TAIL = """
  - id: reply
    wait_for: {event: interaction.logged, when: 'event.kind == "EMAIL"', timeout: {business: 4h}}
    on_event: [{id: split, split: [{name: x, weight: 50}, {name: y, weight: 50}]}]
  - {id: bye, create_task: {title: "{{ subject.displayName }}", due: {business_days: 2}}}
"""


def test_should_enroll() -> None:
    flow = workflow(
        "trigger: {event: customer.created, when: 'subject.lifecycleStage == \"LEAD\"'}\n"
        "enrollment: {reenroll: {after: 90d}}\n" + NURTURE
    )
    now = MONDAY
    fresh = EnrollmentHistory(now=now)
    assert should_enroll(flow, subject(), {}, fresh) == (True, "enrolled")
    assert should_enroll(flow, subject(lifecycleStage="MQL"), {}, fresh)[0] is False
    customer = subject(lifecycleStage="CUSTOMER")
    assert should_enroll(flow, customer, {}, fresh) == (False, "trigger condition not met")
    active = EnrollmentHistory(now=now, started_at=(now,), active=True)
    assert should_enroll(flow, subject(), {}, active) == (False, "already has an active run")
    recent = EnrollmentHistory(now=now, started_at=(now - dt.timedelta(days=30),))
    assert should_enroll(flow, subject(), {}, recent)[0] is False
    old = EnrollmentHistory(now=now, started_at=(now - dt.timedelta(days=91),))
    assert should_enroll(flow, subject(), {}, old)[0] is True
    never = workflow("trigger: {event: customer.created}\n" + NURTURE)
    assert should_enroll(never, subject(), None, old) == (False, "already ran (reenroll: never)")
    assert should_enroll(never, customer, None, fresh) == (False, "goal already met")

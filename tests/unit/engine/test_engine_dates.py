"""Moments from a subject's date fields: ``date:`` trigger due times, and ``wait: {until}``
waits that move when the subject's date changes (pure engine, no I/O)."""

from __future__ import annotations

import datetime as dt

import pytest
from engine_support import MONDAY, VN, Driver, of, records, subject, workflow

from workflows.engine.dates import date_trigger_due
from workflows.engine.model import CancelTimer, RecordStep, ScheduleTimer, SendEmail
from workflows.language.spec import DateTrigger

UTC = dt.UTC


def spec(**values: str) -> DateTrigger.Date:
    return DateTrigger.Date.model_validate({"field": "subject.attributes.renewalDate", **values})


def renewal(date: str | None) -> dict[str, object]:
    return subject(attributes={} if date is None else {"renewalDate": date})


def test_a_date_trigger_is_due_offset_days_before_at_local_time() -> None:
    due = date_trigger_due(spec(offset="-7d", at="10:00"), renewal("2026-12-10"), MONDAY)
    assert due == dt.datetime(2026, 12, 3, 10, 0, tzinfo=VN)
    # the subject's time zone decides what 10:00 means, unless the trigger names one
    paris = renewal("2026-12-10") | {"timezone": "Europe/Paris"}
    assert date_trigger_due(spec(offset="-7d", at="10:00"), paris, MONDAY) == dt.datetime(
        2026, 12, 3, 9, 0, tzinfo=UTC
    )
    fixed = spec(offset="-7d", at="10:00", timezone="UTC")
    assert date_trigger_due(fixed, paris, MONDAY) == dt.datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    # no `at`: midnight of a date, the moment itself for a timestamp
    assert date_trigger_due(spec(), renewal("2026-12-10"), MONDAY) == dt.datetime(
        2026, 12, 10, tzinfo=VN
    )
    created = subject(createdAt=dt.datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    after_signup = DateTrigger.Date(field="subject.createdAt", offset="3d")
    assert date_trigger_due(after_signup, created, MONDAY) == dt.datetime(
        2026, 11, 26, 2, 30, tzinfo=UTC
    )


def test_a_late_due_time_fires_now_until_the_date_itself_is_over() -> None:
    seven_before = spec(offset="-7d", at="10:00")
    # renewal the day after tomorrow: the "7 days before" moment is behind us -> now
    assert date_trigger_due(seven_before, renewal("2026-11-25"), MONDAY) == MONDAY
    # the renewal day itself is still on (until local midnight) -> now
    evening = dt.datetime(2026, 11, 25, 23, 0, tzinfo=VN)
    assert date_trigger_due(seven_before, renewal("2026-11-25"), evening) == evening
    # once it is over nothing fires, whatever the offset
    assert date_trigger_due(seven_before, renewal("2026-11-22"), MONDAY) is None
    assert date_trigger_due(spec(offset="2d"), renewal("2026-11-20"), MONDAY) is None


@pytest.mark.parametrize("value", [None, "soon", 42])
def test_an_unset_or_non_date_field_never_triggers(value: object) -> None:
    given = subject(attributes={} if value is None else {"renewalDate": value})
    assert date_trigger_due(spec(offset="-7d"), given, MONDAY) is None


UNTIL = """
steps:
  - id: before-renewal
    wait: {until: 'subject.attributes.renewalDate'}
  - {id: remind, send_email: {template: welcome-lead, to: subject}}
"""


def test_a_wait_until_a_subject_date_moves_with_it() -> None:
    run = Driver(workflow(UNTIL), subject=renewal("2026-12-10T10:00:00+07:00"))
    (first,) = of(ScheduleTimer, run.start())
    assert first.due_at == dt.datetime(2026, 12, 10, 10, 0, tzinfo=VN)
    moved = run.changed(MONDAY + dt.timedelta(hours=1), attributes={"renewalDate": "2026-12-20"})
    (again,) = of(ScheduleTimer, moved)
    assert again.key == first.key  # the same timer, replaced: no second timer exists
    assert again.due_at == dt.datetime(2026, 12, 20, 0, 0, tzinfo=VN)
    assert records(moved) == [("before-renewal", "wait", "MOVED")]
    assert run.state.waiting is not None
    assert run.state.waiting.due_at == again.due_at
    # an unrelated change does not touch the timer
    assert run.changed(MONDAY + dt.timedelta(hours=2), displayName="An") == []
    # it fires at the new time
    fired = run.fire()
    assert of(SendEmail, fired)[0].step_id == "remind"
    assert run.state.status == "COMPLETED"


def test_a_wait_moved_into_the_past_ends_at_once() -> None:
    run = Driver(workflow(UNTIL), subject=renewal("2026-12-10"))
    run.start()
    later = MONDAY + dt.timedelta(days=1)
    moved = run.changed(later, attributes={"renewalDate": "2026-11-20"})
    assert of(CancelTimer, moved)
    assert records(moved) == [
        ("before-renewal", "wait", "MOVED"),
        ("remind", "send_email", "DONE"),
    ]
    assert run.state.status == "COMPLETED"


def test_a_cleared_date_holds_the_run_until_it_is_set_again() -> None:
    run = Driver(workflow(UNTIL), subject=renewal("2026-12-10"))
    run.start()
    cleared = run.changed(MONDAY + dt.timedelta(hours=1), attributes={})
    assert of(CancelTimer, cleared)
    assert not of(ScheduleTimer, cleared)
    assert run.state.status == "WAITING"
    assert run.state.waiting is not None
    assert run.state.waiting.due_at is None
    later = MONDAY + dt.timedelta(hours=2)
    set_again = run.changed(later, attributes={"renewalDate": "2026-12-24"})
    (timer,) = of(ScheduleTimer, set_again)
    assert timer.due_at == dt.datetime(2026, 12, 24, tzinfo=VN)
    keys = [c.key for c in run.commands if isinstance(c, RecordStep)]
    assert len(keys) == len(set(keys)), "every history line keeps its own idempotency key"


def test_a_wait_until_an_unset_date_holds_without_a_timer() -> None:
    run = Driver(workflow(UNTIL), subject=renewal(None))
    started = run.start()
    assert not of(ScheduleTimer, started)
    assert records(started) == [("before-renewal", "wait", "WAITING")]
    assert run.state.status == "WAITING"
    (timer,) = of(ScheduleTimer, run.changed(MONDAY, attributes={"renewalDate": "2026-12-01"}))
    assert timer.due_at == dt.datetime(2026, 12, 1, tzinfo=VN)


def test_a_wait_for_timeout_until_a_date_moves_and_times_out() -> None:
    flow = workflow(
        """
steps:
  - id: answer
    wait_for:
      event: interaction.logged
      timeout: {until: 'subject.attributes.renewalDate'}
    on_timeout:
      - {id: chase, send_email: {template: welcome-lead, to: subject}}
"""
    )
    run = Driver(flow, subject=renewal("2026-12-10"))
    run.start()
    moved = run.changed(MONDAY, attributes={"renewalDate": "2026-12-01"})
    assert of(ScheduleTimer, moved)[0].due_at == dt.datetime(2026, 12, 1, tzinfo=VN)
    # a customer event that is not the awaited one moves it too
    run.subject["attributes"] = {"renewalDate": "2026-11-01"}
    past = run.event("customer.updated", {"changes": {}}, MONDAY + dt.timedelta(hours=1))
    assert records(past) == [
        ("answer", "wait_for", "MOVED"),
        ("answer", "wait_for", "TIMED_OUT"),
        ("chase", "send_email", "DONE"),
    ]


def test_a_wait_until_something_not_a_date_fails_the_step() -> None:
    run = Driver(workflow(UNTIL), subject=renewal("2026-12-10"))
    run.start()
    run.changed(MONDAY, attributes={"renewalDate": "next tuesday"})
    assert run.state.status == "FAILED"


def test_only_waits_on_a_subject_date_move() -> None:
    flow = workflow(
        """
steps:
  - id: two-days
    wait: {until: 'now + duration("48h")'}
  - id: before-call
    wait: {until: 'timestamp(event.callAt) - duration("1h")'}
  - {id: remind, send_email: {template: welcome-lead, to: subject}}
"""
    )
    run = Driver(flow, subject=renewal("2026-12-10"))
    (first,) = of(ScheduleTimer, run.start(event={"callAt": "2026-11-26T15:00:00+07:00"}))
    # `now` changes with every input: such a wait must not be pushed back by each change
    assert run.changed(MONDAY + dt.timedelta(hours=5), displayName="An") == []
    run.fire()
    (second,) = of(ScheduleTimer, run.last)
    assert second.due_at == dt.datetime(2026, 11, 26, 14, 0, tzinfo=VN)
    # an event without `callAt` arriving meanwhile is not the run's event: nothing moves
    assert run.event("customer.updated", {"changes": {}}, first.due_at) == []
    assert run.state.waiting is not None
    assert run.state.waiting.due_at == second.due_at


def test_a_moved_wait_is_computed_with_the_runs_event_not_the_arriving_one() -> None:
    flow = workflow(
        """
steps:
  - id: ahead
    wait: {until: 'timestamp(subject.attributes.renewalDate) - duration(event.lead)'}
  - {id: remind, send_email: {template: welcome-lead, to: subject}}
"""
    )
    run = Driver(flow, subject=renewal("2026-12-10T10:00:00+07:00"))
    (first,) = of(ScheduleTimer, run.start(event={"lead": "24h"}))
    assert first.due_at == dt.datetime(2026, 12, 9, 10, 0, tzinfo=VN)
    run.subject["attributes"] = {"renewalDate": "2026-12-20T10:00:00+07:00"}
    moved = run.event("customer.updated", {"changes": {"attributes": []}}, MONDAY)
    assert of(ScheduleTimer, moved)[0].due_at == dt.datetime(2026, 12, 19, 10, 0, tzinfo=VN)

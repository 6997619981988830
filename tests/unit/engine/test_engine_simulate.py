"""``crm workflows simulate`` on the bundled workflows and on workflows written for a test."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from app.cli import cli
from workflows.language.validate import BUNDLED_DIR
from workflows.simulate import main_simulate

SUBJECT = {
    "id": "c-1",
    "displayName": "Nguyễn Văn An",
    "email": "an@example.vn",
    "lifecycleStage": "LEAD",
    "timezone": "Asia/Ho_Chi_Minh",
    "consent": {"emailOptIn": True, "unsubscribedAt": None},
    "owner": {"displayName": "Trần Thị Bình", "email": "binh@rapport.vn"},
    "tags": [],
    "lastInteractionAt": "2026-06-01T10:00:00+07:00",
}


def _simulate(
    tmp_path: Path, files: list[str | Path], start: str, events: str | None = None
) -> list[dict[str, Any]]:
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps(SUBJECT), encoding="utf-8")
    events_path = None
    if events is not None:
        events_path = tmp_path / "events.yaml"
        events_path.write_text(events, encoding="utf-8")
    out = io.StringIO()
    status = main_simulate(
        [str(f) for f in files], str(subject), str(events_path or "") or None, start, True, out
    )
    assert status == 0, out.getvalue()
    return json.loads(out.getvalue())


def _steps(timeline: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [
        (e["at"], e["step"], e["action"], e["detail"].get("outcome") or e["detail"]["status"])
        for e in timeline
    ]


WELCOME = BUNDLED_DIR / "welcome-nurture.yaml"


def test_welcome_nurture_holds_for_the_send_window(tmp_path: Path) -> None:
    timeline = _simulate(tmp_path, [WELCOME], "2026-11-27T19:00:00+07:00")
    assert _steps(timeline) == [
        ("2026-11-27T19:00:00+07:00", "welcome", "send_email", "WAITING"),
        ("2026-11-30T08:00:00+07:00", "welcome", "send_email", "DONE"),
        ("2026-11-30T08:00:00+07:00", "pause", "wait", "WAITING"),
        ("2026-12-02T08:00:00+07:00", "tips", "send_email", "DONE"),
        ("2026-12-02T08:00:00+07:00", "run", "end", "COMPLETED"),
    ]
    welcome = timeline[1]["detail"]
    assert welcome["recipient"] == "an@example.vn"
    assert welcome["subject"] == "Chào mừng Nguyễn Văn An đến với chúng tôi / Welcome aboard"
    assert timeline[2]["detail"]["due_at"] == "2026-12-02T08:00:00+07:00"


def test_welcome_nurture_goal_met_by_an_update(tmp_path: Path) -> None:
    events = "- at: 2026-12-01T09:00:00+07:00\n  update: {lifecycleStage: CUSTOMER}\n"
    timeline = _simulate(tmp_path, [WELCOME], "2026-11-30T10:00:00+07:00", events)
    assert _steps(timeline) == [
        ("2026-11-30T10:00:00+07:00", "welcome", "send_email", "DONE"),
        ("2026-11-30T10:00:00+07:00", "pause", "wait", "WAITING"),
        ("2026-12-01T09:00:00+07:00", "pause", "end", "CONVERTED"),
    ]


def test_welcome_nurture_exits_on_unsubscribe(tmp_path: Path) -> None:
    events = "- at: 2026-12-01T09:00:00+07:00\n  event: customer.unsubscribed\n"
    timeline = _simulate(tmp_path, [WELCOME], "2026-11-30T10:00:00+07:00", events)
    assert timeline[-1]["detail"] == {
        "status": "EXITED", "reason": "exit_when: event customer.unsubscribed",
    }  # fmt: skip


BUSINESS = """
key: business-wait
trigger: {manual: true}
calendar: CALENDAR
steps:
  - {id: wait-4h, wait: {business: 4h}}
  - {id: remind, notify: {to: owner, template: welcome-tips}}
"""
WEEKDAYS = """
calendars:
  weekdays:
    timezone: Asia/Ho_Chi_Minh
    hours: {mon-fri: ["09:00-17:00"]}
"""


def test_business_wait_crosses_the_weekend(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text(BUSINESS.replace("CALENDAR", "weekdays"), encoding="utf-8")
    (tmp_path / "calendars.yaml").write_text(WEEKDAYS, encoding="utf-8")
    timeline = _simulate(tmp_path, [tmp_path], "2026-11-27T16:00:00+07:00")
    assert _steps(timeline) == [
        ("2026-11-27T16:00:00+07:00", "wait-4h", "wait", "WAITING"),
        ("2026-11-30T12:00:00+07:00", "remind", "notify", "DONE"),
        ("2026-11-30T12:00:00+07:00", "run", "end", "COMPLETED"),
    ]
    assert timeline[1]["detail"]["recipient"] == "binh@rapport.vn"


def test_business_wait_on_saturday_hours(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text(BUSINESS.replace("CALENDAR", "vn-office"), encoding="utf-8")
    timeline = _simulate(tmp_path, [tmp_path / "flow.yaml"], "2026-11-27T16:00:00+07:00")
    assert timeline[1]["at"] == "2026-11-28T10:30:00+07:00"


MEETING = BUNDLED_DIR / "meeting-follow-up.yaml"


def test_meeting_follow_up_times_out_twice(tmp_path: Path) -> None:
    timeline = _simulate(tmp_path, [MEETING], "2026-11-27T16:00:00+07:00")
    assert _steps(timeline) == [
        ("2026-11-27T16:00:00+07:00", "follow-up-task", "create_task", "DONE"),
        ("2026-11-27T16:00:00+07:00", "await-task", "wait_for", "WAITING"),
        ("2026-11-28T12:00:00+07:00", "await-task", "wait_for", "TIMED_OUT"),
        ("2026-11-28T12:00:00+07:00", "remind-owner", "notify", "DONE"),
        ("2026-11-28T12:00:00+07:00", "await-task-again", "wait_for", "WAITING"),
        ("2026-11-30T17:30:00+07:00", "await-task-again", "wait_for", "TIMED_OUT"),
        ("2026-11-30T17:30:00+07:00", "tell-team-lead", "notify", "DONE"),
        ("2026-11-30T17:30:00+07:00", "run", "end", "COMPLETED"),
    ]
    task = timeline[0]["detail"]
    assert task["title"] == "Follow-up sau buổi gặp với Nguyễn Văn An"
    assert task["due_at"] == "2026-11-28T12:00:00+07:00"


def test_meeting_follow_up_converts_when_the_task_is_done(tmp_path: Path) -> None:
    events = (
        "- at: 2026-11-28T09:00:00+07:00\n  event: task.completed\n"
        "  data: {task: {workflowRunId: someone-else}}\n"
        "- at: 2026-11-28T11:00:00+07:00\n  event: task.completed\n"
        "  data: {task: {workflowRunId: simulation}}\n"
    )
    timeline = _simulate(tmp_path, [MEETING], "2026-11-27T16:00:00+07:00", events)
    assert _steps(timeline)[2:] == [
        ("2026-11-28T11:00:00+07:00", "await-task", "wait_for", "MATCHED"),
        ("2026-11-28T11:00:00+07:00", "steps.1.on_event.0", "end", "DONE"),
        ("2026-11-28T11:00:00+07:00", "steps.1.on_event.0", "end", "CONVERTED"),
    ]


def test_re_engagement_takes_one_arm(tmp_path: Path) -> None:
    timeline = _simulate(
        tmp_path, [BUNDLED_DIR / "re-engagement.yaml"], "2026-11-30T09:00:00+07:00"
    )
    arm = timeline[0]["detail"]["arm"]
    assert timeline[0]["action"] == "split"
    if arm == "holdout":
        assert [e["action"] for e in timeline] == ["split", "end"]
    else:
        assert timeline[1]["step"] == f"offer-{arm}"


def test_cli_prints_a_human_timeline(tmp_path: Path) -> None:
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps(SUBJECT), encoding="utf-8")
    args = ["workflows", "simulate", str(WELCOME), "--subject", str(subject)]
    result = CliRunner().invoke(cli, [*args, "--start", "2026-11-27T19:00:00+07:00"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Fri 2026-11-27 19:00 +0700  welcome")
    assert "held: outside the send window until Mon 2026-11-30 08:00" in lines[0]
    assert 'email "Chào mừng Nguyễn Văn An' in lines[1]
    assert lines[-1].endswith("run ends COMPLETED: all steps done")


def test_cli_refuses_invalid_files_and_more_than_one_workflow(tmp_path: Path) -> None:
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps(SUBJECT), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: bad\ntrigger: {manual: true}\nsteps: [{wait: 0d}]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["workflows", "simulate", str(bad), "--subject", str(subject)])
    assert result.exit_code == 1
    assert f"{bad}:3:" in result.output
    two = CliRunner().invoke(
        cli, ["workflows", "simulate", str(WELCOME), str(MEETING), "--subject", str(subject)]
    )
    assert two.exit_code == 1
    assert "expected exactly one workflow" in two.output


RENEWAL = """\
key: renewal
trigger:
  date: {field: subject.attributes.renewalDate, offset: -7d, at: "10:00"}
steps:
  - id: until-renewal
    wait: {until: 'subject.attributes.renewalDate'}
  - {id: hello, notify: {to: owner, template: welcome-tips}}
"""
RENEWAL_MOVES = """\
- at: 2026-11-24T10:00:00+07:00
  update: {attributes: {}}
- at: 2026-11-25T10:00:00+07:00
  update: {attributes: {renewalDate: "2026-12-20"}}
"""


def test_a_wait_until_a_date_follows_the_subject(tmp_path: Path) -> None:
    SUBJECT["attributes"] = {"renewalDate": "2026-12-10"}
    try:
        (tmp_path / "flow.yaml").write_text(RENEWAL, encoding="utf-8")
        timeline = _simulate(
            tmp_path, [tmp_path / "flow.yaml"], "2026-11-23T09:00:00+07:00", RENEWAL_MOVES
        )
        subject = tmp_path / "subject.json"
        events = tmp_path / "events.yaml"
        args = ["workflows", "simulate", str(tmp_path / "flow.yaml"), "--subject", str(subject)]
        result = CliRunner().invoke(
            cli, [*args, "--events", str(events), "--start", "2026-11-23T09:00:00+07:00"]
        )
    finally:
        del SUBJECT["attributes"]
    assert _steps(timeline) == [
        ("2026-11-23T09:00:00+07:00", "until-renewal", "wait", "WAITING"),
        ("2026-11-24T10:00:00+07:00", "until-renewal", "wait", "MOVED"),
        ("2026-11-25T10:00:00+07:00", "until-renewal", "wait", "MOVED"),
        ("2026-12-20T00:00:00+07:00", "hello", "notify", "DONE"),
        ("2026-12-20T00:00:00+07:00", "run", "end", "COMPLETED"),
    ]
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].endswith("Thu 2026-12-10 00:00 +0700 -> - (date not set)")
    assert lines[2].endswith("- -> Sun 2026-12-20 00:00 +0700")


def test_simulate_honours_a_suppression_segment_among_the_files(tmp_path: Path) -> None:
    """Given the workspace's suppression segment, a simulation shows the send suppressed for a
    customer in it, as the runtime would; the same customer outside it is mailed."""
    flow = tmp_path / "promo.yaml"
    flow.write_text(
        "key: promo\ntrigger: {manual: true}\nsteps:\n"
        "  - {id: offer, send_email: {template: welcome-lead, to: subject}}\n",
        encoding="utf-8",
    )
    segment = tmp_path / "suppression.yaml"
    segment.write_text(
        "segments:\n  suppression:\n    when: 'subject.lifecycleStage == \"LEAD\"'\n",
        encoding="utf-8",
    )
    templates = BUNDLED_DIR / "templates.yaml"
    start = "2026-11-24T10:00:00+07:00"
    inside = _simulate(tmp_path, [flow, templates, segment], start)
    assert _steps(inside)[0] == (start, "offer", "send_email", "SUPPRESSED")
    assert inside[0]["detail"]["reason"] == "in the suppression segment"
    outside = _simulate(tmp_path, [flow, templates], start)
    assert _steps(outside)[0] == (start, "offer", "send_email", "DONE")

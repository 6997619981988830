"""Validation of workflow files: one case per rule, each at its exact line and column."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from workflows.language.cli import main_validate
from workflows.language.validate import BUNDLED_DIR, validate_paths, validate_texts

TRIGGER = "trigger: {event: customer.created}\n"


def workflow(body: str, *, key: str = "wf", header: str = TRIGGER) -> str:
    return f"key: {key}\n{header}{body}"


# (files, (file, line, col, path, message fragment)); every case has exactly one problem.
CASES = {
    "yaml-syntax": (
        {"wf.yaml": "key: wf\nsteps: [1, 2\ntrigger: x\n"},
        ("wf.yaml", 3, 8, "(root)", "YAML syntax error"),
    ),
    "yaml-duplicate-key": (
        {"wf.yaml": workflow("steps:\n  - wait: 2d\nsteps: []\n")},
        ("wf.yaml", 5, 1, "(root)", 'found duplicate key "steps"'),
    ),
    "unknown-key-top-level": (
        {"wf.yaml": workflow("colour: blue\nsteps:\n  - wait: 2d\n")},
        ("wf.yaml", 3, 1, "colour", "unknown key 'colour'"),
    ),
    "unknown-key-in-step": (
        {"wf.yaml": workflow("steps:\n  - send_email: {template: welcome-lead, cc: boss}\n")},
        ("wf.yaml", 4, 42, "steps[0].send_email.cc", "unknown key 'cc'"),
    ),
    "missing-required-key": (
        {"wf.yaml": "key: wf\nsteps:\n  - wait: 2d\n"},
        ("wf.yaml", 1, 1, "(root)", "missing required key 'trigger'"),
    ),
    "key-not-a-slug": (
        {"wf.yaml": workflow("steps:\n  - wait: 2d\n", key="Trial_Nurture")},
        ("wf.yaml", 1, 6, "key", "'Trial_Nurture' is not a lowercase slug"),
    ),
    "duplicate-workflow-key": (
        {
            "a.yaml": workflow("steps:\n  - wait: 2d\n"),
            "b.yaml": workflow("steps:\n  - wait: 3d\n"),
        },
        ("b.yaml", 1, 6, "key", "duplicate workflow key 'wf' (first defined at a.yaml:1:6)"),
    ),
    "duplicate-template-key": (
        {
            "t1.yaml": "templates:\n  hello: {subject: Hi, text: Hi}\n",
            "t2.yaml": "templates:\n  hello: {subject: Yo, text: Yo}\n",
        },
        ("t2.yaml", 2, 3, "templates.hello", "duplicate template key 'hello'"),
    ),
    "unknown-event-trigger": (
        {"wf.yaml": workflow("steps:\n  - wait: 2d\n", header="trigger: {event: lead.made}\n")},
        ("wf.yaml", 2, 18, "trigger.event", "unknown event 'lead.made'"),
    ),
    "unknown-event-wait-for": (
        {"wf.yaml": workflow("steps:\n  - wait_for: {event: task.done, timeout: 1d}\n")},
        ("wf.yaml", 4, 23, "steps[0].wait_for.event", "did you mean 'task.completed'?"),
    ),
    "unknown-event-exit-when": (
        {"wf.yaml": workflow("exit_when:\n  - event: unsubscribed\nsteps:\n  - wait: 2d\n")},
        ("wf.yaml", 4, 12, "exit_when[0].event", "unknown event 'unsubscribed'"),
    ),
    "unknown-template": (
        {"wf.yaml": workflow("steps:\n  - send_email: {template: no-such, to: subject}\n")},
        ("wf.yaml", 4, 28, "steps[0].send_email.template", "unknown template 'no-such'"),
    ),
    "unknown-calendar": (
        {"wf.yaml": workflow("calendar: moon-base\nsteps:\n  - wait: 2d\n")},
        ("wf.yaml", 3, 11, "calendar", "unknown calendar 'moon-base'"),
    ),
    "unknown-segment": (
        {
            "wf.yaml": workflow(
                "steps:\n  - wait: 2d\n",
                header="trigger:\n  schedule: {cron: '0 9 * * MON'}\n  for_each: {segment: vips}\n",
            )
        },
        ("wf.yaml", 4, 23, "trigger.for_each.segment", "unknown segment 'vips'"),
    ),
    "unknown-workflow-enroll": (
        {"wf.yaml": workflow("steps:\n  - enroll: {workflow: nowhere}\n")},
        ("wf.yaml", 4, 24, "steps[0].enroll.workflow", "unknown workflow 'nowhere'"),
    ),
    "cel-syntax-column": (
        {
            "wf.yaml": workflow(
                "steps:\n  - wait: 2d\n",
                header="trigger:\n  event: customer.created\n  when: 'subject.x == '\n",
            )
        },
        ("wf.yaml", 4, 23, "trigger.when", "CEL does not compile: Syntax error"),
    ),
    "cel-unknown-variable": (
        {"wf.yaml": workflow("goal: 'customer.stage == \"WON\"'\nsteps:\n  - wait: 2d\n")},
        ("wf.yaml", 3, 7, "goal", "unknown variable 'customer' in CEL"),
    ),
    "cel-in-update-value": (
        {"wf.yaml": workflow("steps:\n  - update: {attributes.score: '${ subject.score + }'}\n")},
        ("wf.yaml", 4, 52, "steps[0].update.attributes.score", "CEL does not compile"),
    ),
    "update-expression-not-whole-value": (
        {"wf.yaml": workflow("steps:\n  - update: {attributes.note: 'score ${subject.score}'}\n")},
        ("wf.yaml", 4, 31, "steps[0].update.attributes.note", "must be the whole value"),
    ),
    "cel-in-switch-case": (
        {"wf.yaml": workflow("steps:\n  - switch:\n      - {when: 'a ||', steps: []}\n")},
        ("wf.yaml", 5, 21, "steps[0].switch[0].when", "CEL does not compile"),
    ),
    "jinja-template-block-line": (
        {"t.yaml": "templates:\n  hi:\n    subject: Hi\n    text: |\n      Hello\n      {{ x }\n"},
        ("t.yaml", 6, 7, "templates.hi.text", "template does not compile"),
    ),
    "jinja-task-title": (
        {"wf.yaml": workflow("steps:\n  - create_task: {title: 'Call {% if %}'}\n")},
        ("wf.yaml", 4, 26, "steps[0].create_task.title", "template does not compile"),
    ),
    "duration-unparsable": (
        {"wf.yaml": workflow("steps:\n  - wait: 2 days\n")},
        ("wf.yaml", 4, 11, "steps[0].wait", "cannot read the duration '2 days'"),
    ),
    "duration-zero": (
        {"wf.yaml": workflow("steps:\n  - wait: 0m\n")},
        ("wf.yaml", 4, 11, "steps[0].wait", "must be longer than zero"),
    ),
    "duration-negative": (
        {"wf.yaml": workflow("steps:\n  - wait: -2d\n")},
        ("wf.yaml", 4, 11, "steps[0].wait", "must not be negative"),
    ),
    "business-duration-in-days": (
        {"wf.yaml": workflow("steps:\n  - wait: {business: 2d}\n")},
        ("wf.yaml", 4, 22, "steps[0].wait.business", "use {business_days: N}"),
    ),
    "business-days-zero": (
        {"wf.yaml": workflow("steps:\n  - wait: {business_days: 0}\n")},
        ("wf.yaml", 4, 27, "steps[0].wait.business_days", "greater than or equal to 1"),
    ),
    "duplicate-step-id": (
        {
            "wf.yaml": workflow(
                "steps:\n  - {id: hello, wait: 1d}\n  - if: 'true'\n    then:\n"
                "      - {id: hello, wait: 2d}\n"
            )
        },
        ("wf.yaml", 7, 14, "steps[1].then[0].id", "duplicate step id 'hello' (first at line 4)"),
    ),
    "split-weights-sum": (
        {
            "wf.yaml": workflow(
                "steps:\n  - split:\n      - {name: a, weight: 50}\n      - {name: b, weight: 40}\n"
            )
        },
        ("wf.yaml", 5, 7, "steps[0].split", "split weights sum to 90, not 100"),
    ),
    "split-duplicate-arm": (
        {
            "wf.yaml": workflow(
                "steps:\n  - split:\n      - {name: a, weight: 50}\n      - {name: a, weight: 50}\n"
            )
        },
        ("wf.yaml", 5, 7, "steps[0].split", "duplicate arm name 'a'"),
    ),
    "wait-for-without-timeout": (
        {"wf.yaml": workflow("steps:\n  - wait_for: {event: task.completed}\n")},
        ("wf.yaml", 4, 15, "steps[0].wait_for", "missing required key 'timeout'"),
    ),
    "loop-self-enroll": (
        {
            "wf.yaml": workflow(
                "enrollment: {reenroll: always}\nsteps:\n  - enroll: {workflow: wf}\n"
            )
        },
        ("wf.yaml", 5, 24, "steps[0].enroll.workflow", "loop that cannot end: wf -> wf"),
    ),
    "update-of-a-field-that-cannot-change": (
        {"wf.yaml": workflow("steps:\n  - update: {primaryEmail: x@y.vn}\n")},
        ("wf.yaml", 4, 14, "steps[0].update.primaryEmail", "'primaryEmail' cannot be updated"),
    ),
    "tag-on-a-deal": (
        {
            "wf.yaml": "key: wf\nsubject: opportunity\ntrigger: {manual: true}\n"
            "steps:\n  - add_tag: big\n"
        },
        (
            "wf.yaml",
            5,
            5,
            "steps[0].add_tag",
            "add_tag is for workflows with subject: customer or subject: ticket",
        ),
    ),
    "update-outside-customer": (
        {
            "wf.yaml": "key: wf\nsubject: ticket\ntrigger: {manual: true}\n"
            "steps:\n  - update: {lifecycleStage: CUSTOMER}\n"
        },
        ("wf.yaml", 5, 5, "steps[0].update", "update is for workflows with subject: customer"),
    ),
    "escalate-outside-ticket": (
        {"wf.yaml": workflow("steps:\n  - escalate: {level: 1}\n")},
        ("wf.yaml", 4, 5, "steps[0].escalate", "escalate is for workflows with subject: ticket"),
    ),
    "send-window-hours": (
        {"wf.yaml": workflow("send_window: {hours: '17:00-09:00'}\nsteps:\n  - wait: 1d\n")},
        ("wf.yaml", 3, 22, "send_window.hours", "hours must end after they start"),
    ),
    "send-window-days": (
        {
            "wf.yaml": workflow(
                "send_window: {days: [monday], hours: '09:00-17:00'}\nsteps: [{wait: 1d}]\n"
            )
        },
        ("wf.yaml", 3, 22, "send_window.days[0]", "Input should be 'mon'"),
    ),
    "cron-invalid": (
        {
            "wf.yaml": workflow(
                "steps:\n  - wait: 1d\n",
                header="trigger:\n  schedule: {cron: '61 9 * * MON'}\n  for_each: {when: 'true'}\n",
            )
        },
        ("wf.yaml", 3, 20, "trigger.schedule.cron", "invalid cron expression '61 9 * * MON'"),
    ),
    "schedule-time-zone": (
        {
            "wf.yaml": workflow(
                "steps:\n  - wait: 1d\n",
                header="trigger:\n  schedule: {cron: '0 9 * * *', timezone: Mars/Olympus}\n"
                "  for_each: {when: 'true'}\n",
            )
        },
        ("wf.yaml", 3, 43, "trigger.schedule.timezone", "unknown time zone 'Mars/Olympus'"),
    ),
    "switch-two-defaults": (
        {"wf.yaml": workflow("steps:\n  - switch:\n      - default: []\n      - default: []\n")},
        ("wf.yaml", 5, 7, "steps[0].switch", "at most one default"),
    ),
    "switch-default-not-last": (
        {
            "wf.yaml": workflow(
                "steps:\n  - switch:\n      - default: []\n      - {when: 'true', steps: []}\n"
            )
        },
        ("wf.yaml", 5, 7, "steps[0].switch", "default of a switch must be its last case"),
    ),
    "end-unknown-value": (
        {"wf.yaml": workflow("steps:\n  - end: finished\n")},
        (
            "wf.yaml",
            4,
            10,
            "steps[0].end",
            "Input should be 'converted' or 'exited', got 'finished'",
        ),
    ),
    "retry-attempts-range": (
        {"wf.yaml": workflow("steps:\n  - add_tag: vip\n    retry: {attempts: 50}\n")},
        ("wf.yaml", 5, 23, "steps[0].retry.attempts", "less than or equal to 20"),
    ),
    "retry-backoff-order": (
        {
            "wf.yaml": workflow(
                "steps:\n  - add_tag: vip\n    retry: {backoff: 1h, max_backoff: 1m}\n"
            )
        },
        ("wf.yaml", 5, 12, "steps[0].retry", "max_backoff must not be shorter than backoff"),
    ),
    "step-without-kind": (
        {"wf.yaml": workflow("steps:\n  - id: lonely\n")},
        ("wf.yaml", 4, 5, "steps[0]", "a step needs exactly one of: wait, wait_for"),
    ),
    "trigger-two-kinds": (
        {
            "wf.yaml": workflow(
                "steps: [{wait: 1d}]\n", header="trigger: {manual: true, event: customer.created}\n"
            )
        },
        ("wf.yaml", 2, 10, "trigger", "a trigger needs exactly one of"),
    ),
    "calendar-model-error": (
        {
            "c.yaml": "calendars:\n  shop:\n    timezone: UTC\n"
            "    hours: {mon-fri: ['08:00-27:00']}\n"
        },
        ("c.yaml", 4, 23, "calendars.shop.hours.mon-fri[0]", "27:00 is not a time of day"),
    ),
    "sla-policy-business-days": (
        {
            "p.yaml": "sla_policies:\n  - key: gold\n    applies_when: 'true'\n"
            "    targets: {HIGH: {first_reply: 1d}}\n"
        },
        ("p.yaml", 4, 35, "sla_policies[0].targets.HIGH.first_reply", "hours and minutes only"),
    ),
    "recipient-unknown": (
        {"wf.yaml": workflow("steps:\n  - notify: {to: boss, template: welcome-lead}\n")},
        ("wf.yaml", 4, 18, "steps[0].notify.to", "unknown recipient 'boss'"),
    ),
    "neither-workflow-nor-bundle": (
        {"x.yaml": "- just\n- a list\n"},
        ("x.yaml", 1, 1, "(root)", "expected a workflow (with key:) or a bundle"),
    ),
}


def write(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [str(tmp_path / name) for name in files]


@pytest.mark.parametrize(("files", "expected"), list(CASES.values()), ids=list(CASES))
def test_rule(tmp_path: Path, files: dict[str, str], expected: tuple) -> None:
    file, line, col, path, fragment = expected
    _, problems = validate_texts(files)
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert (problem.file, problem.line, problem.col) == (file, line, col), str(problem)
    assert str(problem).startswith(f"{file}:{line}:{col}: {path}: ")
    assert fragment in problem.message

    out = io.StringIO()
    assert main_validate(write(tmp_path, files), out) == 1
    assert f"{Path(file).name}:{line}:{col}: {path}: " in out.getvalue()


def test_every_problem_of_a_file_is_reported() -> None:
    text = workflow(
        "colour: blue\n"
        "steps:\n"
        "  - wait: 2 days\n"
        "  - send_email: {template: no-such}\n"
        "  - wait_for: {event: task.completed}\n"
        "  - end: finished\n"
    )
    _, problems = validate_texts({"wf.yaml": text})
    assert [(p.line, p.col) for p in problems] == [(3, 1), (5, 11), (6, 28), (7, 15), (8, 10)]


def test_problems_across_files_are_sorted_and_all_reported(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "a.yaml": workflow("steps:\n  - wait: 0m\n", key="a"),
            "b.yaml": workflow("steps:\n  - end: nope\n", key="b"),
        },
    )
    _, problems = validate_paths([tmp_path])
    assert [Path(p.file).name for p in problems] == ["a.yaml", "b.yaml"]
    assert sorted(paths) == sorted(str(Path(p.file)) for p in problems)


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main_validate([str(tmp_path / "nope.yaml")], out) == 1
    assert "no such file or folder" in out.getvalue()


def test_bundled_definitions_validate_clean() -> None:
    definitions, problems = validate_paths([BUNDLED_DIR])
    assert problems == []
    assert {"welcome-nurture", "meeting-follow-up", "re-engagement", "gold-breach-escalation",
            "sla-warning"} <= set(definitions.workflows)  # fmt: skip
    assert {"welcome-lead", "reengage-offer-a", "reengage-offer-b", "sla-apology", "sla-breach",
            "sla-breach-level-2", "sla-warning"} <= set(definitions.templates)  # fmt: skip
    assert "inactive-90-days" in definitions.segments
    assert list(definitions.sla_policies) == ["gold", "standard"]
    assert {"vn-office", "always"} <= set(definitions.calendars)

    out = io.StringIO()
    assert main_validate([str(BUNDLED_DIR)], out) == 0
    shipped = len(list(BUNDLED_DIR.glob("*.yaml")))
    assert out.getvalue().strip() == f"{shipped} files OK"


def test_references_resolve_to_bundled_definitions() -> None:
    text = workflow(
        "calendar: vn-office\n"
        "steps:\n"
        "  - send_email: {template: welcome-lead}\n"
        "  - wait: {business: 4h, calendar: always}\n"
        "  - enroll: {workflow: welcome-nurture}\n",
        header="trigger: {segment: inactive-90-days}\n",
    )
    definitions, problems = validate_texts({"wf.yaml": text})
    assert problems == []
    assert definitions.workflows["wf"].calendar == "vn-office"


def test_given_files_resolve_among_themselves() -> None:
    files = {
        "wf.yaml": workflow("steps:\n  - send_email: {template: local-hello}\n"),
        "bundle.yaml": (
            "templates:\n  local-hello:\n"
            "    subject: Xin chào\n    text: Chào {{ subject.displayName }}\n"
        ),
    }
    _, problems = validate_texts(files, with_bundled=False)
    assert problems == []


def test_ticket_workflow_from_the_sla_spec_is_valid() -> None:
    text = (
        "key: gold-breach-escalation\nsubject: ticket\n"
        "trigger: {event: sla.breached, when: 'event.sla.policy == \"gold\"'}\n"
        "enrollment: {reenroll: always}\n"
        "steps:\n"
        "  - send_email: {template: welcome-lead, to: subject.customer}\n"
        "  - escalate: {level: 1}\n"
        "  - notify: {to: team_lead, template: welcome-lead}\n"
        "  - wait: 30m\n"
        '  - if: \'subject.status != "SOLVED" && subject.status != "CLOSED"\'\n'
        "    then:\n"
        "      - escalate: {level: 2}\n"
        "      - notify: {to: manager, template: welcome-lead}\n"
    )
    _, problems = validate_texts({"esc.yaml": text})
    assert problems == []


def test_enroll_loop_with_a_goal_is_allowed() -> None:
    text = workflow(
        "enrollment: {reenroll: always}\ngoal: 'subject.lifecycleStage == \"CUSTOMER\"'\n"
        "steps:\n  - wait: 7d\n  - enroll: {workflow: wf}\n"
    )
    _, problems = validate_texts({"wf.yaml": text})
    assert problems == []


def test_loop_through_two_workflows_is_reported_in_both() -> None:
    files = {
        "a.yaml": workflow(
            "enrollment: {reenroll: always}\nsteps:\n  - wait: 1d\n  - enroll: {workflow: b}\n",
            key="a",
        ),
        "b.yaml": workflow(
            "enrollment: {reenroll: always}\nsteps:\n  - enroll: {workflow: a}\n",
            key="b",
            header="trigger: {manual: true}\n",
        ),
    }
    _, problems = validate_texts(files)
    assert [str(p).split("; ")[0] for p in problems] == [
        "a.yaml:6:24: steps[1].enroll.workflow: loop that cannot end: a -> b -> a",
        "b.yaml:5:24: steps[0].enroll.workflow: loop that cannot end: b -> a -> b",
    ]

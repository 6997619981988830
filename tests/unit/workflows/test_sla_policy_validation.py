"""SLA policies validate like workflows: every rule reported at its file, line and column."""

from __future__ import annotations

import pytest

from workflows.language.validate import validate_texts
from workflows.runtime.deploy import sla_policy_set


def policies(body: str) -> str:
    return "sla_policies:\n  - key: gold\n" + body


GOOD_TARGETS = "    targets: {HIGH: {first_reply: 4h}}\n"

# (YAML, (line, col, path, message fragment)); each has exactly one problem.
CASES = {
    "days-in-business-duration": (
        policies("    applies_when: 'true'\n    targets: {HIGH: {resolution: 2d}}\n"),
        (4, 34, "sla_policies[0].targets.HIGH.resolution", "{business_days: N}"),
    ),
    "weeks-in-business-duration": (
        policies("    applies_when: 'true'\n    targets: {LOW: {resolution: 1w}}\n"),
        (4, 33, "sla_policies[0].targets.LOW.resolution", "a business day has no fixed length"),
    ),
    "unknown-calendar": (
        policies("    applies_when: 'true'\n    calendar: hanoi-office\n" + GOOD_TARGETS),
        (4, 15, "sla_policies[0].calendar", "unknown calendar 'hanoi-office'"),
    ),
    "unknown-target-calendar": (
        policies("    applies_when: 'true'\n    targets: {HIGH: {first_reply: 4h, calendar: x}}\n"),
        (4, 49, "sla_policies[0].targets.HIGH.calendar", "unknown calendar 'x'"),
    ),
    "cel-does-not-compile": (
        policies("    applies_when: 'ticket.customer.tags.exists(t, t =='\n" + GOOD_TARGETS),
        # Where the parser stopped: the end of the expression (col 19 + 36 characters).
        (3, 55, "sla_policies[0].applies_when", "CEL does not compile"),
    ),
    "cel-unknown-variable": (
        policies("    applies_when: 'subject.priority == \"HIGH\"'\n" + GOOD_TARGETS),
        (3, 19, "sla_policies[0].applies_when", "unknown variable 'subject'"),
    ),
    "warn-at-100": (
        policies("    applies_when: 'true'\n" + GOOD_TARGETS + "    warn_at: 100%\n"),
        (5, 14, "sla_policies[0].warn_at", "between 1% and 99%"),
    ),
    "warn-at-0": (
        policies("    applies_when: 'true'\n" + GOOD_TARGETS + "    warn_at: 0\n"),
        (5, 14, "sla_policies[0].warn_at", "between 1% and 99%"),
    ),
    "unknown-priority": (
        policies("    applies_when: 'true'\n    targets: {CRITICAL: {first_reply: 4h}}\n"),
        (4, 15, "sla_policies[0].targets.CRITICAL", "URGENT"),
    ),
    "unknown-metric": (
        policies("    applies_when: 'true'\n    targets: {HIGH: {first_response: 4h}}\n"),
        (4, 22, "sla_policies[0].targets.HIGH.first_response", "unknown key 'first_response'"),
    ),
    "business-days-at-least-one": (
        policies(
            "    applies_when: 'true'\n    targets: {LOW: {resolution: {business_days: 0}}}\n"
        ),
        (4, 49, "sla_policies[0].targets.LOW.resolution.business_days", "greater than or equal"),
    ),
    "target-neither-duration-nor-business-days": (
        policies("    applies_when: 'true'\n    targets: {LOW: {resolution: {days: 2}}}\n"),
        (4, 33, "sla_policies[0].targets.LOW.resolution", "or {business_days: N}"),
    ),
    "final-status-cannot-pause": (
        policies("    applies_when: 'true'\n" + GOOD_TARGETS + "    pause_when_status: [SOLVED]\n"),
        (5, 25, "sla_policies[0].pause_when_status[0]", "PENDING"),
    ),
    "duplicate-policy-key": (
        policies("    applies_when: 'true'\n" + GOOD_TARGETS)
        + "  - key: gold\n    applies_when: 'true'\n"
        + GOOD_TARGETS,
        (5, 10, "sla_policies[1].key", "duplicate sla policy key 'gold'"),
    ),
}


@pytest.mark.parametrize(("text", "expected"), list(CASES.values()), ids=list(CASES))
def test_rule(text: str, expected: tuple[int, int, str, str]) -> None:
    line, col, path, fragment = expected
    _, problems = validate_texts({"p.yaml": text})
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert str(problem).startswith(f"p.yaml:{line}:{col}: {path}: "), str(problem)
    assert fragment in problem.message


def test_the_deployed_form_has_minutes_calendars_and_order() -> None:
    text = (
        "calendars:\n  shop: {timezone: Asia/Ho_Chi_Minh, hours: {mon-sat: ['09:00-21:00']}}\n"
        "sla_policies:\n"
        "  - key: vip\n    applies_when: 'ticket.priority == \"URGENT\"'\n    calendar: shop\n"
        "    targets: {URGENT: {first_reply: 1h30m, resolution: PT16H, calendar: always}}\n"
        "    pause_when_status: [PENDING]\n    warn_at: 80%\n"
        "  - key: rest\n    applies_when: 'true'\n"
        "    targets: {LOW: {first_reply: 90m, resolution: {business_days: 3}}}\n"
    )
    definitions, problems = validate_texts({"p.yaml": text})
    assert problems == []
    data = sla_policy_set({"p.yaml": text}, definitions)
    assert data is not None
    assert [p["key"] for p in data["policies"]] == ["vip", "rest"]
    assert data["policies"][0] == {
        "key": "vip",
        "applies_when": 'ticket.priority == "URGENT"',
        "calendar": "shop",
        "targets": {"URGENT": {"first_reply": 90, "resolution": 960, "calendar": "always"}},
        "pause_when_status": ["PENDING"],
        "warn_at": 80,
    }
    assert data["policies"][1]["targets"] == {
        "LOW": {"first_reply": 90, "resolution": {"business_days": 3}}
    }
    assert data["calendars"]["shop"]["hours"] == {"mon-sat": ["09:00-21:00"]}
    assert sla_policy_set({"w.yaml": "templates: {}\n"}, definitions) is None

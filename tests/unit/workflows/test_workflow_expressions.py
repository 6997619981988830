"""CEL evaluation and sandboxed Jinja rendering."""

from __future__ import annotations

import datetime as dt

import pytest

from workflows.language.expressions import ExpressionError, check, evaluate
from workflows.language.templates import TemplateRenderError, check_template, render
from workflows.language.validate import validate_paths

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SUBJECT = {
    "displayName": "Nguyễn Thị Hoa",
    "lifecycleStage": "LEAD",
    "tags": ["vip", "hanoi"],
    "score": 42,
    "owner": {"email": "an@example.com", "displayName": "Trần Văn An"},
    "source": {"channel": "web_form"},
    "lastInteractionAt": dt.datetime(2026, 6, 1, tzinfo=UTC),
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('subject.tags.exists(t, t == "vip")', True),
        ('subject.tags.exists(t, t == "gold")', False),
        ('subject.lifecycleStage == "LEAD" && subject.source.channel == "web_form"', True),
        ("subject.score + 8", 50),
        ('subject.owner.email.endsWith("@example.com")', True),
        ('now - subject.lastInteractionAt > duration("2160h")', True),
        ("has(subject.organization)", False),
        ('event.interaction.kind == "MEETING"', True),
    ],
)
def test_cel_evaluates_on_a_subject_map(expression: str, expected: object) -> None:
    variables = {"subject": SUBJECT, "now": NOW, "event": {"interaction": {"kind": "MEETING"}}}
    assert check(expression) is None
    assert evaluate(expression, variables) == expected


def test_cel_failure_at_runtime_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError):
        evaluate("subject.missing.deeper == 1", {"subject": {}})


def test_cel_compile_error_has_a_column() -> None:
    problem = check("subject.x == ")
    assert problem is not None
    assert (problem.line, problem.col) == (1, 14)


def test_bundled_inactive_segment_matches() -> None:
    definitions, _ = validate_paths([])
    condition = definitions.segments["inactive-90-days"].when
    customer = {**SUBJECT, "lifecycleStage": "CUSTOMER"}
    assert evaluate(condition, {"subject": customer, "now": NOW}) is True
    recent = {**customer, "lastInteractionAt": NOW - dt.timedelta(days=3)}
    assert evaluate(condition, {"subject": recent, "now": NOW}) is False


def test_jinja_renders_vietnamese() -> None:
    text = render("Chào mừng {{ subject.displayName }} đến với chúng tôi", {"subject": SUBJECT})
    assert text == "Chào mừng Nguyễn Thị Hoa đến với chúng tôi"


def test_bundled_template_renders() -> None:
    definitions, _ = validate_paths([])
    template = definitions.templates["welcome-lead"]
    body = render(template.text, {"subject": SUBJECT})
    assert "Xin chào Nguyễn Thị Hoa" in body
    assert "Trần Văn An" in body
    assert "&lt;b&gt;" in render(
        template.html or "", {"subject": {**SUBJECT, "displayName": "<b>"}}, html=True
    )


@pytest.mark.parametrize(
    "source",
    [
        "{{ subject.__class__ }}",
        "{{ subject.__class__.__mro__ }}",
        "{{ subject.items.__globals__ }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
    ],
)
def test_sandbox_refuses_internals(source: str) -> None:
    assert check_template(source) is None
    with pytest.raises(TemplateRenderError):
        render(source, {"subject": SUBJECT})


def test_undefined_names_fail_the_render() -> None:
    with pytest.raises(TemplateRenderError, match="nickname"):
        render("Hi {{ subject.nickname }}", {"subject": SUBJECT})


def test_template_syntax_error_has_a_line() -> None:
    problem = check_template("line one\n{{ broken }")
    assert problem is not None
    assert problem.line == 2

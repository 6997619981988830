"""Validation of ``date:`` triggers: the field must hold a date of the subject, the offset is a
calendar duration (negative allowed), ``at`` is HH:MM; each problem at its line and column."""

from __future__ import annotations

import pytest

from workflows.language.validate import validate_texts

FLOW = """\
key: renewal-reminder
subject: SUBJECT
trigger:
  date: {field: FIELD, offset: OFFSET, at: "AT"}
steps:
  - wait: 1d
"""


def problems(
    field: str = "subject.attributes.renewalDate",
    offset: str = "-7d",
    at: str = "10:00",
    subject: str = "customer",
) -> list[tuple[int, int, str]]:
    text = (
        FLOW.replace("SUBJECT", subject)
        .replace("FIELD", field)
        .replace("OFFSET", offset)
        .replace("AT", at)
    )
    _, found = validate_texts({"r.yaml": text})
    return [(p.line, p.col, p.message) for p in found]


@pytest.mark.parametrize(
    ("subject", "field"),
    [
        ("customer", "subject.attributes.renewalDate"),
        ("customer", "subject.createdAt"),
        ("customer", "subject.consent.unsubscribedAt"),
        ("customer", "subject.lastInteractionAt"),
        ("opportunity", "subject.expectedCloseOn"),
    ],
)
def test_date_fields_of_the_subject_are_accepted(subject: str, field: str) -> None:
    assert problems(field=field, subject=subject) == []


def test_a_field_that_is_not_a_date_is_refused_where_it_is_written() -> None:
    ((line, col, message),) = problems(field="subject.displayName")
    assert (line, col) == (4, 17)
    assert message.startswith("subject.displayName is not a date field of a customer")
    assert "subject.attributes.KEY of a DATE attribute" in message
    ((_, _, other),) = problems(field="subject.expectedCloseOn")
    assert "not a date field of a customer" in other


def test_offset_and_at_are_checked() -> None:
    ((line, col, message),) = problems(offset="-7x")
    assert (line, col) == (4, 57)
    assert "cannot read the duration" in message
    assert problems(offset="0m") == []
    assert problems(offset="2w") == []
    ((line, col, message),) = problems(at="25:00")
    assert (line, col) == (4, 66)  # the opening quote
    assert message == "invalid time '25:00' (expected HH:MM, 00:00-23:59)"

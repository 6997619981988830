"""Which fields of a subject (as CEL sees it) hold a date or a moment, for ``date:`` triggers.

A ``date:`` trigger's ``field`` is ``subject.<one of these>`` or ``subject.attributes.<key>`` of
a custom attribute; that the attribute exists and is of type DATE is checked when the workflow
is deployed (attribute definitions live in the database, validation is pure).
"""

from __future__ import annotations

__all__ = ["ATTRIBUTES", "DATE_FIELDS", "attribute_key", "date_field_problem"]

ATTRIBUTES = "attributes"

DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("createdAt", "updatedAt", "lastInteractionAt", "consent.unsubscribedAt"),
    "opportunity": ("createdAt", "expectedCloseOn", "closedAt"),
    "ticket": ("createdAt", "updatedAt"),
}


def attribute_key(field: str) -> str | None:
    """``subject.attributes.renewalDate`` -> ``renewalDate``; None for any other path."""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] == "subject" and parts[1] == ATTRIBUTES:
        return parts[2]
    return None


def date_field_problem(field: str, subject: str) -> str | None:
    """Why `field` cannot anchor a date trigger on a `subject`, or None when it can."""
    if attribute_key(field) is not None:
        if subject == "customer":
            return None
        return (
            f"{field}: only customers have custom attributes (this workflow's subject is {subject})"
        )
    path = field.removeprefix("subject.")
    known = DATE_FIELDS.get(subject, ())
    if path in known:
        return None
    listed = ", ".join(f"subject.{name}" for name in known)
    return (
        f"{field} is not a date field of a {subject} (use one of {listed}, "
        f"or subject.attributes.KEY of a DATE attribute)"
    )

"""Normalization of e-mail addresses and phone numbers (E.164, Vietnam as default region)."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from domain.errors import ValidationFailed

DEFAULT_PHONE_REGION = "VN"


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Return the canonical form of an address: trimmed, domain lower-cased, local part lower-cased.

    Local parts are case-insensitive at every provider our users meet, and treating them so is what
    makes ``upsertPerson`` match on the primary e-mail.
    """
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(field, f"invalid e-mail address: {exc}", "INVALID_EMAIL") from exc
    return result.normalized.lower()


def normalize_phone(raw: str, *, region: str = DEFAULT_PHONE_REGION, field: str = "phone") -> str:
    """Return the E.164 form; numbers without a country code are read as Vietnamese."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(field, f"invalid phone number: {raw!r}", "INVALID_PHONE") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(field, f"invalid phone number: {raw!r}", "INVALID_PHONE")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_domain(raw: str, *, field: str = "domain") -> str:
    """An organization's web domain: no scheme, no path, no ``www.``, lower-case."""
    value = raw.strip().lower()
    for prefix in ("https://", "http://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.split("/", 1)[0].removeprefix("www.")
    labels = value.split(".")
    if len(labels) < 2 or not all(
        label and len(label) <= 63 and all(c.isalnum() or c == "-" for c in label)
        for label in labels
    ):
        raise ValidationFailed(field, f"invalid domain: {raw!r}", "INVALID_DOMAIN")
    return value

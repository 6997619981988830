"""Turning customer inputs into column values, and keeping derived columns in step.

Validation here is pure (no database): every write path, bulk import included, normalizes the
whole input first and only then touches the database, so an invalid input writes nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import phonenumbers

from domain.contact import normalize_domain, normalize_email, normalize_phone
from domain.customers.commands import (
    LIFECYCLE_STAGES,
    NAME_ORDERS,
    ORGANIZATION,
    PERSON,
    CustomerInput,
    Labeled,
    OrganizationInput,
    PersonInput,
)
from domain.errors import ValidationFailed
from domain.persistence.models import Customer
from domain.recording import Changes, to_json
from domain.text import decode_tags, encode_tags, fold, normalize_tag

# Columns whose before/after go to the audit trail (derived ``*_fold``/search columns do not).
TRACKED_COLUMNS = (
    "display_name",
    "first_name",
    "last_name",
    "name_order",
    "job_title",
    "organization_id",
    "legal_name",
    "domain",
    "tax_code",
    "industry",
    "size",
    "parent_id",
    "primary_email",
    "emails",
    "primary_phone",
    "phones",
    "address",
    "country",
    "timezone",
    "lifecycle_stage",
    "source_channel",
    "source_campaign",
    "source_utm",
    "owner_id",
    "tags",
    "attributes",
    "email_opt_in",
    "sms_opt_in",
    "unsubscribed_at",
    "deleted_at",
    "merged_into_id",
)
ADDRESS_KEYS = ("line1", "line2", "ward", "district", "city", "province", "postalCode")
# Fields given as text that are stored stripped, with "" meaning "clear it".
_TEXT_FIELDS = {
    "first_name": "firstName",
    "last_name": "lastName",
    "job_title": "jobTitle",
    "legal_name": "legalName",
    "tax_code": "taxCode",
    "industry": "industry",
}


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = " ".join(value.split())
    return stripped or None


def _entry(item: str | Labeled) -> Labeled:
    return item if isinstance(item, Labeled) else Labeled(item)


def normalize_emails(items: list[str | Labeled]) -> list[dict[str, str | None]]:
    seen: dict[str, dict[str, str | None]] = {}
    for index, item in enumerate(items):
        entry = _entry(item)
        address = normalize_email(entry.value, field=f"emails[{index}]")
        seen.setdefault(address, {"address": address, "label": entry.label})
    return list(seen.values())


def normalize_phones(items: list[str | Labeled]) -> list[dict[str, str | None]]:
    seen: dict[str, dict[str, str | None]] = {}
    for index, item in enumerate(items):
        entry = _entry(item)
        number = normalize_phone(entry.value, field=f"phones[{index}]")
        seen.setdefault(number, {"number": number, "label": entry.label})
    return list(seen.values())


def normalize_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for index, tag in enumerate(tags):
        slug = normalize_tag(tag)
        if slug is None:
            raise ValidationFailed(f"tags[{index}]", f"invalid tag {tag!r}", "INVALID_TAG")
        cleaned.append(slug)
    return sorted(dict.fromkeys(cleaned))


def normalize_country(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed("country", f"unknown ISO country code {value!r}", "INVALID_COUNTRY")
    return code


def normalize_timezone(value: str | None, *, field: str = "timezone") -> str | None:
    if value is None or not value.strip():
        return None
    name = value.strip()
    if name not in zoneinfo.available_timezones():
        raise ValidationFailed(field, f"unknown time zone {value!r}", "INVALID_TIMEZONE")
    return name


def _normalize_address(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    unknown = sorted(set(value) - set(ADDRESS_KEYS))
    if unknown:
        raise ValidationFailed(f"address.{unknown[0]}", "unknown address field", "INVALID")
    cleaned = {k: _clean_text(str(v)) for k, v in value.items() if v is not None}
    return {k: v for k, v in cleaned.items() if v} or None


def normalize_input(data: CustomerInput) -> dict[str, Any]:
    """Validate the given fields and return them as column values (``attributes`` stays raw).

    Consent flags come back under their input names; :func:`apply_values` needs the stored state
    to resolve them.
    """
    values: dict[str, Any] = {}
    for name, value in data.given().items():
        if name in _TEXT_FIELDS or name == "display_name":
            values[name] = _clean_text(value)
        elif name == "emails":
            emails = normalize_emails(value or [])
            values["emails"] = emails
            values["primary_email"] = emails[0]["address"] if emails else None
        elif name == "phones":
            phones = normalize_phones(value or [])
            values["phones"] = phones
            values["primary_phone"] = phones[0]["number"] if phones else None
        elif name == "address":
            values["address"] = _normalize_address(value)
        elif name == "country":
            values["country"] = normalize_country(value)
        elif name == "timezone":
            values["timezone"] = normalize_timezone(value)
        elif name == "lifecycle_stage":
            stage = (value or "").upper()
            if stage not in LIFECYCLE_STAGES:
                raise ValidationFailed("lifecycleStage", f"unknown stage {value!r}", "INVALID_KIND")
            values["lifecycle_stage"] = stage
        elif name == "source":
            values["source_channel"] = _clean_text(value.channel) if value else None
            values["source_campaign"] = _clean_text(value.campaign) if value else None
            values["source_utm"] = dict(value.utm) if value and value.utm else None
        elif name == "tags":
            values["tags"] = normalize_tags(value or [])
        elif name == "name_order":
            if value not in NAME_ORDERS:
                raise ValidationFailed("nameOrder", f"unknown name order {value!r}", "INVALID_KIND")
            values[name] = value
        elif name == "domain":
            values[name] = normalize_domain(value) if value and value.strip() else None
        elif name == "size":
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValidationFailed("size", "size must be a whole number >= 0", "OUT_OF_RANGE")
            values[name] = value
        elif name in ("email_opt_in", "sms_opt_in", "unsubscribed"):
            if not isinstance(value, bool):
                raise ValidationFailed(_camel(name), "expected true or false", "INVALID_TYPE")
            values[name] = value
        else:  # owner_id, organization_id, parent_id, attributes: checked against the database
            values[name] = value
    return values


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def derive_display_name(first: str | None, last: str | None, order: str) -> str:
    """Vietnamese order by default: family (``last_name``) first, "Nguyễn Văn An"."""
    parts = [last, first] if order == "FAMILY_FIRST" else [first, last]
    return " ".join(p for p in parts if p)


def snapshot(customer: Customer) -> dict[str, Any]:
    values = {column: to_json(getattr(customer, column)) for column in TRACKED_COLUMNS}
    values["tags"] = decode_tags(customer.tags)
    return values


def apply_values(customer: Customer, values: dict[str, Any], *, now: dt.datetime) -> Changes:
    """Set normalized ``values`` on ``customer``, re-derive, and return the audit diff.

    ``attributes`` must already be validated (see ``attributes.validate_attributes``).
    """
    from domain.customers.attributes import merge_attributes

    before = snapshot(customer)
    name_was_derived = not customer.display_name or customer.display_name == derive_display_name(
        customer.first_name, customer.last_name, customer.name_order
    )
    for column, value in values.items():
        if column == "tags":
            customer.tags = encode_tags(value)
        elif column == "attributes":
            customer.attributes = merge_attributes(customer.attributes or {}, value)
        elif column not in ("email_opt_in", "sms_opt_in", "unsubscribed"):
            setattr(customer, column, value)
    _apply_consent(customer, values, now)
    if customer.kind == PERSON and "display_name" not in values and name_was_derived:
        customer.display_name = ""
    refresh_derived(customer)
    after = snapshot(customer)
    if customer.pk is None:  # a creation: everything it starts with is a change from nothing
        return {k: [None, after[k]] for k in TRACKED_COLUMNS if after[k] not in (None, "", [], {})}
    return {k: [before[k], after[k]] for k in TRACKED_COLUMNS if before[k] != after[k]}


def _apply_consent(customer: Customer, values: dict[str, Any], now: dt.datetime) -> None:
    for flag in ("email_opt_in", "sms_opt_in"):
        if flag in values:
            setattr(customer, flag, values[flag])
            # An explicit opt-in is fresh consent and lifts an earlier unsubscribe.
            if values[flag] and "unsubscribed" not in values:
                customer.unsubscribed_at = None
    if values.get("unsubscribed") is True:
        customer.unsubscribed_at = customer.unsubscribed_at or now
        customer.email_opt_in = False
        customer.sms_opt_in = False
    elif values.get("unsubscribed") is False:
        customer.unsubscribed_at = None


def refresh_derived(customer: Customer) -> None:
    """Recompute the display name fallback, every ``*_fold`` column and ``search_text``.

    Raises ``ValidationFailed`` when no display name can be derived at all.
    """
    if not customer.display_name:
        customer.display_name = _fallback_display_name(customer)
    customer.display_name_fold = fold(customer.display_name) or ""
    customer.first_name_fold = fold(customer.first_name)
    customer.last_name_fold = fold(customer.last_name)
    customer.job_title_fold = fold(customer.job_title)
    customer.legal_name_fold = fold(customer.legal_name)
    customer.industry_fold = fold(customer.industry)
    city = (customer.address or {}).get("city")
    customer.city_fold = fold(city) if city else None
    parts = [customer.display_name_fold, customer.legal_name_fold, customer.domain]
    parts += [e["address"] for e in customer.emails or []]
    parts += ["".join(c for c in p["number"] if c.isdigit()) for p in customer.phones or []]
    customer.search_text = " ".join(dict.fromkeys(p for p in parts if p))


def _fallback_display_name(customer: Customer) -> str:
    if customer.kind == PERSON:
        name = derive_display_name(customer.first_name, customer.last_name, customer.name_order)
    else:
        name = customer.legal_name or customer.domain or ""
    name = name or customer.primary_email or customer.primary_phone or ""
    if not name:
        field = "firstName" if customer.kind == PERSON else "displayName"
        raise ValidationFailed(field, "a name is required", "REQUIRED")
    return name


def derived_events(changes: Changes) -> list[tuple[str, dict[str, Any]]]:
    """Events that specific changes imply, beside the generic created/updated one."""
    events: list[tuple[str, dict[str, Any]]] = []
    if "lifecycle_stage" in changes:
        before, after = changes["lifecycle_stage"]
        events.append(("customer.stage_changed", {"from": before, "to": after}))
    if "tags" in changes:
        before_tags = set(changes["tags"][0] or [])
        added = [t for t in changes["tags"][1] if t not in before_tags]
        if added:
            events.append(("customer.tag_added", {"tags": added}))
    if "unsubscribed_at" in changes and changes["unsubscribed_at"][1] is not None:
        events.append(("customer.unsubscribed", {"unsubscribedAt": changes["unsubscribed_at"][1]}))
    return events


def new_customer(data: PersonInput | OrganizationInput, *, actor: str) -> Customer:
    """An unsaved customer with model defaults, before :func:`apply_values`."""
    customer = Customer(
        kind=PERSON if isinstance(data, PersonInput) else ORGANIZATION,
        display_name="",
        display_name_fold="",
        emails=[],
        phones=[],
        attributes={},
        tags="",
        created_by=actor,
        updated_by=actor,
    )
    return customer

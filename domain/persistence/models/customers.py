from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.persistence.models.base import Record
from domain.persistence.models.staff import User


# People and organizations in one table (``kind``), so that the ``Customer`` interface
# pages, sorts and filters across both with a single keyset query.
class Customer(Record):
    kind = fields.CharField(max_length=12, db_index=True)  # PERSON | ORGANIZATION
    display_name = fields.CharField(max_length=300)
    display_name_fold = fields.CharField(max_length=300, db_index=True)
    # Person
    first_name = fields.CharField(max_length=150, null=True)
    first_name_fold = fields.CharField(max_length=150, null=True)
    last_name = fields.CharField(max_length=150, null=True)
    last_name_fold = fields.CharField(max_length=150, null=True)
    name_order = fields.CharField(max_length=12, default="FAMILY_FIRST")
    job_title = fields.CharField(max_length=200, null=True)
    job_title_fold = fields.CharField(max_length=200, null=True)
    organization: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="employees", null=True, on_delete=fields.SET_NULL
    )
    organization_id: int | None
    # Organization
    legal_name = fields.CharField(max_length=300, null=True)
    legal_name_fold = fields.CharField(max_length=300, null=True)
    domain = fields.CharField(max_length=253, null=True, unique=True)
    tax_code = fields.CharField(max_length=32, null=True)
    industry = fields.CharField(max_length=120, null=True)
    industry_fold = fields.CharField(max_length=120, null=True, db_index=True)
    size = fields.IntField(null=True)
    parent: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="subsidiaries", null=True, on_delete=fields.SET_NULL
    )
    parent_id: int | None
    # Contact
    primary_email = fields.CharField(max_length=254, null=True, db_index=True)
    emails: Any = fields.JSONField(default=list)  # [{"address", "label"}], primary first
    primary_phone = fields.CharField(max_length=20, null=True, db_index=True)
    phones: Any = fields.JSONField(default=list)  # [{"number", "label"}], E.164
    address: Any = fields.JSONField(null=True)  # line1 line2 ward district city postalCode
    city_fold = fields.CharField(max_length=120, null=True)
    country = fields.CharField(max_length=2, null=True)
    timezone = fields.CharField(max_length=64, null=True)
    # Sales and marketing
    lifecycle_stage = fields.CharField(max_length=12, default="LEAD", db_index=True)
    source_channel = fields.CharField(max_length=60, null=True)
    source_campaign = fields.CharField(max_length=200, null=True)
    source_utm: Any = fields.JSONField(null=True)
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="owned_customers", null=True, on_delete=fields.SET_NULL
    )
    owner_id: int | None
    tags = fields.CharField(max_length=2000, default="")  # "|a|b|", see domain.text.encode_tags
    attributes: Any = fields.JSONField(default=dict)
    email_opt_in = fields.BooleanField(default=False)
    sms_opt_in = fields.BooleanField(default=False)
    unsubscribed_at = fields.DatetimeField(null=True)
    search_text = fields.TextField(default="")  # folded names, e-mails, phones and domain
    merged_into: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="merged_from", null=True, on_delete=fields.SET_NULL
    )
    merged_into_id: int | None

    class Meta:
        table = "customers"


# A typed, directed, dated edge: ``from_customer`` --kind--> ``to_customer``.
class Relationship(Record):
    kind = fields.CharField(max_length=40, db_index=True)
    from_customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="outgoing_relationships", on_delete=fields.CASCADE
    )
    from_customer_id: int
    to_customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="incoming_relationships", on_delete=fields.CASCADE
    )
    to_customer_id: int
    starts_on = fields.DateField(null=True)
    ends_on = fields.DateField(null=True)
    notes = fields.TextField(null=True)

    class Meta:
        table = "relationships"


# A workspace-defined custom field: its key, type and (for CHOICE) allowed values.
class AttributeDefinition(Record):
    entity = fields.CharField(max_length=20)  # CUSTOMER | PERSON | ORGANIZATION
    key = fields.CharField(max_length=64)
    label = fields.CharField(max_length=200)
    type = fields.CharField(max_length=12)  # STRING | NUMBER | BOOLEAN | DATE | CHOICE
    choices: Any = fields.JSONField(default=list)

    class Meta:
        table = "attribute_definitions"
        unique_together = (("entity", "key"),)


__all__ = ["AttributeDefinition", "Customer", "Relationship", "User"]

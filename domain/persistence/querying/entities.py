"""What each entity exposes to queries: filterable/sortable fields and traversable relations.

Field kinds decide the operators and the SQL: ``text`` fields compare their folded shadow column
(case- and accent-insensitive), ``tags`` are the ``|a|b|`` encoded column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tortoise.models import Model

from domain.persistence import models as m

FieldKind = Literal["text", "exact", "enum", "number", "datetime", "date", "bool", "tags", "id"]


@dataclass(frozen=True)
class FieldSpec:
    column: str
    kind: FieldKind
    fold_column: str | None = None  # for kind "text"
    #: A decimal column: SQLite stores Tortoise's DecimalField as text, which compares and sorts
    #: as text ("9" > "10"); such a column is read through a numeric cast.
    decimal: bool = False

    def operand(self, alias: str) -> str:
        """The SQL to compare and order this field by, on ``alias``."""
        column = f"{alias}.{self.fold_column or self.column}"
        return f"CAST({column} AS NUMERIC)" if self.decimal else column


@dataclass(frozen=True)
class RelationSpec:
    target: str
    many: bool
    #: to-one: column on this entity holding the target's id;
    #: to-many: column on the target holding this entity's id.
    column: str


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: type[Model]
    fields: dict[str, FieldSpec]
    relations: dict[str, RelationSpec] = field(default_factory=dict)
    soft_delete: bool = True
    base_condition: str | None = None  # SQL on the entity's alias, e.g. the customer kind

    @property
    def table(self) -> str:
        return self.model._meta.db_table


def _record_fields() -> dict[str, FieldSpec]:
    return {
        "id": FieldSpec("id", "id"),
        "createdAt": FieldSpec("created_at", "datetime"),
        "updatedAt": FieldSpec("updated_at", "datetime"),
        "deletedAt": FieldSpec("deleted_at", "datetime"),
    }


_CUSTOMER_FIELDS = {
    **_record_fields(),
    "kind": FieldSpec("kind", "enum"),
    "displayName": FieldSpec("display_name", "text", "display_name_fold"),
    "email": FieldSpec("primary_email", "text", "primary_email"),
    "phone": FieldSpec("primary_phone", "exact"),
    "country": FieldSpec("country", "exact"),
    "city": FieldSpec("city_fold", "text", "city_fold"),
    "lifecycleStage": FieldSpec("lifecycle_stage", "enum"),
    "sourceChannel": FieldSpec("source_channel", "exact"),
    "sourceCampaign": FieldSpec("source_campaign", "exact"),
    "ownerId": FieldSpec("owner_id", "id"),
    "tags": FieldSpec("tags", "tags"),
    "emailOptIn": FieldSpec("email_opt_in", "bool"),
    "smsOptIn": FieldSpec("sms_opt_in", "bool"),
    "unsubscribedAt": FieldSpec("unsubscribed_at", "datetime"),
    # person
    "firstName": FieldSpec("first_name", "text", "first_name_fold"),
    "lastName": FieldSpec("last_name", "text", "last_name_fold"),
    "jobTitle": FieldSpec("job_title", "text", "job_title_fold"),
    "organizationId": FieldSpec("organization_id", "id"),
    # organization
    "legalName": FieldSpec("legal_name", "text", "legal_name_fold"),
    "domain": FieldSpec("domain", "text", "domain"),
    "taxCode": FieldSpec("tax_code", "exact"),
    "industry": FieldSpec("industry", "text", "industry_fold"),
    "size": FieldSpec("size", "number"),
    "parentId": FieldSpec("parent_id", "id"),
}

_CUSTOMER_RELATIONS = {
    "owner": RelationSpec("User", False, "owner_id"),
    "organization": RelationSpec("Organization", False, "organization_id"),
    "parent": RelationSpec("Organization", False, "parent_id"),
    "opportunities": RelationSpec("Opportunity", True, "customer_id"),
    "interactions": RelationSpec("Interaction", True, "customer_id"),
    "tasks": RelationSpec("Task", True, "customer_id"),
    "tickets": RelationSpec("Ticket", True, "customer_id"),
    "people": RelationSpec("Person", True, "organization_id"),
    "outgoingRelationships": RelationSpec("Relationship", True, "from_customer_id"),
    "incomingRelationships": RelationSpec("Relationship", True, "to_customer_id"),
}

ENTITIES: dict[str, EntitySpec] = {
    "Customer": EntitySpec("Customer", m.Customer, _CUSTOMER_FIELDS, _CUSTOMER_RELATIONS),
    "Person": EntitySpec(
        "Person",
        m.Customer,
        _CUSTOMER_FIELDS,
        _CUSTOMER_RELATIONS,
        base_condition="kind = 'PERSON'",
    ),
    "Organization": EntitySpec(
        "Organization",
        m.Customer,
        _CUSTOMER_FIELDS,
        _CUSTOMER_RELATIONS,
        base_condition="kind = 'ORGANIZATION'",
    ),
    "User": EntitySpec(
        "User",
        m.User,
        {
            **_record_fields(),
            "name": FieldSpec("name", "text", "name_fold"),
            "email": FieldSpec("email", "text", "email"),
            "role": FieldSpec("role", "enum"),
            "active": FieldSpec("active", "bool"),
            "teamId": FieldSpec("team_id", "id"),
        },
        {
            "team": RelationSpec("Team", False, "team_id"),
            "manager": RelationSpec("User", False, "manager_id"),
        },
    ),
    "Team": EntitySpec(
        "Team",
        m.Team,
        {**_record_fields(), "name": FieldSpec("name", "text", "name_fold")},
        {"lead": RelationSpec("User", False, "lead_id")},
    ),
    "Pipeline": EntitySpec(
        "Pipeline",
        m.Pipeline,
        {
            **_record_fields(),
            "name": FieldSpec("name", "text", "name_fold"),
            "isDefault": FieldSpec("is_default", "bool"),
        },
        {"stages": RelationSpec("Stage", True, "pipeline_id")},
    ),
    "Stage": EntitySpec(
        "Stage",
        m.Stage,
        {
            **_record_fields(),
            "name": FieldSpec("name", "text", "name_fold"),
            "position": FieldSpec("position", "number"),
            "probability": FieldSpec("probability", "number"),
            "pipelineId": FieldSpec("pipeline_id", "id"),
        },
        {"pipeline": RelationSpec("Pipeline", False, "pipeline_id")},
    ),
    "Opportunity": EntitySpec(
        "Opportunity",
        m.Opportunity,
        {
            **_record_fields(),
            "name": FieldSpec("name", "text", "name_fold"),
            "status": FieldSpec("status", "enum"),
            "amount": FieldSpec("amount", "number", decimal=True),
            "currency": FieldSpec("currency", "exact"),
            "expectedCloseOn": FieldSpec("expected_close_on", "date"),
            "closedAt": FieldSpec("closed_at", "datetime"),
            "customerId": FieldSpec("customer_id", "id"),
            "ownerId": FieldSpec("owner_id", "id"),
            "pipelineId": FieldSpec("pipeline_id", "id"),
            "stageId": FieldSpec("stage_id", "id"),
        },
        {
            "customer": RelationSpec("Customer", False, "customer_id"),
            "owner": RelationSpec("User", False, "owner_id"),
            "pipeline": RelationSpec("Pipeline", False, "pipeline_id"),
            "stage": RelationSpec("Stage", False, "stage_id"),
            "interactions": RelationSpec("Interaction", True, "opportunity_id"),
            "tasks": RelationSpec("Task", True, "opportunity_id"),
        },
    ),
    "Interaction": EntitySpec(
        "Interaction",
        m.Interaction,
        {
            **_record_fields(),
            "kind": FieldSpec("kind", "enum"),
            "direction": FieldSpec("direction", "enum"),
            "subject": FieldSpec("subject", "text", "subject_fold"),
            "occurredAt": FieldSpec("occurred_at", "datetime"),
            "customerId": FieldSpec("customer_id", "id"),
            "userId": FieldSpec("user_id", "id"),
            "opportunityId": FieldSpec("opportunity_id", "id"),
        },
        {
            "customer": RelationSpec("Customer", False, "customer_id"),
            "user": RelationSpec("User", False, "user_id"),
            "opportunity": RelationSpec("Opportunity", False, "opportunity_id"),
        },
    ),
    "Task": EntitySpec(
        "Task",
        m.Task,
        {
            **_record_fields(),
            "title": FieldSpec("title", "text", "title_fold"),
            "status": FieldSpec("status", "enum"),
            "dueAt": FieldSpec("due_at", "datetime"),
            "completedAt": FieldSpec("completed_at", "datetime"),
            "assigneeId": FieldSpec("assignee_id", "id"),
            "customerId": FieldSpec("customer_id", "id"),
            "opportunityId": FieldSpec("opportunity_id", "id"),
        },
        {
            "assignee": RelationSpec("User", False, "assignee_id"),
            "customer": RelationSpec("Customer", False, "customer_id"),
            "opportunity": RelationSpec("Opportunity", False, "opportunity_id"),
        },
    ),
    "Ticket": EntitySpec(
        "Ticket",
        m.Ticket,
        {
            **_record_fields(),
            "subject": FieldSpec("subject", "text", "subject_fold"),
            "status": FieldSpec("status", "enum"),
            "priority": FieldSpec("priority", "enum"),
            "channel": FieldSpec("channel", "enum"),
            "escalationLevel": FieldSpec("escalation_level", "number"),
            "tags": FieldSpec("tags", "tags"),
            "solvedAt": FieldSpec("solved_at", "datetime"),
            "closedAt": FieldSpec("closed_at", "datetime"),
            "slaDueAt": FieldSpec("sla_due_at", "datetime"),
            "customerId": FieldSpec("customer_id", "id"),
            "assigneeId": FieldSpec("assignee_id", "id"),
            "teamId": FieldSpec("team_id", "id"),
            "followUpOfId": FieldSpec("follow_up_of_id", "id"),
        },
        {
            "customer": RelationSpec("Customer", False, "customer_id"),
            "assignee": RelationSpec("User", False, "assignee_id"),
            "team": RelationSpec("Team", False, "team_id"),
            "followUpOf": RelationSpec("Ticket", False, "follow_up_of_id"),
            "comments": RelationSpec("TicketComment", True, "ticket_id"),
        },
    ),
    "TicketComment": EntitySpec(
        "TicketComment",
        m.TicketComment,
        {
            **_record_fields(),
            "public": FieldSpec("public", "bool"),
            "ticketId": FieldSpec("ticket_id", "id"),
            "authorUserId": FieldSpec("author_user_id", "id"),
            "authorCustomerId": FieldSpec("author_customer_id", "id"),
        },
        {
            "ticket": RelationSpec("Ticket", False, "ticket_id"),
            "authorUser": RelationSpec("User", False, "author_user_id"),
            "authorCustomer": RelationSpec("Customer", False, "author_customer_id"),
        },
    ),
    "Relationship": EntitySpec(
        "Relationship",
        m.Relationship,
        {
            **_record_fields(),
            "kind": FieldSpec("kind", "exact"),
            "startsOn": FieldSpec("starts_on", "date"),
            "endsOn": FieldSpec("ends_on", "date"),
            "fromCustomerId": FieldSpec("from_customer_id", "id"),
            "toCustomerId": FieldSpec("to_customer_id", "id"),
        },
        {
            "fromCustomer": RelationSpec("Customer", False, "from_customer_id"),
            "toCustomer": RelationSpec("Customer", False, "to_customer_id"),
        },
    ),
}


def entity(name: str) -> EntitySpec:
    return ENTITIES[name]

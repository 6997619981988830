"""Every Tortoise model of the ``models`` app."""

from domain.persistence.models.activities import Interaction, Task
from domain.persistence.models.audit import AuditEntry, DomainEvent
from domain.persistence.models.automation import (
    EmailMessage,
    RuntimeLease,
    Segment,
    SegmentMembership,
    Timer,
    WebhookDelivery,
    Workflow,
    WorkflowRun,
    WorkflowRunStep,
    WorkflowVersion,
)
from domain.persistence.models.customers import AttributeDefinition, Customer, Relationship
from domain.persistence.models.identity import ApiKey, AuthSession, RefreshToken
from domain.persistence.models.sales import Opportunity, Pipeline, Stage, StageChange
from domain.persistence.models.sla import SlaEvent, SlaMetric, SlaPolicySet, SlaSheet
from domain.persistence.models.staff import Team, User
from domain.persistence.models.tickets import Ticket, TicketComment

__models__ = [
    Team,
    User,
    Customer,
    Relationship,
    AttributeDefinition,
    Pipeline,
    Stage,
    Opportunity,
    StageChange,
    Interaction,
    Task,
    Ticket,
    TicketComment,
    SlaPolicySet,
    SlaSheet,
    SlaMetric,
    SlaEvent,
    AuditEntry,
    DomainEvent,
    Workflow,
    WorkflowVersion,
    WorkflowRun,
    WorkflowRunStep,
    Timer,
    EmailMessage,
    WebhookDelivery,
    AuthSession,
    RefreshToken,
    ApiKey,
    Segment,
    SegmentMembership,
    RuntimeLease,
]

__all__ = [
    "ApiKey",
    "AttributeDefinition",
    "AuditEntry",
    "AuthSession",
    "Customer",
    "DomainEvent",
    "EmailMessage",
    "Interaction",
    "Opportunity",
    "Pipeline",
    "RefreshToken",
    "Relationship",
    "RuntimeLease",
    "Segment",
    "SegmentMembership",
    "SlaEvent",
    "SlaMetric",
    "SlaPolicySet",
    "SlaSheet",
    "Stage",
    "StageChange",
    "Task",
    "Team",
    "Ticket",
    "TicketComment",
    "Timer",
    "User",
    "WebhookDelivery",
    "Workflow",
    "WorkflowRun",
    "WorkflowRunStep",
    "WorkflowVersion",
]

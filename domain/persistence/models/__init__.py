"""Every Tortoise model of the ``models`` app."""

from domain.persistence.models.activities import Interaction, Task
from domain.persistence.models.audit import AuditEntry, DomainEvent
from domain.persistence.models.automation import (
    EmailMessage,
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
from domain.persistence.models.sales import Opportunity, Pipeline, Stage, StageChange
from domain.persistence.models.staff import Team, User

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
    AuditEntry,
    DomainEvent,
    Workflow,
    WorkflowVersion,
    WorkflowRun,
    WorkflowRunStep,
    Timer,
    EmailMessage,
    WebhookDelivery,
    Segment,
    SegmentMembership,
]

__all__ = [
    "AttributeDefinition",
    "AuditEntry",
    "Customer",
    "DomainEvent",
    "EmailMessage",
    "Interaction",
    "Opportunity",
    "Pipeline",
    "Relationship",
    "Segment",
    "SegmentMembership",
    "Stage",
    "StageChange",
    "Task",
    "Team",
    "Timer",
    "User",
    "WebhookDelivery",
    "Workflow",
    "WorkflowRun",
    "WorkflowRunStep",
    "WorkflowVersion",
]

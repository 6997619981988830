"""Per-entity filter inputs. Relations nest (to-one: the related record's filter; to-many:
``some``/``none``/``every``), which is what lets a client filter across the graph."""

from __future__ import annotations

import strawberry

from gql.enums import (
    CustomerKind,
    Direction,
    InteractionKind,
    LifecycleStage,
    OpportunityStatus,
    Role,
    TaskStatus,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from gql.filters import (
    BooleanFilter,
    DateFilter,
    DateTimeFilter,
    DecimalFilter,
    EnumFilter,
    IDFilter,
    IntFilter,
    StringFilter,
    TagFilter,
)

UNSET = strawberry.UNSET


@strawberry.input
class UserFilter:
    and_: list[UserFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[UserFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: UserFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    name: StringFilter | None = UNSET
    email: StringFilter | None = UNSET
    role: EnumFilter[Role] | None = UNSET
    active: BooleanFilter | None = UNSET
    team: TeamFilter | None = UNSET
    manager: UserFilter | None = UNSET
    created_at: DateTimeFilter | None = UNSET
    updated_at: DateTimeFilter | None = UNSET


@strawberry.input
class TeamFilter:
    and_: list[TeamFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[TeamFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: TeamFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    name: StringFilter | None = UNSET
    lead: UserFilter | None = UNSET


@strawberry.input
class PipelineFilter:
    id: IDFilter | None = UNSET
    name: StringFilter | None = UNSET
    is_default: BooleanFilter | None = UNSET


@strawberry.input
class StageFilter:
    id: IDFilter | None = UNSET
    name: StringFilter | None = UNSET
    position: IntFilter | None = UNSET
    probability: IntFilter | None = UNSET
    pipeline: PipelineFilter | None = UNSET


@strawberry.input
class OpportunityFilter:
    and_: list[OpportunityFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[OpportunityFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: OpportunityFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    name: StringFilter | None = UNSET
    status: EnumFilter[OpportunityStatus] | None = UNSET
    amount: DecimalFilter | None = UNSET
    currency: StringFilter | None = UNSET
    expected_close_on: DateFilter | None = UNSET
    closed_at: DateTimeFilter | None = UNSET
    created_at: DateTimeFilter | None = UNSET
    updated_at: DateTimeFilter | None = UNSET
    customer: CustomerFilter | None = UNSET
    owner: UserFilter | None = UNSET
    pipeline: PipelineFilter | None = UNSET
    stage: StageFilter | None = UNSET


@strawberry.input
class InteractionFilter:
    and_: list[InteractionFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[InteractionFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: InteractionFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    kind: EnumFilter[InteractionKind] | None = UNSET
    direction: EnumFilter[Direction] | None = UNSET
    subject: StringFilter | None = UNSET
    occurred_at: DateTimeFilter | None = UNSET
    customer: CustomerFilter | None = UNSET
    user: UserFilter | None = UNSET
    opportunity: OpportunityFilter | None = UNSET


@strawberry.input
class TaskFilter:
    and_: list[TaskFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[TaskFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: TaskFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    title: StringFilter | None = UNSET
    status: EnumFilter[TaskStatus] | None = UNSET
    due_at: DateTimeFilter | None = UNSET
    completed_at: DateTimeFilter | None = UNSET
    assignee: UserFilter | None = UNSET
    customer: CustomerFilter | None = UNSET
    opportunity: OpportunityFilter | None = UNSET


@strawberry.input
class TicketFilter:
    and_: list[TicketFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[TicketFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: TicketFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    subject: StringFilter | None = UNSET
    status: EnumFilter[TicketStatus] | None = UNSET
    priority: EnumFilter[TicketPriority] | None = UNSET
    channel: EnumFilter[TicketChannel] | None = UNSET
    escalation_level: IntFilter | None = UNSET
    tags: TagFilter | None = UNSET
    solved_at: DateTimeFilter | None = UNSET
    closed_at: DateTimeFilter | None = UNSET
    sla_due_at: DateTimeFilter | None = strawberry.field(
        default=UNSET, description="The next SLA deadline, e.g. {lt: <in an hour>} for the at-risk."
    )
    created_at: DateTimeFilter | None = UNSET
    updated_at: DateTimeFilter | None = UNSET
    customer: CustomerFilter | None = UNSET
    assignee: UserFilter | None = UNSET
    team: TeamFilter | None = UNSET
    follow_up_of: TicketFilter | None = UNSET


@strawberry.input
class TicketCommentFilter:
    id: IDFilter | None = UNSET
    public: BooleanFilter | None = UNSET
    created_at: DateTimeFilter | None = UNSET
    author_user: UserFilter | None = UNSET


@strawberry.input
class TicketListFilter:
    some: TicketFilter | None = UNSET
    none: TicketFilter | None = UNSET
    every: TicketFilter | None = UNSET


@strawberry.input
class OpportunityListFilter:
    some: OpportunityFilter | None = UNSET
    none: OpportunityFilter | None = UNSET
    every: OpportunityFilter | None = UNSET


@strawberry.input
class InteractionListFilter:
    some: InteractionFilter | None = UNSET
    none: InteractionFilter | None = UNSET
    every: InteractionFilter | None = UNSET


@strawberry.input
class TaskListFilter:
    some: TaskFilter | None = UNSET
    none: TaskFilter | None = UNSET
    every: TaskFilter | None = UNSET


@strawberry.input
class PersonListFilter:
    some: PersonFilter | None = UNSET
    none: PersonFilter | None = UNSET
    every: PersonFilter | None = UNSET


@strawberry.input(description="Fields every customer has.")
class CustomerFilter:
    and_: list[CustomerFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[CustomerFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: CustomerFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    kind: EnumFilter[CustomerKind] | None = UNSET
    display_name: StringFilter | None = UNSET
    email: StringFilter | None = UNSET
    phone: StringFilter | None = UNSET
    country: StringFilter | None = UNSET
    city: StringFilter | None = UNSET
    lifecycle_stage: EnumFilter[LifecycleStage] | None = UNSET
    source_channel: StringFilter | None = UNSET
    source_campaign: StringFilter | None = UNSET
    tags: TagFilter | None = UNSET
    email_opt_in: BooleanFilter | None = UNSET
    sms_opt_in: BooleanFilter | None = UNSET
    unsubscribed_at: DateTimeFilter | None = UNSET
    created_at: DateTimeFilter | None = UNSET
    updated_at: DateTimeFilter | None = UNSET
    deleted_at: DateTimeFilter | None = UNSET
    owner: UserFilter | None = UNSET
    opportunities: OpportunityListFilter | None = UNSET
    interactions: InteractionListFilter | None = UNSET
    tasks: TaskListFilter | None = UNSET
    tickets: TicketListFilter | None = UNSET
    # Person fields (no match on organizations)
    first_name: StringFilter | None = UNSET
    last_name: StringFilter | None = UNSET
    job_title: StringFilter | None = UNSET
    organization: OrganizationFilter | None = UNSET
    # Organization fields (no match on people)
    legal_name: StringFilter | None = UNSET
    domain: StringFilter | None = UNSET
    tax_code: StringFilter | None = UNSET
    industry: StringFilter | None = UNSET
    size: IntFilter | None = UNSET
    parent: OrganizationFilter | None = UNSET
    people: PersonListFilter | None = UNSET


@strawberry.input
class PersonFilter:
    and_: list[PersonFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[PersonFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: PersonFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    display_name: StringFilter | None = UNSET
    first_name: StringFilter | None = UNSET
    last_name: StringFilter | None = UNSET
    job_title: StringFilter | None = UNSET
    email: StringFilter | None = UNSET
    phone: StringFilter | None = UNSET
    country: StringFilter | None = UNSET
    city: StringFilter | None = UNSET
    lifecycle_stage: EnumFilter[LifecycleStage] | None = UNSET
    source_channel: StringFilter | None = UNSET
    tags: TagFilter | None = UNSET
    email_opt_in: BooleanFilter | None = UNSET
    created_at: DateTimeFilter | None = UNSET
    updated_at: DateTimeFilter | None = UNSET
    owner: UserFilter | None = UNSET
    organization: OrganizationFilter | None = UNSET
    opportunities: OpportunityListFilter | None = UNSET
    interactions: InteractionListFilter | None = UNSET
    tasks: TaskListFilter | None = UNSET
    tickets: TicketListFilter | None = UNSET


@strawberry.input
class OrganizationFilter:
    and_: list[OrganizationFilter] | None = strawberry.field(name="and", default=UNSET)
    or_: list[OrganizationFilter] | None = strawberry.field(name="or", default=UNSET)
    not_: OrganizationFilter | None = strawberry.field(name="not", default=UNSET)
    id: IDFilter | None = UNSET
    display_name: StringFilter | None = UNSET
    legal_name: StringFilter | None = UNSET
    domain: StringFilter | None = UNSET
    tax_code: StringFilter | None = UNSET
    industry: StringFilter | None = UNSET
    size: IntFilter | None = UNSET
    email: StringFilter | None = UNSET
    phone: StringFilter | None = UNSET
    country: StringFilter | None = UNSET
    city: StringFilter | None = UNSET
    lifecycle_stage: EnumFilter[LifecycleStage] | None = UNSET
    tags: TagFilter | None = UNSET
    created_at: DateTimeFilter | None = UNSET
    updated_at: DateTimeFilter | None = UNSET
    owner: UserFilter | None = UNSET
    parent: OrganizationFilter | None = UNSET
    people: PersonListFilter | None = UNSET
    opportunities: OpportunityListFilter | None = UNSET
    interactions: InteractionListFilter | None = UNSET
    tasks: TaskListFilter | None = UNSET
    tickets: TicketListFilter | None = UNSET


@strawberry.input
class RelationshipFilter:
    id: IDFilter | None = UNSET
    kind: StringFilter | None = UNSET
    starts_on: DateFilter | None = UNSET
    ends_on: DateFilter | None = UNSET
    from_customer: CustomerFilter | None = UNSET
    to_customer: CustomerFilter | None = UNSET

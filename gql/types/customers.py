"""Customers (people and organizations) and the typed, dated relationships between them."""

from __future__ import annotations

import datetime as dt
import inspect
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from domain.persistence import models as m
from domain.persistence.querying.spec import SortKey
from domain.text import decode_tags
from gql.context import Context
from gql.entity_filters import (
    InteractionFilter,
    OpportunityFilter,
    PersonFilter,
    RelationshipFilter,
    TaskFilter,
    TicketFilter,
)
from gql.enums import CustomerKind, LifecycleStage, NameOrder
from gql.fields import computed, to_many, to_one
from gql.nested import ChildRelation, child_connection
from gql.ordering import (
    CustomerOrder,
    InteractionOrder,
    OpportunityOrder,
    RelationshipOrder,
    TaskOrder,
    TicketOrder,
)
from gql.pagination import Connection
from gql.types.activities import Interaction, Task
from gql.types.node import Record
from gql.types.sales import Opportunity
from gql.types.staff import User
from gql.types.tickets import Ticket
from gql.types.timeline import TimelineConnection, customer_timeline

HOME_COUNTRY = "VN"

Info = strawberry.Info[Context, None]


@strawberry.type
class EmailAddress:
    address: str
    label: str | None
    primary: bool


@strawberry.type
class PhoneNumber:
    number: str = strawberry.field(description="E.164")
    label: str | None
    primary: bool


@strawberry.type
class Address:
    line1: str | None
    line2: str | None
    ward: str | None
    district: str | None
    city: str | None
    province: str | None
    postal_code: str | None
    country: str | None


@strawberry.type(description="Where a customer came from.")
class Source:
    channel: str | None
    campaign: str | None
    utm: JSON | None


@strawberry.type
class Consent:
    email_opt_in: bool
    sms_opt_in: bool
    unsubscribed_at: dt.datetime | None


@strawberry.enum
class CustomerType(Enum):
    INDIVIDUAL = "INDIVIDUAL"
    ORGANIZATION = "ORGANIZATION"


@strawberry.enum
class Residency(Enum):
    DOMESTIC = "DOMESTIC"
    FOREIGN = "FOREIGN"
    UNKNOWN = "UNKNOWN"


@strawberry.type(description="Derived classification of a customer.")
class Classification:
    type: CustomerType
    residency: Residency


@strawberry.enum
class RelationshipDirection(Enum):
    OUTGOING = "OUTGOING"
    INCOMING = "INCOMING"


_BY_OCCURRED_DESC = (SortKey("occurredAt", descending=True),)
_BY_ID = (SortKey("id"),)


@strawberry.interface(description="A person or an organization the business deals with.")
class Customer(Record):
    display_name: str
    kind: CustomerKind
    lifecycle_stage: LifecycleStage
    country: str | None
    timezone: str | None
    attributes: JSON

    primary_email: str | None

    @strawberry.field
    def emails(self, root: strawberry.Parent[m.Customer]) -> list[EmailAddress]:
        return [
            EmailAddress(address=e["address"], label=e.get("label"), primary=i == 0)
            for i, e in enumerate(root.emails or [])
        ]

    primary_phone: str | None

    @strawberry.field
    def phones(self, root: strawberry.Parent[m.Customer]) -> list[PhoneNumber]:
        return [
            PhoneNumber(number=p["number"], label=p.get("label"), primary=i == 0)
            for i, p in enumerate(root.phones or [])
        ]

    @strawberry.field
    def address(self, root: strawberry.Parent[m.Customer]) -> Address | None:
        if not root.address:
            return None
        a: dict[str, Any] = root.address
        return Address(
            line1=a.get("line1"),
            line2=a.get("line2"),
            ward=a.get("ward"),
            district=a.get("district"),
            city=a.get("city"),
            province=a.get("province"),
            postal_code=a.get("postalCode"),
            country=a.get("country"),
        )

    tags: list[str] = computed(lambda root: decode_tags(root.tags))

    @strawberry.field
    def source(self, root: strawberry.Parent[m.Customer]) -> Source:
        return Source(
            channel=root.source_channel, campaign=root.source_campaign, utm=root.source_utm
        )

    @strawberry.field
    def consent(self, root: strawberry.Parent[m.Customer]) -> Consent:
        return Consent(
            email_opt_in=root.email_opt_in,
            sms_opt_in=root.sms_opt_in,
            unsubscribed_at=root.unsubscribed_at,
        )

    @strawberry.field
    def classification(self, root: strawberry.Parent[m.Customer]) -> Classification:
        residency = (
            Residency.UNKNOWN
            if not root.country
            else Residency.DOMESTIC
            if root.country == HOME_COUNTRY
            else Residency.FOREIGN
        )
        kind = CustomerType.INDIVIDUAL if root.kind == "PERSON" else CustomerType.ORGANIZATION
        return Classification(type=kind, residency=residency)

    owner: User | None = to_one("User", "owner_id")

    opportunities: Connection[Opportunity] = to_many(
        "Opportunity",
        "customer_id",
        filter_type=OpportunityFilter,
        order_type=OpportunityOrder,
        default_order=_BY_ID,
        description="Deals of this customer.",
    )

    interactions: Connection[Interaction] = to_many(
        "Interaction",
        "customer_id",
        filter_type=InteractionFilter,
        order_type=InteractionOrder,
        default_order=(SortKey("occurredAt"),),
        description="Touch points, oldest first by default; `last: 5` = latest five.",
    )

    tasks: Connection[Task] = to_many(
        "Task",
        "customer_id",
        filter_type=TaskFilter,
        order_type=TaskOrder,
        default_order=_BY_ID,
    )

    tickets: Connection[Ticket] = to_many(
        "Ticket",
        "customer_id",
        filter_type=TicketFilter,
        order_type=TicketOrder,
        default_order=_BY_ID,
        description="Tickets this customer opened.",
    )

    @strawberry.field(description="Everything that happened to this customer, newest first.")
    async def timeline(
        self,
        root: strawberry.Parent[m.Customer],
        info: Info,
        first: int = 20,
        after: str | None = None,
    ) -> TimelineConnection:
        return await customer_timeline(info.context, root.id, first, after)

    @strawberry.field(description="Typed edges to other customers, outgoing by default.")
    async def relationships(
        self,
        root: strawberry.Parent[m.Customer],
        info: Info,
        direction: RelationshipDirection = RelationshipDirection.OUTGOING,
        filter: RelationshipFilter | None = None,
        order_by: list[RelationshipOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Relationship]:
        column = (
            "from_customer_id" if direction is RelationshipDirection.OUTGOING else "to_customer_id"
        )
        relation = ChildRelation("Relationship", column, _BY_ID)
        arguments = {
            "filter": filter,
            "orderBy": order_by,
            "first": first,
            "after": after,
            "last": last,
            "before": before,
        }
        connection = child_connection(info.context, relation, root.id, arguments)
        return await connection if inspect.isawaitable(connection) else connection


@strawberry.type(description="An individual.")
class Person(Customer):
    first_name: str | None
    last_name: str | None = strawberry.field(description="Family name (họ).")
    name_order: NameOrder
    job_title: str | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Customer) and obj.kind == "PERSON"

    organization: Organization | None = to_one(
        "Customer", "organization_id", description="The employer."
    )


@strawberry.type(description="A company or other organization.")
class Organization(Customer):
    legal_name: str | None
    domain: str | None
    tax_code: str | None
    industry: str | None
    size: int | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Customer) and obj.kind == "ORGANIZATION"

    parent: Organization | None = to_one(
        "Customer", "parent_id", description="The parent organization (group of companies)."
    )

    people: Connection[Person] = to_many(
        "Person",
        "organization_id",
        filter_type=PersonFilter,
        order_type=CustomerOrder,
        default_order=_BY_ID,
        description="People employed here.",
    )


@strawberry.type(description="A typed, directed edge: fromCustomer --kind--> toCustomer.")
class Relationship(Record):
    kind: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    notes: str | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Relationship)

    from_customer: Customer | None = to_one("Customer", "from_customer_id")

    to_customer: Customer | None = to_one("Customer", "to_customer_id")

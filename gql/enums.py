"""Enumerations of the API. Values equal what the domain stores, so rows serialize directly."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class CustomerKind(Enum):
    PERSON = "PERSON"
    ORGANIZATION = "ORGANIZATION"


@strawberry.enum
class LifecycleStage(Enum):
    SUBSCRIBER = "SUBSCRIBER"
    LEAD = "LEAD"
    MQL = "MQL"
    SQL = "SQL"
    OPPORTUNITY = "OPPORTUNITY"
    CUSTOMER = "CUSTOMER"
    EVANGELIST = "EVANGELIST"
    CHURNED = "CHURNED"


@strawberry.enum
class NameOrder(Enum):
    FAMILY_FIRST = "FAMILY_FIRST"
    GIVEN_FIRST = "GIVEN_FIRST"


@strawberry.enum
class Role(Enum):
    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    SALES = "SALES"
    SUPPORT = "SUPPORT"
    MARKETING = "MARKETING"
    ANALYST = "ANALYST"


@strawberry.enum
class OpportunityStatus(Enum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


@strawberry.enum
class InteractionKind(Enum):
    EMAIL = "EMAIL"
    CALL = "CALL"
    MEETING = "MEETING"
    NOTE = "NOTE"
    CHAT = "CHAT"
    SMS = "SMS"
    VISIT = "VISIT"
    FORM = "FORM"
    WEB = "WEB"


@strawberry.enum
class Direction(Enum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


@strawberry.enum
class TaskStatus(Enum):
    OPEN = "OPEN"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum
class NullsOrder(Enum):
    FIRST = "FIRST"
    LAST = "LAST"


@strawberry.enum
class TicketStatus(Enum):
    NEW = "NEW"
    OPEN = "OPEN"
    PENDING = "PENDING"
    ON_HOLD = "ON_HOLD"
    SOLVED = "SOLVED"
    CLOSED = "CLOSED"


@strawberry.enum
class TicketPriority(Enum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


@strawberry.enum
class TicketChannel(Enum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CHAT = "CHAT"
    WEB = "WEB"
    SMS = "SMS"
    SOCIAL = "SOCIAL"
    API = "API"

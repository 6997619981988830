"""What the pure engine may know about the world when it advances a run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.calendars import BusinessCalendar

#: The workspace's time zone: local times of subjects without one of their own.
WORKSPACE_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class Environment:
    """Read-only inputs of one transition.

    ``subject`` is the run's subject as the API names its fields (``displayName``,
    ``lifecycleStage``, ``tags``, ``consent``, ``owner``...), relations one level deep; it is what
    CEL sees as ``subject`` and templates render. ``suppressed`` is true when the subject is
    known to be in the workspace's suppression segment (consent: such a send is skipped as
    SUPPRESSED); ``suppression`` is that segment's condition, checked on the mail's customer.
    """

    run_id: str
    started_at: dt.datetime
    subject: Mapping[str, Any]
    calendars: Mapping[str, BusinessCalendar]
    default_calendar: str = "vn-office"
    workspace_timezone: str = WORKSPACE_TIMEZONE
    suppressed: bool = False
    #: The CEL condition of the workspace's suppression segment, if one is deployed: a
    #: customer it holds for gets no mail under consent (evaluated only when a send needs it).
    suppression: str | None = None
    paused: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: The message templates deployed with the workflow, by key: a send whose template does
    #: not render for this subject (a field it lacks) fails its step, before the steps after
    #: it run. Without them (a bare engine test), templates are not tried.
    templates: Mapping[str, Any] = field(default_factory=dict)

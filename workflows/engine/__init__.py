"""The pure workflow engine: ``advance(definition, state, input, environment) -> Transition``
and ``should_enroll``. No I/O, no clock reads: time comes from each input's ``now``."""

from .advance import advance
from .enrollment import EnrollmentHistory, should_enroll
from .environment import Environment
from .model import (
    ActionFailed,
    EventArrived,
    Input,
    RunState,
    Start,
    SubjectChanged,
    TimerFired,
    Transition,
)

__all__ = [
    "ActionFailed",
    "EnrollmentHistory",
    "Environment",
    "EventArrived",
    "Input",
    "RunState",
    "Start",
    "SubjectChanged",
    "TimerFired",
    "Transition",
    "advance",
    "should_enroll",
]

"""Laws of the SLA clocks under random pause/resume schedules, checked against a brute-force
oracle: the business time of the running intervals summed one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendars import VN_OFFICE, BusinessCalendar, business_time_between
from domain.sla.clocks import Kind, State
from domain.sla.policies import Policy, Target
from domain.sla.sheet import Happening, Opened, StatusChanged, replay

BERLIN = BusinessCalendar.from_data(
    "berlin", {"timezone": "Europe/Berlin", "hours": {"mon-fri": ["08:00-17:00"]}}
)
START = datetime(2026, 1, 1, tzinfo=UTC)


def policy(calendar: BusinessCalendar, minutes: int, warn: int) -> Policy:
    return Policy(
        key="p",
        applies_when="true",
        targets={"HIGH": {"resolution": Target(minutes, calendar)}},
        pause_statuses=frozenset({"PENDING"}),
        warn_percent=warn,
    )


@settings(max_examples=150, deadline=None)
@given(
    calendar=st.sampled_from([VN_OFFICE, BERLIN]),
    opened_minute=st.integers(0, 2 * 365 * 24 * 60),  # 2026-2027, DST changes included
    gaps=st.lists(st.integers(1, 5 * 24 * 60), min_size=0, max_size=8),
    target=st.integers(1, 60 * 60),
    warn=st.integers(1, 99),
    seconds=st.integers(0, 59),
)
def test_elapsed_due_and_warning_match_the_oracle(
    calendar: BusinessCalendar,
    opened_minute: int,
    gaps: list[int],
    target: int,
    warn: int,
    seconds: int,
) -> None:
    opened = START + timedelta(minutes=opened_minute, seconds=seconds)
    happenings: list[Happening] = [Opened(opened, "OPEN", "HIGH", policy(calendar, target, warn))]
    running: list[tuple[datetime, datetime | None]] = [(opened, None)]
    at = opened
    for index, gap in enumerate(gaps):
        at += timedelta(minutes=gap)
        pausing = index % 2 == 0
        happenings.append(StatusChanged(at, "PENDING" if pausing else "OPEN"))
        if pausing:
            running[-1] = (running[-1][0], at)
        else:
            running.append((at, None))
    sheet, changes = replay(happenings)
    clock = sheet.current("resolution")
    assert clock is not None
    end = at + timedelta(days=3)

    def oracle(until: datetime) -> timedelta:
        total = timedelta()
        for begin, stop in running:
            if begin < until:
                total += business_time_between(calendar, begin, min(stop or until, until))
        return total

    assert clock.elapsed(end) == oracle(end)
    assert clock.running == (running[-1][1] is None)
    if clock.running and clock.state is State.ACTIVE:
        assert clock.due_at is not None
        assert oracle(clock.due_at) == timedelta(minutes=target)  # due exactly at the target
        if clock.warn_due is not None:
            assert oracle(clock.warn_due) == max(clock.warn_after, clock.elapsed_before)
    breaches = [c for c in changes if c.kind is Kind.BREACHED]
    if clock.state is State.BREACHED:
        # Recorded once, at the instant the target was used up, with nothing left.
        assert len(breaches) == 1
        assert breaches[0].at == clock.breached_at
        assert oracle(breaches[0].at) == timedelta(minutes=target)
        assert breaches[0].margin == timedelta(0)
    else:
        assert breaches == []
    kinds = [c.kind for c in changes]
    assert kinds.count(Kind.PAUSED) == sum(1 for _, stop in running if stop is not None)

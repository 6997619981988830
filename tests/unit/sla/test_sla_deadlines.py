"""SLA due instants on the Vietnamese office calendar, worked out by hand (arithmetic in comments).

vn-office: Asia/Ho_Chi_Minh (UTC+7, no DST); mon-fri 08:00-12:00 and 13:00-17:30 (8.5 h),
sat 08:00-12:00 (4 h), Vietnamese public holidays closed. Instants below are local unless "UTC".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.calendars import ALWAYS, VN_OFFICE
from domain.sla.clocks import Change, Kind, State
from domain.sla.policies import Policy, Target, policy_book
from domain.sla.sheet import (
    AgentReplied,
    CustomerReplied,
    Happening,
    Opened,
    Reevaluated,
    Sheet,
    StatusChanged,
    Tick,
    apply,
    replay,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
H = 60


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HCM)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def office(minutes: int) -> Target:
    return Target(minutes, VN_OFFICE)


GOLD = Policy(
    key="gold",
    applies_when='ticket.customer.tags.exists(t, t == "gold")',
    targets={
        "URGENT": {
            "first_reply": Target(1 * H, ALWAYS),
            "next_reply": Target(2 * H, ALWAYS),
            "resolution": Target(8 * H, ALWAYS),
        },
        "HIGH": {"first_reply": office(4 * H), "resolution": office(16 * H)},
        "NORMAL": {
            "first_reply": office(8 * H),
            "next_reply": office(4 * H),
            "resolution": office(40 * H),
        },
    },
    pause_statuses=frozenset({"PENDING", "ON_HOLD"}),
    warn_percent=75,
)
STANDARD = Policy(
    key="standard",
    applies_when="true",
    targets={"HIGH": {"first_reply": office(8 * H)}, "NORMAL": {"first_reply": office(16 * H)}},
)


def test_high_ticket_opened_friday_1600_is_due_saturday_1030() -> None:
    # Fri 2026-11-20 16:00 -> 17:30 closes: 1h30 run, 2h30 of 4h owed.
    # Sat 2026-11-21 opens 08:00 (Saturday morning hours): 08:00 + 2h30 = 10:30 (UTC 03:30).
    sheet, changes = apply_opened(vn(2026, 11, 20, 16, 0), "HIGH")
    first = sheet.current("first_reply")
    assert first is not None
    assert first.due_at == vn(2026, 11, 21, 10, 30) == utc(2026, 11, 21, 3, 30)
    # Warning at 75% of 4h = 3h: Fri 16:00-17:30 1h30, Sat 08:00 + 1h30 = 09:30.
    assert first.warn_due == vn(2026, 11, 21, 9, 30)
    assert [c.kind for c in changes] == [Kind.ACTIVATED, Kind.ACTIVATED]


def test_last_working_day_before_the_lunar_new_year_break() -> None:
    # Tết 2026: Mon 16 Feb (New Year's Eve) to Fri 20 Feb are public holidays; Sat 14 Feb is the
    # last working day before (Sun 15 is closed anyway). NORMAL first reply: 8h.
    # Sat 14 Feb 11:00 -> 12:00: 1h (7h owed). Sun 15 closed, Mon 16..Fri 20 holidays.
    # Sat 21 Feb 08:00-12:00: 4h (3h owed). Sun 22 closed. Mon 23 Feb 08:00 + 3h = 11:00.
    sheet, _ = apply_opened(vn(2026, 2, 14, 11, 0), "NORMAL")
    first = sheet.current("first_reply")
    assert first is not None
    assert first.due_at == vn(2026, 2, 23, 11, 0) == utc(2026, 2, 23, 4, 0)
    # Halfway through the break no business time has run since Saturday noon.
    assert first.elapsed(vn(2026, 2, 18, 10, 0)) == timedelta(hours=1)


def test_lunch_break_in_the_middle() -> None:
    # Tue 2026-12-08 10:30, HIGH first reply 4h: 10:30-12:00 is 1h30 (2h30 owed);
    # lunch 12:00-13:00 does not count; 13:00 + 2h30 = 15:30.
    sheet, _ = apply_opened(vn(2026, 12, 8, 10, 30), "HIGH")
    first = sheet.current("first_reply")
    assert first is not None
    assert first.due_at == vn(2026, 12, 8, 15, 30)
    # At 13:30 the clock shows 1h30 + 0h30 = 2h elapsed, not the 3h of the wall clock.
    assert first.elapsed(vn(2026, 12, 8, 13, 30)) == timedelta(hours=2)
    assert first.left(vn(2026, 12, 8, 13, 30)) == timedelta(hours=2)


def test_resolution_paused_two_days_in_pending_then_resumed() -> None:
    # HIGH resolution 16h. Opened Mon 2026-12-07 09:00. Unpaused it would be due:
    # Mon 09:00-12:00 3h + 13:00-17:30 4h30 = 7h30; Tue 8h30 -> 16h at Tue 17:30.
    opened = vn(2026, 12, 7, 9, 0)
    sheet, _ = apply_opened(opened, "HIGH")
    resolution = sheet.current("resolution")
    assert resolution is not None
    assert resolution.due_at == vn(2026, 12, 8, 17, 30)
    # PENDING at Mon 11:00: 2h run. Resumed (OPEN) Wed 2026-12-09 11:00, 14h owed:
    # Wed 11:00-12:00 1h (13h), 13:00-17:30 4h30 (8h30), Thu 08:00-12:00 4h (4h30),
    # Thu 13:00-17:30 4h30 (0) -> due Thu 2026-12-10 17:30 (UTC 10:30).
    sheet, paused = apply(sheet, StatusChanged(vn(2026, 12, 7, 11, 0), "PENDING"))
    resolution = sheet.current("resolution")
    assert resolution is not None
    assert resolution.state is State.PAUSED
    assert resolution.due_at is None
    assert resolution.elapsed(vn(2026, 12, 8, 16, 0)) == timedelta(hours=2)
    assert [(c.kind, c.metric, c.margin) for c in paused] == [
        (Kind.PAUSED, "resolution", timedelta(hours=14))
    ]
    sheet, resumed = apply(sheet, StatusChanged(vn(2026, 12, 9, 11, 0), "OPEN"))
    resolution = sheet.current("resolution")
    assert resolution is not None
    assert resolution.state is State.ACTIVE
    assert resolution.due_at == vn(2026, 12, 10, 17, 30) == utc(2026, 12, 10, 10, 30)
    # The first reply is never paused and nobody replied: its warning (75% of 4h = 3h:
    # 09:00-12:00 -> Mon 12:00) and breach (09:00-12:00 3h + 13:00-14:00 1h -> Mon 14:00) were
    # due while the ticket waited; the resume records both at their own instants, first.
    assert [(c.kind, c.metric, c.at) for c in resumed] == [
        (Kind.WARNED, "first_reply", vn(2026, 12, 7, 12, 0)),
        (Kind.BREACHED, "first_reply", vn(2026, 12, 7, 14, 0)),
        (Kind.RESUMED, "resolution", vn(2026, 12, 9, 11, 0)),
    ]
    first = sheet.latest("first_reply")
    assert first is not None
    assert first.state is State.BREACHED
    assert first.breached_at == vn(2026, 12, 7, 14, 0)


def test_urgent_24x7_target_across_midnight() -> None:
    # URGENT uses the 24x7 "always" calendar (UTC): opened 23:30 UTC Mon 2026-12-07;
    # first reply 1h -> 00:30 UTC Tue; warning at 75% = 45 min -> 00:15 UTC; resolution 8h ->
    # 07:30 UTC Tue. (In Ho Chi Minh City that is 06:30 -> 07:30 local: before the office opens.)
    sheet, _ = apply_opened(utc(2026, 12, 7, 23, 30), "URGENT")
    first, resolution = sheet.current("first_reply"), sheet.current("resolution")
    assert first is not None
    assert resolution is not None
    assert first.due_at == utc(2026, 12, 8, 0, 30)
    assert first.warn_due == utc(2026, 12, 8, 0, 15)
    assert resolution.due_at == utc(2026, 12, 8, 7, 30)
    # A timer tick at 00:40 records the warning at 00:15 and the breach at 00:30, each with the
    # margin left at its instant (15 min, then 0).
    sheet, changes = apply(sheet, Tick(utc(2026, 12, 8, 0, 40)))
    assert [(c.kind, c.at, c.margin) for c in changes] == [
        (Kind.WARNED, utc(2026, 12, 8, 0, 15), timedelta(minutes=15)),
        (Kind.BREACHED, utc(2026, 12, 8, 0, 30), timedelta(0)),
    ]
    # The late reply at 00:50 fulfils it, still BREACHED, 20 minutes over.
    sheet, changes = apply(sheet, AgentReplied(utc(2026, 12, 8, 0, 50)))
    first = sheet.latest("first_reply")
    assert first is not None
    assert first.state is State.BREACHED
    assert first.met is False
    assert first.achieved == timedelta(minutes=80)
    assert [(c.kind, c.margin) for c in changes] == [(Kind.FULFILLED, timedelta(minutes=-20))]


def test_next_reply_starts_on_each_unanswered_customer_message() -> None:
    # NORMAL next reply 4h. Agent replies Tue 2026-12-08 09:00 (first reply met); the customer
    # writes at 11:00 and again at 11:30 (one clock: the first message is still unanswered):
    # 11:00-12:00 1h, 13:00 + 3h = 16:00.
    sheet, _ = apply_opened(vn(2026, 12, 8, 8, 30), "NORMAL")
    sheet, _ = apply(sheet, AgentReplied(vn(2026, 12, 8, 9, 0)))
    sheet, _ = apply(sheet, CustomerReplied(vn(2026, 12, 8, 11, 0)))
    sheet, _ = apply(sheet, CustomerReplied(vn(2026, 12, 8, 11, 30)))
    replies = [c for c in sheet.clocks if c.metric == "next_reply"]
    assert [(c.cycle, c.due_at) for c in replies] == [(1, vn(2026, 12, 8, 16, 0))]
    sheet, _ = apply(sheet, AgentReplied(vn(2026, 12, 8, 14, 0)))
    sheet, _ = apply(sheet, CustomerReplied(vn(2026, 12, 8, 15, 0)))
    replies = [c for c in sheet.clocks if c.metric == "next_reply"]
    # Second message at 15:00: 15:00-17:30 2h30, Wed 08:00 + 1h30 = 09:30.
    assert [(c.cycle, c.state, c.due_at) for c in replies] == [
        (1, State.FULFILLED, vn(2026, 12, 8, 16, 0)),
        (2, State.ACTIVE, vn(2026, 12, 9, 9, 30)),
    ]


def test_reopen_restarts_resolution_and_solving_stops_reply_clocks() -> None:
    sheet, _ = apply_opened(vn(2026, 12, 8, 8, 0), "HIGH")
    sheet, changes = apply(sheet, StatusChanged(vn(2026, 12, 8, 10, 0), "SOLVED"))
    assert {(c.kind, c.metric) for c in changes} == {
        (Kind.FULFILLED, "first_reply"),
        (Kind.FULFILLED, "resolution"),
    }
    # Reopened Wed 2026-12-09 16:00: a second resolution clock, 16h from then:
    # Wed 16:00-17:30 1h30, Thu 8h30 (10h), Fri 08:00-12:00 4h (14h), 13:00 + 2h = 15:00.
    sheet, changes = apply(sheet, StatusChanged(vn(2026, 12, 9, 16, 0), "OPEN"))
    assert [(c.kind, c.metric, c.cycle) for c in changes] == [(Kind.ACTIVATED, "resolution", 2)]
    current = sheet.current("resolution")
    assert current is not None
    assert current.due_at == vn(2026, 12, 11, 15, 0)


def test_priority_change_keeps_elapsed_business_time() -> None:
    # NORMAL at Tue 2026-12-08 08:00 (first reply 8h); raised to HIGH (4h) at 11:00, 3h run:
    # 1h owed from 11:00 -> 12:00.
    sheet, _ = apply_opened(vn(2026, 12, 8, 8, 0), "NORMAL")
    sheet, changes = apply(sheet, Reevaluated(vn(2026, 12, 8, 11, 0), "HIGH", GOLD))
    first = sheet.current("first_reply")
    assert first is not None
    assert first.due_at == vn(2026, 12, 8, 12, 0)
    assert first.elapsed(vn(2026, 12, 8, 11, 0)) == timedelta(hours=3)
    # 3h is already the 75% of 4h: the warning is recorded at once.
    assert [(c.kind, c.at) for c in changes] == [(Kind.WARNED, vn(2026, 12, 8, 11, 0))]
    assert first.warned_at == vn(2026, 12, 8, 11, 0)
    assert first.warn_due is None
    # To the standard policy (HIGH first reply 8h, no resolution): the resolution clock goes.
    sheet, _ = apply(sheet, Reevaluated(vn(2026, 12, 8, 11, 0), "HIGH", STANDARD))
    assert sheet.current("resolution") is None
    first = sheet.current("first_reply")
    assert first is not None
    assert first.policy == "standard"
    # 5h owed from 11:00: 11:00-12:00 1h, 13:00 + 4h = 17:00.
    assert first.due_at == vn(2026, 12, 8, 17, 0)


def test_a_new_policy_s_pause_statuses_apply_from_the_re_evaluation() -> None:
    # NORMAL gold ticket opened Tue 2026-12-08 08:00, set PENDING at 10:00 (gold does not
    # pause on it here: a policy without pauses), 2h of resolution run by then.
    no_pause = Policy(
        key="no-pause",
        applies_when="true",
        targets={"NORMAL": {"resolution": office(40 * H)}},
    )
    sheet, _ = apply(Sheet(), Opened(vn(2026, 12, 8, 8, 0), "NEW", "NORMAL", no_pause))
    sheet, _ = apply(sheet, StatusChanged(vn(2026, 12, 8, 10, 0), "PENDING"))
    running = sheet.current("resolution")
    assert running is not None
    assert running.state is State.ACTIVE
    # At 11:00 the ticket moves to gold, which pauses on PENDING: the clock stops with 3h run.
    sheet, changes = apply(sheet, Reevaluated(vn(2026, 12, 8, 11, 0), "NORMAL", GOLD))
    paused = sheet.current("resolution")
    assert paused is not None
    assert paused.state is State.PAUSED
    assert paused.elapsed(vn(2026, 12, 9, 11, 0)) == timedelta(hours=3)
    assert (Kind.PAUSED, "resolution") in [(c.kind, c.metric) for c in changes]
    # And back to the policy without pauses at 14:00 (still PENDING): it runs again from then.
    sheet, changes = apply(sheet, Reevaluated(vn(2026, 12, 8, 14, 0), "NORMAL", no_pause))
    resumed = sheet.current("resolution")
    assert resumed is not None
    assert resumed.state is State.ACTIVE
    assert resumed.elapsed(vn(2026, 12, 8, 15, 0)) == timedelta(hours=4)
    assert (Kind.RESUMED, "resolution") in [(c.kind, c.metric) for c in changes]


def test_first_matching_policy_is_selected() -> None:
    book = policy_book([GOLD, STANDARD])
    now = utc(2026, 12, 8)
    gold = {"priority": "HIGH", "customer": {"tags": ["vip", "gold"]}}
    plain = {"priority": "HIGH", "customer": {"tags": []}}
    broken: dict[str, object] = {"priority": "HIGH"}  # no customer: the gold condition errors
    assert book.select(gold, now) is GOLD
    assert book.select(plain, now) is STANDARD
    assert book.select(broken, now) is STANDARD


def test_replay_is_the_fold_of_apply() -> None:
    opened = vn(2026, 12, 8, 8, 0)
    happenings: list[Happening] = [
        Opened(opened, "NEW", "HIGH", GOLD),
        StatusChanged(vn(2026, 12, 8, 9, 0), "PENDING"),
        StatusChanged(vn(2026, 12, 8, 10, 0), "OPEN"),
        AgentReplied(vn(2026, 12, 8, 10, 30)),
    ]
    sheet, changes = replay(happenings)
    assert [c.kind for c in changes] == [
        Kind.ACTIVATED, Kind.ACTIVATED, Kind.PAUSED, Kind.RESUMED, Kind.FULFILLED,
    ]  # fmt: skip
    first = sheet.latest("first_reply")
    assert first is not None
    assert first.state is State.FULFILLED
    assert first.achieved == timedelta(hours=2, minutes=30)
    resolution = sheet.current("resolution")
    # 1h run before the pause, 15h owed from 10:00: 10:00-12:00 2h, 13:00-17:30 4h30 (6h30 run),
    # Wed 8h30 -> 15h at Wed 2026-12-09 17:30.
    assert resolution is not None
    assert resolution.due_at == vn(2026, 12, 9, 17, 30)


def apply_opened(at: datetime, priority: str) -> tuple[Sheet, list[Change]]:
    return apply(Sheet(), Opened(at, "NEW", priority, GOLD))


def test_business_days_target_is_the_closing_of_the_nth_working_day() -> None:
    # resolution: {business_days: 2}, opened Fri 2026-12-11 16:00. Working days after Friday:
    # Sat 12 (1st, 08:00-12:00), Mon 14 (2nd) -> due at Monday's closing, 17:30. The business
    # time this allows: Fri 16:00-17:30 1h30 + Sat 4h + Mon 8h30 = 14h.
    two_days = Policy(
        key="contract",
        applies_when="true",
        targets={"NORMAL": {"resolution": Target(0, VN_OFFICE, business_days=2)}},
        pause_statuses=frozenset({"PENDING"}),
    )
    opened = vn(2026, 12, 11, 16, 0)
    sheet, _ = apply(Sheet(), Opened(opened, "NEW", "NORMAL", two_days))
    resolution = sheet.current("resolution")
    assert resolution is not None
    assert resolution.due_at == vn(2026, 12, 14, 17, 30)
    assert resolution.target.duration == timedelta(hours=14)
    # Waiting on the customer from Fri 16:30 to Sat 09:00 (30 min run, 13h30 owed):
    # Sat 09:00-12:00 3h (10h30), Mon 8h30 (2h), Tue 2026-12-15 08:00 + 2h = 10:00.
    sheet, _ = apply(sheet, StatusChanged(vn(2026, 12, 11, 16, 30), "PENDING"))
    sheet, _ = apply(sheet, StatusChanged(vn(2026, 12, 12, 9, 0), "OPEN"))
    resolution = sheet.current("resolution")
    assert resolution is not None
    assert resolution.due_at == vn(2026, 12, 15, 10, 0)

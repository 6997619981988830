"""Durable timers: scheduled in SQL, claimed by due time, fired exactly once.

A claim is a lease. ``claim_due_timers`` moves due timers to ``CLAIMED`` with a fresh claim
token and ``claimed_until = now + lease``; the scheduler then enqueues their ids. If that
message is lost (a worker dies, Redis is flushed), nothing is lost: the timer is still in SQL,
and once its lease has expired the next claim takes it again.

``fire_timer`` marks the timer ``FIRED`` with a conditional update (``status = 'CLAIMED'``) in
the same transaction as the handler's writes. A duplicate message (the timer fired already,
was cancelled, or was replaced and is PENDING again) updates no row and does nothing, so a
timer fires at most once per schedule even though messages are delivered at least once.

The update does not require the message's own claim token. A message that waited in the
queue longer than the lease finds its timer claimed again under a newer token; it fires it
anyway (the timer is due, and only one firing can win the conditional update), and the newer
claim's message then does nothing. Requiring the token made such a backlog a livelock: every
message arrived stale, fired nothing, and each lease re-claimed and re-enqueued everything.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from domain.persistence.models import Timer
from domain.persistence.params import placeholders
from workflows.runtime import metrics
from workflows.runtime.clock import utcnow

logger = logging.getLogger(__name__)

#: A timer's claim lasts this long before another claimer may take it again.
DEFAULT_LEASE = dt.timedelta(seconds=30)

TimerHandler = Callable[[Timer], Awaitable[None]]
BatchHandler = Callable[[list[Timer]], Awaitable[None]]

_timer_handler: TimerHandler | None = None
_batch_handler: BatchHandler | None = None


def set_timer_handler(handler: TimerHandler | None, *, batch: BatchHandler | None = None) -> None:
    """Register what firing a timer does (the engine glue), or ``None`` to remove it; ``batch``
    optionally does the same for several timers at once (faster: see :func:`fire_timers`).

    The handler runs inside the transaction that marks the timer ``FIRED``: its ORM writes
    commit with it, and if it raises, nothing commits and the timer fires again after its lease.
    """
    global _timer_handler, _batch_handler
    _timer_handler = handler
    _batch_handler = batch


def utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC: SQLite stores datetimes as text, so every comparison must use one offset."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
    return moment.astimezone(dt.UTC)


async def schedule_timer(
    *,
    run_id: int | None,
    key: str,
    due_at: dt.datetime,
    purpose: str,
    payload: dict[str, Any] | None = None,
) -> Timer:
    """Create the timer ``(run_id, key)``, or replace it (new due time, unclaimed, unfired).

    Call it inside the transaction that changes the run's state, so both commit together.
    A run's timer is one ``INSERT ... ON CONFLICT DO UPDATE`` (PostgreSQL and SQLite >= 3.24):
    it is on every transition's path, where ``update_or_create`` cost four round trips.
    """
    values: dict[str, Any] = {
        "due_at": utc(due_at),
        "purpose": purpose,
        "payload": payload or {},
        "status": "PENDING",
        "claimed_until": None,
        "claim_token": None,
        "fired_at": None,
        "attempts": 0,
    }
    if run_id is None:
        return await Timer.create(run_id=None, key=key, **values)
    connection = Timer._meta.db
    sql = upsert_run_timer_sql(connection) + " RETURNING id"
    encoded = json.dumps(values["payload"], separators=(",", ":"))
    created = dt.datetime.now(dt.UTC)
    rows = await connection.execute_query_dict(
        sql, [run_id, key, purpose, values["due_at"], encoded, created]
    )
    timer = Timer(run_id=run_id, key=key, created_at=created, **values)
    timer.id = int(rows[0]["id"])
    timer._saved_in_db = True
    return timer


def upsert_run_timer_sql(connection: Any) -> str:
    """Create or replace a run's timer: parameters ``run_id, key, purpose, due_at, payload
    (JSON text), created_at``; the row comes back PENDING, unclaimed and unfired."""
    marks = ", ".join(placeholders(connection, 6))
    return (
        "INSERT INTO timers (run_id, key, purpose, due_at, payload, created_at, status, "
        f"claimed_until, claim_token, attempts, fired_at) VALUES ({marks}, 'PENDING', NULL, "
        "NULL, 0, NULL) ON CONFLICT (run_id, key) DO UPDATE SET purpose = excluded.purpose, "
        "due_at = excluded.due_at, payload = excluded.payload, status = 'PENDING', "
        "claimed_until = NULL, claim_token = NULL, attempts = 0, fired_at = NULL"
    )


async def cancel_timer(*, run_id: int, key: str) -> bool:
    """Cancel a timer that has not fired; True if there was one."""
    cancelled = await Timer.filter(
        run_id=run_id, key=key, status__in=("PENDING", "CLAIMED")
    ).update(status="CANCELLED", claim_token=None, claimed_until=None)
    return cancelled > 0


def _claimable(now: dt.datetime) -> Q:
    return Q(due_at__lte=now) & (Q(status="PENDING") | Q(status="CLAIMED", claimed_until__lte=now))


async def claim_due_timers(
    now: dt.datetime, limit: int = 100, lease: dt.timedelta = DEFAULT_LEASE
) -> list[Timer]:
    """Claim up to ``limit`` timers due at ``now`` (oldest first), for ``lease``.

    Each timer is claimed by exactly one caller, even with several claimers at once:
    PostgreSQL locks the candidate rows with ``FOR UPDATE SKIP LOCKED`` so concurrent claimers
    take disjoint sets; SQLite runs one conditional ``UPDATE ... RETURNING`` (a single
    statement holds the database's write lock). Timers whose lease expired are claimable again.
    The returned timers carry their ``claim_token``.
    """
    now = utc(now)
    token = uuid.uuid4().hex
    claimed_until = now + lease
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "sqlite":
            ids = await _claim_sqlite(connection, now, limit, token, claimed_until)
        else:
            # A model query: Tortoise drops FOR UPDATE from values_list() queries.
            candidates = (
                await Timer.filter(_claimable(now))
                .using_db(connection)
                .order_by("due_at", "id")
                .limit(limit)
                .select_for_update(skip_locked=True)
            )
            ids = [timer.id for timer in candidates]
            if ids:
                await (
                    Timer.filter(id__in=ids)
                    .using_db(connection)
                    .update(
                        status="CLAIMED",
                        claim_token=token,
                        claimed_until=claimed_until,
                        attempts=F("attempts") + 1,
                    )
                )
        if not ids:
            return []
        timers = await Timer.filter(id__in=ids).using_db(connection).order_by("due_at", "id")
    return list(timers)


async def _claim_sqlite(
    connection: Any, now: dt.datetime, limit: int, token: str, claimed_until: dt.datetime
) -> list[int]:
    # Needs SQLite >= 3.35 (RETURNING). The condition is repeated outside the subquery so the
    # statement stays correct whatever plan SQLite picks.
    claimable = (
        "due_at <= ? AND (status = 'PENDING' OR (status = 'CLAIMED' AND claimed_until <= ?))"
    )
    sql = (
        "UPDATE timers SET status = 'CLAIMED', claim_token = ?, claimed_until = ?, "
        "attempts = attempts + 1 "
        f"WHERE id IN (SELECT id FROM timers WHERE {claimable} ORDER BY due_at, id LIMIT ?) "
        f"AND {claimable} RETURNING id"
    )
    # The same text form Tortoise writes (isoformat with a space), so text comparison works.
    stamp, until = now.isoformat(" "), claimed_until.isoformat(" ")
    rows = await connection.execute_query_dict(
        sql, [token, until, stamp, stamp, limit, stamp, stamp]
    )
    return [int(row["id"]) for row in rows]


async def fire_timer(timer_id: int, claim_token: str | None, now: dt.datetime) -> bool:
    """Fire a claimed timer once: mark it ``FIRED`` and run the registered handler, together.

    Returns False (and does nothing) if the timer is not ``CLAIMED`` any more: already fired,
    cancelled, or replaced (PENDING again). ``claim_token`` is the claim the message was sent
    for; a timer claimed again since still fires (see the module docstring), and is counted.
    """
    return await fire_timers([(timer_id, claim_token)], now) == 1


async def fire_timers(claims: Sequence[tuple[int, str | None]], now: dt.datetime) -> int:
    """Fire several claimed timers ``(timer_id, claim_token)`` in one transaction: those still
    ``CLAIMED`` are marked ``FIRED`` and handed to the handler together (the batch handler if
    one is registered), so their writes commit together or not at all. Returns how many fired.

    Every timer keeps :func:`fire_timer`'s guarantee: the conditional update makes each fire
    at most once per schedule, and if the handler raises, none of them fired (they stay
    CLAIMED until their lease expires, or the caller fires them one by one).
    """
    now = utc(now)
    tokens = dict(claims)
    if not tokens:
        return 0
    async with in_transaction() as connection:
        # The conditional update comes first: it takes the rows' write locks, so a concurrent
        # firing of the same timer waits here and then finds nothing to update. RETURNING
        # hands the handler its timers without a second statement.
        marks = placeholders(connection, len(tokens) + 1)
        rows = await connection.execute_query_dict(
            f"UPDATE timers SET status = 'FIRED', fired_at = {marks[0]} "
            f"WHERE id IN ({', '.join(marks[1:])}) AND status = 'CLAIMED' "
            f"RETURNING {', '.join(_FIRED_COLUMNS)}",
            [now, *tokens],
        )
        stale = len(tokens) - len(rows)
        if stale:
            metrics.STALE_TIMER_MESSAGES.inc(stale)
        fired = sorted(
            (_timer_from_row(row, now) for row in rows), key=lambda timer: (timer.due_at, timer.id)
        )
        for timer in fired:
            token = tokens.get(timer.id)
            if token is not None and timer.claim_token != token:
                metrics.SUPERSEDED_CLAIMS.inc()  # an older claim's message, late: see above
            logger.debug(
                "timer %s (%s) fired %.3f s after due",
                timer.id,
                timer.key,
                (now - timer.due_at).total_seconds(),
            )
        if fired:
            await _handle(fired)
    for timer in fired:  # committed: they did fire
        metrics.timer_fired(timer.purpose, (now - timer.due_at).total_seconds())
    return len(fired)


async def _handle(fired: list[Timer]) -> None:
    if _batch_handler is not None:
        await _batch_handler(fired)
    elif _timer_handler is not None:
        for timer in fired:
            await _timer_handler(timer)
    else:
        logger.warning("timers %s fired with no timer handler registered", [t.id for t in fired])


#: What a fired timer's handler may read.
_FIRED_COLUMNS = (
    "id", "run_id", "key", "purpose", "due_at", "payload", "attempts", "claim_token",
)  # fmt: skip


def _timer_from_row(row: dict[str, Any], now: dt.datetime) -> Timer:
    fields = Timer._meta.fields_map
    timer = Timer(
        run_id=row["run_id"],
        key=row["key"],
        purpose=row["purpose"],
        due_at=fields["due_at"].to_python_value(row["due_at"]),
        payload=fields["payload"].to_python_value(row["payload"]),
        attempts=row["attempts"],
        status="FIRED",
        fired_at=now,
    )
    timer.id = int(row["id"])
    timer._saved_in_db = True
    return timer


async def complete_timer(timer_id: int, outcome: str, claim_token: str | None = None) -> bool:
    """Finish a claimed timer without firing its handler: ``outcome`` is FIRED or CANCELLED.

    Idempotent: only a timer still CLAIMED (under ``claim_token`` if given) changes.
    """
    if outcome not in ("FIRED", "CANCELLED"):
        raise ValueError(f"outcome must be FIRED or CANCELLED, not {outcome!r}")
    query = Timer.filter(id=timer_id, status="CLAIMED")
    if claim_token is not None:
        query = query.filter(claim_token=claim_token)
    values: dict[str, Any] = {"status": outcome}
    if outcome == "FIRED":
        values["fired_at"] = utcnow()
    return await query.update(**values) > 0

"""Keyset paging against real databases: every ordering pages to exactly the Python-sorted list.

~60 customers with controlled random values (NULLs and duplicates in every sort column) are
paged forward (``first``/``after``) and backward (``last``/``before``) with several page sizes;
the concatenated pages must equal the list sorted in Python with the same semantics (NULL
placement per ``nulls_first``, default "NULL is largest", ``id`` tiebreak in the direction of the
last key). Per-parent windows are checked against the same oracle, per parent.

Names and industries fold to lower-case ASCII words from prefix-free sets, so that the expected
order is the same under byte order (SQLite) and any PostgreSQL collation.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections import defaultdict
from typing import Any

import pytest

from domain.persistence import models as m
from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import (
    Query,
    count,
    fetch_page,
    fetch_pages_per_parent,
)
from domain.persistence.querying.scope import EVERYTHING
from domain.persistence.querying.spec import Condition, Page, SortKey
from domain.text import fold

SEED = 20240501
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"]
GIVEN = ["Đức", "Thắng", "Hà", "Minh", "Lan", "Tú", "Quân"]
COMPANIES = ["Sao Mai", "Hòa Bình", "Vạn Xuân", "Phú Gia", "Bình Minh", "Kim Long"]
INDUSTRIES = ["Bán lẻ", "Công nghệ", "Giáo dục", "Y tế", "Tài chính", "Logistics", None, None]
SIZES = [None, None, 10, 10, 50, 200, 200, 1000]
UPDATED = [dt.datetime(2024, 5, d, 8, 30, tzinfo=dt.UTC) for d in (1, 1, 2, 3, 3, 4)]
PAGE_SIZES = (1, 4, 17)

COLUMN = {
    "id": "id",
    "kind": "kind",
    "size": "size",
    "industry": "industry_fold",
    "displayName": "display_name_fold",
    "updatedAt": "updated_at",
    "organizationId": "organization_id",
}

ORDERINGS: dict[str, tuple[str, tuple[SortKey, ...]]] = {
    "size-asc": ("Customer", (SortKey("size"),)),
    "size-asc-nulls-first": ("Customer", (SortKey("size", nulls_first=True),)),
    "size-desc": ("Customer", (SortKey("size", descending=True),)),
    "size-desc-nulls-last": ("Customer", (SortKey("size", descending=True, nulls_first=False),)),
    "industry-asc": ("Customer", (SortKey("industry"),)),
    "industry-desc-nulls-last": (
        "Customer",
        (SortKey("industry", descending=True, nulls_first=False),),
    ),
    "displayName-desc": ("Customer", (SortKey("displayName", descending=True),)),
    "id-desc": ("Customer", (SortKey("id", descending=True),)),
    "multi-kind-industry-size": (
        "Customer",
        (
            SortKey("kind"),
            SortKey("industry", descending=True, nulls_first=False),
            SortKey("size", nulls_first=True),
        ),
    ),
    "multi-updated-name": (
        "Customer",
        (SortKey("updatedAt", descending=True), SortKey("displayName")),
    ),
    "person-org-nulls-first-size-desc": (
        "Person",
        (SortKey("organizationId", nulls_first=True), SortKey("size", descending=True)),
    ),
    "organization-industry-size": (
        "Organization",
        (SortKey("industry"), SortKey("size", descending=True, nulls_first=False)),
    ),
}


# --- data and oracle ----------------------------------------------------------------------


async def seed_customers() -> None:
    rng = random.Random(SEED)
    orgs: list[int] = []

    def common() -> dict[str, Any]:
        industry = rng.choice(INDUSTRIES)
        return {
            "industry": industry,
            "industry_fold": fold(industry),
            "size": rng.choice(SIZES),
        }

    for _ in range(12):
        name = f"Công ty {rng.choice(COMPANIES)}"
        org = await m.Customer.create(
            kind="ORGANIZATION", display_name=name, display_name_fold=fold(name), **common()
        )
        orgs.append(org.id)
    for _ in range(48):
        name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
        await m.Customer.create(
            kind="PERSON",
            display_name=name,
            display_name_fold=fold(name),
            organization_id=rng.choice([*orgs[:9], None]),  # orgs[9:] have no people
            **common(),
        )
    ids = [c.id for c in await m.Customer.all()]
    for i in ids:
        await m.Customer.filter(id=i).update(updated_at=rng.choice(UPDATED))
    stamps = {c.updated_at for c in await m.Customer.all()}
    assert stamps <= set(UPDATED), "updated_at must hold the duplicated values set above"
    # soft-deleted rows, one of them an organization with people
    for i in (ids[0], *rng.sample(ids[12:], 4)):
        await m.Customer.filter(id=i).update(deleted_at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))


async def live_rows(entity: str) -> list[dict[str, Any]]:
    rows = await m.Customer.filter(deleted_at__isnull=True).values(*COLUMN.values())
    kind = {"Person": "PERSON", "Organization": "ORGANIZATION"}.get(entity)
    return [r for r in rows if kind is None or r["kind"] == kind]


def python_order(rows: list[dict[str, Any]], order: tuple[SortKey, ...]) -> list[int]:
    """The documented ordering: NULLs per ``nulls_first`` (default: as the largest value)."""
    tie_descending = order[-1].descending if order else False

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for key in order:
            va, vb = a[COLUMN[key.field]], b[COLUMN[key.field]]
            if va is None and vb is None:
                continue
            nulls_first = key.nulls_first if key.nulls_first is not None else key.descending
            if va is None:
                return -1 if nulls_first else 1
            if vb is None:
                return 1 if nulls_first else -1
            if va != vb:
                result = -1 if va < vb else 1
                return -result if key.descending else result
        result = (a["id"] > b["id"]) - (a["id"] < b["id"])
        return -result if tie_descending else result

    return [r["id"] for r in sorted(rows, key=functools.cmp_to_key(compare))]


# --- paging through a whole list ----------------------------------------------------------


async def page_forward(query: Query, size: int) -> list[int]:
    ids: list[int] = []
    after: str | None = None
    for _ in range(200):
        page = await fetch_page(query, Page(first=size, after=after))
        assert len(page.cursors) == len(page.rows)
        assert page.has_previous_page == (after is not None)
        ids.extend(r.id for r in page.rows)
        if not page.has_next_page:
            assert len(page.rows) <= size
            return ids
        assert len(page.rows) == size
        after = page.cursors[-1]
    raise AssertionError("paging forward did not end")


async def page_backward(query: Query, size: int) -> list[int]:
    ids: list[int] = []
    before: str | None = None
    for _ in range(200):
        page = await fetch_page(query, Page(last=size, before=before))
        assert len(page.cursors) == len(page.rows)
        assert page.has_next_page == (before is not None)
        ids[:0] = [r.id for r in page.rows]
        if not page.has_previous_page:
            assert len(page.rows) <= size
            return ids
        assert len(page.rows) == size
        before = page.cursors[0]
    raise AssertionError("paging backward did not end")


@pytest.mark.parametrize("ordering", list(ORDERINGS))
async def test_paging_matches_python_order(database: str, ordering: str) -> None:
    entity, order = ORDERINGS[ordering]
    await seed_customers()
    expected = python_order(await live_rows(entity), order)
    query = Query(ENTITIES[entity], order=order, scope=EVERYTHING)
    assert await count(query) == len(expected)
    assert len(expected) > 10

    for size in PAGE_SIZES:
        assert await page_forward(query, size) == expected, f"forward, first={size}"
        assert await page_backward(query, size) == expected, f"backward, last={size}"

    # a window in the middle: the cursors of one page position the next exactly
    full = await fetch_page(query, Page(first=100))
    assert [r.id for r in full.rows] == expected
    assert not full.has_next_page
    assert not full.has_previous_page
    for start in (0, 5, len(expected) // 2, len(expected) - 2):
        page = await fetch_page(query, Page(first=3, after=full.cursors[start]))
        assert [r.id for r in page.rows] == expected[start + 1 : start + 4]
        page = await fetch_page(query, Page(last=3, before=full.cursors[start]))
        assert [r.id for r in page.rows] == expected[max(0, start - 3) : start]
        assert page.has_previous_page == (start > 3)
        # a range between two cursors
        end = min(start + 6, len(expected) - 1)
        page = await fetch_page(
            query, Page(first=100, after=full.cursors[start], before=full.cursors[end])
        )
        assert [r.id for r in page.rows] == expected[start + 1 : end]


async def test_paging_is_stable_under_inserts(database: str) -> None:
    """Rows inserted behind the cursor are not seen, rows ahead are: no duplicates, no gaps."""
    await seed_customers()
    order = (SortKey("size", descending=True, nulls_first=False), SortKey("displayName"))
    query = Query(ENTITIES["Customer"], order=order, scope=EVERYTHING)
    before = python_order(await live_rows("Customer"), order)
    first = await fetch_page(query, Page(first=10))
    assert [r.id for r in first.rows] == before[:10]
    behind = await m.Customer.create(
        kind="PERSON", display_name="Bùi An", display_name_fold="bui an", size=10**6
    )
    ahead = await m.Customer.create(
        kind="PERSON", display_name="Vũ Zung", display_name_fold="vu zung", size=None
    )
    after = python_order(await live_rows("Customer"), order)
    assert after[0] == behind.id
    assert after[-1] == ahead.id
    ids = [r.id for r in first.rows]
    cursor = first.cursors[-1]
    while True:
        page = await fetch_page(query, Page(first=7, after=cursor))
        ids.extend(r.id for r in page.rows)
        if not page.has_next_page:
            break
        cursor = page.cursors[-1]
    assert ids == [*before, ahead.id]


async def test_paging_with_filter(database: str) -> None:
    await seed_customers()
    order = (SortKey("size", descending=True), SortKey("displayName"))
    rows = [r for r in await live_rows("Customer") if r["industry_fold"] != "ban le"]
    expected = python_order(rows, order)
    query = Query(
        ENTITIES["Customer"], Condition("industry", "ne", "Bán Lẻ"), order, scope=EVERYTHING
    )
    assert await count(query) == len(expected)
    for size in PAGE_SIZES:
        assert await page_forward(query, size) == expected
        assert await page_backward(query, size) == expected


# --- pages per parent ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "ordering",
    [
        "size-asc",
        "size-desc",
        "industry-desc-nulls-last",
        "displayName-desc",
        "multi-kind-industry-size",
    ],
)
async def test_pages_per_parent_match_python(database: str, ordering: str) -> None:
    _, order = ORDERINGS[ordering]
    await seed_customers()
    people = await live_rows("Person")
    children: dict[int, list[int]] = defaultdict(list)
    by_id = {r["id"]: r for r in people}
    for pid in python_order(people, order):
        if by_id[pid]["organization_id"] is not None:
            children[by_id[pid]["organization_id"]].append(pid)
    organizations = [c.id for c in await m.Customer.filter(kind="ORGANIZATION").order_by("id")]
    parents = [*organizations, 10**6]  # includes a deleted org, orgs without people, a missing id
    assert any(len(children[p]) > 3 for p in parents)
    assert any(not children[p] for p in parents)
    query = Query(ENTITIES["Person"], order=order, scope=EVERYTHING)

    for k in (1, 3):
        firsts = await fetch_pages_per_parent(query, "organization_id", parents, Page(first=k))
        lasts = await fetch_pages_per_parent(query, "organization_id", parents, Page(last=k))
        assert set(firsts) == set(lasts) == set(parents)
        for parent in parents:
            want = children[parent]
            head, tail = firsts[parent], lasts[parent]
            assert [r.id for r in head.rows] == want[:k], f"first={k}, parent {parent}"
            assert head.total_count == len(want)
            assert head.has_next_page == (len(want) > k)
            assert not head.has_previous_page
            assert [r.id for r in tail.rows] == want[-k:], f"last={k}, parent {parent}"
            assert tail.total_count == len(want)
            assert tail.has_previous_page == (len(want) > k)
            assert not tail.has_next_page
            assert len(head.cursors) == len(head.rows)

            # the first page's cursor continues that parent's list
            if want:
                after = head.cursors[0]
                more = await fetch_pages_per_parent(
                    query, "organization_id", [parent], Page(first=2, after=after)
                )
                assert [r.id for r in more[parent].rows] == want[1:3]
                assert more[parent].total_count == len(want)
                assert more[parent].has_next_page == (len(want) > 3)
                assert more[parent].has_previous_page


async def test_interactions_per_customer_newest_first(database: str) -> None:
    rng = random.Random(SEED + 1)
    customers = []
    for i in range(8):
        name = f"Khách {i}"
        c = await m.Customer.create(kind="PERSON", display_name=name, display_name_fold=fold(name))
        customers.append(c.id)
    moments = [dt.datetime(2024, 3, d, h, tzinfo=dt.UTC) for d in (1, 2) for h in (9, 15)]
    for customer in customers[:6]:
        for _ in range(rng.randint(0, 9)):
            subject = rng.choice(["Gọi điện", None])
            await m.Interaction.create(
                kind="CALL",
                subject=subject,
                subject_fold=fold(subject),
                occurred_at=rng.choice(moments),
                customer_id=customer,
                deleted_at=rng.choice([None] * 6 + [dt.datetime(2024, 6, 1, tzinfo=dt.UTC)]),
            )
    rows = await m.Interaction.filter(deleted_at__isnull=True).values(
        "id", "customer_id", "occurred_at"
    )
    expected: dict[int, list[int]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r["occurred_at"], r["id"]), reverse=True):
        expected[r["customer_id"]].append(r["id"])
    assert max(len(v) for v in expected.values()) > 3

    query = Query(
        ENTITIES["Interaction"],
        order=(SortKey("occurredAt", descending=True),),
        scope=EVERYTHING,
    )
    for page, pick in ((Page(first=2), lambda w: w[:2]), (Page(last=3), lambda w: w[-3:])):
        result = await fetch_pages_per_parent(query, "customer_id", customers, page)
        for customer in customers:
            want = expected[customer]
            got = result[customer]
            assert [r.id for r in got.rows] == pick(want), (page, customer)
            assert got.total_count == len(want)
            more = len(want) > (page.first or page.last or 0)
            assert (got.has_next_page if page.first else got.has_previous_page) == more

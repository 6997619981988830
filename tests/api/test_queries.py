"""Reading the graph over HTTP: filters across relations, keyset paging both ways, ordering,
accent-insensitive matching, search, aggregates, timeline and node lookup."""

from __future__ import annotations

from decimal import Decimal

import httpx

from domain.persistence import models as m
from gql.ids import encode_id
from tests.api.graph import build_graph
from tests.helpers import gql


async def _total(api: httpx.AsyncClient, query: str) -> int:
    body = await gql(api, query)
    (field,) = body["data"].values()
    return int(field["totalCount"])


async def test_filters_across_relations(api: httpx.AsyncClient) -> None:
    g = await build_graph(people=12, interactions_per_person=1)
    retail = await _total(
        api, '{ people(filter: {organization: {industry: {eq: "retail"}}}) { totalCount } }'
    )
    assert retail == 6  # even-indexed people work at the Retail organization
    with_open = await _total(
        api, "{ customers(filter: {opportunities: {some: {status: {eq: OPEN}}}}) { totalCount } }"
    )
    assert with_open == len(g.open_deal_people)
    without_open = await _total(
        api, "{ people(filter: {opportunities: {none: {status: {eq: OPEN}}}}) { totalCount } }"
    )
    assert without_open == 12 - len(g.open_deal_people)
    # every: vacuously true for people without deals
    all_won = await _total(
        api, "{ people(filter: {opportunities: {every: {status: {eq: WON}}}}) { totalCount } }"
    )
    expected = sum(1 for i in range(12) if i % 3 != 0)
    assert all_won == expected
    owner_team = await _total(
        api, '{ customers(filter: {owner: {team: {name: {contains: "ha noi"}}}}) { totalCount } }'
    )
    assert owner_team == 14  # 12 people + 2 organizations, all owned by the team's users


async def test_text_matching_ignores_case_and_accents(api: httpx.AsyncClient) -> None:
    await build_graph(people=3, interactions_per_person=0)
    assert (
        await _total(
            api, '{ people(filter: {displayName: {startsWith: "nguyen"}}) { totalCount } }'
        )
        == 3
    )
    assert (
        await _total(
            api, '{ organizations(filter: {displayName: {contains: "BAN LE"}}) { totalCount } }'
        )
        == 1
    )
    assert (
        await _total(
            api,
            '{ organizations(filter: {displayName: {eq: "phan mem minh phat"}}) { totalCount } }',
        )
        == 1
    )
    # LIKE wildcards in the input are literal
    assert (
        await _total(api, '{ people(filter: {displayName: {contains: "%"}}) { totalCount } }') == 0
    )


async def test_and_or_not_and_tags(api: httpx.AsyncClient) -> None:
    await build_graph(people=12, interactions_per_person=0)
    vip = await _total(api, '{ people(filter: {tags: {has: "vip"}}) { totalCount } }')
    assert vip == 4
    not_vip = await _total(api, '{ people(filter: {not: {tags: {has: "vip"}}}) { totalCount } }')
    assert not_vip == 8
    either = await _total(
        api,
        """{ people(filter: {or: [
        {tags: {has: "vip"}}, {organization: {industry: {eq: "Software"}}}]}) { totalCount } }""",
    )
    # vip = {0,3,6,9}; Software = odd indices {1,3,5,7,9,11} -> union of 8
    assert either == 8
    both = await _total(
        api,
        """{ people(filter: {and: [
        {tags: {has: "vip"}}, {organization: {industry: {eq: "Software"}}}]}) { totalCount } }""",
    )
    assert both == 2


PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  people(first: $first, after: $after, last: $last, before: $before,
         orderBy: [{field: DISPLAY_NAME, direction: DESC}]) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { displayName } } } }"""


async def test_keyset_paging_forward_and_backward(api: httpx.AsyncClient) -> None:
    await build_graph(people=11, interactions_per_person=0)
    names: list[str] = []
    after = None
    while True:
        body = await gql(api, PAGE, {"first": 4, "after": after})
        conn = body["data"]["people"]
        assert conn["totalCount"] == 11
        names += [e["node"]["displayName"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(names) == 11
    assert names == sorted(names, key=lambda n: n.lower(), reverse=True) or len(set(names)) == 11
    # a row inserted before the cursor does not shift the next page (keyset, not offset)
    first_page = (await gql(api, PAGE, {"first": 4}))["data"]["people"]
    await m.Customer.create(
        kind="PERSON", display_name="Zz Mới", display_name_fold="zz moi", search_text="zz moi"
    )
    second = await gql(api, PAGE, {"first": 4, "after": first_page["pageInfo"]["endCursor"]})
    assert [e["node"]["displayName"] for e in second["data"]["people"]["edges"]] == names[4:8]
    # backward from the end reproduces the tail in the same order
    back = (
        await gql(
            api, PAGE, {"last": 3, "before": second["data"]["people"]["pageInfo"]["startCursor"]}
        )
    )["data"]["people"]
    assert [e["node"]["displayName"] for e in back["edges"]] == names[1:4]
    assert back["pageInfo"]["hasPreviousPage"] is True


async def test_nulls_ordering(api: httpx.AsyncClient) -> None:
    await build_graph(people=2, interactions_per_person=0)
    query = """query($nulls: NullsOrder!) { customers(orderBy: [{field: INDUSTRY, nulls: $nulls}])
        { edges { node { displayName ... on Organization { industry } } } } }"""
    first = await gql(api, query, {"nulls": "FIRST"})
    industries = [e["node"].get("industry") for e in first["data"]["customers"]["edges"]]
    assert industries == [None, None, "Retail", "Software"]
    last = await gql(api, query, {"nulls": "LAST"})
    industries = [e["node"].get("industry") for e in last["data"]["customers"]["edges"]]
    assert industries == ["Retail", "Software", None, None]
    # paging through the NULL block with cursors is stable too
    page = """query($after: String) { customers(first: 1, after: $after,
        orderBy: [{field: INDUSTRY, nulls: FIRST}]) { pageInfo { endCursor }
        edges { node { id } } } }"""
    seen, after = [], None
    for _ in range(4):
        conn = (await gql(api, page, {"after": after}))["data"]["customers"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        after = conn["pageInfo"]["endCursor"]
    assert len(set(seen)) == 4


async def test_bad_paging_and_filter_input_are_errors_not_crashes(api: httpx.AsyncClient) -> None:
    await build_graph(people=2, interactions_per_person=0)
    oversize = await gql(api, "{ customers(first: 101) { totalCount } }", expect_errors=True)
    assert oversize["errors"][0]["extensions"]["code"] == "PAGE_SIZE_OUT_OF_RANGE"
    malformed = await gql(
        api, '{ customers(after: "not-a-cursor") { totalCount } }', expect_errors=True
    )
    assert malformed["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    cursor = (await gql(api, "{ customers(first: 1) { pageInfo { endCursor } } }"))["data"][
        "customers"
    ]["pageInfo"]["endCursor"]
    other_order = await gql(
        api,
        f'{{ customers(after: "{cursor}", orderBy: [{{field: DISPLAY_NAME}}]) {{ totalCount }} }}',
        expect_errors=True,
    )
    assert other_order["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    unknown = await gql(
        api, "{ customers(filter: {shoeSize: {eq: 1}}) { totalCount } }", expect_errors=True
    )
    assert "shoeSize" in unknown["errors"][0]["message"]
    both = await gql(api, "{ customers(first: 1, last: 1) { totalCount } }", expect_errors=True)
    assert both["errors"][0]["extensions"]["code"] == "INVALID_PAGING"
    nested = await gql(
        api,
        "{ customers { edges { node { interactions(last: 1000) { totalCount } } } } }",
        expect_errors=True,
    )
    assert nested["errors"][0]["extensions"]["code"] == "PAGE_SIZE_OUT_OF_RANGE"


async def test_search_is_ranked_and_accent_insensitive(api: httpx.AsyncClient) -> None:
    await build_graph(people=12, interactions_per_person=0)
    body = await gql(api, '{ search(query: "nguyen an 1") { score customer { displayName } } }')
    hits = body["data"]["search"]
    names = [h["customer"]["displayName"] for h in hits]
    assert set(names) == {"Nguyễn An 1", "Nguyễn An 10", "Nguyễn An 11"}
    assert names[0] == "Nguyễn An 1"  # the exact name outranks prefixes
    assert hits[0]["score"] > hits[1]["score"]
    by_email = await gql(api, '{ search(query: "an7@khachhang.vn") { customer { displayName } } }')
    assert by_email["data"]["search"][0]["customer"]["displayName"] == "Nguyễn An 7"
    by_domain = await gql(api, '{ search(query: "minhphat") { customer { displayName } } }')
    assert by_domain["data"]["search"][0]["customer"]["displayName"] == "Phần mềm Minh Phát"
    by_phone = await gql(api, '{ search(query: "0900000005") { customer { displayName } } }')
    assert by_phone["data"]["search"][0]["customer"]["displayName"] == "Nguyễn An 5"


async def test_opportunity_aggregates(api: httpx.AsyncClient) -> None:
    await build_graph(people=12, interactions_per_person=0)
    rows = await m.Opportunity.all()
    body = await gql(
        api,
        """{ opportunityStats(groupBy: [STATUS]) {
        total { count sum avg min max }
        groups { key { status } count sum } } }""",
    )
    stats = body["data"]["opportunityStats"]
    assert stats["total"]["count"] == len(rows)
    assert Decimal(stats["total"]["sum"]) == sum(r.amount for r in rows)
    by_status = {g["key"]["status"]: g for g in stats["groups"]}
    for status in ("OPEN", "WON"):
        mine = [r.amount for r in rows if r.status == status]
        assert by_status[status]["count"] == len(mine)
        assert Decimal(by_status[status]["sum"]) == sum(mine)
    filtered = await gql(
        api,
        """{ opportunityStats(filter: {status: {eq: OPEN}},
        groupBy: [OWNER, STAGE]) { total { count } groups { key { owner { name } stage { name } }
        count } } }""",
    )
    assert filtered["data"]["opportunityStats"]["total"]["count"] == by_status["OPEN"]["count"]
    assert (
        sum(g["count"] for g in filtered["data"]["opportunityStats"]["groups"])
        == by_status["OPEN"]["count"]
    )


async def test_timeline_merges_kinds_newest_first(api: httpx.AsyncClient) -> None:
    g = await build_graph(people=1, interactions_per_person=3)
    pid = encode_id("Person", g.people[0])
    query = """query($id: ID!, $after: String) { node(id: $id) { ... on Person {
        timeline(first: 2, after: $after) { pageInfo { hasNextPage endCursor }
        edges { node { __typename ... on Interaction { occurredAt } ... on StageChange
        { changedAt } ... on CustomerChange { at action } } } } } } }"""
    kinds, after = [], None
    while True:
        timeline = (await gql(api, query, {"id": pid, "after": after}))["data"]["node"]["timeline"]
        kinds += [e["node"]["__typename"] for e in timeline["edges"]]
        if not timeline["pageInfo"]["hasNextPage"]:
            break
        after = timeline["pageInfo"]["endCursor"]
    assert kinds.count("Interaction") == 3
    assert "StageChange" in kinds  # person 0 has an open and a won deal
    assert "CustomerChange" in kinds  # its creation and lifecycle changes are audited


async def test_node_and_nodes(api: httpx.AsyncClient) -> None:
    g = await build_graph(people=2, interactions_per_person=0)
    person, org = encode_id("Person", g.people[0]), encode_id("Organization", g.orgs[0])
    wrong_kind = encode_id("Organization", g.people[0])
    missing = encode_id("Person", 999999)
    body = await gql(
        api,
        """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
        ... on Customer { displayName } } }""",
        {"ids": [person, org, wrong_kind, missing]},
    )
    nodes = body["data"]["nodes"]
    assert [n and n["__typename"] for n in nodes] == ["Person", "Organization", None, None]
    assert nodes[0]["id"] == person
    bad = await gql(api, '{ node(id: "@@@") { id } }', expect_errors=True)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_ID"


async def test_team_members_and_user_teams(api: httpx.AsyncClient) -> None:
    await build_graph(people=1, interactions_per_person=0)
    body = await gql(
        api, "{ teams { edges { node { name members { name teams { name } team { name } } } } } }"
    )
    (team,) = [e["node"] for e in body["data"]["teams"]["edges"]]
    assert [u["name"] for u in team["members"]] == ["Lê Văn Nam", "Trần Thị Hoa"]
    for member in team["members"]:
        assert member["teams"] == [{"name": team["name"]}]
        assert member["team"] == {"name": team["name"]}


async def test_amounts_compare_and_sort_as_numbers(api: httpx.AsyncClient) -> None:
    # Amounts from 1,000,000 to 12,000,000 plus 500,000: as text "9000000.00" > "10000000.00",
    # which is how SQLite would compare Tortoise's decimal column without a numeric cast.
    await build_graph(people=12, interactions_per_person=0)
    amounts = [r.amount for r in await m.Opportunity.all()]
    assert max(amounts) >= 10_000_000 > 9_000_000 >= min(amounts)
    body = await gql(
        api,
        """{ big: opportunities(filter: {amount: {gte: 5000000}}) { totalCount }
             small: opportunities(filter: {amount: {lt: 10000000}}) { totalCount }
             sorted: opportunities(first: 100, orderBy: [{field: AMOUNT, direction: DESC}]) {
               edges { node { amount } } }
             opportunityStats { total { min max } } }""",
    )
    data = body["data"]
    assert data["big"]["totalCount"] == sum(1 for a in amounts if a >= 5_000_000)
    assert data["small"]["totalCount"] == sum(1 for a in amounts if a < 10_000_000)
    listed = [Decimal(e["node"]["amount"]) for e in data["sorted"]["edges"]]
    assert listed == sorted(amounts, reverse=True)
    assert Decimal(data["opportunityStats"]["total"]["min"]) == min(amounts)
    assert Decimal(data["opportunityStats"]["total"]["max"]) == max(amounts)
    # Paging on the cast key resumes at the right place.
    first = await gql(
        api,
        """{ opportunities(first: 3, orderBy: [{field: AMOUNT}]) {
             pageInfo { endCursor } edges { node { amount } } } }""",
    )
    cursor = first["data"]["opportunities"]["pageInfo"]["endCursor"]
    rest = await gql(
        api,
        """query($c: String) { opportunities(first: 100, after: $c, orderBy: [{field: AMOUNT}]) {
             edges { node { amount } } } }""",
        {"c": cursor},
    )
    paged = [Decimal(e["node"]["amount"]) for e in first["data"]["opportunities"]["edges"]]
    paged += [Decimal(e["node"]["amount"]) for e in rest["data"]["opportunities"]["edges"]]
    assert paged == sorted(amounts)

"""The timeliness report's roll-ups (``signoff.rollups``) against the exemplars themselves: kept
by every write through an exemplar's life (a stale write moves nothing), equal to a rebuild, and
giving the rows and totals the report computed from every exemplar of the period before (its old
code is the oracle here), whatever the period, the type and the day the report is asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from shared.clock import FixedClock
from shared.documents import OUTBOX
from shared.http import encode_cursor
from shared.identity import Identity
from shared.readmodels import stored
from signoff import readmodels, reports, rollups, store
from signoff.domain.timeliness import Totals, assess
from signoff.main import create_app

from devstack.testing import CommandLog, running_service
from services.signoff.tests.integration.harness import T0, act, complete_ia, create, if_match, load_directory, who

PERF = Identity(person_id="P-PERF", roles=frozenset({"performance_officer"}), teams=frozenset())


@dataclass
class Old:
    rows: list[tuple[str, Any]]
    totals: Totals
    by_type: dict[str, Totals]


async def old_timeliness(db: Any, type_code: str | None, start: date, end: date, today: date) -> Old:
    """The report as it was computed before: every exemplar of the period, assessed one by one."""
    # A scan of the test's exemplars: no index serves the start date alone any more (the report reads its keys).
    query: dict[str, Any] = {"start_date": {"$gte": start.isoformat(), "$lte": end.isoformat()}}
    rows = []
    for d in await db[store.EXEMPLARS].find(query).to_list():
        if type_code and d["type_code"] != type_code:
            continue
        done = date.fromisoformat(d["counter_signed_on"]) if d.get("counter_signed_on") else None
        a = assess(date.fromisoformat(d["start_date"]), done, d.get("timescale_working_days"), today)
        rows.append((f"{d['start_date']}|{d['type_code']}|{d['_id']}", (d["_id"], d["case_id"], d["type_code"], d["latest_version"], a)))
    rows.sort(key=lambda r: r[0])
    total, by_type = Totals(), dict[str, Totals]()
    for _, row in rows:
        total.add(row[4])
        by_type.setdefault(row[2], Totals()).add(row[4])
    return Old(rows, total, dict(sorted(by_type.items())))


async def assert_report_agrees(db: Any, type_code: str | None, start: date, end: date, today: date) -> int:
    """The new report's totals and rows (all at once, and page by page) equal the old; the rows' count."""
    old = await old_timeliness(db, type_code, start, end, today)
    new = await reports.timeliness(db, PERF, type_code=type_code, period_from=start, period_to=end, today=today)
    where = (type_code, start, end, today)
    assert (new.totals, new.by_type) == (old.totals, old.by_type), where
    assert [(r.cursor, (r.exemplar_id, r.case_id, r.type_code, r.latest_version, r.assessment)) for r in new.rows] == old.rows, where
    paged, after, size = [], None, max(3, len(old.rows) // 4)
    while True:
        page = await reports.timeliness(db, PERF, type_code=type_code, period_from=start, period_to=end, today=today, after=after, limit=size + 1)
        paged += [r.cursor for r in page.rows[:size]]
        if len(page.rows) <= size:
            break
        after = page.rows[size - 1].cursor
    assert paged == [c for c, _ in old.rows], where
    return len(old.rows)


async def stored_rollups(db: Any) -> list[Any]:
    return await stored(db, rollups.ROLLUP, identity={"b", "type_code", "start_date", "due_on"})


async def test_a_counter_signature_reads_its_exemplar_once_and_writes_everything_in_one_command(service_env) -> None:
    """The roll-ups move from the exemplar as it was loaded (the guarded replace replaces exactly
    that revision), not from a second read; the replace, the roll-up change, the chronology and the
    event go to the database together; and the roll-ups stay what a rebuild makes them."""
    log = CommandLog.get()
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = await create(svc)
        with log.recording() as first_signing:
            signed = await act(svc, "P-SW1", created, "first-signature")
        with log.recording() as commands:
            await act(svc, "P-DS", signed, "counter-signature", {"comments": "Agreed"})
        assert log.to(commands, store.EXEMPLARS) == ["find", "bulkWrite"]
        assert log.writes(commands) == [("bulkWrite", (store.EXEMPLARS, f"{rollups.ROLLUPS}_pending", store.CHRONOLOGY, OUTBOX))]
        assert log.in_transactions(commands)[-1] == "commitTransaction"
        # The first signature's message to the counter-signer goes in the same command.
        assert log.writes(first_signing) == [("bulkWrite", (store.MESSAGES, store.EXEMPLARS, store.CHRONOLOGY, OUTBOX))]
        live = await stored_rollups(svc.db)
        assert await readmodels.rebuild(svc.db) == 1
        assert await stored_rollups(svc.db) == live


async def test_the_start_date_indexes_the_report_read_before_its_keys_are_dropped_when_the_service_starts(service_env) -> None:
    """A database an earlier release made has the two indexes the timeliness report read before it
    had its own keys; no query reads them now, and every exemplar written would still update them."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(service_env["MONGODB_URL"])
    try:
        earlier = client[f"{service_env['QA_NAMESPACE']}_signoff"][store.EXEMPLARS]
        await earlier.create_indexes([IndexModel([("type_code", 1), ("start_date", 1), ("_id", 1)]), IndexModel([("start_date", 1), ("_id", 1)])])
        async with running_service(create_app) as svc:
            names = {index["name"] async for index in await svc.db[store.EXEMPLARS].list_indexes()}
    finally:
        await client.close()
    [declared] = [spec for spec in store.INDEXES if spec.collection == store.EXEMPLARS]
    assert names == {"_id_", *(model.document["name"] for model in declared.models)}
    assert not names & {"type_code_1_start_date_1__id_1", "start_date_1__id_1"}


async def test_every_write_keeps_the_rollups_a_stale_one_moves_nothing_and_a_rebuild_agrees(service_env) -> None:
    clock = FixedClock(T0)  # Monday 2 March 2026
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await load_directory(svc)
        db = svc.db
        quick = await create(svc)
        quick = await act(svc, "P-DS", await act(svc, "P-SW1", quick, "first-signature"), "counter-signature")
        slow = await create(svc, case_id="C-1002")
        clock.set(T0.replace(day=13))
        slow = await act(svc, "P-DS", await act(svc, "P-SW1", slow, "first-signature"), "counter-signature")  # late
        # A start date moved by an answer: the piece of work moves to its new day (and month).
        moved = await create(svc, case_id="C-1003", answers=complete_ia("2026-03-10"))
        moved = await svc.http.patch(f"/v1/exemplars/{moved.json()['id']}/answers", json={"answers": complete_ia("2026-02-26")},
                                     headers={**who(svc, "P-SW1"), **if_match(moved)})
        assert moved.status_code == 200, moved.text
        await create(svc, case_id="C-1003", type_code="REFERR", answers={"referral_date": "2026-03-02"})
        # Counter-signed, then unlocked: pending again.
        quick = await act(svc, "P-SW1", quick, "unlock", {"reason": "a correction"})
        before = await stored_rollups(db)

        # A write at a revision the exemplar has left: 412, and neither it nor the roll-ups move.
        stale = await svc.http.post(f"/v1/exemplars/{slow.json()['id']}/unlock", json={"reason": "again"},
                                    headers={**who(svc, "P-SW1"), "If-Match": '"1"'})
        assert stale.status_code == 412, stale.text
        assert await stored_rollups(db) == before

        for today in (date(2026, 3, 2), date(2026, 3, 11), date(2026, 3, 12), date(2026, 4, 30)):
            for type_code in (None, "INIASS", "REFERR", "COREAS"):
                for start, end in ((date(2026, 2, 1), date(2026, 3, 31)), (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 3, 2), date(2026, 3, 2))):
                    await assert_report_agrees(db, type_code, start, end, today)
        assert await assert_report_agrees(db, None, date(2026, 2, 1), date(2026, 3, 31), date(2026, 3, 20)) == 4
        assert await readmodels.rebuild(db) == 4
        assert await stored_rollups(db) == before

        # Through the route: one page at a time, and a cursor that is not one of its own refused.
        url = "/v1/reports/timeliness?from=2026-02-01&to=2026-03-31&limit=3"
        first = (await svc.http.get(url, headers=who(svc, "P-PERF"))).json()
        rest = (await svc.http.get(f"{url}&cursor={first['next']}", headers=who(svc, "P-PERF"))).json()
        assert len(first["items"]) == 3 and len(rest["items"]) == 1 and rest["next"] is None
        assert first["totals"]["total"] == rest["totals"]["total"] == 4
        bad = await svc.http.get(f"{url}&cursor={encode_cursor({'after': 'not a key'})}", headers=who(svc, "P-PERF"))
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json"), bad.text


async def test_three_years_of_exemplars_give_the_old_report_for_any_period_type_and_day(service_env) -> None:
    """Exemplars copied onto start dates over three years (some counter-signed late, some unsigned,
    some of a type without a timescale; some from before the report kept its key), rebuilt: the
    report equals the old computation for periods, types and days of every shape."""
    clock = FixedClock(T0)
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await load_directory(svc)
        db = svc.db
        signed = await create(svc)
        await act(svc, "P-DS", await act(svc, "P-SW1", signed, "first-signature"), "counter-signature")
        await create(svc, case_id="C-1002")
        made = await db[store.EXEMPLARS].find({}).to_list()
        first = date(2023, 12, 28)
        copies = []
        for n in range(0, 3 * 366, 3):
            start = first + timedelta(days=n)
            for i, original in enumerate(made):
                doc = dict(original)
                doc["_id"] = f"{original['_id']}-{n:04d}"
                doc["type_code"] = ("INIASS", "COREAS", "STRATD", "STRAT")[(n + i) % 4]
                doc["start_date"] = start.isoformat()
                doc["timescale_working_days"] = (7, 35, 1, None)[(n + i) % 4]
                if doc["counter_signed_on"]:
                    doc["counter_signed_on"] = (start + timedelta(days=n % 13)).isoformat()
                doc["timeliness_key"] = store.timeliness_key(doc["start_date"], doc["type_code"], doc["_id"])
                doc["timeliness_type_key"] = f"{doc['type_code']}|{doc['timeliness_key']}"
                if n % 10 == 0:  # written before the report kept them: the rebuild adds them
                    del doc["timeliness_key"], doc["timeliness_type_key"]
                copies.append(doc)
        await db[store.EXEMPLARS].insert_many(copies)
        assert await readmodels.rebuild(db) == len(made) + len(copies)
        assert await db[store.EXEMPLARS].count_documents({"timeliness_key": {"$exists": False}}) == 0

        whole = (first, first + timedelta(days=3 * 366 - 1))
        periods = [
            whole, (date(2024, 1, 1), date(2025, 12, 31)), (date(2024, 2, 29), date(2024, 2, 29)),
            (date(2024, 2, 10), date(2024, 3, 20)), (date(2024, 2, 10), date(2026, 6, 3)), (date(2019, 1, 1), date(2019, 12, 31)),
        ]
        for today in (date(2024, 6, 1), date(2026, 12, 1), date(2025, 3, 3)):
            for type_code in (None, "INIASS", "STRAT"):
                for start, end in periods:
                    await assert_report_agrees(db, type_code, start, end, today)
        assert await assert_report_agrees(db, None, *whole, date(2025, 3, 3)) == len(made) + len(copies)

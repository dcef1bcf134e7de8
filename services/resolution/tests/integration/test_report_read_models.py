"""The reports' roll-ups (``resolution.rollups``) against the forms themselves: kept by every
write through a form's whole life (a stale write moves nothing), equal to a rebuild from the
forms, and giving the figures the reports computed from the forms before (their old pipelines are
the oracle here), for periods of a day, across months and years, and the whole three years."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from resolution import readmodels, reports, rollups, store
from resolution.domain import FormStatus
from resolution.store import FORMS
from shared.calendar import local_date
from shared.readmodels import stored

# --- the old computation: every form of the period, straight from the forms -----------------------

_KEYS = {
    "theme": "$theme_ids", "stage": "$current_stage", "team": "$team_id", "role": "$owner_role", "month": "$raised_month",
    "closing-reason": "$closing_reason_id",
}


async def old_counts(db: Any, group_by: reports.GroupBy, start: date, end: date) -> tuple[list[dict[str, Any]], bool]:
    pipeline: list[dict[str, Any]] = [{"$match": {"raised_at": reports.period(start, end)}}]
    if group_by is reports.GroupBy.THEME:
        pipeline.append({"$unwind": "$theme_ids"})
    if group_by is reports.GroupBy.CLOSING_REASON:
        pipeline.append({"$match": {"status": FormStatus.CLOSED_UNRESOLVED.value}})
    pipeline += [
        {"$group": {"_id": {"key": _KEYS[group_by.value], "status": "$status"}, "n": {"$sum": 1}}},
        {"$sort": {"_id.key": 1}},
        {"$limit": reports.MAX_GROUPS * len(FormStatus) + 1},
    ]
    raw = await (await db[FORMS].aggregate(pipeline)).to_list()
    rows: dict[str, dict[str, Any]] = {}
    for item in raw:
        raw_key = item["_id"].get("key")
        key = "uncoded" if raw_key is None else str(raw_key)
        row = rows.setdefault(key, {"key": key, "total": 0, **{s.value: 0 for s in FormStatus}})
        row[item["_id"]["status"]] += item["n"]
        row["total"] += item["n"]
    ordered = sorted(rows.values(), key=lambda r: r["key"])
    return ordered[: reports.MAX_GROUPS], len(ordered) > reports.MAX_GROUPS or len(raw) > reports.MAX_GROUPS * len(FormStatus)


async def old_durations(db: Any, start: date, end: date) -> dict[str, Any]:
    match = {"$match": {"raised_at": reports.period(start, end)}}
    per_stage = await (await db[FORMS].aggregate([
        match,
        {"$unwind": "$report.stage_days"},
        {"$group": {
            "_id": "$report.stage_days.stage", "count": {"$sum": 1}, "average_days": {"$avg": "$report.stage_days.days"},
            "average_working_days": {"$avg": "$report.stage_days.working_days"},
            "average_response_days": {"$avg": "$report.stage_days.response_days"}, "longest_days": {"$max": "$report.stage_days.days"},
        }},
    ])).to_list()
    finished = await (await db[FORMS].aggregate([
        match,
        {"$match": {"status": {"$in": [FormStatus.RESOLVED.value, FormStatus.CLOSED_UNRESOLVED.value]}}},
        {"$group": {"_id": "$status", "count": {"$sum": 1}, "average_days": {"$avg": "$report.days_to_finish"},
                    "longest_days": {"$max": "$report.days_to_finish"}}},
    ])).to_list()
    return {"per_stage": per_stage, "finished": {d["_id"]: d for d in finished}}


async def old_impacts(db: Any, start: date, end: date, *, after: tuple[datetime, str] | None, limit: int) -> list[Any]:
    query: dict[str, Any] = {"status": FormStatus.RESOLVED.value, "finished_at": reports.period(start, end)}
    if after is not None:
        at, form_id = after
        query["$or"] = [{"finished_at": {"$gt": at}}, {"finished_at": at, "_id": {"$gt": form_id}}]
    projection = {"case_id": 1, "team_id": 1, "owner_role": 1, "theme_ids": 1, "finished_at": 1, "raised_at": 1, "stages": 1, "report": 1}
    return await db[FORMS].find(query, projection).sort([("finished_at", 1), ("_id", 1)]).limit(limit).to_list()


async def assert_impacts_agree(db: Any, start: date, end: date) -> None:
    """Page by page, as the route asks (``limit + 1``, the cursor of the last shown)."""
    after, size = None, 7
    while True:
        new = await reports.impacts(db, start, end, after=after, limit=size + 1)
        assert new == await old_impacts(db, start, end, after=after, limit=size + 1), (start, end, after)
        if len(new) <= size:
            return
        after = (new[size - 1]["finished_at"], new[size - 1]["_id"])


def _by_stage(found: dict[str, Any]) -> dict[str, Any]:
    return {"per_stage": {d["_id"]: d for d in found["per_stage"]}, "finished": found["finished"]}


async def assert_reports_agree(db: Any, start: date, end: date) -> None:
    for group_by in reports.GroupBy:
        assert await reports.counts(db, group_by, start, end) == await old_counts(db, group_by, start, end), (group_by, start, end)
    assert _by_stage(await reports.durations(db, start, end)) == _by_stage(await old_durations(db, start, end)), (start, end)
    await assert_impacts_agree(db, start, end)


# --- the roll-ups as stored -------------------------------------------------------------------------


async def stored_rollups(db: Any) -> list[Any]:
    return await stored(db, rollups.ROLLUP, identity={"b"})


# --- the tests -----------------------------------------------------------------------------------------


async def _lifecycle(resolution: Any) -> list[str]:
    """Forms raised, edited, escalated, resolved and closed, through the API."""
    a = await resolution.raise_form(concerns=[{"theme_id": "care-planning", "detail": "x"}, {"theme_id": "contact", "detail": "y"}])
    b = await resolution.raise_form(case_id="CASE-2", by="CPC-1", concerns=[{"theme_id": "contact", "detail": "z"}])
    c = await resolution.raise_form(concerns=[{"theme_id": "placement-stability", "detail": "w"}])
    d = await resolution.raise_form(case_id="CASE-2", by="CPC-1")
    base = f"/v1/forms/{a['id']}/stages/informal"
    today = a["raised_at"][:10]
    v = (await resolution.act("PUT", f"{base}/dates", "IRO-1", 1, {"raised_on": today, "response_received_on": today}))["version"]
    v = (await resolution.act("PUT", f"{base}/section", "IRO-1", v, {"response": "Spoke to the team manager."}))["version"]
    v = (await resolution.act("POST", f"/v1/forms/{a['id']}/concerns", "IRO-1", v, {"theme_id": "placement-stability", "detail": "v"}))["version"]
    await resolution.act("PUT", f"{base}/resolution", "IRO-1", v, {"resolved": True, "impact": "Plan agreed"})
    v = (await resolution.act("PUT", f"/v1/forms/{b['id']}/stages/informal/resolution", "CPC-1", 1, {"resolved": False, "next_step": "escalate"}))["version"]
    await resolution.act("PUT", f"/v1/forms/{b['id']}/stages/stage-1/resolution", "CPC-1", v, {"resolved": True, "impact": "Contact restored"})
    await resolution.act(
        "PUT", f"/v1/forms/{c['id']}/stages/informal/resolution", "IRO-1", 1,
        {"resolved": False, "next_step": "close-unresolved", "closing_reason_id": "moved-to-another-authority", "close_reason": "Moved away"},
    )
    await resolution.act("PUT", f"/v1/forms/{d['id']}/stages/informal/resolution", "CPC-1", 1, {"resolved": False, "next_step": "escalate"})
    return [a["id"], b["id"], c["id"], d["id"]]


async def test_every_write_keeps_the_rollups_a_stale_one_moves_nothing_and_a_rebuild_agrees(resolution) -> None:
    ids = await _lifecycle(resolution)
    db = resolution.db
    before = await stored_rollups(db)
    assert before, "the writes rolled up"

    # A write at a version the form has left: 412, and neither the form nor the roll-ups move.
    form = await resolution.form(ids[3], "QA-1")
    stale = await resolution.http.put(
        f"/v1/forms/{ids[3]}/stages/stage-1/resolution", json={"resolved": True, "impact": "Too late"}, headers=resolution.edit("CPC-1", 1),
    )
    assert stale.status_code == 412, stale.text
    assert await resolution.form(ids[3], "QA-1") == form
    assert await stored_rollups(db) == before

    # The figures are the old computation's, and a rebuild from the forms gives the same roll-ups.
    today = local_date(datetime.now(UTC))
    for start, end in [(today, today), (today - timedelta(days=1), today + timedelta(days=1)), (today.replace(day=1), today)]:
        await assert_reports_agree(db, start, end)
    assert await readmodels.rebuild(db) == len(ids)
    assert await stored_rollups(db) == before

    # A form deleted from under the roll-ups (as if lost by hand) is what a rebuild repairs.
    await db[FORMS].delete_one({"_id": ids[0]})
    assert await readmodels.rebuild(db) == len(ids) - 1
    await assert_reports_agree(db, today, today)


async def test_three_years_of_forms_give_the_old_figures_for_any_period(resolution) -> None:
    """The forms of the lifecycle copied onto days over three years (and across a leap day), the
    roll-ups rebuilt: every report equals the old computation for periods of every shape."""
    await _lifecycle(resolution)
    db = resolution.db
    made = await db[FORMS].find({}).to_list()
    first = date(2023, 12, 28)
    copies = []
    for n in range(0, 3 * 366, 5):
        day = first + timedelta(days=n)
        for original in made:
            doc = dict(original)
            shift = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=n % 24) - original["raised_at"].replace(
                hour=0, minute=0, second=0, microsecond=0)
            doc["_id"] = f"{original['_id']}-{n}"
            doc["raised_at"] = original["raised_at"] + shift
            if n % 10 == 5:  # stored before the reports counted days in England: filed by its UTC day until the rebuild
                del doc["raised_on"]
                doc["raised_month"] = doc["raised_at"].strftime("%Y-%m")
            else:
                doc["raised_on"] = local_date(doc["raised_at"]).isoformat()
                doc["raised_month"] = doc["raised_on"][:7]
            doc["report"] = {**original["report"], "stage_days": [{**s, "days": s["days"] + n % 7, "working_days": s["working_days"] + n % 5}
                                                                 for s in original["report"]["stage_days"]]}
            if original["report"]["days_to_finish"] is not None:
                doc["report"]["days_to_finish"] = original["report"]["days_to_finish"] + n % 11
            if original["finished_at"] is not None:
                doc["finished_at"] = original["finished_at"] + shift + timedelta(days=n % 11, hours=n % 3)
                if "resolved_key" in original:
                    doc["resolved_key"] = store.resolved_key(doc["finished_at"], doc["_id"])
                    if n % 10 == 0:  # written before the impact report kept it: the rebuild adds it
                        del doc["resolved_key"]
            copies.append(doc)
    await db[FORMS].insert_many(copies)
    summer_nights = [d for d in copies if local_date(d["raised_at"]) != d["raised_at"].date()]
    assert summer_nights, "not vacuous: some copies were raised after midnight in England, before it in UTC"
    assert await readmodels.rebuild(db) == len(made) + len(copies)
    assert await db[FORMS].count_documents({"raised_on": {"$exists": False}}) == 0
    late = await db[FORMS].find_one({"_id": summer_nights[0]["_id"]})
    assert late["raised_on"] == local_date(late["raised_at"].replace(tzinfo=UTC)).isoformat() and late["raised_month"] == late["raised_on"][:7]

    periods = [
        (first, first + timedelta(days=3 * 366 - 1)),  # the whole three years
        (date(2024, 1, 1), date(2025, 12, 31)),  # whole months only
        (date(2024, 2, 29), date(2024, 2, 29)),  # one day
        (date(2024, 2, 10), date(2024, 3, 20)),  # across a month end, no whole month
        (date(2024, 2, 10), date(2026, 6, 3)),  # partial months at both ends, years between
        (date(2025, 3, 1), date(2025, 3, 31)),  # one whole month
        (date(2019, 1, 1), date(2019, 12, 31)),  # nothing raised
    ]
    for start, end in periods:
        await assert_reports_agree(db, start, end)
    rows, _ = await reports.counts(db, reports.GroupBy.THEME, *periods[0])
    assert sum(r["total"] for r in rows) > 3 * len(copies) // 4  # not vacuous: every copy with its themes

"""The reports' roll-ups (issue 20, "Reports from read models") against the real database: Kent
audits allocated, submitted, peer reviewed, moderated and completed through the API (and a stale
write that is refused and changes nothing), then the roll-ups kept live equal to a rebuild from the
audits, and every report's figures equal to the figures counted from the audits themselves."""

from __future__ import annotations

from typing import Any

from audit.case_audit import store as audit_store
from audit.common.grades import Grade
from audit.cycles import store as cycle_store
from audit.cycles.domain.timetable import Month
from audit.reporting import readmodels, rollups
from audit.reporting import store as report_store
from audit.reporting import usecases as reports
from audit.reporting.domain import agreement as ag
from audit.reporting.domain import figures
from audit.reporting.domain import rollups as counting
from pymongo.errors import PyMongoError
from shared.mongo import Transaction
from shared.rollups import pending

from devstack.testing import ServiceClient

from .conftest import QA_OFFICER, complete, grading

KENT = "kent-online-peer-review"


class Kent:
    def __init__(self, svc: ServiceClient) -> None:
        self.svc = svc
        self.qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        self.pr = svc.as_person("P-PR", roles=["peer_reviewer"])

    async def allocate(self, key: str, case_id: str, auditor: str, month: str) -> tuple[str, dict[str, Any], str]:
        allocation = {"tool_id": KENT, "case_id": case_id, "auditor_id": auditor, "peer_reviewer_id": "P-PR", "month": month}
        created = await self.svc.http.post("/v1/audits", json=allocation, headers={**self.qa, "Idempotency-Key": key})
        assert created.status_code == 201, created.text
        return created.json()["id"], created.json()["form"], created.headers["ETag"]

    async def submit(self, audit_id: str, form: dict[str, Any], auditor: str, etag: str, grade: str = "good") -> str:
        tm = self.svc.as_person(auditor, roles=["team_manager", "auditor"])
        saved = await self.svc.http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form, grade=grade), headers={**tm, "If-Match": etag})
        done = await self.svc.http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**tm, "If-Match": saved.headers["ETag"]})
        assert done.status_code == 200, done.text
        return str(done.headers["ETag"])

    async def review(self, audit_id: str, form: dict[str, Any], etag: str, grades: dict[str, str]) -> tuple[str, str]:
        review = complete(form, peer=True)
        overall = grades.pop("overall", None)
        review["section_grades"].update(grades)
        if overall:
            review["overall_grade"] = overall
        saved = await self.svc.http.put(f"/v1/audits/{audit_id}/peer-review", json=review, headers={**self.pr, "If-Match": etag})
        done = await self.svc.http.post(f"/v1/audits/{audit_id}/peer-review/submit", headers={**self.pr, "If-Match": saved.headers["ETag"]})
        assert done.status_code == 200, done.text
        return str(done.headers["ETag"]), done.json()["status"]

    async def moderate(self, audit_id: str, form: dict[str, Any], auditor: str, etag: str, overall: str, **sections: str) -> None:
        tm = self.svc.as_person(auditor, roles=["team_manager", "auditor"])
        proposed = await self.svc.http.post(
            f"/v1/audits/{audit_id}/moderation/proposals", json=grading(form, "good", overall, **sections), headers={**tm, "If-Match": etag},
        )
        assert proposed.status_code == 200, proposed.text
        done = await self.svc.http.post(f"/v1/audits/{audit_id}/moderation/accept", headers={**self.pr, "If-Match": proposed.headers["ETag"]})
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text


async def _old_figures(db: Any, months: list[Month]) -> dict[str, Any]:
    """The figures as the reports counted them before the roll-ups: from every audit of the period."""
    rows = await report_store.rows_for_months(db, months, None)
    pairings = await report_store.pairings_for_months(db, months, None)
    teams = await report_store.teams(db, [r.team_id for r in rows])
    found: dict[str, Any] = {
        "trend": figures.trend(rows, [str(m) for m in months]),
        "grades": (sum(r.completed for r in rows), figures.grade_counts(rows), figures.themes(rows)),
        "agreement": {(by, w, item): ag.report(pairings, by, w, item=item) for by in ag.By for w in ag.Weights for item in (None, "assessment", ag.OVERALL)},
    }
    for month in months:
        dispensed = await cycle_store.dispensed_people(db, month)
        found[f"completion {month} team"] = figures.completion([r for r in rows if r.month == str(month)], lambda r: r.team_id or "(unknown)", dispensed)
        found[f"completion {month} district"] = figures.completion(
            [r for r in rows if r.month == str(month)], lambda r: str((teams.get(r.team_id) or {}).get("district") or "(unknown)"), dispensed,
        )
    return found


async def _new_figures(db: Any, months: list[Month]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "trend": await reports.trend(db, months, None),
        "grades": await reports.grades(db, months, None),
        "agreement": {
            (by, w, item): (await reports.moderation_agreement(db, months, by, w, item, None))[0].report()
            for by in ag.By for w in ag.Weights for item in (None, "assessment", ag.OVERALL)
        },
    }
    for month in months:
        found[f"completion {month} team"] = await reports.completion(db, month, reports.GroupBy.TEAM, None)
        found[f"completion {month} district"] = await reports.completion(db, month, reports.GroupBy.DISTRICT, None)
    return found


async def test_live_roll_ups_equal_a_rebuild_and_the_reports_equal_the_figures_of_the_audits(svc: ServiceClient) -> None:
    kent = Kent(svc)
    # July: one audit agreed throughout (completed at peer review), one still with its auditor.
    a1, form, etag = await kent.allocate("a1", "C-3001", "P-TM3", "2026-07")
    _, status = await kent.review(a1, form, await kent.submit(a1, form, "P-TM3", etag), {})
    assert status == "completed"
    await kent.allocate("a2", "C-4001", "P-TM4", "2026-07")
    # August: one moderated (grades differ), one submitted awaiting peer review, one graded
    # requires improvement throughout.
    a3, form, etag = await kent.allocate("a3", "C-3001", "P-TM3", "2026-08")
    etag, status = await kent.review(a3, form, await kent.submit(a3, form, "P-TM3", etag), {"assessment": "requires_improvement", "overall": "requires_improvement"})
    assert status == "moderation"
    await kent.moderate(a3, form, "P-TM3", etag, "requires_improvement", assessment="requires_improvement")
    a4, form, etag = await kent.allocate("a4", "C-4001", "P-TM4", "2026-08")
    await kent.submit(a4, form, "P-TM4", etag)
    a5, form, etag = await kent.allocate("a5", "C-4001", "P-TM3", "2026-09")
    _, status = await kent.review(a5, form, await kent.submit(a5, form, "P-TM3", etag, grade="requires_improvement"), {
        s["key"]: "requires_improvement" for s in form["sections"] if s["graded"] or s["oversight"]
    } | {"overall": "requires_improvement"})
    assert status == "completed"

    live = await readmodels.snapshot(svc.db)
    # A stale write is refused and moves nothing.
    tm = svc.as_person("P-TM4", roles=["team_manager", "auditor"])
    stale = await svc.http.put(f"/v1/audits/{a4}/stage1", json=complete(form), headers={**tm, "If-Match": '"1"'})
    assert stale.status_code in (409, 412) and stale.headers["content-type"].startswith("application/problem+json"), stale.text
    assert await readmodels.snapshot(svc.db) == live

    written = await readmodels.rebuild(svc.db)
    assert written == len(live) > 0
    assert await readmodels.snapshot(svc.db) == live, "the rebuild leaves what live maintenance left"

    months = [Month(2026, 7), Month(2026, 8), Month(2026, 9)]
    old, new = await _old_figures(svc.db, months), await _new_figures(svc.db, months)
    assert new == old
    assert old["grades"][1][Grade.REQUIRES_IMPROVEMENT.value] == 2 and old["agreement"][(ag.By.TEAM, ag.Weights.QUADRATIC, None)].total.moderation.moderated == 1
    assert [(c.group, c.allocated, c.submitted, c.completed) for c in new["completion 2026-08 team"]] == [("T-CIC", 1, 1, 0), ("T-CP", 1, 1, 1)]

    # Over the API too (a district the directory does not know is "(unknown)").
    perf = svc.as_person("P-PERF", roles=["performance_officer"])
    district = (await svc.http.get("/v1/reports/completion?month=2026-08&by=district", headers=perf)).json()
    assert [(r["group"], r["allocated"], r["completed"]) for r in district["rows"]] == [("(unknown)", 2, 1)]
    trend = (await svc.http.get("/v1/reports/trend?from=2026-06&to=2026-09", headers=perf)).json()
    assert [(p["month"], p["allocated"], p["completed"]) for p in trend["points"]] == [("2026-06", 0, 0), ("2026-07", 2, 1), ("2026-08", 2, 1), ("2026-09", 1, 1)]

    # Deleting an audit (retention) takes it out in the same transaction.
    async with svc.db.client.start_session() as session, await session.start_transaction():
        assert await audit_store.delete(Transaction(session), svc.db, a3) == 1
    after_delete = await readmodels.snapshot(svc.db)
    await readmodels.rebuild(svc.db)
    assert await readmodels.snapshot(svc.db) == after_delete
    assert await _new_figures(svc.db, months) == await _old_figures(svc.db, months)


async def test_a_rebuild_reads_an_audit_stored_before_its_paired_grades_were_kept(svc: ServiceClient) -> None:
    kent = Kent(svc)
    a1, form, etag = await kent.allocate("b1", "C-3001", "P-TM3", "2026-08")
    etag, _ = await kent.review(a1, form, await kent.submit(a1, form, "P-TM3", etag), {"planning": "requires_improvement"})
    await kent.moderate(a1, form, "P-TM3", etag, "good")
    live = await readmodels.snapshot(svc.db)
    assert (await svc.db[audit_store.AUDITS].update_many({}, {"$unset": {"agreement": ""}})).modified_count == 1
    await readmodels.rebuild(svc.db)
    assert await readmodels.snapshot(svc.db) == live
    assert await svc.db[rollups.ROLLUPS].count_documents({"kind": "agreement"}) == 18  # (month, quarter, year) x (all, team, pair) x (pooled, per item)


def _allocated(n: int) -> dict[str, Any]:
    """An allocated audit's report fields (what the roll-ups read of it), of October 2026."""
    return {"_id": f"A-ONCE-{n}", "month": "2026-10", "tool_id": KENT, "team_id": "T-1", "auditor_id": f"P-ONCE-{n}", "status": "allocated"}


async def test_audits_written_at_once_both_commit_and_a_report_counts_both(svc: ServiceClient) -> None:
    """Two transactions open at once, each writing an audit of the same month (as two replicas
    allocating a month do): each records its roll-up change as a pending insert, so both commit,
    and the month's report, folding what is pending, counts both. The control: the same two
    changes as ``$inc`` upserts of the month's roll-up documents, which was how they were kept,
    conflict on this store."""
    client = svc.db.client
    async with client.start_session() as first, client.start_session() as second:
        async with await first.start_transaction(), await second.start_transaction():
            await rollups.apply(svc.db, [], [_allocated(1)], session=first)
            await rollups.apply(svc.db, [], [_allocated(2)], session=second)
    counted = await report_store.completion_counts(svc.db, Month(2026, 10), KENT)
    assert sorted((team, auditor, c.n) for team, auditor, c in counted) == [("T-1", "P-ONCE-1", 1), ("T-1", "P-ONCE-2", 1)]
    assert await svc.db[pending(svc.db[rollups.ROLLUPS]).name].count_documents({}) == 0, "the report folded what was pending"

    conflicted = False
    async with client.start_session() as first, client.start_session() as second:
        try:
            async with await first.start_transaction(), await second.start_transaction():
                for session, n in ((first, 3), (second, 4)):
                    change = counting.delta([], [rollups.facts(_allocated(n))])
                    await svc.db[rollups.ROLLUPS].bulk_write(rollups.operations(change), ordered=False, session=session)
        except PyMongoError as exc:
            conflicted = exc.has_error_label("TransientTransactionError")
    assert conflicted, "two $inc of one roll-up in transactions open at once conflict"


async def test_no_report_query_scans_a_collection(svc: ServiceClient) -> None:
    """The plans of the reports' queries (SecantusDB's explain): each an index scan."""
    kent = Kent(svc)
    a1, form, etag = await kent.allocate("c1", "C-3001", "P-TM3", "2026-08")
    await kent.review(a1, form, await kent.submit(a1, form, "P-TM3", etag), {})
    queries: list[tuple[str, dict[str, Any], Any]] = [
        (rollups.ROLLUPS, report_store._rollups("completion", ["2026-08"], None), None),
        (rollups.ROLLUPS, report_store._rollups("completion", ["2026-08"], KENT), None),
        (rollups.ROLLUPS, report_store._rollups("month", [f"2026-{m:02d}" for m in range(1, 13)], None), None),
        (rollups.ROLLUPS, report_store._rollups("theme", ["2026-07", "2026-08", "2026-09"], None), None),
        (rollups.ROLLUPS, report_store._rollups("agreement", ["2026"], None, dim="team"), None),
        (rollups.ROLLUPS, report_store._rollups("agreement", ["2025-12", "2026", "2027-Q1"], None, dim="all"), None),
        ("directory_teams", {"_id": {"$gte": "T-A", "$lte": "T-Z"}}, {"_id": 1}),
        (audit_store.AUDITS, {"team_id": "T-CP", "month": {"$gte": "2026-03", "$lt": "2026-09"}}, None),
    ]
    for collection, query, hint in queries:
        command: dict[str, Any] = {"find": collection, "filter": query}
        if hint is not None:
            command["hint"] = hint
        plan = (await svc.db.command("explain", command))["queryPlanner"]["winningPlan"]
        assert "COLLSCAN" not in str(plan) and "IXSCAN" in str(plan), (collection, query, plan)

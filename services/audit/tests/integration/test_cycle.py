"""The monthly cycle over the API (one in-process replica): drawing a month, its allocation
through the work queue, a second draw changing nothing, refusals, dispensations, the scheduled
draw, and the reports."""

from __future__ import annotations

from audit.main import create_app
from shared.clock import FixedClock

from devstack.testing import eventually, running_service

from .conftest import DRAW_DAY, complete, load_authority

KENT = "kent-online-peer-review"
QA = ("P-QA", ["qa_officer"])


def app(clock: FixedClock):
    return lambda: create_app(clock=clock)


async def test_drawing_a_month_allocates_one_audit_per_auditor_and_a_second_draw_changes_nothing(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load_authority(svc.db, teams=4, peer_reviewers=4)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        drawn = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-2026"}, headers=qa)
        assert drawn.status_code == 201, drawn.text
        cycle = drawn.json()
        assert (cycle["cycle_id"], cycle["seed"], cycle["audits"], cycle["drawn_by"]) == (f"{KENT}:2026-12", "dec-2026", 4, "P-QA")
        assert cycle["timetable"]["draw_on"] == "2026-11-24" and cycle["timetable"]["due_on"] == "2026-12-31"
        assert cycle["timetable"]["auditor_reminders"] == ["2026-12-08", "2026-12-22"]

        allocated = await capture.wait_for("audit.audit.allocated.v1", 4)
        assert sorted(e.data["auditor_id"] for e in allocated) == ["TM0", "TM1", "TM2", "TM3"]
        for event in allocated:
            assert event.source == "/qa/audit" and event.subject == f"audit/{event.data['audit_id']}"
            assert event.data["month"] == "2026-12" and event.data["due_on"] == "2026-12-31"
            assert event.data["peer_reviewer_id"] in ("PR0", "PR1", "PR2", "PR3") and event.data["allocated_by"] == "P-QA"
        assert len({e.data["peer_reviewer_id"] for e in allocated}) == 4  # one audit each (Kent 2)
        [drawn_event] = await capture.wait_for("audit.cycle.drawn.v1")
        assert drawn_event.data["audits"] == 4 and drawn_event.data["seed"] == "dec-2026"
        assert drawn_event.subject == f"cycle/{KENT}:2026-12"

        async def all_allocated() -> bool:
            got = (await svc.http.get("/v1/cycles/2026-12", headers=qa)).json()
            return bool(got["allocated"] == 4)

        await eventually(all_allocated)
        page = (await svc.http.get("/v1/cycles/2026-12/assignments?limit=3", headers=qa)).json()
        rest = (await svc.http.get(f"/v1/cycles/2026-12/assignments?cursor={page['next']}", headers=qa)).json()
        rows = page["items"] + rest["items"]
        assert [r["auditor_id"] for r in rows] == ["TM0", "TM1", "TM2", "TM3"] and rest["next"] is None
        assert {r["audit_id"] for r in rows} == {e.data["audit_id"] for e in allocated}
        assert all(r["allocation_key"] == f"{KENT}:2026-12:{r['auditor_id']}" for r in rows)
        # The auditor reads the audit allocated to them, for the case they line-manage.
        mine = (await svc.http.get(f"/v1/audits/{rows[0]['audit_id']}", headers=svc.as_person("TM0", roles=["team_manager"]))).json()
        assert mine["case_id"].startswith("C-0-") and mine["month"] == "2026-12"

        again = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-2026"}, headers=qa)
        assert again.status_code == 200 and again.json()["seed"] == "dec-2026" and again.json()["audits"] == 4
        another = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "another"}, headers=qa)
        assert another.status_code == 409 and another.json()["existing_seed"] == "dec-2026"
        await capture.settle(1.0)
        assert len(capture.of_type("audit.audit.allocated.v1")) == 4
        assert len(capture.of_type("audit.cycle.drawn.v1")) == 1
        assert await svc.db["audits"].count_documents({"month": "2026-12"}) == 4


async def test_a_draw_sent_again_with_its_idempotency_key_answers_what_it_drew(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load_authority(svc.db, teams=2, peer_reviewers=2)
        qa = {**svc.as_person(*QA[:1], roles=QA[1]), "Idempotency-Key": "draw-dec"}
        drawn = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-2026"}, headers=qa)
        assert drawn.status_code == 201 and "Idempotent-Replayed" not in drawn.headers, drawn.text
        replayed = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-2026"}, headers=qa)
        assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.json()["cycle_id"] == drawn.json()["cycle_id"] == f"{KENT}:2026-12"
        assert replayed.headers["Location"] == drawn.headers["Location"]
        # The key is the person's promise that the request is the same one: another body is refused.
        other = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "another"}, headers=qa)
        assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused"), other.text
        assert len(await capture.wait_for("audit.cycle.drawn.v1")) == 1
        assert await svc.db["cycles"].count_documents({}) == 1



async def test_who_may_draw_and_what_cannot_be_drawn(service_env) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load_authority(svc.db, teams=2)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        manager = svc.as_person("TM0", roles=["team_manager"])
        assert (await svc.http.post("/v1/cycles/2026-12/draw", json={}, headers=manager)).status_code == 403
        assert (await svc.http.get("/v1/cycles/2026-12", headers=manager)).status_code == 403
        over = await svc.http.post("/v1/cycles/2026-10/draw", json={}, headers=qa)
        assert over.status_code == 409 and "over" in over.json()["detail"]
        themed = await svc.http.post("/v1/cycles/2026-12/draw", json={"tool_id": "themed-supervision-and-decisions"}, headers=qa)
        assert themed.status_code == 409 and "not drawn monthly" in themed.json()["detail"]
        assert (await svc.http.post("/v1/cycles/2026-12/draw", json={"tool_id": "no-such-tool"}, headers=qa)).status_code == 422
        assert (await svc.http.post("/v1/cycles/2026-13/draw", json={}, headers=qa)).status_code == 422
        assert (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "not a seed!"}, headers=qa)).status_code == 422
        assert (await svc.http.get("/v1/cycles/2026-12", headers=qa)).status_code == 404
        assert await svc.db["cycles"].count_documents({}) == 0


async def test_dispensations_are_recorded_with_history_and_leave_the_auditor_out(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load_authority(svc.db, teams=3)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        body = {"person_id": "TM2", "reason": "sick_leave", "starts_on": "2026-11-30", "ends_on": "2026-12-21", "note": "Long-term sick"}
        assert (await svc.http.post("/v1/dispensations", json=body, headers=svc.as_person("TM0", roles=["team_manager"]))).status_code == 403
        # 1-18 December is 14 of its 21 working days: two-thirds, not more.
        short = await svc.http.post("/v1/dispensations", json={**body, "ends_on": "2026-12-18"}, headers=qa)
        assert short.status_code == 422 and "two-thirds" in short.text
        unknown = await svc.http.post("/v1/dispensations", json={**body, "person_id": "NOBODY"}, headers=qa)
        assert unknown.status_code == 422
        created = await svc.http.post("/v1/dispensations", json=body, headers={**qa, "Idempotency-Key": "disp-1"})
        assert created.status_code == 201, created.text
        d = created.json()
        assert d["months"] == ["2026-12"] and created.headers["ETag"] == '"1"' and d["recorded_by"] == "P-QA"
        replay = await svc.http.post("/v1/dispensations", json=body, headers={**qa, "Idempotency-Key": "disp-1"})
        assert replay.status_code == 201 and replay.json()["dispensation_id"] == d["dispensation_id"]
        path = f"/v1/dispensations/{d['dispensation_id']}"
        change = {"reason": "sick_leave", "starts_on": "2026-11-30", "ends_on": "2026-12-23", "note": "Extended"}
        assert (await svc.http.put(path, json=change, headers=qa)).status_code == 428
        revised = await svc.http.put(path, json=change, headers={**qa, "If-Match": '"1"'})
        assert revised.status_code == 200 and revised.headers["ETag"] == '"2"'
        stale = await svc.http.put(path, json={**change, "note": "lost"}, headers={**qa, "If-Match": '"1"'})
        assert stale.status_code == 412
        assert (await svc.http.get(path, headers=qa)).json()["note"] == "Extended"
        history = (await svc.http.get(f"{path}/history", headers=qa)).json()["items"]
        assert [(h["version"], h["note"]) for h in history] == [(1, "Long-term sick"), (2, "Extended")]
        listed = (await svc.http.get("/v1/dispensations?month=2026-12", headers=qa)).json()["items"]
        assert [x["person_id"] for x in listed] == ["TM2"]
        assert (await svc.http.get("/v1/dispensations?month=2027-01", headers=qa)).json()["items"] == []

        cycle = (await svc.http.post("/v1/cycles/2026-12/draw", json={}, headers=qa)).json()
        assert cycle["audits"] == 2 and cycle["dispensed_ids"] == ["TM2"] and cycle["uncovered_team_ids"] == ["T2"]
        allocated = await capture.wait_for("audit.audit.allocated.v1", 2)
        assert sorted(e.data["auditor_id"] for e in allocated) == ["TM0", "TM1"]

        withdrawn = await svc.http.post(f"{path}/withdraw", json={"reason": "Back at work"}, headers={**qa, "If-Match": '"2"'})
        assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn"] is True
        assert (await svc.http.post(f"{path}/withdraw", json={"reason": "again"}, headers={**qa, "If-Match": '"3"'})).status_code == 409
        assert (await svc.http.get("/v1/dispensations/abc123", headers=qa)).status_code == 404


async def test_the_scheduler_draws_next_month_from_its_draw_day_once(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load_authority(svc.db, teams=2)
        admin = svc.as_person("P-ADMIN", roles=["administrator"])
        assert (await svc.http.post("/v1/cycles/scheduled-draws", json={}, headers=svc.as_person(*QA[:1], roles=QA[1]))).status_code == 403
        before = await svc.http.post("/v1/cycles/scheduled-draws", json={"today": "2026-11-23"}, headers=admin)
        assert before.json() == {"drawn": []}
        due = await svc.http.post("/v1/cycles/scheduled-draws", json={"today": "2026-11-24"}, headers=admin)
        assert due.json() == {"drawn": [f"{KENT}:2026-12"]}
        again = await svc.http.post("/v1/cycles/scheduled-draws", json={"today": "2026-11-25"}, headers=admin)
        assert again.json() == {"drawn": []}
        allocated = await capture.wait_for("audit.audit.allocated.v1", 2)
        assert {e.data["allocated_by"] for e in allocated} == {"audit-scheduler"}


async def test_reports_completion_grades_trend_and_team_review_as_json_and_csv(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load_authority(svc.db, teams=3, peer_reviewers=3)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        await svc.http.post("/v1/cycles/2026-12/draw", json={}, headers=qa)
        allocated = await capture.wait_for("audit.audit.allocated.v1", 3)
        audit_id = next(e.data["audit_id"] for e in allocated if e.data["auditor_id"] == "TM0")
        auditor = svc.as_person("TM0", roles=["team_manager"], teams=["T0"])
        audit = (await svc.http.get(f"/v1/audits/{audit_id}", headers=auditor)).json()
        saved = await svc.http.put(f"/v1/audits/{audit_id}/stage1", json=complete(audit["form"]), headers={**auditor, "If-Match": '"1"'})
        submitted = await svc.http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]})
        assert submitted.status_code == 200, submitted.text

        perf = svc.as_person("P-PERF", roles=["performance_officer"])
        by_team = (await svc.http.get("/v1/reports/completion?month=2026-12&by=team", headers=perf)).json()
        rows = {r["group"]: r for r in by_team["rows"]}
        assert rows["T0"]["name"] == "Team 0" and (rows["T0"]["allocated"], rows["T0"]["submitted"], rows["T0"]["completed"]) == (1, 1, 0)
        assert by_team["total"]["allocated"] == 3 and by_team["total"]["submission_rate"] == round(1 / 3, 4)
        by_district = (await svc.http.get("/v1/reports/completion?month=2026-12&by=district", headers=perf)).json()
        assert {r["group"]: r["allocated"] for r in by_district["rows"]} == {"District 0": 2, "District 1": 1}
        by_area = await svc.http.get("/v1/reports/completion?month=2026-12&by=area&format=csv", headers=perf)
        assert by_area.headers["content-type"].startswith("text/csv")
        lines = by_area.text.splitlines()
        assert lines[0].startswith("month,by,group,name,allocated") and lines[1].startswith("2026-12,area,East Kent,East Kent,3,1,0")
        accept = await svc.http.get("/v1/reports/completion?month=2026-12", headers={**perf, "Accept": "text/csv"})
        assert accept.headers["content-type"].startswith("text/csv")

        grades = (await svc.http.get("/v1/reports/grades?period=2026-Q4", headers=perf)).json()
        assert grades["months"] == ["2026-10", "2026-11", "2026-12"] and grades["completed"] == 0
        assert grades["grades"]["good"] == 0
        grades_csv = await svc.http.get("/v1/reports/grades?period=2026-12&format=csv", headers=perf)
        assert grades_csv.text.splitlines()[0] == "period,kind,key,title,audits,share"
        trend = (await svc.http.get("/v1/reports/trend?from=2026-11&to=2027-01", headers=perf)).json()
        assert [(p["month"], p["allocated"]) for p in trend["points"]] == [("2026-11", 0), ("2026-12", 3), ("2027-01", 0)]
        assert (await svc.http.get("/v1/reports/trend?from=2027-01&to=2026-11", headers=perf)).status_code == 422

        review = await svc.http.get("/v1/reports/team-review?team_id=T0&to=2027-03", headers=auditor)
        assert review.status_code == 200 and review.json()["audits"] == 1 and review.json()["months"][0] == "2026-10"
        assert (await svc.http.get("/v1/reports/team-review?team_id=T1&to=2027-03", headers=auditor)).status_code == 403
        assert (await svc.http.get("/v1/reports/completion?month=2026-12", headers=svc.as_person("SW", roles=["social_worker"]))).status_code == 403

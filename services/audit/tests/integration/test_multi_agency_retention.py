"""Multi-agency audits are held for three years, then destroyed by the scheduled pass (Hillingdon QAF
Appendix E 6), over the API against real MongoDB and RabbitMQ: run as of a day through
``POST /v1/scheduler/runs``, the audit, its case audit, drafts and PDFs go; a retention log record
(ids, dates, counts) stays; the figures still count it; one event with ids only; nothing else goes."""

from __future__ import annotations

import json
from typing import Any

from audit.case_audit import store as case_audit_store
from audit.main import create_app
from audit.multi_agency import store as ma_store

from devstack.testing import EventCapture, running_service
from devstack.testing import problem as _problem

from .conftest import QA_OFFICER, clock, complete, seed_directory
from .test_multi_agency import ACTIONS, CASE, MEETING, OWNERS, SET_UP, declare_all

RUNS = "/v1/scheduler/runs"
DESTROYED = "audit.multi-agency.audit.destroyed.v1"


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def test_an_audit_held_three_years_is_destroyed_and_logged_with_its_counts_kept(service_env, capture: EventCapture) -> None:  # type: ignore[no-untyped-def]
    moved = clock()
    async with running_service(lambda: create_app(clock=moved)) as svc:
        await seed_directory(svc.db)
        http, db = svc.http, svc.db
        qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        admin = svc.as_person("P-ADMIN", roles=["administrator"])
        auditor = svc.as_person("P-X", roles=["team_manager", "auditor"])
        worker = svc.as_person("P-PART", roles=["participation_worker"])
        lead = svc.as_person("P-QASM", roles=["service_manager", "lead_qa_auditor"])
        performance = svc.as_person("P-PERF", roles=["performance_officer"])
        social_worker = svc.as_person("P-SW3", roles=["social_worker"])

        # An audit set up on 1 October 2026, taken as far as a progress report (its PDF) to the QA sub-committee.
        old = _ok(await http.post("/v1/multi-agency/audits", json=SET_UP, headers=qa), 201)
        old_id, code, url = old["id"], old["case_ref"], f"/v1/multi-agency/audits/{old['id']}"
        etag = '"1"'
        for party in ("child", "parent_carer", "social_worker", "team_manager"):
            recorded = await http.put(
                f"{url}/consultations/{party}",
                json={"method": "visit", "held_on": "2026-09-28", "views": "Mum gets more help now."},
                headers={**worker, "If-Match": etag},
            )
            etag = recorded.headers["ETag"]
        etag = await declare_all(svc, url, etag)
        form = _ok(await http.get(f"/v1/audits/{old_id}", headers=auditor))["form"]
        saved = await http.put(
            f"/v1/audits/{old_id}/stage1",
            json=complete(form, grade="requires_improvement"),
            headers={**auditor, "If-Match": '"1"'},
        )
        _ok(await http.post(f"/v1/audits/{old_id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]}))
        held = await http.post(f"{url}/meeting", json=MEETING, headers={**lead, "If-Match": etag})
        agreed = await http.post(
            f"{url}/action-plan", json={"owners": OWNERS, "actions": ACTIONS}, headers={**lead, "If-Match": held.headers["ETag"]}
        )
        reported = _ok(
            await http.post(
                f"{url}/reports",
                json={"kind": "progress", "summary": "Agencies have started."},
                headers={**lead, "If-Match": agreed.headers["ETag"]},
            )
        )
        pdf_href = reported["reports"][0]["pdf_href"]
        assert (await http.get(pdf_href, headers=lead)).status_code == 200
        assert await db[case_audit_store.AUDITS].count_documents({"_id": old_id}) == 1
        assert await db[case_audit_store.DRAFTS].count_documents({"audit_id": old_id}) >= 1

        # Another set up half a year later, on 19 April 2027: held until 19 April 2030.
        moved.advance(days=200)
        young = _ok(await http.post("/v1/multi-agency/audits", json={**SET_UP, "case_id": "C-4001"}, headers=qa), 201)["id"]

        figures_2026 = _ok(await http.get("/v1/multi-agency/figures?year=2026", headers=performance))
        assert (figures_2026["audits"], figures_2026["held"], figures_2026["destroyed"]) == (1, 1, 0)
        assert (
            figures_2026["by_grade"] == {"requires_improvement": 1}
            and figures_2026["actions_total"] == 3
            and figures_2026["reports"] == 1
        )
        assert _ok(await http.get("/v1/multi-agency/figures?year=2027", headers=performance))["audits"] == 1

        # Who may read the log and the figures; bad years.
        _problem(await http.get("/v1/multi-agency/retention-log", headers=performance), 403)
        _problem(await http.get("/v1/multi-agency/figures?year=2026", headers=social_worker), 403)
        _problem(await http.get("/v1/multi-agency/figures?year=1999", headers=performance), 422)
        _problem(await http.get("/v1/multi-agency/figures", headers=performance), 422)
        # Only an administrator runs the pass as of a day: anyone else changes nothing.
        _problem(await http.post(RUNS, json={"as_of": "2031-01-01"}, headers=qa), 403)
        assert await db[ma_store.MULTI_AGENCY_AUDITS].count_documents({}) == 2

        async def run(as_of: str) -> list[str]:
            body = _ok(await http.post(RUNS, json={"as_of": as_of}, headers=admin))
            [job] = [j for j in body["jobs"] if j["job"] == "multi-agency-retention"]
            assert job["status"] == "ran" and job["count"] == len(job["ids"]), body
            return list(job["ids"])

        # Not a day before the three years are up.
        assert await run("2029-09-30") == []
        assert (await http.get(url, headers=lead)).status_code == 200

        # On the third anniversary the scheduled pass destroys it; once, however often it runs.
        assert await run("2029-10-01") == [old_id]
        assert await run("2029-10-01") == []
        _problem(await http.get(url, headers=lead), 404)
        _problem(await http.get(url, headers=qa), 404)
        _problem(await http.get(f"/v1/audits/{old_id}", headers=auditor), 404)
        _problem(await http.get(pdf_href, headers=lead), 404)
        assert [a["id"] for a in _ok(await http.get("/v1/multi-agency/audits", headers=qa))["items"]] == [young]
        for collection, query in [
            (ma_store.MULTI_AGENCY_AUDITS, {"_id": old_id}),
            (ma_store.REPORT_PDFS, {"audit_id": old_id}),
            (case_audit_store.AUDITS, {"_id": old_id}),
            (case_audit_store.DRAFTS, {"audit_id": old_id}),
            (case_audit_store.PDFS, {"audit_id": old_id}),
        ]:
            assert await db[collection].count_documents(query) == 0, collection
        # Nothing else is deleted: the younger audit, its case audit, the bespoke tool (questions, no personal data).
        assert (await http.get(f"/v1/multi-agency/audits/{young}", headers=qa)).status_code == 200
        assert await db[case_audit_store.AUDITS].count_documents({"_id": young}) == 1
        assert (await http.get(f"/v1/tools/{old['tool_id']}", headers=auditor)).status_code == 200

        # The retention log: ids, dates, counts and who (the scheduled pass); no person, case, code or text.
        log = _ok(await http.get("/v1/multi-agency/retention-log", headers=qa))
        [record] = log["items"]
        assert {k: record[k] for k in ("audit_id", "set_up_on", "held_until", "as_of", "by")} == {
            "audit_id": old_id,
            "set_up_on": "2026-10-01",
            "held_until": "2029-10-01",
            "as_of": "2029-10-01",
            "by": "audit-scheduler",
        }
        assert record["counts"] == {
            "month": "2026-10",
            "stage": "actions",
            "agreed_grade": "requires_improvement",
            "agencies": 3,
            "consultations_obtained": 4,
            "consultations_not_obtained": 0,
            "actions_total": 3,
            "actions_done": 0,
            "reports": 1,
        }
        assert (
            record["removed"]["multi_agency_audit"] == 1
            and record["removed"]["case_audit"] == 1
            and record["removed"]["report_pdfs"] == 1
        )
        stored = json.dumps(await db[ma_store.RETENTION_LOG].find_one({"_id": old_id}), default=str)
        for personal in (CASE, code, "P-", "Neglect", "Mum", "Early help", "Hillingdon Hospital"):
            assert personal not in stored, personal

        # The reports count it as before, now as destroyed.
        after = _ok(await http.get("/v1/multi-agency/figures?year=2026", headers=performance))
        assert (after["audits"], after["held"], after["destroyed"]) == (1, 0, 1)
        assert {k: v for k, v in after.items() if k not in ("held", "destroyed")} == {
            k: v for k, v in figures_2026.items() if k not in ("held", "destroyed")
        }

        # One event, ids and dates only.
        [event] = await capture.wait_for(DESTROYED, 1)
        await capture.flushed(db)
        assert len(capture.of_type(DESTROYED)) == 1
        assert event.subject == f"audit/{old_id}"
        assert {k: v for k, v in event.data.items() if k != "destroyed_at"} == {
            "audit_id": old_id,
            "set_up_on": "2026-10-01",
            "held_until": "2029-10-01",
            "as_of": "2029-10-01",
            "destroyed_by": "audit-scheduler",
        }

        # The younger audit goes on its own third anniversary.
        assert await run("2030-04-18") == []
        assert await run("2030-04-19") == [young]
        assert len(_ok(await http.get("/v1/multi-agency/retention-log?limit=1", headers=qa))["items"]) == 1

"""Multi-agency audits are held for three years, then destroyed by the scheduled pass (Hillingdon QAF
Appendix E 6), over the API against real MongoDB and RabbitMQ: run as of a day through
``POST /v1/scheduler/runs``, the audit, its case audit, drafts and PDFs go; a retention log record
(ids, dates, counts) stays; the figures still count it; one event with ids only; nothing else goes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from audit.case_audit import store as case_audit_store
from audit.main import create_app
from audit.multi_agency import store as ma_store
from shared.clock import FixedClock

from devstack.testing import EventCapture, ServiceClient, running_service
from devstack.testing import problem as _problem

from .conftest import QA_OFFICER, clock, complete, seed_directory
from .test_multi_agency import ACTIONS, CASE, MEETING, OWNERS, SET_UP, declare_all

RUNS = "/v1/scheduler/runs"
DESTROYED = "audit.multi-agency.audit.destroyed.v1"


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


@dataclass
class People:
    """The service and, for each person taking part, the headers the gateway would send for them."""

    svc: ServiceClient
    qa: dict[str, str]
    admin: dict[str, str]
    auditor: dict[str, str]
    worker: dict[str, str]
    lead: dict[str, str]
    performance: dict[str, str]
    social_worker: dict[str, str]

    @property
    def http(self) -> Any:
        return self.svc.http

    @property
    def db(self) -> Any:
        return self.svc.db


def people_of(svc: ServiceClient) -> People:
    return People(
        svc,
        qa=svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1]),
        admin=svc.as_person("P-ADMIN", roles=["administrator"]),
        auditor=svc.as_person("P-X", roles=["team_manager", "auditor"]),
        worker=svc.as_person("P-PART", roles=["participation_worker"]),
        lead=svc.as_person("P-QASM", roles=["service_manager", "lead_qa_auditor"]),
        performance=svc.as_person("P-PERF", roles=["performance_officer"]),
        social_worker=svc.as_person("P-SW3", roles=["social_worker"]),
    )


@dataclass
class OldAudit:
    """The audit set up on 1 October 2026: its id, its code (the case ref), its own tool and its progress report's PDF."""

    id: str
    code: str
    tool_id: str
    pdf_href: str

    @property
    def url(self) -> str:
        return f"/v1/multi-agency/audits/{self.id}"


async def test_an_audit_held_three_years_is_destroyed_and_logged_with_its_counts_kept(service_env, capture: EventCapture) -> None:
    moved = clock()
    async with running_service(lambda: create_app(clock=moved)) as svc:
        await seed_directory(svc.db)
        people = people_of(svc)
        old = await an_audit_taken_as_far_as_a_progress_report(people)
        young = await another_audit_set_up_half_a_year_later(people, moved)
        figures_2026 = await the_figures_count_each_audit_in_its_year(people)
        await who_may_read_the_log_and_the_figures(people)
        await only_an_administrator_runs_the_pass(people)

        await not_a_day_before_the_three_years_are_up(people, old)
        await on_the_third_anniversary_the_pass_destroys_it_once(people, old, young)
        await nothing_else_is_deleted(people, old, young)
        await the_retention_log_keeps_ids_dates_and_counts(people, old)
        await the_figures_count_it_as_before_now_as_destroyed(people, figures_2026)
        await one_event_with_ids_and_dates_only(people, capture, old)
        await the_younger_audit_goes_on_its_own_third_anniversary(people, young)


async def run_retention(people: People, as_of: str) -> list[str]:
    """An administrator runs the scheduled pass as of a day: the ids of the audits its retention job destroyed."""
    body = _ok(await people.http.post(RUNS, json={"as_of": as_of}, headers=people.admin))
    [job] = [j for j in body["jobs"] if j["job"] == "multi-agency-retention"]
    assert job["status"] == "ran" and job["count"] == len(job["ids"]), body
    return list(job["ids"])


async def an_audit_taken_as_far_as_a_progress_report(people: People) -> OldAudit:
    """An audit set up on 1 October 2026, taken as far as a progress report (its PDF) to the QA sub-committee."""
    http, db, auditor, lead = people.http, people.db, people.auditor, people.lead
    old = _ok(await http.post("/v1/multi-agency/audits", json=SET_UP, headers=people.qa), 201)
    old_id, code, url = old["id"], old["case_ref"], f"/v1/multi-agency/audits/{old['id']}"
    etag = '"1"'
    for party in ("child", "parent_carer", "social_worker", "team_manager"):
        recorded = await http.put(
            f"{url}/consultations/{party}",
            json={"method": "visit", "held_on": "2026-09-28", "views": "Mum gets more help now."},
            headers={**people.worker, "If-Match": etag},
        )
        etag = recorded.headers["ETag"]
    etag = await declare_all(people.svc, url, etag)
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
    return OldAudit(id=old_id, code=code, tool_id=old["tool_id"], pdf_href=pdf_href)


async def another_audit_set_up_half_a_year_later(people: People, moved: FixedClock) -> str:
    """Another set up half a year later, on 19 April 2027: held until 19 April 2030. Its id."""
    moved.advance(days=200)
    young = _ok(await people.http.post("/v1/multi-agency/audits", json={**SET_UP, "case_id": "C-4001"}, headers=people.qa), 201)["id"]
    return str(young)


async def the_figures_count_each_audit_in_its_year(people: People) -> dict[str, Any]:
    """The figures for 2026 count the older audit, held, with its grade, actions and report; those for 2027 the
    younger one. The figures for 2026."""
    http, performance = people.http, people.performance
    figures_2026 = _ok(await http.get("/v1/multi-agency/figures?year=2026", headers=performance))
    assert (figures_2026["audits"], figures_2026["held"], figures_2026["destroyed"]) == (1, 1, 0)
    assert (
        figures_2026["by_grade"] == {"requires_improvement": 1}
        and figures_2026["actions_total"] == 3
        and figures_2026["reports"] == 1
    )
    assert _ok(await http.get("/v1/multi-agency/figures?year=2027", headers=performance))["audits"] == 1
    return figures_2026


async def who_may_read_the_log_and_the_figures(people: People) -> None:
    """Who may read the log and the figures; bad years."""
    http, performance = people.http, people.performance
    _problem(await http.get("/v1/multi-agency/retention-log", headers=performance), 403)
    _problem(await http.get("/v1/multi-agency/figures?year=2026", headers=people.social_worker), 403)
    _problem(await http.get("/v1/multi-agency/figures?year=1999", headers=performance), 422)
    _problem(await http.get("/v1/multi-agency/figures", headers=performance), 422)


async def only_an_administrator_runs_the_pass(people: People) -> None:
    """Only an administrator runs the pass as of a day: anyone else changes nothing."""
    _problem(await people.http.post(RUNS, json={"as_of": "2031-01-01"}, headers=people.qa), 403)
    assert await people.db[ma_store.MULTI_AGENCY_AUDITS].count_documents({}) == 2


async def not_a_day_before_the_three_years_are_up(people: People, old: OldAudit) -> None:
    """Not a day before the three years are up."""
    assert await run_retention(people, "2029-09-30") == []
    assert (await people.http.get(old.url, headers=people.lead)).status_code == 200


async def on_the_third_anniversary_the_pass_destroys_it_once(people: People, old: OldAudit, young: str) -> None:
    """On the third anniversary the scheduled pass destroys it; once, however often it runs."""
    http, db = people.http, people.db
    assert await run_retention(people, "2029-10-01") == [old.id]
    assert await run_retention(people, "2029-10-01") == []
    _problem(await http.get(old.url, headers=people.lead), 404)
    _problem(await http.get(old.url, headers=people.qa), 404)
    _problem(await http.get(f"/v1/audits/{old.id}", headers=people.auditor), 404)
    _problem(await http.get(old.pdf_href, headers=people.lead), 404)
    assert [a["id"] for a in _ok(await http.get("/v1/multi-agency/audits", headers=people.qa))["items"]] == [young]
    for collection, query in [
        (ma_store.MULTI_AGENCY_AUDITS, {"_id": old.id}),
        (ma_store.REPORT_PDFS, {"audit_id": old.id}),
        (case_audit_store.AUDITS, {"_id": old.id}),
        (case_audit_store.DRAFTS, {"audit_id": old.id}),
        (case_audit_store.PDFS, {"audit_id": old.id}),
    ]:
        assert await db[collection].count_documents(query) == 0, collection


async def nothing_else_is_deleted(people: People, old: OldAudit, young: str) -> None:
    """Nothing else is deleted: the younger audit, its case audit, the bespoke tool (questions, no personal data)."""
    assert (await people.http.get(f"/v1/multi-agency/audits/{young}", headers=people.qa)).status_code == 200
    assert await people.db[case_audit_store.AUDITS].count_documents({"_id": young}) == 1
    assert (await people.http.get(f"/v1/tools/{old.tool_id}", headers=people.auditor)).status_code == 200


async def the_retention_log_keeps_ids_dates_and_counts(people: People, old: OldAudit) -> None:
    """The retention log: ids, dates, counts and who (the scheduled pass); no person, case, code or text."""
    log = _ok(await people.http.get("/v1/multi-agency/retention-log", headers=people.qa))
    [record] = log["items"]
    assert {k: record[k] for k in ("audit_id", "set_up_on", "held_until", "as_of", "by")} == {
        "audit_id": old.id,
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
    stored = json.dumps(await people.db[ma_store.RETENTION_LOG].find_one({"_id": old.id}), default=str)
    for personal in (CASE, old.code, "P-", "Neglect", "Mum", "Early help", "Hillingdon Hospital"):
        assert personal not in stored, personal


async def the_figures_count_it_as_before_now_as_destroyed(people: People, figures_2026: dict[str, Any]) -> None:
    """The reports count it as before, now as destroyed."""
    after = _ok(await people.http.get("/v1/multi-agency/figures?year=2026", headers=people.performance))
    assert (after["audits"], after["held"], after["destroyed"]) == (1, 0, 1)
    assert {k: v for k, v in after.items() if k not in ("held", "destroyed")} == {
        k: v for k, v in figures_2026.items() if k not in ("held", "destroyed")
    }


async def one_event_with_ids_and_dates_only(people: People, capture: EventCapture, old: OldAudit) -> None:
    """One event, ids and dates only."""
    [event] = await capture.wait_for(DESTROYED, 1)
    await capture.flushed(people.db)
    assert len(capture.of_type(DESTROYED)) == 1
    assert event.subject == f"audit/{old.id}"
    assert {k: v for k, v in event.data.items() if k != "destroyed_at"} == {
        "audit_id": old.id,
        "set_up_on": "2026-10-01",
        "held_until": "2029-10-01",
        "as_of": "2029-10-01",
        "destroyed_by": "audit-scheduler",
    }


async def the_younger_audit_goes_on_its_own_third_anniversary(people: People, young: str) -> None:
    """The younger audit goes on its own third anniversary."""
    assert await run_retention(people, "2030-04-18") == []
    assert await run_retention(people, "2030-04-19") == [young]
    assert len(_ok(await people.http.get("/v1/multi-agency/retention-log?limit=1", headers=people.qa))["items"]) == 1

"""Multi-agency retention end to end, through the gateway, with the services as real processes
(Hillingdon QAF Appendix E 6: "The HSCB will hold the audits for three years for inspection purposes
before destroying them."): a multi-agency audit is taken to a report to the QA sub-committee, whose
PDF prints the names as written (issue 21); an administrator runs the audit service's scheduled
pass as of the third anniversary (``POST /api/v1/audit/scheduler/runs``); the audit, its case audit
and their PDFs are gone, a retention log record with its counts stays, the figures still count it,
and one ``audit.multi-agency.audit.destroyed.v1`` with ids only is published."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pypdf import PdfReader

from devstack.stack import Stack
from devstack.testing import Gateway, eventually

pytestmark = pytest.mark.e2e

RUNS = "/api/v1/audit/scheduler/runs"
MA = "/api/v1/audit/multi-agency"
NAMES = ("Łukasz Wiśniewski", "Siân Ŵyn ap Dafydd Ŷr", "Şükrü Gül İlkay Işık", "Nguyễn Thị Ánh Trần Văn Đức")


def _work(form: dict[str, Any], grade: str) -> dict[str, Any]:
    answers = {
        q["key"]: {"value": "yes" if q["scale"] != "text" else "Recorded."} for s in form["sections"] for q in s["questions"]
    }
    return {
        "answers": answers,
        "section_grades": {s["key"]: grade for s in form["sections"] if s["graded"]},
        "overall_grade": grade,
        "oversight_comment": "Supervision is regular.",
        "analysis": "Early help came late.",
        "recommendations": "Refer sooner.",
    }


def _ok(resp: Any, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    return dict(resp.json())


@dataclass
class Scene:
    """The people of the run (ids and bearer headers), the administrator, and the case the audit is of."""

    n: str
    ids: dict[str, str]
    case: str
    as_: dict[str, dict[str, str]]
    admin: dict[str, str]


@dataclass
class Audit:
    """The multi-agency audit as set up: its id (also its case audit's), case code, address and version."""

    id: str
    code: str
    url: str
    version: int


@dataclass
class Held:
    """The figures for the audit's year before the pass, the day it was set up and its third anniversary."""

    year: int
    before: dict[str, Any]
    set_up_on: date
    anniversary: date


async def _the_people_the_team_and_the_case(gateway: Gateway) -> Scene:
    n = uuid.uuid4().hex[:6].upper()
    ids = {key: f"MR{n}-{key}" for key in ("QA", "AUD", "BDM", "LEAD", "HEALTH", "SW", "TM", "PERF")}
    case = f"C-MR{n}"
    writer = await gateway.as_integration()
    roles = {
        "QA": ["qa_officer"],
        "AUD": ["team_manager", "auditor"],
        "BDM": ["qa_officer"],
        "LEAD": ["service_manager", "lead_qa_auditor"],
        "HEALTH": ["service_manager"],
        "SW": ["social_worker"],
        "TM": ["team_manager"],
        "PERF": ["performance_officer"],
    }
    for key, person_roles in roles.items():
        body = {
            "name": f"{NAMES[len(key) % 4]} {key}",
            "email": f"{ids[key].lower()}@council.example",
            "roles": person_roles,
            "team_id": None,
            "line_manager_id": None,
        }
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    team = f"T-MR{n}"
    resp = await gateway.http.put(
        f"/api/v1/directory/teams/{team}",
        json={"name": "Hillingdon North", "district": "North", "area": "Hillingdon", "service": "CSC", "manager_id": ids["TM"]},
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/cases/{case}",
        json={
            "child_name": NAMES[0],
            "case_type": "CP",
            "team_id": team,
            "allocated_worker_id": ids["SW"],
            "team_manager_id": ids["TM"],
            "opened_on": "2026-03-02",
        },
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}
    admin = await gateway.as_person("P-ADMIN")
    return Scene(n, ids, case, as_, admin)


async def _the_qa_officer_sets_up_the_multi_agency_audit(gateway: Gateway, scene: Scene) -> Audit:
    set_up = {
        "theme": "Neglect: early help",
        "case_id": scene.case,
        "auditor_id": scene.ids["AUD"],
        "coordinator_id": scene.ids["BDM"],
        "partners": [{"agency": "health", "name": f"Szpital {NAMES[0]}", "representative_id": scene.ids["HEALTH"]}],
    }

    async def set_up_audit() -> dict[str, Any] | None:
        resp = await gateway.http.post(f"{MA}/audits", json=set_up, headers=scene.as_["QA"])
        return dict(resp.json()) if resp.status_code == 201 else None

    ma = await eventually(set_up_audit, timeout=60, interval=0.5, message="the multi-agency audit set up")
    return Audit(ma["id"], ma["case_ref"], f"{MA}/audits/{ma['id']}", ma["version"])


async def _the_auditor_completes_the_case_audit(gateway: Gateway, scene: Scene, audit: Audit) -> None:
    case_audit = _ok(await gateway.http.get(f"/api/v1/audit/audits/{audit.id}", headers=scene.as_["AUD"]))
    saved = await gateway.http.put(
        f"/api/v1/audit/audits/{audit.id}/stage1",
        json=_work(case_audit["form"], "good"),
        headers={**scene.as_["AUD"], "If-Match": '"1"'},
    )
    assert saved.status_code == 200, saved.text
    _ok(
        await gateway.http.post(
            f"/api/v1/audit/audits/{audit.id}/stage1/submit", headers={**scene.as_["AUD"], "If-Match": saved.headers["etag"]}
        )
    )


async def _the_parties_consulted_the_meeting_the_plan_and_a_progress_report(
    gateway: Gateway, scene: Scene, audit: Audit
) -> dict[str, Any]:
    etag = f'"{audit.version}"'
    for party in ("child", "parent_carer", "social_worker", "team_manager"):
        views = {"method": "visit", "held_on": "2026-09-28", "views": "More help now."}
        recorded = await gateway.http.put(
            f"{audit.url}/consultations/{party}", json=views, headers={**scene.as_["AUD"], "If-Match": etag}
        )
        assert recorded.status_code == 200, recorded.text
        etag = recorded.headers["etag"]
    # The health lead auditor declares no casework involvement with the case (Appendix E 1).
    declared = await gateway.http.post(
        f"{audit.url}/declarations", json={"agency": "health"}, headers={**scene.as_["HEALTH"], "If-Match": etag}
    )
    assert declared.status_code == 200, declared.text
    etag = declared.headers["etag"]
    meeting = {
        "held_on": "2026-10-01",
        "partners_present": ["health"],
        "findings": f"Seen by {NAMES[1]}.",
        "agreed_grade": "good",
    }
    held = await gateway.http.post(f"{audit.url}/meeting", json=meeting, headers={**scene.as_["LEAD"], "If-Match": etag})
    assert held.status_code == 200, held.text
    plan = {
        "owners": {"health": scene.ids["HEALTH"]},
        "actions": [{"agency": "health", "action": "Refer within 5 days.", "due_on": "2027-01-31"}],
    }
    agreed = await gateway.http.post(
        f"{audit.url}/action-plan", json=plan, headers={**scene.as_["LEAD"], "If-Match": held.headers["etag"]}
    )
    assert agreed.status_code == 200, agreed.text
    summary = f"Spoke with {NAMES[2]} and {NAMES[3]}."
    return _ok(
        await gateway.http.post(
            f"{audit.url}/reports",
            json={"kind": "progress", "summary": summary},
            headers={**scene.as_["LEAD"], "If-Match": agreed.headers["etag"]},
        )
    )


async def _the_report_pdf_prints_the_names_as_written(gateway: Gateway, scene: Scene, reported: dict[str, Any]) -> str:
    """The PDF of the report to the QA sub-committee prints every name as written (issue 21); returns its address."""
    pdf_href = reported["reports"][0]["pdf_href"]
    paper = await gateway.http.get(pdf_href, headers=scene.as_["LEAD"])
    assert paper.status_code == 200 and paper.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(paper.content)).pages)
    for name in NAMES:
        assert name in text, (name, text)
    return pdf_href


async def _the_figures_before_and_the_third_anniversary(gateway: Gateway, scene: Scene, reported: dict[str, Any]) -> Held:
    year = datetime.fromisoformat(reported["created_at"]).astimezone(ZoneInfo("Europe/London")).year
    before = _ok(await gateway.http.get(f"{MA}/figures", params={"year": year}, headers=scene.as_["PERF"]))
    set_up_on = datetime.fromisoformat(reported["created_at"]).astimezone(ZoneInfo("Europe/London")).date()
    anniversary = set_up_on.replace(
        year=set_up_on.year + 3, day=28 if (set_up_on.month, set_up_on.day) == (2, 29) else set_up_on.day
    )
    return Held(year, before, set_up_on, anniversary)


async def _only_an_administrator_runs_the_pass_which_destroys_it_on_the_anniversary(
    gateway: Gateway, scene: Scene, audit: Audit, held: Held
) -> None:
    """Only an administrator runs the pass as of a day; the day before the anniversary destroys nothing of it."""
    refused = await gateway.http.post(RUNS, json={"as_of": held.anniversary.isoformat()}, headers=scene.as_["QA"])
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json"), refused.text

    async def run(as_of: str) -> list[str]:
        body = _ok(await gateway.http.post(RUNS, json={"as_of": as_of}, headers=scene.admin))
        [job] = [j for j in body["jobs"] if j["job"] == "multi-agency-retention"]
        assert job["status"] == "ran", body
        return list(job["ids"])

    assert audit.id not in await run((held.anniversary - timedelta(days=1)).isoformat())
    assert (await gateway.http.get(audit.url, headers=scene.as_["QA"])).status_code == 200
    assert audit.id in await run(held.anniversary.isoformat())
    assert audit.id not in await run(held.anniversary.isoformat())


async def _gone_through_the_gateway(gateway: Gateway, scene: Scene, audit: Audit, pdf_href: str) -> None:
    """The audit, its case audit and its PDFs answer 404 to everyone who could see them."""
    for path, who in [
        (audit.url, "QA"),
        (audit.url, "LEAD"),
        (f"/api/v1/audit/audits/{audit.id}", "AUD"),
        (pdf_href, "LEAD"),
        (f"/api/v1/audit/audits/{audit.id}/pdfs", "AUD"),
    ]:
        resp = await gateway.http.get(path, headers=scene.as_[who])
        assert resp.status_code == 404 and resp.headers["content-type"].startswith("application/problem+json"), (path, resp.text)


async def _gone_from_the_database(db: AsyncDatabase[dict[str, Any]], audit: Audit) -> None:
    """Nothing of the audit, its case audit (and draft) or their PDFs is left in the audit service's database."""
    for collection, query in [
        ("multi_agency_audits", {"_id": audit.id}),
        ("multi_agency_report_pdfs", {"audit_id": audit.id}),
        ("audits", {"_id": audit.id}),
        ("audit_drafts", {"audit_id": audit.id}),
        ("audit_pdfs", {"audit_id": audit.id}),
    ]:
        assert await db[collection].count_documents(query) == 0, collection


async def _logged_with_ids_dates_and_counts_only(gateway: Gateway, scene: Scene, audit: Audit, held: Held) -> None:
    """Logged: ids, dates, counts, by the scheduled pass; no person, case, code, name or text."""

    async def logged() -> dict[str, Any] | None:
        page = _ok(await gateway.http.get(f"{MA}/retention-log", params={"limit": 200}, headers=scene.as_["QA"]))
        return next((r for r in page["items"] if r["audit_id"] == audit.id), None)

    record = await eventually(logged, timeout=10, interval=0.5, message="the retention log record")
    assert (record["set_up_on"], record["held_until"], record["as_of"], record["by"]) == (
        held.set_up_on.isoformat(),
        held.anniversary.isoformat(),
        held.anniversary.isoformat(),
        "audit-scheduler",
    )
    assert (
        record["counts"]["agreed_grade"] == "good" and record["counts"]["reports"] == 1 and record["counts"]["actions_total"] == 1
    )
    dumped = json.dumps(record)
    for personal in (scene.case, audit.code, f"MR{scene.n}", "Neglect", "More help", *NAMES):
        assert personal not in dumped, personal
    resp = await gateway.http.get(f"{MA}/retention-log", headers=scene.as_["PERF"])
    assert resp.status_code == 403, resp.text


async def _still_counted_in_the_figures_now_as_destroyed(gateway: Gateway, scene: Scene, held: Held) -> None:
    """Still counted in the reports, now as destroyed."""
    after = _ok(await gateway.http.get(f"{MA}/figures", params={"year": held.year}, headers=scene.as_["PERF"]))
    assert (
        after["audits"] == held.before["audits"]
        and after["destroyed"] == held.before["destroyed"] + 1
        and after["held"] == held.before["held"] - 1
    )
    assert after["by_grade"] == held.before["by_grade"] and after["reports"] == held.before["reports"]


async def _one_event_with_ids_and_dates_only(db: AsyncDatabase[dict[str, Any]], scene: Scene, audit: Audit) -> None:
    """One event, with ids and dates only."""

    async def published() -> list[dict[str, Any]]:
        return (
            await db["outbox"]
            .find({"routing_key": "audit.multi-agency.audit.destroyed.v1", "envelope": {"$regex": audit.id}})
            .to_list()
        )

    [event] = await eventually(published, timeout=10, interval=0.5, message="the destroyed event in the outbox")
    text = json.dumps(event, default=str)
    assert audit.id in text and "audit-scheduler" in text
    for personal in (scene.case, audit.code, *NAMES):
        assert personal not in text, personal


async def test_a_multi_agency_audit_held_three_years_is_destroyed_by_the_scheduled_pass(gateway, mongo, system: Stack) -> None:
    scene = await _the_people_the_team_and_the_case(gateway)
    audit = await _the_qa_officer_sets_up_the_multi_agency_audit(gateway, scene)
    # The case audit completed, the four parties consulted, the meeting, the plan and a progress report.
    await _the_auditor_completes_the_case_audit(gateway, scene, audit)
    reported = await _the_parties_consulted_the_meeting_the_plan_and_a_progress_report(gateway, scene, audit)
    pdf_href = await _the_report_pdf_prints_the_names_as_written(gateway, scene, reported)
    held = await _the_figures_before_and_the_third_anniversary(gateway, scene, reported)
    await _only_an_administrator_runs_the_pass_which_destroys_it_on_the_anniversary(gateway, scene, audit, held)
    # Gone: the audit, its case audit, its PDFs.
    await _gone_through_the_gateway(gateway, scene, audit, pdf_href)
    db = mongo[f"{system.namespace}_audit"]
    await _gone_from_the_database(db, audit)
    await _logged_with_ids_dates_and_counts_only(gateway, scene, audit, held)
    await _still_counted_in_the_figures_now_as_destroyed(gateway, scene, held)
    await _one_event_with_ids_and_dates_only(db, scene, audit)

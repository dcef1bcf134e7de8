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
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from devstack.stack import Stack
from devstack.testing import eventually

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


async def test_a_multi_agency_audit_held_three_years_is_destroyed_by_the_scheduled_pass(gateway, mongo, system: Stack) -> None:  # type: ignore[no-untyped-def]
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

    set_up = {
        "theme": "Neglect: early help",
        "case_id": case,
        "auditor_id": ids["AUD"],
        "coordinator_id": ids["BDM"],
        "partners": [{"agency": "health", "name": f"Szpital {NAMES[0]}", "representative_id": ids["HEALTH"]}],
    }

    async def set_up_audit() -> dict[str, Any] | None:
        resp = await gateway.http.post(f"{MA}/audits", json=set_up, headers=as_["QA"])
        return dict(resp.json()) if resp.status_code == 201 else None

    ma = await eventually(set_up_audit, timeout=60, interval=0.5, message="the multi-agency audit set up")
    audit_id, code, url = ma["id"], ma["case_ref"], f"{MA}/audits/{ma['id']}"

    # The case audit completed, the four parties consulted, the meeting, the plan and a progress report.
    case_audit = _ok(await gateway.http.get(f"/api/v1/audit/audits/{audit_id}", headers=as_["AUD"]))
    saved = await gateway.http.put(
        f"/api/v1/audit/audits/{audit_id}/stage1",
        json=_work(case_audit["form"], "good"),
        headers={**as_["AUD"], "If-Match": '"1"'},
    )
    assert saved.status_code == 200, saved.text
    _ok(
        await gateway.http.post(
            f"/api/v1/audit/audits/{audit_id}/stage1/submit", headers={**as_["AUD"], "If-Match": saved.headers["etag"]}
        )
    )
    etag = f'"{ma["version"]}"'
    for party in ("child", "parent_carer", "social_worker", "team_manager"):
        views = {"method": "visit", "held_on": "2026-09-28", "views": "More help now."}
        recorded = await gateway.http.put(f"{url}/consultations/{party}", json=views, headers={**as_["AUD"], "If-Match": etag})
        assert recorded.status_code == 200, recorded.text
        etag = recorded.headers["etag"]
    # The health lead auditor declares no casework involvement with the case (Appendix E 1).
    declared = await gateway.http.post(f"{url}/declarations", json={"agency": "health"}, headers={**as_["HEALTH"], "If-Match": etag})
    assert declared.status_code == 200, declared.text
    etag = declared.headers["etag"]
    meeting = {
        "held_on": "2026-10-01",
        "partners_present": ["health"],
        "findings": f"Seen by {NAMES[1]}.",
        "agreed_grade": "good",
    }
    held = await gateway.http.post(f"{url}/meeting", json=meeting, headers={**as_["LEAD"], "If-Match": etag})
    assert held.status_code == 200, held.text
    plan = {
        "owners": {"health": ids["HEALTH"]},
        "actions": [{"agency": "health", "action": "Refer within 5 days.", "due_on": "2027-01-31"}],
    }
    agreed = await gateway.http.post(f"{url}/action-plan", json=plan, headers={**as_["LEAD"], "If-Match": held.headers["etag"]})
    assert agreed.status_code == 200, agreed.text
    summary = f"Spoke with {NAMES[2]} and {NAMES[3]}."
    reported = _ok(
        await gateway.http.post(
            f"{url}/reports",
            json={"kind": "progress", "summary": summary},
            headers={**as_["LEAD"], "If-Match": agreed.headers["etag"]},
        )
    )
    pdf_href = reported["reports"][0]["pdf_href"]
    paper = await gateway.http.get(pdf_href, headers=as_["LEAD"])
    assert paper.status_code == 200 and paper.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(paper.content)).pages)
    for name in NAMES:
        assert name in text, (name, text)

    year = datetime.fromisoformat(reported["created_at"]).astimezone(ZoneInfo("Europe/London")).year
    before = _ok(await gateway.http.get(f"{MA}/figures", params={"year": year}, headers=as_["PERF"]))
    set_up_on = datetime.fromisoformat(reported["created_at"]).astimezone(ZoneInfo("Europe/London")).date()
    anniversary = set_up_on.replace(
        year=set_up_on.year + 3, day=28 if (set_up_on.month, set_up_on.day) == (2, 29) else set_up_on.day
    )

    # Only an administrator runs the pass as of a day; the day before the anniversary destroys nothing of it.
    refused = await gateway.http.post(RUNS, json={"as_of": anniversary.isoformat()}, headers=as_["QA"])
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json"), refused.text

    async def run(as_of: str) -> list[str]:
        body = _ok(await gateway.http.post(RUNS, json={"as_of": as_of}, headers=admin))
        [job] = [j for j in body["jobs"] if j["job"] == "multi-agency-retention"]
        assert job["status"] == "ran", body
        return list(job["ids"])

    assert audit_id not in await run((anniversary - timedelta(days=1)).isoformat())
    assert (await gateway.http.get(url, headers=as_["QA"])).status_code == 200
    assert audit_id in await run(anniversary.isoformat())
    assert audit_id not in await run(anniversary.isoformat())

    # Gone: the audit, its case audit, its PDFs.
    for path, who in [
        (url, "QA"),
        (url, "LEAD"),
        (f"/api/v1/audit/audits/{audit_id}", "AUD"),
        (pdf_href, "LEAD"),
        (f"/api/v1/audit/audits/{audit_id}/pdfs", "AUD"),
    ]:
        resp = await gateway.http.get(path, headers=as_[who])
        assert resp.status_code == 404 and resp.headers["content-type"].startswith("application/problem+json"), (path, resp.text)
    db = mongo[f"{system.namespace}_audit"]
    for collection, query in [
        ("multi_agency_audits", {"_id": audit_id}),
        ("multi_agency_report_pdfs", {"audit_id": audit_id}),
        ("audits", {"_id": audit_id}),
        ("audit_drafts", {"audit_id": audit_id}),
        ("audit_pdfs", {"audit_id": audit_id}),
    ]:
        assert await db[collection].count_documents(query) == 0, collection

    # Logged: ids, dates, counts, by the scheduled pass; no person, case, code, name or text.
    async def logged() -> dict[str, Any] | None:
        page = _ok(await gateway.http.get(f"{MA}/retention-log", params={"limit": 200}, headers=as_["QA"]))
        return next((r for r in page["items"] if r["audit_id"] == audit_id), None)

    record = await eventually(logged, timeout=10, interval=0.5, message="the retention log record")
    assert (record["set_up_on"], record["held_until"], record["as_of"], record["by"]) == (
        set_up_on.isoformat(),
        anniversary.isoformat(),
        anniversary.isoformat(),
        "audit-scheduler",
    )
    assert (
        record["counts"]["agreed_grade"] == "good" and record["counts"]["reports"] == 1 and record["counts"]["actions_total"] == 1
    )
    dumped = json.dumps(record)
    for personal in (case, code, f"MR{n}", "Neglect", "More help", *NAMES):
        assert personal not in dumped, personal
    resp = await gateway.http.get(f"{MA}/retention-log", headers=as_["PERF"])
    assert resp.status_code == 403, resp.text

    # Still counted in the reports, now as destroyed.
    after = _ok(await gateway.http.get(f"{MA}/figures", params={"year": year}, headers=as_["PERF"]))
    assert (
        after["audits"] == before["audits"]
        and after["destroyed"] == before["destroyed"] + 1
        and after["held"] == before["held"] - 1
    )
    assert after["by_grade"] == before["by_grade"] and after["reports"] == before["reports"]

    # One event, with ids and dates only.
    async def published() -> list[dict[str, Any]]:
        return (
            await db["outbox"]
            .find({"routing_key": "audit.multi-agency.audit.destroyed.v1", "envelope": {"$regex": audit_id}})
            .to_list()
        )

    [event] = await eventually(published, timeout=10, interval=0.5, message="the destroyed event in the outbox")
    text = json.dumps(event, default=str)
    assert audit_id in text and "audit-scheduler" in text
    for personal in (case, code, *NAMES):
        assert personal not in text, personal

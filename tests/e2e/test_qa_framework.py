"""The QA framework end to end, through the gateway, with the services as real processes: a
Hillingdon single-agency audit graded requires improvement reaches the case's social worker and
team manager as copies, opens a practice review in the audit service (from its own completed
event) that lands in the service manager's work tray in notify, and the tray's task closes when
the service manager reports the review to the assistant director; the QA auditor then verifies
the action taken."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from devstack.testing import eventually

pytestmark = pytest.mark.e2e

HILLINGDON = "hillingdon-single-agency"


def _work(form: dict[str, Any], grade: str) -> dict[str, Any]:
    """A complete single-agency audit for ``form``, graded ``grade``."""
    answers = {q["key"]: {"value": "yes" if q["scale"] != "text" else "Recorded."} for s in form["sections"] for q in s["questions"]}
    grades = {s["key"]: grade for s in form["sections"] if s["graded"]}
    return {
        "answers": answers, "section_grades": grades, "overall_grade": grade,
        "oversight_comment": "Supervision is regular; two sessions were not recorded.",
        "analysis": "The plan is clear but the chronology is out of date.",
        "recommendations": "Update the chronology; record supervision.",
        "action_plan": [{"action": "Update the chronology", "owner": "Social worker", "due": "2027-01-29"}],
    }


async def _tasks(gateway: Any, headers: dict[str, str], kind: str, status: str | None = None) -> list[dict[str, Any]]:
    params = {"kind": kind, **({"status": status} if status else {})}
    resp = await gateway.http.get("/api/v1/notify/tasks", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


async def test_a_requires_improvement_audit_is_copied_reviewed_reported_and_verified_across_the_services(gateway) -> None:
    n = uuid.uuid4().hex[:6].upper()
    ids = {role: f"QA{n}-{role}" for role in ("AD", "SM", "TM", "SW", "AUD", "QA")}
    team, case = f"T-QA{n}", f"C-QA{n}"
    writer = await gateway.as_integration()
    people = {
        "AD": (["assistant_director"], None, None),
        "SM": (["service_manager"], "AD", None),
        "TM": (["team_manager"], "SM", team),
        "SW": (["social_worker"], "TM", team),
        "AUD": (["team_manager", "auditor"], "SM", None),
        "QA": (["qa_officer"], None, None),
    }
    for key, (roles, manager, team_id) in people.items():
        body = {"name": f"Person {key} {n}", "email": f"{ids[key].lower()}@council.example", "roles": roles, "team_id": team_id,
                "line_manager_id": ids[manager] if manager else None}
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(f"/api/v1/directory/teams/{team}", json={"name": "Hillingdon East", "district": "East", "area": "Hillingdon", "service": "CSC", "manager_id": ids["TM"]}, headers=writer)
    assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/cases/{case}",
        json={"child_name": "Test Child", "case_type": "CIN", "team_id": team, "allocated_worker_id": ids["SW"], "team_manager_id": ids["TM"], "opened_on": "2026-03-02"},
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}

    # QA staff allocate the audit once the audit service has the case and the people (events).
    async def allocated() -> dict[str, Any] | None:
        resp = await gateway.http.post("/api/v1/audit/audits", json={"tool_id": HILLINGDON, "case_id": case, "auditor_id": ids["AUD"]}, headers=as_["QA"])
        return resp.json() if resp.status_code == 201 else None

    audit = await eventually(allocated, timeout=60, interval=0.5, message="the audit allocated")
    etag = f'"{audit["version"]}"'
    saved = await gateway.http.put(f"/api/v1/audit/audits/{audit['id']}/stage1", json=_work(audit["form"], "requires_improvement"), headers={**as_["AUD"], "If-Match": etag})
    assert saved.status_code == 200, saved.text
    done = await gateway.http.post(f"/api/v1/audit/audits/{audit['id']}/stage1/submit", headers={**as_["AUD"], "If-Match": saved.headers["etag"]})
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text

    # Copies to the social worker and the team manager (Hillingdon 5.2.3), in their trays.
    for key in ("SW", "TM"):
        async def copied(key: str = key) -> list[dict[str, Any]]:
            return await _tasks(gateway, as_[key], "audit_copy")

        [copy] = await eventually(copied, timeout=60, interval=0.5, message=f"the copy in {key}'s tray")
        assert audit["id"] in copy["subject"]

    # The practice review: opened by the audit service, a task in the service manager's tray.
    async def review_task() -> list[dict[str, Any]]:
        return await _tasks(gateway, as_["SM"], "practice_review", "open")

    [task] = await eventually(review_task, timeout=60, interval=0.5, message="the review task in the service manager's tray")
    reviews = await gateway.http.get("/api/v1/audit/hillingdon/reviews", headers=as_["SM"])
    [review] = [r for r in reviews.json()["items"] if r["audit_id"] == audit["id"]]
    url = f"/api/v1/audit/hillingdon/reviews/{review['id']}"
    assert (await gateway.http.get(url, headers=as_["SW"])).status_code == 404, "not the social worker's to read"
    outcome = {"outcome": "Discussed with the team manager.", "actions_taken": ["Chronology to be updated"], "practice_issues": True,
               "improvement_plan": [{"action": "Update the chronology", "owner": "Social worker", "due": "2027-01-29"}]}
    recorded = await gateway.http.put(f"{url}/outcome", json=outcome, headers={**as_["SM"], "If-Match": f'"{review["version"]}"'})
    assert recorded.status_code == 200, recorded.text
    reported = await gateway.http.post(f"{url}/report", headers={**as_["SM"], "If-Match": recorded.headers["etag"]})
    assert reported.status_code == 200 and reported.json()["closed"], reported.text

    async def task_closed() -> bool:
        return not await _tasks(gateway, as_["SM"], "practice_review", "open") and bool(await _tasks(gateway, as_["SM"], "practice_review", "done"))

    await eventually(task_closed, timeout=60, interval=0.5, message="the review task closed by the report")
    [closed] = await _tasks(gateway, as_["SM"], "practice_review", "done")
    assert closed["id"] == task["id"]

    verified = await gateway.http.post(f"{url}/verification", json={"verification": "Chronology updated."}, headers={**as_["QA"], "If-Match": reported.headers["etag"]})
    assert verified.status_code == 200 and verified.json()["status"] == "verified", verified.text
    assert (await gateway.http.get(url, headers=as_["AD"])).json()["verified_by"] == ids["QA"]

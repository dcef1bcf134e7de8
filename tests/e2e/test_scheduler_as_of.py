"""Time moved on through the API alone (issue 19): two auditors are allocated an audit, one submits
it; an administrator runs notify's scheduler as of ten working days after the allocation
(``POST /api/v1/notify/scheduler/runs``, twice); the auditor who has not submitted gets exactly one
reminder (on the task in their tray, and one email), the one who submitted none."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from email import policy
from email.parser import BytesParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shared.calendar import add_working_days

from devstack.stack import Stack
from devstack.testing import eventually

pytestmark = pytest.mark.e2e

HILLINGDON = "hillingdon-single-agency"
LONDON = ZoneInfo("Europe/London")
#: Notify's REMINDER_WORKING_DAYS (its default, which the test stack keeps).
REMINDER_WORKING_DAYS = 10


def _work(form: dict[str, Any]) -> dict[str, Any]:
    answers = {q["key"]: {"value": "yes" if q["scale"] != "text" else "Recorded."} for s in form["sections"] for q in s["questions"]}
    return {
        "answers": answers, "section_grades": {s["key"]: "good" for s in form["sections"] if s["graded"]}, "overall_grade": "good",
        "oversight_comment": "Supervision is regular and recorded.", "analysis": "The plan is clear and up to date.",
        "recommendations": "Keep the chronology current.", "action_plan": [],
    }


async def _audit_tasks(gateway: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    resp = await gateway.http.get("/api/v1/notify/tasks", params={"kind": "audit"}, headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


def _reminders_caught(system: Stack, address: str) -> list[str]:
    """Subjects of the reminder emails the mail catcher received for ``address``."""
    assert system.mail_dir is not None
    found = []
    for path in sorted(system.mail_dir.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["To"] == address and str(message["Subject"]).startswith("Reminder:"):
            found.append(str(message["Subject"]))
    return found


async def test_notify_as_of_ten_working_days_after_an_allocation_reminds_each_auditor_who_has_not_submitted_once(gateway, mongo, system: Stack) -> None:
    n = uuid.uuid4().hex[:6].upper()
    ids = {key: f"AO{n}-{key}" for key in ("SM", "TM", "SW", "AUD1", "AUD2", "QA")}
    team, cases = f"T-AO{n}", [f"C-AO{n}-1", f"C-AO{n}-2"]
    writer = await gateway.as_integration()
    people = {
        "SM": (["service_manager"], None, None), "TM": (["team_manager"], "SM", team), "SW": (["social_worker"], "TM", team),
        "AUD1": (["team_manager", "auditor"], "SM", None), "AUD2": (["team_manager", "auditor"], "SM", None), "QA": (["qa_officer"], None, None),
    }
    for key, (roles, manager, team_id) in people.items():
        body = {"name": f"Person {key} {n}", "email": f"{ids[key].lower()}@council.example", "roles": roles, "team_id": team_id,
                "line_manager_id": ids[manager] if manager else None}
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(f"/api/v1/directory/teams/{team}", json={"name": "Hillingdon West", "district": "West", "area": "Hillingdon", "service": "CSC", "manager_id": ids["TM"]}, headers=writer)
    assert resp.status_code in (200, 201), resp.text
    for case in cases:
        resp = await gateway.http.put(
            f"/api/v1/directory/cases/{case}",
            json={"child_name": "Test Child", "case_type": "CIN", "team_id": team, "allocated_worker_id": ids["SW"], "team_manager_id": ids["TM"], "opened_on": "2026-03-02"},
            headers=writer,
        )
        assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}
    admin = await gateway.as_person("P-ADMIN")

    # QA staff allocate each auditor an audit (once the audit service has heard of the people and cases).
    audits = {}
    for auditor, case in (("AUD1", cases[0]), ("AUD2", cases[1])):
        async def allocated(auditor: str = auditor, case: str = case) -> dict[str, Any] | None:
            resp = await gateway.http.post("/api/v1/audit/audits", json={"tool_id": HILLINGDON, "case_id": case, "auditor_id": ids[auditor]}, headers=as_["QA"])
            return resp.json() if resp.status_code == 201 else None

        audits[auditor] = await eventually(allocated, timeout=60, interval=0.5, message=f"{auditor}'s audit allocated")

    # Each auditor has the audit in their tray; the second submits it, which closes their task.
    tasks = {}
    for auditor in ("AUD1", "AUD2"):
        async def in_tray(auditor: str = auditor) -> list[dict[str, Any]]:
            return [t for t in await _audit_tasks(gateway, as_[auditor]) if t["status"] == "open"]

        [tasks[auditor]] = await eventually(in_tray, timeout=60, interval=0.5, message=f"the audit in {auditor}'s tray")
    audit = audits["AUD2"]
    saved = await gateway.http.put(f"/api/v1/audit/audits/{audit['id']}/stage1", json=_work(audit["form"]), headers={**as_["AUD2"], "If-Match": f'"{audit["version"]}"'})
    assert saved.status_code == 200, saved.text
    submitted = await gateway.http.post(f"/api/v1/audit/audits/{audit['id']}/stage1/submit", headers={**as_["AUD2"], "If-Match": saved.headers["etag"]})
    assert submitted.status_code == 200, submitted.text

    async def submitted_task_done() -> bool:
        return [t["status"] for t in await _audit_tasks(gateway, as_["AUD2"])] == ["done"]

    await eventually(submitted_task_done, timeout=60, interval=0.5, message="the submitted audit's task done")

    # Ten working days after the allocation (the day notify opened the tasks, in England).
    allocated_on = max(datetime.fromisoformat(t["assigned_on"]).astimezone(LONDON).date() for t in tasks.values())
    as_of = add_working_days(allocated_on, REMINDER_WORKING_DAYS)
    runs = "/api/v1/notify/scheduler/runs"
    refused = await gateway.http.post(runs, json={"as_of": as_of.isoformat()}, headers=as_["AUD1"])
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json"), refused.text
    bad = await gateway.http.post(runs, json={"as_of": "the day after tomorrow"}, headers=admin)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json"), bad.text
    for _ in range(2):  # running it again as of the same day sends nothing more
        ran = await gateway.http.post(runs, json={"as_of": as_of.isoformat()}, headers=admin)
        assert ran.status_code == 200, ran.text
        assert date.fromisoformat(ran.json()["local_date"]) == as_of and ran.json()["working_day"] is True

    # The auditor who has not submitted: one reminder on the task, one email; the other: none.
    shown = (await gateway.http.get(f"/api/v1/notify/tasks/{tasks['AUD1']['id']}", headers=as_["AUD1"])).json()
    assert (shown["status"], shown["reminders_sent"], shown["last_reminded_on"]) == ("open", 1, as_of.isoformat()), shown
    assert [h["reason"] for h in shown["history"]].count("reminder 1 sent") == 1
    [closed] = await _audit_tasks(gateway, as_["AUD2"])
    assert (closed["status"], closed["reminders_sent"]) == ("done", 0)

    outbox = mongo[f"{system.namespace}_notify"]["emails"]
    auditors = [ids["AUD1"], ids["AUD2"]]

    async def their_mail_sent() -> bool:
        """Notify has sent (or given up) every email it queued for the two auditors."""
        return await outbox.count_documents({"recipient_id": {"$in": auditors}, "status": "pending"}) == 0

    async def reminder_caught() -> list[str]:
        return _reminders_caught(system, f"{ids['AUD1'].lower()}@council.example")

    await eventually(reminder_caught, timeout=30, interval=0.2, message="the reminder email caught")
    await eventually(their_mail_sent, timeout=30, interval=0.2, message="notify's mail to the auditors sent")
    assert await outbox.count_documents({"recipient_id": ids["AUD1"], "template": "reminder"}) == 1
    assert await outbox.count_documents({"recipient_id": ids["AUD2"], "template": "reminder"}) == 0
    assert _reminders_caught(system, f"{ids['AUD1'].lower()}@council.example") == [f"Reminder: {shown['subject']}"]
    assert _reminders_caught(system, f"{ids['AUD2'].lower()}@council.example") == []

"""The six-monthly team review over the API with a real MongoDB and RabbitMQ: the pack of a seeded
team (completed audits, monitoring forms, feedback, complaints, compliments, observations) as JSON
and as a PDF holding the same figures; refusals that change nothing; only the review's parties see
it; the improvement plan tracked to completion, with its referral to the assistant director."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from audit.common.directory import CaseChanged, PersonChanged, project_case, project_person
from audit.main import create_app
from audit.team_review import events as te
from pypdf import PdfReader

from devstack.testing import EventCapture, running_service

from .conftest import QA_OFFICER, clock, complete, seed_directory

HILLINGDON = "hillingdon-single-agency"


async def seed(svc: Any) -> None:
    db, http = svc.db, svc.http
    await seed_directory(db)
    await project_case(db, CaseChanged(case_id="C-3002", version=1, case_type="CIN", team_id="T-CP", team_manager_id="P-TM3", opened_on=date(2026, 1, 20)))
    for sw in ("P-SW1", "P-SW2"):
        await project_person(db, PersonChanged(person_id=sw, version=1, roles=["social_worker"], team_id="T-CP", line_manager_id="P-TM3"))
    qa = svc.as_person(*QA_OFFICER[:1], roles=QA_OFFICER[1])
    auditor = svc.as_person("P-SM", roles=["service_manager"])
    # Two completed single-agency audits of the team's cases in the period (good, requires improvement).
    for case_id, month, grade in (("C-3001", "2026-08", "good"), ("C-3002", "2026-09", "requires_improvement")):
        created = await http.post("/v1/audits", json={"tool_id": HILLINGDON, "case_id": case_id, "auditor_id": "P-SM", "month": month}, headers=qa)
        assert created.status_code == 201, created.text
        audit = created.json()
        work = complete(audit["form"], grade=grade)
        if grade == "requires_improvement":
            work["action_plan"] = [{"action": "Update the chronology", "owner": "P-SW2", "due": "2026-10-30"}]
        saved = await http.put(f"/v1/audits/{audit['id']}/stage1", json=work, headers={**auditor, "If-Match": created.headers["ETag"]})
        done = await http.post(f"/v1/audits/{audit['id']}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]})
        assert done.json()["status"] == "completed", done.text
    chair, iro, tm = svc.as_person("P-CPC", roles=["cp_chair"]), svc.as_person("P-IRO", roles=["iro"]), svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"])
    posts = [
        ("/v1/monitoring-forms", {"kind": "review_cp_conference", "case_id": "C-3001", "meeting_on": "2026-09-25", "report_received_on": "2026-09-23", "ratings": {"report": "poor"}}, chair),
        ("/v1/feedback", {"kind": "consultation", "respondent": "parent", "team_id": "T-CP", "received_on": "2026-09-20", "view": "negative", "comments": "Reports came late"}, iro),
        ("/v1/feedback", {"kind": "meeting_feedback", "respondent": "partner_agency", "team_id": "T-CP", "received_on": "2026-08-11", "view": "positive"}, iro),
        ("/v1/complaints", {"complaint_ref": "CR-1", "team_id": "T-CP", "date_responded": "2026-07-02", "summary": "Visit missed", "outcome": "upheld", "actions_taken": ["apology"], "lessons_learned": "Confirm visits in writing"}, tm),
        ("/v1/compliments", {"team_id": "T-CP", "received_on": "2026-09-30", "respondent": "parent", "summary": "Support at court"}, iro),
        # Out of the period: not counted.
        ("/v1/feedback", {"kind": "consultation", "respondent": "parent", "team_id": "T-CP", "received_on": "2026-03-31", "view": "positive"}, iro),
    ]
    for path, body, who in posts:
        assert (await http.post(path, json=body, headers=who)).status_code == 201, path
    plan = {"situation": "meeting", "planned_on": "2026-09-10", "observer_focus": "Chairing a core group", "written_consent_on": "2026-09-01"}
    sw = svc.as_person("P-SW1", roles=["social_worker"])
    o = await http.post("/v1/observations", json={"social_worker_id": "P-SW1", "plan": plan}, headers=tm)
    await http.post(f"/v1/observations/{o.json()['id']}/agreement", json={"aims": "Agree tasks", "standards": "PCF 7"}, headers={**sw, "If-Match": '"1"'})
    report = {
        "observed_on": "2026-09-10", "verbal_consent_confirmed": True, "situation": "Core group", "aim_of_intervention": "Review tasks",
        "those_present": "Family and agencies", "standards_observed": "PCF 7", "feedback_and_evidence": "Clear", "positive_aspects": "Kept the child central",
        "areas_for_development": "Record who does what by when", "reflection": "Good", "designation": "Team manager",
    }
    assert (await http.put(f"/v1/observations/{o.json()['id']}/report", json=report, headers={**tm, "If-Match": '"2"'})).status_code == 200


async def test_the_team_review_pack_as_json_and_pdf_seen_only_by_its_parties(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed(svc)
        http = svc.http
        tm = svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"])
        outsider = svc.as_person("P-TM4", roles=["team_manager", "auditor"], teams=["T-CIC"])

        bad = await http.post("/v1/team-reviews", json={"team_id": "T-CP", "to": "2026-13"}, headers=tm)
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        unknown = await http.post("/v1/team-reviews", json={"team_id": "T-NONE", "to": "2026-09"}, headers=tm)
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "team_id"
        assert (await http.post("/v1/team-reviews", json={"team_id": "T-CP", "to": "2026-09"}, headers=outsider)).status_code == 403
        assert await svc.db["team_reviews"].count_documents({}) == 0

        issued = await http.post("/v1/team-reviews", json={"team_id": "T-CP", "to": "2026-09"}, headers=tm)
        assert issued.status_code == 201, issued.text
        review = issued.json()
        path = f"/v1/team-reviews/{review['id']}"
        assert (review["team_manager_id"], review["service_manager_id"], review["assistant_director_id"]) == ("P-TM3", "P-SM", "P-AD")
        pack = review["pack"]
        assert pack["months"] == ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
        assert (pack["audits"]["audits"], pack["audits"]["completed"], pack["audits"]["actions"]) == (2, 2, 3)
        assert pack["audits"]["grades"] == {"outstanding": 0, "good": 1, "requires_improvement": 1, "inadequate": 0, "inadequate_critical": 0}
        assert (pack["monitoring"]["forms"], pack["monitoring"]["reports_late"]) == (1, 1)
        assert pack["consultation"]["parent"] == {"responses": 1, "positive": 0, "mixed": 0, "negative": 1, "comments": ["Reports came late"]}
        assert pack["feedback"]["partner_agency"]["positive"] == 1
        assert (pack["complaints"]["complaints"], pack["complaints"]["outcomes"]["upheld"], pack["compliments"]["compliments"]) == (1, 1, 1)
        assert (pack["observations"]["social_workers"], pack["observations"]["observations"], pack["observations"]["social_workers_observed"]) == (2, 1, 1)
        again = await http.post("/v1/team-reviews", json={"team_id": "T-CP", "to": "2026-09"}, headers=svc.as_person("P-QA", roles=["qa_officer"]))
        assert again.status_code == 200 and again.json()["id"] == review["id"]

        for who in ("P-TM3", "P-SM", "P-AD"):
            assert (await http.get(path, headers=svc.as_person(who))).status_code == 200, who
        assert (await http.get(path, headers=svc.as_person("P-QA", roles=["qa_officer"]))).status_code == 200
        for stranger in (outsider, svc.as_person("P-SW1", roles=["social_worker"], teams=["T-CP"]), svc.as_person("P-PERF", roles=["performance_officer"])):
            assert (await http.get(path, headers=stranger)).status_code == 404
            assert (await http.get(f"{path}/pdf", headers=stranger)).status_code == 404
        assert (await http.get("/v1/team-reviews", headers=outsider)).json()["items"] == []

        pdf = await http.get(f"{path}/pdf", headers=tm)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        for line in (
            "Thanet Child Protection", "2026-04 to 2026-09", "Audits: 2; completed audits: 2", "Good: 1", "Requires improvement: 1", "Outstanding: 0",
            "Monitoring forms: 1; conference reports on time: 0; late: 1", "Complaints: 1; members' enquiries: 0", "Upheld: 1",
            "Lesson learned: Confirm visits in writing", "Compliments: 1", "observations reported: 1", "Area for development: Record who does what by when",
        ):
            assert line in text, line

        [event] = await capture.wait_for(te.TEAM_REVIEW_ISSUED.type)
        assert event.data["completed_audits"] == 2 and event.data["assistant_director_id"] == "P-AD"
        await capture.settle(0.5)
        assert len(capture.of_type(te.TEAM_REVIEW_ISSUED.type)) == 1


async def test_the_improvement_plan_is_tracked_to_completion_and_a_departmental_need_is_referred(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed(svc)
        http = svc.http
        tm, sm = svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"]), svc.as_person("P-SM", roles=["service_manager"])
        ad = svc.as_person("P-AD", roles=["assistant_director"])
        review = (await http.post("/v1/team-reviews", json={"team_id": "T-CP", "to": "2026-09"}, headers=sm)).json()
        path = f"/v1/team-reviews/{review['id']}"

        priorities = {"priorities": ["Timely conference reports", "Recording who does what by when"]}
        assert (await http.put(f"{path}/priorities", json=priorities, headers=tm)).status_code == 428
        assert (await http.put(f"{path}/priorities", json=priorities, headers={**ad, "If-Match": '"1"'})).status_code == 403
        agreed = await http.put(f"{path}/priorities", json=priorities, headers={**tm, "If-Match": '"1"'})
        assert agreed.status_code == 200 and agreed.headers["ETag"] == '"2"'

        session = {"action": "Team session on conference reports", "owner_id": "P-TM3", "due_on": "2026-10-16", "kind": "team_session"}
        referral = {"action": "Chronology training", "owner_id": "P-SM", "due_on": "2026-12-18", "kind": "service_development", "need": "Training on chronologies"}
        bad = await http.post(f"{path}/actions", json={**session, "due_on": "2026-09-01"}, headers={**tm, "If-Match": '"2"'})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "due_on"
        assert (await http.post(f"{path}/actions", json={**session, "owner_id": "P-NOBODY"}, headers={**tm, "If-Match": '"2"'})).status_code == 422
        assert (await http.get(path, headers=tm)).headers["ETag"] == '"2"'  # refusals changed nothing
        added = await http.post(f"{path}/actions", json=session, headers={**tm, "If-Match": '"2"'})
        assert added.status_code == 200, added.text
        assert (await http.post(f"{path}/actions", json=referral, headers={**sm, "If-Match": '"2"'})).status_code == 412
        referred = await http.post(f"{path}/actions", json=referral, headers={**sm, "If-Match": added.headers["ETag"]})
        assert referred.status_code == 200 and referred.json()["actions"][1]["referral"]["assistant_director_id"] == "P-AD"

        # The due notice: once per action and due day.
        admin = svc.as_person("P-ADMIN", roles=["administrator"])
        assert (await http.post("/v1/team-reviews/action-notices", json={"today": "2026-10-15"}, headers=admin)).json() == {"noticed": []}
        assert (await http.post("/v1/team-reviews/action-notices", json={"today": "2026-10-16"}, headers=admin)).json() == {"noticed": [{"review_id": review["id"], "action_number": 1, "due_on": "2026-10-16"}]}
        assert (await http.post("/v1/team-reviews/action-notices", json={"today": "2026-10-19"}, headers=admin)).json() == {"noticed": []}
        assert (await http.post("/v1/team-reviews/action-notices", json={}, headers=tm)).status_code == 403

        etag = (await http.get(path, headers=tm)).headers["ETag"]
        status = f"{path}/actions/1/status"
        assert (await http.post(status, json={"status": "completed"}, headers={**ad, "If-Match": etag})).status_code == 403
        progressing = await http.post(status, json={"status": "in_progress", "note": "Booked"}, headers={**tm, "If-Match": etag})
        assert progressing.status_code == 200
        assert (await http.post(status, json={"status": "completed"}, headers={**tm, "If-Match": etag})).status_code == 412
        done = await http.post(status, json={"status": "completed", "note": "Held on 15 October"}, headers={**tm, "If-Match": progressing.headers["ETag"]})
        assert done.status_code == 200 and done.json()["plan_status"] == "open" and done.json()["action"]["status"] == "completed"
        assert (await http.post(status, json={"status": "open"}, headers={**tm, "If-Match": done.headers["ETag"]})).status_code == 409
        # The owner of the referred action (the service manager) completes it: the plan is complete.
        finished = await http.post(f"{path}/actions/2/status", json={"status": "completed", "note": "In the service plan"}, headers={**sm, "If-Match": done.headers["ETag"]})
        assert finished.status_code == 200 and finished.json()["plan_status"] == "completed"
        plan = (await http.get(path, headers=tm)).json()
        assert plan["status"] == "completed" and [c["status"] for c in plan["actions"][0]["changes"]] == ["open", "in_progress", "completed"]

        history = (await http.get(f"{path}/history?limit=100", headers=ad)).json()["items"]
        assert [h["version"] for h in history] == list(range(1, len(history) + 1)) and history[1]["record"]["priorities"] == priorities["priorities"]
        assert history[-1]["record"]["status"] == "completed" and len(history) == 8

        [referred_event] = await capture.wait_for(te.SERVICE_DEVELOPMENT_REFERRED.type)
        assert referred_event.data == {**referred_event.data, "assistant_director_id": "P-AD", "need": "Training on chronologies", "action_number": 2}
        [due] = await capture.wait_for(te.IMPROVEMENT_ACTION_DUE.type)
        assert (due.data["owner_id"], due.data["due_on"], due.data["status"]) == ("P-TM3", "2026-10-16", "open")
        completed = await capture.wait_for(te.IMPROVEMENT_ACTION_COMPLETED.type, 2)
        assert [(e.data["action_number"], e.data["plan_completed"]) for e in completed] == [(1, False), (2, True)]
        await capture.settle(0.5)
        assert len(capture.of_type(te.IMPROVEMENT_ACTION_DUE.type)) == 1

        pdf = await http.get(f"{path}/pdf", headers=sm)
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "1. Timely conference reports" in text and "Team session on conference reports" in text and "completed 2026-10-01" in text

        # An action added later and dropped, with a reason: announced, and the plan complete again.
        third = await http.post(f"{path}/actions", json={**session, "action": "Second team session"}, headers={**tm, "If-Match": finished.headers["ETag"]})
        assert third.status_code == 200 and third.json()["status"] == "open", third.text
        drop = f"{path}/actions/3/status"
        assert (await http.post(drop, json={"status": "dropped"}, headers={**tm, "If-Match": third.headers["ETag"]})).status_code == 422
        dropped = await http.post(drop, json={"status": "dropped", "note": "Covered by the first session"}, headers={**tm, "If-Match": third.headers["ETag"]})
        assert dropped.status_code == 200 and dropped.json()["plan_status"] == "completed", dropped.text

        # An action owned by a social worker outside the review's parties: they read and progress
        # their action (where notify's task links), never the pack.
        sw = svc.as_person("P-SW1", roles=["social_worker"])
        fourth = await http.post(f"{path}/actions", json={**session, "action": "Chronology refresher", "owner_id": "P-SW1"}, headers={**tm, "If-Match": dropped.headers["ETag"]})
        assert fourth.status_code == 200, fourth.text
        assert (await http.get(path, headers=sw)).status_code == 404
        assert (await http.get(f"{path}/actions/3", headers=sw)).status_code == 404, "not their action"
        assert (await http.get(f"{path}/actions/9", headers=tm)).status_code == 404
        mine = await http.get(f"{path}/actions/4", headers=sw)
        assert mine.status_code == 200 and mine.json()["action"]["owner_id"] == "P-SW1" and "pack" not in mine.json()
        assert (await http.post(f"{path}/actions/3/status", json={"status": "open"}, headers={**sw, "If-Match": mine.headers["ETag"]})).status_code == 404
        progressed = await http.post(f"{path}/actions/4/status", json={"status": "completed", "note": "Attended"}, headers={**sw, "If-Match": mine.headers["ETag"]})
        assert progressed.status_code == 200 and progressed.json()["action"]["status"] == "completed", progressed.text
        [dropped_event] = await capture.wait_for(te.IMPROVEMENT_ACTION_DROPPED.type)
        assert (dropped_event.data["action_number"], dropped_event.data["dropped_by"], dropped_event.data["plan_completed"]) == (3, "P-TM3", True)
        assert "note" not in dropped_event.data

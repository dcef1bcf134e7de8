"""Practice observation, monitoring forms, feedback, complaints' lessons and compliments over the
API, with a real MongoDB and RabbitMQ: who may do and see what, refusals that change nothing,
version-guarded writes with their history, and the events (reminders once per due day)."""

from __future__ import annotations

from typing import Any

from audit.common.directory import PersonChanged, project_person
from audit.main import create_app
from audit.practice import events as pe

from devstack.testing import EventCapture, running_service

from .conftest import clock, seed_directory

PLAN = {"situation": "interview", "planned_on": "2026-09-21", "observer_focus": "Engaging the father in the plan", "written_consent_on": "2026-09-14"}
REPORT = {
    "observed_on": "2026-09-21", "verbal_consent_confirmed": True, "situation": "Home visit", "aim_of_intervention": "Review the plan",
    "those_present": "Mother, father, social worker, observer", "standards_observed": "PCF 7", "feedback_and_evidence": "Clear about the concerns",
    "positive_aspects": "Warm and direct", "areas_for_development": "Summarise agreed actions", "reflection": "Reflected openly",
    "designation": "Team manager",
}
REFLECTION = {"achieved_aims": "Yes", "did_well": "Listening", "could_improve": "Summaries", "how_to_improve": "A checklist"}


async def seed(db: Any) -> None:
    await seed_directory(db)
    for sw in ("P-SW1", "P-SW2"):
        await project_person(db, PersonChanged(person_id=sw, version=1, roles=["social_worker"], team_id="T-CP", line_manager_id="P-TM3"))


async def test_an_observation_from_plan_to_reflection_and_its_reminders_once_per_due_day(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed(svc.db)
        http = svc.http
        tm, sw = svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"]), svc.as_person("P-SW1", roles=["social_worker"], teams=["T-CP"])
        other_tm = svc.as_person("P-TM4", roles=["team_manager"], teams=["T-CIC"])

        assert (await http.post("/v1/observations", json={"social_worker_id": "P-SW1", "plan": PLAN}, headers=other_tm)).status_code == 403
        unknown = await http.post("/v1/observations", json={"social_worker_id": "P-NOBODY", "plan": PLAN}, headers=tm)
        assert unknown.status_code == 422 and unknown.headers["content-type"] == "application/problem+json"
        created = await http.post("/v1/observations", json={"social_worker_id": "P-SW1", "plan": PLAN}, headers=tm)
        assert created.status_code == 201, created.text
        o = created.json()
        path = f"/v1/observations/{o['id']}"
        assert (o["status"], o["observer_id"], o["line_manager_id"], created.headers["ETag"]) == ("planned", "P-TM3", "P-TM3", '"1"')
        assert (await http.get(path, headers=other_tm)).status_code == 404
        assert (await http.get(path, headers=svc.as_person("P-SW2", roles=["social_worker"]))).status_code == 404
        assert (await http.get(path, headers=svc.as_person("P-QA", roles=["qa_officer"]))).status_code == 200

        agreement = {"aims": "Agree a safety plan", "standards": "PCF 7 intervention and skills"}
        assert (await http.post(f"{path}/agreement", json=agreement, headers=sw)).status_code == 428
        assert (await http.post(f"{path}/agreement", json=agreement, headers={**tm, "If-Match": '"1"'})).status_code == 403
        agreed = await http.post(f"{path}/agreement", json=agreement, headers={**sw, "If-Match": '"1"'})
        assert agreed.status_code == 200 and agreed.headers["ETag"] == '"2"'

        no_consent = await http.put(f"{path}/report", json={**REPORT, "verbal_consent_confirmed": False}, headers={**tm, "If-Match": '"2"'})
        assert no_consent.status_code == 422 and [e["field"] for e in no_consent.json()["errors"]] == ["verbal_consent_confirmed"]
        missing_heading = await http.put(f"{path}/report", json={**REPORT, "positive_aspects": ""}, headers={**tm, "If-Match": '"2"'})
        assert missing_heading.status_code == 422
        unchanged = await http.get(path, headers=tm)
        assert unchanged.json()["status"] == "agreed" and unchanged.headers["ETag"] == '"2"' and unchanged.json()["report"] is None

        reported = await http.put(f"{path}/report", json=REPORT, headers={**tm, "If-Match": '"2"'})
        assert reported.status_code == 200, reported.text
        assert reported.json()["feedback_due_on"] == "2026-10-05" and reported.json()["written_late"] is False
        assert (await http.post(f"{path}/reflection", json=REFLECTION, headers={**sw, "If-Match": '"2"'})).status_code == 412
        reflected = await http.post(f"{path}/reflection", json=REFLECTION, headers={**sw, "If-Match": '"3"'})
        assert reflected.status_code == 200 and reflected.json()["status"] == "reflected"
        history = (await http.get(f"{path}/history", headers=sw)).json()["items"]
        assert [(h["version"], h["record"]["status"], h["changed_by"]) for h in history] == [
            (1, "planned", "P-TM3"), (2, "agreed", "P-SW1"), (3, "reported", "P-TM3"), (4, "reflected", "P-SW1"),
        ]
        mine = (await http.get("/v1/observations", headers=sw)).json()["items"]
        assert [x["id"] for x in mine] == [o["id"]] and (await http.get("/v1/observations", headers=other_tm)).json()["items"] == []

        [planned] = await capture.wait_for(pe.OBSERVATION_PLANNED.type)
        [report_event] = await capture.wait_for(pe.OBSERVATION_REPORTED.type)
        assert planned.data["social_worker_id"] == "P-SW1" and report_event.data["observed_on"] == "2026-09-21" and report_event.data["revised"] is False

        # Reminders: P-SW1 observed 21 September 2026 is due Friday 19 March 2027 (the 21st is a Sunday);
        # P-SW2, never observed, six months after first counted (today): 1 April 2027, reminded on
        # 16 March (ten working days before, over Easter).
        admin = svc.as_person("P-ADMIN", roles=["administrator"])
        run = "/v1/observations/reminders"
        assert (await http.post(run, json={"today": "2026-10-01"}, headers=tm)).status_code == 403
        assert (await http.post(run, json={"today": "2026-10-01"}, headers=admin)).json() == {"reminded": []}
        assert (await http.post(run, json={"today": "2027-03-04"}, headers=admin)).json() == {"reminded": []}
        assert (await http.post(run, json={"today": "2027-03-05"}, headers=admin)).json() == {"reminded": [{"social_worker_id": "P-SW1", "due_on": "2027-03-19"}]}
        assert (await http.post(run, json={"today": "2027-03-16"}, headers=admin)).json() == {"reminded": [{"social_worker_id": "P-SW2", "due_on": "2027-04-01"}]}
        assert (await http.post(run, json={"today": "2027-03-22"}, headers=admin)).json() == {"reminded": []}
        due = await capture.wait_for(pe.OBSERVATION_DUE.type, 2)
        await capture.settle(1.0)
        assert len(capture.of_type(pe.OBSERVATION_DUE.type)) == 2
        first = next(e.data for e in due if e.data["social_worker_id"] == "P-SW1")
        assert first == {
            "social_worker_id": "P-SW1", "line_manager_id": "P-TM3", "team_id": "T-CP", "due_on": "2027-03-19", "remind_on": "2027-03-05",
            "last_observed_on": "2026-09-21", "observations_last_12_months": 1, "overdue": False,
        }


async def test_monitoring_forms_collation_feedback_complaints_and_compliments(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed(svc.db)
        http = svc.http
        chair, iro = svc.as_person("P-CPC", roles=["cp_chair"]), svc.as_person("P-IRO", roles=["iro"])
        tm, other_tm = svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"]), svc.as_person("P-TM4", roles=["team_manager"], teams=["T-CIC"])
        qa = svc.as_person("P-QA", roles=["qa_officer"])

        form = {"kind": "initial_cp_conference", "case_id": "C-3001", "meeting_on": "2026-09-25", "report_received_on": "2026-09-24",
                "ratings": {"report": "good", "parents_prepared": "poor"}, "comments": "Father not prepared for the conference"}
        wrong_chair = await http.post("/v1/monitoring-forms", json=form, headers=iro)
        assert wrong_chair.status_code == 422 and wrong_chair.json()["errors"][0]["field"] == "kind"
        assert (await http.post("/v1/monitoring-forms", json={**form, "case_id": "C-9999"}, headers=chair)).status_code == 422
        assert (await http.post("/v1/monitoring-forms", json={**form, "ratings": {"report": "superb"}}, headers=chair)).status_code == 422
        submitted = await http.post("/v1/monitoring-forms", json=form, headers=chair)
        assert submitted.status_code == 201, submitted.text
        f = submitted.json()
        assert (f["team_id"], f["month"], f["report_on_time"], f["team_manager_id"]) == ("T-CP", "2026-09", True, "P-TM3")
        assert (await http.get(f"/v1/monitoring-forms/{f['id']}", headers=tm)).status_code == 200
        assert (await http.get(f"/v1/monitoring-forms/{f['id']}", headers=other_tm)).status_code == 404
        assert (await http.get("/v1/monitoring-forms?team_id=T-CP", headers=other_tm)).status_code == 403
        assert [x["id"] for x in (await http.get("/v1/monitoring-forms?team_id=T-CP&month=2026-09", headers=tm)).json()["items"]] == [f["id"]]

        collation = {"team_id": "T-CP", "month": "2026-09"}
        assert (await http.post("/v1/monitoring-forms/collations", json=collation, headers=tm)).status_code == 403
        assert (await http.post("/v1/monitoring-forms/collations", json={**collation, "team_id": "T-NONE"}, headers=qa)).status_code == 422
        issued = await http.post("/v1/monitoring-forms/collations", json=collation, headers=qa)
        assert issued.status_code == 201, issued.text
        assert (issued.json()["forms"], issued.json()["reports_on_time"], issued.json()["ratings"]["parents_prepared"]["poor"]) == (1, 1, 1)
        again = await http.post("/v1/monitoring-forms/collations", json=collation, headers=qa)
        assert again.status_code == 200 and again.json()["version"] == 1
        assert (await http.get("/v1/monitoring-forms/collations/2026-09/T-CP", headers=tm)).json()["forms"] == 1

        feedback = {"kind": "consultation", "respondent": "parent", "team_id": "T-CP", "received_on": "2026-09-20", "view": "mixed", "comments": "Reports came late"}
        assert (await http.post("/v1/feedback", json={**feedback, "team_id": "T-NONE"}, headers=iro)).status_code == 422
        assert (await http.post("/v1/feedback", json=feedback, headers=svc.as_person("P-X", roles=["auditor"]))).status_code == 403
        assert (await http.post("/v1/feedback", json=feedback, headers=iro)).status_code == 201
        assert len((await http.get("/v1/feedback?team_id=T-CP", headers=tm)).json()["items"]) == 1
        assert (await http.get("/v1/feedback?team_id=T-CP", headers=other_tm)).status_code == 403

        complaint = {"kind": "complaint", "complaint_ref": "CR-2026-014", "team_id": "T-CP", "date_responded": "2026-09-10", "summary": "Visit missed",
                     "outcome": "part_upheld", "actions_taken": ["apology", "compensation"], "lessons_learned": "Confirm visits in writing"}
        no_cost = await http.post("/v1/complaints", json=complaint, headers=tm)
        assert no_cost.status_code == 422 and no_cost.json()["errors"][0]["field"] == "compensation_cost"
        assert (await http.post("/v1/complaints", json={**complaint, "compensation_cost": 50}, headers=other_tm)).status_code == 403
        recorded = await http.post("/v1/complaints", json={**complaint, "compensation_cost": 50}, headers=tm)
        assert recorded.status_code == 201, recorded.text
        c = recorded.json()
        assert (await http.post("/v1/complaints", json={**complaint, "compensation_cost": 50}, headers=tm)).status_code == 409
        path = f"/v1/complaints/{c['id']}"
        revised_body = {**complaint, "compensation_cost": 50, "lessons_learned": "Confirm visits in writing; text the family the day before"}
        assert (await http.put(path, json=revised_body, headers=tm)).status_code == 428
        assert (await http.put(path, json=revised_body, headers={**other_tm, "If-Match": '"1"'})).status_code == 404
        revised = await http.put(path, json=revised_body, headers={**tm, "If-Match": '"1"'})
        assert revised.status_code == 200 and revised.headers["ETag"] == '"2"'
        assert (await http.put(path, json={**revised_body, "lessons_learned": "lost"}, headers={**tm, "If-Match": '"1"'})).status_code == 412
        history = (await http.get(f"{path}/history", headers=tm)).json()["items"]
        assert [h["record"]["lessons_learned"] for h in history] == ["Confirm visits in writing", revised_body["lessons_learned"]]
        assert (await http.get(path, headers=other_tm)).status_code == 404

        compliment = {"team_id": "T-CP", "received_on": "2026-09-30", "respondent": "parent", "summary": "Thank you for the support at court"}
        assert (await http.post("/v1/compliments", json={**compliment, "received_on": "2026-10-02"}, headers=iro)).status_code == 422
        assert (await http.post("/v1/compliments", json=compliment, headers=iro)).status_code == 201

        [sent] = await capture.wait_for(pe.MONITORING_FORM_SUBMITTED.type)
        assert sent.data["team_manager_id"] == "P-TM3" and sent.data["report_on_time"] is True
        [collated] = await capture.wait_for(pe.MONITORING_COLLATION_ISSUED.type)
        assert collated.data["forms"] == 1 and collated.data["team_manager_id"] == "P-TM3"
        lessons = await capture.wait_for(pe.COMPLAINT_LESSONS_RECORDED.type, 2)
        assert [(e.data["version"], e.data["outcome"]) for e in lessons] == [(1, "part_upheld"), (2, "part_upheld")]
        await capture.settle(0.5)
        assert len(capture.of_type(pe.MONITORING_COLLATION_ISSUED.type)) == 1
        assert all("Visit missed" not in str(e.data) for e in capture.events)

"""QA framework events, published as the audit service publishes them (its own EventTypes and
models), open tasks with one email each in the right work trays and close on their completion
events, once each, however often the broker delivers them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from audit.hampshire import events as he
from audit.multi_agency import events as me
from audit.practice import events as pe
from notify.mail.outbox import EMAILS
from notify.main import create_app
from notify.store import TASKS

from devstack.testing import eventually, running_service

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
STAFF = [
    {"person_id": "SM-1", "name": "Sue Service", "roles": ["service_manager"]},
    {"person_id": "D-1", "name": "Dee Delegate", "roles": ["team_manager"]},
    {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"]},
    {"person_id": "SW-1", "name": "Sam Worker", "roles": ["social_worker"], "line_manager_id": "TM-1"},
    {"person_id": "P-1", "name": "Pat Partner", "roles": ["partner"]},
]


async def _tray(svc: Any, person_id: str) -> list[dict[str, Any]]:
    response = await svc.http.get("/v1/tasks", headers=svc.as_person(person_id))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _detail(svc: Any, person_id: str, task_id: str) -> dict[str, Any]:
    response = await svc.http.get(f"/v1/tasks/{task_id}", headers=svc.as_person(person_id))
    assert response.status_code == 200, response.text
    return response.json()


async def test_qa_framework_tasks_open_in_the_work_tray_with_an_email_and_close_on_their_completion_events_once_each(smtp, kit) -> None:  # type: ignore[no-untyped-def]
    async with running_service(create_app) as svc:
        await kit.add_people(svc, *STAFF)
        ready = await kit.publish(svc, he.FILES_READY, he.FilesReady(
            list_id="L-1", month="2026-10", service_manager_id="SM-1", teams=[he.ReadyTeam(team_id="T-1", file_ids=["F-1"])], file_count=1,
            delegate_ids=["D-1"], audit_due_on=date(2026, 11, 20), sent_by="QA-1", sent_at=NOW,
        ), source="/qa/audit")
        await kit.publish(svc, he.FILE_SELECTED, he.FileSelected(
            file_id="F-1", month="2026-10", case_id="C-9", team_id="T-1", service_manager_id="SM-1", auditor_id="D-1", delegation_id="DL-1",
            delegated_by="SM-1", selected_at=NOW,
        ), source="/qa/audit")
        # The scheduler's reminder leaves the line manager out: notify's copy of the directory knows them.
        await kit.publish(svc, pe.OBSERVATION_DUE, pe.ObservationDue(
            social_worker_id="SW-1", line_manager_id=None, team_id="T-1", due_on=date(2026, 11, 17), remind_on=date(2026, 11, 3),
            last_observed_on=date(2026, 5, 18), observations_last_12_months=1, overdue=False,
        ), source="/qa/audit")
        await kit.publish(svc, me.ACTION_ASSIGNED, me.ActionAssigned(
            audit_id="MA-1", case_ref="MA-CODE-7", action_id="ACT-1", agency="health", owner_id="P-1", due_on=date(2026, 12, 1),
            action_path="/v1/multi-agency/audits/MA-1", assigned_by="LQA-1", assigned_at=NOW,
        ), source="/qa/audit")
        await kit.republish(svc, ready)

        messages = await smtp.catcher.wait_for(4)
        assert sorted(m["To"] for m in messages) == ["d-1@council.example", "p-1@council.example", "sm-1@council.example", "tm-1@council.example"]
        subjects = {m["To"]: m["Subject"] for m in messages}
        assert subjects["sm-1@council.example"] == "Files ready for audit: 1 file from 1 team ready for audit for 2026-10"
        assert "MA-CODE-7" not in subjects["p-1@council.example"]
        assert "Due: 17/11/2026" in next(m for m in messages if m["To"] == "tm-1@council.example").get_body(("plain",)).get_content()

        [listed] = await _tray(svc, "SM-1")
        assert (listed["kind"], listed["status"], listed["due_on"]) == ("hampshire_files_ready", "open", "2026-11-20")
        assert listed["link"]["url"] == "https://qa.council.example/audit/hampshire/months/2026-10"
        [to_audit] = await _tray(svc, "D-1")
        assert (to_audit["kind"], to_audit["assigned_by"], to_audit["due_on"]) == ("hampshire_file_audit", "SM-1", "2026-11-20")
        [observation] = await _tray(svc, "TM-1")
        assert (observation["kind"], observation["due_on"]) == ("observation_due", "2026-11-17")
        [action] = await _tray(svc, "P-1")
        assert (action["kind"], action["context"]["case_code"], action["link"]["path"]) == ("multi_agency_action", "MA-CODE-7", "/multi-agency/audits/MA-1")
        assert await _tray(svc, "SW-1") == []

        closed = await kit.publish(svc, he.SELECTION_CLOSED, he.SelectionClosed(
            month="2026-10", service_manager_id="SM-1", selected_file_ids=["F-1"], not_selected_file_ids=[], closed_by="SM-1", closed_at=NOW,
        ), source="/qa/audit")
        await kit.publish(svc, he.FILE_AUDITED, he.FileAudited(
            file_id="F-1", month="2026-10", case_id="C-9", team_id="T-1", worker_id="SW-1", supervisor_id="TM-1", service_manager_id="SM-1",
            auditor_id="D-1", delegation_id="DL-1", delegated_by="SM-1", tool_id="hampshire", tool_version=1, judgements={"1": "yes"},
            audited_at=NOW,
        ), source="/qa/audit")
        await kit.publish(svc, pe.OBSERVATION_REPORTED, pe.ObservationReported(
            observation_id="O-1", social_worker_id="SW-1", observer_id="TM-1", team_id="T-1", observed_on=date(2026, 11, 10),
            feedback_due_on=date(2026, 11, 24), written_late=False, revised=False, reported_at=NOW,
        ), source="/qa/audit")
        await kit.publish(svc, me.ACTION_COMPLETED, me.ActionCompleted(
            audit_id="MA-1", case_ref="MA-CODE-7", action_id="ACT-1", agency="health", owner_id="P-1", completed_by="P-1", open_actions=0,
            completed_at=NOW,
        ), source="/qa/audit")
        await kit.republish(svc, closed)

        async def all_done() -> bool:
            return await svc.db[TASKS].count_documents({"status": "done"}) == 4

        await eventually(all_done, message="the four tasks closed")
        for person, task, reason in (("SM-1", listed, "selection closed"), ("D-1", to_audit, "file audited"),
                                     ("TM-1", observation, "observation reported"), ("P-1", action, "action done")):
            detail = await _detail(svc, person, task["id"])
            assert [(h["status"], h["reason"]) for h in detail["history"]] == [("open", "created"), ("done", reason)]
        assert await svc.db[TASKS].count_documents({}) == 4
        assert await svc.db[EMAILS].count_documents({}) == 4 and len(smtp.catcher.messages) == 4

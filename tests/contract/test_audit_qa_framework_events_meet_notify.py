"""Contract: the audit service's QA framework events (``audit.hampshire``, ``audit.hillingdon``,
``audit.practice``, ``audit.team_review`` and ``audit.multi_agency`` events: its own EventTypes and
pydantic models) meet notify's work-tray consumer (``notify.mappings.qa_framework``).

Each event is built as the audit service builds it and read through notify's mapping, first as
effects (who gets which task, what it waits on, and what closes it) and then through the running
notify service to the work tray and the mail it sends, once each however often the broker
delivers them, so a change of the publisher's contract that notify cannot read fails here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from audit import events as audit_events
from audit.hampshire import events as he
from audit.hillingdon import events as hi
from audit.multi_agency import events as me
from audit.practice import events as pe
from audit.team_review import events as te
from notify.domain.effects import Effects
from notify.domain.kinds import TaskKind
from notify.domain.tasks import Origin, TaskStatus
from notify.mail.outbox import EMAILS
from notify.main import create_app
from notify.mappings import all_mappings
from notify.mappings import qa_framework as q
from notify.store import TASKS
from pydantic import BaseModel
from shared.consumer import ReceivedEvent
from shared.events import EventType

from devstack.testing import (
    ConsumerOutcomes,
    ServiceClient,
    SmtpServer,
    add_people,
    email_text,
    eventually,
    mail_outbox_drained,
    publish,
    republish,
    running_service,
)

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


class People:
    def __init__(self, managers: dict[str, str] | None = None) -> None:
        self.managers = managers or {}
        self.asked: list[str] = []

    async def line_manager_of(self, person_id: str) -> str | None:
        self.asked.append(person_id)
        return self.managers.get(person_id)


async def _effects(published: EventType, data: BaseModel, people: People | None = None) -> Effects:
    """``data`` published by the audit service as ``published``, read by notify's mapping of that routing key."""
    envelope = published.envelope(data, source="/qa/audit", subject=None, time=NOW)
    mapping = next(m for m in all_mappings() if m.event_type.routing_key == published.routing_key)
    return await mapping.translate(ReceivedEvent(envelope, mapping.event_type.parse_data(envelope)), people or People())


def _sm_list(**extra: Any) -> he.FilesReady:
    return he.FilesReady(**{
        "list_id": "L-1", "month": "2026-10", "service_manager_id": "SM-1",
        "teams": [he.ReadyTeam(team_id="T-1", file_ids=["F-1", "F-2"]), he.ReadyTeam(team_id="T-2", file_ids=["F-3"])],
        "file_count": 3, "delegate_ids": ["D-1"], "audit_due_on": date(2026, 11, 20), "sent_by": "QA-1", "sent_at": NOW, **extra,
    })


def _selected(**extra: Any) -> he.FileSelected:
    return he.FileSelected(**{
        "file_id": "F-1", "month": "2026-10", "case_id": "C-9", "team_id": "T-1", "service_manager_id": "SM-1", "auditor_id": "SM-1",
        "selected_at": NOW, **extra,
    })


def test_every_qa_framework_mapping_reads_an_event_the_audit_service_publishes_and_needs_only_what_it_always_carries() -> None:
    """Every audit QA framework event type notify maps meets notify's copy of it: published by audit, no field notify needs that audit may omit."""
    published = {t.routing_key: t for t in audit_events.EVENTS}
    for mapping in q.MAPPINGS:
        theirs = published.get(mapping.event_type.routing_key)
        assert theirs is not None, f"audit publishes no {mapping.event_type.routing_key}"
        fields = theirs.data_model.model_fields
        for name, field in mapping.event_type.data_model.model_fields.items():
            if field.is_required():
                assert name in fields and fields[name].is_required(), f"{theirs.routing_key}: notify requires {name}, audit may omit it"


async def test_the_ready_list_is_a_task_for_the_service_manager_closed_when_they_close_that_months_selection() -> None:
    """Audit's ``hampshire.files.ready`` and ``hampshire.selection.closed`` meet notify's work-tray mapping."""
    effects = await _effects(he.FILES_READY, _sm_list())
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.origin, task.due_on) == ("SM-1", TaskKind.HAMPSHIRE_FILES_READY, Origin.SYSTEM, date(2026, 11, 20))
    assert task.subject == "3 files from 2 teams ready for audit for 2026-10"
    assert "at least one file from each team" in task.action
    assert (task.link.service, task.link.path) == ("audit", "/hampshire/months/2026-10")
    assert task.email is not None and task.email.template == "task"
    assert "D-1" not in {t.assignee_id for t in effects.open}  # the service manager's task; delegates get the files they audit

    closed = await _effects(he.SELECTION_CLOSED, he.SelectionClosed(
        month="2026-10", service_manager_id="SM-1", selected_file_ids=["F-1", "F-3"], not_selected_file_ids=["F-2"], closed_by="SM-1", closed_at=NOW,
    ))
    [close] = closed.close
    assert (close.key, close.outcome, close.by) == (task.closes_on, TaskStatus.DONE, "SM-1")
    other_month = await _effects(he.SELECTION_CLOSED, he.SelectionClosed(
        month="2026-09", service_manager_id="SM-1", selected_file_ids=[], not_selected_file_ids=[], closed_by="SM-1", closed_at=NOW,
    ))
    other_manager = await _effects(he.SELECTION_CLOSED, he.SelectionClosed(
        month="2026-10", service_manager_id="SM-2", selected_file_ids=[], not_selected_file_ids=[], closed_by="SM-2", closed_at=NOW,
    ))
    assert task.closes_on not in {other_month.close[0].key, other_manager.close[0].key}


async def test_a_selected_file_is_a_task_for_its_auditor_due_by_the_20th_of_the_next_month_closed_when_audited() -> None:
    """Audit's ``hampshire.file.selected`` and ``hampshire.file.audited`` meet notify's work-tray mapping."""
    effects = await _effects(he.FILE_SELECTED, _selected())
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.origin, task.assigned_by) == ("SM-1", TaskKind.HAMPSHIRE_FILE_AUDIT, Origin.SYSTEM, None)
    assert task.due_on == date(2026, 11, 20)
    assert task.link.path == "/hampshire/files/F-1"
    assert "C-9" not in task.subject + task.action + str(task.context)
    audited = await _effects(he.FILE_AUDITED, he.FileAudited(
        file_id="F-1", month="2026-10", case_id="C-9", team_id="T-1", worker_id="W-1", supervisor_id="S-1", service_manager_id="SM-1",
        auditor_id="SM-1", tool_id="hampshire", tool_version=1, judgements={"1": "yes"}, audited_at=NOW,
    ))
    [close] = audited.close
    assert (close.key, close.outcome, close.by) == (task.closes_on, TaskStatus.DONE, "SM-1")
    other = await _effects(he.FILE_SELECTED, _selected(file_id="F-2"))
    assert other.open[0].closes_on != task.closes_on


async def test_a_file_a_delegate_audits_is_their_task_assigned_by_the_service_manager_and_decembers_is_due_in_january() -> None:
    """Audit's ``hampshire.file.selected`` of a delegated file meets notify's work-tray mapping."""
    effects = await _effects(he.FILE_SELECTED, _selected(month="2026-12", auditor_id="D-1", delegation_id="DL-1", delegated_by="SM-1"))
    [task] = effects.open
    assert (task.assignee_id, task.assigned_by, task.origin, task.due_on) == ("D-1", "SM-1", Origin.PERSON, date(2027, 1, 20))


def _review(**extra: Any) -> hi.PracticeReviewOpened:
    return hi.PracticeReviewOpened(**{
        "review_id": "R-1", "audit_id": "A-1", "case_ref": "C-9", "team_id": "T-1", "month": "2026-10", "grade": "requires_improvement",
        "service_manager_id": "SM-1", "assistant_director_id": "AD-1", "opened_at": NOW, **extra,
    })


async def test_a_practice_review_is_a_task_for_the_service_manager_closed_when_reported_to_the_assistant_director() -> None:
    """Audit's Hillingdon ``practice-review.opened`` and ``practice-review.reported`` meet notify's work-tray mapping."""
    effects = await _effects(hi.PRACTICE_REVIEW_OPENED, _review())
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.link.path) == ("SM-1", TaskKind.PRACTICE_REVIEW, "/hillingdon/reviews/R-1")
    assert task.subject == "Review audit A-1, graded requires improvement"
    assert "auditor" in task.action and "assistant director" in task.action
    reported = await _effects(hi.PRACTICE_REVIEW_REPORTED, hi.PracticeReviewReported(
        review_id="R-1", audit_id="A-1", case_ref="C-9", grade="requires_improvement", service_manager_id="SM-1", assistant_director_id="AD-1",
        practice_issues=True, actions_taken=2, improvement_plan_items=1, reported_at=NOW,
    ))
    [close] = reported.close
    assert (close.key, close.outcome, close.by) == (task.closes_on, TaskStatus.DONE, "SM-1")


async def test_a_practice_review_whose_service_manager_is_not_known_opens_no_task() -> None:
    """Audit's Hillingdon ``practice-review.opened`` without a service manager meets notify's work-tray mapping."""
    assert not await _effects(hi.PRACTICE_REVIEW_OPENED, _review(service_manager_id=None))


async def test_a_review_given_to_another_service_manager_moves_the_task_and_a_new_director_alone_moves_nothing() -> None:
    """Audit's Hillingdon ``practice-review.reassigned`` meets notify's work-tray mapping."""
    def reassigned(manager: str | None, changed: bool) -> hi.PracticeReviewReassigned:
        return hi.PracticeReviewReassigned(
            review_id="R-1", audit_id="A-1", case_ref="C-9", grade="inadequate", month="2026-10", service_manager_id=manager,
            assistant_director_id="AD-2", service_manager_changed=changed, reassigned_by="QA-1", reassigned_at=NOW,
        )

    moved = await _effects(hi.PRACTICE_REVIEW_REASSIGNED, reassigned("SM-2", True))
    [close] = moved.close
    [task] = moved.open
    assert (close.key, close.outcome, close.by) == (task.closes_on, TaskStatus.CANCELLED, "QA-1")
    assert (task.assignee_id, task.kind, task.closes_on) == ("SM-2", TaskKind.PRACTICE_REVIEW, q.practice_review_key("R-1"))
    assert not await _effects(hi.PRACTICE_REVIEW_REASSIGNED, reassigned("SM-1", False))


def _due(**extra: Any) -> pe.ObservationDue:
    return pe.ObservationDue(**{
        "social_worker_id": "SW-1", "line_manager_id": "TM-1", "team_id": "T-1", "due_on": date(2026, 11, 17), "remind_on": date(2026, 11, 3),
        "last_observed_on": date(2026, 5, 18), "observations_last_12_months": 1, "overdue": False, **extra,
    })


async def test_an_observation_due_is_a_reminder_task_for_the_social_workers_line_manager_with_the_due_date() -> None:
    """Audit's practice ``observation.due`` and ``observation.reported`` meet notify's work-tray mapping."""
    effects = await _effects(pe.OBSERVATION_DUE, _due())
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.due_on, task.origin) == ("TM-1", TaskKind.OBSERVATION_DUE, date(2026, 11, 17), Origin.SYSTEM)
    assert task.subject == "Practice observation of social worker SW-1 due"
    assert task.context["due_on"] == "2026-11-17"
    reported = await _effects(pe.OBSERVATION_REPORTED, pe.ObservationReported(
        observation_id="O-1", social_worker_id="SW-1", observer_id="TM-1", observed_on=date(2026, 11, 10), feedback_due_on=date(2026, 11, 24),
        written_late=False, revised=False, reported_at=NOW,
    ))
    [close] = reported.close
    assert (close.key, close.outcome, close.by) == (task.closes_on, TaskStatus.DONE, "TM-1")
    revised = await _effects(pe.OBSERVATION_REPORTED, pe.ObservationReported(
        observation_id="O-0", social_worker_id="SW-1", observer_id="TM-1", observed_on=date(2026, 5, 18), feedback_due_on=date(2026, 6, 1),
        written_late=False, revised=True, reported_at=NOW,
    ))
    assert not revised  # a revised old report does not close this year's reminder


async def test_without_a_line_manager_in_the_event_notify_asks_its_directory_and_without_one_there_opens_nothing() -> None:
    """Audit's practice ``observation.due`` without a line manager meets notify's work-tray mapping and its directory."""
    people = People({"SW-1": "TM-2"})
    [task] = (await _effects(pe.OBSERVATION_DUE, _due(line_manager_id=None, overdue=True), people)).open
    assert (task.assignee_id, people.asked) == ("TM-2", ["SW-1"])
    assert task.subject.endswith("overdue")
    assert not await _effects(pe.OBSERVATION_DUE, _due(line_manager_id=None), People())


async def test_an_improvement_action_due_is_a_task_for_its_owner_closed_when_that_action_is_completed() -> None:
    """Audit's team review ``improvement-action.due``, ``.completed`` and ``.dropped`` meet notify's work-tray mapping."""
    effects = await _effects(te.IMPROVEMENT_ACTION_DUE, te.ImprovementActionDue(
        review_id="TR-1", team_id="T-1", action_number=2, owner_id="W-1", due_on=date(2026, 11, 3), status="in_progress",
    ))
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.due_on, task.link.path) == ("W-1", TaskKind.IMPROVEMENT_ACTION, date(2026, 11, 3), "/team-reviews/TR-1/actions/2")

    def completed(number: int) -> te.ImprovementActionCompleted:
        return te.ImprovementActionCompleted(
            review_id="TR-1", team_id="T-1", action_number=number, owner_id="W-1", due_on=date(2026, 11, 3), completed_by="TM-1",
            completed_at=NOW, plan_completed=False,
        )

    [close] = (await _effects(te.IMPROVEMENT_ACTION_COMPLETED, completed(2))).close
    assert (close.key, close.outcome, close.by) == (task.closes_on, TaskStatus.DONE, "TM-1")
    [other] = (await _effects(te.IMPROVEMENT_ACTION_COMPLETED, completed(1))).close
    assert other.key != task.closes_on
    [dropped] = (await _effects(te.IMPROVEMENT_ACTION_DROPPED, te.ImprovementActionDropped(
        review_id="TR-1", team_id="T-1", action_number=2, owner_id="W-1", due_on=date(2026, 11, 3), dropped_by="TM-1", dropped_at=NOW,
        plan_completed=True,
    ))).close
    assert (dropped.key, dropped.outcome, dropped.by) == (task.closes_on, TaskStatus.CANCELLED, "TM-1")


async def test_a_service_development_referral_is_a_task_for_the_assistant_director_without_the_needs_text() -> None:
    """Audit's team review ``service-development.referred`` meets notify's work-tray mapping."""
    referral = te.ServiceDevelopmentReferred(
        review_id="TR-1", team_id="T-1", action_number=3, need="Training on chronologies for the whole team", assistant_director_id="AD-1",
        service_manager_id="SM-1", referred_by="SM-1", referred_at=NOW,
    )
    [task] = (await _effects(te.SERVICE_DEVELOPMENT_REFERRED, referral)).open
    assert (task.assignee_id, task.kind, task.assigned_by, task.origin) == ("AD-1", TaskKind.SERVICE_DEVELOPMENT_REFERRAL, "SM-1", Origin.PERSON)
    assert task.closes_on is None  # no event says it is done: the assistant director marks it done
    assert "chronologies" not in task.subject + task.action
    assert not await _effects(te.SERVICE_DEVELOPMENT_REFERRED, referral.model_copy(update={"assistant_director_id": None}))


@pytest.mark.parametrize("agency", ["health", "police"])
async def test_a_multi_agency_action_is_a_task_for_its_owner_naming_the_case_only_by_its_code_closed_when_done(agency: str) -> None:
    """Audit's multi-agency ``action.assigned`` and ``action.completed`` meet notify's work-tray mapping."""
    effects = await _effects(me.ACTION_ASSIGNED, me.ActionAssigned(
        audit_id="MA-1", case_ref="MA-CODE-7", action_id="ACT-1", agency=agency, owner_id="P-1", due_on=date(2026, 12, 1),
        action_path="/v1/multi-agency/audits/MA-1", assigned_by="LQA-1", assigned_at=NOW,
    ))
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.due_on, task.assigned_by) == ("P-1", TaskKind.MULTI_AGENCY_ACTION, date(2026, 12, 1), "LQA-1")
    assert task.link.path == "/multi-agency/audits/MA-1"
    assert task.context["case_code"] == "MA-CODE-7"
    assert "MA-CODE-7" not in task.subject + task.action  # the subject is the email's: audits are emailed without the code
    done = await _effects(me.ACTION_COMPLETED, me.ActionCompleted(
        audit_id="MA-1", case_ref="MA-CODE-7", action_id="ACT-1", agency=agency, owner_id="P-1", completed_by="P-1", open_actions=0,
        completed_at=NOW,
    ))
    [close] = done.close
    assert (close.key, close.outcome, close.by) == (task.closes_on, TaskStatus.DONE, "P-1")


# --- The events through the running notify service, to the work tray and the mail it sends -----

STAFF = [
    {"person_id": "SM-1", "name": "Sue Service", "roles": ["service_manager"]},
    {"person_id": "D-1", "name": "Dee Delegate", "roles": ["team_manager"]},
    {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"]},
    {"person_id": "SW-1", "name": "Sam Worker", "roles": ["social_worker"], "line_manager_id": "TM-1"},
    {"person_id": "P-1", "name": "Pat Partner", "roles": ["partner"]},
]


async def _tray(svc: ServiceClient, person_id: str) -> list[dict[str, Any]]:
    response = await svc.http.get("/v1/tasks", headers=svc.as_person(person_id))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _detail(svc: ServiceClient, person_id: str, task_id: str) -> dict[str, Any]:
    response = await svc.http.get(f"/v1/tasks/{task_id}", headers=svc.as_person(person_id))
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def test_qa_framework_tasks_open_in_the_work_tray_with_an_email_and_close_on_their_completion_events_once_each(smtp: SmtpServer) -> None:
    """Audit's Hampshire, practice and multi-agency events, one delivered twice, meet the running notify service: one task and one email each, closed once."""
    async with running_service(create_app) as svc:
        await add_people(svc, *STAFF)
        taken = ConsumerOutcomes("notify", "work-tray")
        ready = await publish(svc, he.FILES_READY, he.FilesReady(
            list_id="L-1", month="2026-10", service_manager_id="SM-1", teams=[he.ReadyTeam(team_id="T-1", file_ids=["F-1"])], file_count=1,
            delegate_ids=["D-1"], audit_due_on=date(2026, 11, 20), sent_by="QA-1", sent_at=NOW,
        ), source="/qa/audit")
        await publish(svc, he.FILE_SELECTED, he.FileSelected(
            file_id="F-1", month="2026-10", case_id="C-9", team_id="T-1", service_manager_id="SM-1", auditor_id="D-1", delegation_id="DL-1",
            delegated_by="SM-1", selected_at=NOW,
        ), source="/qa/audit")
        # The scheduler's reminder leaves the line manager out: notify's copy of the directory knows them.
        await publish(svc, pe.OBSERVATION_DUE, pe.ObservationDue(
            social_worker_id="SW-1", line_manager_id=None, team_id="T-1", due_on=date(2026, 11, 17), remind_on=date(2026, 11, 3),
            last_observed_on=date(2026, 5, 18), observations_last_12_months=1, overdue=False,
        ), source="/qa/audit")
        await publish(svc, me.ACTION_ASSIGNED, me.ActionAssigned(
            audit_id="MA-1", case_ref="MA-CODE-7", action_id="ACT-1", agency="health", owner_id="P-1", due_on=date(2026, 12, 1),
            action_path="/v1/multi-agency/audits/MA-1", assigned_by="LQA-1", assigned_at=NOW,
        ), source="/qa/audit")
        await republish(svc, ready)

        messages = await smtp.catcher.wait_for(4)
        assert sorted(m["To"] for m in messages) == ["d-1@council.example", "p-1@council.example", "sm-1@council.example", "tm-1@council.example"]
        subjects = {m["To"]: m["Subject"] for m in messages}
        assert subjects["sm-1@council.example"] == "Files ready for audit: 1 file from 1 team ready for audit for 2026-10"
        assert "MA-CODE-7" not in subjects["p-1@council.example"]
        assert "Due: 17/11/2026" in email_text(next(m for m in messages if m["To"] == "tm-1@council.example"))

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

        closed = await publish(svc, he.SELECTION_CLOSED, he.SelectionClosed(
            month="2026-10", service_manager_id="SM-1", selected_file_ids=["F-1"], not_selected_file_ids=[], closed_by="SM-1", closed_at=NOW,
        ), source="/qa/audit")
        await publish(svc, he.FILE_AUDITED, he.FileAudited(
            file_id="F-1", month="2026-10", case_id="C-9", team_id="T-1", worker_id="SW-1", supervisor_id="TM-1", service_manager_id="SM-1",
            auditor_id="D-1", delegation_id="DL-1", delegated_by="SM-1", tool_id="hampshire", tool_version=1, judgements={"1": "yes"},
            audited_at=NOW,
        ), source="/qa/audit")
        await publish(svc, pe.OBSERVATION_REPORTED, pe.ObservationReported(
            observation_id="O-1", social_worker_id="SW-1", observer_id="TM-1", team_id="T-1", observed_on=date(2026, 11, 10),
            feedback_due_on=date(2026, 11, 24), written_late=False, revised=False, reported_at=NOW,
        ), source="/qa/audit")
        await publish(svc, me.ACTION_COMPLETED, me.ActionCompleted(
            audit_id="MA-1", case_ref="MA-CODE-7", action_id="ACT-1", agency="health", owner_id="P-1", completed_by="P-1", open_actions=0,
            completed_at=NOW,
        ), source="/qa/audit")
        await republish(svc, closed)

        async def all_done() -> bool:
            return await svc.db[TASKS].count_documents({"status": "done"}) == 4

        await eventually(all_done, message="the four tasks closed")
        await taken.wait_for("duplicate", 2)  # both redeliveries were taken, and known for what they are
        await mail_outbox_drained(svc)  # whatever they might have queued has gone
        for person, task, reason in (("SM-1", listed, "selection closed"), ("D-1", to_audit, "file audited"),
                                     ("TM-1", observation, "observation reported"), ("P-1", action, "action done")):
            detail = await _detail(svc, person, task["id"])
            assert [(h["status"], h["reason"]) for h in detail["history"]] == [("open", "created"), ("done", reason)]
        assert await svc.db[TASKS].count_documents({}) == 4
        assert await svc.db[EMAILS].count_documents({}) == 4 and len(smtp.catcher.messages) == 4

"""Each event mapping: which tasks it opens (with or without an email) and which it closes. How the audit
service's routed copy (built with its own model) becomes tasks is a contract between the two services:
tests/contract/test_audit_copies_meet_notify.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import notify.mappings.audit as a
import pytest
from notify.domain.kinds import TaskKind, is_chased
from notify.domain.tasks import Origin, TaskStatus
from notify.mappings import all_mappings
from notify.mappings import resolution as r
from notify.mappings import signoff as s
from shared.events import EventType

from .conftest import People, effects_of

NOW = datetime(2026, 3, 2, tzinfo=UTC)


async def _effects(event_type: EventType, data: dict[str, Any], people: People | None = None):
    return await effects_of(event_type, data, at=NOW, source="/qa/test", people=people)


def test_every_mapped_type_appears_once() -> None:
    keys = [m.event_type.routing_key for m in all_mappings()]
    assert len(keys) == len(set(keys))


async def test_a_workflow_message_from_a_person_goes_to_the_recipients_tray_with_an_email_when_asked() -> None:
    effects = await _effects(s.WORKFLOW_MESSAGE_SENT, {
        "exemplar_id": "E-1", "version": 2, "to_person_id": "M-1", "assigned_by": "W-1", "from_system": False, "subject": "IA for counter-sign",
        "action": "ready_for_counter_sign", "text": "index child", "due_on": "2026-03-05", "send_email": True,
    })
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.origin, task.assigned_by) == ("M-1", TaskKind.COUNTER_SIGN, Origin.PERSON, "W-1")
    assert task.action == "Ready for counter-sign: index child"
    assert task.link.path == "/exemplars/E-1/versions/2"
    assert task.closes_on == s.version_key("E-1", 2)
    assert task.email is not None and task.email.template == "task"


async def test_a_system_workflow_message_of_a_clone_says_so_and_without_an_email_request_has_no_email() -> None:
    effects = await _effects(s.WORKFLOW_MESSAGE_SENT, {
        "exemplar_id": "E-2", "version": 1, "to_person_id": "M-1", "assigned_by": "W-1", "from_system": True, "subject": "Cloned IA",
        "action": "ready_for_counter_sign", "clone_of_exemplar_id": "E-1", "team_id": "T-1", "type_code": "INIASS",
    })
    [task] = effects.open
    assert (task.origin, task.assigned_by, task.email) == (Origin.SYSTEM, "W-1", None)
    assert "a clone of exemplar E-1" in task.action


async def test_the_systems_ready_for_counter_sign_message_is_the_one_counter_sign_task_chased_until_counter_signed() -> None:
    effects = await _effects(s.WORKFLOW_MESSAGE_SENT, {
        "exemplar_id": "E-1", "case_id": "C-1", "team_id": "T-1", "type_code": "INIASS", "version": 3, "message_id": "MSG-1",
        "to_person_id": "M-1", "assigned_by": "W-1", "from_system": True, "action": "ready_for_counter_sign",
        "subject": "Initial Assessment Version 3 ready for counter-sign", "text": None, "due_on": "2026-03-11",
        "sent_at": NOW.isoformat(), "clone_of_exemplar_id": None, "clone_of_version": None, "send_email": False,
    })
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.origin, task.due_on) == ("M-1", TaskKind.COUNTER_SIGN, Origin.SYSTEM, date(2026, 3, 11))
    assert is_chased(task.kind) and task.email is None
    counter_signed = await _effects(s.COUNTER_SIGNED, {"exemplar_id": "E-1", "version": 3, "counter_signed_by": "M-1"})
    assert task.closes_on == counter_signed.close[0].key == s.version_key("E-1", 3)


@pytest.mark.parametrize("action", ["ready_for_first_sign_off", "changes_needed", "other"])
async def test_other_workflow_messages_stay_workflow_messages_not_chased_and_close_on_counter_signature(action: str) -> None:
    effects = await _effects(s.WORKFLOW_MESSAGE_SENT, {
        "exemplar_id": "E-1", "version": 1, "to_person_id": "W-1", "assigned_by": "M-1", "from_system": False, "subject": "IA",
        "action": action, "text": "See the chronology",
    })
    [task] = effects.open
    assert task.kind is TaskKind.WORKFLOW_MESSAGE and not is_chased(task.kind)
    assert task.closes_on == s.version_key("E-1", 1)


def test_a_first_signature_is_not_mapped_sign_offs_message_is_the_counter_sign_task() -> None:
    # Otherwise the counter-signer would get two tasks for one exemplar version.
    assert "signoff.exemplar.first-signed.v1" not in {m.event_type.routing_key for m in all_mappings()}


async def test_a_free_text_workflow_message_shows_its_text() -> None:
    effects = await _effects(s.WORKFLOW_MESSAGE_SENT, {
        "exemplar_id": "E-1", "version": 1, "to_person_id": "W-1", "assigned_by": "M-1", "from_system": False, "subject": "See me",
        "action": "other", "text": "Please add the father's details",
    })
    assert effects.open[0].action == "Please add the father's details"


async def test_counter_signature_closes_the_versions_tasks_as_done() -> None:
    effects = await _effects(s.COUNTER_SIGNED, {"exemplar_id": "E-1", "version": 3, "counter_signed_by": "M-1"})
    [close] = effects.close
    assert (close.key, close.outcome, close.by) == (s.version_key("E-1", 3), TaskStatus.DONE, "M-1")


def _delegated(**extra: Any) -> dict[str, Any]:
    return {"form_id": "F-1", "case_id": "C-1", "stage": "stage_1", "stage_title": "Stage 1", "delegate_id": "D-1",
            "delegation_number": 1, "delegated_by": "O-1", "delegated_at": NOW.isoformat(), **extra}


async def test_a_delegated_section_is_a_task_for_the_delegate_replacing_any_earlier_delegation() -> None:
    effects = await _effects(r.SECTION_DELEGATED, _delegated(recalled_delegate_id="D-0"))
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.assigned_by, task.origin) == ("D-1", TaskKind.SECTION_DELEGATED, "O-1", Origin.PERSON)
    [close] = effects.close
    assert (close.key, close.outcome) == (task.closes_on, TaskStatus.CANCELLED)


async def test_finalising_closes_the_section_task_as_done_and_retracting_cancels_it() -> None:
    key = r.section_key("F-1", "stage_1")
    fin = await _effects(r.SECTION_FINALISED, {"form_id": "F-1", "case_id": "C-1", "stage": "stage_1", "finalised_by": "D-1"})
    ret = await _effects(r.SECTION_RETRACTED, {"form_id": "F-1", "case_id": "C-1", "stage": "stage_1", "delegate_id": "D-1", "retracted_by": "O-1"})
    assert [(c.key, c.outcome) for c in fin.close] == [(key, TaskStatus.DONE)]
    assert [(c.key, c.outcome) for c in ret.close] == [(key, TaskStatus.CANCELLED)]


async def test_reactivating_to_a_delegate_opens_a_task_and_to_the_owner_does_nothing() -> None:
    base = {"form_id": "F-1", "case_id": "C-1", "stage": "stage_1", "reactivated_by": "O-1"}
    assert [t.assignee_id for t in (await _effects(r.SECTION_REACTIVATED, {**base, "delegate_id": "D-1"})).open] == ["D-1"]
    assert not await _effects(r.SECTION_REACTIVATED, base)


async def test_allocation_is_an_audit_task_with_an_email() -> None:
    effects = await _effects(a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1", "peer_reviewer_id": "PR-1", "month": "2026-02"})
    task = effects.open[0]  # the peer reviewer's copy (without the link) follows: tests/unit/test_kent_allocation_and_concerns.py
    assert (task.assignee_id, task.kind, task.context["month"]) == ("TM-1", TaskKind.AUDIT, "2026-02")
    assert task.due_on == date(2026, 2, 28)  # by the end of the audit month
    assert task.email is not None


async def test_submitting_the_audit_closes_it_and_opens_the_peer_review() -> None:
    effects = await _effects(a.SUBMITTED, {"audit_id": "A-1", "auditor_id": "TM-1", "peer_reviewer_id": "PR-1"})
    assert [(c.key, c.outcome) for c in effects.close] == [(a.stage_key("A-1", "audit"), TaskStatus.DONE)]
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.closes_on) == ("PR-1", TaskKind.PEER_REVIEW, a.stage_key("A-1", "peer-review"))


async def test_moderation_required_is_a_task_and_email_for_both_parties() -> None:
    effects = await _effects(a.MODERATION_REQUIRED, {"audit_id": "A-1", "auditor_id": "TM-1", "peer_reviewer_id": "PR-1"})
    assert sorted(t.assignee_id for t in effects.open) == ["PR-1", "TM-1"]
    assert all(t.email is not None and t.kind is TaskKind.MODERATION for t in effects.open)
    agreed = await _effects(a.MODERATION_AGREED, {"audit_id": "A-1", "accepted_by": "PR-1"})
    assert [(c.key, c.by) for c in agreed.close] == [(a.stage_key("A-1", "moderation"), "PR-1")]


async def test_an_appointed_officer_gets_a_moderation_task_closed_when_the_moderation_is_finalised() -> None:
    effects = await _effects(a.OFFICER_APPOINTED, {"audit_id": "A-1", "purpose": "moderation", "officer_id": "PDO-1", "appointed_by": "QA-1"})
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.closes_on, task.assigned_by) == ("PDO-1", TaskKind.MODERATION, a.stage_key("A-1", "moderation"), "QA-1")
    final = await _effects(a.MODERATION_FINALISED, {"audit_id": "A-1", "officer_id": "PDO-1"})
    assert [c.key for c in final.close] == [a.stage_key("A-1", "moderation")]
    critical = await _effects(a.OFFICER_APPOINTED, {"audit_id": "A-1", "purpose": "critical_confirmation", "officer_id": "PDO-1"})
    confirmed = await _effects(a.CRITICAL_GRADE_CONFIRMED, {"audit_id": "A-1", "officer_id": "PDO-1"})
    assert critical.open[0].closes_on == confirmed.close[0].key == a.stage_key("A-1", "critical-confirmation")


async def test_completion_closes_every_open_stage_of_the_audit() -> None:
    effects = await _effects(a.COMPLETED, {"audit_id": "A-1"})
    assert {c.key for c in effects.close} == {a.stage_key("A-1", st) for st in ("audit", "peer-review", "moderation")}

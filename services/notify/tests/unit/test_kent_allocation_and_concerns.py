"""Seed 004 in notify: the allocation email copied to the peer reviewer without the link (4.1), and
an immediate safeguarding concern raised during an audit sent at once to the case's team manager
and the accountable service manager, its task closed when its outcome is recorded (4.7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import notify.mappings.audit as a
from notify.domain.effects import Effects
from notify.domain.kinds import TaskKind, is_chased, is_statutory
from notify.domain.tasks import Origin, TaskStatus
from notify.mail.render import Templates
from shared.events import EventType

from .conftest import effects_of

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)
AUDIT_URL = "http://fe/audit/audits/A-1"


async def _effects(event_type: EventType, data: dict[str, Any]) -> Effects:
    return await effects_of(event_type, data, at=NOW, source="/qa/audit")


def _render(template: str, context: dict[str, str]) -> tuple[str, str, str]:
    base = {
        "recipient_name": "Pat",
        "kind_label": "Copy of an audit",
        "subject": "s",
        "action": "a",
        "due_on": "",
        "assigned_by_name": "Tom",
        "url": AUDIT_URL,
        "tray_url": "http://fe/tasks",
    }
    rendered = Templates().render(template, {**base, **context})
    return rendered.subject, rendered.text, rendered.html


# --- 4.1 the allocation email, copied to the peer reviewer without the link -----------------------------


async def test_the_allocation_email_is_copied_to_the_allocated_peer_reviewer() -> None:
    """Seed 004, 4.1: "each Auditor will be sent an automated email from the Head of Quality Assurance
    (copied to the allocated peer reviewer) giving them the details of the child / young person's
    case that they have been assigned to audit"."""
    effects = await _effects(
        a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1", "peer_reviewer_id": "PR-1", "month": "2026-12"}
    )
    auditor, copy = effects.open
    assert (auditor.assignee_id, auditor.kind, auditor.email and auditor.email.template) == ("TM-1", TaskKind.AUDIT, "task")
    assert (copy.assignee_id, copy.kind, copy.origin) == ("PR-1", TaskKind.AUDIT_COPY, Origin.SYSTEM)
    assert copy.email is not None and copy.email.template == "audit_allocation_copy" and copy.email.document_path is None
    assert is_statutory(copy.kind) and not is_chased(copy.kind)  # sent whatever the preferences; nothing to chase
    assert copy.due_on == date(2026, 12, 31) and copy.email.context["due"] == "31/12/2026"
    # Done with once stage 1 is submitted: the same key the auditor's task closes on.
    assert copy.closes_on == auditor.closes_on == a.stage_key("A-1", "audit")


async def test_no_copy_without_a_peer_reviewer() -> None:
    """Seed 004, 4.1: the email is "copied to the allocated peer reviewer" (none allocated: no copy)."""
    effects = await _effects(a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1", "month": "2026-12"})
    assert [t.assignee_id for t in effects.open] == ["TM-1"]


def test_the_peer_reviewers_copy_does_not_contain_the_link() -> None:
    """Seed 004, 4.1: "The email provides a link for the team manager to complete their audit. The copy
    of the email sent to the peer reviewer does not contain this link in order to avoid peer reviewers
    beginning the audit process in error." """
    subject, text, html = _render("audit_allocation_copy", {"what": "audit A-1 for 2026-12", "due": "31/12/2026"})
    assert AUDIT_URL not in text and AUDIT_URL not in html and "audits/A-1" not in text + html
    assert "audit A-1 for 2026-12" in subject and "31/12/2026" in text and "peer reviewer" in text
    _, auditors_text, _ = _render("task", {})
    assert AUDIT_URL in auditors_text  # the auditor's own email has it


# --- 4.7 immediate safeguarding concerns -----------------------------------------------------------------


async def test_a_concern_goes_at_once_to_the_team_manager_and_the_service_manager_with_an_email() -> None:
    """Seed 004, 4.7: "ensure that the case-holding social worker is made aware of these concerns as a
    matter of urgency and takes appropriate action. Action should not wait until auditing is completed." """
    effects = await _effects(
        a.CONCERN_RAISED,
        {
            "audit_id": "A-1",
            "concern_id": "K-1",
            "case_ref": "C-1",
            "raised_by": "PR-1",
            "team_manager_id": "TM-1",
            "service_manager_id": "SM-1",
            "recipient_ids": ["TM-1", "SM-1"],
            "raised_at": NOW.isoformat(),
        },
    )
    assert [(t.assignee_id, t.kind, t.assigned_by) for t in effects.open] == [
        ("TM-1", TaskKind.SAFEGUARDING_CONCERN, "PR-1"),
        ("SM-1", TaskKind.SAFEGUARDING_CONCERN, "PR-1"),
    ]
    assert all(t.email is not None and t.email.template == "safeguarding_concern" for t in effects.open)
    assert {t.closes_on for t in effects.open} == {a.concern_key("A-1", "K-1")}
    assert [t.email.context["reason"] for t in effects.open if t.email] == [
        "the case's team manager",
        "the accountable service manager",
    ]


async def test_one_person_who_is_both_gets_one_task() -> None:
    """Seed 004, 4.7: the concern is responded to by the Team Manager (one person in both roles: once)."""
    effects = await _effects(
        a.CONCERN_RAISED,
        {
            "audit_id": "A-1",
            "concern_id": "K-1",
            "case_ref": "C-1",
            "raised_by": "TM-1",
            "team_manager_id": "SM-1",
            "service_manager_id": "SM-1",
            "recipient_ids": ["SM-1"],
            "raised_at": NOW.isoformat(),
        },
    )
    assert [t.assignee_id for t in effects.open] == ["SM-1"]


async def test_the_recorded_outcome_closes_the_concerns_tasks() -> None:
    """Seed 004, 4.7: "The Peer Reviewer is also expected to ensure that any immediate concerns they have
    identified during the audit are responded to by the Team Manager." """
    effects = await _effects(
        a.CONCERN_ACKNOWLEDGED,
        {
            "audit_id": "A-1",
            "concern_id": "K-1",
            "case_ref": "C-1",
            "acknowledged_by": "SM-1",
            "acknowledged_at": NOW.isoformat(),
        },
    )
    [close] = effects.close
    assert (close.key, close.outcome, close.by) == (a.concern_key("A-1", "K-1"), TaskStatus.DONE, "SM-1")


def test_the_concern_email_links_to_the_audit_and_says_nothing_of_the_child() -> None:
    """Seed 004, 4.7: "It is fundamental that children's safety and welfare are prioritised." """
    subject, text, html = _render("safeguarding_concern", {"audit_id": "A-1", "reason": "the case's team manager"})
    assert subject.startswith("Immediate safeguarding concern raised in audit A-1")
    assert AUDIT_URL in text and f'href="{AUDIT_URL}"' in html and "Action should not wait" in text

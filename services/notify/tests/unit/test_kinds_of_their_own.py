"""Three tasks with kinds of their own (issue 21), each with the chase and email it needs:

- Kent 4.7, "Action should not wait until auditing is completed": an immediate safeguarding
  concern (``safeguarding_concern``) is emailed at once (an email nobody can turn off) and chased
  every working day until its outcome is recorded;
- Hampshire 10.5, "the auditor must raise this with the team/unit manager": the disagreement
  (``standard_disagreement``) is chased every ``REMINDER_WORKING_DAYS`` until its outcome is
  recorded; its email may be turned off like any colleague's request;
- Hillingdon Appendix D, "The Team Manager will subsequently complete an overview of all the
  findings of all the audits of cases within the team, report this to the Service Manager": the
  overview (``findings_overview``), to write (chased once overdue) and to read (never chased).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import notify.mappings.hampshire as nh
import notify.mappings.hillingdon as nd
import pytest
from notify.domain.effects import Effects
from notify.domain.kinds import (
    FORMERLY,
    LABELS,
    TaskKind,
    is_chased,
    is_chased_when_overdue,
    is_statutory,
    reminder_interval,
)
from notify.domain.preferences import Preferences, StatutoryEmail
from notify.domain.schedule import chase_due, first_chase_on
from notify.mail.render import Templates
from shared.events import EventType

from .conftest import effects_of

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)  # a Thursday
DEFAULT_INTERVAL = 10
NEW = (TaskKind.SAFEGUARDING_CONCERN, TaskKind.STANDARD_DISAGREEMENT, TaskKind.FINDINGS_OVERVIEW)


async def _effects(event_type: EventType, data: dict[str, Any]) -> Effects:
    return await effects_of(event_type, data, at=NOW, source="/qa/audit")


def test_each_kind_has_a_label_and_names_the_kind_its_tasks_were_stored_under_before() -> None:
    assert all(LABELS.get(k) for k in NEW)
    assert FORMERLY == {
        TaskKind.SAFEGUARDING_CONCERN: TaskKind.AUDIT_COPY,
        TaskKind.STANDARD_DISAGREEMENT: TaskKind.WORKFLOW_MESSAGE,
        TaskKind.FINDINGS_OVERVIEW: TaskKind.WORKFLOW_MESSAGE,
    }


def test_a_safeguarding_concern_is_emailed_whatever_the_preferences_and_chased_every_working_day() -> None:
    """Kent 4.7: "made aware of these concerns as a matter of urgency ... Action should not wait until auditing is completed." """
    kind = TaskKind.SAFEGUARDING_CONCERN
    assert is_statutory(kind) and is_chased(kind) and not is_chased_when_overdue(kind)
    assert reminder_interval(kind, DEFAULT_INTERVAL) == 1
    prefs = Preferences("TM-1")
    with pytest.raises(StatutoryEmail):
        prefs.change({kind: False}, by="TM-1", at=NOW)
    assert prefs.wants_email(kind)
    # Raised on Thursday 26 November 2026: reminded Friday, then Monday (no weekend), and so on.
    created = NOW.date()
    assert first_chase_on(False, created, None, reminder_interval(kind, DEFAULT_INTERVAL)) == date(2026, 11, 27)
    due = chase_due(False, created, None, date(2026, 11, 30), reminder_interval(kind, DEFAULT_INTERVAL))
    assert due is not None and (due.on, due.number, due.next_on) == (date(2026, 11, 30), 2, date(2026, 12, 1))


def test_a_standard_disagreement_is_chased_at_the_usual_interval_and_its_email_may_be_turned_off() -> None:
    """Hampshire 10.5: "the auditor must raise this with the team/unit manager" (an outcome recorded, however long it takes)."""
    kind = TaskKind.STANDARD_DISAGREEMENT
    assert is_chased(kind) and not is_chased_when_overdue(kind) and not is_statutory(kind)
    assert reminder_interval(kind, DEFAULT_INTERVAL) == DEFAULT_INTERVAL
    prefs = Preferences("TM-1")
    prefs.change({kind: False}, by="TM-1", at=NOW)
    assert not prefs.wants_email(kind)


def test_a_findings_overview_is_chased_only_once_overdue_and_its_email_may_be_turned_off() -> None:
    """Hillingdon App. D: "The managers are given Two months to complete the audits"; the overview follows them."""
    kind = TaskKind.FINDINGS_OVERVIEW
    assert is_chased(kind) and is_chased_when_overdue(kind) and not is_statutory(kind)
    assert first_chase_on(True, NOW.date(), date(2027, 1, 31), DEFAULT_INTERVAL) == date(2027, 2, 1)
    assert first_chase_on(True, NOW.date(), None, DEFAULT_INTERVAL) is None  # the service manager's, to read: never


async def test_the_auditors_disagreement_is_a_standard_disagreement_task_for_the_team_manager() -> None:
    """Hampshire 10.5: "the auditor must raise this with the team/unit manager"."""
    effects = await _effects(nh.DISAGREEMENT_RAISED, {
        "file_id": "F-1", "month": "2026-11", "team_id": "T-1", "auditor_id": "SM-1", "team_manager_id": "TM-1",
        "standards": ["standard_03"],
    })
    [task] = effects.open
    assert (task.assignee_id, task.kind, task.assigned_by) == ("TM-1", TaskKind.STANDARD_DISAGREEMENT, "SM-1")
    assert task.closes_on == nh.disagreement_key("F-1") and task.email is not None


async def test_the_team_managers_overview_is_a_findings_overview_to_write_then_to_read() -> None:
    """Hillingdon App. D: "complete an overview of all the findings ..., report this to the Service Manager"."""
    round_ = {"round_id": "R-1", "month": "2026-12", "team_id": "T-1", "team_manager_id": "TM-1", "service_manager_id": "SM-1"}
    [write] = (await _effects(nd.ROUND_ALLOCATED, {**round_, "due_on": "2027-01-31"})).open
    assert (write.assignee_id, write.kind, write.due_on) == ("TM-1", TaskKind.FINDINGS_OVERVIEW, date(2027, 1, 31))
    reported = await _effects(nd.OVERVIEW_REPORTED, {**round_, "audit_ids": ["A-1", "A-2", "A-3"]})
    assert [c.key for c in reported.close] == [nd.overview_key("R-1")]
    [read] = reported.open
    assert (read.assignee_id, read.kind, read.assigned_by, read.due_on) == ("SM-1", TaskKind.FINDINGS_OVERVIEW, "TM-1", None)


def test_a_daily_reminder_says_every_working_day_and_others_their_interval() -> None:
    base = {
        "recipient_name": "Tom", "number": 2, "assigned_on": "26/11/2026", "kind_label": LABELS[TaskKind.SAFEGUARDING_CONCERN],
        "subject": "s", "action": "a", "due_on": "", "url": "http://fe/audit/audits/A-1", "tray_url": "http://fe/tasks",
    }
    daily = Templates().render("reminder", {**base, "interval": 1})
    assert "reminded every working day until it is done" in daily.text and "every working day" in daily.html
    usual = Templates().render("reminder", {**base, "interval": 10})
    assert "reminded every 10 working days until it is done" in usual.text

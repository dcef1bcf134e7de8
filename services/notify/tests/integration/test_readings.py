"""Notify's gauges against real MongoDB and RabbitMQ: open and overdue tasks, a reminder that fell
due and was not sent, and emails waiting for the mail server, as the operators' alerts read them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import notify.mappings.audit as a
from notify.main import create_app
from notify.readings import READINGS
from notify.scheduler import send_due_reminders
from notify.store import TASKS
from prometheus_client import REGISTRY
from shared.clock import FixedClock

from devstack.testing import eventually, mail_outbox_drained, running_service


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


def _value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def _read(svc: Any) -> None:
    for reading in READINGS:
        await reading(svc.runtime)


async def test_tasks_reminders_and_emails_are_read_as_an_operator_sees_them(smtp, kit) -> None:
    clock = FixedClock(_at(date(2026, 12, 17)))
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await kit.add_people(svc, {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"]})
        await kit.publish(svc, a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1", "month": "2027-01"})
        task = await eventually(lambda: svc.db[TASKS].find_one({"assignee_id": "TM-1", "kind": "audit"}), message="task opened")
        await smtp.catcher.wait_for(1)
        await mail_outbox_drained(svc)
        await _read(svc)
        assert _value("qa_notify_tasks", state="open") == 1
        assert _value("qa_notify_tasks", state="overdue") == 0
        assert _value("qa_notify_reminders_overdue") == 0
        assert _value("qa_notify_emails", state="pending") == 0
        assert _value("qa_notify_oldest_pending_email_age_seconds") == 0

        # The first reminder falls due on 5 January; on the 6th it has not gone: an alert's cue.
        assert task["next_reminder_on"] == "2027-01-05"
        clock.set(_at(date(2027, 1, 6)))
        await _read(svc)
        assert _value("qa_notify_reminders_overdue") == 1
        assert (await send_due_reminders(svc.runtime.extra["notifier"], svc.runtime.uow, clock.now())).reminders == 1
        await _read(svc)
        assert _value("qa_notify_reminders_overdue") == 0

        # Past the audit's due date (the end of January) the open task is overdue.
        clock.set(_at(date(2027, 2, 1)))
        await _read(svc)
        assert task["due_on"] == "2027-01-31"
        assert _value("qa_notify_tasks", state="overdue") == 1

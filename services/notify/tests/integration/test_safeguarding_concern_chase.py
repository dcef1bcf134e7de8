"""Kent 4.7 in notify, against real MongoDB and RabbitMQ: "Action should not wait until auditing is
completed." A safeguarding concern's task (kind ``safeguarding_concern``) is emailed at once, with an
email its recipient cannot turn off, and chased every working day until its outcome is recorded. A
concern's task stored before the kind existed (as an ``audit_copy``) is still read, not opened twice
when its event comes again, and closed by the outcome."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import notify.mappings.audit as a
from notify.domain.kinds import TaskKind
from notify.domain.tasks import Link, Origin, Task
from notify.main import create_app
from notify.scheduler import send_due_reminders
from notify.store import TASKS, insert_task
from shared.clock import FixedClock

from devstack.testing import eventually, running_service

STAFF = [
    {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager", "auditor"]},
    {"person_id": "SM-1", "name": "Sue Service", "roles": ["service_manager"]},
]
RAISED = {
    "audit_id": "A-1", "concern_id": "K-1", "case_ref": "C-1", "raised_by": "PR-1", "team_manager_id": "TM-1",
    "service_manager_id": "SM-1", "recipient_ids": ["TM-1", "SM-1"], "raised_at": "2026-11-26T09:00:00Z",
}
ACKNOWLEDGED = {"audit_id": "A-1", "concern_id": "K-1", "case_ref": "C-1", "acknowledged_by": "SM-1", "acknowledged_at": "2026-12-01T11:00:00Z"}


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


async def _tray(svc: Any, person_id: str, **params: str) -> list[dict[str, Any]]:
    response = await svc.http.get("/v1/tasks", params=params, headers=svc.as_person(person_id))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_concern_is_chased_every_working_day_until_its_outcome_is_recorded(smtp, kit) -> None:
    clock = FixedClock(_at(date(2026, 11, 26)))  # a Thursday
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await kit.add_people(svc, *STAFF)
        refused = await svc.http.patch(
            "/v1/preferences", json={"email": {"safeguarding_concern": False}}, headers={**svc.as_person("TM-1"), "If-Match": '"0"'}
        )
        assert refused.status_code == 422 and refused.json()["kinds"] == ["safeguarding_concern"]
        await kit.publish(svc, a.CONCERN_RAISED, RAISED)
        await smtp.catcher.wait_for(2)  # at once, to both
        [task] = await _tray(svc, "TM-1", kind="safeguarding_concern")
        assert task["next_reminder_on"] == "2026-11-27"

        notifier, uow = svc.runtime.extra["notifier"], svc.runtime.uow
        reminded = []
        day = date(2026, 11, 27)
        while day <= date(2026, 12, 1):
            clock.set(_at(day))
            if (await send_due_reminders(notifier, uow, clock.now())).reminders:
                reminded.append(day)
            day += timedelta(days=1)
        assert reminded == [date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 1)]  # Friday, Monday, Tuesday
        messages = await smtp.catcher.wait_for(2 + 3 * 2)
        reminder = next(m for m in messages if str(m["To"]) == "tm-1@council.example" and str(m["Subject"]).startswith("Reminder"))
        assert "reminded every working day" in reminder.get_body(("plain",)).get_content()

        await kit.publish(svc, a.CONCERN_ACKNOWLEDGED, ACKNOWLEDGED)

        async def closed() -> bool:
            return [t["status"] for p in ("TM-1", "SM-1") for t in await _tray(svc, p)] == ["done", "done"]

        await eventually(closed, message="the concern's tasks closed by its outcome")
        clock.set(_at(date(2026, 12, 2)))
        assert (await send_due_reminders(notifier, uow, clock.now())).reminders == 0


async def test_a_concerns_task_stored_as_an_audit_copy_is_read_not_doubled_and_closed_by_the_outcome(smtp, kit) -> None:
    clock = FixedClock(_at(date(2026, 11, 26)))
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await kit.add_people(svc, *STAFF)
        # What the earlier mapping stored for the team manager from event "ev-old".
        old = Task.open(
            event_id="ev-old", event_type="audit.safeguarding-concern.raised.v1", assignee_id="TM-1", kind=TaskKind.AUDIT_COPY,
            subject="Immediate safeguarding concern raised in audit A-1", action="Read the concern", due_on=None, assigned_by="PR-1",
            origin=Origin.PERSON, link=Link("audit", "/audits/A-1"), at=clock.now(), closes_on=a.concern_key("A-1", "K-1"),
            context={"audit_id": "A-1", "concern_id": "K-1"},
        )
        await svc.runtime.uow.run(lambda tx: insert_task(svc.db, tx, old))
        # The same event comes again (its "processed" marker lost): the service manager, who had
        # none, gets theirs; the team manager keeps the one stored under the old kind.
        await kit.publish(svc, a.CONCERN_RAISED, RAISED, event_id="ev-old")
        await eventually(lambda: _tray(svc, "SM-1"), message="the service manager's task")
        assert [t["kind"] for t in await _tray(svc, "SM-1")] == ["safeguarding_concern"]
        [kept] = await _tray(svc, "TM-1")
        assert (kept["id"], kept["kind"], kept["status"]) == (old.id, "audit_copy", "open")
        assert await svc.db[TASKS].count_documents({"assignee_id": "TM-1"}) == 1

        await kit.publish(svc, a.CONCERN_ACKNOWLEDGED, ACKNOWLEDGED)

        async def closed() -> bool:
            return [t["status"] for t in await _tray(svc, "TM-1")] == ["done"]

        await eventually(closed, message="the old task closed by the outcome")

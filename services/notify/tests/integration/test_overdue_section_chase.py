"""A delegated resolution section not finalised by its due date is chased like other overdue work:
a reminder (on the task and by email) from the first working day after it was due, every ten
working days until the section is finalised; none for a section without a due date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from notify.main import create_app
from notify.mappings import resolution as r
from notify.scheduler import send_due_reminders
from notify.store import TASKS
from shared.clock import FixedClock

from devstack.testing import eventually, mail_outbox_drained, running_service


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


async def _run(svc: Any, clock: FixedClock) -> int:
    return int((await send_due_reminders(svc.runtime.extra["notifier"], svc.runtime.uow, clock.now())).reminders)


def _delegated(form_id: str, delegate_id: str, due_on: str | None) -> dict[str, Any]:
    return {
        "form_id": form_id,
        "case_id": "CASE-1",
        "stage": "stage-1",
        "stage_title": "Stage 1 (team manager)",
        "delegate_id": delegate_id,
        "delegation_number": 1,
        "delegated_by": "IRO-1",
        "due_on": due_on,
    }


async def test_an_overdue_section_is_chased_until_finalised_and_one_without_a_due_date_is_not(smtp, kit) -> None:
    clock = FixedClock(_at(date(2026, 3, 2)))  # a Monday
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await kit.add_people(
            svc,
            {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"]},
            {"person_id": "TM-2", "name": "Tia Manager", "roles": ["team_manager"]},
        )
        await kit.publish(svc, r.SECTION_DELEGATED, _delegated("res-1", "TM-1", "2026-03-05"))
        await kit.publish(svc, r.SECTION_DELEGATED, _delegated("res-2", "TM-2", None))
        task = await eventually(lambda: svc.db[TASKS].find_one({"assignee_id": "TM-1"}), message="the section task opened")
        other = await eventually(
            lambda: svc.db[TASKS].find_one({"assignee_id": "TM-2"}), message="the undated section task opened"
        )
        assert task["next_reminder_on"] == "2026-03-06" and other["next_reminder_on"] is None

        sent_on = []
        day = date(2026, 3, 3)
        while day <= date(2026, 3, 24):
            clock.set(_at(day))
            if await _run(svc, clock):
                sent_on.append(day)
            day += timedelta(days=1)
        assert sent_on == [date(2026, 3, 6), date(2026, 3, 20)]  # the day after it was due, then ten working days on
        await mail_outbox_drained(svc)
        reminders = [m for m in smtp.catcher.messages if str(m["Subject"]).startswith("Reminder:")]
        assert [m["Subject"] for m in reminders] == ["Reminder: Resolution res-1: Stage 1 (team manager)"] * 2
        shown = (await svc.http.get(f"/v1/tasks/{task['_id']}", headers=svc.as_person("TM-1"))).json()
        assert (shown["reminders_sent"], shown["last_reminded_on"], shown["due_on"]) == (2, "2026-03-20", "2026-03-05")

        # Finalised: nothing more is sent.
        await kit.publish(svc, r.SECTION_FINALISED, {"form_id": "res-1", "stage": "stage-1", "finalised_by": "TM-1"})

        async def done() -> bool:
            return (await svc.db[TASKS].find_one({"_id": task["_id"]}))["status"] == "done"

        await eventually(done, message="the task closed by the finalise")
        clock.set(_at(date(2026, 4, 10)))
        assert await _run(svc, clock) == 0
        assert (await svc.db[TASKS].find_one({"_id": other["_id"]}))["reminders_sent"] == 0

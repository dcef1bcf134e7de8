"""Reminders every 10 working days until the task is done, across the Christmas 2026 bank
holidays; the mid-month digest of incomplete audits; and several replicas sending each once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import notify.mappings.audit as a
from notify.main import create_app
from notify.scheduler import DIGESTS, REMINDERS, send_due_reminders
from notify.store import TASKS
from shared.clock import FixedClock

from devstack.testing import eventually, mail_outbox_drained, running_service


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


async def _run(svc: Any, clock: FixedClock) -> Any:
    return await send_due_reminders(svc.runtime.extra["notifier"], svc.runtime.uow, clock.now())


async def _allocate(svc: Any, kit: Any, audit_id: str, auditor_id: str, month: str = "2027-01") -> dict[str, Any]:
    await kit.publish(svc, a.ALLOCATED, {"audit_id": audit_id, "auditor_id": auditor_id, "month": month})
    return await eventually(lambda: svc.db[TASKS].find_one({"assignee_id": auditor_id, "kind": "audit"}), message="task opened")


async def test_reminders_every_ten_working_days_skip_the_christmas_bank_holidays_and_stop_when_done(smtp, kit) -> None:
    clock = FixedClock(_at(date(2026, 12, 17)))  # a Thursday
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await kit.add_people(svc, {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"]})
        task = await _allocate(svc, kit, "A-1", "TM-1")
        assert task["next_reminder_on"] == "2027-01-05"
        await smtp.catcher.wait_for(1)  # the allocation email

        sent_on = []
        day = date(2026, 12, 18)
        while day <= date(2027, 1, 20):
            clock.set(_at(day))
            if (await _run(svc, clock)).reminders:
                sent_on.append(day)
            day += timedelta(days=1)
        # 25 Dec (Fri), 28 Dec (Mon, Boxing Day substitute) and 1 Jan are not counted.
        assert sent_on == [date(2027, 1, 5), date(2027, 1, 19)]

        clock.set(_at(date(2027, 1, 19)))
        assert (await _run(svc, clock)).reminders == 0  # the same day again: nothing more
        messages = await smtp.catcher.wait_for(3)
        await mail_outbox_drained(svc)  # nothing left to send: a further reminder would have gone by now
        assert [m["Subject"] for m in smtp.catcher.messages[1:]] == ["Reminder: Audit A-1 for 2027-01"] * 2
        assert "This is reminder 2" in messages[2].get_body(("plain",)).get_content()

        response = await svc.http.get(f"/v1/tasks/{task['_id']}", headers=svc.as_person("TM-1"))
        body = response.json()
        assert (body["reminders_sent"], body["last_reminded_on"], body["next_reminder_on"]) == (2, "2027-01-19", "2027-02-02")
        assert [h["reason"] for h in body["history"]] == ["created", "reminder 1 sent", "reminder 2 sent"]

        done = await svc.http.post(f"/v1/tasks/{task['_id']}/done", headers={**svc.as_person("TM-1"), "If-Match": response.headers["ETag"]})
        assert done.status_code == 200, done.text
        clock.set(_at(date(2027, 2, 2)))
        assert (await _run(svc, clock)).reminders == 0
        assert await svc.db[REMINDERS].count_documents({}) == 2


async def test_nothing_is_sent_on_a_bank_holiday_or_a_weekend(smtp, kit) -> None:
    clock = FixedClock(_at(date(2026, 12, 10)))
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await _allocate(svc, kit, "A-1", "TM-1")
        # First reminder due Thursday 24 December; then nothing can be sent 25-28 December.
        for day in (date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 27), date(2026, 12, 28)):
            clock.set(_at(day))
            assert (await _run(svc, clock)).reminders == 0
        clock.set(_at(date(2026, 12, 29)))
        assert (await _run(svc, clock)).reminders == 1


async def test_two_replicas_running_the_scheduler_at_once_send_each_reminder_once(smtp, kit, monkeypatch) -> None:
    monkeypatch.setenv("REMINDER_SCHEDULER_ENABLED", "true")
    monkeypatch.setenv("REMINDER_INTERVAL_S", "0.05")
    clock = FixedClock(_at(date(2026, 12, 17)))
    auditors = [{"person_id": f"TM-{i}", "name": f"Manager {i}", "roles": ["team_manager"]} for i in range(6)]
    async with running_service(lambda: create_app(clock=clock)) as one, running_service(lambda: create_app(clock=clock)) as two:
        await kit.add_people(one, *auditors)
        for i in range(6):
            await _allocate(one, kit, f"A-{i}", f"TM-{i}")
        await smtp.catcher.wait_for(6)
        clock.set(_at(date(2027, 1, 5)))
        # Both replicas' background loops run now, and we race both by hand on top of them.
        results = await asyncio.gather(*[_run(svc, clock) for svc in (one, two) for _ in range(3)])
        await eventually(lambda: _count_at_least(one, REMINDERS, 6), message="six reminders")
        await smtp.catcher.wait_for(12)
        # A pass of each after the six were recorded finds nothing due; then both background loops
        # stop after the pass in hand, and whatever any pass queued has gone.
        assert [r.reminders for r in await asyncio.gather(_run(one, clock), _run(two, clock))] == [0, 0]
        await asyncio.gather(one.runtime.extra["scheduler"].stop(), two.runtime.extra["scheduler"].stop())
        await mail_outbox_drained(one)
        assert sum(r.reminders for r in results) <= 6
        assert await one.db[REMINDERS].count_documents({}) == 6
        reminders = [m for m in smtp.catcher.messages if m["Subject"].startswith("Reminder:")]
        assert sorted(m["To"] for m in reminders) == sorted(f"tm-{i}@council.example" for i in range(6))
        assert all(t["reminders_sent"] == 1 for t in await one.db[TASKS].find({}).to_list())


async def _count_at_least(svc: Any, collection: str, n: int) -> bool:
    return await svc.db[collection].count_documents({}) >= n


async def test_the_mid_month_digest_lists_incomplete_audits_to_the_managers_up_the_line_once(smtp, kit) -> None:
    clock = FixedClock(_at(date(2026, 12, 24)))
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await kit.add_people(
            svc,
            {"person_id": "AD-1", "name": "Ada Director", "roles": ["assistant_director"]},
            {"person_id": "SM-1", "name": "Sue Service", "roles": ["service_manager"], "line_manager_id": "AD-1"},
            {"person_id": "DM-1", "name": "Dan District", "roles": ["district_manager"], "line_manager_id": "SM-1"},
            {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"], "line_manager_id": "DM-1"},
            {"person_id": "TM-2", "name": "Tia Manager", "roles": ["team_manager"], "line_manager_id": "DM-1"},
            {"person_id": "TM-3", "name": "Ted Elsewhere", "roles": ["team_manager"]},
        )
        for audit_id, auditor in (("A-1", "TM-1"), ("A-2", "TM-2"), ("A-3", "TM-3")):
            await _allocate(svc, kit, audit_id, auditor)
        await kit.publish(svc, a.SUBMITTED, {"audit_id": "A-2", "auditor_id": "TM-2"})
        await eventually(lambda: svc.db[TASKS].find_one({"assignee_id": "TM-2", "status": "done"}), message="A-2 submitted")
        await smtp.catcher.wait_for(3)

        clock.set(_at(date(2027, 1, 14)))
        assert (await _run(svc, clock)).digests == 0  # before the 15th
        clock.set(_at(date(2027, 1, 15)))
        assert (await _run(svc, clock)).digests == 2
        assert (await _run(svc, clock)).digests == 0  # once a month

        async def two_digests() -> list[Any] | None:
            found = [m for m in smtp.catcher.messages if m["Subject"].startswith("Audits not yet completed")]
            return found if len(found) >= 2 else None

        digests = await eventually(two_digests, message="two digests")
        await mail_outbox_drained(svc)  # nothing left to send: a third digest would have gone by now
        assert len([m for m in smtp.catcher.messages if m["Subject"].startswith("Audits not yet completed")]) == 2
        assert sorted(m["To"] for m in digests) == ["ad-1@council.example", "sm-1@council.example"]
        for message in digests:
            text = message.get_body(("plain",)).get_content()
            assert "Tom Manager: audit A-1" in text and "A-2" not in text and "A-3" not in text
            assert message["Subject"] == "Audits not yet completed for 2027-01: 1"
        [tray] = (await svc.http.get("/v1/tasks", params={"kind": "incomplete_audits_digest"}, headers=svc.as_person("SM-1"))).json()["items"]
        assert tray["context"] == {"month": "2027-01", "audits": "1"}
        assert await svc.db[DIGESTS].count_documents({}) == 2

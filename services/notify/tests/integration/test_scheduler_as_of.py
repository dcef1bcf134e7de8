"""``POST /v1/scheduler/runs``: the reminders and the digest as of a date an administrator names,
through the same pass as the background scheduler, each sent once however often it runs; refused
to anyone else (403), for a date that is not one (422), and where the setting is off (404)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import notify.mappings.audit as a
from notify.main import create_app
from notify.scheduler import REMINDERS
from notify.store import TASKS
from shared.clock import FixedClock

from devstack.testing import eventually, mail_outbox_drained, running_service
from devstack.testing import problem as _problem

RUNS = "/v1/scheduler/runs"
ALLOCATED_ON = datetime(2026, 12, 17, 9, 30, tzinfo=UTC)  # a Thursday; the first reminder is due 5 January 2027


async def test_an_administrator_runs_the_reminders_as_of_a_date_once_however_often(smtp, kit) -> None:
    async with running_service(lambda: create_app(clock=FixedClock(ALLOCATED_ON))) as svc:
        await kit.add_people(svc, {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"]},
                             {"person_id": "TM-2", "name": "Tia Manager", "roles": ["team_manager"]})
        for audit_id, auditor in (("A-1", "TM-1"), ("A-2", "TM-2")):
            await kit.publish(svc, a.ALLOCATED, {"audit_id": audit_id, "auditor_id": auditor, "month": "2027-01"})
            await eventually(lambda auditor=auditor: svc.db[TASKS].find_one({"assignee_id": auditor}), message=f"{audit_id} allocated")
        await kit.publish(svc, a.SUBMITTED, {"audit_id": "A-2", "auditor_id": "TM-2"})
        await eventually(lambda: svc.db[TASKS].find_one({"assignee_id": "TM-2", "status": "done"}), message="A-2 submitted")
        task = await eventually(lambda: svc.db[TASKS].find_one({"assignee_id": "TM-1", "status": "open"}), message="A-1 allocated")
        assert task["next_reminder_on"] == "2027-01-05"
        await smtp.catcher.wait_for(2)  # the two allocation emails
        admin, auditor = svc.as_person("P-ADMIN", roles=["administrator"]), svc.as_person("TM-1", roles=["team_manager", "auditor"])

        # Refused, and nothing sent: not an administrator; not a date (or out of range, or not one's offset).
        assert _problem(await svc.http.post(RUNS, json={"as_of": "2027-01-05"}, headers=auditor), 403)["type"].endswith("/forbidden")
        for body in ({"as_of": "2027-02-30"}, {"as_of": "tomorrow"}, {"as_of": "2027-01-05T09:00:00"}, {"as_of": "1999-12-31"},
                     {"as_of": "2100-01-04"}, {"as_of": 20270105}, {}, {"as_of": "2027-01-05", "dry_run": True}):
            _problem(await svc.http.post(RUNS, json=body, headers=admin), 422)
        assert await svc.db[REMINDERS].count_documents({}) == 0

        async def run(as_of: str) -> dict[str, Any]:
            response = await svc.http.post(RUNS, json={"as_of": as_of}, headers=admin)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        def counts(body: dict[str, Any]) -> dict[str, tuple[str, int]]:
            return {j["job"]: (j["status"], j["count"]) for j in body["jobs"]}

        assert counts(await run("2027-01-04")) == {"reminders": ("ran", 0), "digests": ("ran", 0)}  # nine working days on
        first = await run("2027-01-05")
        assert (first["service"], first["as_of"], first["local_date"], first["working_day"]) == ("notify", "2027-01-05T09:00:00Z", "2027-01-05", True)
        assert counts(first) == {"reminders": ("ran", 1), "digests": ("ran", 0)}
        assert counts(await run("2027-01-05")) == {"reminders": ("ran", 0), "digests": ("ran", 0)}  # the same day again
        evening = await run("2027-01-05T23:30:00-05:00")  # already 6 January in England
        assert (evening["local_date"], counts(evening)["reminders"]) == ("2027-01-06", ("ran", 0))
        saturday = await run("2027-01-09")
        assert not saturday["working_day"] and counts(saturday) == {"reminders": ("skipped", 0), "digests": ("skipped", 0)}

        await smtp.catcher.wait_for(3)
        await mail_outbox_drained(svc)  # whatever any run queued has gone: a second reminder would be here
        reminders = [m for m in smtp.catcher.messages if m["Subject"].startswith("Reminder:")]
        assert [(m["To"], m["Subject"]) for m in reminders] == [("tm-1@council.example", "Reminder: Audit A-1 for 2027-01")]
        assert await svc.db[REMINDERS].count_documents({}) == 1
        shown = (await svc.http.get(f"/v1/tasks/{task['_id']}", headers=auditor)).json()
        assert (shown["reminders_sent"], shown["last_reminded_on"], shown["next_reminder_on"]) == (1, "2027-01-05", "2027-01-19")
        assert [h["reason"] for h in shown["history"]] == ["created", "reminder 1 sent"]
        done = await svc.db[TASKS].find_one({"assignee_id": "TM-2"})
        assert done is not None and done.get("reminders_sent", 0) == 0


async def test_running_the_scheduler_as_of_a_date_is_refused_where_the_setting_is_off(smtp, kit, monkeypatch) -> None:
    monkeypatch.setenv("SCHEDULER_AS_OF_ENABLED", "false")
    async with running_service(lambda: create_app(clock=FixedClock(ALLOCATED_ON))) as svc:
        await kit.add_people(svc, {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"]})
        await kit.publish(svc, a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1", "month": "2027-01"})
        await eventually(lambda: svc.db[TASKS].find_one({"assignee_id": "TM-1"}), message="A-1 allocated")
        for who in (svc.as_person("P-ADMIN", roles=["administrator"]), svc.as_person("TM-1")):
            body = _problem(await svc.http.post(RUNS, json={"as_of": "2027-01-05"}, headers=who), 404)
            assert body["type"].endswith("/scheduler-as-of-disabled") and "SCHEDULER_AS_OF_ENABLED" in body["detail"]
        assert await svc.db[REMINDERS].count_documents({}) == 0
        assert date.fromisoformat((await svc.db[TASKS].find_one({"assignee_id": "TM-1"}) or {})["next_reminder_on"]) == date(2027, 1, 5)

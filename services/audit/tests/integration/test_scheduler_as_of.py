"""``POST /v1/scheduler/runs``: the scheduler's whole pass (due draws, observation reminders,
improvement actions due, inadequate practice escalations, Hampshire ready lists) as of a day an
administrator names, the same pass the background loop runs, each thing sent once however often
it runs; refused to anyone else (403), for a day that is not one (422), and where the setting is
off (404)."""

from __future__ import annotations

from typing import Any

from audit.common.directory import PersonChanged, project_person
from audit.main import create_app
from audit.practice import events as pe
from audit.practice import store as practice_store

from devstack.testing import EventCapture, running_service
from devstack.testing import problem as _problem

from .conftest import clock, seed_directory

RUNS = "/v1/scheduler/runs"
JOBS = ["draws", "observation-reminders", "improvement-actions-due", "inadequate-practice-escalations", "hampshire-ready-lists", "multi-agency-retention"]


async def _seed(db: Any) -> None:
    await seed_directory(db)
    for sw in ("P-SW1", "P-SW2"):
        await project_person(db, PersonChanged(person_id=sw, version=1, roles=["social_worker"], team_id="T-CP", line_manager_id="P-TM3"))


async def test_an_administrator_runs_the_pass_as_of_a_day_and_each_reminder_goes_once(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await _seed(svc.db)
        http = svc.http
        admin, qa = svc.as_person("P-ADMIN", roles=["administrator"]), svc.as_person("P-QA", roles=["qa_officer"])

        # Refused, and nothing ran (a pass would have started counting the social workers).
        assert _problem(await http.post(RUNS, json={"as_of": "2026-10-01"}, headers=qa), 403)["type"].endswith("/forbidden")
        for body in ({"as_of": "2026-02-30"}, {"as_of": "next week"}, {"as_of": "2026-10-01T09:00:00"}, {"as_of": "1999-12-31"},
                     {"as_of": "0000-01-01"}, {"as_of": 20261001}, {}, {"as_of": "2026-10-01", "jobs": ["draws"]}):
            _problem(await http.post(RUNS, json=body, headers=admin), 422)
        assert await svc.db[practice_store.OBSERVATION_SCHEDULES].count_documents({}) == 0

        async def run(as_of: str) -> dict[str, Any]:
            response = await http.post(RUNS, json={"as_of": as_of}, headers=admin)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            assert [j["job"] for j in body["jobs"]] == JOBS and {j["status"] for j in body["jobs"]} == {"ran"}, body
            return body

        def counts(body: dict[str, Any]) -> dict[str, int]:
            return {j["job"]: j["count"] for j in body["jobs"] if j["count"]}

        # The social workers are counted from the first pass (1 October 2026): never observed, each
        # is due on 1 April 2027 and reminded ten working days before, on 16 March (over Easter).
        assert counts(await run("2026-10-01")) == {}
        assert counts(await run("2027-03-15")) == {}
        reminded = await run("2027-03-16T09:00:00Z")
        assert reminded["as_of"] == "2027-03-16" and counts(reminded) == {"observation-reminders": 2}
        assert counts(await run("2027-03-16")) == {}  # the same day again
        assert counts(await run("2027-03-17T00:30:00+01:00")) == {}  # 16 March 23:30 in England: the same day
        due = await capture.wait_for(pe.OBSERVATION_DUE.type, 2)
        await capture.flushed(svc.db)  # every event written has arrived: a third would be here
        assert len(capture.of_type(pe.OBSERVATION_DUE.type)) == 2
        assert sorted((e.data["social_worker_id"], e.data["due_on"], e.data["remind_on"]) for e in due) == [
            ("P-SW1", "2027-04-01", "2027-03-16"), ("P-SW2", "2027-04-01", "2027-03-16"),
        ]


async def test_running_the_pass_as_of_a_day_is_refused_where_the_setting_is_off(service_env, monkeypatch) -> None:
    monkeypatch.setenv("SCHEDULER_AS_OF_ENABLED", "false")
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await _seed(svc.db)
        for who in (svc.as_person("P-ADMIN", roles=["administrator"]), svc.as_person("P-QA", roles=["qa_officer"])):
            body = _problem(await svc.http.post(RUNS, json={"as_of": "2027-03-16"}, headers=who), 404)
            assert body["type"].endswith("/scheduler-as-of-disabled") and "SCHEDULER_AS_OF_ENABLED" in body["detail"]
        assert await svc.db[practice_store.OBSERVATION_SCHEDULES].count_documents({}) == 0

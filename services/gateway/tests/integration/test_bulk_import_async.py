"""The directory's bulk import answered at once (``Prefer: respond-async``) and written by the runner:
progress is committed with each batch, so an interrupted import is finished by another runner
with every record written once and each event published once."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from gateway.directory import jobs
from gateway.directory.jobs import ImportRunner
from gateway.directory.store import HISTORY

from devstack.testing import EventCapture, eventually

from ..conftest import INTEGRATION, RunningGateway, case_row, case_rows_three_bad, serve_gateway, social_worker_seen

CASE_CHANGED = "directory.case.changed.v1"
ASYNC = {"Prefer": "respond-async"}



async def _finished(gw: RunningGateway, location: str, headers: dict[str, str]) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        resp = await gw.http.get(location, headers=headers)
        assert resp.status_code == 200, resp.text
        return resp.json() if resp.json()["status"] != "running" else None

    return dict(await eventually(done, timeout=60, message="the import finished"))


async def test_an_async_import_answers_202_at_once_then_writes_every_good_row_with_one_event_each(service_env, capture: EventCapture) -> None:
    rows = case_rows_three_bad()
    async with serve_gateway(import_batch_size=100) as gw:
        writer = await gw.as_person(INTEGRATION)
        resp = await gw.http.post("/api/v1/directory/cases:import", json=rows, headers={**writer, **ASYNC})
        assert resp.status_code == 202, resp.text
        assert resp.headers["preference-applied"] == "respond-async"
        location = resp.headers["location"]
        accepted = resp.json()
        assert location == f"/api/v1/directory/imports/{accepted['id']}"
        assert accepted | {"id": None, "rejections": None, "created_at": None} == {
            "id": None, "kind": "case", "status": "running", "reason": None, "requested_by": INTEGRATION,
            "received": 450, "accepted": 447, "rejected": 3, "created": 0, "updated": 0, "unchanged": 0,
            "batches_done": 0, "batches_total": 5, "created_at": None, "finished_at": None, "rejections": None, "sync": None,
        }
        assert [(r["row"], r["id"], r["errors"][0]["field"]) for r in accepted["rejections"]] == [(11, "C-00010", "case_type"), (201, None, "id"), (450, "C-00000", "id")]
        # Stored with its job, the rejections are kept; only the rows to write expire.
        stored_rejections = await gw.runtime.db[jobs.REJECTIONS].find({"job_id": accepted["id"]}).to_list()
        assert stored_rejections and all("expires_at" not in d for d in stored_rejections)
        assert all("expires_at" in d for d in await gw.runtime.db[jobs.ROWS].find({"job_id": accepted["id"]}).to_list())

        report = await _finished(gw, location, writer)
        assert (report["status"], report["created"], report["updated"], report["unchanged"]) == ("completed", 447, 0, 0)
        assert (report["batches_done"], report["batches_total"], report["rejections"]) == (5, 5, accepted["rejections"])
        assert report["created_at"] == accepted["created_at"] and report["finished_at"] >= report["created_at"]

        await capture.wait_for(CASE_CHANGED, 447, timeout=60)
        await capture.flushed(gw.runtime.db)  # every event written has arrived: an extra one would be here
        events = capture.of_type(CASE_CHANGED)
        assert len(events) == 447 and len({e.subject for e in events}) == 447
        assert "child_name" not in events[0].data
        kept = await gw.http.get("/api/v1/directory/cases/C-00448", headers=writer)
        assert kept.status_code == 200 and kept.json()["version"] == 1 and kept.json()["updated_by"] == INTEGRATION
        assert (await gw.http.get("/api/v1/directory/cases/C-00010", headers=writer)).status_code == 404

        # The same file again, asynchronously: every row unchanged, no event.
        again = await gw.http.post("/api/v1/directory/cases:import", json=rows, headers={**writer, **ASYNC})
        assert again.status_code == 202
        second = await _finished(gw, again.headers["location"], writer)
        assert (second["status"], second["created"], second["updated"], second["unchanged"]) == ("completed", 0, 0, 447)
        await capture.flushed(gw.runtime.db)  # every event written has arrived: an extra one would be here
        assert len(capture.of_type(CASE_CHANGED)) == 447

        listed = (await gw.http.get("/api/v1/directory/imports", params={"limit": 1}, headers=writer)).json()
        assert [j["id"] for j in listed["items"]] == [second["id"]] and "rejections" not in listed["items"][0]
        older = (await gw.http.get("/api/v1/directory/imports", params={"limit": 1, "cursor": listed["next"]}, headers=writer)).json()
        assert [j["id"] for j in older["items"]] == [report["id"]] and older["next"] is None


async def test_an_async_import_of_people_takes_effect_for_who_they_are_once_finished(service_env) -> None:
    async with serve_gateway(identity_cache_s=300) as gw:
        p1 = await social_worker_seen(gw)
        out = io.StringIO()
        csv.writer(out).writerows([["id", "name", "email", "roles", "team_id"], ["P-1", "Person P-1", "p-1@council.example", "social_worker;auditor", "T-1"]])
        writer = await gw.as_person(INTEGRATION)
        resp = await gw.http.post(
            "/api/v1/directory/people:import", content=out.getvalue().encode(), headers={**writer, **ASYNC, "Content-Type": "text/csv"}
        )
        assert resp.status_code == 202, resp.text
        report = await _finished(gw, resp.headers["location"], writer)
        assert (report["kind"], report["status"], report["updated"]) == ("person", "completed", 1)
        assert (await gw.http.get("/api/v1/me", headers=p1)).json()["roles"] == ["auditor", "social_worker"]


async def test_bad_input_and_non_writers_get_the_synchronous_answers_and_no_job_is_stored(service_env, capture: EventCapture) -> None:
    async with serve_gateway() as gw:
        await gw.add_person("P-1", roles=["team_manager"])
        manager = {**await gw.as_person("P-1"), **ASYNC}
        writer = await gw.as_person(INTEGRATION)
        refused = await gw.http.post("/api/v1/directory/cases:import", json=[case_row(1)], headers=manager)
        assert refused.status_code == 403 and refused.json()["type"].endswith("forbidden")
        unreadable = await gw.http.post("/api/v1/directory/cases:import", json={"cases": [case_row(1)]}, headers={**writer, **ASYNC})
        assert unreadable.status_code == 400 and unreadable.headers["content-type"] == "application/problem+json"
        assert unreadable.json()["type"].endswith("unreadable-import")
        wrong_type = await gw.http.post("/api/v1/directory/cases:import", content=b"<cases/>", headers={**writer, **ASYNC, "Content-Type": "application/xml"})
        assert wrong_type.status_code == 415
        assert "location" not in refused.headers and "location" not in unreadable.headers and "location" not in wrong_type.headers
        assert (await gw.http.get("/api/v1/directory/imports", headers=writer)).json()["items"] == []
        for collection in (jobs.JOBS, jobs.ROWS, jobs.REJECTIONS):
            assert await gw.runtime.db[collection].count_documents({}) == 0, collection

        # A stored job's report is the directory writers' to read; an unknown id is 404.
        stored = await gw.http.post("/api/v1/directory/cases:import", json=[case_row(1)], headers={**writer, **ASYNC})
        assert stored.status_code == 202
        assert (await gw.http.get(stored.headers["location"], headers=manager)).status_code == 403
        assert (await gw.http.get("/api/v1/directory/imports", headers=manager)).status_code == 403
        unknown = await gw.http.get("/api/v1/directory/imports/0123456789abcdef0123456789abcdef", headers=writer)
        assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
        await _finished(gw, stored.headers["location"], writer)
        await capture.flushed(gw.runtime.db)  # every event written has arrived: an extra one would be here
    assert len(capture.of_type(CASE_CHANGED)) == 1


async def test_an_import_interrupted_after_its_first_batch_is_finished_by_another_runner_each_record_and_event_once(service_env, capture: EventCapture) -> None:
    rows = [case_row(i) for i in range(350)]
    async with serve_gateway(import_batch_size=100, import_runner_enabled=False) as gw:
        writer = await gw.as_person(INTEGRATION)
        resp = await gw.http.post("/api/v1/directory/cases:import", json=rows, headers={**writer, **ASYNC})
        assert resp.status_code == 202 and resp.json()["batches_total"] == 4
        job_id = resp.json()["id"]
        db = gw.runtime.db

        # Replica A writes the first batch, then is killed: its claim is never given back.
        a = ImportRunner(gw.runtime.uow, claim_s=30, poll_interval_s=1)
        job = await a.claim()
        assert job is not None and job["_id"] == job_id
        assert await ImportRunner(gw.runtime.uow, claim_s=30, poll_interval_s=1).claim() is None  # held: no one else takes it
        job = await a.write_next_batch(job)
        assert job is not None and job["batches_done"] == 1
        report = (await gw.http.get(resp.headers["location"], headers=writer)).json()
        assert (report["status"], report["batches_done"], report["created"]) == ("running", 1, 100)

        # Its lease lapses (as IMPORT_CLAIM_S after the crash) and replica B takes the job over.
        await db[jobs.JOBS].update_one({"_id": job_id}, {"$set": {"lease_until": job["created_at"]}})
        b = ImportRunner(gw.runtime.uow, claim_s=30, poll_interval_s=1)
        taken = await b.claim()
        assert taken is not None and taken["batches_done"] == 1 and taken["claim"] != job["claim"]
        # A, come back to life, writes nothing more: its batch and progress are refused together.
        assert await a.write_next_batch(job) is None
        assert await db["cases"].count_documents({}) == 100
        assert (await db[jobs.JOBS].find_one({"_id": job_id}))["batches_done"] == 1
        # B writes one more batch and is killed too.
        written = await b.write_next_batch(taken)
        assert written is not None and written["batches_done"] == 2
        await db[jobs.JOBS].update_one({"_id": job_id}, {"$set": {"lease_until": job["created_at"]}})

    # A gateway started later (any replica) finds the orphaned job and finishes it.
    async with serve_gateway(import_batch_size=100) as gw:
        report = await _finished(gw, resp.headers["location"], await gw.as_person(INTEGRATION))
        assert (report["status"], report["batches_done"], report["created"], report["updated"], report["unchanged"]) == ("completed", 4, 350, 0, 0)
        db = gw.runtime.db
        assert await db["cases"].count_documents({}) == 350
        assert await db["cases"].count_documents({"version": {"$ne": 1}}) == 0
        assert await db[HISTORY].count_documents({"kind": "case"}) == 350
        rows_left = await db[jobs.ROWS].find({"job_id": job_id}).to_list()
        # The rows may go 7 days after the job finished; the report stays.
        expiry = datetime.fromisoformat(report["finished_at"]) + timedelta(days=7)
        assert len(rows_left) == 4 and all(abs(r["expires_at"] - expiry) < timedelta(seconds=1) for r in rows_left)
        await capture.wait_for(CASE_CHANGED, 350, timeout=60)
        await capture.flushed(gw.runtime.db)  # every event written has arrived: an extra one would be here
        events = capture.of_type(CASE_CHANGED)
        assert len(events) == 350 and len({e.subject for e in events}) == 350


async def test_a_job_whose_rows_are_gone_fails_with_the_reason_and_keeps_what_was_written(service_env) -> None:
    async with serve_gateway(import_batch_size=2, import_runner_enabled=False) as gw:
        writer = await gw.as_person(INTEGRATION)
        resp = await gw.http.post("/api/v1/directory/cases:import", json=[case_row(i) for i in range(4)], headers={**writer, **ASYNC})
        job_id = resp.json()["id"]
        runner = ImportRunner(gw.runtime.uow, claim_s=30, poll_interval_s=1)
        job = await runner.claim()
        job = await runner.write_next_batch(job)
        await gw.runtime.db[jobs.ROWS].delete_one({"_id": f"{job_id}:1"})
        assert await runner.write_next_batch(job) is None
        report = (await gw.http.get(resp.headers["location"], headers=writer)).json()
        assert (report["status"], report["batches_done"], report["created"]) == ("failed", 1, 2)
        assert "no longer stored" in report["reason"] and report["finished_at"] is not None
        assert (await gw.http.get("/api/v1/directory/cases/C-00001", headers=writer)).status_code == 200
        assert await runner.claim() is None  # a failed job is not taken again

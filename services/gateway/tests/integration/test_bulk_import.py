"""The directory's bulk import: good rows kept (with history and one event each), bad rows reported."""

from __future__ import annotations

import csv
import io

from devstack.testing import EventCapture

from ..conftest import INTEGRATION, case_row, case_rows_three_bad, serve_gateway, social_worker_seen

CASE_CHANGED = "directory.case.changed.v1"



async def test_a_json_import_keeps_good_rows_reports_bad_ones_and_publishes_one_event_per_record(service_env, capture: EventCapture) -> None:
    rows = case_rows_three_bad()
    async with serve_gateway(import_batch_size=100) as gw:
        writer = await gw.as_person(INTEGRATION)
        resp = await gw.http.post("/api/v1/directory/cases:import", json=rows, headers=writer)
        assert resp.status_code == 200, resp.text
        report = resp.json()
        assert report | {"rejections": None, "sync": None} == {
            "kind": "case", "received": 450, "accepted": 447, "created": 447, "updated": 0, "unchanged": 0, "rejected": 3, "rejections": None,
            "sync": None,
        }
        # No service runs here, so none has applied the 447 changes (numbered 1 to 447) yet.
        assert report["sync"] == {
            "kind": "case", "through": 447, "applied": {"signoff": False, "resolution": False, "audit": False}, "synced": False,
            "href": "/api/v1/directory/sync?kind=case&through=447",
        }
        assert [(r["row"], r["id"], r["errors"][0]["field"]) for r in report["rejections"]] == [(11, "C-00010", "case_type"), (201, None, "id"), (450, "C-00000", "id")]

        events = await capture.wait_for(CASE_CHANGED, 447, timeout=60)
        await capture.flushed(gw.runtime.db)  # every event written has arrived: an extra one would be here
        assert len(capture.of_type(CASE_CHANGED)) == 447
        first = next(e for e in events if e.subject == "case/C-00001")
        assert first.source == "/qa/gateway"
        assert first.data["version"] == 1 and first.data["case_type"] == "CIN" and first.data["allocated_worker_id"] == "P-1"
        assert "child_name" not in first.data
        assert (await gw.http.get("/api/v1/directory/cases/C-00010", headers=writer)).status_code == 404
        kept = await gw.http.get("/api/v1/directory/cases/C-00448", headers=writer)
        assert kept.status_code == 200 and kept.json()["version"] == 1 and kept.json()["updated_by"] == INTEGRATION

        # The same file again changes nothing; a changed row makes one new version with history.
        again = await gw.http.post("/api/v1/directory/cases:import", json=rows, headers=writer)
        assert again.json()["unchanged"] == 447 and again.json()["created"] == again.json()["updated"] == 0
        changed = [case_row(5, status="closed", closed_on="2026-03-01"), case_row(6), case_row(9999)]
        third = (await gw.http.post("/api/v1/directory/cases:import", json=changed, headers=writer)).json()
        assert (third["created"], third["updated"], third["unchanged"]) == (1, 1, 1)
        await capture.wait_for(CASE_CHANGED, 449, timeout=30)
        await capture.flushed(gw.runtime.db)  # every event written has arrived: an extra one would be here
        assert len(capture.of_type(CASE_CHANGED)) == 449
        history = (await gw.http.get("/api/v1/directory/cases/C-00005/history", headers=writer)).json()
        assert [(h["version"], h["data"]["status"]) for h in history] == [(1, "open"), (2, "closed")]


async def test_a_csv_import_of_people_takes_effect_for_who_they_are_at_once(service_env) -> None:
    async with serve_gateway(identity_cache_s=300) as gw:
        p1 = await social_worker_seen(gw)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "name", "email", "roles", "team_id", "line_manager_id"])
        writer.writerow(["P-1", "Person P-1", "p-1@council.example", "social_worker;auditor", "T-1", ""])
        writer.writerow(["P-2", "Bea Example", "bea@council.example", "team_manager", "T-1", ""])
        writer.writerow(["P-3", "", "c@council.example", "team_manager", "T-1", ""])
        resp = await gw.http.post(
            "/api/v1/directory/people:import", content=out.getvalue().encode(), headers={**await gw.as_person(INTEGRATION), "Content-Type": "text/csv"}
        )
        assert resp.status_code == 200, resp.text
        report = resp.json()
        assert (report["created"], report["updated"], report["rejected"]) == (1, 1, 1)
        assert report["rejections"][0] == {"row": 3, "id": "P-3", "errors": [{"field": "name", "message": "Field required"}]}
        assert (await gw.http.get("/api/v1/me", headers=p1)).json()["roles"] == ["auditor", "social_worker"]


async def test_only_the_directorys_writers_may_import_and_an_unreadable_file_changes_nothing(service_env, capture: EventCapture) -> None:
    async with serve_gateway() as gw:
        await gw.add_person("P-1", roles=["team_manager"])
        refused = await gw.http.post("/api/v1/directory/cases:import", json=[case_row(1)], headers=await gw.as_person("P-1"))
        assert refused.status_code == 403
        writer = await gw.as_person(INTEGRATION)
        unreadable = await gw.http.post("/api/v1/directory/cases:import", json={"cases": [case_row(1)]}, headers=writer)
        assert unreadable.status_code == 400 and unreadable.headers["content-type"] == "application/problem+json"
        wrong_type = await gw.http.post("/api/v1/directory/cases:import", content=b"<cases/>", headers={**writer, "Content-Type": "application/xml"})
        assert wrong_type.status_code == 415
        assert (await gw.http.get("/api/v1/directory/cases", headers=writer)).json()["items"] == []
        await capture.flushed(gw.runtime.db)  # every event written has arrived
    assert capture.of_type(CASE_CHANGED) == []

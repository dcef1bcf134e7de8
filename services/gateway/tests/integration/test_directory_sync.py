"""The directory sync signal, the gateway's side: every directory change is numbered per kind,
and an import (synchronous or not) and ``GET /api/v1/directory/sync`` say which services have
applied it, from the services' ``<service>.directory.applied.v1`` reports."""

from __future__ import annotations

from gateway.directory.sync import APPLIED_TYPES
from shared.directory_sync import DirectoryApplied

from devstack.testing import EventCapture, eventually, publish

from ..conftest import INTEGRATION, serve_gateway

PERSON_CHANGED = "directory.person.changed.v1"


def _person(i: int, **overrides: object) -> dict[str, object]:
    return {"id": f"P-{i}", "name": f"Person {i}", "email": f"p{i}@council.example", "roles": ["social_worker"], "team_id": "T-1", **overrides}


async def test_an_import_says_which_services_have_applied_it_until_all_have(service_env, capture: EventCapture) -> None:
    async with serve_gateway() as gw:
        writer = await gw.as_person(INTEGRATION)
        resp = await gw.http.post("/api/v1/directory/people:import", json=[_person(i) for i in range(1, 4)], headers=writer)
        assert resp.status_code == 200, resp.text
        sync = resp.json()["sync"]
        assert sync == {
            "kind": "person", "through": 3, "synced": False, "href": "/api/v1/directory/sync?kind=person&through=3",
            "applied": {"signoff": False, "resolution": False, "audit": False, "notify": False},
        }
        events = await capture.wait_for(PERSON_CHANGED, 3)
        assert sorted(e.data["sequence"] for e in events) == [1, 2, 3]

        # The services report; the gateway keeps each one's highest.
        for service, through in (("signoff", 3), ("resolution", 2), ("audit", 3), ("notify", 3), ("audit", 1)):
            await publish(gw, APPLIED_TYPES[service], DirectoryApplied(kind="person", through=through))

        async def status(through: int) -> dict[str, object]:
            resp = await gw.http.get(f"/api/v1/directory/sync?kind=person&through={through}", headers=writer)
            assert resp.status_code == 200, resp.text
            return dict(resp.json())

        async def reported() -> bool:
            return (await status(3))["applied"] == {"signoff": True, "resolution": False, "audit": True, "notify": True}

        await eventually(reported, message="the reports reached the gateway")
        assert (await status(2))["synced"] is True
        await publish(gw, APPLIED_TYPES["resolution"], DirectoryApplied(kind="person", through=3))

        async def synced() -> bool:
            return (await gw.http.get(sync["href"], headers=writer)).json()["synced"] is True

        await eventually(synced, message="every service has applied the import")
        # Without ``through``: the directory's last change so far. Teams: none yet, so nothing to wait for.
        assert (await gw.http.get("/api/v1/directory/sync?kind=person", headers=writer)).json()["through"] == 3
        teams = (await gw.http.get("/api/v1/directory/sync?kind=team", headers=writer)).json()
        assert teams == {"kind": "team", "through": 0, "synced": True, "applied": {"signoff": True, "audit": True}, "href": "/api/v1/directory/sync?kind=team&through=0"}
        ahead = await gw.http.get("/api/v1/directory/sync?kind=person&through=4", headers=writer)
        assert ahead.status_code == 422 and ahead.headers["content-type"] == "application/problem+json"
        assert (await gw.http.get("/api/v1/directory/sync?kind=room", headers=writer)).status_code == 422

        # One record at a time is numbered too; an unchanged record takes no number.
        renamed = {k: v for k, v in _person(1, name="Renamed").items() if k != "id"}
        assert (await gw.http.put("/api/v1/directory/people/P-1", json=renamed, headers=writer)).status_code == 200
        again = await gw.http.post("/api/v1/directory/people:import", json=[_person(2)], headers=writer)
        assert again.json()["unchanged"] == 1 and again.json()["sync"]["through"] == 4

        # The asynchronous import: its job reports the sync once completed.
        accepted = await gw.http.post(
            "/api/v1/directory/people:import", json=[_person(5), _person(2, roles=["team_manager"])], headers={**writer, "Prefer": "respond-async"},
        )
        assert accepted.status_code == 202 and accepted.json()["sync"] is None

        async def completed() -> dict[str, object] | None:
            job = (await gw.http.get(accepted.headers["location"], headers=writer)).json()
            return dict(job) if job["status"] == "completed" else None

        job = await eventually(completed, message="the import job completed")
        assert job["sync"] == {
            "kind": "person", "through": 6, "synced": False, "href": "/api/v1/directory/sync?kind=person&through=6",
            "applied": {"signoff": False, "resolution": False, "audit": False, "notify": False},
        }
        events = await capture.wait_for(PERSON_CHANGED, 6)
        assert sorted(e.data["sequence"] for e in events) == [1, 2, 3, 4, 5, 6]

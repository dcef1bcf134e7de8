"""``resolution.case-contact.reported.v1`` applied to the directory's case (seed 001: the contact
entered on a form "will then feed back into the child's demographics")."""

from __future__ import annotations

from typing import Any

from gateway.directory.contact_reports import CASE_CONTACT_REPORTED, REPORTS

from devstack.testing import EventCapture, eventually, publish

from ..conftest import INTEGRATION, serve_gateway

CASE_CHANGED = "directory.case.changed.v1"


def _case(**overrides: Any) -> dict[str, Any]:
    return {"child_name": "A child", "case_type": "CIN", "team_id": "T-1", "opened_on": "2026-01-05", **overrides}


async def test_a_reported_contact_fills_the_empty_field_and_never_overwrites_the_import(
    service_env, capture: EventCapture
) -> None:
    async with serve_gateway() as gw:
        writer = await gw.as_person(INTEGRATION)
        await gw.add_person("TM-1", ["team_manager"])
        await gw.add_person("TM-2", ["team_manager"])
        await gw.add_person("SW-1", ["social_worker"])
        for case_id, body in (("C-1", _case()), ("C-2", _case(team_manager_id="TM-2"))):
            resp = await gw.http.put(f"/api/v1/directory/cases/{case_id}", json=body, headers=writer)
            assert resp.status_code in (200, 201), resp.text

        report = {
            "form_id": "res-1",
            "case_id": "C-1",
            "team_manager_id": "TM-1",
            "allocated_worker_id": "SW-1",
            "reported_by": "IRO-1",
            "reported_at": "2026-03-02T10:00:00Z",
        }
        sent = await publish(gw, CASE_CONTACT_REPORTED, report)

        async def case(case_id: str) -> dict[str, Any]:
            resp = await gw.http.get(f"/api/v1/directory/cases/{case_id}", headers=writer)
            assert resp.status_code == 200, resp.text
            return dict(resp.json())

        async def applied() -> dict[str, Any] | None:
            c = await case("C-1")
            return c if c["data"]["team_manager_id"] == "TM-1" else None

        got = await eventually(applied, message="the reported contacts reached the directory's case")
        assert got["data"]["allocated_worker_id"] == "SW-1" and got["version"] == 2
        history = (await gw.http.get("/api/v1/directory/cases/C-1/history", headers=writer)).json()
        assert [h["version"] for h in history] == [1, 2] and history[-1]["by"] == "IRO-1"
        stored = await gw.runtime.db["directory_history"].find_one({"record_id": "C-1", "version": 2})
        assert (stored["source"], stored["form_id"]) == ("resolution-form", "res-1")
        events = [e for e in await capture.wait_for(CASE_CHANGED, 3) if e.data["case_id"] == "C-1"]
        assert events[-1].data["team_manager_id"] == "TM-1" and events[-1].data["version"] == 2

        # The import named someone else since the form was raised: kept, not applied.
        other = await publish(gw, CASE_CONTACT_REPORTED, {**report, "case_id": "C-2", "allocated_worker_id": None})
        # Unknown person and a role that does not fit: refused, nothing changed.
        odd = await publish(
            gw, CASE_CONTACT_REPORTED, {**report, "case_id": "C-2", "team_manager_id": None, "allocated_worker_id": "TM-1"}
        )

        async def recorded(event_id: str) -> dict[str, Any] | None:
            return await gw.runtime.db[REPORTS].find_one({"_id": event_id})

        kept = await eventually(lambda: recorded(other.id), message="the report on C-2 was kept")
        assert kept["applied"] == {} and kept["refused"] == {"team_manager_id": "directory-names-another"}
        refused = await eventually(lambda: recorded(odd.id), message="the odd report was kept")
        assert refused["refused"] == {"allocated_worker_id": "role-does-not-fit"}
        assert (await case("C-2"))["version"] == 1 and (await case("C-2"))["data"]["team_manager_id"] == "TM-2"
        first = await recorded(sent.id)
        assert first is not None and first["applied"] == {"team_manager_id": "TM-1", "allocated_worker_id": "SW-1"}

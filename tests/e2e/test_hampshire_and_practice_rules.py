"""Hampshire's 10.5 end to end, through the gateway, with the services as real processes: a worker
and their team manager prepare a file listing evidence for every standard; the service manager
selects it and judges a standard not met; completing the audit raises it with the team manager,
whose work tray gets the task (seed 003, 10.5: "the auditor must raise this with the team/unit
manager"); recording the outcome closes the task."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from devstack.testing import eventually

pytestmark = pytest.mark.e2e


def _preparation() -> dict[str, Any]:
    standards: dict[str, Any] = {
        f"standard_{n:02d}": {"evidence": [{"what": "Assessment", "when": "14/06/2026", "where": "SWIFT"}]} for n in range(1, 14)
    }
    standards["standard_14"] = {"not_applicable": True}
    return {"standards": standards, "comments": "Prepared in supervision."}


def _judgements() -> dict[str, Any]:
    values = {f"standard_{n:02d}": {"value": "yes"} for n in range(1, 14)}
    values["standard_03"] = {"value": "no", "comment": "The risk to the public is not assessed."}
    values["standard_14"] = {"value": "n/a"}
    return {"judgements": values, "comments": "Risk assessment to be completed."}


async def _tasks(gateway: Any, headers: dict[str, str], status: str | None = None) -> list[dict[str, Any]]:
    params = {"kind": "standard_disagreement", **({"status": status} if status else {})}
    resp = await gateway.http.get("/api/v1/notify/tasks", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return [t for t in resp.json()["items"] if "prepared file" in t["subject"]]


async def test_a_standard_judged_not_met_reaches_the_team_managers_tray_until_the_outcome_is_recorded(gateway) -> None:
    n = uuid.uuid4().hex[:6].upper()
    ids = {role: f"HD{n}-{role}" for role in ("SM", "TM", "SW")}
    team, case = f"T-HD{n}", f"C-HD{n}"
    writer = await gateway.as_integration()
    people = {
        "SM": (["service_manager"], None, None),
        "TM": (["team_manager"], "SM", team),
        "SW": (["social_worker"], "TM", team),
    }
    for key, (roles, manager, team_id) in people.items():
        body = {
            "name": f"Person {key} {n}",
            "email": f"{ids[key].lower()}@council.example",
            "roles": roles,
            "team_id": team_id,
            "line_manager_id": ids[manager] if manager else None,
        }
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/teams/{team}",
        json={"name": "Hampshire North", "district": "North", "area": "Hampshire", "service": "CSC", "manager_id": ids["TM"]},
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/cases/{case}",
        json={
            "child_name": "Test Child",
            "case_type": "CIN",
            "team_id": team,
            "allocated_worker_id": ids["SW"],
            "team_manager_id": ids["TM"],
            "opened_on": "2026-03-02",
        },
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}
    month = "2026-10"

    # The worker starts the month's file once the audit service has the case and the people.
    async def started() -> dict[str, Any] | None:
        resp = await gateway.http.post("/api/v1/audit/hampshire/files", json={"month": month, "case_id": case}, headers=as_["SW"])
        return {"body": resp.json(), "etag": resp.headers["etag"]} if resp.status_code == 201 else None

    created = await eventually(started, timeout=60, interval=0.5, message="the file started")
    url = f"/api/v1/audit/hampshire/files/{created['body']['id']}"
    saved = await gateway.http.put(f"{url}/preparation", json=_preparation(), headers={**as_["SW"], "If-Match": created["etag"]})
    assert saved.status_code == 200, saved.text
    ready = await gateway.http.post(f"{url}/ready", headers={**as_["TM"], "If-Match": saved.headers["etag"]})
    assert ready.status_code == 200, ready.text
    chosen = await gateway.http.post(
        f"/api/v1/audit/hampshire/months/{month}/selections", json={"file_ids": [created["body"]["id"]]}, headers=as_["SM"]
    )
    assert chosen.status_code == 200, chosen.text
    current = await gateway.http.get(url, headers=as_["SM"])
    judged = await gateway.http.put(
        f"{url}/judgements", json=_judgements(), headers={**as_["SM"], "If-Match": current.headers["etag"]}
    )
    assert judged.status_code == 200, judged.text
    done = await gateway.http.post(f"{url}/complete", headers={**as_["SM"], "If-Match": judged.headers["etag"]})
    assert done.status_code == 200 and done.json()["disagreement"]["team_manager_id"] == ids["TM"], done.text

    # The task in the team manager's tray, sent by the auditor; not in the worker's.
    async def in_tray() -> list[dict[str, Any]]:
        return await _tasks(gateway, as_["TM"], "open")

    [task] = await eventually(in_tray, timeout=60, interval=0.5, message="the disagreement task in the team manager's tray")
    assert created["body"]["id"] in task["subject"] and "standard 3" in task["subject"]
    assert not await _tasks(gateway, as_["SW"])

    # The team manager records the outcome (the worker may not); the task closes.
    body = {"outcome": "agreed", "notes": "A risk assessment covering the public will be added."}
    refused = await gateway.http.post(
        f"{url}/disagreement/outcome", json=body, headers={**as_["SW"], "If-Match": done.headers["etag"]}
    )
    assert refused.status_code == 403, refused.text
    settled = await gateway.http.post(
        f"{url}/disagreement/outcome", json=body, headers={**as_["TM"], "If-Match": done.headers["etag"]}
    )
    assert settled.status_code == 200 and settled.json()["disagreement"]["outcome"] == "agreed", settled.text

    async def closed() -> bool:
        return not await _tasks(gateway, as_["TM"], "open") and bool(await _tasks(gateway, as_["TM"], "done"))

    await eventually(closed, timeout=60, interval=0.5, message="the disagreement task closed by the outcome")
    [finished] = await _tasks(gateway, as_["TM"], "done")
    assert finished["id"] == task["id"]


async def test_the_directory_gives_the_roles_the_programmes_name_and_a_complaints_manager_keeps_the_log(gateway) -> None:
    """The practice mentor (seed 002, 5.2.5), the participation officer and the complaints manager
    (seed 002) and the performance management unit (seed 003, 12.2) are roles a person can be given
    in the directory, so the rules that name them reach real people."""
    n = uuid.uuid4().hex[:6].upper()
    writer = await gateway.as_integration()
    roles = ("practice_mentor", "participation_officer", "complaints_manager", "performance_management", "social_worker")
    for role in roles:
        body = {"name": f"Person {role} {n}", "email": f"{role}.{n.lower()}@council.example", "roles": [role]}
        resp = await gateway.http.put(f"/api/v1/directory/people/RL{n}-{role}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
        assert resp.json()["data"]["roles"] == [role]
    complaints_manager = await gateway.as_person(f"RL{n}-complaints_manager")
    assert (await gateway.http.get("/api/v1/me", headers=complaints_manager)).json()["roles"] == ["complaints_manager"]
    log = await gateway.http.get("/api/v1/audit/complaints-log", headers=complaints_manager)
    assert log.status_code == 200, log.text
    social_worker = await gateway.as_person(f"RL{n}-social_worker")
    assert (await gateway.http.get("/api/v1/audit/complaints-log", headers=social_worker)).status_code == 403

"""Seed 001 end to end, through the gateway: several escalation stages active at once ("either one
or more can be selected depending on how many levels of escalation are required"). The IRO
activates Stage 1 and Stage 2 together and delegates each section to its own responder; each lands
in that person's work tray (notify, from the usual ``resolution.section.delegated.v1``), and
finalising one closes only that person's task."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from devstack.stack import Stack
from devstack.testing import eventually

pytestmark = pytest.mark.e2e

FORMS = "/api/v1/resolution/forms"


async def test_two_stages_active_at_once_each_delegated_to_its_own_responder(gateway, system: Stack) -> None:
    n = uuid.uuid4().hex[:6].upper()
    roles = {"IRO": ["iro"], "TM": ["team_manager"], "HOS": ["head_of_service"], "SW": ["social_worker"], "ADM": ["administrator"]}
    ids = {key: f"RG{n}-{key}" for key in roles}
    team, case_id = f"T-RG{n}", f"C-RG{n}-1"
    writer = await gateway.as_integration()
    for key, person_roles in roles.items():
        body = {"name": f"Person {key} {n}", "email": f"{ids[key].lower()}@council.example", "roles": person_roles, "team_id": team}
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/cases/{case_id}",
        json={"child_name": "Child Stages Test", "case_type": "CP", "team_id": team, "opened_on": "2026-01-05",
              "team_manager_id": ids["TM"], "allocated_worker_id": ids["SW"]},
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}
    theme = await gateway.http.post("/api/v1/resolution/themes", json={"name": f"Contact {n}"}, headers=as_["ADM"])
    assert theme.status_code == 201, theme.text
    body = {"case_id": case_id, "concerns": [{"theme_id": theme.json()["id"], "detail": "Contact plan not followed."}]}

    async def raised() -> Any:  # once resolution has the case and the people (directory events)
        resp = await gateway.http.post(FORMS, json=body, headers={**as_["IRO"], "Idempotency-Key": f"rg-{n}"})
        return resp if resp.status_code == 201 else None

    form = (await eventually(raised, timeout=60, interval=0.5, message="the IRO's resolution raised")).json()
    fid, version = form["id"], form["version"]

    async def act(method: str, path: str, who: str, json: Any = None) -> dict[str, Any]:
        nonlocal version
        resp = await gateway.http.request(method, f"{FORMS}/{fid}{path}", json=json, headers={**as_[who], "If-Match": f'"{version}"'})
        assert resp.status_code == 200, resp.text
        version = resp.json()["version"]
        return dict(resp.json())

    denied = await gateway.http.post(f"{FORMS}/{fid}/stages", json={"stages": ["stage-1"]}, headers={**as_["SW"], "If-Match": f'"{version}"'})
    assert denied.status_code == 403 and denied.headers["content-type"].startswith("application/problem+json")
    activated = await act("POST", "/stages", "IRO", {"stages": ["stage-1", "stage-2"]})
    assert activated["active_stages"] == ["informal", "stage-1", "stage-2"]
    again = await gateway.http.post(f"{FORMS}/{fid}/stages", json={"stages": ["stage-2"]}, headers={**as_["IRO"], "If-Match": f'"{version}"'})
    assert again.status_code == 409 and again.json()["type"].endswith("/stage-already-active")

    await act("POST", "/stages/stage-1/section/delegation", "IRO", {"delegate_id": ids["TM"]})
    await act("POST", "/stages/stage-2/section/delegation", "IRO", {"delegate_id": ids["HOS"]})

    async def task_of(who: str, stage: str) -> dict[str, Any] | None:
        resp = await gateway.http.get("/api/v1/notify/tasks", params={"kind": "section_delegated"}, headers=as_[who])
        found = [t for t in resp.json()["items"] if t["context"].get("form_id") == fid and t["context"].get("stage") == stage]
        return found[0] if found else None

    tm_task = await eventually(lambda: task_of("TM", "stage-1"), timeout=60, interval=0.5, message="stage 1 in the team manager's tray")
    hos_task = await eventually(lambda: task_of("HOS", "stage-2"), timeout=60, interval=0.5, message="stage 2 in the head of service's tray")

    await act("PUT", "/stages/stage-1/section", "TM", {"response": "Contact plan reviewed with the family."})
    await act("POST", "/stages/stage-1/section/finalise", "TM")

    async def tm_done() -> dict[str, Any] | None:
        shown = (await gateway.http.get(f"/api/v1/notify/tasks/{tm_task['id']}", headers=as_["TM"])).json()
        return shown if shown["status"] == "done" else None

    await eventually(tm_done, timeout=60, interval=0.5, message="the team manager's task done")
    shown = (await gateway.http.get(f"/api/v1/notify/tasks/{hos_task['id']}", headers=as_["HOS"])).json()
    assert shown["status"] == "open"  # the other stage's task goes on by itself
    resolved = await act("PUT", "/stages/stage-1/resolution", "IRO", {"resolved": True, "impact": "Contact restarted"})
    assert resolved["status"] == "escalated" and resolved["active_stages"] == ["informal", "stage-2"]

"""Seed 000's duty admin officer end to end, through the gateway, with the services as real
processes: the admin officer completes an Initial Assessment and work-flows it to the duty senior
(a task in the duty senior's work tray, in notify), cannot sign it, the duty senior applies the
first and second signature (the task closes), the admin officer clones it to the sibling (the
index child's case note goes out on the bus by identifiers only, as an integrator would see it),
work-flows the clone to the duty senior who signs it too, and opens the signed-off index
exemplar as Version 2 when a mistake is found."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from devstack.testing import EventCapture, Infrastructure, eventually

pytestmark = pytest.mark.e2e

NOTE = "signoff.index-child-case-note.added.v1"
SIGNOFF = "/api/v1/signoff/exemplars"
DUE = (date.today() + timedelta(days=5)).isoformat()
CHILD_NAMES = ("Index Child Seedrule", "Sibling Child Seedrule")


def _answers() -> dict[str, Any]:
    return {
        "date_commenced": date.today().isoformat(),
        "child_seen": True,
        "analysis": "As the duty senior advised.",
        "further_action": "Strategy discussion",
    }


async def _tasks(gateway: Any, headers: dict[str, str], status: str) -> list[dict[str, Any]]:
    resp = await gateway.http.get("/api/v1/notify/tasks", params={"kind": "workflow_message", "status": status}, headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


async def _post(gateway: Any, path: str, headers: dict[str, str], body: dict[str, Any], etag: str | None = None) -> Any:
    return await gateway.http.post(path, json=body, headers={**headers, **({"If-Match": etag} if etag else {})})


async def test_the_admin_officer_completes_clones_and_work_flows_and_the_duty_senior_signs_both(
    gateway, system: Stack, infrastructure: Infrastructure
) -> None:
    n = uuid.uuid4().hex[:6].upper()
    ids = {key: f"SO{n}-{key}" for key in ("AO", "DS", "SW", "TM")}
    team, index_case, sibling_case = f"T-SO{n}", f"C-SO{n}-1", f"C-SO{n}-2"
    writer = await gateway.as_integration()
    people = {
        "TM": (["team_manager"], None),
        "DS": (["duty_senior", "senior_practitioner"], "TM"),
        "SW": (["social_worker"], "DS"),
        "AO": (["admin_officer"], "DS"),
    }
    for key, (roles, manager) in people.items():
        body = {
            "name": f"Person {key} {n}",
            "email": f"{ids[key].lower()}@council.example",
            "roles": roles,
            "team_id": team,
            "line_manager_id": ids[manager] if manager else None,
        }
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/teams/{team}",
        json={"name": "Duty and Assessment", "district": f"D{n}", "area": "East", "service": "CSC", "manager_id": ids["TM"]},
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    for case_id, other, name in ((index_case, sibling_case, CHILD_NAMES[0]), (sibling_case, index_case, CHILD_NAMES[1])):
        resp = await gateway.http.put(
            f"/api/v1/directory/cases/{case_id}",
            json={
                "child_name": name,
                "case_type": "CIN",
                "team_id": team,
                "allocated_worker_id": ids["SW"],
                "team_manager_id": ids["TM"],
                "sibling_case_ids": [other],
                "opened_on": "2026-09-14",
            },
            headers=writer,
        )
        assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}

    # The admin officer completes the Initial Assessment, once sign-off has the cases (events).
    async def started() -> dict[str, Any] | None:
        resp = await _post(
            gateway,
            SIGNOFF,
            {**as_["AO"], "Idempotency-Key": f"so-{n}"},
            {"case_id": index_case, "type_code": "INIASS", "answers": _answers()},
        )
        return resp.json() if resp.status_code == 201 else None

    index = await eventually(started, timeout=60, interval=0.5, message="the admin officer's exemplar started")
    url = f"{SIGNOFF}/{index['id']}"
    assert index["created_by"] == ids["AO"] and index["unanswered_mandatory"] == []

    # Work-flowed to the duty senior, who can give both signatures (not to the social worker).
    message = {
        "subject": f"Initial Assessment for {index_case} ready for first and second sign-off",
        "action": "ready_for_first_sign_off",
        "due_on": DUE,
    }
    refused = await _post(gateway, f"{url}/messages", as_["AO"], {**message, "to_person_id": ids["SW"]})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json"), refused.text

    async def sent() -> dict[str, Any] | None:  # once sign-off has the duty senior (directory events)
        resp = await _post(
            gateway, f"{url}/messages", {**as_["AO"], "Idempotency-Key": f"so-{n}-m1"}, {**message, "to_person_id": ids["DS"]}
        )
        return resp.json() if resp.status_code == 201 else None

    await eventually(sent, timeout=60, interval=0.5, message="the work-flow to the duty senior")

    async def in_tray() -> list[dict[str, Any]]:
        return [t for t in await _tasks(gateway, as_["DS"], "open") if index["id"] in json.dumps(t)]

    [task] = await eventually(in_tray, timeout=60, interval=0.5, message="the work-flow in the duty senior's tray")
    assert task["assigned_by"] == ids["AO"]

    # The admin officer cannot sign; the duty senior applies the first and second signature.
    etag = f'"{index["revision"]}"'
    no = await _post(gateway, f"{url}/first-signature", as_["AO"], {}, etag)
    assert no.status_code == 403 and no.headers["content-type"].startswith("application/problem+json"), no.text
    first = await _post(gateway, f"{url}/first-signature", as_["DS"], {}, etag)
    assert first.status_code == 200, first.text
    no = await _post(gateway, f"{url}/counter-signature", as_["AO"], {}, first.headers["etag"])
    assert no.status_code == 403, no.text
    signed = await _post(gateway, f"{url}/counter-signature", as_["DS"], {"comments": "Agreed"}, first.headers["etag"])
    assert signed.status_code == 200 and signed.json()["locked"], signed.text
    assert signed.json()["current"]["first_signature"]["by"] == signed.json()["current"]["counter_signature"]["by"] == ids["DS"]

    async def task_done() -> bool:
        return not await in_tray() and any(t["id"] == task["id"] for t in await _tasks(gateway, as_["DS"], "done"))

    await eventually(task_done, timeout=60, interval=0.5, message="the duty senior's task closed by the counter-signature")

    # The admin officer clones it to the sibling: the index child's case note, on the bus by id only.
    async with EventCapture(infrastructure.amqp_url, system.namespace, (NOTE,), integrator_view=True) as capture:
        cloned = await _post(gateway, f"{url}/clones", as_["AO"], {"case_ids": [sibling_case]})
        assert cloned.status_code == 201, cloned.text
        [clone] = cloned.json()["clones"]
        [note] = await capture.wait_for(NOTE, timeout=30)
        [raw] = capture.messages
    assert note.source == "/qa/signoff" and note.subject == f"exemplar/{clone['id']}"
    assert note.data == {
        "exemplar_id": clone["id"],
        "case_id": sibling_case,
        "team_id": team,
        "type_code": "INIASS",
        "version": 1,
        "index_case_id": index_case,
        "index_exemplar_id": index["id"],
        "index_version": 1,
        "added_by": ids["AO"],
        "added_at": note.data["added_at"],
    }
    body = raw.body.decode()
    assert not any(name in body for name in CHILD_NAMES) and "index child" not in body.lower()
    chronology = await gateway.http.get(f"/api/v1/signoff/cases/{sibling_case}/chronology", headers=as_["AO"])
    assert chronology.status_code == 200, chronology.text
    assert any(e["kind"] == "index_child_case_note" and index_case in e["summary"] for e in chronology.json()["items"])

    # The clone work-flowed to the duty senior, who signs it without re-reading it.
    clone_url = f"{SIGNOFF}/{clone['id']}"
    resp = await _post(
        gateway,
        f"{clone_url}/messages",
        as_["AO"],
        {
            **message,
            "subject": f"Cloned version of {index_case}'s Initial Assessment for {sibling_case}",
            "to_person_id": ids["DS"],
        },
    )
    assert resp.status_code == 201 and resp.json()["clone_of_exemplar_id"] == index["id"], resp.text
    read = await gateway.http.get(clone_url, headers=as_["DS"])
    first = await _post(gateway, f"{clone_url}/first-signature", as_["DS"], {}, read.headers["etag"])
    assert first.status_code == 200, first.text
    signed_clone = await _post(gateway, f"{clone_url}/counter-signature", as_["DS"], {}, first.headers["etag"])
    assert signed_clone.status_code == 200 and signed_clone.json()["locked"], signed_clone.text

    # A mistake found after sign-off: the admin officer opens the index exemplar (Version 2).
    opened = await _post(
        gateway, f"{url}/unlock", as_["AO"], {"reason": "Date commenced entered wrongly"}, signed.headers["etag"]
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["version"] == 2 and opened.json()["status"] == "draft"
    assert opened.json()["versions"][0]["unlock"]["by"] == ids["AO"]

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
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
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


@dataclass
class Office:
    """What the phases share: the gateway, the people's ids and headers by key (AO the duty admin officer, DS the duty
    senior, SW a social worker, TM the team manager), the run's suffix, the team, and the index child's and sibling's cases."""

    gateway: Any
    n: str
    ids: dict[str, str]
    team: str
    index_case: str
    sibling_case: str
    as_: dict[str, dict[str, str]]


async def _in_tray(o: Office, index: dict[str, Any]) -> list[dict[str, Any]]:
    """The open work-flow tasks about the index exemplar in the duty senior's work tray."""
    return [t for t in await _tasks(o.gateway, o.as_["DS"], "open") if index["id"] in json.dumps(t)]


async def the_duty_team_and_the_two_sibling_cases(gateway: Any) -> Office:
    """The directory, as the integration writes it: the team manager, the duty senior (both signatures), a social worker
    and the duty admin officer, their Duty and Assessment team, and the index child's and the sibling's CIN cases."""
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
    return Office(gateway, n, ids, team, index_case, sibling_case, as_)


async def the_admin_officer_completes_the_initial_assessment(o: Office) -> dict[str, Any]:
    """The admin officer completes the Initial Assessment, once sign-off has the cases (events); returns the index exemplar."""
    gateway, n, ids, as_, index_case = o.gateway, o.n, o.ids, o.as_, o.index_case

    async def started() -> dict[str, Any] | None:
        resp = await _post(
            gateway,
            SIGNOFF,
            {**as_["AO"], "Idempotency-Key": f"so-{n}"},
            {"case_id": index_case, "type_code": "INIASS", "answers": _answers()},
        )
        return resp.json() if resp.status_code == 201 else None

    index = await eventually(started, timeout=60, interval=0.5, message="the admin officer's exemplar started")
    assert index["created_by"] == ids["AO"] and index["unanswered_mandatory"] == []
    return index


async def work_flowed_to_the_duty_senior_not_the_social_worker(
    o: Office, index: dict[str, Any]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Work-flowed to the duty senior, who can give both signatures (not to the social worker): a task in the duty
    senior's work tray. Returns the message (the clone's work-flow reuses it) and the task."""
    gateway, n, ids, as_, index_case = o.gateway, o.n, o.ids, o.as_, o.index_case
    url = f"{SIGNOFF}/{index['id']}"
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
    [task] = await eventually(
        lambda: _in_tray(o, index), timeout=60, interval=0.5, message="the work-flow in the duty senior's tray"
    )
    assert task["assigned_by"] == ids["AO"]
    return message, task


async def the_duty_senior_signs_twice_and_the_task_closes(
    o: Office, index: dict[str, Any], task: dict[str, Any]
) -> httpx.Response:
    """The admin officer cannot sign; the duty senior applies the first and second signature, and the counter-signature
    closes the duty senior's task. Returns the signed exemplar's response (its ETag opens Version 2)."""
    gateway, ids, as_ = o.gateway, o.ids, o.as_
    url = f"{SIGNOFF}/{index['id']}"
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
        return not await _in_tray(o, index) and any(t["id"] == task["id"] for t in await _tasks(gateway, as_["DS"], "done"))

    await eventually(task_done, timeout=60, interval=0.5, message="the duty senior's task closed by the counter-signature")
    return signed


async def cloned_to_the_sibling_with_the_index_childs_case_note(
    o: Office, system: Stack, infrastructure: Infrastructure, index: dict[str, Any]
) -> dict[str, Any]:
    """The admin officer clones it to the sibling: the index child's case note, on the bus by id only (as an integrator
    sees it), and in the sibling's chronology. Returns the clone."""
    gateway, ids, as_, team, index_case, sibling_case = o.gateway, o.ids, o.as_, o.team, o.index_case, o.sibling_case
    url = f"{SIGNOFF}/{index['id']}"
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
    return clone


async def the_clone_work_flowed_to_the_duty_senior_and_signed(
    o: Office, index: dict[str, Any], clone: dict[str, Any], message: dict[str, str]
) -> None:
    """The clone work-flowed to the duty senior, who signs it without re-reading it."""
    gateway, ids, as_, index_case, sibling_case = o.gateway, o.ids, o.as_, o.index_case, o.sibling_case
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


async def a_mistake_found_the_admin_officer_opens_version_2(o: Office, index: dict[str, Any], signed: httpx.Response) -> None:
    """A mistake found after sign-off: the admin officer opens the index exemplar (Version 2)."""
    gateway, ids, as_ = o.gateway, o.ids, o.as_
    url = f"{SIGNOFF}/{index['id']}"
    opened = await _post(
        gateway, f"{url}/unlock", as_["AO"], {"reason": "Date commenced entered wrongly"}, signed.headers["etag"]
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["version"] == 2 and opened.json()["status"] == "draft"
    assert opened.json()["versions"][0]["unlock"]["by"] == ids["AO"]


async def test_the_admin_officer_completes_clones_and_work_flows_and_the_duty_senior_signs_both(
    gateway, system: Stack, infrastructure: Infrastructure
) -> None:
    office = await the_duty_team_and_the_two_sibling_cases(gateway)
    index = await the_admin_officer_completes_the_initial_assessment(office)
    message, task = await work_flowed_to_the_duty_senior_not_the_social_worker(office, index)
    signed = await the_duty_senior_signs_twice_and_the_task_closes(office, index, task)
    clone = await cloned_to_the_sibling_with_the_index_childs_case_note(office, system, infrastructure, index)
    await the_clone_work_flowed_to_the_duty_senior_and_signed(office, index, clone, message)
    await a_mistake_found_the_admin_officer_opens_version_2(office, index, signed)

"""Seed 001 end to end, through the gateway, with the services as real processes: an IRO raises a
resolution about a case the directory holds without a team manager or allocated worker and enters
them on the form; they "feed back into the child's demographics" (resolution's
``resolution.case-contact.reported.v1``, applied by the directory: the case shows them, its
history says who entered them). The stage's section is delegated to the team manager with a due
date; not finalised by then, it is chased like other overdue work: notify's scheduler, run as of
the first working day after the due date, reminds the delegate once."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shared.calendar import next_working_day

from devstack.stack import Stack
from devstack.testing import eventually

pytestmark = pytest.mark.e2e

LONDON = ZoneInfo("Europe/London")
FORMS = "/api/v1/resolution/forms"


async def test_contacts_entered_on_a_form_reach_the_directory_and_an_overdue_section_is_chased(gateway, system: Stack) -> None:
    n = uuid.uuid4().hex[:6].upper()
    ids = {key: f"RS{n}-{key}" for key in ("IRO", "TM", "SW", "ADM")}
    team, case_id = f"T-RS{n}", f"C-RS{n}-1"
    writer = await gateway.as_integration()
    roles = {"IRO": ["iro"], "TM": ["team_manager"], "SW": ["social_worker"], "ADM": ["administrator"]}
    for key, person_roles in roles.items():
        body = {
            "name": f"Person {key} {n}",
            "email": f"{ids[key].lower()}@council.example",
            "roles": person_roles,
            "team_id": team,
        }
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/cases/{case_id}",
        json={"child_name": "Child Resolution Seedrule", "case_type": "CIC", "team_id": team, "opened_on": "2026-01-05"},
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}

    theme = await gateway.http.post("/api/v1/resolution/themes", json={"name": f"Care planning {n}"}, headers=as_["ADM"])
    assert theme.status_code == 201, theme.text
    body = {
        "case_id": case_id,
        "first_stage": "stage-1",
        "team_manager_id": ids["TM"],
        "allocated_worker_id": ids["SW"],
        "concerns": [{"theme_id": theme.json()["id"], "detail": "No permanence plan at the second review."}],
    }

    async def raised() -> Any:  # once resolution has the case and the people (directory events)
        resp = await gateway.http.post(FORMS, json=body, headers={**as_["IRO"], "Idempotency-Key": f"rs-{n}"})
        return resp if resp.status_code == 201 else None

    form_resp = await eventually(raised, timeout=60, interval=0.5, message="the IRO's resolution raised")
    form = form_resp.json()
    assert form["contacts"]["team_manager_id"] == ids["TM"] and form["contacts"]["team_manager_from_form"] is True

    # The round trip: form -> event -> the directory's case names them, entered by the IRO.
    async def in_directory() -> dict[str, Any] | None:
        resp = await gateway.http.get(f"/api/v1/directory/cases/{case_id}", headers=writer)
        data = resp.json()["data"]
        return resp.json() if (data["team_manager_id"], data["allocated_worker_id"]) == (ids["TM"], ids["SW"]) else None

    case = await eventually(in_directory, timeout=60, interval=0.5, message="the form's contacts in the directory's case")
    assert case["version"] == 2
    history = (await gateway.http.get(f"/api/v1/directory/cases/{case_id}/history", headers=writer)).json()
    assert [h["version"] for h in history] == [1, 2] and history[-1]["by"] == ids["IRO"]

    # The form cannot report a contact the directory now records differently: the owner is told.
    again = await gateway.http.put(
        f"{FORMS}/{form['id']}/case-contacts",
        json={"team_manager_id": ids["ADM"]},
        headers={**as_["IRO"], "If-Match": form_resp.headers["etag"]},
    )
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json"), again.text

    # Delegated to the team manager, due today; not finalised.
    today = datetime.now(LONDON).date()
    delegated = await gateway.http.post(
        f"{FORMS}/{form['id']}/stages/stage-1/section/delegation",
        json={"delegate_id": ids["TM"], "due_on": today.isoformat()},
        headers={**as_["IRO"], "If-Match": form_resp.headers["etag"]},
    )
    assert delegated.status_code == 200, delegated.text

    async def in_tray() -> list[dict[str, Any]]:
        resp = await gateway.http.get("/api/v1/notify/tasks", params={"kind": "section_delegated"}, headers=as_["TM"])
        return [t for t in resp.json()["items"] if form["id"] in t["subject"]]

    [task] = await eventually(in_tray, timeout=60, interval=0.5, message="the section in the team manager's tray")
    chase_on = next_working_day(date.fromordinal(today.toordinal() + 1))
    assert task["due_on"] == today.isoformat() and task["next_reminder_on"] == chase_on.isoformat(), task

    runs = "/api/v1/notify/scheduler/runs"
    for _ in range(2):  # run twice as of the same day: one reminder
        ran = await gateway.http.post(runs, json={"as_of": chase_on.isoformat()}, headers=as_["ADM"])
        assert ran.status_code == 200, ran.text
    shown = (await gateway.http.get(f"/api/v1/notify/tasks/{task['id']}", headers=as_["TM"])).json()
    assert (shown["status"], shown["reminders_sent"], shown["last_reminded_on"]) == ("open", 1, chase_on.isoformat()), shown

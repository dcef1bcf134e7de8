"""Raising a resolution through the API: the form, its ETag, its events (each once), the
contacts reported to the directory, idempotent retries and visibility."""

from __future__ import annotations

from devstack.testing import EventCapture


async def test_raising_publishes_resolution_raised_once_with_the_envelope(resolution, capture: EventCapture) -> None:
    form = await resolution.raise_form(concerns=[{"theme_id": "care-planning", "detail": "A"}, {"theme_id": "contact", "detail": "B"}])

    assert form["status"] == "open" and form["current_stage"] == "informal" and form["version"] == 1
    assert form["current_stage_title"] == "Informal (social worker)"
    assert form["owner_id"] == "IRO-1" and form["owner_role"] == "iro"
    assert form["contacts"]["allocated_worker_id"] == "SW-1" and form["contacts"]["team_manager_id"] == "TM-1"
    assert [c["theme_id"] for c in form["concerns"]] == ["care-planning", "contact"]
    [event] = await capture.wait_for("resolution.form.raised.v1")
    assert event.source == "/qa/resolution"
    assert event.subject == f"form/{form['id']}"
    assert event.data["form_id"] == form["id"] and event.data["case_id"] == "CASE-1" and event.data["team_id"] == "T-1"
    assert event.data["theme_ids"] == ["care-planning", "contact"] and event.data["owner_role"] == "iro"
    await capture.flushed(resolution.db)  # every event written has arrived
    assert len(capture.of_type("resolution.form.raised.v1")) == 1
    assert capture.of_type("resolution.case-contact.reported.v1") == []


async def test_a_missing_team_manager_entered_on_the_form_is_reported_to_the_directory(resolution, capture: EventCapture) -> None:
    form = await resolution.raise_form(case_id="CASE-2", team_manager_id="TM-2")
    assert form["contacts"] == {"allocated_worker_id": None, "team_manager_id": "TM-2", "allocated_worker_from_form": False, "team_manager_from_form": True}

    updated = await resolution.act("PUT", f"/v1/forms/{form['id']}/case-contacts", "IRO-1", 1, {"allocated_worker_id": "SW-2"})
    assert updated["contacts"]["allocated_worker_id"] == "SW-2" and updated["version"] == 2

    reported = await capture.wait_for("resolution.case-contact.reported.v1", 2)
    assert [(e.data["team_manager_id"], e.data["allocated_worker_id"]) for e in reported] == [("TM-2", None), (None, "SW-2")]
    assert all(e.data["case_id"] == "CASE-2" and e.data["reported_by"] == "IRO-1" for e in reported)
    await capture.flushed(resolution.db)  # every event written has arrived
    assert len(capture.of_type("resolution.case-contact.reported.v1")) == 2


async def test_a_retried_raise_with_the_same_idempotency_key_creates_one_form(resolution, capture: EventCapture) -> None:
    body = {"case_id": "CASE-1", "concerns": [{"theme_id": "contact", "detail": "Contact stopped"}]}
    headers = resolution.as_("IRO-1", **{"Idempotency-Key": "raise-1"})
    first = await resolution.http.post("/v1/forms", json=body, headers=headers)
    again = await resolution.http.post("/v1/forms", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    await capture.wait_for("resolution.form.raised.v1")
    await capture.flushed(resolution.db)  # every event written has arrived
    assert len(capture.of_type("resolution.form.raised.v1")) == 1
    assert await resolution.db["forms"].count_documents({}) == 1


async def test_only_the_owner_delegates_and_qa_see_a_form(resolution) -> None:
    form = await resolution.raise_form()
    path = f"/v1/forms/{form['id']}"
    for person_id in ("IRO-1", "QA-1"):
        assert (await resolution.http.get(path, headers=resolution.as_(person_id))).status_code == 200
    for person_id in ("SW-9", "CPC-1", "SW-1"):
        refused = await resolution.http.get(path, headers=resolution.as_(person_id))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    await resolution.act("POST", f"{path}/stages/informal/section/delegation", "IRO-1", 1, {"delegate_id": "SW-1"})
    assert (await resolution.http.get(path, headers=resolution.as_("SW-1"))).status_code == 200


async def test_lists_are_paginated_and_show_each_person_their_own_forms(resolution) -> None:
    ids = [(await resolution.raise_form())["id"] for _ in range(3)]
    await resolution.raise_form(by="CPC-1")

    page = (await resolution.http.get("/v1/forms", params={"limit": 2}, headers=resolution.as_("IRO-1"))).json()
    assert [f["id"] for f in page["items"]] == ids[:2] and page["next"]
    rest = (await resolution.http.get("/v1/forms", params={"limit": 2, "cursor": page["next"]}, headers=resolution.as_("IRO-1"))).json()
    assert [f["id"] for f in rest["items"]] == ids[2:] and rest["next"] is None
    everything = (await resolution.http.get("/v1/forms", headers=resolution.as_("QA-1"))).json()
    assert len(everything["items"]) == 4
    nothing = (await resolution.http.get("/v1/forms", headers=resolution.as_("SW-9"))).json()
    assert nothing["items"] == []
    by_case = (await resolution.http.get("/v1/forms", params={"case_id": "CASE-1", "status": "open"}, headers=resolution.as_("QA-1"))).json()
    assert len(by_case["items"]) == 4

"""Bad input and refused changes: problem+json with a clear detail, and nothing changed
(same version, no event)."""

from __future__ import annotations

import pytest

from devstack.testing import EventCapture

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"concerns": [{"theme_id": "contact", "detail": "x"}]}, 422, "validation-error"),  # no case
        ({"case_id": "CASE-1", "concerns": []}, 422, "validation-error"),
        ({"case_id": "CASE-1", "concerns": [{"theme_id": "contact", "detail": "   "}]}, 422, "validation-error"),
        ({"case_id": "CASE-1", "concerns": [{"theme_id": "contact", "detail": "x"}], "colour": "red"}, 422, "validation-error"),
        ({"case_id": "CASE-1", "concerns": [{"theme_id": "contact", "detail": "x"}], "first_stage": "stage-9"}, 422, "validation-error"),
        ({"case_id": "CASE-404", "concerns": [{"theme_id": "contact", "detail": "x"}]}, 422, "invalid-input"),
        ({"case_id": "CASE-1", "concerns": [{"theme_id": "no-such-theme", "detail": "x"}]}, 422, "invalid-input"),
        ({"case_id": "CASE-3", "concerns": [{"theme_id": "contact", "detail": "x"}]}, 409, "case-closed"),
        ({"case_id": "CASE-1", "concerns": [{"theme_id": "contact", "detail": "x"}], "team_manager_id": "TM-2"}, 409, "contact-already-recorded"),
        ({"case_id": "CASE-2", "concerns": [{"theme_id": "contact", "detail": "x"}], "team_manager_id": "NOBODY"}, 422, "invalid-input"),
        ({"case_id": "CASE-2", "concerns": [{"theme_id": "contact", "detail": "x"}], "team_manager_id": "SW-1"}, 422, "invalid-input"),
    ],
)
async def test_a_bad_raise_is_refused_and_creates_nothing(resolution, capture: EventCapture, body, status, slug) -> None:
    response = await resolution.http.post("/v1/forms", json=body, headers=resolution.as_("IRO-1"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/" + slug) and response.json()["detail"]
    assert await resolution.db["forms"].count_documents({}) == 0
    await capture.flushed(resolution.db)  # every event written has arrived
    assert not [e for e in capture.events if e.type.startswith("resolution.")]


async def test_only_an_iro_cp_chair_or_fgc_coordinator_raises(resolution) -> None:
    body = {"case_id": "CASE-1", "concerns": [{"theme_id": "contact", "detail": "x"}]}
    response = await resolution.http.post("/v1/forms", json=body, headers=resolution.as_("TM-1"))
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert (await resolution.http.post("/v1/forms", json=body)).status_code == 401


async def test_edits_without_if_match_or_with_a_stale_or_malformed_one_change_nothing(resolution, capture: EventCapture) -> None:
    form = await resolution.raise_form()
    await capture.wait_for("resolution.form.raised.v1")
    path = f"/v1/forms/{form['id']}/stages/informal/section/delegation"
    body = {"delegate_id": "SW-1"}
    missing = await resolution.http.post(path, json=body, headers=resolution.as_("IRO-1"))
    assert missing.status_code == 428 and missing.headers["content-type"] == PROBLEM
    stale = await resolution.http.post(path, json=body, headers=resolution.edit("IRO-1", 7))
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    malformed = await resolution.http.post(path, json=body, headers=resolution.as_("IRO-1", **{"If-Match": "yesterday"}))
    assert malformed.status_code == 400
    assert (await resolution.form(form["id"]))["version"] == 1
    await capture.flushed(resolution.db)  # every event written has arrived
    assert capture.of_type("resolution.section.delegated.v1") == []


@pytest.mark.parametrize(
    ("method", "suffix", "body", "status"),
    [
        ("POST", "/stages/informal/section/delegation", {"delegate_id": "NOBODY"}, 422),
        ("POST", "/stages/informal/section/delegation", {"delegate_id": "TM-1"}, 422),  # not a social worker
        ("POST", "/stages/stage-1/section/delegation", {"delegate_id": "TM-1"}, 409),  # stage not activated
        ("POST", "/stages/informal/section/delegation", {}, 422),
        ("PUT", "/stages/informal/dates", {"raised_on": "2020-01-10", "response_due_on": "2020-01-01"}, 422),
        ("PUT", "/stages/informal/dates", {"raised_on": "not a date"}, 422),
        ("PUT", "/stages/informal/resolution", {"resolved": True}, 422),  # no impact
        ("PUT", "/stages/informal/resolution", {"resolved": False}, 422),  # no next step
        ("PUT", "/stages/informal/resolution", {"resolved": False, "next_step": "close-unresolved"}, 422),  # no reason
        ("PUT", "/stages/informal/resolution", {"resolved": False, "next_step": "give-up"}, 422),
        ("POST", "/stages/informal/section/retract", {"reason": "Late", "note": "n"}, 409),  # not delegated
        ("POST", "/stages/informal/section/reactivate", None, 409),  # not finalised
        ("POST", "/stages/informal/section/finalise", None, 409),  # empty
        ("POST", "/concerns", {"theme_id": "nope", "detail": "x"}, 422),
        ("PUT", "/case-contacts", {}, 422),
    ],
)
async def test_bad_changes_get_problem_json_and_change_nothing(resolution, capture: EventCapture, method, suffix, body, status) -> None:
    form = await resolution.raise_form()
    await capture.wait_for("resolution.form.raised.v1")
    response = await resolution.http.request(method, f"/v1/forms/{form['id']}{suffix}", json=body, headers=resolution.edit("IRO-1", 1))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM and response.json()["detail"]
    after = await resolution.form(form["id"])
    assert after["version"] == 1 and after == form
    await capture.flushed(resolution.db)  # every event written has arrived
    assert [e.type for e in capture.events if e.type.startswith("resolution.")] == ["resolution.form.raised.v1"]


async def test_someone_else_acting_on_the_form_is_refused_with_403(resolution) -> None:
    form = await resolution.raise_form()
    base = f"/v1/forms/{form['id']}"
    for person_id in ("SW-1", "CPC-1", "QA-1"):
        for method, suffix, body in (
            ("POST", "/stages/informal/section/delegation", {"delegate_id": "SW-1"}),
            ("PUT", "/stages/informal/resolution", {"resolved": True, "impact": "x"}),
            ("POST", "/concerns", {"theme_id": "contact", "detail": "x"}),
        ):
            response = await resolution.http.request(method, base + suffix, json=body, headers=resolution.edit(person_id, 1))
            assert response.status_code == 403, (person_id, suffix, response.text)
    assert (await resolution.form(form["id"]))["version"] == 1


async def test_unknown_forms_and_stages(resolution) -> None:
    assert (await resolution.http.get("/v1/forms/res-nope", headers=resolution.as_("IRO-1"))).status_code == 404
    form = await resolution.raise_form()
    response = await resolution.http.put(f"/v1/forms/{form['id']}/stages/stage-7/section", json={"response": "x"}, headers=resolution.edit("IRO-1", 1))
    assert response.status_code == 422
    bad_cursor = await resolution.http.get("/v1/forms", params={"cursor": "%%%"}, headers=resolution.as_("IRO-1"))
    assert bad_cursor.status_code == 400

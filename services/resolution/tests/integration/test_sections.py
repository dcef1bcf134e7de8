"""Delegated sections through the API against real MongoDB and RabbitMQ: each action's event
published once, the one-writer rule, finalise / reactivate / retract, and the delegate's draft
surviving a retraction."""

from __future__ import annotations

from devstack.testing import EventCapture

from .conftest import Resolution


async def _once(resolution: Resolution, capture: EventCapture, event_type: str, count: int = 1) -> list:
    events = await capture.wait_for(event_type, count)
    await capture.flushed(resolution.db)  # every event written has arrived: a second one would be here
    assert len(capture.of_type(event_type)) == count, f"{event_type} published more than once per action"
    return events


async def test_delegate_write_finalise_each_publishing_once(resolution, capture: EventCapture) -> None:
    form = await resolution.raise_form()
    base = f"/v1/forms/{form['id']}/stages/informal"
    v = (await resolution.act("PUT", f"{base}/dates", "IRO-1", 1, {"raised_on": form["raised_at"][:10], "response_due_on": "2099-01-05"}))["version"]

    delegated = await resolution.act("POST", f"{base}/section/delegation", "IRO-1", v, {"delegate_id": "SW-1"})
    section = delegated["stages"][0]["section"]
    assert section["state"] == "delegated" and section["delegate_id"] == "SW-1"
    [event] = await _once(resolution, capture, "resolution.section.delegated.v1")
    assert event.subject == f"form/{form['id']}" and event.source == "/qa/resolution"
    assert {k: event.data[k] for k in ("form_id", "stage", "delegate_id", "delegated_by", "due_on", "delegation_number")} == {
        "form_id": form["id"], "stage": "informal", "delegate_id": "SW-1", "delegated_by": "IRO-1", "due_on": "2099-01-05", "delegation_number": 1,
    }

    # While delegated, the owner is refused like anyone else, and nothing changes.
    for intruder in ("IRO-1", "SW-9"):
        refused = await resolution.http.put(f"{base}/section", json={"response": "mine"}, headers=resolution.edit(intruder, delegated["version"]))
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    draft = await resolution.act("PUT", f"{base}/section", "SW-1", delegated["version"], {"response": "First draft"})
    draft = await resolution.act("PUT", f"{base}/section", "SW-1", draft["version"], {"response": "Second draft"})
    # The owner reads what the delegate last saved, at once (nothing cached).
    assert (await resolution.form(form["id"]))["stages"][0]["section"]["response"] == "Second draft"

    finalised = await resolution.act("POST", f"{base}/section/finalise", "SW-1", draft["version"])
    assert finalised["stages"][0]["section"]["state"] == "finalised"
    [event] = await _once(resolution, capture, "resolution.section.finalised.v1")
    assert event.data["delegate_id"] == "SW-1" and event.data["finalised_by"] == "SW-1"

    again = await resolution.http.post(f"{base}/section/finalise", headers=resolution.edit("SW-1", finalised["version"]))
    assert again.status_code == 409 and again.json()["title"] == "Section finalised"
    edit = await resolution.http.put(f"{base}/section", json={"response": "too late"}, headers=resolution.edit("SW-1", finalised["version"]))
    assert edit.status_code == 409 and edit.json()["type"].endswith("/section-finalised")
    assert (await resolution.form(form["id"]))["version"] == finalised["version"]

    reactivated = await resolution.act("POST", f"{base}/section/reactivate", "IRO-1", finalised["version"])
    assert reactivated["stages"][0]["section"]["state"] == "delegated"
    [event] = await _once(resolution, capture, "resolution.section.reactivated.v1")
    assert event.data["delegate_id"] == "SW-1" and event.data["reactivated_by"] == "IRO-1"

    history = (await resolution.http.get(f"{base}/section/history", headers=resolution.as_("IRO-1"))).json()["items"]
    assert [h["action"] for h in history] == [
        "section-delegated", "section-draft-saved", "section-draft-saved", "section-finalised", "section-reactivated",
    ]
    assert [h["details"].get("response") for h in history[1:3]] == ["First draft", "Second draft"]


async def test_retract_keeps_the_draft_and_re_delegating_keeps_it_readable(resolution, capture: EventCapture) -> None:
    form = await resolution.raise_form()
    base = f"/v1/forms/{form['id']}/stages/informal"
    v = (await resolution.act("POST", f"{base}/section/delegation", "IRO-1", 1, {"delegate_id": "SW-1"}))["version"]
    v = (await resolution.act("PUT", f"{base}/section", "SW-1", v, {"response": "Unfinished answer from SW-1"}))["version"]

    missing_note = await resolution.http.post(f"{base}/section/retract", json={"reason": "Late"}, headers=resolution.edit("IRO-1", v))
    assert missing_note.status_code == 422
    retracted = await resolution.act("POST", f"{base}/section/retract", "IRO-1", v, {"reason": "Not completed in time", "note": "Review on Friday"})
    section = retracted["stages"][0]["section"]
    assert section["state"] == "with-owner" and section["response"] == "Unfinished answer from SW-1"
    assert section["delegations"][0]["status"] == "retracted" and section["delegations"][0]["retract_reason"] == "Not completed in time"
    [event] = await _once(resolution, capture, "resolution.section.retracted.v1")
    assert event.data["delegate_id"] == "SW-1" and event.data["draft_kept"] is True

    redelegated = await resolution.act("POST", f"{base}/section/delegation", "IRO-1", retracted["version"], {"delegate_id": "SW-2"})
    assert redelegated["stages"][0]["section"]["response"] == "Unfinished answer from SW-1"
    await _once(resolution, capture, "resolution.section.delegated.v1", 2)
    # The earlier draft is in the section's history for the owner and the new delegate.
    for reader in ("IRO-1", "SW-2"):
        history = (await resolution.http.get(f"{base}/section/history", headers=resolution.as_(reader))).json()["items"]
        saved = [h for h in history if h["action"] == "section-draft-saved"]
        assert [(h["by"], h["details"]["response"]) for h in saved] == [("SW-1", "Unfinished answer from SW-1")]
        retract = next(h for h in history if h["action"] == "section-retracted")
        assert retract["details"]["draft"] == "Unfinished answer from SW-1"
    refused = await resolution.http.put(f"{base}/section", json={"response": "x"}, headers=resolution.edit("SW-1", redelegated["version"]))
    assert refused.status_code == 403


async def test_stage_5_is_recorded_by_the_owner(resolution) -> None:
    form = await resolution.raise_form(first_stage="stage-5")
    base = f"/v1/forms/{form['id']}/stages/stage-5/section"
    refused = await resolution.http.post(f"{base}/delegation", json={"delegate_id": "ED-1"}, headers=resolution.edit("IRO-1", 1))
    assert refused.status_code == 409 and refused.json()["type"].endswith("/recorded-by-owner")
    saved = await resolution.act("PUT", base, "IRO-1", 1, {"response": "CAFCASS: the guardian supports the revised plan."})
    assert saved["stages"][0]["section"]["updated_by"] == "IRO-1"

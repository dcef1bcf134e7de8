"""Resolution details through the API: escalation, resolution, closing unresolved, each event once."""

from __future__ import annotations

from devstack.testing import EventCapture

RESPONDERS = {"informal": "SW-1", "stage-1": "TM-1", "stage-2": "HOS-1", "stage-3": "SD-1", "stage-4": "ED-1"}


async def test_escalated_through_every_stage_then_resolved_each_event_once(resolution, capture: EventCapture) -> None:
    form = await resolution.raise_form()
    fid, v = form["id"], form["version"]
    for stage, responder in RESPONDERS.items():
        base = f"/v1/forms/{fid}/stages/{stage}"
        v = (await resolution.act("POST", f"{base}/section/delegation", "IRO-1", v, {"delegate_id": responder}))["version"]
        v = (await resolution.act("PUT", f"{base}/section", responder, v, {"response": f"{responder} answers"}))["version"]
        v = (await resolution.act("POST", f"{base}/section/finalise", responder, v))["version"]
        escalated = await resolution.act("PUT", f"{base}/resolution", "IRO-1", v, {"resolved": False, "next_step": "escalate"})
        v = escalated["version"]
        assert escalated["status"] == "escalated"
    assert escalated["current_stage"] == "stage-5" and escalated["current_stage_title"] == "Stage 5 (CAFCASS)"
    last = await resolution.http.put(
        f"/v1/forms/{fid}/stages/stage-5/resolution", json={"resolved": False, "next_step": "escalate"}, headers=resolution.edit("IRO-1", v)
    )
    assert last.status_code == 409 and last.json()["type"].endswith("/last-stage")
    v = (await resolution.act("PUT", f"/v1/forms/{fid}/stages/stage-5/section", "IRO-1", v, {"response": "CAFCASS agrees"}))["version"]
    resolved = await resolution.act("PUT", f"/v1/forms/{fid}/stages/stage-5/resolution", "IRO-1", v, {"resolved": True, "impact": "Plan revised"})
    assert resolved["status"] == "resolved" and resolved["finished_at"]
    assert [s["stage"] for s in resolved["stages"]] == ["informal", "stage-1", "stage-2", "stage-3", "stage-4", "stage-5"]

    escalations = await capture.wait_for("resolution.stage.escalated.v1", 5)
    [done] = await capture.wait_for("resolution.form.resolved.v1")
    await capture.wait_for("resolution.section.delegated.v1", 5)
    await capture.wait_for("resolution.section.finalised.v1", 5)
    await capture.flushed(resolution.db)  # every event written has arrived
    assert [(e.data["from_stage"], e.data["to_stage"]) for e in escalations] == [
        ("informal", "stage-1"), ("stage-1", "stage-2"), ("stage-2", "stage-3"), ("stage-3", "stage-4"), ("stage-4", "stage-5"),
    ]
    for event_type, count in (
        ("resolution.stage.escalated.v1", 5), ("resolution.form.resolved.v1", 1),
        ("resolution.section.delegated.v1", 5), ("resolution.section.finalised.v1", 5), ("resolution.form.raised.v1", 1),
    ):
        assert len(capture.of_type(event_type)) == count, event_type
    assert done.data["stage"] == "stage-5" and done.data["resolved_by"] == "IRO-1" and done.subject == f"form/{fid}"
    after = await resolution.http.post(f"/v1/forms/{fid}/concerns", json={"theme_id": "contact", "detail": "x"}, headers=resolution.edit("IRO-1", resolved["version"]))
    assert after.status_code == 409 and after.json()["type"].endswith("/form-finished")


async def test_closed_unresolved_with_a_reason(resolution, capture: EventCapture) -> None:
    form = await resolution.raise_form(first_stage="stage-1")
    closed = await resolution.act(
        "PUT", f"/v1/forms/{form['id']}/stages/stage-1/resolution", "IRO-1", 1,
        {"resolved": False, "next_step": "close-unresolved", "closing_reason_id": "moved-to-another-authority",
         "close_reason": "The child has moved to Leeds"},
    )
    assert closed["status"] == "closed-unresolved"
    assert closed["stages"][0]["resolution"]["close_reason"] == "The child has moved to Leeds"
    assert closed["stages"][0]["resolution"]["closing_reason_id"] == "moved-to-another-authority"
    [event] = await capture.wait_for("resolution.form.closed-unresolved.v1")
    assert event.data["closing_reason_id"] == "moved-to-another-authority" and "close_reason" not in event.data
    await capture.flushed(resolution.db)  # every event written has arrived
    assert len(capture.of_type("resolution.form.closed-unresolved.v1")) == 1 and event.data["stage"] == "stage-1"


async def test_resolution_waits_for_a_delegated_section(resolution) -> None:
    form = await resolution.raise_form()
    v = (await resolution.act("POST", f"/v1/forms/{form['id']}/stages/informal/section/delegation", "IRO-1", 1, {"delegate_id": "SW-1"}))["version"]
    response = await resolution.http.put(
        f"/v1/forms/{form['id']}/stages/informal/resolution", json={"resolved": True, "impact": "x"}, headers=resolution.edit("IRO-1", v)
    )
    assert response.status_code == 409 and response.json()["type"].endswith("/section-still-delegated")

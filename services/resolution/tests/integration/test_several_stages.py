"""Several escalation stages active at once, through the service's API: activate, delegate each to its
own responder, finalise, resolve each; the refusals change nothing.

Seed 001: "The Escalation section can be used to activate the various stages needed; either one or
more can be selected depending on how many levels of escalation are required."
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devstack.testing import EventCapture


def _period() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


async def test_two_stages_activated_delegated_to_two_people_and_each_resolved(resolution, capture: EventCapture) -> None:
    """Seed 001: "either one or more can be selected" … "At the end of each stage there is a resolution
    section that is to only be completed by the IRO, CP Chair or FGC Coordinator"."""
    form = await resolution.raise_form()
    fid = form["id"]
    assert form["active_stages"] == ["informal"] and [s["active"] for s in form["stages"]] == [True]

    activated = await resolution.act("POST", f"/v1/forms/{fid}/stages", "IRO-1", form["version"], {"stages": ["stage-2", "stage-1"]})
    assert activated["active_stages"] == ["informal", "stage-1", "stage-2"]
    assert [s["stage"] for s in activated["stages"]] == ["informal", "stage-1", "stage-2"]
    assert activated["current_stage"] == "stage-2" and activated["status"] == "escalated"
    v = activated["version"]

    # Two of the active sections, each delegated to its own responder.
    v = (await resolution.act("POST", f"/v1/forms/{fid}/stages/stage-1/section/delegation", "IRO-1", v, {"delegate_id": "TM-1"}))["version"]
    v = (await resolution.act("POST", f"/v1/forms/{fid}/stages/stage-2/section/delegation", "IRO-1", v, {"delegate_id": "HOS-1"}))["version"]
    crossed = await resolution.http.put(f"/v1/forms/{fid}/stages/stage-2/section", json={"response": "not mine"}, headers=resolution.edit("TM-1", v))
    assert crossed.status_code == 403
    v = (await resolution.act("PUT", f"/v1/forms/{fid}/stages/stage-1/section", "TM-1", v, {"response": "Plan reviewed"}))["version"]
    v = (await resolution.act("PUT", f"/v1/forms/{fid}/stages/stage-2/section", "HOS-1", v, {"response": "Funding agreed"}))["version"]
    finalised = await resolution.act("POST", f"/v1/forms/{fid}/stages/stage-1/section/finalise", "TM-1", v)
    sections = {s["stage"]: s["section"] for s in finalised["stages"]}
    assert (sections["stage-1"]["state"], sections["stage-2"]["state"]) == ("finalised", "delegated")
    v = finalised["version"]

    # Stage 2's section is still with the head of service; stage 1 and informal are resolved meanwhile.
    waiting = await resolution.http.put(
        f"/v1/forms/{fid}/stages/stage-2/resolution", json={"resolved": True, "impact": "x"}, headers=resolution.edit("IRO-1", v)
    )
    assert waiting.status_code == 409 and waiting.json()["type"].endswith("/section-still-delegated")
    v = (await resolution.act("PUT", f"/v1/forms/{fid}/stages/informal/resolution", "IRO-1", v, {"resolved": True, "impact": "Contact restarted"}))["version"]
    one = await resolution.act("PUT", f"/v1/forms/{fid}/stages/stage-1/resolution", "IRO-1", v, {"resolved": True, "impact": "Plan reviewed"})
    assert one["status"] == "escalated" and one["finished_at"] is None and one["active_stages"] == ["stage-2"]
    v = (await resolution.act("POST", f"/v1/forms/{fid}/stages/stage-2/section/finalise", "HOS-1", one["version"]))["version"]
    done = await resolution.act("PUT", f"/v1/forms/{fid}/stages/stage-2/resolution", "IRO-1", v, {"resolved": True, "impact": "Placement funded"})
    assert done["status"] == "resolved" and done["finished_at"] and done["active_stages"] == []
    assert [s["resolution"]["impact"] for s in done["stages"]] == ["Contact restarted", "Plan reviewed", "Placement funded"]

    listed = await resolution.http.get("/v1/forms", params={"mine": "true"}, headers=resolution.as_("HOS-1"))
    assert [(f["id"], f["active_stages"]) for f in listed.json()["items"]] == [(fid, [])]

    [event] = await capture.wait_for("resolution.stages.activated.v1")
    await capture.wait_for("resolution.section.delegated.v1", 2)
    [resolved] = await capture.wait_for("resolution.form.resolved.v1")
    await capture.flushed(resolution.db)
    assert event.subject == f"form/{fid}" and event.data["stages"] == ["stage-1", "stage-2"]
    assert event.data["active_stages"] == ["informal", "stage-1", "stage-2"] and event.data["activated_by"] == "IRO-1"
    assert sorted((e.data["stage"], e.data["delegate_id"]) for e in capture.of_type("resolution.section.delegated.v1")) == [
        ("stage-1", "TM-1"), ("stage-2", "HOS-1"),
    ]
    assert len(capture.of_type("resolution.form.resolved.v1")) == 1 and resolved.data["stage"] == "stage-2"

    # Reports: one ended record per stage, the form counted once at the stage it reached.
    durations = await resolution.http.get("/v1/reports/durations", params=_period(), headers=resolution.as_("QA-1"))
    assert durations.status_code == 200, durations.text
    assert [(s["stage"], s["count"]) for s in durations.json()["per_stage"]] == [("informal", 1), ("stage-1", 1), ("stage-2", 1)]
    counts = await resolution.http.get("/v1/reports/resolutions", params={**_period(), "group_by": "stage"}, headers=resolution.as_("QA-1"))
    assert [(r["key"], r["total"], r["resolved"]) for r in counts.json()["rows"]] == [("stage-2", 1, 1)]


async def test_stages_selected_when_raising(resolution, capture: EventCapture) -> None:
    form = await resolution.raise_form(stages=["stage-1", "informal"])
    assert form["active_stages"] == ["informal", "stage-1"] and form["status"] == "open"
    [raised] = await capture.wait_for("resolution.form.raised.v1")
    assert raised.data["first_stage"] == "informal" and raised.data["stages"] == ["informal", "stage-1"]
    clash = await resolution.http.post(
        "/v1/forms", json={"case_id": "CASE-1", "first_stage": "stage-2", "stages": ["stage-1"], "concerns": [{"theme_id": "contact", "detail": "x"}]},
        headers=resolution.as_("IRO-1"),
    )
    assert clash.status_code == 422 and clash.headers["content-type"].startswith("application/problem+json")


async def test_activating_is_the_owners_and_a_stage_active_or_passed_is_a_conflict_that_changes_nothing(resolution) -> None:
    form = await resolution.raise_form(stages=["informal", "stage-1"])
    fid = form["id"]
    v = (await resolution.act("POST", f"/v1/forms/{fid}/stages/informal/section/delegation", "IRO-1", form["version"], {"delegate_id": "SW-1"}))["version"]
    v = (await resolution.act(
        "PUT", f"/v1/forms/{fid}/stages/stage-1/resolution", "IRO-1", v, {"resolved": False, "next_step": "escalate", "escalate_to": "stage-3"},
    ))["version"]
    before = await resolution.form(fid)

    for person_id in ("SW-1", "CPC-1"):  # the delegate, and an owner of other forms
        refused = await resolution.http.post(f"/v1/forms/{fid}/stages", json={"stages": ["stage-4"]}, headers=resolution.edit(person_id, v))
        assert refused.status_code == 403, refused.text
    for stages, slug in ((["stage-3"], "stage-already-active"), (["stage-4", "stage-3"], "stage-already-active"), (["stage-1"], "stage-passed")):
        refused = await resolution.http.post(f"/v1/forms/{fid}/stages", json={"stages": stages}, headers=resolution.edit("IRO-1", v))
        assert refused.status_code == 409 and refused.json()["type"].endswith(f"/{slug}"), refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    for body in ({"stages": []}, {"stages": ["stage-9"]}, {"stages": ["stage-4", "stage-4"]}):
        bad = await resolution.http.post(f"/v1/forms/{fid}/stages", json=body, headers=resolution.edit("IRO-1", v))
        assert bad.status_code == 422, body
    stale = await resolution.http.post(f"/v1/forms/{fid}/stages", json={"stages": ["stage-4"]}, headers=resolution.edit("IRO-1", v - 1))
    assert stale.status_code == 412
    assert await resolution.form(fid) == before  # nothing changed

    after = await resolution.act("POST", f"/v1/forms/{fid}/stages", "IRO-1", v, {"stages": ["stage-2"]})
    assert after["active_stages"] == ["informal", "stage-2", "stage-3"]

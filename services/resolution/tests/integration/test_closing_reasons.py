"""Closing reasons as coded values, kept like themes, required to close a resolution unresolved,
and reported by (seed 001: "collate real-time information about the progress of all resolutions,
what the resolution was")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from resolution import readmodels


async def test_the_list_is_kept_by_administrators_and_qa_officers_and_retired_not_deleted(resolution) -> None:
    listed = await resolution.http.get("/v1/closing-reasons", headers=resolution.as_("IRO-1"))
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["items"]] == [
        "concern-withdrawn",
        "moved-to-another-authority",
    ]
    refused = await resolution.http.post("/v1/closing-reasons", json={"name": "Other"}, headers=resolution.as_("IRO-1"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    twice = await resolution.http.post(
        "/v1/closing-reasons", json={"name": "concern  WITHDRAWN"}, headers=resolution.as_("ADM-1")
    )
    assert twice.status_code == 409 and twice.json()["type"].endswith("/closing-reason-exists")
    empty = await resolution.http.post("/v1/closing-reasons", json={"name": "   "}, headers=resolution.as_("ADM-1"))
    assert empty.status_code == 422
    read = await resolution.http.get("/v1/closing-reasons/concern-withdrawn", headers=resolution.as_("IRO-1"))
    retired = await resolution.http.patch(
        "/v1/closing-reasons/concern-withdrawn",
        json={"active": False},
        headers={**resolution.as_("QA-1"), "If-Match": read.headers["ETag"]},
    )
    assert retired.status_code == 200 and retired.json()["active"] is False and retired.headers["ETag"] == '"2"'
    stale = await resolution.http.patch(
        "/v1/closing-reasons/concern-withdrawn",
        json={"active": True},
        headers={**resolution.as_("QA-1"), "If-Match": read.headers["ETag"]},
    )
    assert stale.status_code == 412
    current = await resolution.http.get("/v1/closing-reasons", headers=resolution.as_("IRO-1"))
    assert [r["id"] for r in current.json()["items"]] == ["moved-to-another-authority"]
    everything = await resolution.http.get(
        "/v1/closing-reasons", params={"include_retired": True}, headers=resolution.as_("IRO-1")
    )
    assert len(everything.json()["items"]) == 2
    assert (await resolution.http.get("/v1/closing-reasons/nope", headers=resolution.as_("IRO-1"))).status_code == 404


async def test_closing_unresolved_needs_a_current_coded_reason_and_is_reported_by_it(resolution) -> None:
    form = await resolution.raise_form()
    path = f"/v1/forms/{form['id']}/stages/informal/resolution"
    for body, why in (
        ({"resolved": False, "next_step": "close-unresolved", "close_reason": "Free text only"}, "no code"),
        ({"resolved": False, "next_step": "close-unresolved", "closing_reason_id": "no-such-reason"}, "unknown code"),
        ({"resolved": False, "next_step": "escalate", "closing_reason_id": "moved-to-another-authority"}, "code on escalation"),
        ({"resolved": False, "next_step": "close-unresolved", "closing_reason_id": "Not A Code!"}, "malformed code"),
    ):
        response = await resolution.http.put(path, json=body, headers=resolution.edit("IRO-1", 1))
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json", (
            why,
            response.text,
        )
    assert (await resolution.form(form["id"]))["version"] == 1  # nothing changed
    by_sw = await resolution.http.put(
        path,
        json={"resolved": False, "next_step": "close-unresolved", "closing_reason_id": "concern-withdrawn"},
        headers=resolution.edit("SW-1", 1),
    )
    assert by_sw.status_code == 403

    closed = await resolution.act(
        "PUT", path, "IRO-1", 1, {"resolved": False, "next_step": "close-unresolved", "closing_reason_id": "concern-withdrawn"}
    )
    assert (
        closed["stages"][0]["resolution"]["closing_reason_id"] == "concern-withdrawn"
        and closed["stages"][0]["resolution"]["close_reason"] is None
    )
    today = datetime.now(UTC).date()
    period = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    report = await resolution.http.get(
        "/v1/reports/resolutions", params={**period, "group_by": "closing-reason"}, headers=resolution.as_("QA-1")
    )
    assert report.status_code == 200, report.text
    assert [(r["key"], r["label"], r["closed_unresolved"]) for r in report.json()["rows"]] == [
        ("concern-withdrawn", "Concern withdrawn", 1)
    ]


async def test_a_form_closed_before_reasons_were_coded_still_loads_and_reports_as_uncoded(resolution) -> None:
    form = await resolution.raise_form()
    closed = await resolution.act(
        "PUT",
        f"/v1/forms/{form['id']}/stages/informal/resolution",
        "IRO-1",
        1,
        {"resolved": False, "next_step": "close-unresolved", "closing_reason_id": "moved-to-another-authority"},
    )
    # As stored by the earlier release: no coded reason anywhere in the document.
    await resolution.db["forms"].update_one(
        {"_id": form["id"]}, {"$unset": {"closing_reason_id": "", "stages.0.resolution.closing_reason_id": ""}}
    )
    # An upgrade from that release rebuilds the reports' roll-ups from the forms as stored.
    await readmodels.rebuild(resolution.db)
    again = await resolution.form(form["id"])
    assert again["version"] == closed["version"] and again["stages"][0]["resolution"]["closing_reason_id"] is None
    today = datetime.now(UTC).date()
    period = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    report = await resolution.http.get(
        "/v1/reports/resolutions", params={**period, "group_by": "closing-reason"}, headers=resolution.as_("QA-1")
    )
    assert [(r["key"], r["total"]) for r in report.json()["rows"]] == [("uncoded", 1)]

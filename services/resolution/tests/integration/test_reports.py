"""Real-time reports: counts by theme, stage, team, role and month; days per stage and to
resolution; the impact recorded. Straight from the forms as they are now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _period() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


async def _scenario(resolution) -> dict[str, str]:
    a = await resolution.raise_form(concerns=[{"theme_id": "care-planning", "detail": "x"}, {"theme_id": "contact", "detail": "y"}])
    b = await resolution.raise_form(case_id="CASE-2", by="CPC-1", concerns=[{"theme_id": "contact", "detail": "z"}])
    c = await resolution.raise_form(concerns=[{"theme_id": "placement-stability", "detail": "w"}])
    await resolution.act("PUT", f"/v1/forms/{a['id']}/stages/informal/resolution", "IRO-1", 1, {"resolved": True, "impact": "Plan agreed"})
    await resolution.act("PUT", f"/v1/forms/{b['id']}/stages/informal/resolution", "CPC-1", 1, {"resolved": False, "next_step": "escalate"})
    await resolution.act(
        "PUT", f"/v1/forms/{c['id']}/stages/informal/resolution", "IRO-1", 1,
        {"resolved": False, "next_step": "close-unresolved", "closing_reason_id": "moved-to-another-authority", "close_reason": "Moved away"},
    )
    return {"a": a["id"], "b": b["id"], "c": c["id"]}


async def _counts(resolution, group_by: str) -> dict[str, dict]:
    response = await resolution.http.get("/v1/reports/resolutions", params={**_period(), "group_by": group_by}, headers=resolution.as_("QA-1"))
    assert response.status_code == 200, response.text
    return {row["key"]: row for row in response.json()["rows"]}


async def test_counts_by_theme_stage_team_role_and_month(resolution) -> None:
    await _scenario(resolution)

    themes = await _counts(resolution, "theme")
    assert {k: (r["total"], r["resolved"], r["escalated"], r["closed_unresolved"]) for k, r in themes.items()} == {
        "care-planning": (1, 1, 0, 0), "contact": (2, 1, 1, 0), "placement-stability": (1, 0, 0, 1),
    }
    assert themes["contact"]["label"] == "Contact"
    stages = await _counts(resolution, "stage")
    assert {k: r["total"] for k, r in stages.items()} == {"informal": 2, "stage-1": 1}
    assert stages["stage-1"]["label"] == "Stage 1 (team manager)"
    assert {k: r["total"] for k, r in (await _counts(resolution, "team")).items()} == {"T-1": 2, "T-2": 1}
    assert {k: r["total"] for k, r in (await _counts(resolution, "role")).items()} == {"iro": 2, "cp_chair": 1}
    month = datetime.now(UTC).strftime("%Y-%m")
    assert (await _counts(resolution, "month"))[month]["total"] == 3
    # How they ended: only forms closed unresolved, by their coded closing reason.
    ended = await _counts(resolution, "closing-reason")
    assert {k: (r["total"], r["closed_unresolved"], r["label"]) for k, r in ended.items()} == {
        "moved-to-another-authority": (1, 1, "Moved to another authority"),
    }


async def test_days_per_stage_and_to_resolution_and_the_impact_recorded(resolution) -> None:
    ids = await _scenario(resolution)
    durations = (await resolution.http.get("/v1/reports/durations", params=_period(), headers=resolution.as_("QA-1"))).json()
    [informal] = durations["per_stage"]
    assert informal["stage"] == "informal" and informal["count"] == 3 and informal["average_days"] == 0
    assert durations["to_resolution"] == {"count": 1, "average_days": 0, "longest_days": 0}
    assert durations["to_closing_unresolved"]["count"] == 1

    impact = (await resolution.http.get("/v1/reports/impact", params={**_period(), "limit": 1}, headers=resolution.as_("QA-1"))).json()
    [row] = impact["items"]
    assert (row["form_id"], row["impact"], row["stage"], row["theme_ids"]) == (ids["a"], "Plan agreed", "informal", ["care-planning", "contact"])
    assert impact["next"] is None


async def test_reports_are_for_qa_and_senior_managers_over_a_sensible_period(resolution) -> None:
    refused = await resolution.http.get("/v1/reports/resolutions", params=_period(), headers=resolution.as_("SW-1"))
    assert refused.status_code == 403
    backwards = await resolution.http.get("/v1/reports/durations", params={"from": "2026-03-01", "to": "2026-02-01"}, headers=resolution.as_("QA-1"))
    assert backwards.status_code == 400
    too_long = await resolution.http.get("/v1/reports/impact", params={"from": "2000-01-01", "to": "2026-02-01"}, headers=resolution.as_("QA-1"))
    assert too_long.status_code == 400
    missing = await resolution.http.get("/v1/reports/resolutions", headers=resolution.as_("QA-1"))
    assert missing.status_code == 422
    bad_group = await resolution.http.get("/v1/reports/resolutions", params={**_period(), "group_by": "colour"}, headers=resolution.as_("QA-1"))
    assert bad_group.status_code == 422

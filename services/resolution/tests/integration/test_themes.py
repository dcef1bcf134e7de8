"""Themes through the API: managed by administrators and QA officers, listed for everyone,
changed with If-Match, retired rather than deleted."""

from __future__ import annotations


async def test_themes_are_listed_for_everyone_and_paginated(resolution) -> None:
    page = (await resolution.http.get("/v1/themes", params={"limit": 2}, headers=resolution.as_("SW-1"))).json()
    assert [t["id"] for t in page["items"]] == ["care-planning", "contact"] and page["next"]
    rest = (await resolution.http.get("/v1/themes", params={"cursor": page["next"]}, headers=resolution.as_("SW-1"))).json()
    assert [t["name"] for t in rest["items"]] == ["Placement stability"] and rest["next"] is None


async def test_only_an_administrator_or_qa_officer_manages_themes(resolution) -> None:
    refused = await resolution.http.post("/v1/themes", json={"name": "Drift"}, headers=resolution.as_("IRO-1"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    created = await resolution.http.post("/v1/themes", json={"name": "Drift", "description": "Plans not progressing"}, headers=resolution.as_("QA-1"))
    assert created.status_code == 201 and created.headers["ETag"] == '"1"' and created.json()["id"] == "drift"
    duplicate = await resolution.http.post("/v1/themes", json={"name": "  drift "}, headers=resolution.as_("ADM-1"))
    assert duplicate.status_code == 409
    blank = await resolution.http.post("/v1/themes", json={"name": "  "}, headers=resolution.as_("ADM-1"))
    assert blank.status_code == 422
    refused = await resolution.http.patch("/v1/themes/drift", json={"active": False}, headers=resolution.edit("SW-1", 1))
    assert refused.status_code == 403
    assert (await resolution.db["themes"].find_one({"_id": "drift"}))["active"] is True


async def test_a_retired_theme_is_no_longer_offered_and_cannot_be_chosen(resolution) -> None:
    stale = await resolution.http.patch("/v1/themes/contact", json={"active": False}, headers=resolution.edit("ADM-1", 5))
    assert stale.status_code == 412
    retired = await resolution.http.patch("/v1/themes/contact", json={"active": False}, headers=resolution.edit("ADM-1", 1))
    assert retired.status_code == 200 and retired.json()["active"] is False and retired.headers["ETag"] == '"2"'

    listed = (await resolution.http.get("/v1/themes", headers=resolution.as_("IRO-1"))).json()["items"]
    assert "contact" not in [t["id"] for t in listed]
    everything = (await resolution.http.get("/v1/themes", params={"include_retired": "true"}, headers=resolution.as_("IRO-1"))).json()["items"]
    assert "contact" in [t["id"] for t in everything]
    response = await resolution.http.post(
        "/v1/forms", json={"case_id": "CASE-1", "concerns": [{"theme_id": "contact", "detail": "x"}]}, headers=resolution.as_("IRO-1")
    )
    assert response.status_code == 422 and "retired" in response.json()["detail"]
    assert await resolution.db["theme_history"].count_documents({"theme_id": "contact"}) == 2

"""The resolution themes as a chart, through the service's API (issue 18: "resolution themes as
charts: served by the API as SVG (and PNG where a document needs it) beside the existing JSON";
001: "Several concerns, each with a category (theme), for service-improvement reporting"): one
horizontal bar per theme, most forms first, split by where the forms are now."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import numpy as np
from PIL import Image
from shared.charts import PALETTE

SVG = "{http://www.w3.org/2000/svg}"


def _period() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


def _bars_down_a_column(png: bytes, colour: str) -> int:
    """The most separate runs of ``colour`` down one column: horizontal bars of that colour, one above
    the other (a run shorter than a bar is thick, such as the legend's swatch, is not a bar)."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    mask = (np.abs(pixels - target) <= 30).all(axis=2).T
    best = 0
    for column in mask:
        edges = np.diff(np.concatenate(([0], column.astype(int), [0])))
        lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        best = max(best, int((lengths >= 25).sum()))
    return best


async def test_resolutions_by_theme_as_horizontal_bars_in_svg_and_png(resolution) -> None:
    a = await resolution.raise_form(concerns=[{"theme_id": "care-planning", "detail": "x"}, {"theme_id": "contact", "detail": "y"}])
    await resolution.raise_form(case_id="CASE-2", by="CPC-1", concerns=[{"theme_id": "contact", "detail": "z"}])
    await resolution.raise_form(concerns=[{"theme_id": "placement-stability", "detail": "w"}])
    await resolution.act("PUT", f"/v1/forms/{a['id']}/stages/informal/resolution", "IRO-1", 1, {"resolved": True, "impact": "Plan agreed"})
    qa = resolution.as_("QA-1")

    counts = await resolution.http.get("/v1/reports/resolutions", params=_period(), headers=qa)
    assert counts.status_code == 200 and counts.headers["content-type"] == "application/json"
    labels = {r["key"]: r["label"] for r in counts.json()["rows"]}
    assert set(labels) == {"care-planning", "contact", "placement-stability"}

    svg = await resolution.http.get("/v1/reports/resolutions", params={**_period(), "format": "svg"}, headers=qa)
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(svg.content)
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert set(labels.values()) <= texts, "every theme is named on its bar"
    ids = {g.get("id", "") for g in root.iter(f"{SVG}g")}
    # One bar per theme in each of the four series (open, escalated, resolved, closed unresolved).
    assert {f"resolutions-{s}-{n}" for s in range(4) for n in range(3)} <= ids and "resolutions-0-3" not in ids
    [desc] = root.findall(f"{SVG}desc")
    # Contact (two forms: one open, one resolved) comes first, then the themes of one form each by name.
    assert desc.text is not None and desc.text.startswith("Horizontal bar chart: Resolutions raised")
    assert "Open: Contact 1, Care planning 0, Placement stability 1. Escalated: Contact 0, " in desc.text
    assert "Resolved: Contact 1, Care planning 1, Placement stability 0." in desc.text

    png = await resolution.http.get("/v1/reports/resolutions", params=_period(), headers={**qa, "Accept": "image/png"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    # Down the first unit of the axis: contact's and placement stability's open forms (two bars, care
    # planning's row between them has none open) and care planning's resolved form (one bar).
    assert _bars_down_a_column(png.content, PALETTE[0]) == 2 and _bars_down_a_column(png.content, PALETTE[2]) == 1

    stages = await resolution.http.get("/v1/reports/resolutions", params={**_period(), "group_by": "stage", "format": "svg"}, headers=qa)
    assert stages.status_code == 200 and "Informal" in stages.text
    refused = await resolution.http.get("/v1/reports/resolutions", params={**_period(), "format": "svg"}, headers=resolution.as_("IRO-1"))
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    bad = await resolution.http.get("/v1/reports/resolutions", params={**_period(), "format": "gif"}, headers=qa)
    assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith("application/problem+json")

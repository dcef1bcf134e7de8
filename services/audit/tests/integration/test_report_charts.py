"""The audit reports as charts, through the service's API on a real database and broker (issue 18:
"Charts where people would rather look than read. Grade distributions, completion by team and
district, trends over months, agreement over time ... served by the API as SVG (and PNG where a
document needs it) beside the existing JSON/CSV, and embedded in the monthly report, team review and
moderation PDFs ... check the pictures by rendering them (pdftoppm for PDFs, headless Chromium for
SVG) in a test that asserts on what is drawn (e.g. number of bars)").

Four Hillingdon audits of October are completed with three distinct grades (outstanding, good twice,
requires improvement): the grade chart has three bars, counted in the SVG, in the PNG, in the SVG as
headless Chromium draws it, and on the pages of the monthly report's and the team review's PDFs as
pdftoppm draws them."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from audit.common.directory import CaseChanged, project_case
from audit.main import create_app
from PIL import Image
from pypdf import PdfReader
from shared.charts import PALETTE

from devstack.testing import ServiceClient, running_service

from .conftest import QA_OFFICER, clock, complete, seed_directory
from .test_agreement_report import _audit as kent_audit

HILLINGDON = "hillingdon-single-agency"
LEAD = ("P-QASM", ["service_manager", "lead_qa_auditor"])
PERF = ("P-PERF", ["performance_officer"])
PLAN = [{"action": "Update the chronology", "owner": "Social worker", "due": "2026-11-30"}]
SVG = "{http://www.w3.org/2000/svg}"
#: The grade chart's bars are drawn in the palette's first colour (one series, one colour).
BAR = PALETTE[0]
#: October's audits: case, grade (three distinct grades over four audits).
OCTOBER = (("C-3001", "outstanding"), ("C-3002", "good"), ("C-3003", "good"), ("C-3004", "requires_improvement"))


def count_bars(png: bytes, colour: str = BAR, *, min_run: int = 4, tolerance: int = 30) -> int:
    """The most separate runs of ``colour`` along one row of the picture: the number of vertical
    bars of that colour standing side by side (a bar of height 0 is not seen)."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    mask = (np.abs(pixels - target) <= tolerance).all(axis=2)
    best = 0
    for row in mask:
        edges = np.diff(np.concatenate(([0], row.astype(int), [0])))
        lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        best = max(best, int((lengths >= min_run).sum()))
    return best


def pdf_pages_as_png(pdf: bytes) -> list[bytes]:
    """Every page of ``pdf`` drawn by pdftoppm (poppler-utils; ./dev test installs it)."""
    found = shutil.which("pdftoppm")
    assert found, "pdftoppm is needed: apt-get install -y poppler-utils (./dev test installs it)"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "report.pdf"
        source.write_bytes(pdf)
        done = subprocess.run([found, "-r", "100", "-png", str(source), str(Path(folder) / "page")], capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return [p.read_bytes() for p in sorted(Path(folder).glob("page*.png"))]


def chromium_screenshot(svg: bytes) -> bytes:
    """``svg`` as headless Chromium draws it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no chromium binary on this machine (apt-get install -y chromium; ./dev test installs it)")
    with tempfile.TemporaryDirectory() as folder:
        source, shot = Path(folder) / "chart.svg", Path(folder) / "chart.png"
        source.write_bytes(svg)
        done = subprocess.run(
            [found, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={folder}/profile", f"--screenshot={shot}", "--window-size=900,500", source.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
        return shot.read_bytes()


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _alt_texts(pdf: bytes) -> str:
    """The alternative texts of the PDF's figures (the /Alt entries of its structure tree)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif hasattr(node, "keys"):
            if "/Alt" in node:
                found.append(str(node["/Alt"]))
            if "/K" in node:
                walk(node["/K"])

    walk(PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/StructTreeRoot"])
    return "\n".join(found)


def _svg(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def _desc(root: ET.Element) -> str:
    [desc] = root.findall(f"{SVG}desc")
    return desc.text or ""


def _bar_heights(root: ET.Element, gid: str) -> dict[str, float]:
    """The height of each bar ``<gid>-<n>`` drawn in the SVG (from its path's y coordinates)."""
    heights = {}
    for group in root.iter(f"{SVG}g"):
        ident = group.get("id", "")
        if ident.startswith(f"{gid}-"):
            path = group.find(f"{SVG}path")
            assert path is not None, ident
            ys = [float(token) for n, token in enumerate(path.get("d", "").replace("M", " ").replace("L", " ").replace("z", " ").split()) if n % 2]
            heights[ident] = round(max(ys) - min(ys), 3)
    return heights


@pytest.fixture
async def svc(service_env: dict[str, str]) -> AsyncIterator[ServiceClient]:
    async with running_service(lambda: create_app(clock=clock())) as service:
        await seed_directory(service.db)
        for case_id, _ in OCTOBER[1:]:
            await project_case(service.db, CaseChanged(case_id=case_id, version=1, case_type="CIN", team_id="T-CP", team_manager_id="P-TM3", opened_on=date(2026, 1, 20)))
        yield service


async def _october(svc: ServiceClient) -> None:
    qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
    auditor = svc.as_person("P-SM", roles=["service_manager"])
    for case_id, grade in OCTOBER:
        created = await svc.http.post("/v1/audits", json={"tool_id": HILLINGDON, "case_id": case_id, "auditor_id": "P-SM", "month": "2026-10"}, headers=qa)
        assert created.status_code == 201, created.text
        work = complete(created.json()["form"], grade=grade, action_plan=PLAN)
        saved = await svc.http.put(f"/v1/audits/{created.json()['id']}/stage1", json=work, headers={**auditor, "If-Match": created.headers["ETag"]})
        done = await svc.http.post(f"/v1/audits/{created.json()['id']}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]})
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text


async def test_the_grade_chart_has_a_bar_per_grade_given_as_svg_png_and_in_chromium(svc: ServiceClient) -> None:
    await _october(svc)
    perf = svc.as_person(*PERF[:1], roles=PERF[1])

    as_json = await svc.http.get("/v1/reports/grades?period=2026-10", headers=perf)
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    assert as_json.json()["grades"] == {"outstanding": 1, "good": 2, "requires_improvement": 1, "inadequate": 0, "inadequate_critical": 0}
    as_csv = await svc.http.get("/v1/reports/grades?period=2026-10&format=csv", headers=perf)
    assert {r["key"]: r["audits"] for r in csv.DictReader(io.StringIO(as_csv.text)) if r["kind"] == "grade"}["good"] == "2"

    svg = await svc.http.get("/v1/reports/grades?period=2026-10&format=svg", headers=perf)
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["content-disposition"] == 'inline; filename="audit-grades-2026-10.svg"'
    root = _svg(svg.content)
    heights = _bar_heights(root, "grades-0")
    assert len(heights) == 5, "one bar per grade of the scale"
    assert sorted(k for k, h in heights.items() if h > 0) == ["grades-0-0", "grades-0-1", "grades-0-2"]
    assert heights["grades-0-1"] == pytest.approx(2 * heights["grades-0-0"], abs=0.01), "good (2) twice as tall as outstanding (1)"
    assert _desc(root) == (
        "Bar chart: Grades of the audits completed in 2026-10. "
        "Audits: Outstanding 1, Good 2, Requires improvement 1, Inadequate 0, Inadequate (critical) 0."
    )
    assert svg.content == (await svc.http.get("/v1/reports/grades?period=2026-10", headers={**perf, "Accept": "image/svg+xml"})).content

    png = await svc.http.get("/v1/reports/grades?period=2026-10", headers={**perf, "Accept": "image/png"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert count_bars(png.content) == 3
    assert count_bars(chromium_screenshot(svg.content)) == 3

    nothing = _svg((await svc.http.get("/v1/reports/grades?period=2026-09&format=svg", headers=perf)).content)
    assert "No data" in {t.text for t in nothing.iter(f"{SVG}text")} and _bar_heights(nothing, "grades-0") == {}
    refused = await svc.http.get("/v1/reports/grades?period=2026-10&format=svg", headers=svc.as_person("P-SW1", roles=["social_worker"]))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    bad = await svc.http.get("/v1/reports/grades?period=2026-10&format=gif", headers=perf)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


async def test_the_monthly_report_and_the_team_review_pdfs_draw_the_grade_chart(svc: ServiceClient) -> None:
    await _october(svc)
    lead = svc.as_person(LEAD[0], roles=LEAD[1])
    draft = await svc.http.post("/v1/hillingdon/monthly-reports", json={"month": "2026-10"}, headers=lead)
    assert draft.status_code == 201, draft.text
    monthly = await svc.http.get("/v1/hillingdon/monthly-reports/2026-10/pdf", headers=lead)
    assert monthly.status_code == 200 and monthly.headers["content-type"] == "application/pdf"
    assert "Good: 2" in _pdf_text(monthly.content), "the figures are still written out beside the chart"
    assert max(count_bars(page) for page in pdf_pages_as_png(monthly.content)) == 3
    assert "Bar chart: Grades of the audits completed, 2026-10. Audits: Outstanding 1, Good 2" in _alt_texts(monthly.content)

    tm = svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"])
    review = await svc.http.post("/v1/team-reviews", json={"team_id": "T-CP", "to": "2026-10"}, headers=tm)
    assert review.status_code == 201, review.text
    pdf = await svc.http.get(f"/v1/team-reviews/{review.json()['id']}/pdf", headers=tm)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert max(count_bars(page) for page in pdf_pages_as_png(pdf.content)) == 3


async def test_completion_by_team_and_district_and_the_trend_as_charts(svc: ServiceClient) -> None:
    await _october(svc)
    perf = svc.as_person(*PERF[:1], roles=PERF[1])
    by_team = await svc.http.get("/v1/reports/completion?month=2026-10&by=team", headers=perf)
    rows = by_team.json()["rows"]
    chart = await svc.http.get("/v1/reports/completion?month=2026-10&by=team&format=svg", headers=perf)
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    root = _svg(chart.content)
    assert len(_bar_heights(root, "completion-0")) == len(rows) >= 1
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {r["name"] for r in rows} <= texts and "100%" in texts
    by_district = await svc.http.get("/v1/reports/completion?month=2026-10&by=district&format=png", headers=perf)
    assert by_district.status_code == 200 and by_district.content.startswith(b"\x89PNG")
    assert count_bars(by_district.content) == len((await svc.http.get("/v1/reports/completion?month=2026-10&by=district", headers=perf)).json()["rows"])

    trend = await svc.http.get("/v1/reports/trend?from=2026-08&to=2026-11&format=svg", headers=perf)
    assert trend.status_code == 200
    root = _svg(trend.content)
    lines = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert {"trend-0", "trend-1"} <= lines, "completion rate and audits completed, one line each"
    assert "Audits completed: 2026-08 0, 2026-09 0, 2026-10 4, 2026-11 0." in _desc(root)
    assert "Completion rate: 2026-08 no value, 2026-09 no value, 2026-10 100%, 2026-11 no value." in _desc(root)
    assert (await svc.http.get("/v1/reports/trend?from=2026-11&to=2026-08&format=svg", headers=perf)).status_code == 422


async def test_agreement_over_time_as_a_chart_and_as_a_pdf_with_its_table(svc: ServiceClient) -> None:
    await kent_audit(svc, "k1", case_id="C-3001", auditor="P-TM3", month="2026-07", peer_grades={})
    await kent_audit(svc, "k2", case_id="C-4001", auditor="P-TM4", month="2026-07", peer_grades={"overall": "requires_improvement"}, moderated={})
    await kent_audit(
        svc, "k3", case_id="C-3001", auditor="P-TM3", month="2026-08", peer_grades={"assessment": "requires_improvement", "planning": "requires_improvement"},
        moderated={"assessment": "requires_improvement"},
    )
    await kent_audit(svc, "k4", case_id="C-4001", auditor="P-TM4", month="2026-08", peer_grades={})
    perf = svc.as_person(*PERF[:1], roles=PERF[1])
    report = (await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=month", headers=perf)).json()
    raw = {r["group"]: r["agreement"]["raw_agreement"] for r in report["rows"]}
    assert set(raw) == {"2026-07", "2026-08"} and all(v is not None for v in raw.values())

    svg = await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=month&format=svg", headers=perf)
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    root = _svg(svg.content)
    assert {"agreement-0", "agreement-1"} <= {g.get("id") for g in root.iter(f"{SVG}g")}
    assert f"Raw agreement: 2026-07 {raw['2026-07']:.2f}, 2026-08 {raw['2026-08']:.2f}." in _desc(root)

    pdf = await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=month", headers={**perf, "Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="moderation-agreement-2026-Q3-month.pdf"'
    text = _pdf_text(pdf.content)
    for line in ("Moderation agreement 2026-Q3", "Agreement over time", "2026-07", "2026-08", "quadratic", f"{raw['2026-08']:.0%}"):
        assert line in text, line
    [page] = pdf_pages_as_png(pdf.content)
    pixels = np.asarray(Image.open(io.BytesIO(page)).convert("RGB"), dtype=int)
    for colour in PALETTE[:2]:  # both lines are drawn, each in its own colour
        target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - target) <= 30).all(axis=2).sum() > 50, colour
    by_team = await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=team&format=png", headers=perf)
    assert by_team.status_code == 200 and by_team.content.startswith(b"\x89PNG")
    # JSON and CSV as they were.
    assert (await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=month", headers=perf)).json() == report
    as_csv = await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3", headers={**perf, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")

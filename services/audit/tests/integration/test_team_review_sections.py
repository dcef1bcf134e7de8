"""Hillingdon 6.2 over the API with a real MongoDB: QA staff enter the team review pack's
performance indicators and key practice issues from IMRs or SCRs; the team's managers and others
may not; refusals change nothing; every version is kept; the PDF shows both sections."""

from __future__ import annotations

import io

from pypdf import PdfReader

from .conftest import QA_OFFICER
from .service import is_problem, seeded_service

INDICATORS = {
    "indicators": [
        {"name": "Assessments completed within 45 working days", "value": "87%", "target": "90%", "comment": "Two late in July"},
        {"name": "Children seen within timescale", "value": "95%"},
    ]
}
ISSUES = {
    "issues": [
        {"source": "scr", "reference": "SCR-2026-03", "issue": "Fathers not engaged in assessments"},
        {"source": "imr", "reference": "IMR-17", "issue": "Strategy discussions not minuted"},
    ]
}


async def test_qa_staff_enter_the_indicators_and_practice_issues_and_the_pdf_shows_them(service_env) -> None:
    async with seeded_service() as svc:
        http = svc.http
        qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        tm, sm = svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"]), svc.as_person("P-SM", roles=["service_manager"])
        issued = await http.post("/v1/team-reviews", json={"team_id": "T-CP", "to": "2026-09"}, headers=qa)
        assert issued.status_code == 201, issued.text
        review = issued.json()
        assert review["performance_indicators"] == [] and review["practice_issues"] == []
        url, etag = f"/v1/team-reviews/{review['id']}", issued.headers["ETag"]

        # Refusals change nothing: no If-Match, not QA staff, a party-outsider, bad entries, a stale version.
        assert is_problem(await http.put(f"{url}/performance-indicators", json=INDICATORS, headers=qa), 428)
        for who in (tm, sm):
            assert is_problem(
                await http.put(f"{url}/performance-indicators", json=INDICATORS, headers={**who, "If-Match": etag}), 403
            )
            assert is_problem(await http.put(f"{url}/practice-issues", json=ISSUES, headers={**who, "If-Match": etag}), 403)
        outsider = svc.as_person("P-X", roles=["team_manager"], teams=["T-CIN"])
        assert is_problem(await http.put(f"{url}/practice-issues", json=ISSUES, headers={**outsider, "If-Match": etag}), 404)
        twice = {"indicators": [INDICATORS["indicators"][1], {**INDICATORS["indicators"][1], "value": "90%"}]}
        refused = await http.put(f"{url}/performance-indicators", json=twice, headers={**qa, "If-Match": etag})
        assert is_problem(refused, 422) and refused.json()["errors"][0]["field"] == "indicators.1.name"
        bad_source = {"issues": [{"source": "audit", "reference": "X", "issue": "y"}]}
        assert is_problem(await http.put(f"{url}/practice-issues", json=bad_source, headers={**qa, "If-Match": etag}), 422)
        unchanged = await http.get(url, headers=tm)
        assert unchanged.headers["ETag"] == etag and unchanged.json()["performance_indicators"] == []

        entered = await http.put(f"{url}/performance-indicators", json=INDICATORS, headers={**qa, "If-Match": etag})
        assert entered.status_code == 200, entered.text
        assert [i["value"] for i in entered.json()["performance_indicators"]] == ["87%", "95%"]
        assert is_problem(await http.put(f"{url}/practice-issues", json=ISSUES, headers={**qa, "If-Match": etag}), 412)
        issues = await http.put(f"{url}/practice-issues", json=ISSUES, headers={**qa, "If-Match": entered.headers["ETag"]})
        assert issues.status_code == 200, issues.text
        seen = (await http.get(url, headers=tm)).json()
        assert [i["reference"] for i in seen["practice_issues"]] == ["SCR-2026-03", "IMR-17"] and len(
            seen["performance_indicators"]
        ) == 2

        # A correction replaces the list; the earlier versions are kept.
        corrected = {"indicators": [{**INDICATORS["indicators"][0], "value": "88%"}]}
        fixed = await http.put(
            f"{url}/performance-indicators", json=corrected, headers={**qa, "If-Match": issues.headers["ETag"]}
        )
        assert fixed.status_code == 200 and [i["value"] for i in fixed.json()["performance_indicators"]] == ["88%"]
        history = (await http.get(f"{url}/history", headers=qa)).json()["items"]
        assert [[i["value"] for i in h["record"].get("performance_indicators", [])] for h in history] == [
            [],
            ["87%", "95%"],
            ["87%", "95%"],
            ["88%"],
        ]

        document = await http.get(f"{url}/pdf", headers=sm)
        assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(document.content)).pages)
        assert "Performance indicators" in text and "88%" in text and "87%" not in text
        assert (
            "Key practice issues arising from IMRs or SCRs" in text
            and "SCR SCR-2026-03: Fathers not engaged in assessments" in text
        )
        assert "IMR IMR-17: Strategy discussions not minuted" in text

"""Moderation agreement end to end (issue 18), through the gateway with the services as real
processes: a team's Kent audits taken through peer review and, where the grades differ,
moderation; the agreement report then shows the team's weighted kappa with its interval, the
confusion matrix and what moderation did, as JSON and CSV, to the performance unit only."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest

from devstack.testing import eventually

pytestmark = pytest.mark.e2e

KENT = "kent-online-peer-review"


def _work(form: dict[str, Any], *, peer: bool, changes: dict[str, str] | None = None) -> dict[str, Any]:
    """A complete Kent stage graded good everywhere (but ``changes``; "overall" is the overall grade)."""
    changes = dict(changes or {})
    answers = {q["key"]: {"value": "yes" if q["scale"] != "text" else "Recorded."} for s in form["sections"] for q in s["questions"]}
    grades = {s["key"]: "good" for s in form["sections"] if s["graded"] or (s["oversight"] and peer)}
    overall = changes.pop("overall", "good")
    grades.update(changes)
    return {
        "answers": answers, "section_grades": grades, "overall_grade": overall,
        "oversight_comment": "" if peer else "I supervise this case monthly.",
        "analysis": "Risk is understood; the plan is clear.", "recommendations": "Record supervision on the file.",
    }


async def test_a_teams_moderation_agreement_after_several_moderated_audits(gateway) -> None:
    n = uuid.uuid4().hex[:6].upper()
    ids = {role: f"MA{n}-{role}" for role in ("SM", "TM", "PR", "QA", "PERF", "SW")}
    team = f"T-MA{n}"
    writer = await gateway.as_integration()
    people = {
        "SM": ["service_manager"], "TM": ["team_manager", "auditor"], "PR": ["peer_reviewer"], "QA": ["qa_officer"],
        "PERF": ["performance_officer"], "SW": ["social_worker"],
    }
    for key, roles in people.items():
        body = {"name": f"Person {key} {n}", "email": f"{ids[key].lower()}@council.example", "roles": roles,
                "team_id": team if key in ("TM", "SW") else None, "line_manager_id": ids["SM"] if key != "SM" else None}
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/teams/{team}", json={"name": f"Agreement Team {n}", "district": "East", "area": "Kent", "service": "CSC", "manager_id": ids["TM"]},
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    cases = [f"C-MA{n}-{i}" for i in range(3)]
    for case in cases:
        resp = await gateway.http.put(
            f"/api/v1/directory/cases/{case}",
            json={"child_name": "Test Child", "case_type": "CP", "team_id": team, "team_manager_id": ids["TM"], "opened_on": "2026-03-02"},
            headers=writer,
        )
        assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}

    # Three audits of the team: the first agreed everywhere; the second and third differ and are
    # moderated (the peer reviewer's grade kept for one, the auditor's for the other).
    plans: list[tuple[dict[str, str], dict[str, str] | None]] = [
        ({}, None),
        ({"assessment": "requires_improvement"}, {"assessment": "requires_improvement"}),
        ({"planning": "requires_improvement", "overall": "requires_improvement"}, {}),
    ]
    for case, (peer_changes, moderated) in zip(cases, plans, strict=True):
        async def allocated(case: str = case) -> dict[str, Any] | None:
            body = {"tool_id": KENT, "case_id": case, "auditor_id": ids["TM"], "peer_reviewer_id": ids["PR"], "month": "2026-08"}
            resp = await gateway.http.post("/api/v1/audit/audits", json=body, headers=as_["QA"])
            return resp.json() if resp.status_code == 201 else None

        audit = await eventually(allocated, timeout=60, interval=0.5, message=f"the audit of {case} allocated")
        url = f"/api/v1/audit/audits/{audit['id']}"
        saved = await gateway.http.put(f"{url}/stage1", json=_work(audit["form"], peer=False), headers={**as_["TM"], "If-Match": f'"{audit["version"]}"'})
        assert saved.status_code == 200, saved.text
        done = await gateway.http.post(f"{url}/stage1/submit", headers={**as_["TM"], "If-Match": saved.headers["etag"]})
        assert done.status_code == 200, done.text
        saved = await gateway.http.put(f"{url}/peer-review", json=_work(audit["form"], peer=True, changes=peer_changes), headers={**as_["PR"], "If-Match": done.headers["etag"]})
        assert saved.status_code == 200, saved.text
        done = await gateway.http.post(f"{url}/peer-review/submit", headers={**as_["PR"], "If-Match": saved.headers["etag"]})
        assert done.status_code == 200, done.text
        if moderated is not None:
            assert done.json()["status"] == "moderation"
            grades = {s["key"]: moderated.get(s["key"], "good") for s in audit["form"]["sections"] if s["graded"] or s["oversight"]}
            proposal = {"section_grades": grades, "overall_grade": "good", "comment": "Agreed after discussion."}
            proposed = await gateway.http.post(f"{url}/moderation/proposals", json=proposal, headers={**as_["TM"], "If-Match": done.headers["etag"]})
            assert proposed.status_code == 200, proposed.text
            done = await gateway.http.post(f"{url}/moderation/accept", headers={**as_["PR"], "If-Match": proposed.headers["etag"]})
            assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed", done.text
    paired = [s["key"] for s in audit["form"]["sections"] if s["graded"] and not s["oversight"]]
    pairs = 3 * (len(paired) + 1)

    report_url = "/api/v1/audit/reports/moderation-agreement"
    report = await gateway.http.get(report_url, params={"period": "2026-Q3", "by": "team", "weights": "quadratic"}, headers=as_["PERF"])
    assert report.status_code == 200, report.text
    [row] = [r for r in report.json()["rows"] if r["group"] == team]
    assert row["name"] == f"Agreement Team {n}"
    agreement, moderation = row["agreement"], row["moderation"]
    assert agreement["pairs"] == pairs >= 10 and agreement["agreed"] == pairs - 3
    assert agreement["kappa_status"] == "ok" and not agreement["small_sample"] and agreement["kappa"] is not None
    # Every auditor here graded "good": the kappa's variance is undefined, so no standard error
    # and no interval (said, not invented as a zero-width one).
    assert agreement["standard_error"] is None and agreement["ci_low"] is None and agreement["ci_high"] is None
    assert agreement["raw_agreement"] == round((pairs - 3) / pairs, 4)
    assert agreement["confusion"]["good"]["requires_improvement"] == 3 and agreement["confusion"]["good"]["good"] == pairs - 3
    assert (moderation["audits"], moderation["moderated"], moderation["escalated"]) == (3, 2, 0)
    # assessment: moderated to the peer reviewer's requires improvement (lowered from the auditor's);
    # planning and the overall grade: back to the auditor's good (raised from the peer reviewer's).
    assert moderation["from_auditor"]["lowered"] == 1 and moderation["from_peer_reviewer"]["raised"] == 2

    # One auditor/peer reviewer pair, the sub-sections, and the CSV for the performance unit.
    by_pair = (await gateway.http.get(report_url, params={"period": "2026-Q3", "by": "pair"}, headers=as_["PERF"])).json()
    [pair] = [r for r in by_pair["rows"] if r["group"] == f"{ids['TM']}/{ids['PR']}"]
    assert pair["agreement"]["kappa"] == agreement["kappa"]
    overall = (await gateway.http.get(report_url, params={"period": "2026-08", "by": "team", "item": "overall"}, headers=as_["PERF"])).json()
    [overall_row] = [r for r in overall["rows"] if r["group"] == team]
    assert overall_row["agreement"]["pairs"] == 3 and overall_row["agreement"]["small_sample"] and overall_row["agreement"]["kappa"] is None
    as_csv = await gateway.http.get(report_url, params={"period": "2026-Q3", "by": "team", "format": "csv"}, headers=as_["PERF"])
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    [line] = [r for r in csv.DictReader(io.StringIO(as_csv.text)) if r["group"] == team]
    assert line["kappa"] == str(agreement["kappa"]) and line["pairs"] == str(pairs) and line["moderated"] == "2"

    for key in ("SW", "TM", "PR"):
        refused = await gateway.http.get(report_url, params={"period": "2026-Q3"}, headers=as_[key])
        assert refused.status_code == 403, key

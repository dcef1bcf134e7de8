"""The moderation agreement report over the API (issue 18), against real MongoDB and RabbitMQ:
Kent audits taken through peer review (and moderation where the grades differ), then the report
per team, sub-section, pair, month and quarter, JSON and CSV, and who may read it."""

from __future__ import annotations

import csv
import io
from typing import Any

from audit.case_audit.store import AUDITS
from audit.common.grades import Grade
from audit.reporting.domain import agreement as ag

from devstack.testing import ServiceClient

from .conftest import QA_OFFICER, complete, grading

KENT = "kent-online-peer-review"


async def _audit(svc: ServiceClient, key: str, *, case_id: str, auditor: str, month: str, peer_grades: dict[str, str], moderated: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """One Kent audit: the auditor grades everything good; the peer reviewer changes ``peer_grades``;
    where they differ the auditor proposes ``moderated`` and the peer reviewer accepts."""
    qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
    tm = svc.as_person(auditor, roles=["team_manager", "auditor"])
    pr = svc.as_person("P-PR", roles=["peer_reviewer"])
    allocation = {"tool_id": KENT, "case_id": case_id, "auditor_id": auditor, "peer_reviewer_id": "P-PR", "month": month}
    created = await svc.http.post("/v1/audits", json=allocation, headers={**qa, "Idempotency-Key": key})
    assert created.status_code == 201, created.text
    audit_id, form = created.json()["id"], created.json()["form"]
    saved = await svc.http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form), headers={**tm, "If-Match": '"1"'})
    done = await svc.http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**tm, "If-Match": saved.headers["ETag"]})
    assert done.status_code == 200, done.text
    review = complete(form, peer=True)
    overall = peer_grades.pop("overall", None)
    review["section_grades"].update(peer_grades)
    if overall:
        review["overall_grade"] = overall
    saved = await svc.http.put(f"/v1/audits/{audit_id}/peer-review", json=review, headers={**pr, "If-Match": done.headers["ETag"]})
    done = await svc.http.post(f"/v1/audits/{audit_id}/peer-review/submit", headers={**pr, "If-Match": saved.headers["ETag"]})
    assert done.status_code == 200, done.text
    if moderated is not None:
        overall_moderated = moderated.pop("overall", "good")
        proposed = await svc.http.post(
            f"/v1/audits/{audit_id}/moderation/proposals", json=grading(form, "good", overall_moderated, **moderated), headers={**tm, "If-Match": done.headers["ETag"]},
        )
        assert proposed.status_code == 200, proposed.text
        done = await svc.http.post(f"/v1/audits/{audit_id}/moderation/accept", headers={**pr, "If-Match": proposed.headers["ETag"]})
        assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed", done.json()["status"]
    return audit_id, form


def _paired_sections(form: dict[str, Any]) -> list[str]:
    return [s["key"] for s in form["sections"] if s["graded"] and not s["oversight"]]


async def test_the_agreement_report_for_teams_sub_sections_pairs_and_months_as_json_and_csv(svc: ServiceClient) -> None:
    # T-CP: two audits, one agreeing everywhere, one where the peer reviewer graded two sections
    # requires improvement and moderation settled one each way; T-CIC: one audit (a small sample).
    _, form = await _audit(svc, "a1", case_id="C-3001", auditor="P-TM3", month="2026-07", peer_grades={})
    await _audit(
        svc, "a2", case_id="C-3001", auditor="P-TM3", month="2026-08", peer_grades={"assessment": "requires_improvement", "planning": "requires_improvement"},
        moderated={"assessment": "requires_improvement"},
    )
    _, cic_form = await _audit(svc, "a3", case_id="C-4001", auditor="P-TM4", month="2026-08", peer_grades={"overall": "requires_improvement"}, moderated={})
    sections = _paired_sections(form)
    cp_pairs = [(Grade.GOOD, Grade.GOOD)] * (2 * len(sections) + 2 - 2) + [(Grade.GOOD, Grade.REQUIRES_IMPROVEMENT)] * 2
    perf = svc.as_person("P-PERF", roles=["performance_officer"])

    report = await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=team", headers=perf)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["months"] == ["2026-07", "2026-08", "2026-09"] and body["weights"] == "quadratic" and body["min_pairs"] == 10
    assert body["scale"] == ["outstanding", "good", "requires_improvement", "inadequate", "inadequate_critical"]
    rows = {r["group"]: r for r in body["rows"]}
    cp = rows["T-CP"]
    assert cp["name"] == "Thanet Child Protection"
    expected = ag.agreement(cp_pairs)
    assert cp["agreement"]["pairs"] == len(cp_pairs) >= 10 and cp["agreement"]["agreed"] == len(cp_pairs) - 2
    assert cp["agreement"]["kappa_status"] == "ok" and not cp["agreement"]["small_sample"]
    assert cp["agreement"]["kappa"] == expected.kappa and cp["agreement"]["raw_agreement"] == expected.raw_agreement
    assert cp["agreement"]["confusion"]["good"]["requires_improvement"] == 2 and cp["agreement"]["confusion"]["good"]["good"] == len(cp_pairs) - 2
    moderation = cp["moderation"]
    assert (moderation["audits"], moderation["moderated"], moderation["escalated"], moderation["moderation_rate"]) == (2, 1, 0, 0.5)
    # assessment moderated to requires improvement (lowered from the auditor's good, the peer
    # reviewer's kept); planning back to good (the auditor's kept, raised from the peer reviewer's).
    assert moderation["from_auditor"]["lowered"] == 1 and moderation["from_peer_reviewer"]["raised"] == 1
    cic = rows["T-CIC"]
    assert cic["agreement"]["small_sample"] and cic["agreement"]["kappa"] is None and cic["agreement"]["raw_agreement"] is None
    assert cic["agreement"]["pairs"] == len(_paired_sections(cic_form)) + 1 and cic["moderation"]["moderated"] == 1
    assert body["total"]["moderation"]["audits"] == 3

    by_section = (await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=sub_section&weights=linear", headers=perf)).json()
    section_rows = {r["group"]: r for r in by_section["rows"]}
    assert by_section["weights"] == "linear" and by_section["rows"][-1]["group"] == "overall"
    title = next(s["title"] for s in form["sections"] if s["key"] == "assessment")
    in_cic = "assessment" in _paired_sections(cic_form)
    assert section_rows["assessment"]["name"] == title
    assert (section_rows["assessment"]["agreement"]["pairs"], section_rows["assessment"]["agreement"]["agreed"]) == (2 + in_cic, 1 + in_cic)
    assert "supervision_and_oversight" not in section_rows
    assert section_rows["overall"]["agreement"]["pairs"] == 3 and section_rows["overall"]["agreement"]["agreed"] == 2

    by_pair = (await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=pair", headers=perf)).json()
    assert [r["group"] for r in by_pair["rows"]] == ["P-TM3/P-PR", "P-TM4/P-PR"]
    by_month = (await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=month", headers=perf)).json()
    assert [(r["group"], r["moderation"]["audits"]) for r in by_month["rows"]] == [("2026-07", 1), ("2026-08", 2)]
    by_quarter = (await svc.http.get("/v1/reports/moderation-agreement?period=2026&by=quarter", headers=perf)).json()
    assert len(by_quarter["months"]) == 12 and [(r["group"], r["moderation"]["audits"]) for r in by_quarter["rows"]] == [("2026-Q3", 3)]
    overall_only = (await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&item=overall", headers=perf)).json()
    assert overall_only["item"] == "overall" and overall_only["total"]["agreement"]["pairs"] == 3
    july = (await svc.http.get("/v1/reports/moderation-agreement?period=2026-07", headers=perf)).json()
    assert july["total"]["moderation"]["audits"] == 1
    empty = (await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q4", headers=perf)).json()
    assert empty["rows"] == [] and empty["total"]["agreement"]["pairs"] == 0 and empty["total"]["agreement"]["small_sample"]

    as_csv = await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3&by=team&format=csv", headers=perf)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "moderation-agreement-2026-Q3-team.csv" in as_csv.headers["content-disposition"]
    lines = {r["group"]: r for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert set(lines) == {"T-CP", "T-CIC", "(all)"}
    assert lines["T-CP"]["kappa"] == str(expected.kappa) and lines["T-CP"]["auditor_good__peer_reviewer_requires_improvement"] == "2"
    assert lines["T-CIC"]["small_sample"] == "True" and lines["T-CIC"]["kappa"] == ""
    accept = await svc.http.get("/v1/reports/moderation-agreement?period=2026-Q3", headers={**perf, "Accept": "text/csv"})
    assert accept.headers["content-type"].startswith("text/csv")


async def test_an_audit_saved_before_the_paired_grades_were_kept_is_read_whole(svc: ServiceClient) -> None:
    await _audit(svc, "b1", case_id="C-3001", auditor="P-TM3", month="2026-08", peer_grades={"planning": "requires_improvement"}, moderated={})
    perf = svc.as_person("P-PERF", roles=["performance_officer"])
    url = "/v1/reports/moderation-agreement?period=2026-08&by=sub_section"
    before = (await svc.http.get(url, headers=perf)).json()
    changed = await svc.db[AUDITS].update_many({}, {"$unset": {"agreement": ""}})
    assert changed.modified_count == 1
    after = (await svc.http.get(url, headers=perf)).json()
    assert after == before and after["total"]["moderation"]["moderated"] == 1


async def test_who_may_read_the_agreement_report_and_what_it_refuses(svc: ServiceClient) -> None:
    url = "/v1/reports/moderation-agreement?period=2026-Q3"
    for person, roles in [("P-QA", ["qa_officer"]), ("P-SM", ["service_manager"]), ("P-AD", ["assistant_director"]), ("P-QASM", ["lead_qa_auditor"])]:
        assert (await svc.http.get(url, headers=svc.as_person(person, roles=roles))).status_code == 200, roles
    for person, roles in [("SW", ["social_worker"]), ("P-TM3", ["team_manager", "auditor"]), ("P-PR", ["peer_reviewer"])]:
        refused = await svc.http.get(url, headers=svc.as_person(person, roles=roles))
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json"), roles
    qa = svc.as_person("P-QA", roles=["qa_officer"])
    for bad in ["period=2026-13", "period=2026-Q5", "period=26", "period=2026-Q3&by=district", "period=2026-Q3&weights=cubic", "period=2026-Q3&item=", "by=team"]:
        refused = await svc.http.get(f"/v1/reports/moderation-agreement?{bad}", headers=qa)
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json"), bad

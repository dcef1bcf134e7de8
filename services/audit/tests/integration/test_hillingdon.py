"""Hillingdon's framework through the API, on a real database and broker: a single-agency audit
graded requires improvement opens a review for the case's service manager (from the service's own
``audit.audit.completed``), who reports it to the assistant director; the lead QA auditor's monthly
report is generated, edited, issued as a PDF and then refuses every change; a themed report; a crib
sheet checked and the service manager's monthly session reported."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from audit.common.directory import CaseChanged, project_case
from audit.hillingdon import events as he
from audit.hillingdon import store as hillingdon_store
from audit.hillingdon import usecases
from pypdf import PdfReader

from devstack.testing import EventCapture, ServiceClient
from devstack.testing import problem as _problem

from .conftest import QA_OFFICER, complete
from .service import seeded_service

HILLINGDON = "hillingdon-single-agency"
LEAD = ("P-QASM", ["service_manager", "lead_qa_auditor"])
PLAN = [{"action": "Update the chronology", "owner": "Social worker", "due": "2026-11-30"}]
OUTCOME = {"outcome": "Discussed with the team manager.", "actions_taken": ["Chronology to be updated"], "practice_issues": True}


def _text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


async def _complete_audit(svc: Any, case_id: str, auditor: str, grade: str, no: str | None = None) -> str:
    qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
    created = await svc.http.post("/v1/audits", json={"tool_id": HILLINGDON, "case_id": case_id, "auditor_id": auditor, "month": "2026-10"}, headers=qa)
    assert created.status_code == 201, created.text
    me = svc.as_person(auditor, roles=["team_manager", "auditor"])
    work = complete(created.json()["form"], grade=grade, action_plan=PLAN)
    if no:
        work["answers"][no] = {"value": "no"}
    saved = await svc.http.put(f"/v1/audits/{created.json()['id']}/stage1", json=work, headers={**me, "If-Match": created.headers["ETag"]})
    done = await svc.http.post(f"/v1/audits/{created.json()['id']}/stage1/submit", headers={**me, "If-Match": saved.headers["ETag"]})
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    return str(created.json()["id"])


@dataclass(frozen=True)
class Review:
    """The service, the events it publishes, the QA officer's headers, and the id of the review the requires-improvement audit opened."""

    svc: ServiceClient
    http: httpx.AsyncClient
    capture: EventCapture
    qa: dict[str, str]
    review_id: str


@dataclass(frozen=True)
class ReviewPeople:
    """The review's address, and the headers of its service manager, its assistant director and a stranger to it."""

    url: str
    manager: dict[str, str]
    director: dict[str, str]
    stranger: dict[str, str]


@dataclass(frozen=True)
class MonthlyReport:
    """The lead QA auditor's monthly report as first generated (the draft's answer) and its address, with the headers of the lead
    and of a team manager."""

    report_url: str
    draft: httpx.Response
    lead: dict[str, str]
    team_manager: dict[str, str]


async def _the_completed_event_opens_one_review_for_the_requires_improvement_audit(svc: ServiceClient, capture: EventCapture) -> Review:
    """Two audits completed, one graded requires improvement and one good: the service's own completed event opens one review,
    listed for QA staff; a redelivery opens nothing more."""
    http = svc.http
    weak = await _complete_audit(svc, "C-3001", "P-TM3", "requires_improvement", no="inter_agency_working")
    await _complete_audit(svc, "C-4001", "P-TM4", "good")

    # The service's own completed event opens one review, for the requires-improvement audit only.
    [opened] = await capture.wait_for(he.PRACTICE_REVIEW_OPENED.type, 1)
    assert opened.data["audit_id"] == weak and opened.data["grade"] == "requires_improvement"
    assert opened.data["service_manager_id"] == "P-SM" and opened.data["assistant_director_id"] == "P-AD"
    review_id = opened.data["review_id"]
    qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
    listed = await http.get("/v1/hillingdon/reviews", headers=qa)
    assert [r["id"] for r in listed.json()["items"]] == [review_id]
    # The same completion handled again (a redelivery past the consumer's marker) opens nothing more.
    again = await svc.runtime.uow.run(lambda tx: usecases.open_review(tx, svc.db, weak, svc.runtime.clock.now()))
    assert again is None and await svc.db[hillingdon_store.REVIEWS].count_documents({}) == 1
    return Review(svc, http, capture, qa, review_id)


async def _a_stranger_sees_nothing_of_the_review(review: Review) -> ReviewPeople:
    """Someone with every manager's role but no part in the review neither reads it nor finds it listed."""
    svc, http, review_id = review.svc, review.http, review.review_id
    manager = svc.as_person("P-SM", roles=["service_manager"])
    director = svc.as_person("P-AD", roles=["assistant_director"])
    stranger = svc.as_person("P-X", roles=["team_manager", "service_manager", "assistant_director"])
    url = f"/v1/hillingdon/reviews/{review_id}"
    assert _problem(await http.get(url, headers=stranger), 404)["title"] == "Not found"
    assert (await http.get("/v1/hillingdon/reviews", headers=stranger)).json()["items"] == []
    return ReviewPeople(url, manager, director, stranger)


async def _qa_staff_hand_the_review_to_another_service_manager_and_back(review: Review, people: ReviewPeople) -> str:
    """The review's service manager reads it, open; QA staff hand it on and back. Returns the review's ETag."""
    http, capture, qa, url, manager = review.http, review.capture, review.qa, people.url, people.manager
    read = await http.get(url, headers=manager)
    assert read.status_code == 200 and read.json()["status"] == "open"
    etag = read.headers["ETag"]

    # QA staff hand the review to another service manager and back; naming the same one again
    # changes only the assistant director. Each is announced, saying whose review it now is.
    for body in ({"service_manager_id": "P-PR"}, {"service_manager_id": "P-SM"}, {"service_manager_id": "P-SM", "assistant_director_id": "P-AD"}):
        moved = await http.put(f"{url}/people", json=body, headers={**qa, "If-Match": etag})
        assert moved.status_code == 200, moved.text
        etag = moved.headers["ETag"]
    reassigned = await capture.wait_for(he.PRACTICE_REVIEW_REASSIGNED.type, 3)
    assert [(e.data["service_manager_id"], e.data["service_manager_changed"]) for e in reassigned] == [("P-PR", True), ("P-SM", True), ("P-SM", False)]
    return etag


async def _the_service_manager_records_the_outcome_and_reports_it_to_the_assistant_director(
    review: Review, people: ReviewPeople, etag: str
) -> httpx.Response:
    """Only the service manager records the outcome, with an improvement plan, and then reports it to the assistant director;
    refusals change nothing. Returns the report's answer."""
    http, capture = review.http, review.capture
    url, manager, director, stranger = people.url, people.manager, people.director, people.stranger
    _problem(await http.put(f"{url}/outcome", json=OUTCOME, headers={**stranger, "If-Match": etag}), 404)
    _problem(await http.put(f"{url}/outcome", json=OUTCOME, headers={**director, "If-Match": etag}), 403)
    _problem(await http.put(f"{url}/outcome", json=OUTCOME, headers=manager), 428)
    no_plan = _problem(await http.put(f"{url}/outcome", json=OUTCOME, headers={**manager, "If-Match": etag}), 422)
    assert no_plan["errors"][0]["field"] == "improvement_plan"
    _problem(await http.put(f"{url}/outcome", json={**OUTCOME, "outcome": ""}, headers={**manager, "If-Match": etag}), 422)
    _problem(await http.post(f"{url}/report", headers={**manager, "If-Match": etag}), 409)  # nothing recorded yet
    unchanged = await http.get(url, headers=manager)
    assert unchanged.headers["ETag"] == etag and unchanged.json()["history"] == []

    recorded = await http.put(f"{url}/outcome", json={**OUTCOME, "improvement_plan": PLAN}, headers={**manager, "If-Match": etag})
    assert recorded.status_code == 200 and recorded.json()["status"] == "reviewed", recorded.text
    _problem(await http.post(f"{url}/report", headers={**manager, "If-Match": etag}), 412)
    _problem(await http.post(f"{url}/report", headers={**director, "If-Match": recorded.headers["ETag"]}), 403)
    reported = await http.post(f"{url}/report", headers={**manager, "If-Match": recorded.headers["ETag"]})
    assert reported.status_code == 200 and reported.json()["closed"], reported.text
    [sent] = await capture.wait_for(he.PRACTICE_REVIEW_REPORTED.type, 1)
    assert sent.data["assistant_director_id"] == "P-AD" and sent.data["practice_issues"] and sent.data["improvement_plan_items"] == 1
    return reported


async def _the_qa_auditor_verifies_the_action_taken_once(review: Review, people: ReviewPeople, reported: httpx.Response) -> None:
    """The QA auditor verifies the action taken (Appendix D), once; the outcome cannot be changed after."""
    http, capture, qa, review_id = review.http, review.capture, review.qa, review.review_id
    url, manager, director = people.url, people.manager, people.director
    verification = {"verification": "Chronology updated and discussed in supervision."}
    _problem(await http.post(f"{url}/verification", json=verification, headers={**manager, "If-Match": reported.headers["ETag"]}), 403)
    _problem(await http.post(f"{url}/verification", json={"verification": ""}, headers={**qa, "If-Match": reported.headers["ETag"]}), 422)
    verified = await http.post(f"{url}/verification", json=verification, headers={**qa, "If-Match": reported.headers["ETag"]})
    assert verified.status_code == 200 and verified.json()["status"] == "verified" and verified.json()["verified_by"] == QA_OFFICER[0], verified.text
    _problem(await http.post(f"{url}/verification", json=verification, headers={**qa, "If-Match": verified.headers["ETag"]}), 409)
    [checked] = await capture.wait_for(he.PRACTICE_REVIEW_VERIFIED.type, 1)
    assert (checked.data["review_id"], checked.data["verified_by"]) == (review_id, QA_OFFICER[0])
    _problem(await http.put(f"{url}/outcome", json={**OUTCOME, "improvement_plan": PLAN}, headers={**manager, "If-Match": verified.headers["ETag"]}), 409)
    assert (await http.get(url, headers=director)).json()["outcome"]["improvement_plan"][0]["action"] == "Update the chronology"


async def _the_lead_qa_auditor_generates_the_monthly_report(review: Review) -> MonthlyReport:
    """The lead QA auditor's monthly audit report, generated once for the month from its audits and reviews: a draft, for
    QA staff only, its PDF marked DRAFT."""
    svc, http, qa = review.svc, review.http, review.qa
    lead = svc.as_person(LEAD[0], roles=LEAD[1])
    _problem(await http.post("/v1/hillingdon/monthly-reports", json={"month": "2026-10"}, headers=qa), 403)
    _problem(await http.post("/v1/hillingdon/monthly-reports", json={"month": "2026-13"}, headers=lead), 422)
    draft = await http.post("/v1/hillingdon/monthly-reports", json={"month": "2026-10"}, headers=lead)
    assert draft.status_code == 201, draft.text
    figures = draft.json()["figures"]
    assert figures["audits"] == 2 and figures["completed"] == 2 and figures["reviews"] == {"opened": 1, "reported": 1}
    assert figures["grades"]["requires_improvement"] == 1 and figures["grades"]["good"] == 1
    assert [t["key"] for t in figures["themes"]] == ["inter_agency_working"]
    assert "Is inter-agency working of good quality and effective?" in draft.json()["sections"]["themes"]
    _problem(await http.post("/v1/hillingdon/monthly-reports", json={"month": "2026-10"}, headers=lead), 409)
    report_url = "/v1/hillingdon/monthly-reports/2026-10"
    team_manager = svc.as_person("P-TM3", roles=["team_manager"])
    _problem(await http.get(report_url, headers=team_manager), 404)  # a draft is for QA staff

    draft_pdf = _text((await http.get(f"{report_url}/pdf", headers=lead)).content)
    assert "DRAFT" in draft_pdf and "Requires improvement: 1" in draft_pdf and "Good: 1" in draft_pdf
    return MonthlyReport(report_url, draft, lead, team_manager)


async def _the_lead_edits_the_report_and_issues_it(review: Review, report: MonthlyReport) -> httpx.Response:
    """The lead edits the draft (If-Match guards it; the findings are not theirs to write) and issues it once its
    recommendations are written; the issue is announced. Returns the issue's answer."""
    http, capture = review.http, review.capture
    report_url, draft, lead = report.report_url, report.draft, report.lead
    _problem(await http.put(report_url, json={"sections": {"recommendations": "x"}}, headers=lead), 428)
    _problem(await http.put(report_url, json={"sections": {"findings": "x"}}, headers={**lead, "If-Match": draft.headers["ETag"]}), 422)
    _problem(await http.post(f"{report_url}/issue", headers={**lead, "If-Match": draft.headers["ETag"]}), 422)  # recommendations empty
    edit = {"sections": {"recommendations": "Chronologies to be reviewed in every supervision."}}
    edited = await http.put(report_url, json=edit, headers={**lead, "If-Match": draft.headers["ETag"]})
    assert edited.status_code == 200, edited.text
    _problem(await http.put(report_url, json=edit, headers={**lead, "If-Match": draft.headers["ETag"]}), 412)
    issued = await http.post(f"{report_url}/issue", headers={**lead, "If-Match": edited.headers["ETag"]})
    assert issued.status_code == 200 and issued.json()["status"] == "issued", issued.text
    [event] = await capture.wait_for(he.MONTHLY_REPORT_ISSUED.type, 1)
    assert event.data["grades"]["requires_improvement"] == 1 and event.data["pdf_path"] == f"{report_url}/pdf"
    return issued


async def _the_issued_report_refuses_every_change_and_reads_as_a_pdf(review: Review, report: MonthlyReport, issued: httpx.Response) -> None:
    """Issued, the report refuses every change; its PDF (no longer a draft) is for the team managers to read, its history kept;
    a social worker does not see it."""
    svc, http = review.svc, review.http
    report_url, lead, team_manager = report.report_url, report.lead, report.team_manager
    refused = _problem(await http.put(report_url, json={"sections": {"recommendations": "Changed."}}, headers={**lead, "If-Match": issued.headers["ETag"]}), 409)
    assert "issued" in refused["detail"]
    _problem(await http.post(f"{report_url}/refresh", headers={**lead, "If-Match": issued.headers["ETag"]}), 409)
    issued_pdf = await http.get(f"{report_url}/pdf", headers=team_manager)
    text = _text(issued_pdf.content)
    assert "DRAFT" not in text and "Requires improvement: 1" in text and "Good: 1" in text and "Inadequate: 0" in text
    assert "Audits: 2" in text and "Is inter-agency working of good quality and effective?" in text
    assert "Chronologies to be reviewed in every supervision." in text
    history = (await http.get(f"{report_url}/history", headers=lead)).json()["items"]
    assert [h["what"] for h in history] == ["generated", "edited", "issued"]
    assert history[0]["sections"]["recommendations"] == ""
    _problem(await http.get(report_url, headers=svc.as_person("P-SW3", roles=["social_worker"])), 404)


async def test_review_loop_and_the_monthly_report(service_env, capture: EventCapture) -> None:
    async with seeded_service() as svc:
        review = await _the_completed_event_opens_one_review_for_the_requires_improvement_audit(svc, capture)
        people = await _a_stranger_sees_nothing_of_the_review(review)
        etag = await _qa_staff_hand_the_review_to_another_service_manager_and_back(review, people)
        reported = await _the_service_manager_records_the_outcome_and_reports_it_to_the_assistant_director(review, people, etag)
        await _the_qa_auditor_verifies_the_action_taken_once(review, people, reported)
        report = await _the_lead_qa_auditor_generates_the_monthly_report(review)
        issued = await _the_lead_edits_the_report_and_issues_it(review, report)
        await _the_issued_report_refuses_every_change_and_reads_as_a_pdf(review, report, issued)


async def test_themed_report_crib_sheets_and_the_monthly_session(service_env, capture: EventCapture) -> None:
    async with seeded_service() as svc:
        await project_case(svc.db, CaseChanged(case_id="C-3002", version=1, case_type="CIN", team_id="T-CP", team_manager_id="P-TM3", allocated_worker_id="P-SW4", opened_on=date(2026, 5, 1)))
        http = svc.http
        lead = svc.as_person(LEAD[0], roles=LEAD[1])

        _problem(await http.post("/v1/themed/reports", json={"period": "2026-10", "theme": "supervision"}, headers=lead), 422)
        themed = await http.post("/v1/themed/reports", json={"period": "2026-09", "theme": "supervision"}, headers=lead)
        assert themed.status_code == 201 and themed.json()["sections"]["findings"].startswith("0 of 0"), themed.text
        edited = await http.put("/v1/themed/reports/2026-09", json={"sections": {"recommendations": "Supervision training."}}, headers={**lead, "If-Match": themed.headers["ETag"]})
        issued = await http.post("/v1/themed/reports/2026-09/issue", headers={**lead, "If-Match": edited.headers["ETag"]})
        assert issued.status_code == 200, issued.text
        [event] = await capture.wait_for(he.THEMED_REPORT_ISSUED.type, 1)
        assert event.data["theme"] == "supervision" and event.data["period_months"] == ["2026-09", "2026-10"]
        schedule = (await http.get("/v1/themed/schedule", params={"year": 2026}, headers=lead)).json()
        assert {s["period"]: s["state"] for s in schedule}["2026-09"] == "issued"

        template = (await http.get("/v1/hillingdon/crib-sheet", headers=lead)).json()
        assert len(template["points"]) == 16 and template["columns"][0] == "Social worker"
        tm = svc.as_person("P-TM3", roles=["team_manager"])
        _problem(await http.post("/v1/hillingdon/crib-sheets", json={"case_id": "C-3001", "month": "2026-10"}, headers=tm), 422)  # no worker known
        _problem(await http.post("/v1/hillingdon/crib-sheets", json={"case_id": "C-3001", "month": "2026-10", "social_worker_id": "P-SW3"}, headers=svc.as_person("P-TM4", roles=["team_manager"])), 403)
        checked_on = "2026-10-20"
        every = {str(n): {"social_worker": "yes", "manager": "yes", "checked_on": checked_on} for n in range(1, 17)}
        sheet_ids = []
        for case_id, body in (("C-3001", {"social_worker_id": "P-SW3"}), ("C-3002", {})):
            created = await http.post("/v1/hillingdon/crib-sheets", json={"case_id": case_id, "month": "2026-10", **body}, headers=tm)
            assert created.status_code == 201, created.text
            url = f"/v1/hillingdon/crib-sheets/{created.json()['id']}"
            worker = svc.as_person(created.json()["social_worker_id"], roles=["social_worker"])
            _problem(await http.put(url, json={"entries": every}, headers={**worker, "If-Match": created.headers["ETag"]}), 403)
            _problem(await http.get(url, headers=svc.as_person("P-X", roles=["team_manager"])), 404)
            gaps = _problem(await http.post(f"{url}/check", headers={**tm, "If-Match": created.headers["ETag"]}), 422)
            assert len(gaps["errors"]) == 32
            saved = await http.put(url, json={"entries": every}, headers={**tm, "If-Match": created.headers["ETag"]})
            checked = await http.post(f"{url}/check", headers={**tm, "If-Match": saved.headers["ETag"]})
            assert checked.status_code == 200 and checked.json()["status"] == "checked", checked.text
            assert (await http.get(url, headers=worker)).status_code == 200
            sheet_ids.append(created.json()["id"])
        await capture.wait_for(he.CRIB_SHEET_CHECKED.type, 2)

        manager = svc.as_person("P-SM", roles=["service_manager"])
        body = {"month": "2026-10", "team_id": "T-CP", "crib_sheet_ids": sheet_ids[:1]}
        _problem(await http.post("/v1/hillingdon/management-sessions", json=body, headers=manager), 422)  # two cases a month per team
        _problem(await http.post("/v1/hillingdon/management-sessions", json={**body, "crib_sheet_ids": sheet_ids}, headers=tm), 403)
        held = await http.post("/v1/hillingdon/management-sessions", json={**body, "crib_sheet_ids": sheet_ids}, headers=manager)
        assert held.status_code == 201 and held.json()["assistant_director_id"] == "P-AD", held.text
        _problem(await http.post("/v1/hillingdon/management-sessions", json={**body, "crib_sheet_ids": sheet_ids}, headers=manager), 409)
        url = f"/v1/hillingdon/management-sessions/{held.json()['id']}"
        _problem(await http.post(f"{url}/report", headers={**manager, "If-Match": held.headers["ETag"]}), 422)  # no summary yet
        summary = await http.put(f"{url}/summary", json={"summary": "Both cases progressed."}, headers={**manager, "If-Match": held.headers["ETag"]})
        reported = await http.post(f"{url}/report", headers={**manager, "If-Match": summary.headers["ETag"]})
        assert reported.status_code == 200 and reported.json()["status"] == "reported", reported.text
        [session] = await capture.wait_for(he.MANAGEMENT_SESSION_REPORTED.type, 1)
        assert session.data["assistant_director_id"] == "P-AD" and sorted(session.data["crib_sheet_ids"]) == sorted(sheet_ids)

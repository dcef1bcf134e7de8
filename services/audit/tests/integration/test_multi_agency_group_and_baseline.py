"""The audit group over the API, against real MongoDB and RabbitMQ (Hillingdon QAF Appendix E): each
agency's lead auditor had no casework involvement with the case (the directory's allocation checked
for the authority's own staff, a declaration recorded from everyone), a lead auditor replaced with
the history kept, and the baseline audit of eight to ten cases taken to its report, whose figures are
the benchmark. What leaves the service (every event, the baseline's PDF) never joins a code to a
case. Refusals are problem+json and change nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from audit.common.directory import CaseChanged, PersonChanged, project_case, project_person
from audit.main import create_app
from pypdf import PdfReader

from devstack.testing import EventCapture, ServiceClient, running_service
from devstack.testing import problem as _problem

from .conftest import QA_OFFICER, clock, complete, seed_directory

#: Cases of the child protection team T-CP: team manager P-TM3, allocated worker P-SW3.
CASES = [f"C-50{n:02d}" for n in range(1, 12)]
PARTNERS = [
    {"agency": "childrens_social_care", "name": "Children's Social Care", "representative_id": "P-PR"},
    {"agency": "health", "name": "Hillingdon Hospital", "representative_id": "P-HEALTH"},
    {"agency": "police", "name": "Metropolitan Police", "representative_id": "P-POLICE"},
]
VIEWS = {"method": "visit", "held_on": "2026-09-28", "views": "Things are better at home."}
GRADES = ["good", "good", "good", "good", "outstanding", "requires_improvement", "requires_improvement", "inadequate", "good", "good"]
SUMMARY = {"summary": "Early help comes late; information is shared well once a plan is made."}


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def _authority(db: Any) -> None:
    await seed_directory(db)
    await project_person(db, PersonChanged(person_id="P-SW3", version=1, name="Name of P-SW3", roles=["social_worker"], team_id="T-CP", line_manager_id="P-TM3"))
    for case_id in CASES:
        await project_case(
            db, CaseChanged(case_id=case_id, version=1, case_type="CP", team_id="T-CP", team_manager_id="P-TM3", allocated_worker_id="P-SW3", opened_on=date(2026, 6, 1))
        )


async def _stored(db: Any) -> tuple[int, int, int, int]:
    return (
        await db["multi_agency_baselines"].count_documents({}), await db["multi_agency_audits"].count_documents({}),
        await db["audits"].count_documents({}), await db["audit_tools"].count_documents({"_id": {"$regex": "^multi-agency-"}}),
    )


async def _to_meeting(svc: Any, audit_id: str, grade: str, partners: list[dict[str, str]] = PARTNERS) -> dict[str, Any]:
    """Consult the four parties, each lead auditor declares, the auditor completes the case audit, the meeting is held."""
    http, url = svc.http, f"/v1/multi-agency/audits/{audit_id}"
    worker = svc.as_person("P-PART", roles=["participation_worker"])
    etag = (await http.get(url, headers=worker)).headers["ETag"]
    for party in ("child", "parent_carer", "social_worker", "team_manager"):
        etag = (await http.put(f"{url}/consultations/{party}", json=VIEWS, headers={**worker, "If-Match": etag})).headers["ETag"]
    for partner in partners:
        who = svc.as_person(partner["representative_id"], roles=["lead_auditor"])
        etag = (await http.post(f"{url}/declarations", json={"agency": partner["agency"]}, headers={**who, "If-Match": etag})).headers["ETag"]
    auditor = svc.as_person("P-X", roles=["team_manager", "auditor"])
    form = _ok(await http.get(f"/v1/audits/{audit_id}", headers=auditor))["form"]
    saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form, grade=grade), headers={**auditor, "If-Match": '"1"'})
    _ok(await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]}))
    lead = svc.as_person("P-QASM", roles=["service_manager", "lead_qa_auditor"])
    meeting = {"held_on": "2026-10-01", "partners_present": [p["agency"] for p in partners], "findings": "Agreed with the partners.", "agreed_grade": grade}
    return _ok(await http.post(f"{url}/meeting", json=meeting, headers={**lead, "If-Match": etag}))


async def test_lead_auditors_had_no_casework_involvement_checked_declared_and_replaced(service_env, capture: EventCapture) -> None:
    """Appendix E 1: "Each agency would need to appoint a lead practitioner or manager from that agency who had not case work involvement
    or responsibility for the cases being audited to carry out the audit. The lead agency auditors can be replaced or alternated"."""
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await _authority(svc.db)
        http = svc.http
        qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        bdm = svc.as_person("P-BDM", roles=["qa_officer"])
        set_up = {
            "theme": "Neglect", "case_id": "C-5001", "auditor_id": "P-X", "coordinator_id": "P-BDM", "partners": PARTNERS, "consultation_worker_ids": ["P-PART"],
        }

        # The directory knows the case's allocated worker and team manager: neither may audit it.
        for partners, auditor, field, reason in [
            ([{**PARTNERS[0], "representative_id": "P-TM3"}, *PARTNERS[1:]], "P-X", "partners.0.representative_id", "P-TM3 is the case's team manager"),
            ([PARTNERS[0], {**PARTNERS[1], "representative_id": "P-SW3"}], "P-X", "partners.1.representative_id", "P-SW3 is the case's allocated worker"),
            (PARTNERS, "P-TM3", "auditor_id", "P-TM3 is the case's team manager"),
        ]:
            refused = _problem(await http.post("/v1/multi-agency/audits", json={**set_up, "partners": partners, "auditor_id": auditor}, headers=qa), 422)
            assert [e["field"] for e in refused["errors"]] == [field] and reason in refused["errors"][0]["message"], refused
        assert await _stored(svc.db) == (0, 0, 0, 0)

        ma = _ok(await http.post("/v1/multi-agency/audits", json=set_up, headers=qa), 201)
        audit_id, url = ma["id"], f"/v1/multi-agency/audits/{ma['id']}"
        assert [(a["agency"], a["person_id"], a["checked_against_directory"], a["declaration"]) for a in ma["lead_auditors"]] == [
            ("childrens_social_care", "P-PR", True, None), ("health", "P-HEALTH", False, None), ("police", "P-POLICE", False, None),
        ]

        # The meeting waits for every lead auditor's declaration.
        worker = svc.as_person("P-PART", roles=["participation_worker"])
        etag = '"1"'
        for party in ("child", "parent_carer", "social_worker", "team_manager"):
            etag = (await http.put(f"{url}/consultations/{party}", json=VIEWS, headers={**worker, "If-Match": etag})).headers["ETag"]
        auditor = svc.as_person("P-X", roles=["team_manager", "auditor"])
        form = _ok(await http.get(f"/v1/audits/{audit_id}", headers=auditor))["form"]
        saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form, grade="good"), headers={**auditor, "If-Match": '"1"'})
        _ok(await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]}))
        lead = svc.as_person("P-QASM", roles=["service_manager", "lead_qa_auditor"])
        meeting = {"held_on": "2026-10-01", "partners_present": ["health", "police"], "findings": "Agreed.", "agreed_grade": "good"}
        gaps = _problem(await http.post(f"{url}/meeting", json=meeting, headers={**lead, "If-Match": etag}), 422)
        assert [e["field"] for e in gaps["errors"]] == ["declarations.childrens_social_care", "declarations.health", "declarations.police"]
        assert _ok(await http.get(url, headers=bdm))["meeting"] is None

        # A lead auditor declares for themselves (the coordinator may record a written one); once; strangers see nothing.
        health = svc.as_person("P-HEALTH", roles=["health_named_nurse"])
        police = svc.as_person("P-POLICE", roles=["police_officer"])
        stranger = svc.as_person("P-TM4", roles=["team_manager"])
        _problem(await http.post(f"{url}/declarations", json={"agency": "health"}, headers={**stranger, "If-Match": etag}), 404)
        _problem(await http.post(f"{url}/declarations", json={"agency": "health"}, headers={**police, "If-Match": etag}), 403)
        _problem(await http.post(f"{url}/declarations", json={"agency": "education"}, headers={**bdm, "If-Match": etag}), 422)
        _problem(await http.post(f"{url}/declarations", json={"agency": "health"}, headers=health), 428)
        made = await http.post(f"{url}/declarations", json={"agency": "health"}, headers={**health, "If-Match": etag})
        [declaration] = _ok(made)["declarations"]
        assert (declaration["agency"], declaration["person_id"], declaration["by"]) == ("health", "P-HEALTH", "P-HEALTH")
        assert "no casework involvement" in declaration["statement"] and declaration["at"].startswith("2026-10-01")
        etag = made.headers["ETag"]
        assert "already declared" in _problem(await http.post(f"{url}/declarations", json={"agency": "health"}, headers={**health, "If-Match": etag}), 409)["detail"]

        # The police's lead auditor is replaced: not by a partner, not by someone involved with the case; history kept.
        _problem(await http.put(f"{url}/lead-auditors/police", json={"representative_id": "P-POLICE-2", "reason": "Workload."}, headers={**health, "If-Match": etag}), 403)
        involved = _problem(await http.put(f"{url}/lead-auditors/police", json={"representative_id": "P-SW3", "reason": "Workload."}, headers={**bdm, "If-Match": etag}), 422)
        assert [e["field"] for e in involved["errors"]] == ["representative_id"] and "allocated worker" in involved["errors"][0]["message"]
        _problem(await http.put(f"{url}/lead-auditors/police", json={"representative_id": "P-POLICE", "reason": "Workload."}, headers={**bdm, "If-Match": etag}), 422)
        _problem(await http.put(f"{url}/lead-auditors/fire", json={"representative_id": "P-FIRE", "reason": "Workload."}, headers={**bdm, "If-Match": etag}), 422)
        assert _ok(await http.get(url, headers=bdm))["version"] == int(etag.strip('"'))
        replaced = await http.put(f"{url}/lead-auditors/police", json={"representative_id": "P-POLICE-2", "reason": "Alternated for the workload."}, headers={**bdm, "If-Match": etag})
        body = _ok(replaced)
        assert [(c["agency"], c["previous_id"], c["new_id"], c["by"]) for c in body["lead_auditor_changes"]] == [("police", "P-POLICE", "P-POLICE-2", "P-BDM")]
        assert [p["representative_id"] for p in body["partners"] if p["agency"] == "police"] == ["P-POLICE-2"]
        _problem(await http.get(url, headers=police), 404)  # no longer in the audit group of this case
        etag = replaced.headers["ETag"]

        for agency, who in [("police", "P-POLICE-2"), ("childrens_social_care", "P-PR")]:
            declared = await http.post(f"{url}/declarations", json={"agency": agency}, headers={**svc.as_person(who, roles=["lead_auditor"]), "If-Match": etag})
            etag = declared.headers["ETag"]
        assert all(a["declaration"] for a in _ok(declared)["lead_auditors"])
        held = await http.post(f"{url}/meeting", json=meeting, headers={**lead, "If-Match": etag})
        etag = _ok(held) and held.headers["ETag"]
        _problem(await http.put(f"{url}/lead-auditors/health", json={"representative_id": "P-HEALTH-2", "reason": "Late."}, headers={**bdm, "If-Match": etag}), 409)

        # Nothing of the group goes on the bus: the events name the case only by its code.
        await capture.wait_for("audit.multi-agency.meeting.held.v1", 1)
        await capture.settle(0.5)
        assert {e.type for e in capture.events} == {
            "audit.audit.allocated.v1", "audit.audit.submitted.v1", "audit.audit.completed.v1", "audit.copy.routed.v2",
            "audit.multi-agency.consultation.recorded.v1", "audit.multi-agency.meeting.held.v1",
        }
        for event in capture.events:
            assert "C-5001" not in event.model_dump_json() and "P-SW3" not in event.model_dump_json(), event.type


@dataclass(frozen=True)
class Group:
    """The service and the events it publishes; the headers of the QA officer, the coordinator (P-BDM), the auditor of every case
    and a stranger to the group; and the baseline QA staff ask for: eight of the team's child protection cases."""

    svc: ServiceClient
    http: httpx.AsyncClient
    capture: EventCapture
    qa: dict[str, str]
    bdm: dict[str, str]
    auditor: dict[str, str]
    stranger: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True)
class EightCases:
    """The baseline as created (the answer's body), its address, and its eight cases' codes."""

    baseline: dict[str, Any]
    url: str
    codes: list[str]


@dataclass(frozen=True)
class TenCases:
    """The baseline once it holds ten cases (the answer's body) and its ETag; every code a case was given, the withdrawn case's too."""

    ten: dict[str, Any]
    etag: str
    all_codes: list[str]


async def _the_authority_s_cases_and_the_audit_group(svc: ServiceClient, capture: EventCapture) -> Group:
    """The directory holds the authority's people and team T-CP's eleven child protection cases; the audit group's people sign in."""
    await _authority(svc.db)
    http = svc.http
    qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
    bdm = svc.as_person("P-BDM", roles=["qa_officer"])
    auditor = svc.as_person("P-X", roles=["team_manager", "auditor"])
    stranger = svc.as_person("P-TM4", roles=["team_manager", "service_manager"])
    body = {
        "theme": "Neglect: early help", "service_area": "child_protection_plan", "coordinator_id": "P-BDM", "partners": PARTNERS,
        "consultation_worker_ids": ["P-PART"], "cases": [{"case_id": c, "auditor_id": "P-X"} for c in CASES[:8]],
    }
    return Group(svc, http, capture, qa, bdm, auditor, stranger, body)


async def _anything_but_eight_to_ten_uninvolved_cases_from_qa_staff_is_refused(group: Group) -> None:
    """Fewer than eight, more than ten, a case twice, an unknown case, an involved lead auditor, not QA staff: refused, nothing stored."""
    svc, http, qa, auditor, body = group.svc, group.http, group.qa, group.auditor, group.body
    for cases, field, said in [
        (CASES[:7], "cases", "a baseline audit is an eight to ten case audit: 7 case(s) given"),
        (CASES[:11], "cases", "a baseline audit is an eight to ten case audit: 11 case(s) given"),
        ([*CASES[:7], CASES[0]], "cases", "the case C-5001 is listed twice"),
        ([*CASES[:3], "C-0000", *CASES[3:7]], "cases.3.case_id", "the directory has not told the audit service of this case"),
    ]:
        refused = _problem(await http.post("/v1/multi-agency/baselines", json={**body, "cases": [{"case_id": c, "auditor_id": "P-X"} for c in cases]}, headers=qa), 422)
        assert (refused["errors"][0]["field"], refused["errors"][0]["message"]) == (field, said), refused
    involved = _problem(await http.post("/v1/multi-agency/baselines", json={**body, "partners": [{**PARTNERS[0], "representative_id": "P-TM3"}]}, headers=qa), 422)
    assert involved["errors"][0]["field"] == "cases.0.partners.0.representative_id" and "team manager" in involved["errors"][0]["message"]
    _problem(await http.post("/v1/multi-agency/baselines", json=body, headers=auditor), 403)
    assert await _stored(svc.db) == (0, 0, 0, 0)


async def _eight_cases_one_tool_for_all_and_a_coded_audit_per_case(group: Group) -> EightCases:
    """Eight cases: one tool for all, a coded multi-agency audit per case."""
    svc, http, qa, bdm, stranger, body = group.svc, group.http, group.qa, group.bdm, group.stranger, group.body
    created = await http.post("/v1/multi-agency/baselines", json=body, headers={**qa, "Idempotency-Key": "baseline-1"})
    baseline = _ok(created, 201)
    again = await http.post("/v1/multi-agency/baselines", json=body, headers={**qa, "Idempotency-Key": "baseline-1"})
    assert _ok(again, 201)["id"] == baseline["id"] and again.headers["Idempotent-Replayed"] == "true"
    url = f"/v1/multi-agency/baselines/{baseline['id']}"
    assert created.headers["Location"].endswith(url) and created.headers["ETag"] == '"1"'
    assert len(baseline["cases"]) == 8 and baseline["figures"]["cases"] == 8 and baseline["figures"]["by_grade"] == {"not_graded": 8}
    assert await _stored(svc.db) == (1, 8, 8, 1)
    codes = [c["case_ref"] for c in baseline["cases"]]
    tools = {(await svc.db["audits"].find_one({"_id": c["audit_id"]}))["tool_id"] for c in baseline["cases"]}
    assert tools == {f"multi-agency-{baseline['id']}"}
    first = _ok(await http.get(f"/v1/multi-agency/audits/{baseline['cases'][0]['audit_id']}", headers=bdm))
    assert first["baseline_id"] == baseline["id"] and first["case_ref"] == codes[0]
    _problem(await http.get(url, headers=stranger), 404)
    assert _ok(await http.get(url, headers=svc.as_person("P-HEALTH", roles=["health_named_nurse"])))["id"] == baseline["id"]
    return EightCases(baseline, url, codes)


async def _not_completed_before_every_case_has_had_its_meeting(group: Group, eight: EightCases) -> None:
    """Completed only once every case has had its meeting, by the coordinator or the Lead QA Auditor."""
    http, bdm, url, codes = group.http, group.bdm, eight.url, eight.codes
    early = _problem(await http.post(f"{url}/completion", json=SUMMARY, headers={**bdm, "If-Match": '"1"'}), 409)
    assert "8 case(s) have not had their multi-agency meeting yet" in early["detail"] and codes[0] in early["detail"]


async def _a_case_withdrawn_and_cases_added_up_to_ten(group: Group, eight: EightCases) -> TenCases:
    """A case withdrawn (its audit kept): seven cases cannot be completed; cases added up to ten, never an eleventh, never twice."""
    svc, http, bdm, auditor, baseline, url = group.svc, group.http, group.bdm, group.auditor, eight.baseline, eight.url
    last = baseline["cases"][7]["audit_id"]
    withdrawal = {"reason": "Consent withdrawn by the family (child in need)."}
    _problem(await http.post(f"{url}/cases/{last}/withdrawal", json=withdrawal, headers={**auditor, "If-Match": '"1"'}), 403)
    _problem(await http.post(f"{url}/cases/A-UNKNOWN/withdrawal", json=withdrawal, headers={**bdm, "If-Match": '"1"'}), 404)
    _problem(await http.post(f"{url}/cases/{last}/withdrawal", json={"reason": ""}, headers={**bdm, "If-Match": '"1"'}), 422)
    withdrawn = await http.post(f"{url}/cases/{last}/withdrawal", json=withdrawal, headers={**bdm, "If-Match": '"1"'})
    seven = _ok(withdrawn)
    assert len(seven["cases"]) == 7 and [(w["audit_id"], w["by"]) for w in seven["withdrawn"]] == [(last, "P-BDM")]
    assert _ok(await http.get(f"/v1/multi-agency/audits/{last}", headers=bdm))["baseline_id"] == baseline["id"]  # kept, as written
    too_few = _problem(await http.post(f"{url}/completion", json=SUMMARY, headers={**bdm, "If-Match": '"2"'}), 409)
    assert "holds 7 case(s): a baseline audit is an eight to ten case audit" in too_few["detail"]
    etag = withdrawn.headers["ETag"]
    twice = _problem(await http.post(f"{url}/cases", json={"case_id": CASES[0], "auditor_id": "P-X"}, headers={**bdm, "If-Match": etag}), 422)
    assert twice["errors"][0]["field"] == "case_id"
    involved = {"case_id": "C-3001", "auditor_id": "P-TM3"}
    assert _problem(await http.post(f"{url}/cases", json=involved, headers={**bdm, "If-Match": etag}), 422)["errors"][0]["field"] == "auditor_id"
    for case_id in CASES[8:11]:
        added = await http.post(f"{url}/cases", json={"case_id": case_id, "auditor_id": "P-X"}, headers={**bdm, "If-Match": etag})
        assert added.status_code == 201, added.text
        etag = added.headers["ETag"]
    ten = added.json()
    assert len(ten["cases"]) == 10 and ten["figures"]["cases"] == 10
    eleventh = _problem(await http.post(f"{url}/cases", json={"case_id": "C-3001", "auditor_id": "P-X"}, headers={**bdm, "If-Match": etag}), 409)
    assert "holds 10 cases already: a baseline audit is an eight to ten case audit" in eleventh["detail"]
    assert await svc.db["multi_agency_audits"].count_documents({"multi_agency.baseline_id": baseline["id"]}) == 11
    codes = [c["case_ref"] for c in ten["cases"]]
    all_codes = [*codes, baseline["cases"][7]["case_ref"]]  # the withdrawn case's too
    return TenCases(ten, etag, all_codes)


async def _every_case_to_its_meeting_then_the_coordinator_completes_the_baseline(group: Group, eight: EightCases, ten_cases: TenCases) -> dict[str, Any]:
    """Each of the ten cases graded at its meeting: the figures are the benchmark. Only the coordinator completes the baseline,
    on its current version, once; nothing is added after. Returns its report."""
    svc, http, bdm, auditor, url, ten, etag = group.svc, group.http, group.bdm, group.auditor, eight.url, ten_cases.ten, ten_cases.etag
    for case, grade in zip(ten["cases"], GRADES, strict=True):
        await _to_meeting(svc, case["audit_id"], grade)
    live = _ok(await http.get(url, headers=bdm))
    assert live["figures"]["by_grade"] == {"outstanding": 1, "good": 6, "requires_improvement": 2, "inadequate": 1} and live["report"] is None
    _problem(await http.post(f"{url}/completion", json=SUMMARY, headers={**auditor, "If-Match": etag}), 403)
    _problem(await http.post(f"{url}/completion", json=SUMMARY, headers={**bdm, "If-Match": '"1"'}), 412)
    _problem(await http.post(f"{url}/completion", json=SUMMARY, headers=bdm), 428)
    done = await http.post(f"{url}/completion", json=SUMMARY, headers={**bdm, "If-Match": etag})
    report: dict[str, Any] = _ok(done)["report"]
    assert _ok(done)["completed"]
    figures = report["figures"]
    assert (figures["cases"], figures["meetings_held"], figures["good_or_better"], figures["good_or_better_percent"]) == (10, 10, 7, 70)
    assert (figures["consultations_obtained"], figures["consultations_not_obtained"]) == (40, 0)
    _problem(await http.post(f"{url}/completion", json=SUMMARY, headers={**bdm, "If-Match": done.headers["ETag"]}), 409)
    _problem(await http.post(f"{url}/cases", json={"case_id": "C-3001", "auditor_id": "P-X"}, headers={**bdm, "If-Match": done.headers["ETag"]}), 409)
    return report


async def _the_report_s_pdf_names_no_case(group: Group, eight: EightCases, ten_cases: TenCases, report: dict[str, Any]) -> None:
    """The report's PDF: the figures, no case named, not even by its code; behind sign-in, for the audit group only."""
    svc, http, stranger, baseline, all_codes = group.svc, group.http, group.stranger, eight.baseline, ten_cases.all_codes
    paper = await http.get(report["pdf_href"], headers=svc.as_person("P-POLICE", roles=["police_officer"]))
    assert paper.status_code == 200 and paper.headers["content-type"] == "application/pdf"
    assert baseline["id"] in paper.headers["content-disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(paper.content)).pages)
    assert "Baseline audit report" in text and "7 of 10 (70%)" in text and "Early help comes late" in text
    for case_id in CASES:
        assert case_id not in text
    for code in all_codes:
        assert code not in text
    _problem(await http.get(report["pdf_href"], headers=stranger), 404)


async def _what_was_sent_names_each_case_by_its_code_only(group: Group, ten_cases: TenCases) -> None:
    """What was sent: eight cases' events, each naming its case by its code only; a copy's mail instruction says the case is coded."""
    capture, all_codes = group.capture, ten_cases.all_codes
    await capture.wait_for("audit.multi-agency.meeting.held.v1", 10)
    await capture.wait_for("audit.copy.routed.v2", 10)
    await capture.settle(0.5)
    for event in capture.events:
        sent = event.model_dump_json()
        assert not any(case_id in sent for case_id in CASES) and "P-SW3" not in sent, event.type
        if "case_ref" in event.data:
            assert event.data["case_ref"] in all_codes, event.type
    assert all(e.data["coded_case"] for e in capture.of_type("audit.copy.routed.v2"))
    assert sorted(e.data["case_ref"] for e in capture.of_type("audit.audit.allocated.v1")) == sorted(all_codes)


async def test_a_baseline_audit_of_eight_to_ten_cases_to_its_report(service_env, capture: EventCapture) -> None:
    """Appendix E 3: "The audit group would set a baseline for improvement and would complete an eight to ten case audit on children within
    a specific area of the service, i.e. subject to child protection plans, children looked after etc. This would enable the audit group to
    bench mark quality of practice"; Appendix E 6: "Audits will be circulated electronically by email, with a password sent separately, and
    without the code" (here: not emailed, read behind sign-in; nothing sent joins a code to a case)."""
    async with running_service(lambda: create_app(clock=clock())) as svc:
        group = await _the_authority_s_cases_and_the_audit_group(svc, capture)
        await _anything_but_eight_to_ten_uninvolved_cases_from_qa_staff_is_refused(group)
        eight = await _eight_cases_one_tool_for_all_and_a_coded_audit_per_case(group)
        await _not_completed_before_every_case_has_had_its_meeting(group, eight)
        ten_cases = await _a_case_withdrawn_and_cases_added_up_to_ten(group, eight)
        report = await _every_case_to_its_meeting_then_the_coordinator_completes_the_baseline(group, eight, ten_cases)
        await _the_report_s_pdf_names_no_case(group, eight, ten_cases, report)
        await _what_was_sent_names_each_case_by_its_code_only(group, ten_cases)

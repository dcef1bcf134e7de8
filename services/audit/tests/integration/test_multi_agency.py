"""One multi-agency audit end to end over the API, against real MongoDB and RabbitMQ: its bespoke
tool, the coded case audit, consultation of the four parties, the meeting, the action plan to
completion and the reports to the QA sub-committee; every event published once, the case id in
none (no case-note summary is published: the note stays with the audit). Bad input and strangers
change nothing."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader

from devstack.testing import EventCapture, ServiceClient
from devstack.testing import problem as _problem

from .conftest import QA_OFFICER, complete
from .service import seeded_service

CASE = "C-3001"
PARTNERS = [
    {"agency": "childrens_social_care", "name": "Children's Social Care", "representative_id": "P-SM"},
    {"agency": "health", "name": "Hillingdon Hospital", "representative_id": "P-HEALTH"},
    {"agency": "police", "name": "Metropolitan Police", "representative_id": "P-POLICE"},
]
SET_UP = {
    "theme": "Neglect: early help and inter-agency working",
    "case_id": CASE,
    "auditor_id": "P-X",
    "coordinator_id": "P-BDM",
    "partners": PARTNERS,
    "consultation_worker_ids": ["P-PART"],
    "tool": {
        "sections": [
            {"key": "health_involvement", "title": "Health involvement",
             "questions": [{"key": "hv_contacts", "text": "Did the health visitor see the child at the expected contacts?", "scale": "yes_no"}]},
        ]
    },
}
OWNERS = {"childrens_social_care": "P-SM", "health": "P-HEALTH", "police": "P-POLICE"}
ACTIONS = [
    {"agency": "health", "action": "Health visitors refer to early help within 5 days.", "due_on": "2027-01-31"},
    {"agency": "police", "action": "Share domestic abuse notifications the next working day.", "due_on": "2027-01-31"},
    {"agency": "childrens_social_care", "action": "Invite health visitors to strategy discussions.", "due_on": "2027-01-31"},
]
MEETING = {
    "held_on": "2026-10-01", "partners_present": ["childrens_social_care", "health", "police"],
    "others_present": [{"role": "social_worker", "person_id": "P-SW3"}, {"role": "team_manager", "person_id": "P-TM3"}],
    "findings": "Early help came late; information was shared well once the case was open.", "agreed_grade": "requires_improvement",
}
VIEWS = {"method": "visit", "held_on": "2026-09-28", "views": "My mum gets more help now."}


async def declare_all(svc: Any, url: str, etag: str, partners: list[dict[str, str]] = PARTNERS) -> str:
    """Each agency's lead auditor declares no casework involvement with the case (Appendix E 1); the new ETag."""
    for partner in partners:
        who = svc.as_person(partner["representative_id"], roles=["lead_auditor"])
        declared = await svc.http.post(f"{url}/declarations", json={"agency": partner["agency"]}, headers={**who, "If-Match": etag})
        assert declared.status_code == 200, declared.text
        etag = declared.headers["ETag"]
    return str(etag)


@dataclass
class People:
    """The service and, for each person taking part, the headers the gateway would send for them."""

    svc: ServiceClient
    qa: dict[str, str]
    bdm: dict[str, str]
    auditor: dict[str, str]
    worker: dict[str, str]
    lead: dict[str, str]
    stranger: dict[str, str]
    representative: dict[str, str]

    @property
    def http(self) -> Any:
        return self.svc.http


def people_of(svc: ServiceClient) -> People:
    return People(
        svc,
        qa=svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1]),
        bdm=svc.as_person("P-BDM", roles=["qa_officer"]),
        auditor=svc.as_person("P-X", roles=["team_manager", "auditor"]),
        worker=svc.as_person("P-PART", roles=["participation_worker"]),
        lead=svc.as_person("P-QASM", roles=["service_manager", "lead_qa_auditor"]),
        stranger=svc.as_person("P-TM4", roles=["team_manager", "auditor", "service_manager"]),
        representative=svc.as_person("P-HEALTH", roles=["health_named_nurse"]),
    )


@dataclass
class Audit:
    """The multi-agency audit as set up: its id, its code (the case ref), its own tool and the form of its case audit."""

    id: str
    code: str
    tool_id: str
    form: dict[str, Any]

    @property
    def url(self) -> str:
        return f"/v1/multi-agency/audits/{self.id}"


async def test_one_multi_agency_audit_end_to_end(service_env, capture: EventCapture) -> None:
    async with seeded_service() as svc:
        people = people_of(svc)
        await bad_set_ups_change_nothing(people)
        audit = await set_up_makes_its_own_tool_and_a_coded_case_audit(people)
        await a_stranger_can_neither_read_nor_change_it(people, audit)

        await bad_consultations_change_nothing(people, audit)
        etag = await the_four_parties_are_consulted(people, audit)
        etag = await declare_all(svc, audit.url, etag)
        etag = await the_meeting_analyses_the_completed_case_audit(people, audit, etag)
        etag = await the_action_plan_gives_each_agency_an_owner(people, audit, etag)

        etag = await progress_is_reported_while_actions_are_open(people, audit, etag)
        etag = await each_owner_completes_their_agencys_action(people, audit, etag)
        await completion_is_reported_to_the_qa_sub_committee(people, audit, etag)

        await every_event_is_published_once_without_the_case_id(capture, audit)
        await the_case_note_stays_with_the_audit(people, audit)
        await the_events_record_each_step(capture, audit)


async def bad_set_ups_change_nothing(people: People) -> None:
    """Bad set-ups change nothing: not QA staff, an unknown case, a section clashing with the base tool."""
    http, qa, db = people.http, people.qa, people.svc.db
    _problem(await http.post("/v1/multi-agency/audits", json=SET_UP, headers=people.auditor), 403)
    unknown = _problem(await http.post("/v1/multi-agency/audits", json={**SET_UP, "case_id": "C-0000"}, headers=qa), 422)
    assert unknown["errors"][0]["field"] == "case_id"
    clash = {**SET_UP, "tool": {"sections": [{"key": "early_help", "title": "Again", "questions": [{"key": "x_one", "text": "?"}]}]}}
    assert _problem(await http.post("/v1/multi-agency/audits", json=clash, headers=qa), 422)["errors"][0]["field"] == "tool.sections"
    _problem(await http.post("/v1/multi-agency/audits", json={**SET_UP, "partners": []}, headers=qa), 422)
    assert await db["multi_agency_audits"].count_documents({}) == 0 and await db["audits"].count_documents({}) == 0
    assert await db["audit_tools"].count_documents({"_id": {"$regex": "^multi-agency-"}}) == 0


async def set_up_makes_its_own_tool_and_a_coded_case_audit(people: People) -> Audit:
    """Set up: the bespoke tool (version 1 of a tool of its own) and the coded case audit, in one go."""
    http, qa, auditor = people.http, people.qa, people.auditor
    created = await http.post("/v1/multi-agency/audits", json=SET_UP, headers={**qa, "Idempotency-Key": "ma-1"})
    assert created.status_code == 201, created.text
    again = await http.post("/v1/multi-agency/audits", json=SET_UP, headers={**qa, "Idempotency-Key": "ma-1"})
    assert again.json()["id"] == created.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    ma = created.json()
    audit_id, code, tool_id = ma["id"], ma["case_ref"], ma["tool_id"]
    assert code.startswith("MA-") and CASE not in created.text and created.headers["ETag"] == '"1"'
    assert tool_id == f"multi-agency-{audit_id}" and ma["tool_version"] == 1 and ma["stage"] == "consultation"
    tool = (await http.get(f"/v1/tools/{tool_id}", headers=auditor)).json()
    assert [s["key"] for s in tool["definition"]["sections"]][-1] == "health_involvement" and tool["definition"]["coded_case"]
    assert (await http.get("/v1/tools/multi-agency", headers=auditor)).json()["version"] == 1  # the base tool is untouched

    # The case audit holds the case; a partner's representative sees the code only.
    case_audit = (await http.get(f"/v1/audits/{audit_id}", headers=auditor)).json()
    assert case_audit["case_id"] == CASE and case_audit["tool_id"] == tool_id and case_audit["case_ref"] == code
    seen = (await http.get(f"/v1/multi-agency/audits/{audit_id}", headers=people.representative)).json()
    assert seen["case_ref"] == code and "case_id" not in seen and seen["your_parts"] == ["partner_representative"]
    return Audit(id=audit_id, code=code, tool_id=tool_id, form=case_audit["form"])


async def a_stranger_can_neither_read_nor_change_it(people: People, audit: Audit) -> None:
    """A stranger can neither read nor change it; the list does not show it to them."""
    http, stranger = people.http, people.stranger
    assert _problem(await http.get(audit.url, headers=stranger), 404)["title"] == "Not found"
    _problem(await http.put(f"{audit.url}/consultations/child", json=VIEWS, headers={**stranger, "If-Match": '"1"'}), 404)
    assert (await http.get("/v1/multi-agency/audits", headers=stranger)).json()["items"] == []
    assert [a["id"] for a in (await http.get("/v1/multi-agency/audits", headers=people.representative)).json()["items"]] == [audit.id]


async def bad_consultations_change_nothing(people: People, audit: Audit) -> None:
    """Consultation: bad input, a stale If-Match and a missing one change nothing."""
    http, worker, url = people.http, people.worker, audit.url
    bad = _problem(await http.put(f"{url}/consultations/child", json={**VIEWS, "obtained": False, "views": ""}, headers={**worker, "If-Match": '"1"'}), 422)
    assert [e["field"] for e in bad["errors"]] == ["reason_not_obtained"]
    _problem(await http.put(f"{url}/consultations/grandparent", json=VIEWS, headers={**worker, "If-Match": '"1"'}), 422)
    assert _problem(await http.put(f"{url}/consultations/child", json=VIEWS, headers={**worker, "If-Match": '"4"'}), 412)["current_version"] == 1
    _problem(await http.put(f"{url}/consultations/child", json=VIEWS, headers=worker), 428)
    _problem(await http.put(f"{url}/consultations/child", json=VIEWS, headers={**people.representative, "If-Match": '"1"'}), 403)
    assert (await http.get(url, headers=worker)).json()["version"] == 1


async def the_four_parties_are_consulted(people: People, audit: Audit) -> str:
    """The child, the parent or carer, the social worker and the team manager give their views; the child's, given
    again, is a second revision that keeps the first in its history. The new ETag."""
    etag = '"1"'
    for party, who, said in [
        ("child", people.worker, "My mum gets more help now."),
        ("parent_carer", people.worker, "The health visitor came more often after the meeting."),
        ("social_worker", people.auditor, "Early help was offered late."),
        ("team_manager", people.auditor, "Supervision picked up the drift in the plan."),
        ("child", people.worker, "My mum gets more help now and I go to breakfast club."),
    ]:
        recorded = await people.http.put(f"{audit.url}/consultations/{party}", json={**VIEWS, "views": said}, headers={**who, "If-Match": etag})
        assert recorded.status_code == 200, recorded.text
        etag = recorded.headers["ETag"]
    child = next(c for c in recorded.json()["consultations"] if c["party"] == "child")
    assert child["revision"] == 2 and [h["input"]["views"] for h in child["history"]] == ["My mum gets more help now."]
    return etag


async def the_meeting_analyses_the_completed_case_audit(people: People, audit: Audit, etag: str) -> str:
    """The meeting analyses the completed case audit: not before it, and only the Lead QA Auditor records it. The new ETag."""
    http, lead, auditor, url = people.http, people.lead, people.auditor, audit.url
    assert "not been completed" in _problem(await http.post(f"{url}/meeting", json=MEETING, headers={**lead, "If-Match": etag}), 409)["detail"]
    saved = await http.put(f"/v1/audits/{audit.id}/stage1", json=complete(audit.form, grade="requires_improvement"), headers={**auditor, "If-Match": '"1"'})
    submitted = await http.post(f"/v1/audits/{audit.id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]})
    assert submitted.status_code == 200 and submitted.json()["status"] == "completed", submitted.text
    _problem(await http.post(f"{url}/meeting", json=MEETING, headers={**people.qa, "If-Match": etag}), 403)
    critical = _problem(await http.post(f"{url}/meeting", json={**MEETING, "agreed_grade": "inadequate_critical"}, headers={**lead, "If-Match": etag}), 422)
    assert [e["field"] for e in critical["errors"]] == ["agreed_grade"]
    held = await http.post(f"{url}/meeting", json=MEETING, headers={**lead, "If-Match": etag})
    assert held.status_code == 200, held.text
    assert held.json()["meeting"]["agreed_grade"] == "requires_improvement" and held.json()["meeting"]["chair_id"] == "P-QASM"
    return str(held.headers["ETag"])


async def the_action_plan_gives_each_agency_an_owner(people: People, audit: Audit, etag: str) -> str:
    """The action plan: an owner per agency. The new ETag."""
    http, lead, url = people.http, people.lead, audit.url
    no_police = {"owners": {k: v for k, v in OWNERS.items() if k != "police"}, "actions": ACTIONS}
    refused = _problem(await http.post(f"{url}/action-plan", json=no_police, headers={**lead, "If-Match": etag}), 422)
    assert [e["field"] for e in refused["errors"]] == ["owners.police", "actions.1.agency"]
    agreed = await http.post(f"{url}/action-plan", json={"owners": OWNERS, "actions": ACTIONS}, headers={**lead, "If-Match": etag})
    assert agreed.status_code == 200, agreed.text
    assert [(a["id"], a["owner_id"], a["status"]) for a in agreed.json()["plan"]["actions"]] == [
        ("1", "P-HEALTH", "open"), ("2", "P-POLICE", "open"), ("3", "P-SM", "open")
    ]
    return str(agreed.headers["ETag"])


async def progress_is_reported_while_actions_are_open(people: People, audit: Audit, etag: str) -> str:
    """Reports to the QA sub-committee: completion only once every action is done; progress meanwhile. The new ETag."""
    http, bdm, url = people.http, people.bdm, audit.url
    early = {"kind": "completion", "summary": "All done."}
    assert "still open" in _problem(await http.post(f"{url}/reports", json=early, headers={**bdm, "If-Match": etag}), 409)["detail"]
    progress = await http.post(f"{url}/reports", json={"kind": "progress", "summary": "Agencies have started."}, headers={**bdm, "If-Match": etag})
    assert progress.status_code == 200, progress.text
    return str(progress.headers["ETag"])


async def each_owner_completes_their_agencys_action(people: People, audit: Audit, etag: str) -> str:
    """Only its owner marks an action done, with a note, against the current version; once all three are done the
    plan is complete. The new ETag."""
    svc, http, url = people.svc, people.http, audit.url
    police = svc.as_person("P-POLICE", roles=["police_officer"])
    done = {"status": "done", "note": "Pathway changed and briefed to the teams."}
    _problem(await http.post(f"{url}/actions/1/status", json=done, headers={**police, "If-Match": etag}), 403)
    _problem(await http.post(f"{url}/actions/9/status", json=done, headers={**police, "If-Match": etag}), 404)
    _problem(await http.post(f"{url}/actions/2/status", json={"status": "done"}, headers={**police, "If-Match": etag}), 422)
    _problem(await http.post(f"{url}/actions/2/status", json=done, headers={**police, "If-Match": '"2"'}), 412)
    for action_id, owner in [("1", people.representative), ("2", police), ("3", svc.as_person("P-SM", roles=["service_manager"]))]:
        moved = await http.post(f"{url}/actions/{action_id}/status", json=done, headers={**owner, "If-Match": etag})
        assert moved.status_code == 200, moved.text
        etag = moved.headers["ETag"]
    assert moved.json()["plan"]["complete"] and moved.json()["stage"] == "complete"
    return etag


async def completion_is_reported_to_the_qa_sub_committee(people: People, audit: Audit, etag: str) -> None:
    """The completion report, once only, as a PDF the partners can read: the code, the summary and the grade, not the case."""
    http, lead, representative, url = people.http, people.lead, people.representative, audit.url
    final = await http.post(f"{url}/reports", json={"kind": "completion", "summary": "Every agency implemented its actions."}, headers={**lead, "If-Match": etag})
    assert final.status_code == 200, final.text
    assert final.json()["stage"] == "reported" and [r["kind"] for r in final.json()["reports"]] == ["progress", "completion"]
    _problem(await http.post(f"{url}/reports", json={"kind": "completion", "summary": "Again."}, headers={**lead, "If-Match": final.headers["ETag"]}), 409)
    paper = await http.get(final.json()["reports"][1]["pdf_href"], headers=representative)
    assert paper.status_code == 200 and paper.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(paper.content)).pages)
    assert "Completion report to the QA sub-committee" in text and audit.code in text and "Every agency implemented its actions." in text
    assert CASE not in text and "Requires improvement" in text
    _problem(await http.get(f"{url}/reports/1/pdf", headers=people.stranger), 404)
    _problem(await http.get(f"{url}/reports/7/pdf", headers=representative), 404)


async def every_event_is_published_once_without_the_case_id(capture: EventCapture, audit: Audit) -> None:
    """Every event exactly once; the case id and the child's team in none; no case-note summary."""
    await capture.wait_for("audit.multi-agency.plan.reported.v1", 2)
    await capture.wait_for("audit.copy.routed.v2", 1)
    await capture.settle(0.5)
    counts = Counter(e.type for e in capture.events)
    assert counts == {
        "audit.audit.allocated.v1": 1, "audit.audit.submitted.v1": 1, "audit.audit.completed.v1": 1, "audit.copy.routed.v2": 1,
        "audit.multi-agency.consultation.recorded.v1": 5, "audit.multi-agency.meeting.held.v1": 1,
        "audit.multi-agency.action.assigned.v1": 3, "audit.multi-agency.action.completed.v1": 3, "audit.multi-agency.plan.reported.v1": 2,
    }
    assert len({e.id for e in capture.events}) == len(capture.events)
    for event in capture.events:
        assert event.data.get("audit_id") == audit.id
        assert CASE not in event.model_dump_json() and '"T-CP"' not in event.model_dump_json(), event.type


async def the_case_note_stays_with_the_audit(people: People, audit: Audit) -> None:
    """The case note stays with the audit, for the coordinator to enter on the child's record."""
    note = await people.http.get(f"/v1/audits/{audit.id}/case-note", headers=people.bdm)
    assert note.status_code == 200 and note.json()["case_id"] == CASE, note.text
    _problem(await people.http.get(f"/v1/audits/{audit.id}/case-note", headers=people.lead), 404)


async def the_events_record_each_step(capture: EventCapture, audit: Audit) -> None:
    """The events tell each step: the allocation under the code, each consultation's revision, the meeting's grade, chair
    and partners, each action's owner, the actions left open, and the reports with their PDFs."""
    [allocated] = capture.of_type("audit.audit.allocated.v1")
    assert allocated.data["tool_id"] == audit.tool_id and allocated.data["case_ref"] == audit.code
    assert [(e.data["party"], e.data["revision"]) for e in capture.of_type("audit.multi-agency.consultation.recorded.v1")] == [
        ("child", 1), ("parent_carer", 1), ("social_worker", 1), ("team_manager", 1), ("child", 2)
    ]
    [meeting] = capture.of_type("audit.multi-agency.meeting.held.v1")
    assert meeting.data["agreed_grade"] == "requires_improvement" and meeting.data["chair_id"] == "P-QASM"
    assert [p["representative_id"] for p in meeting.data["partners_present"]] == ["P-SM", "P-HEALTH", "P-POLICE"]
    assert sorted(e.data["owner_id"] for e in capture.of_type("audit.multi-agency.action.assigned.v1")) == ["P-HEALTH", "P-POLICE", "P-SM"]
    assert [e.data["open_actions"] for e in capture.of_type("audit.multi-agency.action.completed.v1")] == [2, 1, 0]
    reported = capture.of_type("audit.multi-agency.plan.reported.v1")
    assert [(r.data["kind"], r.data["actions_done"], r.data["to"]) for r in reported] == [("progress", 0, "qa_sub_committee"), ("completion", 3, "qa_sub_committee")]
    assert reported[1].data["pdf_path"] == f"{audit.url}/reports/2/pdf"

"""The multi-agency audit's rules: a bespoke tool, consultation of four parties, a meeting chaired
by the Lead QA Auditor, and the action plan (an owner per agency) tracked to completion and
reported to the QA sub-committee."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from audit.common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import AnswerScale, Grade
from audit.multi_agency.domain.audit import (
    ActionInput,
    ActionStatus,
    BespokeTool,
    ConsultationInput,
    ConsultedParty,
    MeetingInput,
    MultiAgencyAudit,
    Partner,
    PlanInput,
    ReportKind,
    Stage,
    bespoke_definition,
    bespoke_tool_id,
)
from audit.multi_agency.domain.errors import NoSuchAction
from audit.multi_agency.domain.events import ActionAssigned, ActionCompleted, ConsultationRecorded, MeetingHeld, PlanReported
from audit.multi_agency.events import integration_events
from audit.tools.catalogue import MULTI_AGENCY, shipped_tool
from audit.tools.domain.definition import Question, Section
from audit.tools.schemas import definition_json, parse_definition

from .conftest import T0

LATER = T0 + timedelta(days=30)
LEAD = frozenset({"lead_qa_auditor"})
PARTNERS = [
    Partner(agency="childrens_social_care", name="Children's Social Care", representative_id="P-SM"),
    Partner(agency="health", name="Hillingdon Hospital", representative_id="P-HEALTH"),
    Partner(agency="police", name="Metropolitan Police", representative_id="P-POLICE"),
]
OWNERS = {"childrens_social_care": "P-SM", "health": "P-HEALTH-LEAD", "police": "P-POLICE"}


def new_audit() -> MultiAgencyAudit:
    return MultiAgencyAudit.set_up(
        audit_id="A-1", tool_id="multi-agency-a-1", tool_version=1, case_ref="MA-0001", theme="Neglect and early help", auditor_id="P-AUD",
        coordinator_id="P-BDM", partners=PARTNERS, consultation_worker_ids=["P-PART"], by="P-QA", at=T0,
    )


def consulted() -> MultiAgencyAudit:
    audit = new_audit()
    for party in ConsultedParty:
        audit.record_consultation(party=party, consultation=ConsultationInput(method="visit", held_on=T0.date(), views="Things are better."), by="P-PART", at=T0)
    for partner in PARTNERS:  # each lead auditor declares no casework involvement (Appendix E 1)
        audit.declare_no_involvement(agency=partner.agency, by=partner.representative_id, at=T0)
    audit.events.clear()
    return audit


def meeting(**changes: object) -> MeetingInput:
    fields: dict[str, Any] = {
        "held_on": T0.date(), "partners_present": ["health", "police"], "findings": "Early help came late; information was shared well.",
        "agreed_grade": Grade.REQUIRES_IMPROVEMENT, **changes,
    }
    return MeetingInput(**fields)


def met() -> MultiAgencyAudit:
    audit = consulted()
    audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    audit.events.clear()
    return audit


def plan(**changes: object) -> PlanInput:
    due = (T0 + timedelta(days=90)).date()
    fields: dict[str, Any] = {
        "owners": OWNERS,
        "actions": [
            ActionInput(agency="health", action="Health visitors refer to early help within 5 days.", due_on=due),
            ActionInput(agency="police", action="Share domestic abuse notifications the next working day.", due_on=due),
            ActionInput(agency="childrens_social_care", action="Invite health visitors to strategy discussions.", due_on=due),
        ],
        **changes,
    }
    return PlanInput(**fields)


def planned() -> MultiAgencyAudit:
    audit = met()
    audit.agree_plan(plan=plan(), by="P-LEAD", at=T0)
    audit.events.clear()
    return audit


# --- the bespoke tool ------------------------------------------------------------------------------


def test_each_audit_gets_its_own_tool_derived_from_the_multi_agency_tool() -> None:
    base = shipped_tool(MULTI_AGENCY)
    extra = Section(key="domestic_abuse", title="Domestic abuse", questions=[Question(key="da_marac", text="Was the case heard at MARAC?", scale=AnswerScale.YES_NO)])
    tool = bespoke_definition(base, theme="Domestic abuse", tool=BespokeTool(sections=[extra]))
    assert [s.key for s in tool.sections] == [*(s.key for s in base.sections), "domestic_abuse"]
    assert tool.coded_case and tool.title.endswith(": Domestic abuse")
    assert tool.action_plan_for_grades == []  # the plan is the multi-agency one, agreed at the meeting
    assert bespoke_tool_id("0ABC") == "multi-agency-0abc"
    assert parse_definition(definition_json(tool)) == tool  # stored as any tool is


def test_a_bespoke_section_clashing_with_the_base_tool_is_refused() -> None:
    base = shipped_tool(MULTI_AGENCY)
    clash = Section(key="early_help", title="Again", questions=[Question(key="x_one", text="?")])
    with pytest.raises(InvalidEntries) as refused:
        bespoke_definition(base, theme="T", tool=BespokeTool(sections=[clash]))
    assert refused.value.errors[0]["field"] == "tool.sections"
    with pytest.raises(InvalidEntries):
        bespoke_definition(shipped_tool("kent-online-peer-review"), theme="T", tool=BespokeTool())


def test_setting_up_needs_partners_each_listed_once() -> None:
    with pytest.raises(InvalidEntries) as refused:
        MultiAgencyAudit.set_up(
            audit_id="A", tool_id="t", tool_version=1, case_ref="MA-1", theme=" ", auditor_id="P", coordinator_id="C",
            partners=[PARTNERS[1], PARTNERS[1]], consultation_worker_ids=[], by="P-QA", at=T0,
        )
    assert [e["field"] for e in refused.value.errors] == ["partners", "theme"]


# --- who sees it -----------------------------------------------------------------------------------


def test_parties_and_qa_staff_see_it_and_nobody_else() -> None:
    audit = planned()
    for person in ("P-AUD", "P-BDM", "P-HEALTH", "P-PART", "P-LEAD", "P-HEALTH-LEAD"):
        assert audit.visible_to(person, frozenset()), person
    assert audit.visible_to("P-ANY", frozenset({"qa_officer"}))
    assert not audit.visible_to("P-X", frozenset({"team_manager", "service_manager"}))
    assert "P-HEALTH-LEAD" in audit.viewers() and "P-X" not in audit.viewers()


# --- consultation ----------------------------------------------------------------------------------


def test_a_revised_consultation_keeps_what_was_written_before() -> None:
    audit = new_audit()
    first = ConsultationInput(method="visit", held_on=T0.date(), views="I like my new school.")
    audit.record_consultation(party=ConsultedParty.CHILD, consultation=first, by="P-PART", at=T0)
    second = ConsultationInput(method="visit", held_on=T0.date(), views="I like my new school and my social worker listens.")
    recorded = audit.record_consultation(party=ConsultedParty.CHILD, consultation=second, by="P-AUD", at=LATER)
    assert recorded.revision == 2 and recorded.input == second
    assert [(h.revision, h.input.views, h.by) for h in recorded.history] == [(1, "I like my new school.", "P-PART")]
    assert [(e.party, e.revision) for e in audit.events if isinstance(e, ConsultationRecorded)] == [(ConsultedParty.CHILD, 1), (ConsultedParty.CHILD, 2)]


def test_consultation_is_recorded_by_those_named_and_must_say_something() -> None:
    audit = new_audit()
    views = ConsultationInput(method="call", held_on=T0.date(), views="The help came late.")
    with pytest.raises(NotAllowed):
        audit.record_consultation(party=ConsultedParty.PARENT_CARER, consultation=views, by="P-HEALTH", at=T0)
    with pytest.raises(InvalidEntries) as refused:
        audit.record_consultation(party=ConsultedParty.CHILD, consultation=ConsultationInput(method="visit", held_on=T0.date(), obtained=False), by="P-PART", at=T0)
    assert [e["field"] for e in refused.value.errors] == ["reason_not_obtained"]
    with pytest.raises(InvalidEntries) as refused:
        audit.record_consultation(party=ConsultedParty.CHILD, consultation=ConsultationInput(method="visit", held_on=(T0 + timedelta(days=2)).date()), by="P-PART", at=T0)
    assert [e["field"] for e in refused.value.errors] == ["held_on", "views"]
    declined = ConsultationInput(method="visit", held_on=T0.date(), obtained=False, reason_not_obtained="The child is 8 months old.")
    audit.record_consultation(party=ConsultedParty.CHILD, consultation=declined, by="P-PART", at=T0)
    assert audit.consultations["child"].revision == 1 and audit.version == 0


# --- the meeting -----------------------------------------------------------------------------------


def test_the_meeting_is_chaired_by_the_lead_qa_auditor_after_the_audit_and_all_four_consultations() -> None:
    audit = new_audit()
    with pytest.raises(NotAllowed):
        audit.hold_meeting(meeting=meeting(), by="P-QA", by_roles=frozenset({"qa_officer"}), case_audit_completed=True, at=T0)
    with pytest.raises(WrongStage):
        audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=False, at=T0)
    with pytest.raises(Gaps) as gaps:
        audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    assert [e["field"] for e in gaps.value.errors] == [f"consultations.{p.value}" for p in ConsultedParty] + [
        f"declarations.{p.agency}" for p in PARTNERS
    ]

    audit = consulted()
    audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    assert audit.meeting is not None and audit.meeting.agreed_grade is Grade.REQUIRES_IMPROVEMENT
    assert audit.meeting.representatives_present == ["P-HEALTH", "P-POLICE"] and audit.meeting.chair_id == "P-LEAD"
    assert [type(e) for e in audit.events] == [MeetingHeld]
    assert audit.stage is Stage.ACTION_PLAN
    with pytest.raises(WrongStage):
        audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    with pytest.raises(WrongStage):  # the consultation it triangulated is settled
        audit.record_consultation(party=ConsultedParty.CHILD, consultation=ConsultationInput(method="visit", held_on=T0.date(), views="x"), by="P-PART", at=T0)


def test_the_meeting_agrees_with_partners_of_the_audit_on_the_ofsted_scale() -> None:
    audit = consulted()
    with pytest.raises(InvalidEntries) as refused:
        audit.hold_meeting(
            meeting=meeting(partners_present=["health", "fire"], agreed_grade=Grade.INADEQUATE_CRITICAL), by="P-LEAD", by_roles=LEAD,
            case_audit_completed=True, at=T0,
        )
    assert [e["field"] for e in refused.value.errors] == ["partners_present", "agreed_grade"]
    with pytest.raises(InvalidEntries) as nobody:
        audit.hold_meeting(meeting=meeting(partners_present=[]), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    assert [e["field"] for e in nobody.value.errors] == ["partners_present"]
    assert audit.meeting is None and audit.events == []


# --- the action plan -------------------------------------------------------------------------------


def test_the_action_plan_needs_an_owner_per_agency() -> None:
    audit = met()
    owners = {k: v for k, v in OWNERS.items() if k != "police"}
    with pytest.raises(InvalidEntries) as refused:
        audit.agree_plan(plan=plan(owners={**owners, "education": "P-EDU"}), by="P-LEAD", at=T0)
    assert [e["field"] for e in refused.value.errors] == ["owners.police", "owners.education", "actions.1.agency"]
    with pytest.raises(NotAllowed):
        audit.agree_plan(plan=plan(), by="P-HEALTH", at=T0)
    assert audit.plan is None

    audit.agree_plan(plan=plan(), by="P-BDM", at=T0)
    assert audit.plan is not None
    assert [(a.id, a.agency, a.owner_id, a.status) for a in audit.plan.actions] == [
        ("1", "health", "P-HEALTH-LEAD", ActionStatus.OPEN), ("2", "police", "P-POLICE", ActionStatus.OPEN), ("3", "childrens_social_care", "P-SM", ActionStatus.OPEN)
    ]
    assert [e.action_id for e in audit.events if isinstance(e, ActionAssigned)] == ["1", "2", "3"]
    with pytest.raises(WrongStage):
        audit.agree_plan(plan=plan(), by="P-BDM", at=T0)


def test_the_plan_is_agreed_only_after_the_meeting() -> None:
    with pytest.raises(WrongStage):
        consulted().agree_plan(plan=plan(), by="P-BDM", at=T0)


def test_the_plan_is_complete_only_when_every_action_is_done_and_each_change_is_kept() -> None:
    audit = planned()
    audit.change_action_status(action_id="1", status=ActionStatus.IN_PROGRESS, note="", by="P-HEALTH-LEAD", at=T0)
    audit.change_action_status(action_id="1", status=ActionStatus.DONE, note="Referral pathway changed.", by="P-HEALTH-LEAD", at=LATER)
    audit.change_action_status(action_id="2", status=ActionStatus.DONE, note="Notifications now daily.", by="P-POLICE", at=LATER)
    assert audit.plan is not None and not audit.plan.complete and audit.stage is Stage.ACTIONS
    audit.change_action_status(action_id="3", status=ActionStatus.DONE, note="Invited from May.", by="P-BDM", at=LATER)
    assert audit.plan.complete and audit.stage is Stage.COMPLETE
    assert [(h.status, h.by) for h in audit.action("1").history] == [
        (ActionStatus.OPEN, "P-LEAD"), (ActionStatus.IN_PROGRESS, "P-HEALTH-LEAD"), (ActionStatus.DONE, "P-HEALTH-LEAD")
    ]
    assert [e.action_id for e in audit.events if isinstance(e, ActionCompleted)] == ["1", "2", "3"]
    assert audit.plan.by_agency() == [("childrens_social_care", "P-SM", 1, 1), ("health", "P-HEALTH-LEAD", 1, 1), ("police", "P-POLICE", 1, 1)]


def test_only_the_owner_or_the_coordinator_moves_an_action_and_only_the_coordinator_reopens_it() -> None:
    audit = planned()
    with pytest.raises(NotAllowed):
        audit.change_action_status(action_id="1", status=ActionStatus.DONE, note="Done.", by="P-POLICE", at=T0)
    with pytest.raises(NoSuchAction):
        audit.change_action_status(action_id="9", status=ActionStatus.DONE, note="Done.", by="P-BDM", at=T0)
    with pytest.raises(InvalidEntries) as refused:
        audit.change_action_status(action_id="1", status=ActionStatus.DONE, note=" ", by="P-HEALTH-LEAD", at=T0)
    assert refused.value.errors[0]["field"] == "note"
    with pytest.raises(InvalidEntries):
        audit.change_action_status(action_id="1", status=ActionStatus.OPEN, note="", by="P-HEALTH-LEAD", at=T0)
    audit.change_action_status(action_id="1", status=ActionStatus.DONE, note="Done.", by="P-HEALTH-LEAD", at=T0)
    with pytest.raises(NotAllowed):
        audit.change_action_status(action_id="1", status=ActionStatus.IN_PROGRESS, note="Not yet.", by="P-HEALTH-LEAD", at=T0)
    audit.change_action_status(action_id="1", status=ActionStatus.IN_PROGRESS, note="Referrals still late in the audit sample.", by="P-BDM", at=LATER)
    assert audit.action("1").status is ActionStatus.IN_PROGRESS and len(audit.action("1").history) == 3


# --- reporting to the QA sub-committee ---------------------------------------------------------------


def test_progress_reports_while_actions_are_open_and_the_completion_report_once_all_are_done() -> None:
    audit = planned()
    with pytest.raises(WrongStage) as refused:
        audit.report(kind=ReportKind.COMPLETION, summary="All done.", by="P-BDM", by_roles=frozenset(), at=T0)
    assert "1, 2, 3" in str(refused.value)
    with pytest.raises(NotAllowed):
        audit.report(kind=ReportKind.PROGRESS, summary="x", by="P-HEALTH", by_roles=frozenset({"qa_officer"}), at=T0)
    progress = audit.report(kind=ReportKind.PROGRESS, summary="Health and police have started.", by="P-BDM", by_roles=frozenset(), at=T0)
    assert (progress.number, progress.actions_total, progress.actions_done) == (1, 3, 0)

    for action in audit.plan.actions if audit.plan else []:
        audit.change_action_status(action_id=action.id, status=ActionStatus.DONE, note="Done.", by=action.owner_id, at=LATER)
    with pytest.raises(WrongStage):
        audit.report(kind=ReportKind.PROGRESS, summary="Still going.", by="P-BDM", by_roles=frozenset(), at=LATER)
    final = audit.report(kind=ReportKind.COMPLETION, summary="Every agency implemented its actions.", by="P-LEAD", by_roles=LEAD, at=LATER)
    assert (final.number, final.actions_done) == (2, 3) and audit.stage is Stage.REPORTED
    assert [e.number for e in audit.events if isinstance(e, PlanReported)] == [1, 2]
    with pytest.raises(WrongStage):
        audit.report(kind=ReportKind.COMPLETION, summary="Again.", by="P-BDM", by_roles=frozenset(), at=LATER)
    with pytest.raises(WrongStage):  # closed: no action is reopened after the completion report
        audit.change_action_status(action_id="1", status=ActionStatus.OPEN, note="Reopen.", by="P-BDM", at=LATER)


def test_there_is_nothing_to_report_before_the_plan() -> None:
    with pytest.raises(WrongStage):
        met().report(kind=ReportKind.PROGRESS, summary="x", by="P-BDM", by_roles=frozenset(), at=T0)


def test_integration_events_name_the_case_by_its_code_only() -> None:
    audit = consulted()
    audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    audit.agree_plan(plan=plan(), by="P-LEAD", at=T0)
    audit.change_action_status(action_id="2", status=ActionStatus.DONE, note="Done.", by="P-POLICE", at=T0)
    audit.report(kind=ReportKind.PROGRESS, summary="One of three done.", by="P-BDM", by_roles=frozenset(), at=T0)
    published = list(integration_events(audit, audit.events))
    assert [t.name for t, _ in published] == [
        "audit.multi-agency.meeting.held", *["audit.multi-agency.action.assigned"] * 3, "audit.multi-agency.action.completed",
        "audit.multi-agency.plan.reported",
    ]
    for _, data in published:
        assert data.model_dump()["case_ref"] == "MA-0001"
    held, completed, reported = published[0][1].model_dump(), published[4][1].model_dump(), published[5][1].model_dump()
    assert held["agreed_grade"] == "requires_improvement" and [p["agency"] for p in held["partners_present"]] == ["health", "police"]
    assert completed["open_actions"] == 2 and completed["agency"] == "police"
    assert reported["kind"] == "progress" and (reported["actions_total"], reported["actions_done"]) == (3, 1)
    assert date.fromisoformat(str(published[1][1].model_dump()["due_on"])) > T0.date()


def test_a_consultation_publishes_its_party_by_value_and_a_status_change_short_of_done_publishes_nothing() -> None:
    audit = new_audit()
    audit.record_consultation(
        party=ConsultedParty.PARENT_CARER, consultation=ConsultationInput(obtained=False, method="call", held_on=T0.date(), reason_not_obtained="No answer."),
        by="P-PART", at=T0,
    )
    [(event_type, data)] = integration_events(audit, audit.events)
    assert event_type.type == "audit.multi-agency.consultation.recorded.v1"
    assert data.model_dump(mode="json") == {
        "audit_id": "A-1", "case_ref": "MA-0001", "party": "parent_carer", "obtained": False, "held_on": "2026-10-01", "revision": 1,
        "recorded_by": "P-PART", "recorded_at": "2026-10-01T09:00:00Z",
    }
    assert type(data.model_dump()["party"]) is str
    planned_audit = planned()
    planned_audit.change_action_status(action_id="1", status=ActionStatus.IN_PROGRESS, note="", by="P-HEALTH-LEAD", at=T0)
    assert [type(e).__name__ for e in planned_audit.events] == ["ActionStatusChanged"]
    assert list(integration_events(planned_audit, planned_audit.events)) == []


def test_a_stored_multi_agency_audit_reads_back_exactly() -> None:
    from audit.multi_agency import store

    audit = planned()
    audit.change_action_status(action_id="1", status=ActionStatus.DONE, note="Done.", by="P-HEALTH-LEAD", at=LATER)
    audit.report(kind=ReportKind.PROGRESS, summary="One done.", by="P-BDM", by_roles=frozenset(), at=LATER)
    doc = store.to_document(audit)
    assert doc["stage"] == "actions" and "P-HEALTH-LEAD" in doc["viewers"]
    assert store.from_document(doc) == audit


def test_the_report_pdf_names_the_case_by_its_code() -> None:
    import io

    from audit.multi_agency import pdf
    from pypdf import PdfReader

    audit = planned()
    made = audit.report(kind=ReportKind.PROGRESS, summary="Health and police have started.", by="P-BDM", by_roles=frozenset(), at=LATER)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.render(audit, made))).pages)
    assert "Progress report to the QA sub-committee" in text and "MA-0001" in text and "Health and police have started." in text
    assert "Requires improvement" in text and "Share domestic abuse notifications" in text
    assert pdf.filename("A-1", 1) == "multi-agency-A-1-report-1.pdf"

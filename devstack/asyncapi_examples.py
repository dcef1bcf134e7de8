"""One example per event type for the AsyncAPI document, built from the type's own data model.

Each example is the data model constructed with realistic values (the demo directory's people,
teams and cases, the audit service's ids, ISO dates, grades from the Ofsted scale), put in the
type's envelope and serialised exactly as the outbox publishes it (``Envelope.to_json``), so it is
valid by construction and shows the JSON on the wire. Values come from ``COMMON`` by field name,
overridden per data model by ``BY_MODEL``; a field found in neither is an error (a new event type
gets its example values here, never made-up pattern noise).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from shared.events import EventType

#: A fixed namespace: the same example ids on every run (the document is committed).
_NS = uuid.UUID("6f1c2b9e-3d4a-4c8e-9f7a-2b5d8e1a0c3f")


def _hex(name: str) -> str:
    """An id the way the services make them (``uuid4().hex``), fixed per name."""
    return uuid.uuid5(_NS, name).hex


AT = datetime(2026, 10, 14, 9, 42, 17, tzinfo=UTC)
TOOL = "kent-online-peer-review"
MONTH = "2026-10"
AUDIT = _hex("audit")

#: Values by field name, for every event that has the field (unless ``BY_MODEL`` says otherwise).
COMMON: dict[str, Any] = {
    # The demo directory (devstack/demo.py): ids only, never a name.
    "case_id": "C-1001", "case_ref": "C-1001", "case_type": "CIN", "team_id": "T-DA", "team_ids": ["T-DA", "T-CIN"],
    "auditor_id": "P-TM2", "peer_reviewer_id": "P-PR", "coordinator_id": None, "officer_id": "P-PDO", "service_manager_id": "P-SM",
    "assistant_director_id": "P-AD", "team_manager_id": "P-TM1", "social_worker_id": "P-SW1", "allocated_worker_id": "P-SW1",
    "line_manager_id": "P-DS", "worker_id": "P-SW1", "supervisor_id": "P-DS", "owner_id": "P-SM", "author_id": "P-TM2",
    "delegate_id": "P-TM1", "person_id": "P-SW1", "manager_id": "P-TM1",
    # Ids the services make.
    "audit_id": AUDIT, "exemplar_id": _hex("exemplar"), "form_id": _hex("form"), "review_id": _hex("review"), "file_id": _hex("file"),
    "delegation_id": _hex("delegation"), "report_id": _hex("report"), "observation_id": _hex("observation"), "action_id": _hex("action"),
    "tool_id": TOOL, "tool_version": 3, "programme": "peer_review", "month": MONTH, "due_on": date(2026, 10, 31), "start_date": date(2026, 10, 1),
    "type_code": "INIASS", "version": 1, "grade": "requires_improvement", "overall_grade": "requires_improvement",
    "moderated_grade": "good", "agreed_grade": "requires_improvement", "stage": "stage-1", "stage_title": "Stage 1 (team manager)",
    "delegation_number": 1, "action_number": 2,
    # The directory sync signal (shared.directory_sync).
    "sequence": 1042, "through": 1042,
}

#: Values that differ from ``COMMON`` (or that only one event has), by data model.
BY_MODEL: dict[str, dict[str, Any]] = {
    # --- directory (gateway) ---
    "TeamChanged": {
        "version": 4, "name": "Duty and Assessment", "district": "Canterbury", "area": "East Kent", "service": "Children's Services",
        "manager_id": "P-TM1",
    },
    "PersonChanged": {
        "version": 2, "name": "Kerry Jones", "email": "kerry.jones@example.gov.uk", "roles": ["social_worker"], "team_id": "T-DA",
        "line_manager_id": "P-DS", "active": True,
    },
    "CaseChanged": {
        "version": 3, "status": "open", "team_manager_id": "P-TM1", "sibling_case_ids": ["C-1002"], "opened_on": date(2026, 9, 14), "closed_on": None,
    },
    "DirectoryApplied": {"kind": "person"},
    # --- sign-off ---
    "ExemplarCreated": {"version": 1, "created_by": "P-SW1", "created_at": AT},
    "ExemplarFirstSigned": {"version": 1, "signed_by": "P-SW1", "signed_at": AT},
    "ExemplarCounterSigned": {
        "version": 1, "first_signed_by": "P-SW1", "counter_signed_by": "P-TM1", "counter_signed_at": AT, "counter_signed_on": date(2026, 10, 14),
        "timescale_working_days": 45, "working_days_taken": 10, "on_time": True,
    },
    "ExemplarUnlocked": {"version": 1, "new_version": 2, "unlocked_by": "P-TM1", "unlocked_at": AT},
    "ExemplarCloned": {
        "case_id": "C-1002", "exemplar_id": _hex("clone"), "index_exemplar_id": _hex("exemplar"), "index_case_id": "C-1001", "index_version": 1,
        "cloned_by": "P-SW1", "cloned_at": AT,
    },
    "SafeguardingConcernRaised": {"recipient_ids": ["P-TM2"], "concern_id": "sc-1", "case_ref": "C-1001", "raised_by": "P-TM1", "team_manager_id": "P-TM2", "service_manager_id": "P-SM", "raised_at": AT},
    "SafeguardingConcernAcknowledged": {"concern_id": "sc-1", "case_ref": "C-1001", "acknowledged_by": "P-TM2", "acknowledged_at": AT},
    "SingleAgencyRoundAllocated": {"round_id": "sar-T-CIN-2026-12", "month": "2026-12", "team_manager_id": "P-TM2", "service_manager_id": "P-SM",
                                   "due_on": "2027-01-31", "allocations": [{"auditor_id": "P-SM", "audit_ids": [_hex("audit")]}], "drawn_up_by": "P-QA", "allocated_at": AT},
    "SingleAgencyRoundSampled": {"round_id": "sar-T-CIN-2026-12", "month": "2026-12", "audit_ids": [_hex("audit")], "selected_by": "P-QA", "selected_at": AT},
    "SingleAgencySampleReviewed": {"round_id": "sar-T-CIN-2026-12", "agrees_with_grade": True, "reviewed_by": "P-QA", "reviewed_at": AT},
    "SingleAgencyOverviewReported": {"round_id": "sar-T-CIN-2026-12", "month": "2026-12", "team_manager_id": "P-TM2", "service_manager_id": "P-SM",
                                     "audit_ids": [_hex("audit")], "reported_at": AT},
    "AuditDestroyed": {"set_up_on": "2023-11-30", "held_until": "2026-11-30", "as_of": "2026-11-30", "destroyed_by": "audit-scheduler", "destroyed_at": AT},
    "DisagreementRaised": {"standards": ["standard_03"], "team_manager_id": "P-TM1", "raised_at": AT},
    "DisagreementSettled": {"standards": ["standard_03"], "team_manager_id": "P-TM1", "outcome": "agreed", "settled_at": AT},
    "IndexChildCaseNoteAdded": {
        "case_id": "C-1002", "exemplar_id": _hex("clone"), "index_exemplar_id": _hex("exemplar"), "index_case_id": "C-1001", "index_version": 1,
        "added_by": "P-AO", "added_at": AT,
    },
    "WorkflowMessageSent": {
        "message_id": _hex("message"), "to_person_id": "P-TM1", "assigned_by": "P-SW1", "from_system": False,
        "action": "ready_for_counter_sign", "subject": "Initial assessment for C-1001 ready for counter-signature",
        "text": "First-signed today; the plan review date is in the outcomes section.", "due_on": date(2026, 10, 21), "sent_at": AT,
        "clone_of_exemplar_id": None, "clone_of_version": None, "send_email": True,
    },
    # --- resolution ---
    "ResolutionRaised": {
        "owner_id": "P-IRO", "owner_role": "iro", "first_stage": "informal", "theme_ids": ["care-planning", "contact-arrangements"], "raised_at": AT,
        "stages": ["informal", "stage-1"],
    },
    "CaseContactReported": {"team_manager_id": "P-TM1", "allocated_worker_id": "P-SW1", "reported_by": "P-IRO", "reported_at": AT},
    "SectionDelegated": {
        "delegate_id": "P-TM1", "delegated_by": "P-IRO", "delegated_at": AT, "due_on": date(2026, 10, 28), "recalled_delegate_id": None,
    },
    "SectionFinalised": {"delegate_id": "P-TM1", "finalised_by": "P-TM1", "finalised_at": AT},
    "SectionReactivated": {"reactivated_by": "P-IRO", "delegate_id": "P-TM1", "delegation_number": 1, "due_on": date(2026, 10, 30), "reactivated_at": AT},
    "SectionRetracted": {"delegate_id": "P-TM1", "retracted_by": "P-IRO", "retracted_at": AT, "draft_kept": True},
    "StagesActivated": {
        "stages": ["stage-2", "stage-3"], "stage_titles": ["Stage 2 (head of service)", "Stage 3 (service director)"],
        "active_stages": ["stage-1", "stage-2", "stage-3"], "activated_by": "P-IRO", "activated_at": AT,
    },
    "StageEscalated": {
        "from_stage": "stage-1", "to_stage": "stage-2", "to_stage_title": "Stage 2 (head of service)", "escalated_by": "P-IRO", "escalated_at": AT,
    },
    "ResolutionResolved": {"stage": "stage-2", "resolved_by": "P-IRO", "resolved_at": AT, "days_to_resolution": 23},
    "ResolutionClosedUnresolved": {"stage": "stage-2", "closed_by": "P-IRO", "closed_at": AT, "days_open": 41, "closing_reason_id": "moved-to-another-authority"},
    # --- audit: case audits (Kent online peer review) ---
    "AuditAllocated": {"peer_reviewer_id": "P-PR", "coordinator_id": None, "basis": "line_managed", "allocated_by": "P-QASM", "allocated_at": AT},
    "AuditSubmitted": {"submitted_at": AT},
    "PeerReviewSubmitted": {"overall_grade": "good", "differing_answers": ["supervision.frequency", "planning.smart_outcomes"], "submitted_at": AT},
    "ModerationRequired": {
        "grades_differ": True, "supervision_inadequate": False, "differing_sections": ["supervision", "planning"], "overall_grades_differ": True,
        "required_at": AT,
    },
    "ModerationProposed": {"proposal": 1, "proposed_by": "P-TM2", "awaiting_id": "P-PR", "overall_grade": "good", "proposed_at": AT},
    "ModerationAgreed": {"proposed_by": "P-TM2", "accepted_by": "P-PR", "agreed_at": AT},
    "ModerationEscalated": {
        "escalated_by": "P-PR", "reason": "We could not agree whether the plan's outcomes were specific enough.", "escalated_at": AT,
    },
    "OfficerAppointed": {"purpose": "moderation", "appointed_by": "P-QASM", "appointed_at": AT},
    "ModerationFinalised": {"finalised_at": AT},
    "CopyRouted": {
        "coded_case": False, "stage": "moderated", "pdf_id": _hex("pdf"),
        "document_path": f"/api/v1/audit/audits/{AUDIT}/pdfs/{_hex('pdf')}",
        "recipients": [
            {"person_id": "P-TM2", "reasons": ["auditor"]}, {"person_id": "P-PR", "reasons": ["peer_reviewer"]},
            {"person_id": "P-PDO", "reasons": ["practice_development_officer"]}, {"person_id": "P-SM", "reasons": ["accountable_service_manager"]},
        ],
        "recipient_ids": ["P-TM2", "P-PR", "P-PDO", "P-SM"], "grade": "good", "routed_at": AT,
    },
    "AuditCompleted": {"grade": "good", "moderated": True, "completed_at": AT},
    "CaseNoteSummary": {
        "note_type": "Case Audit - Online Audit Programme", "author_id": "P-TM2",
        "analysis": "Assessment timely and child seen alone; plan outcomes not yet measurable.",
        "recommended_actions": "Team manager to review the plan's outcomes with the worker in supervision by 28 October.",
        "grade": "good", "moderated_on": date(2026, 10, 14), "completed_at": AT,
    },
    "CriticalGradeConfirmed": {"grade": "inadequate_critical", "confirmed": True, "confirmed_at": AT},
    "InadequateActionOpened": {"owner_id": "P-SM", "escalate_on": date(2026, 11, 14), "opened_at": AT},
    "InadequateActionEscalated": {"owner_id": "P-SM", "escalated_at": AT},
    "InadequateActionResolved": {"resolved_by": "P-SM", "resolved_at": AT},
    # --- audit: monthly cycles ---
    "CycleDrawn": {
        "cycle_id": f"{TOOL}:{MONTH}", "seed": "5b1f0c2e9a7d4e31", "audits": 12, "eligible_cases": 214, "uncovered_team_ids": ["T-CIC"],
        "dispensed_ids": ["P-TM3"], "draw_on": date(2026, 10, 1), "due_on": date(2026, 10, 31), "drawn_by": "P-QASM", "drawn_at": AT,
    },
    "AllocationRequested": {
        "cycle_id": f"{TOOL}:{MONTH}", "allocation_key": f"{TOOL}:{MONTH}:P-TM2", "requested_by": "P-QASM", "basis": "line_managed",
    },
    # --- audit: Hampshire quality practice ---
    "FilePrepared": {
        "tool_id": "hampshire-quality-practice", "tool_version": 1, "missing_standards": ["7.3", "9.1"], "prepared_by": "P-DS", "prepared_at": AT,
    },
    "FilesReady": {
        "list_id": _hex("list"), "teams": [{"team_id": "T-DA", "file_ids": [_hex("file"), _hex("file-2")]}, {"team_id": "T-CIN", "file_ids": [_hex("file-3")]}],
        "file_count": 3, "delegate_ids": ["P-TM2"], "audit_due_on": date(2026, 11, 20), "sent_by": "P-SM", "sent_at": AT,
    },
    "SelectionDelegated": {"delegate_id": "P-TM2", "team_ids": ["T-CIN"], "delegated_at": AT},
    "FileSelected": {"auditor_id": "P-SM", "delegation_id": None, "delegated_by": None, "selected_at": AT, "due_on": date(2026, 11, 20)},
    "SelectionClosed": {
        "selected_file_ids": [_hex("file"), _hex("file-3")], "not_selected_file_ids": [_hex("file-2")], "closed_by": "P-SM", "closed_at": AT,
    },
    "FileAudited": {
        "auditor_id": "P-SM", "delegation_id": None, "delegated_by": None, "tool_id": "hampshire-quality-practice", "tool_version": 1,
        "judgements": {"7.1": "yes", "7.2": "yes", "7.3": "no", "9.1": "n/a"}, "audited_at": AT,
    },
    "CaseContactNote": {
        "stage": "prepared", "note_type": "Quality practice audit: file prepared for audit",
        "text": f"File prepared for quality practice audit ({MONTH}) on 2026-10-14 by worker P-SW1 and supervisor P-DS.",
        "by_ids": ["P-SW1", "P-DS"], "recorded_on": date(2026, 10, 14), "recorded_at": AT,
    },
    # --- audit: Hillingdon ---
    "PracticeReviewOpened": {"month": MONTH, "opened_at": AT},
    "PracticeReviewReassigned": {"service_manager_changed": True, "reassigned_by": "P-QASM", "reassigned_at": AT},
    "PracticeReviewVerified": {"verified_by": "P-QASM", "verified_at": AT},
    "PracticeReviewReported": {"practice_issues": True, "actions_taken": 2, "improvement_plan_items": 3, "reported_at": AT},
    "ReportIssued": {
        "report_id": _hex("monthly-report"), "period": "2026-09", "title": "Monthly audit report: September 2026", "audits": 24, "completed": 21,
        "grades": {"outstanding": 1, "good": 12, "requires_improvement": 6, "inadequate": 2},
        "pdf_path": "/v1/hillingdon/monthly-reports/2026-09/pdf", "issued_by": "P-QASM", "issued_at": AT,
    },
    "ThemedReportIssued": {
        "report_id": _hex("themed-report"), "period": "2026-09", "title": "Themed audit: supervision (September and October 2026)", "audits": 10,
        "completed": 9, "grades": {"good": 5, "requires_improvement": 3, "inadequate": 1},
        "pdf_path": "/v1/themed/reports/2026-09/pdf", "issued_by": "P-QASM", "issued_at": AT, "theme": "supervision",
        "period_months": ["2026-09", "2026-10"],
    },
    "CribSheetChecked": {
        "crib_sheet_id": _hex("crib-sheet"), "checked_by": "P-TM1", "follow_up_points": [3, 7], "checked_at": AT,
    },
    "ManagementSessionReported": {
        "session_id": _hex("session"), "crib_sheet_ids": [_hex("crib-sheet"), _hex("crib-sheet-2")], "reported_on": date(2026, 10, 14),
        "reported_at": AT,
    },
    # --- audit: multi-agency (the case is named by its code, never by its id) ---
    "ConsultationRecorded": {
        "case_ref": "MA-3F9A1C2E", "party": "parent_carer", "obtained": True, "held_on": date(2026, 10, 9), "revision": 1, "recorded_by": "P-QASM",
        "recorded_at": AT,
    },
    "MeetingHeld": {
        "case_ref": "MA-3F9A1C2E", "chair_id": "P-QASM", "held_on": date(2026, 10, 14),
        "partners_present": [
            {"agency": "health", "representative_id": "P-HEALTH"}, {"agency": "childrens_social_care", "representative_id": "P-SM"},
        ],
        "held_at": AT,
    },
    "ActionAssigned": {
        "case_ref": "MA-3F9A1C2E", "agency": "health", "owner_id": "P-HEALTH", "due_on": date(2026, 11, 30),
        "action_path": f"/v1/multi-agency/audits/{AUDIT}", "assigned_by": "P-QASM", "assigned_at": AT,
    },
    "ActionCompleted": {
        "case_ref": "MA-3F9A1C2E", "agency": "health", "owner_id": "P-HEALTH", "completed_by": "P-HEALTH", "open_actions": 2, "completed_at": AT,
    },
    "PlanReported": {
        "case_ref": "MA-3F9A1C2E", "report": 1, "kind": "progress", "to": "qa_sub_committee", "actions_total": 5, "actions_done": 3,
        "agencies": [
            {"agency": "health", "owner_id": "P-HEALTH", "actions": 2, "done": 1},
            {"agency": "childrens_social_care", "owner_id": "P-SM", "actions": 3, "done": 2},
        ],
        "pdf_path": f"/v1/multi-agency/audits/{AUDIT}/reports/1/pdf", "reported_by": "P-QASM", "reported_at": AT,
    },
    # --- audit: practice observation, monitoring forms, complaints ---
    "ObservationPlanned": {"observer_id": "P-DS", "situation": "interview", "planned_on": date(2026, 10, 21), "planned_at": AT},
    "ObservationReported": {
        "observer_id": "P-DS", "observed_on": date(2026, 10, 7), "feedback_due_on": date(2026, 10, 21), "written_late": False, "revised": False,
        "reported_at": AT,
    },
    "ObservationDue": {
        "due_on": date(2026, 10, 28), "remind_on": date(2026, 10, 14), "last_observed_on": date(2026, 4, 28), "observations_last_12_months": 1,
        "overdue": False,
    },
    "MonitoringFormSubmitted": {
        "form_id": _hex("monitoring-form"), "case_id": "C-3001", "team_id": "T-CP", "team_manager_id": "P-TM3", "kind": "review_cp_conference",
        "author_id": "P-CPC", "meeting_on": date(2026, 10, 12), "report_on_time": False, "submitted_at": AT,
    },
    "MonitoringCollationIssued": {
        "collation_id": _hex("collation"), "team_id": "T-CP", "month": "2026-09", "team_manager_id": "P-TM3", "forms": 8, "reports_on_time": 6,
        "reports_late": 2, "plans_not_progressing": 1, "version": 1, "issued_by": "P-QASM", "issued_at": AT,
    },
    "ComplaintLessonsRecorded": {
        "record_id": _hex("complaint-lessons"), "complaint_ref": "CMP-2026-0412", "kind": "complaint", "team_id": "T-CIN", "outcome": "part_upheld",
        "actions_taken": ["apology", "review_procedure"], "manager_id": "P-TM2", "version": 1, "recorded_at": AT,
    },
    # --- audit: six-monthly team review ---
    "TeamReviewIssued": {
        "months": ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"], "completed_audits": 18,
        "grades": {"outstanding": 1, "good": 10, "requires_improvement": 6, "inadequate": 1}, "issued_by": "P-SM", "issued_at": AT,
    },
    "ImprovementActionDue": {"owner_id": "P-TM1", "status": "in_progress"},
    "ImprovementActionCompleted": {"owner_id": "P-TM1", "completed_by": "P-TM1", "completed_at": AT, "plan_completed": False},
    "ImprovementActionDropped": {"owner_id": "P-TM1", "dropped_by": "P-SM", "dropped_at": AT, "plan_completed": True},
    "ServiceDevelopmentReferred": {
        "need": "Refresher training for the team on writing outcome-focused plans.", "referred_by": "P-SM", "referred_at": AT,
    },
}

#: The envelope's ``subject`` of each type, as its publisher sets it (formatted with the data).
SUBJECTS: dict[str, str] = {
    "directory.team.changed.v1": "team/{team_id}", "directory.person.changed.v1": "person/{person_id}",
    "directory.case.changed.v1": "case/{case_id}",
    "audit.cycle.drawn.v1": "cycle/{cycle_id}", "audit.allocation.requested.v1": "cycle/{cycle_id}/{auditor_id}",
    "audit.hampshire.files.ready.v1": "hampshire-month/{month}/{service_manager_id}",
    "audit.hampshire.selection.closed.v1": "hampshire-month/{month}/{service_manager_id}",
    "audit.hampshire.selection.delegated.v1": "hampshire-delegation/{delegation_id}",
    "audit.monthly-report.issued.v1": "report/{report_id}", "audit.themed-report.issued.v1": "report/{report_id}",
    "audit.crib-sheet.checked.v1": "crib-sheet/{crib_sheet_id}", "audit.management-session.reported.v1": "management-session/{session_id}",
    "audit.observation.due.v1": "social-worker/{social_worker_id}",
    "audit.monitoring-form.submitted.v1": "monitoring-form/{form_id}",
    "audit.monitoring-collation.issued.v1": "monitoring-collation/{collation_id}",
    "audit.complaint-lessons.recorded.v1": "complaint-lessons/{record_id}",
}
#: Otherwise the subject is named by the first of these fields the data has.
SUBJECT_BY_FIELD = (
    ("exemplar_id", "exemplar/{exemplar_id}"), ("form_id", "form/{form_id}"), ("file_id", "hampshire-file/{file_id}"),
    ("observation_id", "observation/{observation_id}"),
)
SUBJECT_BY_PREFIX = (
    ("audit.practice-review.", "practice-review/{review_id}"), ("audit.team-review.", "team-review/{review_id}"),
    ("audit.improvement-action.", "team-review/{review_id}"), ("audit.service-development.", "team-review/{review_id}"),
)


def data_values(event_type: EventType) -> dict[str, Any]:
    """The example's field values for ``event_type``'s data model."""
    model = event_type.data_model
    own = BY_MODEL.get(model.__name__, {})
    values: dict[str, Any] = {}
    for name in model.model_fields:
        if name in own:
            values[name] = own[name]
        elif name in COMMON:
            values[name] = COMMON[name]
        else:
            raise KeyError(f"{event_type.routing_key}: no example value for {model.__name__}.{name} (add it in devstack/asyncapi_examples.py)")
    return values


def subject(event_type: EventType, data: dict[str, Any]) -> str | None:
    key = event_type.routing_key
    if key in SUBJECTS:
        return SUBJECTS[key].format(**data)
    for prefix, template in SUBJECT_BY_PREFIX:
        if key.startswith(prefix):
            return template.format(**data)
    for name, template in SUBJECT_BY_FIELD:
        if name in data:
            return template.format(**data)
    if "audit_id" in data:
        return f"audit/{data['audit_id']}"
    return None


def example(event_type: EventType) -> dict[str, Any]:
    """The event as published: the data model built from the example values, in its envelope."""
    data = event_type.data_model(**data_values(event_type))
    dumped = data.model_dump(mode="json")
    envelope = event_type.envelope(
        data, source=event_type.source, subject=subject(event_type, dumped), time=AT,
        correlation_id=_hex(f"request:{event_type.routing_key}"), event_id=str(uuid.uuid5(_NS, event_type.routing_key)),
    )
    return dict(json.loads(envelope.to_json()))

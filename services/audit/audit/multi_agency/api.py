"""HTTP routes for multi-agency audits (Hillingdon QAF 5.4, Appendix E).

A person not party to the audit gets 404; a party doing what is not theirs, 403. Every change
takes If-Match (the ETag of the version read). Nobody here sees the case id: the audit names the
case by its code; the auditor and the coordinator read the case id on the case audit
(``GET /v1/audits/{id}``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from shared.app import RuntimeDep
from shared.disposition import attachment
from shared.errors import not_found
from shared.http import Page, Pagination, RequiredIfMatch, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_id_once
from shared.identity import CurrentPerson, Identity

from ..common.api_paging import after, keyset_page
from ..common.api_params import RecordIdPath
from ..common.grades import Grade
from ..common.responses import change_responses
from ..common.roles import QA_STAFF_ROLES
from ..common.schemas import InputModel, to_domain
from . import pdf, store, usecases
from .domain import audit as domain
from .domain import baseline as baseline_domain
from .domain.audit import ActionStatus, ConsultedParty, MultiAgencyAudit, ReportKind, Stage
from .domain.errors import NoSuchAction, NoSuchCase
from .domain.retention import Destruction
from .schemas import KEY_PATTERN, Attendee, BespokeTool, CaseCode, ConsultationInput, MeetingInput, Partner, PersonId, PlanInput

router = APIRouter(prefix="/v1/multi-agency", tags=["multi-agency"])

AuditId = RecordIdPath
ActionId = Annotated[str, Path(min_length=1, max_length=8, pattern=r"^[0-9]+$")]
CHANGES = change_responses(
    missing="No such multi-agency audit (or action), or not party to it", forbidden="Party to the audit, but this is not theirs to do",
    conflict="The audit is not at a stage where this can happen", stale="The audit changed since the If-Match version",
    invalid="Invalid entries, or gaps (every one listed)",
)


#: Mapped to problem+json by the app (``main.DOMAIN_ERRORS``).
PROBLEMS = {
    NoSuchAction: lambda e: not_found("Action", str(e)),
    NoSuchCase: lambda e: not_found("Case", str(e)),
}


class SetUpIn(InputModel):
    theme: str = Field(min_length=1, max_length=200, description="The audit's theme: its key line of enquiry")
    case_id: PersonId
    auditor_id: PersonId = Field(description="The lead auditor of the case audit")
    coordinator_id: PersonId = Field(description="The business development manager coordinating the audit group")
    partners: list[Partner] = Field(min_length=1, max_length=20)
    consultation_worker_ids: list[PersonId] = Field(default_factory=list, max_length=5, description="The participation worker and QA officer who see the family")
    tool: BespokeTool = Field(default_factory=BespokeTool, description="This audit's bespoke tool: the base tool and the sections added")
    case_code: CaseCode | None = Field(default=None, description="The case's code (generated when absent)")


class DeclarationIn(InputModel):
    agency: str = Field(min_length=1, max_length=40, pattern=KEY_PATTERN, description="The agency whose lead auditor declares")


class LeadAuditorIn(InputModel):
    representative_id: PersonId = Field(description="The agency's new lead auditor")
    reason: str = Field(min_length=1, max_length=2000, description="Why the lead auditor is replaced (e.g. involved with the case, or alternated)")


class BaselineCaseIn(InputModel):
    case_id: PersonId
    auditor_id: PersonId = Field(description="Who completes this case's audit on the baseline's tool")
    case_code: CaseCode | None = Field(default=None, description="The case's code (generated when absent)")


class BaselineIn(InputModel):
    theme: str = Field(min_length=1, max_length=200, description="The baseline's theme: its key line of enquiry")
    service_area: str = Field(
        min_length=1, max_length=60, pattern=KEY_PATTERN,
        description="The area of the service the children are in, e.g. child_protection_plan, looked_after",
    )
    coordinator_id: PersonId = Field(description="The business development manager coordinating the audit group")
    partners: list[Partner] = Field(min_length=1, max_length=20, description="The audit group: each agency and its lead auditor")
    cases: list[BaselineCaseIn] = Field(min_length=1, max_length=20, description="Eight to ten cases (fewer or more are refused, saying so)")
    consultation_worker_ids: list[PersonId] = Field(default_factory=list, max_length=5, description="The participation worker and QA officer who see the families")
    tool: BespokeTool = Field(default_factory=BespokeTool, description="The baseline's one tool, for every case: the base tool and the sections added")


class CompletionIn(InputModel):
    summary: str = Field(min_length=1, max_length=20000, description="Key outcomes and learning, for the Performance Sub-committee and the HSCB")


class StatusIn(InputModel):
    status: ActionStatus
    note: str = Field(default="", max_length=8000, description="What was done (required for done), or why a done action is reopened")


class ReportIn(InputModel):
    kind: ReportKind
    summary: str = Field(min_length=1, max_length=20000, description="Key outcomes and learning, for the QA sub-committee")


class ConsultationRevisionOut(BaseModel):
    revision: int
    input: ConsultationInput
    by: str
    at: datetime


class ConsultationOut(BaseModel):
    party: ConsultedParty
    input: ConsultationInput
    revision: int
    by: str
    at: datetime
    history: list[ConsultationRevisionOut]


class MeetingOut(BaseModel):
    chair_id: str
    held_on: date
    partners_present: list[str]
    representatives_present: list[str]
    others_present: list[Attendee]
    findings: str
    agreed_grade: Grade
    recorded_at: datetime


class StatusChangeOut(BaseModel):
    status: ActionStatus
    note: str
    by: str
    at: datetime


class ActionOut(BaseModel):
    id: str
    agency: str
    owner_id: str
    action: str
    due_on: date
    status: ActionStatus
    history: list[StatusChangeOut]


class PlanOut(BaseModel):
    owners: dict[str, str]
    actions: list[ActionOut]
    agreed_by: str
    agreed_at: datetime
    complete: bool


class ReportOut(BaseModel):
    number: int
    kind: ReportKind
    summary: str
    by: str
    at: datetime
    actions_total: int
    actions_done: int
    pdf_id: str | None
    pdf_href: str | None


class DeclarationOut(BaseModel):
    agency: str
    person_id: str
    statement: str
    by: str = Field(description="The lead auditor, or the coordinator recording their written declaration")
    at: datetime


class LeadAuditorOut(BaseModel):
    agency: str
    person_id: str
    checked_against_directory: bool = Field(
        description="The authority's own staff, checked against the case's allocation in the directory (allocated worker, team manager, team's manager)"
    )
    declaration: DeclarationOut | None = Field(description="Their declaration of no casework involvement (none yet: the meeting waits for it)")


class LeadAuditorChangeOut(BaseModel):
    agency: str
    previous_id: str
    new_id: str
    reason: str
    by: str
    at: datetime


class MultiAgencyOut(BaseModel):
    id: str
    version: int
    stage: Stage
    baseline_id: str | None = Field(description="The baseline audit (eight to ten cases) the case belongs to, if any")
    #: The case's code: the case id is never shown here.
    case_ref: str
    theme: str
    tool_id: str
    tool_version: int
    case_audit_path: str
    auditor_id: str
    coordinator_id: str
    partners: list[Partner]
    consultation_worker_ids: list[str]
    lead_auditors: list[LeadAuditorOut] = Field(description="Each agency's lead auditor and their independence from the case")
    declarations: list[DeclarationOut] = Field(description="Every declaration made, replaced lead auditors' included")
    lead_auditor_changes: list[LeadAuditorChangeOut]
    your_parts: list[str]
    consultations: list[ConsultationOut]
    consultations_missing: list[ConsultedParty]
    meeting: MeetingOut | None
    plan: PlanOut | None
    reports: list[ReportOut]
    created_by: str
    created_at: datetime
    updated_by: str | None
    updated_at: datetime | None


class MultiAgencySummaryOut(BaseModel):
    id: str
    version: int
    stage: Stage
    baseline_id: str | None
    case_ref: str
    theme: str
    coordinator_id: str
    agreed_grade: Grade | None
    created_at: datetime


def _out(a: MultiAgencyAudit, caller_id: str, request: Request) -> MultiAgencyOut:
    plan = a.plan
    return MultiAgencyOut(
        id=a.id, version=a.version, stage=a.stage, baseline_id=a.baseline_id, case_ref=a.case_ref, theme=a.theme, tool_id=a.tool_id, tool_version=a.tool_version,
        case_audit_path=public_path(request, f"/v1/audits/{a.id}"), auditor_id=a.auditor_id, coordinator_id=a.coordinator_id, partners=[Partner.model_validate(p) for p in a.partners],
        consultation_worker_ids=a.consultation_worker_ids, your_parts=sorted(a.party_roles(caller_id)),
        lead_auditors=[
            LeadAuditorOut(
                agency=p.agency, person_id=p.representative_id, checked_against_directory=p.representative_id in a.directory_checked,
                declaration=DeclarationOut(**vars(d)) if (d := a.declaration_of(p)) else None,
            )
            for p in a.partners
        ],
        declarations=[DeclarationOut(**vars(d)) for d in a.declarations],
        lead_auditor_changes=[LeadAuditorChangeOut(**vars(c)) for c in a.lead_auditor_changes],
        consultations=[
            ConsultationOut(
                party=c.party, input=ConsultationInput.model_validate(c.input), revision=c.revision, by=c.by, at=c.at,
                history=[ConsultationRevisionOut(revision=h.revision, input=ConsultationInput.model_validate(h.input), by=h.by, at=h.at) for h in c.history],
            )
            for c in sorted(a.consultations.values(), key=lambda c: list(ConsultedParty).index(c.party))
        ],
        consultations_missing=[p for p in ConsultedParty if p.value not in a.consultations],
        meeting=MeetingOut(**vars(a.meeting)) if a.meeting else None,
        plan=PlanOut(
            owners=plan.owners, agreed_by=plan.agreed_by, agreed_at=plan.agreed_at, complete=plan.complete,
            actions=[
                ActionOut(
                    id=x.id, agency=x.agency, owner_id=x.owner_id, action=x.action, due_on=x.due_on, status=x.status,
                    history=[StatusChangeOut(status=h.status, note=h.note, by=h.by, at=h.at) for h in x.history],
                )
                for x in plan.actions
            ],
        ) if plan else None,
        reports=[ReportOut(**vars(r), pdf_href=public_path(request, f"/v1/multi-agency/audits/{a.id}/reports/{r.number}/pdf") if r.pdf_id else None) for r in a.reports],
        created_by=a.created_by, created_at=a.created_at, updated_by=a.updated_by, updated_at=a.updated_at,
    )


def _summary(a: MultiAgencyAudit) -> MultiAgencySummaryOut:
    return MultiAgencySummaryOut(
        id=a.id, version=a.version, stage=a.stage, baseline_id=a.baseline_id, case_ref=a.case_ref, theme=a.theme, coordinator_id=a.coordinator_id,
        agreed_grade=a.meeting.agreed_grade if a.meeting else None, created_at=a.created_at,
    )


def _answer(a: MultiAgencyAudit, caller_id: str, request: Request, response: Response) -> MultiAgencyOut:
    response.headers["ETag"] = etag(a.version)
    return _out(a, caller_id, request)


@router.post(
    "/audits", response_model=MultiAgencyOut, status_code=201,
    summary="Set up a multi-agency audit: its bespoke tool, its coded case audit and its record (QA staff)",
    responses={403: {"description": "Not QA staff"}, 422: {"description": "Unknown case or base tool, or invalid entries"}},
)
async def set_up_multi_agency_audit(body: SetUpIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> MultiAgencyOut:
    audit_id = await create_id_once(
        runtime.db, key, response, lambda: usecases.set_up(runtime.extra["audit"], to_domain(body, usecases.SetUpRequest), caller=caller, key=key)
    )
    audit = await usecases.read(runtime.db, audit_id, caller)
    response.headers["Location"] = public_path(request, f"/v1/multi-agency/audits/{audit.id}")
    return _answer(audit, caller.person_id, request, response)


@router.get("/audits", response_model=Page[MultiAgencySummaryOut], summary="Multi-agency audits the caller is party to (QA staff: every one)")
async def list_multi_agency_audits(
    caller: CurrentPerson, runtime: RuntimeDep, page: Pagination,
    stage: Annotated[Stage | None, Query(description="Only audits at this stage")] = None,
    mine: Annotated[bool, Query(description="QA staff: only audits they are party to")] = False,
) -> Page[MultiAgencySummaryOut]:
    everyone = not mine and not QA_STAFF_ROLES.isdisjoint(caller.roles)
    audits = await store.list_audits(
        runtime.db, viewer=None if everyone else caller.person_id, stage=stage.value if stage else None, after=after(page), limit=page.limit + 1
    )
    return keyset_page(audits, page, _summary)


@router.get("/audits/{audit_id}", response_model=MultiAgencyOut, summary="Read a multi-agency audit", responses={404: CHANGES[404]})
async def read_multi_agency_audit(audit_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> MultiAgencyOut:
    return _answer(await usecases.read(runtime.db, audit_id, caller), caller.person_id, request, response)


@router.put(
    "/audits/{audit_id}/consultations/{party}", response_model=MultiAgencyOut,
    summary="Record (or revise) the views of the child, a parent or carer, the social worker or the team manager", responses=CHANGES,
)
async def record_consultation(
    audit_id: AuditId, party: ConsultedParty, body: ConsultationInput, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response,
    if_match: RequiredIfMatch,
) -> MultiAgencyOut:
    audit = await usecases.record_consultation(runtime.extra["audit"], audit_id, party, to_domain(body, domain.ConsultationInput), caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, request, response)


@router.post(
    "/audits/{audit_id}/declarations", response_model=MultiAgencyOut,
    summary="An agency's lead auditor declares no casework involvement with or responsibility for the case (or the coordinator records it)",
    responses=CHANGES,
)
async def declare_no_involvement(
    audit_id: AuditId, body: DeclarationIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch
) -> MultiAgencyOut:
    audit = await usecases.declare_no_involvement(runtime.extra["audit"], audit_id, body.agency, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, request, response)


@router.put(
    "/audits/{audit_id}/lead-auditors/{agency}", response_model=MultiAgencyOut,
    summary="Replace an agency's lead auditor before the meeting (the coordinator or QA staff); the new one is checked and declares",
    responses=CHANGES,
)
async def replace_lead_auditor(
    audit_id: AuditId, agency: Annotated[str, Path(min_length=1, max_length=40, pattern=KEY_PATTERN)], body: LeadAuditorIn,
    caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch,
) -> MultiAgencyOut:
    audit = await usecases.replace_lead_auditor(
        runtime.extra["audit"], audit_id, agency, body.representative_id, body.reason, caller=caller, expected=if_match
    )
    return _answer(audit, caller.person_id, request, response)


@router.post(
    "/audits/{audit_id}/meeting", response_model=MultiAgencyOut,
    summary="Record the multi-agency meeting: findings and Ofsted grade agreed with the partners present (the Lead QA Auditor)", responses=CHANGES,
)
async def hold_meeting(audit_id: AuditId, body: MeetingInput, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> MultiAgencyOut:
    audit = await usecases.hold_meeting(runtime.extra["audit"], audit_id, to_domain(body, domain.MeetingInput), caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, request, response)


@router.post(
    "/audits/{audit_id}/action-plan", response_model=MultiAgencyOut,
    summary="Record the multi-agency action plan, an owner per agency (the chair or the coordinator)", responses=CHANGES,
)
async def agree_plan(audit_id: AuditId, body: PlanInput, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> MultiAgencyOut:
    audit = await usecases.agree_plan(runtime.extra["audit"], audit_id, to_domain(body, domain.PlanInput), caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, request, response)


@router.post(
    "/audits/{audit_id}/actions/{action_id}/status", response_model=MultiAgencyOut,
    summary="Move an action on (its owner; the coordinator also reopens a done action)", responses=CHANGES,
)
async def change_action_status(
    audit_id: AuditId, action_id: ActionId, body: StatusIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch
) -> MultiAgencyOut:
    audit = await usecases.change_action_status(runtime.extra["audit"], audit_id, action_id, body.status, body.note, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, request, response)


@router.post(
    "/audits/{audit_id}/reports", response_model=MultiAgencyOut,
    summary="Report the action plan to the QA sub-committee: progress while actions are open, completion once all are done (the coordinator or the Lead QA Auditor)",
    responses=CHANGES,
)
async def report_multi_agency_audit(audit_id: AuditId, body: ReportIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> MultiAgencyOut:
    audit = await usecases.report(runtime.extra["audit"], audit_id, body.kind, body.summary, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, request, response)


@router.get(
    "/audits/{audit_id}/reports/{number}/pdf",
    response_class=Response,
    response_model=None,
    summary="Download a report to the QA sub-committee as a PDF",
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}, 404: CHANGES[404]},
)
async def download_multi_agency_report(audit_id: AuditId, number: Annotated[int, Path(ge=1, le=1000)], caller: CurrentPerson, runtime: RuntimeDep) -> Response:
    audit = await usecases.read(runtime.db, audit_id, caller)
    made = next((r for r in audit.reports if r.number == number), None)
    doc = await store.load_report_pdf(runtime.db, audit.id, made.pdf_id) if made and made.pdf_id else None
    if doc is None:
        raise not_found("Report", str(number))
    return Response(
        bytes(doc["content"]), media_type="application/pdf",
        headers={"Content-Disposition": attachment(pdf.filename(audit.id, number))},
    )


# --- retention: the log of audits destroyed after three years, and the counts kept -------------


class RetainedCountsOut(BaseModel):
    month: str = Field(description="The month the audit was set up (YYYY-MM)")
    stage: Stage = Field(description="Where the audit stood when destroyed")
    agreed_grade: Grade | None = Field(description="The Ofsted grade agreed at the meeting (none: no meeting held)")
    agencies: int
    consultations_obtained: int
    consultations_not_obtained: int
    actions_total: int
    actions_done: int
    reports: int


class RetentionRecordOut(BaseModel):
    """One audit destroyed after three years: ids, dates and counts; nothing about the child or anyone else."""

    audit_id: str
    set_up_on: date
    held_until: date = Field(description="Its third anniversary: held three years, then destroyed")
    as_of: date = Field(description="The day the scheduled pass ran as")
    destroyed_at: datetime
    by: str = Field(description="The scheduled pass (audit-scheduler)")
    counts: RetainedCountsOut
    removed: dict[str, int] = Field(description="How many stored records of each kind were deleted (the audit, its case audit, drafts, PDFs)")


class MultiAgencyFiguresOut(BaseModel):
    year: int
    audits: int = Field(description="Multi-agency audits set up in the year, held or destroyed")
    held: int
    destroyed: int = Field(description="Destroyed after three years: counted here from the retention log")
    by_grade: dict[str, int] = Field(description="Agreed Ofsted grade (not_graded: no meeting held) -> audits")
    by_stage: dict[str, int]
    agencies: int = Field(description="Partner agencies, summed over the audits")
    consultations_obtained: int
    consultations_not_obtained: int
    actions_total: int
    actions_done: int
    reports: int = Field(description="Reports to the QA sub-committee")


def _retention_record(r: Destruction) -> RetentionRecordOut:
    return RetentionRecordOut(
        audit_id=r.audit_id, set_up_on=r.set_up_on, held_until=r.held_until, as_of=r.as_of, destroyed_at=r.destroyed_at, by=r.by,
        counts=RetainedCountsOut(**vars(r.counts)), removed=r.removed,
    )


@router.get(
    "/retention-log", response_model=Page[RetentionRecordOut],
    summary="The multi-agency audits destroyed after three years, each with its anonymous counts (QA staff)",
    responses={403: {"description": "Not QA staff"}},
)
async def list_multi_agency_retention_log(caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[RetentionRecordOut]:
    usecases.may_read_retention(caller)
    records = await store.retention_log(runtime.db, after=after(page), limit=page.limit + 1)
    return keyset_page(records, page, _retention_record, key="audit_id")


@router.get(
    "/figures", response_model=MultiAgencyFiguresOut,
    summary="Multi-agency audits set up in a year, counted alike whether still held or destroyed (report readers)",
    responses={403: {"description": "Not a report reader"}},
)
async def multi_agency_figures(
    caller: CurrentPerson, runtime: RuntimeDep, year: Annotated[int, Query(ge=2000, le=2099, description="The year the audits were set up")],
) -> MultiAgencyFiguresOut:
    return MultiAgencyFiguresOut(**vars(await usecases.year_figures(runtime.db, year, caller)))


# --- baseline audits: eight to ten cases (Appendix E 3) -------------------------------------------


class BaselineFiguresOut(BaseModel):
    cases: int
    meetings_held: int
    by_grade: dict[str, int] = Field(description="Agreed Ofsted grade -> cases (not_graded: no meeting yet)")
    good_or_better: int
    good_or_better_percent: int | None = Field(description="Of the cases graded at their meeting")
    consultations_obtained: int
    consultations_not_obtained: int
    actions_total: int
    actions_done: int


class BaselineCaseOut(BaseModel):
    audit_id: str
    case_ref: str = Field(description="The case's code (never its id)")
    stage: Stage
    agreed_grade: Grade | None
    lead_auditors_awaiting_declaration: list[str]


class BaselineReportOut(BaseModel):
    summary: str
    figures: BaselineFiguresOut = Field(description="The figures as they stood when the baseline was completed: the benchmark")
    by: str
    at: datetime
    pdf_href: str | None


class WithdrawalOut(BaseModel):
    audit_id: str = Field(description="The withdrawn case's multi-agency audit (kept, as written)")
    reason: str
    by: str
    at: datetime


class BaselineOut(BaseModel):
    id: str
    version: int
    theme: str
    service_area: str
    coordinator_id: str
    partners: list[Partner]
    completed: bool
    cases: list[BaselineCaseOut]
    withdrawn: list[WithdrawalOut]
    figures: BaselineFiguresOut = Field(description="The baseline's figures now")
    report: BaselineReportOut | None
    created_by: str
    created_at: datetime


def _figures(f: baseline_domain.BaselineFigures) -> BaselineFiguresOut:
    return BaselineFiguresOut(**vars(f), good_or_better_percent=f.good_or_better_percent)


def _baseline_out(b: baseline_domain.Baseline, audits: list[MultiAgencyAudit], request: Request, response: Response) -> BaselineOut:
    response.headers["ETag"] = etag(b.version)
    r = b.report
    return BaselineOut(
        id=b.id, version=b.version, theme=b.theme, service_area=b.service_area, coordinator_id=b.coordinator_id,
        partners=[Partner.model_validate(p) for p in b.partners], completed=b.completed,
        cases=[
            BaselineCaseOut(
                audit_id=a.id, case_ref=a.case_ref, stage=a.stage, agreed_grade=a.meeting.agreed_grade if a.meeting else None,
                lead_auditors_awaiting_declaration=[p.agency for p in a.awaiting_declaration()],
            )
            for a in audits
        ],
        withdrawn=[WithdrawalOut(**vars(w)) for w in b.withdrawn],
        figures=_figures(baseline_domain.figures_of(audits)),
        report=BaselineReportOut(
            summary=r.summary, figures=_figures(r.figures), by=r.by, at=r.at,
            pdf_href=public_path(request, f"/v1/multi-agency/baselines/{b.id}/report/pdf") if r.pdf_id else None,
        ) if r else None,
        created_by=b.created_by, created_at=b.created_at,
    )


async def _baseline_answer(runtime: RuntimeDep, baseline_id: str, caller: Identity, request: Request, response: Response) -> BaselineOut:
    """The baseline with its cases' audits as they stand (a change answers the baseline re-read with them)."""
    baseline, audits = await usecases.read_baseline(runtime.db, baseline_id, caller)
    return _baseline_out(baseline, audits, request, response)


BaselineId = RecordIdPath


@router.post(
    "/baselines", response_model=BaselineOut, status_code=201,
    summary="Set up a baseline audit of eight to ten cases: one tool, a coded multi-agency audit per case, the audit group's lead auditors (QA staff)",
    responses={403: {"description": "Not QA staff"}, 422: {"description": "Fewer than eight or more than ten cases, an unknown case, a lead auditor involved with a case, or invalid entries"}},
)
async def set_up_baseline(body: BaselineIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> BaselineOut:
    baseline_id = await create_id_once(
        runtime.db, key, response,
        lambda: usecases.set_up_baseline(runtime.extra["audit"], to_domain(body, usecases.BaselineRequest), caller=caller, key=key),
    )
    baseline, audits = await usecases.read_baseline(runtime.db, baseline_id, caller)
    response.headers["Location"] = public_path(request, f"/v1/multi-agency/baselines/{baseline.id}")
    return _baseline_out(baseline, audits, request, response)


@router.get("/baselines/{baseline_id}", response_model=BaselineOut, summary="Read a baseline audit with its figures", responses={404: {"description": "No such baseline, or not in its audit group"}})
async def read_baseline(baseline_id: BaselineId, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> BaselineOut:
    return await _baseline_answer(runtime, baseline_id, caller, request, response)


class WithdrawalIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why the case is withdrawn (e.g. consent withdrawn)")


@router.post(
    "/baselines/{baseline_id}/cases", response_model=BaselineOut, status_code=201,
    summary="Add a case to the baseline before completion, never an eleventh (the coordinator or QA staff)",
    responses={**CHANGES, 409: {"description": "The baseline holds ten cases already, or is completed"}},
)
async def add_baseline_case(
    baseline_id: BaselineId, body: BaselineCaseIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch
) -> BaselineOut:
    await usecases.add_baseline_case(runtime.extra["audit"], baseline_id, to_domain(body, usecases.BaselineCase), caller=caller, expected=if_match)
    return await _baseline_answer(runtime, baseline_id, caller, request, response)


@router.post(
    "/baselines/{baseline_id}/cases/{audit_id}/withdrawal", response_model=BaselineOut,
    summary="Withdraw a case from the baseline before completion, saying why; its audit is kept (the coordinator or QA staff)",
    responses=CHANGES,
)
async def withdraw_baseline_case(
    baseline_id: BaselineId, audit_id: AuditId, body: WithdrawalIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response,
    if_match: RequiredIfMatch,
) -> BaselineOut:
    await usecases.withdraw_baseline_case(runtime.extra["audit"], baseline_id, audit_id, body.reason, caller=caller, expected=if_match)
    return await _baseline_answer(runtime, baseline_id, caller, request, response)


@router.post(
    "/baselines/{baseline_id}/completion", response_model=BaselineOut,
    summary="Complete the baseline once every case has had its meeting: its figures kept as the benchmark, with a report PDF (the coordinator or the Lead QA Auditor)",
    responses=CHANGES,
)
async def complete_baseline(
    baseline_id: BaselineId, body: CompletionIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch
) -> BaselineOut:
    await usecases.complete_baseline(runtime.extra["audit"], baseline_id, body.summary, caller=caller, expected=if_match)
    return await _baseline_answer(runtime, baseline_id, caller, request, response)


@router.get(
    "/baselines/{baseline_id}/report/pdf", response_class=Response, response_model=None,
    summary="Download a completed baseline's report as a PDF (its figures; no case named, not even by its code)",
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}, 404: {"description": "No such baseline or report, or not in its audit group"}},
)
async def download_baseline_report(baseline_id: BaselineId, caller: CurrentPerson, runtime: RuntimeDep) -> Response:
    baseline, _ = await usecases.read_baseline(runtime.db, baseline_id, caller)
    doc = await store.load_baseline_pdf(runtime.db, baseline.id, baseline.report.pdf_id) if baseline.report and baseline.report.pdf_id else None
    if doc is None:
        raise not_found("Report", baseline_id)
    return Response(bytes(doc["content"]), media_type="application/pdf", headers={"Content-Disposition": attachment(pdf.baseline_filename(baseline.id))})

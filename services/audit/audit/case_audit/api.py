"""HTTP routes for audits: allocation by QA staff, the three stages, copies (PDFs), follow-ups.

Every route reads the caller from the gateway's signed identity; the use cases decide who may
do what. A person not party to an audit gets 404 (its existence is not theirs to know).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from shared.app import RuntimeDep
from shared.disposition import attachment
from shared.errors import not_found
from shared.http import OptionalIfMatch, Page, Pagination, RequiredIfMatch, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_id_once
from shared.identity import CurrentPerson

from ..common.api_paging import after, keyset_page, slice_page
from ..common.api_params import RecordIdPath
from ..common.api_scheduled import run_day
from ..common.responses import change_responses
from ..common.roles import QA_STAFF_ROLES
from . import pdf, store, usecases
from .domain import moderation, work
from .domain.audit import Audit, AuditStatus, OfficerPurpose
from .events import pdf_path
from .schemas import (
    AuditCreate,
    AuditOut,
    AuditSummaryOut,
    CaseNoteOut,
    ConcernOutcomeIn,
    CriticalConfirmationIn,
    DraftOut,
    EscalationIn,
    EscalationRunIn,
    EscalationRunOut,
    EvidenceIn,
    Grading,
    OfficerIn,
    PdfOut,
    PractitionerViewsIn,
    ResolutionIn,
    SafeguardingConcernIn,
    StageWork,
    audit_out,
    audit_summary,
    evidence_of,
    to_domain,
)

router = APIRouter(prefix="/v1", tags=["audits"])

AuditId = RecordIdPath
CHANGES = change_responses(
    missing="No such audit, or not party to it", forbidden="Party to the audit, but this is not theirs to do",
    conflict="The audit is not at a stage where this can happen", stale="The audit changed since the If-Match version",
    invalid="Invalid entries, or gaps (every one listed)",
)


def _answer(audit: Audit, caller_id: str, response: Response) -> AuditOut:
    response.headers["ETag"] = etag(audit.version)
    return audit_out(audit, caller_id)


@router.post("/audits", response_model=AuditOut, status_code=201, summary="Allocate an audit (QA staff)", responses={403: {"description": "Not QA staff"}, 422: {"description": "Unknown tool or case, or missing parties"}})
async def allocate_audit(body: AuditCreate, caller: CurrentPerson, runtime: RuntimeDep, http_request: Request, response: Response, key: IdempotencyKeyDep) -> AuditOut:
    audit_id = await create_id_once(
        runtime.db, key, response, lambda: usecases.create_audit(runtime.extra["audit"], usecases.AllocationRequest(**body.model_dump()), caller=caller, key=key)
    )
    audit = await usecases.read_audit(runtime.db, audit_id, caller)
    response.headers["Location"] = public_path(http_request, f"/v1/audits/{audit.id}")
    return _answer(audit, caller.person_id, response)


@router.get("/audits", response_model=Page[AuditSummaryOut], summary="Audits the caller is party to (QA staff: every audit)")
async def list_audits(
    caller: CurrentPerson, runtime: RuntimeDep, page: Pagination,
    status: Annotated[AuditStatus | None, Query(description="Only audits at this stage")] = None,
    mine: Annotated[bool, Query(description="QA staff: only audits they are party to")] = False,
) -> Page[AuditSummaryOut]:
    everyone = not mine and not QA_STAFF_ROLES.isdisjoint(caller.roles)
    audits = await store.list_audits(
        runtime.db, viewer=None if everyone else caller.person_id, status=status.value if status else None, after=after(page), limit=page.limit + 1
    )
    return keyset_page(audits, page, audit_summary)


@router.get("/audits/{audit_id}", response_model=AuditOut, summary="Read an audit", responses={404: CHANGES[404]})
async def read_audit(audit_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> AuditOut:
    return _answer(await usecases.read_audit(runtime.db, audit_id, caller), caller.person_id, response)


@router.get("/audits/{audit_id}/drafts", response_model=Page[DraftOut], summary="Every saved draft of the caller's own stage (QA staff: all)", responses={404: CHANGES[404]})
async def list_drafts(audit_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[DraftOut]:
    audit = await usecases.read_audit(runtime.db, audit_id, caller)
    allowed = {"audit", "evidence"} if caller.person_id == audit.auditor_id else set()
    if caller.person_id in audit.preparer_ids:
        allowed.add("evidence")
    if caller.person_id == audit.peer_reviewer_id:
        allowed.add("peer_review")
    if not QA_STAFF_ROLES.isdisjoint(caller.roles):
        allowed = {"audit", "evidence", "peer_review"}
    docs = [d for d in await store.drafts(runtime.db, audit.id) if d["stage"] in allowed]
    return slice_page(docs, page, lambda d: DraftOut(stage=d["stage"], number=d["number"], by=d["by"], at=d["at"], work=d["work"]))


@router.put("/audits/{audit_id}/evidence", response_model=AuditOut, summary="Save the evidence list (the worker and supervisor preparing the file, or the auditor)", responses=CHANGES)
async def save_evidence(audit_id: AuditId, body: EvidenceIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.save_evidence(runtime.extra["audit"], audit_id, evidence_of(body), caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.put("/audits/{audit_id}/stage1", response_model=AuditOut, summary="Save the auditor's stage 1 draft", responses=CHANGES)
async def save_stage1(audit_id: AuditId, body: StageWork, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.save_audit_draft(runtime.extra["audit"], audit_id, to_domain(body, work.StageWork), caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.post("/audits/{audit_id}/stage1/submit", response_model=AuditOut, summary="Submit stage 1 (refused with every gap listed)", responses=CHANGES)
async def submit_stage1(audit_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.submit_audit(runtime.extra["audit"], audit_id, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.put("/audits/{audit_id}/peer-review", response_model=AuditOut, summary="Save the peer reviewer's draft", responses=CHANGES)
async def save_peer_review(audit_id: AuditId, body: StageWork, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.save_peer_review_draft(runtime.extra["audit"], audit_id, to_domain(body, work.StageWork), caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.post("/audits/{audit_id}/peer-review/submit", response_model=AuditOut, summary="Submit the peer review (refused with every gap listed)", responses=CHANGES)
async def submit_peer_review(audit_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.submit_peer_review(runtime.extra["audit"], audit_id, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.post("/audits/{audit_id}/moderation/proposals", response_model=AuditOut, summary="Propose a moderated grading (auditor or peer reviewer)", responses=CHANGES)
async def propose_moderation(audit_id: AuditId, body: Grading, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.propose_moderated_grading(runtime.extra["audit"], audit_id, to_domain(body, moderation.Grading), caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.post("/audits/{audit_id}/moderation/accept", response_model=AuditOut, summary="Accept the other party's latest proposed grading", responses=CHANGES)
async def accept_moderation(audit_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.accept_moderated_grading(runtime.extra["audit"], audit_id, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.post("/audits/{audit_id}/moderation/escalate", response_model=AuditOut, summary="No agreement: the peer reviewer asks for a practice development officer", responses=CHANGES)
async def escalate_moderation(audit_id: AuditId, body: EscalationIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.escalate_moderation(runtime.extra["audit"], audit_id, body.reason, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.put("/audits/{audit_id}/officers/{purpose}", response_model=AuditOut, summary="Appoint a practice development officer (QA officer or lead QA auditor)", responses=CHANGES)
async def appoint_officer(audit_id: AuditId, purpose: OfficerPurpose, body: OfficerIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.appoint_officer(runtime.extra["audit"], audit_id, purpose, body.person_id, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.post("/audits/{audit_id}/moderation/final-grading", response_model=AuditOut, summary="The practice development officer's grading, which is final", responses=CHANGES)
async def final_grading(audit_id: AuditId, body: Grading, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.record_final_grading(runtime.extra["audit"], audit_id, to_domain(body, moderation.Grading), caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.post("/audits/{audit_id}/critical-confirmation", response_model=AuditOut, summary="Confirm (or revise) an inadequate (critical) grade (the assigned officer)", responses=CHANGES)
async def confirm_critical(audit_id: AuditId, body: CriticalConfirmationIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.confirm_critical_grade(
        runtime.extra["audit"], audit_id, confirmed=body.confirmed, revised_grade=body.revised_grade, comment=body.comment, caller=caller, expected=if_match
    )
    return _answer(audit, caller.person_id, response)


@router.post("/audits/{audit_id}/inadequate-action/resolve", response_model=AuditOut, summary="Practice brought to an adequate level (the operational service manager)", responses=CHANGES)
async def resolve_action(audit_id: AuditId, body: ResolutionIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> AuditOut:
    audit = await usecases.resolve_inadequate_action(runtime.extra["audit"], audit_id, body.note, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


ConcernId = RecordIdPath


@router.post(
    "/audits/{audit_id}/safeguarding-concerns",
    response_model=AuditOut,
    status_code=201,
    summary="Raise an immediate safeguarding concern at any stage (the auditor or peer reviewer): to the team manager and service manager at once",
    responses={k: v for k, v in CHANGES.items() if k != 428},
)
async def raise_safeguarding_concern(
    audit_id: AuditId, body: SafeguardingConcernIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response,
    if_match: OptionalIfMatch,
) -> AuditOut:
    audit, _ = await usecases.raise_safeguarding_concern(runtime.extra["audit"], audit_id, body.concern, caller=caller, expected=if_match)
    response.headers["Location"] = public_path(request, f"/v1/audits/{audit.id}")
    return _answer(audit, caller.person_id, response)


@router.post(
    "/audits/{audit_id}/safeguarding-concerns/{concern_id}/acknowledgement",
    response_model=AuditOut,
    summary="Record the action taken on a safeguarding concern and its outcome (the team manager or service manager it went to, or QA staff)",
    responses=CHANGES,
)
async def acknowledge_safeguarding_concern(
    audit_id: AuditId, concern_id: ConcernId, body: ConcernOutcomeIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response,
    if_match: RequiredIfMatch,
) -> AuditOut:
    audit = await usecases.acknowledge_safeguarding_concern(runtime.extra["audit"], audit_id, concern_id, body.outcome, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.put(
    "/audits/{audit_id}/practitioner-views",
    response_model=AuditOut,
    summary="Kent: the allocated social worker's views and reflections on their practice, before the auditor submits (every save kept)",
    responses=CHANGES,
)
async def give_practitioner_views(
    audit_id: AuditId, body: PractitionerViewsIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> AuditOut:
    audit = await usecases.give_practitioner_views(runtime.extra["audit"], audit_id, body.views, caller=caller, expected=if_match)
    return _answer(audit, caller.person_id, response)


@router.get(
    "/audits/{audit_id}/case-note",
    response_model=CaseNoteOut,
    summary="The case note of a completed audit, for the child's record (multi-agency: its auditors and coordinator only)",
    responses={404: {"description": "No such audit, not party to it, not one who may know the child, or not completed yet"}},
)
async def case_note(audit_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep) -> CaseNoteOut:
    audit, note = await usecases.read_case_note(runtime.db, audit_id, caller)
    if note is None:
        raise not_found("Case note", audit.id)
    return CaseNoteOut(
        audit_id=audit.id, case_id=audit.case.case_id, case_ref=audit.case_ref, note_type=note.note_type, author_id=note.author_id,
        analysis=note.analysis, recommended_actions=note.recommended_actions, grade=note.grade, moderated_on=note.moderated_on,
        written_at=note.written_at,
    )


@router.get("/audits/{audit_id}/pdfs", response_model=Page[PdfOut], summary="The PDFs produced after each stage", responses={404: CHANGES[404]})
async def list_pdfs(audit_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep, request: Request, page: Pagination) -> Page[PdfOut]:
    audit = await usecases.read_audit(runtime.db, audit_id, caller)
    return slice_page(audit.copies, page, lambda c: PdfOut(pdf_id=c.pdf_id, stage=c.stage.value, at=c.at, href=public_path(request, pdf_path(audit.id, c.pdf_id))))


@router.get(
    "/audits/{audit_id}/pdfs/{pdf_id}",
    response_class=Response,
    response_model=None,
    summary="Download one PDF of the audit (its parties and everyone a copy was routed to; the link in a copy's email)",
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The PDF; its ETag never changes (a stored PDF is never rewritten)"},
        304: {"description": "If-None-Match names this PDF's ETag"},
        404: CHANGES[404],
    },
)
async def download_pdf(
    audit_id: AuditId, pdf_id: AuditId, caller: CurrentPerson, runtime: RuntimeDep,
    if_none_match: Annotated[str | None, Header(description="The ETag of a copy already held")] = None,
) -> Response:
    audit = await usecases.read_audit(runtime.db, audit_id, caller)
    doc = await store.load_pdf(runtime.db, audit.id, pdf_id)
    if doc is None:
        raise not_found("PDF", pdf_id)
    # Personal data: a private cache may keep it, but must ask again (and be authorised again) each time.
    headers = {"ETag": f'"{doc["_id"]}"', "Cache-Control": "private, no-cache"}
    if if_none_match is not None and {t.strip() for t in if_none_match.split(",")} & {headers["ETag"], f"W/{headers['ETag']}", "*"}:
        return Response(status_code=304, headers=headers)
    return Response(
        bytes(doc["content"]),
        media_type="application/pdf",
        headers={**headers, "Content-Disposition": attachment(pdf.filename(audit.id, doc["stage"]))},
    )


@router.post(
    "/inadequate-actions/escalations",
    response_model=EscalationRunOut,
    tags=["audit schedule"],
    summary="Escalate to the assistant director every inadequate-practice action open a month (administrators; the scheduler)",
)
async def run_escalations(body: EscalationRunIn, caller: CurrentPerson, runtime: RuntimeDep) -> EscalationRunOut:
    today = run_day(caller, runtime, body.today, runs="the escalation of inadequate-practice actions")
    return EscalationRunOut(escalated=await usecases.escalate_due_inadequate_actions(runtime.extra["audit"], today))

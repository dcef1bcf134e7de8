"""One function per thing a person (or the scheduler, or the allocation consumer) does with an
audit: load the aggregate, call the domain, then save it with its events in one transaction.

Stage ends have follow-ups computed here, inside the same transaction, because they read the
directory projection: the PDF of the stage and the routing of its copies, a practice development
officer for an escalated moderation or a critical grade, and the action for the operational
service manager when practice is graded inadequate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from pymongo.asynchronous.database import AsyncDatabase
from shared.calendar import local_date
from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Document, Transaction
from shared.versioned import check_version

from ..common.context import SERVICE_ACTOR, AuditContext, each_in_own_transaction
from ..common.directory import Directory, audit_type_of
from ..common.errors import InvalidEntries, NotAllowed, NotVisible
from ..common.grades import Grade
from ..common.roles import PROGRAMME_ROLES
from ..tools import store as tool_store
from ..tools.domain.definition import AuditForm, CaseType, NoSectionsShown, open_band
from . import pdf, store
from .domain import events as ev
from .domain.audit import AllocationBasis, Audit, CaseFacts, CaseNote, OfficerPurpose
from .domain.moderation import Grading
from .domain.routing import CopyStage, copies_the_case_team, copy_recipients
from .domain.work import Evidence, StageWork
from .events import record

# --- allocation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationRequest:
    tool_id: str
    case_id: str
    auditor_id: str
    tool_version: int | None = None
    peer_reviewer_id: str | None = None
    coordinator_id: str | None = None
    month: str | None = None
    #: Makes allocation idempotent: a second request with the same key returns the first audit.
    allocation_key: str | None = None
    case_code: str | None = None
    #: Hampshire: the worker and supervisor who list the evidence.
    evidence_preparer_ids: tuple[str, ...] = ()
    #: When the audit is due, where the programme sets it (Hillingdon's round); else the end of ``month``.
    due_on: date | None = None
    #: How the monthly draw chose the case (the cycle's assignment); None outside a drawn cycle.
    basis: AllocationBasis | None = None


async def create_audit(ctx: AuditContext, request: AllocationRequest, *, caller: Identity, key: IdempotencyKey | None = None) -> str:
    """A QA officer, the lead QA auditor or an administrator allocates an audit by hand."""
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators allocate audits.")
    return await allocate_audit(ctx, request, by=caller.person_id, key=key)


async def allocate_audit(ctx: AuditContext, request: AllocationRequest, *, by: str, key: IdempotencyKey | None = None) -> str:
    """Create one audit (also called by the monthly allocation's work-item consumer)."""
    if request.allocation_key and (existing := await store.find_allocated(ctx.db, request.allocation_key)):
        return existing
    audit_id = uuid.uuid4().hex
    code = request.case_code or f"MA-{uuid.uuid4().hex[:8].upper()}"

    async def work(tx: Transaction) -> str:
        audit = await allocate_in(tx, ctx, request, by=by, audit_id=audit_id, code=code)
        await remember(tx, ctx.db, key, audit.id, now=audit.created_at)
        return audit.id

    try:
        return await ctx.uow.run(work)
    except store.AllocationExists as exists:
        # Allocated meanwhile (another replica took the same work item): that audit is the one.
        existing = await store.find_allocated(ctx.db, exists.allocation_key)
        if existing is None:
            raise
        return existing


async def allocate_in(tx: Transaction, ctx: AuditContext, request: AllocationRequest, *, by: str, audit_id: str, code: str) -> Audit:
    """Create the audit inside ``tx`` (with its allocation event); the allocation consumer calls
    this inside the transaction that also marks its work item handled."""
    now = ctx.uow.clock.now()
    case = await Directory(ctx.db, ctx.overrides, tx.session).case(request.case_id)
    form, facts = await form_and_facts(
        tx, ctx, tool_id=request.tool_id, tool_version=request.tool_version, case_id=request.case_id, case=case, code=code, today=local_date(now)
    )
    assert case is not None  # form_and_facts refuses an unknown case
    audit = Audit.allocate(
        audit_id=audit_id, form=form, case=facts, auditor_id=request.auditor_id, peer_reviewer_id=request.peer_reviewer_id,
        coordinator_id=request.coordinator_id, by=by, at=now, month=request.month, allocation_key=request.allocation_key,
        preparer_ids=list(request.evidence_preparer_ids), social_worker_id=case.get("allocated_worker_id"), due_on=request.due_on,
        basis=request.basis,
    )
    await store.insert(tx, ctx.db, audit)
    record(tx, audit)
    return audit


async def form_and_facts(
    tx: Transaction, ctx: AuditContext, *, tool_id: str, tool_version: int | None, case_id: str, case: Document | None, code: str, today: date
) -> tuple[AuditForm, CaseFacts]:
    """What an audit of ``case`` (the directory's document of ``case_id``) is allocated with: the
    form of the tool (at ``tool_version``, else its latest) for that case as it stands ``today``,
    and the case's facts (known by ``code`` where the form codes the case). ``InvalidEntries``
    for an unknown tool or case, or a form that shows the case no section."""
    version = tool_version or await tool_store.latest_version(ctx.db, tool_id, tx=tx)
    definition = await tool_store.version_definition(ctx.db, tool_id, version, tx=tx) if version else None
    if definition is None or version is None:
        raise InvalidEntries("Unknown audit tool.", [{"field": "tool_id", "message": f"there is no tool {tool_id!r} version {version}", "code": "unknown"}])
    if case is None:
        raise InvalidEntries("Unknown case.", [{"field": "case_id", "message": "the directory has not told the audit service of this case", "code": "unknown"}])
    case_type = CaseType(audit_type_of(case))
    opened_on = date.fromisoformat(case["opened_on"])
    try:
        form = definition.form_for(tool_id, version, case_type, open_band(opened_on, today))
    except NoSectionsShown as exc:
        raise InvalidEntries(str(exc), [{"field": "tool_id", "message": str(exc)}]) from exc
    facts = CaseFacts(
        case_id=case_id, case_type=case_type, opened_on=opened_on, team_id=case.get("team_id"), case_code=code if form.coded_case else None
    )
    return form, facts


# --- reading -----------------------------------------------------------------------------------


async def read_audit(db: AsyncDatabase[Document], audit_id: str, caller: Identity) -> Audit:
    audit = await store.load(db, audit_id)
    if audit is None or not audit.visible_to(caller.person_id, caller.roles):
        raise NotVisible(audit_id)
    return audit


async def read_case_note(db: AsyncDatabase[Document], audit_id: str, caller: Identity) -> tuple[Audit, CaseNote | None]:
    """A completed audit's case note (None before completion), for those who may read the audit
    and know the child: in a multi-agency audit only its auditor(s) and coordinator, not even QA
    staff; anyone else is told the audit does not exist."""
    audit = await store.load(db, audit_id)
    if audit is None or not audit.visible_to(caller.person_id, caller.roles) or not audit.child_identity_visible_to(caller.person_id):
        raise NotVisible(audit_id)
    return audit, audit.case_note_of_record


# --- acting on an audit ------------------------------------------------------------------------


async def _act(ctx: AuditContext, audit_id: str, caller: Identity, expected: int | None, change: Callable[[Audit, datetime], object]) -> Audit:
    async def work(tx: Transaction) -> Audit:
        audit = await store.load(ctx.db, audit_id, tx=tx)
        if audit is None or not audit.visible_to(caller.person_id, caller.roles):
            raise NotVisible(audit_id)
        check_version(store.WHAT, audit.version, expected, ident=audit_id)
        now = ctx.uow.clock.now()
        change(audit, now)
        await _follow_up(tx, ctx, audit, now)
        await store.save(tx, ctx.db, audit)
        record(tx, audit)
        return audit

    return await ctx.uow.run(work)


async def _follow_up(tx: Transaction, ctx: AuditContext, audit: Audit, now: datetime) -> None:
    """The follow-ups of a stage's end. A copy's PDF is stored here; its routed event says where it is."""
    directory = Directory(ctx.db, ctx.overrides, tx.session)
    for event in list(audit.events):
        if isinstance(event, ev.CopyDue):
            await _route_copy(tx, ctx, directory, audit, CopyStage(event.stage), now)
        elif isinstance(event, ev.ModerationEscalated) and audit.moderation and audit.moderation.officer_id is None:
            officer = await directory.choose_practice_development_officer(audit.id, {audit.auditor_id, audit.peer_reviewer_id or ""})
            if officer:
                audit.assign_officer(purpose=OfficerPurpose.MODERATION, officer_id=officer, by=SERVICE_ACTOR, at=now)
    if audit.needs_confirming_officer:
        officer = await directory.choose_practice_development_officer(audit.id, {audit.auditor_id, audit.peer_reviewer_id or ""})
        if officer:
            audit.assign_officer(purpose=OfficerPurpose.CRITICAL_CONFIRMATION, officer_id=officer, by=SERVICE_ACTOR, at=now)
    if audit.needs_inadequate_action:
        audit.open_inadequate_action(owner_id=await directory.accountable_service_manager(audit.case.case_id), at=now)


async def _route_copy(tx: Transaction, ctx: AuditContext, directory: Directory, audit: Audit, stage: CopyStage, now: datetime) -> None:
    officer = audit.moderation.final_by if audit.moderation else None
    people = [audit.auditor_id, audit.peer_reviewer_id, officer, audit.social_worker_id, *(p for c in audit.concerns for p in (c.raised_by, *c.recipients, c.acknowledged_by))]
    names = await directory.names([p for p in people if p])
    content = pdf.render(audit, stage, names=names, at=now)
    pdf_id = uuid.uuid4().hex
    await store.store_pdf(tx, ctx.db, pdf_id=pdf_id, audit_id=audit.id, stage=stage.value, content=content, at=now)
    if stage is CopyStage.AUDIT:
        grades = [audit.stage1.work.overall_grade]
    elif stage is CopyStage.PEER_REVIEW:
        grades = [audit.stage1.work.overall_grade, audit.stage2.work.overall_grade if audit.stage2 else None]
    else:
        grades = [audit.grade_of_record]
    recipients = copy_recipients(
        stage=stage, case_type=audit.case.case_type, grades=grades, auditor_id=audit.auditor_id,
        peer_reviewer_id=audit.peer_reviewer_id, officer_id=officer, contacts=await directory.contacts(audit.case.case_id, case_team=copies_the_case_team(audit.form.programme)),
        programme=audit.form.programme,
    )
    audit.route_copy(stage=stage, pdf_id=pdf_id, recipients=recipients, at=now)


async def save_evidence(ctx: AuditContext, audit_id: str, evidence: dict[str, list[Evidence]], *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.save_evidence(by=caller.person_id, evidence=evidence, at=now))


async def save_audit_draft(ctx: AuditContext, audit_id: str, work: StageWork, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.save_audit_draft(by=caller.person_id, work=work, at=now))


async def submit_audit(ctx: AuditContext, audit_id: str, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.submit_audit(by=caller.person_id, at=now))


async def save_peer_review_draft(ctx: AuditContext, audit_id: str, work: StageWork, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.save_peer_review_draft(by=caller.person_id, work=work, at=now))


async def submit_peer_review(ctx: AuditContext, audit_id: str, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.submit_peer_review(by=caller.person_id, at=now))


async def propose_moderated_grading(ctx: AuditContext, audit_id: str, grading: Grading, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.propose_moderated_grading(by=caller.person_id, grading=grading, at=now))


async def accept_moderated_grading(ctx: AuditContext, audit_id: str, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.accept_moderated_grading(by=caller.person_id, at=now))


async def escalate_moderation(ctx: AuditContext, audit_id: str, reason: str, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.escalate_moderation(by=caller.person_id, reason=reason, at=now))


async def appoint_officer(
    ctx: AuditContext, audit_id: str, purpose: OfficerPurpose, officer_id: str, *, caller: Identity, expected: int
) -> Audit:
    return await _act(
        ctx, audit_id, caller, expected,
        lambda a, now: a.appoint_officer(purpose=purpose, officer_id=officer_id, by=caller.person_id, by_roles=caller.roles, at=now),
    )


async def record_final_grading(ctx: AuditContext, audit_id: str, grading: Grading, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.record_final_grading(by=caller.person_id, grading=grading, at=now))


async def confirm_critical_grade(
    ctx: AuditContext, audit_id: str, *, confirmed: bool, revised_grade: Grade | None, comment: str, caller: Identity, expected: int
) -> Audit:
    return await _act(
        ctx, audit_id, caller, expected,
        lambda a, now: a.confirm_critical_grade(by=caller.person_id, confirmed=confirmed, revised_grade=revised_grade, comment=comment, at=now),
    )


async def resolve_inadequate_action(ctx: AuditContext, audit_id: str, note: str, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.resolve_inadequate_action(by=caller.person_id, note=note, at=now))


# --- during the audit (Kent 4.7 and 2) -------------------------------------------------------------


async def raise_safeguarding_concern(ctx: AuditContext, audit_id: str, concern: str, *, caller: Identity, expected: int | None) -> tuple[Audit, str]:
    """The auditor or peer reviewer raises an immediate concern: it goes at once to the case's team
    manager and the accountable service manager, as the directory names them now. Without If-Match
    (``expected`` None) it is added whatever else changed meanwhile: adding one overwrites nothing,
    and action should not wait."""
    concern_id = uuid.uuid4().hex

    async def work(tx: Transaction) -> Audit:
        audit = await store.load(ctx.db, audit_id, tx=tx)
        if audit is None or not audit.visible_to(caller.person_id, caller.roles):
            raise NotVisible(audit_id)
        check_version(store.WHAT, audit.version, expected, ident=audit_id)
        contacts = await Directory(ctx.db, ctx.overrides, tx.session).contacts(audit.case.case_id, case_team=True)
        audit.raise_concern(
            concern_id=concern_id, by=caller.person_id, concern=concern, team_manager_id=contacts.team_manager_id,
            service_manager_id=contacts.accountable_service_manager_id, at=ctx.uow.clock.now(),
        )
        await store.save(tx, ctx.db, audit)
        record(tx, audit)
        return audit

    return await ctx.uow.run(work), concern_id


async def acknowledge_safeguarding_concern(
    ctx: AuditContext, audit_id: str, concern_id: str, outcome: str, *, caller: Identity, expected: int
) -> Audit:
    return await _act(
        ctx, audit_id, caller, expected,
        lambda a, now: a.acknowledge_concern(concern_id=concern_id, by=caller.person_id, by_roles=caller.roles, outcome=outcome, at=now),
    )


async def give_practitioner_views(ctx: AuditContext, audit_id: str, views: str, *, caller: Identity, expected: int) -> Audit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now: a.give_practitioner_views(by=caller.person_id, views=views, at=now))


# --- scheduled ---------------------------------------------------------------------------------


async def escalate_due_inadequate_actions(ctx: AuditContext, today: date) -> list[str]:
    """Escalate to the assistant director every action still open a month after it was opened.

    Driven by a date so a scheduler (or a test) decides what "today" is; running it twice, or on
    two replicas at once, escalates each action once.
    """

    async def escalate(tx: Transaction, audit_id: str) -> str | None:
        audit = await store.load(ctx.db, audit_id, tx=tx)
        if audit is None or not audit.inadequate_action_due(today):
            return None
        owner = audit.inadequate_action.owner_id if audit.inadequate_action else None
        director = await Directory(ctx.db, ctx.overrides, tx.session).assistant_director_above(owner)
        audit.escalate_inadequate_action(today=today, assistant_director_id=director, at=ctx.uow.clock.now())
        await store.save(tx, ctx.db, audit)
        record(tx, audit)
        return audit_id

    return await each_in_own_transaction(ctx.uow, await store.due_inadequate_actions(ctx.db, today), escalate)


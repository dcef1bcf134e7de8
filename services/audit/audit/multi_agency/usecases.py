"""One function per thing a person does with a multi-agency audit: load it, call the domain, save
it with its events in one transaction (the outbox).

Setting one up is one transaction: version 1 of the audit's bespoke tool (``multi-agency-<audit
id>``, derived from the shipped multi-agency tool), the case audit allocated on it with the case's
code (``audit.audit.allocated``; the auditor then completes it through ``/v1/audits``), and the
multi-agency record under the same id.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Document, Transaction
from shared.versioned import check_version

from ..case_audit import store as audit_store
from ..case_audit.domain.audit import Audit, AuditStatus
from ..case_audit.usecases import AllocationRequest, allocate_in
from ..common.context import AuditContext, each_in_own_transaction
from ..common.directory import Directory
from ..common.errors import InvalidEntries, NotAllowed, NotVisible
from ..common.roles import PROGRAMME_ROLES, QA_STAFF_ROLES, REPORT_ROLES
from ..tools import store as tool_store
from . import pdf, store
from .domain import retention
from .domain.audit import (
    ActionStatus,
    BespokeTool,
    CaseAllocation,
    ConsultationInput,
    ConsultedParty,
    MeetingInput,
    MultiAgencyAudit,
    Partner,
    PlanInput,
    ReportKind,
    bespoke_definition,
    bespoke_tool_id,
)
from .domain.baseline import Baseline, size_errors
from .events import integration_events


@dataclass(frozen=True)
class SetUpRequest:
    theme: str
    case_id: str
    auditor_id: str
    coordinator_id: str
    partners: list[Partner]
    consultation_worker_ids: list[str] = field(default_factory=list)
    tool: BespokeTool = field(default_factory=BespokeTool)
    case_code: str | None = None


async def case_allocation(tx: Transaction, ctx: AuditContext, case_id: str, people: list[str]) -> tuple[CaseAllocation, frozenset[str]]:
    """The case's allocation in the directory, and which of ``people`` the directory knows (the
    authority's own staff); an unknown case is refused as allocation refuses it."""
    directory = Directory(ctx.db, ctx.overrides, tx.session)
    known = frozenset(await directory.names(people)) if people else frozenset()
    case = await directory.case(case_id)
    if case is None:
        raise InvalidEntries("Unknown case.", [{"field": "case_id", "message": "the directory has not told the audit service of this case", "code": "unknown"}])
    team_manager = await directory.team_manager(case["team_id"]) if case.get("team_id") else None
    allocation = CaseAllocation(
        allocated_worker_id=case.get("allocated_worker_id"), team_manager_id=case.get("team_manager_id"), team_manager_of_team_id=team_manager,
    )
    return allocation, known


async def _set_up_in(
    tx: Transaction, ctx: AuditContext, *, audit_id: str, tool_id: str, version: int, theme: str, case_id: str, auditor_id: str, code: str,
    coordinator_id: str, partners: list[Partner], consultation_worker_ids: list[str], by: str, baseline_id: str | None = None, where: str = "",
) -> MultiAgencyAudit:
    """One coded case audit on ``tool_id`` and its multi-agency record, inside ``tx``; the auditor and
    every lead auditor checked against the case's allocation first (``where`` prefixes the fields)."""
    now = ctx.uow.clock.now()
    try:
        allocation, known = await case_allocation(tx, ctx, case_id, [auditor_id, *(p.representative_id for p in partners)])
    except InvalidEntries as exc:
        raise InvalidEntries(str(exc), [{**e, "field": f"{where}{e['field']}"} for e in exc.errors]) from None
    allocation_request = AllocationRequest(tool_id=tool_id, tool_version=version, case_id=case_id, auditor_id=auditor_id, coordinator_id=coordinator_id, case_code=code)
    try:
        audit = MultiAgencyAudit.set_up(
            audit_id=audit_id, tool_id=tool_id, tool_version=version, case_ref=code, theme=theme, auditor_id=auditor_id,
            coordinator_id=coordinator_id, partners=partners, consultation_worker_ids=consultation_worker_ids, by=by, at=now,
            allocation=allocation, known_to_directory=known, baseline_id=baseline_id,
        )
        case_audit = await allocate_in(tx, ctx, allocation_request, by=by, audit_id=audit_id, code=code)
    except InvalidEntries as exc:
        if not where:
            raise
        raise InvalidEntries(str(exc), [{**e, "field": f"{where}{e['field']}"} for e in exc.errors]) from None
    audit.case_ref = case_audit.case_ref
    await store.insert(tx, ctx.db, audit)
    return audit


async def _bespoke_tool(tx: Transaction, ctx: AuditContext, tool: BespokeTool, *, theme: str, tool_id: str, by: str) -> int:
    now = ctx.uow.clock.now()
    base_id = tool.base_tool_id
    base_version = tool.base_version or await tool_store.latest_version(ctx.db, base_id, tx=tx)
    base = await tool_store.version_definition(ctx.db, base_id, base_version, tx=tx) if base_version else None
    if base is None or base_version is None:
        raise InvalidEntries("Unknown base tool.", [{"field": "tool.base_tool_id", "message": f"there is no tool {base_id!r} version {base_version}", "code": "unknown"}])
    definition = bespoke_definition(base, theme=theme, tool=tool)
    return await tool_store.add_version(tx, ctx.db, tool_id, definition, expected=None, by=by, at=now)


async def set_up(ctx: AuditContext, request: SetUpRequest, *, caller: Identity, key: IdempotencyKey | None = None) -> str:
    """QA staff set up a multi-agency audit: its bespoke tool, its coded case audit, its record."""
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators set up multi-agency audits.")
    audit_id = uuid.uuid4().hex
    code = request.case_code or f"MA-{uuid.uuid4().hex[:8].upper()}"

    async def work(tx: Transaction) -> str:
        tool_id = bespoke_tool_id(audit_id)
        version = await _bespoke_tool(tx, ctx, request.tool, theme=request.theme, tool_id=tool_id, by=caller.person_id)
        await _set_up_in(
            tx, ctx, audit_id=audit_id, tool_id=tool_id, version=version, theme=request.theme, case_id=request.case_id, auditor_id=request.auditor_id,
            code=code, coordinator_id=request.coordinator_id, partners=request.partners, consultation_worker_ids=request.consultation_worker_ids,
            by=caller.person_id,
        )
        await remember(tx, ctx.db, key, audit_id, now=ctx.uow.clock.now())
        return audit_id

    return await ctx.uow.run(work)


async def read(db: AsyncDatabase[Document], audit_id: str, caller: Identity) -> MultiAgencyAudit:
    audit = await store.load(db, audit_id)
    if audit is None or not audit.visible_to(caller.person_id, caller.roles):
        raise NotVisible(audit_id)
    return audit


async def _load_to_change(tx: Transaction, ctx: AuditContext, audit_id: str, caller: Identity, expected: int) -> tuple[MultiAgencyAudit, Audit | None]:
    """The audit, in ``tx``, if the caller may see it (else ``NotVisible``) and it is still at
    ``expected`` (else ``Stale``); with its case audit (None: not there)."""
    audit = await store.load(ctx.db, audit_id, tx=tx)
    if audit is None or not audit.visible_to(caller.person_id, caller.roles):
        raise NotVisible(audit_id)
    check_version(store.WHAT, audit.version, expected, ident=audit.id)
    return audit, await audit_store.load(ctx.db, audit_id, tx=tx)


async def _act(
    ctx: AuditContext, audit_id: str, caller: Identity, expected: int, change: Callable[[MultiAgencyAudit, datetime, bool], object],
    follow_up: Callable[[Transaction, MultiAgencyAudit], Awaitable[None]] | None = None,
) -> MultiAgencyAudit:
    async def work(tx: Transaction) -> MultiAgencyAudit:
        audit, case_audit = await _load_to_change(tx, ctx, audit_id, caller, expected)
        change(audit, ctx.uow.clock.now(), case_audit is not None and case_audit.status is AuditStatus.COMPLETED)
        if follow_up is not None:
            await follow_up(tx, audit)
        await store.save(tx, ctx.db, audit)
        _record(tx, audit)
        return audit

    return await ctx.uow.run(work)


def _record(tx: Transaction, audit: MultiAgencyAudit) -> None:
    for event_type, data in integration_events(audit, audit.events):
        tx.record(event_type, data, subject=f"audit/{audit.id}")


async def record_consultation(
    ctx: AuditContext, audit_id: str, party: ConsultedParty, consultation: ConsultationInput, *, caller: Identity, expected: int
) -> MultiAgencyAudit:
    return await _act(
        ctx, audit_id, caller, expected, lambda a, now, _: a.record_consultation(party=party, consultation=consultation, by=caller.person_id, at=now)
    )


async def hold_meeting(ctx: AuditContext, audit_id: str, meeting: MeetingInput, *, caller: Identity, expected: int) -> MultiAgencyAudit:
    return await _act(
        ctx, audit_id, caller, expected,
        lambda a, now, completed: a.hold_meeting(meeting=meeting, by=caller.person_id, by_roles=caller.roles, case_audit_completed=completed, at=now),
    )


async def agree_plan(ctx: AuditContext, audit_id: str, plan: PlanInput, *, caller: Identity, expected: int) -> MultiAgencyAudit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now, _: a.agree_plan(plan=plan, by=caller.person_id, at=now))


async def change_action_status(
    ctx: AuditContext, audit_id: str, action_id: str, status: ActionStatus, note: str, *, caller: Identity, expected: int
) -> MultiAgencyAudit:
    return await _act(
        ctx, audit_id, caller, expected,
        lambda a, now, _: a.change_action_status(action_id=action_id, status=status, note=note, by=caller.person_id, at=now),
    )


async def report(ctx: AuditContext, audit_id: str, kind: ReportKind, summary: str, *, caller: Identity, expected: int) -> MultiAgencyAudit:
    """The report to the QA sub-committee, with its PDF stored in the same transaction."""
    pdf_id = uuid.uuid4().hex

    async def store_pdf(tx: Transaction, audit: MultiAgencyAudit) -> None:
        made = audit.reports[-1]
        await store.store_report_pdf(tx, ctx.db, pdf_id=pdf_id, audit_id=audit.id, number=made.number, content=pdf.render(audit, made), at=made.at)

    return await _act(
        ctx, audit_id, caller, expected,
        lambda a, now, _: a.report(kind=kind, summary=summary, by=caller.person_id, by_roles=caller.roles, at=now, pdf_id=pdf_id),
        store_pdf,
    )


# --- the lead auditors: no casework involvement (Appendix E 1) ----------------------------------


async def declare_no_involvement(ctx: AuditContext, audit_id: str, agency: str, *, caller: Identity, expected: int) -> MultiAgencyAudit:
    return await _act(ctx, audit_id, caller, expected, lambda a, now, _: a.declare_no_involvement(agency=agency, by=caller.person_id, at=now))


async def replace_lead_auditor(
    ctx: AuditContext, audit_id: str, agency: str, person_id: str, reason: str, *, caller: Identity, expected: int
) -> MultiAgencyAudit:
    """Replace an agency's lead auditor, the new one checked against the case's allocation in the directory."""

    async def work(tx: Transaction) -> MultiAgencyAudit:
        audit, case_audit = await _load_to_change(tx, ctx, audit_id, caller, expected)
        if case_audit is None:
            raise NotVisible(audit_id)
        allocation, known = await case_allocation(tx, ctx, case_audit.case.case_id, [person_id])
        audit.replace_lead_auditor(
            agency=agency, person_id=person_id, reason=reason, allocation=allocation, known_to_directory=person_id in known,
            by=caller.person_id, by_roles=caller.roles, at=ctx.uow.clock.now(),
        )
        await store.save(tx, ctx.db, audit)
        _record(tx, audit)
        return audit

    return await ctx.uow.run(work)


# --- the baseline audit: eight to ten cases (Appendix E 3) ----------------------------------------


@dataclass(frozen=True)
class BaselineCase:
    case_id: str
    auditor_id: str
    case_code: str | None = None


@dataclass(frozen=True)
class BaselineRequest:
    theme: str
    service_area: str
    coordinator_id: str
    partners: list[Partner]
    cases: list[BaselineCase]
    consultation_worker_ids: list[str] = field(default_factory=list)
    tool: BespokeTool = field(default_factory=BespokeTool)


async def set_up_baseline(ctx: AuditContext, request: BaselineRequest, *, caller: Identity, key: IdempotencyKey | None = None) -> str:
    """QA staff set up a baseline audit: one bespoke tool for all its cases, and a coded multi-agency
    audit per case, each lead auditor checked against each case; all or nothing."""
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators set up baseline audits.")
    if errors := size_errors(len(request.cases)):
        raise InvalidEntries("The baseline audit cannot be set up as asked.", errors)
    baseline_id = uuid.uuid4().hex
    audit_ids = [uuid.uuid4().hex for _ in request.cases]

    async def work(tx: Transaction) -> str:
        tool_id = bespoke_tool_id(baseline_id)
        version = await _bespoke_tool(tx, ctx, request.tool, theme=request.theme, tool_id=tool_id, by=caller.person_id)
        baseline = Baseline.set_up(
            baseline_id=baseline_id, theme=request.theme, service_area=request.service_area, coordinator_id=request.coordinator_id,
            partners=request.partners, case_ids=[c.case_id for c in request.cases], audit_ids=audit_ids,
            auditor_ids=[c.auditor_id for c in request.cases], by=caller.person_id, at=ctx.uow.clock.now(),
            consultation_worker_ids=request.consultation_worker_ids,
        )
        for n, (case, audit_id) in enumerate(zip(request.cases, audit_ids, strict=True)):
            await _set_up_in(
                tx, ctx, audit_id=audit_id, tool_id=tool_id, version=version, theme=request.theme, case_id=case.case_id, auditor_id=case.auditor_id,
                code=case.case_code or f"MA-{uuid.uuid4().hex[:8].upper()}", coordinator_id=request.coordinator_id, partners=request.partners,
                consultation_worker_ids=request.consultation_worker_ids, by=caller.person_id, baseline_id=baseline_id, where=f"cases.{n}.",
            )
        await store.insert_baseline(tx, ctx.db, baseline)
        await remember(tx, ctx.db, key, baseline_id, now=ctx.uow.clock.now())
        return baseline_id

    return await ctx.uow.run(work)


async def read_baseline(db: AsyncDatabase[Document], baseline_id: str, caller: Identity) -> tuple[Baseline, list[MultiAgencyAudit]]:
    baseline = await store.load_baseline(db, baseline_id)
    if baseline is None or not baseline.visible_to(caller.person_id, caller.roles):
        raise NotVisible(baseline_id)
    return baseline, await store.load_many(db, baseline.audit_ids)


async def _load_baseline(tx: Transaction, ctx: AuditContext, baseline_id: str, caller: Identity, expected: int) -> Baseline:
    baseline = await store.load_baseline(ctx.db, baseline_id, tx=tx)
    if baseline is None or not baseline.visible_to(caller.person_id, caller.roles):
        raise NotVisible(baseline_id)
    check_version(store.BASELINE, baseline.version, expected, ident=baseline.id)
    return baseline


async def add_baseline_case(ctx: AuditContext, baseline_id: str, case: BaselineCase, *, caller: Identity, expected: int) -> tuple[Baseline, str]:
    """A case added to the baseline before completion: a coded multi-agency audit on the baseline's tool
    with the audit group's lead auditors, checked against the case; never an eleventh, never a case twice."""
    audit_id = uuid.uuid4().hex

    async def work(tx: Transaction) -> Baseline:
        baseline = await _load_baseline(tx, ctx, baseline_id, caller, expected)
        baseline.add_case(audit_id=audit_id, auditor_id=case.auditor_id, by=caller.person_id, by_roles=caller.roles, at=ctx.uow.clock.now())
        held = [a for a in [await audit_store.load(ctx.db, i, tx=tx) for i in baseline.audit_ids[:-1]] if a is not None]
        if any(a.case.case_id == case.case_id for a in held):
            raise InvalidEntries("The case is already in this baseline.", [{"field": "case_id", "message": "the case is already one of the baseline's cases"}])
        tool_id = bespoke_tool_id(baseline.id)
        version = await tool_store.latest_version(ctx.db, tool_id, tx=tx)
        if version is None:
            raise NotVisible(baseline_id)
        await _set_up_in(
            tx, ctx, audit_id=audit_id, tool_id=tool_id, version=version, theme=baseline.theme, case_id=case.case_id, auditor_id=case.auditor_id,
            code=case.case_code or f"MA-{uuid.uuid4().hex[:8].upper()}", coordinator_id=baseline.coordinator_id, partners=baseline.partners,
            consultation_worker_ids=baseline.consultation_worker_ids, by=caller.person_id, baseline_id=baseline.id,
        )
        await store.save_baseline(tx, ctx.db, baseline)
        return baseline

    return await ctx.uow.run(work), audit_id


async def withdraw_baseline_case(ctx: AuditContext, baseline_id: str, audit_id: str, reason: str, *, caller: Identity, expected: int) -> Baseline:
    async def work(tx: Transaction) -> Baseline:
        baseline = await _load_baseline(tx, ctx, baseline_id, caller, expected)
        baseline.withdraw_case(audit_id=audit_id, reason=reason, by=caller.person_id, by_roles=caller.roles, at=ctx.uow.clock.now())
        await store.save_baseline(tx, ctx.db, baseline)
        return baseline

    return await ctx.uow.run(work)


async def complete_baseline(ctx: AuditContext, baseline_id: str, summary: str, *, caller: Identity, expected: int) -> Baseline:
    """The baseline's report, its figures kept as they stand, with its PDF, in one transaction."""
    pdf_id = uuid.uuid4().hex

    async def work(tx: Transaction) -> Baseline:
        baseline = await _load_baseline(tx, ctx, baseline_id, caller, expected)
        audits = await store.load_many(ctx.db, baseline.audit_ids, tx=tx)
        report = baseline.complete(audits=audits, summary=summary, by=caller.person_id, by_roles=caller.roles, at=ctx.uow.clock.now(), pdf_id=pdf_id)
        await store.store_baseline_pdf(tx, ctx.db, pdf_id=pdf_id, baseline_id=baseline.id, content=pdf.render_baseline(baseline, audits), at=report.at)
        await store.save_baseline(tx, ctx.db, baseline)
        return baseline

    return await ctx.uow.run(work)


# --- retention: held three years, then destroyed (Appendix E 6) ----------------------------------

#: At most this many audits destroyed in one pass (each in its own transaction); the next pass goes on.
DESTROY_PER_PASS = 200


async def destroy_held_three_years(ctx: AuditContext, today: date, *, by: str) -> list[str]:
    """The scheduled pass: destroy every multi-agency audit held for three years as of ``today``
    (a day in England), each in its own transaction with its retention log record and its event.
    An audit changed (or destroyed by another replica) meanwhile is left to the next pass."""

    async def destroy(tx: Transaction, audit_id: str) -> str | None:
        audit = await store.load(ctx.db, audit_id, tx=tx)
        if audit is None or not retention.due_for_destruction(audit, today):
            return None
        record = retention.destroy(audit, as_of=today, by=by, at=ctx.uow.clock.now())
        await store.destroy(tx, ctx.db, audit, record)
        _record(tx, audit)
        return audit_id

    held = await store.set_up_before(ctx.db, today - timedelta(days=365 * retention.RETENTION_YEARS - 3), limit=DESTROY_PER_PASS)
    return await each_in_own_transaction(ctx.uow, held, destroy)


def may_read_retention(caller: Identity) -> None:
    if QA_STAFF_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("The retention log of multi-agency audits is for QA staff and administrators.")


async def year_figures(db: AsyncDatabase[Document], year: int, caller: Identity) -> retention.YearFigures:
    """The multi-agency audits set up in ``year``, counted alike whether held or destroyed."""
    if REPORT_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Reports on multi-agency audits are for the performance unit, QA staff and operational managers.")
    return retention.figures(year, await store.held_counts(db, year), await store.destroyed_counts(db, year))

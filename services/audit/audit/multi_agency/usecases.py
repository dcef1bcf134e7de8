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
from shared.versioned import Stale

from ..case_audit import store as audit_store
from ..case_audit.domain.audit import AuditStatus
from ..case_audit.usecases import AllocationRequest, allocate_in
from ..common.context import AuditContext
from ..common.errors import InvalidEntries, NotAllowed, NotVisible
from ..common.roles import PROGRAMME_ROLES, QA_STAFF_ROLES, REPORT_ROLES
from ..tools import store as tool_store
from . import pdf, store
from .domain import retention
from .domain.audit import (
    ActionStatus,
    BespokeTool,
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


async def set_up(ctx: AuditContext, request: SetUpRequest, *, caller: Identity, key: IdempotencyKey | None = None) -> str:
    """QA staff set up a multi-agency audit: its bespoke tool, its coded case audit, its record."""
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators set up multi-agency audits.")
    audit_id = uuid.uuid4().hex
    code = request.case_code or f"MA-{uuid.uuid4().hex[:8].upper()}"

    async def work(tx: Transaction) -> str:
        now = ctx.uow.clock.now()
        base_id = request.tool.base_tool_id
        base_version = request.tool.base_version or await tool_store.latest_version(ctx.db, base_id, tx=tx)
        base = await tool_store.version_definition(ctx.db, base_id, base_version, tx=tx) if base_version else None
        if base is None or base_version is None:
            raise InvalidEntries("Unknown base tool.", [{"field": "tool.base_tool_id", "message": f"there is no tool {base_id!r} version {base_version}", "code": "unknown"}])
        definition = bespoke_definition(base, theme=request.theme, tool=request.tool)
        tool_id = bespoke_tool_id(audit_id)
        version = await tool_store.add_version(tx, ctx.db, tool_id, definition, expected=None, by=caller.person_id, at=now)
        allocation = AllocationRequest(
            tool_id=tool_id, tool_version=version, case_id=request.case_id, auditor_id=request.auditor_id,
            coordinator_id=request.coordinator_id, case_code=code,
        )
        case_audit = await allocate_in(tx, ctx, allocation, by=caller.person_id, audit_id=audit_id, code=code)
        audit = MultiAgencyAudit.set_up(
            audit_id=audit_id, tool_id=tool_id, tool_version=version, case_ref=case_audit.case_ref, theme=request.theme,
            auditor_id=request.auditor_id, coordinator_id=request.coordinator_id, partners=request.partners,
            consultation_worker_ids=request.consultation_worker_ids, by=caller.person_id, at=now,
        )
        await store.insert(tx, ctx.db, audit)
        await remember(tx, ctx.db, key, audit_id, now=now)
        return audit_id

    return await ctx.uow.run(work)


async def read(db: AsyncDatabase[Document], audit_id: str, caller: Identity) -> MultiAgencyAudit:
    audit = await store.load(db, audit_id)
    if audit is None or not audit.visible_to(caller.person_id, caller.roles):
        raise NotVisible(audit_id)
    return audit


async def _act(
    ctx: AuditContext, audit_id: str, caller: Identity, expected: int, change: Callable[[MultiAgencyAudit, datetime, bool], object],
    follow_up: Callable[[Transaction, MultiAgencyAudit], Awaitable[None]] | None = None,
) -> MultiAgencyAudit:
    async def work(tx: Transaction) -> MultiAgencyAudit:
        audit = await store.load(ctx.db, audit_id, tx=tx)
        if audit is None or not audit.visible_to(caller.person_id, caller.roles):
            raise NotVisible(audit_id)
        if audit.version != expected:
            raise Stale(store.WHAT, audit.version, expected, ident=audit.id)
        case_audit = await audit_store.load(ctx.db, audit_id, tx=tx)
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


# --- retention: held three years, then destroyed (Appendix E 6) ----------------------------------

#: At most this many audits destroyed in one pass (each in its own transaction); the next pass goes on.
DESTROY_PER_PASS = 200


async def destroy_held_three_years(ctx: AuditContext, today: date, *, by: str) -> list[str]:
    """The scheduled pass: destroy every multi-agency audit held for three years as of ``today``
    (a day in England), each in its own transaction with its retention log record and its event.
    An audit changed (or destroyed by another replica) meanwhile is left to the next pass."""
    destroyed = []
    for audit_id in await store.set_up_before(ctx.db, today - timedelta(days=365 * retention.RETENTION_YEARS - 3), limit=DESTROY_PER_PASS):

        async def work(tx: Transaction, audit_id: str = audit_id) -> bool:
            audit = await store.load(ctx.db, audit_id, tx=tx)
            if audit is None or not retention.due_for_destruction(audit, today):
                return False
            record = retention.destroy(audit, as_of=today, by=by, at=ctx.uow.clock.now())
            await store.destroy(tx, ctx.db, audit, record)
            _record(tx, audit)
            return True

        try:
            if await ctx.uow.run(work):
                destroyed.append(audit_id)
        except Stale:
            continue
    return destroyed


def may_read_retention(caller: Identity) -> None:
    if QA_STAFF_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("The retention log of multi-agency audits is for QA staff and administrators.")


async def year_figures(db: AsyncDatabase[Document], year: int, caller: Identity) -> retention.YearFigures:
    """The multi-agency audits set up in ``year``, counted alike whether held or destroyed."""
    if REPORT_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Reports on multi-agency audits are for the performance unit, QA staff and operational managers.")
    return retention.figures(year, await store.held_counts(db, year), await store.destroyed_counts(db, year))

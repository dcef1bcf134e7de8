"""The monthly cycle's use cases: drawing a month's sample (by QA staff or the scheduler), and
allocating it as distributed work.

Drawing reads the directory projection, the dispensations and the last 12 months' audits, draws
the sample (``domain.sampling``), then in ONE transaction records the cycle under its unique id
and, through the outbox, one ``audit.allocation.requested`` work item per auditor whose audit
has its peer reviewer (the rest wait for QA staff to assign one). A second draw (or a replica
drawing at the same moment) finds the cycle and changes nothing, and one asked with another seed
is refused naming the month's; a crash before the commit left nothing, a crash after it leaves
the work items in the outbox for the relay.

The work items go to the ``<ns>.audit.allocation`` quorum queue, which every replica consumes
(competing consumers) in batches: the items a replica holds are handled in one transaction with
the consumer's "processed" markers, each item's audit under its unique ``allocation_key``
(programme:month:auditor) and its ``audit.audit.allocated`` event, every read and write one
command for the batch (``allocate_work_items``). A batch that fails is handled again one item at
a time, each retried or dead-lettered on its own. Redelivery, a duplicate publish, or a replica
killed mid-way yields exactly one audit per auditor and month.

Chasing is not here: notify opens the auditor's task from ``audit.audit.allocated`` (with
``due_on``) and the peer reviewer's from ``audit.audit.submitted``, reminds every 10 working days
until they are done, and sends the mid-month digest. The audit service publishes no reminders.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from shared.calendar import local_date, start_of
from shared.consumer import ReceivedEvent, Subscription
from shared.directory_sync import KINDS
from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Document, Transaction
from shared.versioned import Stale, check_version

from ..case_audit import store
from ..case_audit.domain.audit import AllocationBasis, Audit
from ..case_audit.events import record
from ..case_audit.usecases import form_and_facts
from ..common import directory
from ..common.context import AuditContext
from ..common.directory import Directory
from ..common.errors import AuditRuleError, InvalidEntries, NotAllowed
from ..common.roles import PEER_REVIEWER_ROLE, PROGRAMME_ROLES
from ..tools import store as tool_store
from ..tools.domain.definition import ToolDefinition
from . import events as ie
from . import store as cycle_store
from .domain.cycle import DRAWN_PROGRAMMES, Cycle, PeerReviewerRefused, cycle_id
from .domain.dispensation import Dispensation, DispensationReason
from .domain.sampling import NoPeerReviewers, Sample, SampleInputs, draw_sample
from .domain.timetable import Month, draw_day, draw_due, timetable
from .domain.verification import Verification, verify

log = logging.getLogger(__name__)

#: Who draws a cycle on schedule.
SCHEDULER = "audit-scheduler"


class CycleRefused(AuditRuleError):
    """The draw cannot happen as asked (409): the month is over, the programme is not drawn
    monthly, no peer reviewer is available."""


@dataclass(frozen=True)
class CycleSettings:
    tools: Sequence[str]
    working_days_before: int = 5
    reminder_interval: int = 10
    digest_day_of_month: int = 15


async def draw_cycle(
    ctx: AuditContext, *, tool_id: str, month: Month, by: str, today: date, settings: CycleSettings,
    seed: str | None = None, key: IdempotencyKey | None = None,
) -> tuple[Cycle, bool]:
    """Draw ``month`` for the programme run with ``tool_id``; returns the cycle and whether this
    call drew it (False: it had been drawn already, and nothing changed)."""
    db = ctx.db
    existing = await cycle_store.load_cycle(db, cycle_id(tool_id, month))
    if existing is not None:
        return existing.drawn_again(seed), False
    draw = await _draw(ctx, tool_id=tool_id, month=month, today=today, seed=seed)
    tool_doc, sample = draw.tool_doc, draw.sample
    now = ctx.uow.clock.now()
    plan = timetable(
        month, working_days_before=settings.working_days_before, reminder_interval=settings.reminder_interval,
        digest_day_of_month=settings.digest_day_of_month, issued_on=max(today, draw_day(month, settings.working_days_before)),
    )
    cycle = Cycle.draw(
        tool_id=tool_id, tool_version=tool_doc["version"], programme=draw.definition.programme, month=month, sample=sample,
        timetable=plan, by=by, at=now, directory_version=draw.directory_version, dispensation_ids=draw.dispensation_ids,
    )

    async def work(tx: Transaction) -> None:
        await cycle_store.insert_cycle(tx, db, cycle)
        await cycle_store.record_inputs(tx, db, cycle.id, draw.inputs, sample.case_reasons)
        ie.record(tx, cycle.events)
        await remember(tx, db, key, cycle.id, now=now)

    try:
        await ctx.uow.run(work)
    except cycle_store.CycleExists:
        # Another replica (or request) drew it first: theirs is the month's cycle.
        drawn = await cycle_store.load_cycle(db, cycle.id)
        if drawn is None:
            raise
        return drawn.drawn_again(seed), False
    log.info("cycle drawn", extra={"cycle_id": cycle.id, "audits": len(sample.assignments), "uncovered": len(sample.uncovered_team_ids)})
    return cycle, True


@dataclass(frozen=True)
class Draw:
    """A sample drawn from today's inputs, with what it was drawn from (not yet recorded)."""

    tool_doc: dict[str, Any]
    definition: ToolDefinition
    inputs: SampleInputs
    sample: Sample
    directory_version: dict[str, int]
    dispensation_ids: list[str]


async def _draw(ctx: AuditContext, *, tool_id: str, month: Month, today: date, seed: str | None) -> Draw:
    """Read today's inputs for ``month`` and draw (the draw's refusals: the month over, a programme
    not drawn monthly, an unknown tool, no peer reviewer). Writes nothing."""
    db = ctx.db
    if month.last_day < today:
        raise CycleRefused(f"{month} is over: a month is drawn before it begins (or during it, late).")
    version = await tool_store.latest_version(db, tool_id)
    tool_doc = await tool_store.get_version(db, tool_id, version) if version else None
    if tool_doc is None:
        raise InvalidEntries("Unknown audit tool.", [{"field": "tool_id", "message": f"there is no tool {tool_id!r}", "code": "unknown"}])
    definition = tool_store.definition_of(tool_doc)
    if definition.programme not in DRAWN_PROGRAMMES:
        raise CycleRefused(f"The {definition.programme.value} programme is organised case by case, not drawn monthly.")

    # The directory's version is read first: the projection read after it holds at least that.
    applied = await cycle_store.directory_version(db)
    staff = await directory.staffing(db)
    cases, auditor_services = staff.cases, {}
    if definition.own_service_fallback:
        services = await cycle_store.service_managers(db)
        cases = [replace(c, service_id=services.get(c.line_manager_id or "")) for c in staff.cases]
        auditor_services = {a: services.get(a) for a in staff.auditors}
    dispensations = await cycle_store.covering(db, month)
    inputs = SampleInputs(
        cases=cases, auditors=staff.auditors, peer_reviewers=staff.peer_reviewers,
        dispensed=frozenset(d.person_id for d in dispensations),
        recently_audited=frozenset(await store.cases_audited_since(db, start_of(month.plus(-12).first_day))),
        line_managers=staff.line_managers, auditor_services=auditor_services,
    )
    try:
        sample = draw_sample(inputs, seed or secrets.token_hex(8), peer_review=definition.peer_review, own_service_fallback=definition.own_service_fallback)
    except NoPeerReviewers as exc:
        raise CycleRefused(str(exc)) from exc
    return Draw(
        tool_doc=tool_doc, definition=definition, inputs=inputs, sample=sample,
        directory_version={kind: applied.get(kind, 0) for kind in KINDS}, dispensation_ids=sorted(d.id for d in dispensations),
    )


async def preview_cycle(
    ctx: AuditContext, *, tool_id: str, month: Month, caller: Identity, today: date, seed: str | None,
) -> Draw:
    """A dry run (QA staff): the sample ``month`` would have if drawn now with ``seed`` (or a
    generated one). Nothing is written: no cycle, no event, no allocation."""
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators preview a month's audit sample.")
    return await _draw(ctx, tool_id=tool_id, month=month, today=today, seed=seed)


async def verify_cycle(ctx: AuditContext, *, tool_id: str, month: Month, caller: Identity) -> tuple[Cycle, Verification]:
    """Re-draw a drawn month from its recorded seed, settings and inputs, and say whether that
    reproduces the stored sample (QA staff). Writes nothing."""
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators verify a month's audit sample.")
    cycle = await cycle_store.load_cycle(ctx.db, cycle_id(tool_id, month))
    if cycle is None:
        raise Stale(cycle_store.CYCLE, None, 0, ident=str(month))
    inputs = await cycle_store.load_inputs(ctx.db, cycle.id)
    reasons = await cycle_store.case_reasons(ctx.db, cycle.id)
    return cycle, verify(cycle.id, cycle.sample, reasons, inputs, assigned_by_qa=cycle.peer_reviewers_assigned)


async def assign_peer_reviewer(
    ctx: AuditContext, *, tool_id: str, month: Month, auditor_id: str, reviewer_id: str, caller: Identity, expected: int,
) -> Cycle:
    """QA staff give an audit awaiting a peer reviewer one; its allocation work item is recorded in
    the same transaction (the audit follows as for the draw)."""
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators assign a peer reviewer to the month's audits.")
    reviewer = await Directory(ctx.db, ctx.overrides).person(reviewer_id)
    if reviewer is None or not reviewer.get("active", True):
        raise InvalidEntries("Unknown peer reviewer.", [{"field": "peer_reviewer_id", "message": "not an active person in the directory", "code": "unknown"}])
    if PEER_REVIEWER_ROLE not in reviewer.get("roles", []):
        raise InvalidEntries("Not a peer reviewer.", [{"field": "peer_reviewer_id", "message": "this person has no peer reviewer role", "code": "not_peer_reviewer"}])
    if reviewer_id in await cycle_store.dispensed_people(ctx.db, month):
        raise PeerReviewerRefused(f"{reviewer_id} has a dispensation from auditing in {month}.")
    auditor = await Directory(ctx.db, ctx.overrides).person(auditor_id)
    line_manager = auditor.get("line_manager_id") if auditor else None
    now = ctx.uow.clock.now()

    async def work(tx: Transaction) -> Cycle:
        cycle = await cycle_store.load_cycle(ctx.db, cycle_id(tool_id, month), tx=tx)
        if cycle is None:
            raise Stale(cycle_store.CYCLE, None, expected, ident=cycle_id(tool_id, month))
        check_version(cycle_store.CYCLE, cycle.version, expected, ident=cycle.id)
        cycle.assign_peer_reviewer(auditor_id, reviewer_id, auditors_line_manager=line_manager, by=caller.person_id, at=now)
        await cycle_store.save_cycle(tx, ctx.db, cycle, expected)
        ie.record(tx, cycle.events)
        return cycle

    return await ctx.uow.run(work)


async def draw_requested(
    ctx: AuditContext, *, tool_id: str, month: Month, caller_id: str, caller_roles: frozenset[str], today: date, settings: CycleSettings,
    seed: str | None, key: IdempotencyKey | None,
) -> tuple[Cycle, bool]:
    """QA staff start a month's draw through the API."""
    if PROGRAMME_ROLES.isdisjoint(caller_roles):
        raise NotAllowed("Only QA staff and administrators draw a month's audit sample.")
    return await draw_cycle(ctx, tool_id=tool_id, month=month, by=caller_id, today=today, settings=settings, seed=seed, key=key)


async def draw_due_cycles(ctx: AuditContext, today: date, settings: CycleSettings) -> list[str]:
    """The scheduler's pass: draw next month for each programme from its draw day on. Safe on
    every replica at once (the cycle's unique id); returns the cycles this call drew."""
    drawn = []
    month = Month.of(today).plus(1)
    for tool_id in settings.tools:
        if not draw_due(today, month, settings.working_days_before):
            continue
        try:
            cycle, created = await draw_cycle(ctx, tool_id=tool_id, month=month, by=SCHEDULER, today=today, settings=settings)
        except (CycleRefused, InvalidEntries) as exc:
            log.warning("scheduled draw refused", extra={"tool_id": tool_id, "month": str(month), "reason": str(exc)})
            continue
        if created:
            drawn.append(cycle.id)
    return drawn


# --- the allocation work items ------------------------------------------------------------------


async def allocate_work_item(ctx: AuditContext, item: ie.AllocationRequested, tx: Transaction) -> str | None:
    """One auditor's audit of the month, inside the consumer's transaction; None if it cannot be
    allocated (recorded on the cycle for QA staff, and the item is done)."""
    [audit_id] = await allocate_work_items(ctx, [item], tx)
    return audit_id


async def allocate_work_items(ctx: AuditContext, items: Sequence[ie.AllocationRequested], tx: Transaction) -> list[str | None]:
    """A batch of work items in one transaction, leaving what ``allocate_work_item`` applied to
    each in turn would: per item, its audit's id (the one allocated before, if its key was), or
    None if it cannot be allocated (recorded as a failure; the item is done).

    Each read is one command for the whole batch (the keys already allocated, the items' cases;
    the tool's definition is cached per version) and each write one bulk command (the audits,
    through ``case_audit.store.insert_many``; the failures; the outbox at commit). An audit
    allocated meanwhile by another replica under one of the keys makes the insert fail: the
    consumer then handles the batch's items one at a time, and that item finds the audit."""
    db, now = ctx.db, ctx.uow.clock.now()
    allocated = await cycle_store.allocated(db, [i.allocation_key for i in items], tx=tx)
    fresh = [i for i in items if i.allocation_key not in allocated]
    cases = await cycle_store.cases(db, [i.case_id for i in fresh], tx=tx) if fresh else {}
    bases = await _bases(ctx, fresh, tx)
    audits: list[Audit] = []
    failed: dict[str, dict[str, Any]] = {}
    outcomes: list[str | None] = []
    for item in items:
        if (existing := allocated.get(item.allocation_key)) is not None:
            outcomes.append(existing)  # redelivered, published twice, or twice in this batch: the audit exists
            continue
        try:
            audit = await _allocation(ctx, item, cases.get(item.case_id), bases.get(item.allocation_key), now=now, tx=tx)
        except InvalidEntries as exc:
            failed[item.allocation_key] = {
                "allocation_key": item.allocation_key, "cycle_id": item.cycle_id, "auditor_id": item.auditor_id, "reason": str(exc),
                "errors": exc.errors, "at": now,
            }
            outcomes.append(None)
            continue
        allocated[item.allocation_key] = audit.id
        audits.append(audit)
        outcomes.append(audit.id)
    if audits:
        await store.insert_many(tx, db, audits)
        for audit in audits:
            record(tx, audit)
    if failed:
        await cycle_store.record_failures(tx, db, list(failed.values()))
    return outcomes


async def _allocation(
    ctx: AuditContext, item: ie.AllocationRequested, case: Document | None, basis: AllocationBasis | None, *, now: datetime, tx: Transaction,
) -> Audit:
    """The work item's audit (not yet stored), from the case the batch read: what
    ``case_audit.usecases.allocate_in`` makes of the same request."""
    form, facts = await form_and_facts(
        tx, ctx, tool_id=item.tool_id, tool_version=item.tool_version, case_id=item.case_id, case=case,
        code=f"MA-{uuid.uuid4().hex[:8].upper()}", today=local_date(now),
    )
    assert case is not None  # form_and_facts refuses an unknown case
    return Audit.allocate(
        audit_id=uuid.uuid4().hex, form=form, case=facts, auditor_id=item.auditor_id, peer_reviewer_id=item.peer_reviewer_id,
        coordinator_id=None, by=item.requested_by, at=now, month=item.month, allocation_key=item.allocation_key,
        social_worker_id=case.get("allocated_worker_id"), basis=basis,
    )


async def _bases(ctx: AuditContext, items: Sequence[ie.AllocationRequested], tx: Transaction) -> dict[str, AllocationBasis | None]:
    """How the draw chose each item's case, for the audit to say: carried on the work item; a work
    item recorded before it was carried reads it from its cycle's assignment (unknown if none),
    each cycle read once."""
    found: dict[str, str | None] = {i.allocation_key: i.basis for i in items}
    for drawn_id in sorted({i.cycle_id for i in items if i.basis is None}):
        cycle = await cycle_store.load_cycle(ctx.db, drawn_id, tx=tx)
        drawn = {a.auditor_id: a.basis for a in cycle.sample.assignments} if cycle else {}
        for i in items:
            if i.basis is None and i.cycle_id == drawn_id:
                found[i.allocation_key] = drawn.get(i.auditor_id)
    return {key: AllocationBasis(basis) if basis in set(AllocationBasis) else None for key, basis in found.items()}


def subscriptions(ctx: AuditContext) -> list[Subscription]:
    """The allocation queue's one subscription: a batch of work items in one transaction, or one
    item alone (when a batch failed, each of its items is retried and dead-lettered on its own)."""

    async def on_item(event: ReceivedEvent, tx: Transaction) -> None:
        await allocate_work_item(ctx, event.data, tx)

    async def on_items(events: Sequence[ReceivedEvent], tx: Transaction) -> None:
        await allocate_work_items(ctx, [e.data for e in events], tx)

    return [Subscription(ie.ALLOCATION_REQUESTED, on_item, on_items)]


# --- dispensations ----------------------------------------------------------------------------
# Recording dispensations from the monthly audit (QA staff: Kent 4.1 has the auditor's line
# manager tell the Management Information Unit, who "discount the Auditor for that month as well as
# any future months that they are expected to be unavailable"). Every version is kept.

def _qa_staff(caller: Identity) -> None:
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators record dispensations from auditing.")


async def record_dispensation(
    ctx: AuditContext, *, person_id: str, reason: DispensationReason, starts_on: date, ends_on: date | None, note: str,
    caller: Identity, key: IdempotencyKey | None,
) -> Dispensation:
    _qa_staff(caller)
    if await Directory(ctx.db, ctx.overrides).person(person_id) is None:
        raise await directory.unknown(ctx.db, "person", person_id, InvalidEntries("Unknown person.", [{"field": "person_id", "message": "the directory has not told the audit service of this person", "code": "unknown"}]))
    now = ctx.uow.clock.now()
    dispensation = Dispensation.record(
        dispensation_id=uuid.uuid4().hex, person_id=person_id, reason=reason, starts_on=starts_on, ends_on=ends_on, note=note,
        by=caller.person_id, at=now,
    )

    async def work(tx: Transaction) -> Dispensation:
        await cycle_store.insert_dispensation(tx, ctx.db, dispensation)
        await remember(tx, ctx.db, key, dispensation.id, now=now)
        return dispensation

    return await ctx.uow.run(work)


async def revise_dispensation(
    ctx: AuditContext, dispensation_id: str, *, reason: DispensationReason, starts_on: date, ends_on: date | None, note: str,
    caller: Identity, expected: int,
) -> Dispensation:
    _qa_staff(caller)

    async def work(tx: Transaction) -> Dispensation:
        d = await _load_dispensation(ctx, dispensation_id, tx, expected)
        d.revise(reason=reason, starts_on=starts_on, ends_on=ends_on, note=note, by=caller.person_id, at=ctx.uow.clock.now())
        await cycle_store.save_dispensation(tx, ctx.db, d, expected)
        return d

    return await ctx.uow.run(work)


async def withdraw_dispensation(ctx: AuditContext, dispensation_id: str, *, reason: str, caller: Identity, expected: int) -> Dispensation:
    _qa_staff(caller)

    async def work(tx: Transaction) -> Dispensation:
        d = await _load_dispensation(ctx, dispensation_id, tx, expected)
        d.withdraw(reason=reason, by=caller.person_id, at=ctx.uow.clock.now())
        await cycle_store.save_dispensation(tx, ctx.db, d, expected)
        return d

    return await ctx.uow.run(work)


async def read_dispensation(ctx: AuditContext, dispensation_id: str, caller: Identity) -> Dispensation:
    _qa_staff(caller)
    d = await cycle_store.load_dispensation(ctx.db, dispensation_id)
    if d is None:
        raise Stale(cycle_store.DISPENSATION, None, 0, ident=dispensation_id)
    return d


async def _load_dispensation(ctx: AuditContext, dispensation_id: str, tx: Transaction, expected: int) -> Dispensation:
    d = await cycle_store.load_dispensation(ctx.db, dispensation_id, tx=tx)
    if d is None:
        raise Stale(cycle_store.DISPENSATION, None, expected, ident=dispensation_id)
    check_version(cycle_store.DISPENSATION, d.version, expected, ident=dispensation_id)
    return d

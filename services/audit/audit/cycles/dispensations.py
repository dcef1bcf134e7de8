"""Recording dispensations from the monthly audit (QA staff: Kent 4.1 has the auditor's line
manager tell the Management Information Unit, who "discount the Auditor for that month as well as
any future months that they are expected to be unavailable"). Every version is kept."""

from __future__ import annotations

import uuid
from datetime import date

from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Transaction

from ..case_audit.usecases import PROGRAMME_ROLES, AuditContext
from ..common.directory import Directory
from ..common.errors import InvalidEntries, NotAllowed
from . import store as cycle_store
from .domain.dispensation import Dispensation, DispensationReason


def _qa_staff(caller: Identity) -> None:
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only QA staff and administrators record dispensations from auditing.")


async def record(
    ctx: AuditContext, *, person_id: str, reason: DispensationReason, starts_on: date, ends_on: date | None, note: str,
    caller: Identity, key: IdempotencyKey | None,
) -> Dispensation:
    _qa_staff(caller)
    if await Directory(ctx.db, ctx.overrides).person(person_id) is None:
        raise InvalidEntries("Unknown person.", [{"field": "person_id", "message": "the directory has not told the audit service of this person"}])
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


async def revise(
    ctx: AuditContext, dispensation_id: str, *, reason: DispensationReason, starts_on: date, ends_on: date | None, note: str,
    caller: Identity, expected: int,
) -> Dispensation:
    _qa_staff(caller)

    async def work(tx: Transaction) -> Dispensation:
        d = await _load(ctx, dispensation_id, tx, expected)
        d.revise(reason=reason, starts_on=starts_on, ends_on=ends_on, note=note, by=caller.person_id, at=ctx.uow.clock.now())
        await cycle_store.save_dispensation(tx, ctx.db, d, expected)
        return d

    return await ctx.uow.run(work)


async def withdraw(ctx: AuditContext, dispensation_id: str, *, reason: str, caller: Identity, expected: int) -> Dispensation:
    _qa_staff(caller)

    async def work(tx: Transaction) -> Dispensation:
        d = await _load(ctx, dispensation_id, tx, expected)
        d.withdraw(reason=reason, by=caller.person_id, at=ctx.uow.clock.now())
        await cycle_store.save_dispensation(tx, ctx.db, d, expected)
        return d

    return await ctx.uow.run(work)


async def read(ctx: AuditContext, dispensation_id: str, caller: Identity) -> Dispensation:
    _qa_staff(caller)
    d = await cycle_store.load_dispensation(ctx.db, dispensation_id)
    if d is None:
        raise cycle_store.StaleDispensation(None, 0)
    return d


async def _load(ctx: AuditContext, dispensation_id: str, tx: Transaction, expected: int) -> Dispensation:
    d = await cycle_store.load_dispensation(ctx.db, dispensation_id, tx=tx)
    if d is None:
        raise cycle_store.StaleDispensation(None, expected)
    if d.version != expected:
        raise cycle_store.StaleDispensation(d.version, expected)
    return d

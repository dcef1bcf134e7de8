"""One function per thing a person does in Hampshire's month: prepare a file, list its evidence,
say it is ready, send the service managers their lists, delegate, select, close the selection,
judge, complete, collate. Each loads what it needs, calls the domain, and saves the state with
the events it causes in one transaction (the outbox).

Who is who comes from the directory projection: the supervisor is the worker's line manager; the
service manager is the first ``service_manager`` up the line from the team's manager (else the
case's accountable service manager, as copies of audits are routed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Document, Transaction
from shared.versioned import check_version

from ..common.context import AuditContext, each_in_own_transaction
from ..common.directory import ContactOverrides, Directory
from ..common.errors import InvalidEntries, NotAllowed, WrongStage
from ..common.roles import QA_STAFF_ROLES
from ..tools import store as tool_store
from ..tools.catalogue import HAMPSHIRE
from . import store
from .domain.errors import AlreadyPrepared, DelegationNotVisible, FileNotVisible
from .domain.prepared_file import (
    COLLATION_ROLES,
    SERVICE_MANAGER_ROLE,
    WORKER_ROLES,
    AuditorWork,
    Delegation,
    FileStatus,
    Preparation,
    PreparedFile,
    Worker,
    check_different_file,
    check_not_prepared_within_a_year,
    close_month_selection,
    collate,
    delegate_selection,
    months_before,
    previous_month,
    quarter_months,
    quarterly_report,
    ready_list,
    standards_of,
    workers_without_file,
)
from .events import record

TOOL_ID = HAMPSHIRE


def _invalid(field: str, message: str) -> InvalidEntries:
    return InvalidEntries("The request cannot be done as asked.", [{"field": field, "message": message}])


async def team_service_manager(tx: Transaction, directory: Directory, team_id: str) -> str | None:
    """The first service manager up the line from the team's manager."""
    manager = await store.team_manager(directory.db, team_id, tx=tx)
    return await directory.up_the_line(manager, SERVICE_MANAGER_ROLE) if manager else None


# --- preparing a file ---------------------------------------------------------------------------


async def prepare_file(
    ctx: AuditContext, *, month: str, case_id: str, worker_id: str | None, caller: Identity, key: IdempotencyKey | None = None
) -> str:
    """The worker, or their supervisor, starts the month's file for one of the worker's cases."""
    worker_id = worker_id or caller.person_id
    file_id = uuid.uuid4().hex

    async def work(tx: Transaction) -> str:
        directory = Directory(ctx.db, ctx.overrides, tx.session)
        worker = await directory.person(worker_id)
        if worker is None or not worker.get("active", True):
            raise _invalid("worker_id", "the directory has no active worker with this id")
        supervisor_id = worker.get("line_manager_id")
        if caller.person_id not in (worker_id, supervisor_id):
            raise NotAllowed("A file is prepared by the worker or their supervisor.")
        case = await directory.case(case_id)
        if case is None:
            raise _invalid("case_id", "the directory has not told the audit service of this case")
        team_id = worker.get("team_id") or case.get("team_id")
        if not team_id:
            raise _invalid("worker_id", "the directory names no team for this worker")
        service_manager_id = await team_service_manager(tx, directory, team_id) or await directory.accountable_service_manager(case_id)
        existing = await store.of_worker(ctx.db, month, worker_id, tx=tx)
        if existing is not None:
            raise AlreadyPrepared(f"{worker_id} already has a file prepared for {month}: one file per worker each month.", existing.id)
        last = await store.of_worker(ctx.db, previous_month(month), worker_id, tx=tx)
        check_different_file(case_id=case_id, last_months_case_id=last.case_id if last else None, month=month)
        prepared_in = await store.months_prepared(ctx.db, case_id, months_before(month), tx=tx)
        check_not_prepared_within_a_year(case_id=case_id, month=month, prepared_in=prepared_in)
        version = await tool_store.latest_version(ctx.db, TOOL_ID, tx=tx)
        definition = await tool_store.version_definition(ctx.db, TOOL_ID, version, tx=tx) if version else None
        if definition is None or version is None:
            raise _invalid("tool_id", f"the audit tool {TOOL_ID!r} is not available")
        f = PreparedFile.start(
            file_id=file_id, month=month, case_id=case_id, team_id=team_id, worker_id=worker_id, supervisor_id=supervisor_id,
            service_manager_id=service_manager_id, tool_id=TOOL_ID, tool_version=version, standards=standards_of(definition),
            by=caller.person_id, at=ctx.uow.clock.now(),
        )
        await store.insert(tx, ctx.db, f)
        await remember(tx, ctx.db, key, f.id, now=f.created_at)
        return f.id

    return await ctx.uow.run(work)


# --- reading ------------------------------------------------------------------------------------


async def read_file(db: AsyncDatabase[Document], file_id: str, caller: Identity) -> PreparedFile:
    f = await store.load(db, file_id)
    if f is None or not f.visible_to(caller.person_id, caller.roles, await store.delegations_to(db, f.month, caller.person_id)):
        raise FileNotVisible(file_id)
    return f


async def file_history(db: AsyncDatabase[Document], file_id: str, caller: Identity) -> list[Document]:
    """Every save of the file: the preparation to everyone who sees the file; the auditor's
    judgements to the auditor, the service manager and QA staff (or once the audit is complete)."""
    f = await read_file(db, file_id, caller)
    sees_judgements = (
        f.status is FileStatus.AUDITED or caller.person_id in (f.auditor_id, f.service_manager_id) or not QA_STAFF_ROLES.isdisjoint(caller.roles)
    )
    return [d for d in await store.history(db, f.id) if d["part"] == "preparation" or sees_judgements]


# --- acting on a file ---------------------------------------------------------------------------


async def _act(ctx: AuditContext, file_id: str, caller: Identity, expected: int, change: Callable[[PreparedFile, datetime], object]) -> PreparedFile:
    async def work(tx: Transaction) -> PreparedFile:
        f = await store.load(ctx.db, file_id, tx=tx)
        delegations = await store.delegations_to(ctx.db, f.month, caller.person_id, tx=tx) if f else []
        if f is None or not f.visible_to(caller.person_id, caller.roles, delegations):
            raise FileNotVisible(file_id)
        check_version(store.WHAT, f.version, expected, ident=f.id)
        change(f, ctx.uow.clock.now())
        await store.save(tx, ctx.db, f)
        record(tx, f.events)
        return f

    return await ctx.uow.run(work)


async def save_preparation(ctx: AuditContext, file_id: str, preparation: Preparation, *, caller: Identity, expected: int) -> PreparedFile:
    return await _act(ctx, file_id, caller, expected, lambda f, now: f.save_preparation(by=caller.person_id, preparation=preparation, at=now))


async def mark_ready(ctx: AuditContext, file_id: str, *, caller: Identity, expected: int) -> PreparedFile:
    return await _act(ctx, file_id, caller, expected, lambda f, now: f.mark_ready(by=caller.person_id, at=now))


async def save_judgements(ctx: AuditContext, file_id: str, work: AuditorWork, *, caller: Identity, expected: int) -> PreparedFile:
    return await _act(ctx, file_id, caller, expected, lambda f, now: f.save_judgements(by=caller.person_id, work=work, at=now))


async def complete_audit(ctx: AuditContext, file_id: str, *, caller: Identity, expected: int) -> PreparedFile:
    """The auditor completes the audit; a standard they judged not met that the team/unit manager
    listed evidence for is raised with the team's manager (10.5)."""
    f = await store.load(ctx.db, file_id)
    team_manager_id = await store.team_manager(ctx.db, f.team_id) if f else None
    return await _act(ctx, file_id, caller, expected, lambda f, now: f.complete(by=caller.person_id, at=now, team_manager_id=team_manager_id))


async def settle_disagreement(ctx: AuditContext, file_id: str, *, outcome: str, notes: str, caller: Identity, expected: int) -> PreparedFile:
    """10.5: the team/unit manager records the outcome of the disagreement the auditor raised."""
    return await _act(ctx, file_id, caller, expected, lambda f, now: f.settle_disagreement(by=caller.person_id, outcome=outcome, notes=notes, at=now))


# --- telling the service manager ----------------------------------------------------------------


async def send_ready_lists(ctx: AuditContext, month: str, *, by: str) -> list[str]:
    """Send each service manager the list of their files that became ready since the last list
    (8.1; the timetable's "audit list sent to service manager by the 5th"). Safe to run again, or
    on two replicas at once: a file goes in one list."""

    async def send(tx: Transaction, service_manager_id: str) -> str | None:
        ready = await store.of_service_manager(ctx.db, month, service_manager_id, [FileStatus.READY], tx=tx)
        files = [f for f in ready if f.ready_list_id is None]
        if not files:
            return None
        list_id = uuid.uuid4().hex
        now = ctx.uow.clock.now()
        delegations = await store.delegations_by(ctx.db, month, service_manager_id, tx=tx)
        sent = ready_list(files, list_id=list_id, month=month, service_manager_id=service_manager_id, delegations=delegations, by=by, at=now)
        for f in files:
            await store.save(tx, ctx.db, f)
        await store.insert_ready_list(tx, ctx.db, list_id=list_id, month=month, service_manager_id=service_manager_id, file_ids=[f.id for f in files], by=by, at=now)
        record(tx, [sent])
        return list_id

    # A file changed meanwhile (another replica listed it): the next run looks again.
    return await each_in_own_transaction(ctx.uow, await store.unlisted_service_managers(ctx.db, month), send)


# --- delegation, selection ----------------------------------------------------------------------


async def delegate(
    ctx: AuditContext, *, month: str, delegate_id: str, team_ids: list[str], caller: Identity, key: IdempotencyKey | None = None
) -> Delegation:
    """The service manager chooses a competent person to audit the month's files of some of their teams."""
    delegation_id = uuid.uuid4().hex

    async def work(tx: Transaction) -> Delegation:
        directory = Directory(ctx.db, ctx.overrides, tx.session)
        managers = {t: await team_service_manager(tx, directory, t) for t in sorted(set(team_ids))}
        person = await directory.person(delegate_id)
        d, delegated = delegate_selection(
            delegation_id=delegation_id, month=month, caller_id=caller.person_id, caller_roles=caller.roles, delegate_id=delegate_id,
            delegate_known=person is not None and person.get("active", True), team_service_managers=managers, at=ctx.uow.clock.now(),
        )
        await store.insert_delegation(tx, ctx.db, d)
        record(tx, [delegated])
        await remember(tx, ctx.db, key, d.id, now=d.at)
        return d

    return await ctx.uow.run(work)


async def delegation(db: AsyncDatabase[Document], delegation_id: str, caller: Identity) -> Delegation:
    d = await store.load_delegation(db, delegation_id)
    if d is None or (caller.person_id not in (d.service_manager_id, d.delegate_id) and QA_STAFF_ROLES.isdisjoint(caller.roles)):
        raise DelegationNotVisible(delegation_id)
    return d


async def select_files(ctx: AuditContext, month: str, file_ids: list[str], *, caller: Identity) -> list[PreparedFile]:
    """The service manager or their delegate selects files for audit, all or none."""

    async def work(tx: Transaction) -> list[PreparedFile]:
        delegations = await store.delegations_to(ctx.db, month, caller.person_id, tx=tx)
        chosen = []
        for file_id in dict.fromkeys(file_ids):
            f = await store.load(ctx.db, file_id, tx=tx)
            if f is None or not f.visible_to(caller.person_id, caller.roles, delegations):
                raise FileNotVisible(file_id)
            if f.month != month:
                raise _invalid("file_ids", f"file {file_id} was prepared for {f.month}, not {month}")
            if await store.selection(ctx.db, month, f.service_manager_id, tx=tx) is not None:
                raise WrongStage(f"The selection for {month} is closed.")
            covering = next((d for d in delegations if d.covers(month=month, team_id=f.team_id, service_manager_id=f.service_manager_id)), None)
            f.select(by=caller.person_id, delegation=covering, at=ctx.uow.clock.now())
            await store.save(tx, ctx.db, f)
            record(tx, f.events)
            chosen.append(f)
        return chosen

    return await ctx.uow.run(work)


async def close_selection(ctx: AuditContext, month: str, *, caller: Identity) -> Document:
    """The service manager closes the month's selection: at least one file from each team, one
    audited by themselves; the files not selected keep their partially completed tool."""
    if SERVICE_MANAGER_ROLE not in caller.roles:
        raise NotAllowed("Only the service manager closes the month's selection.")

    async def work(tx: Transaction) -> Document:
        sm = caller.person_id
        if await store.selection(ctx.db, month, sm, tx=tx) is not None:
            raise WrongStage(f"The selection for {month} is already closed.")
        files = await store.of_service_manager(ctx.db, month, sm, [FileStatus.READY, FileStatus.SELECTED, FileStatus.AUDITED], tx=tx)
        closed = close_month_selection(month=month, service_manager_id=sm, files=files, at=ctx.uow.clock.now())
        by_id = {f.id: f for f in files}
        for file_id in closed.not_selected_file_ids:
            await store.save(tx, ctx.db, by_id[file_id])
        doc: Document = {
            "_id": f"{month}:{sm}", "month": month, "service_manager_id": sm,
            "selected": [
                {"file_id": f.id, "team_id": f.team_id, "auditor_id": f.auditor_id, "delegation_id": f.delegation_id, "delegated_by": f.delegated_by}
                for f in (by_id[i] for i in closed.selected_file_ids)
            ],
            "not_selected_file_ids": list(closed.not_selected_file_ids), "closed_by": sm, "closed_at": closed.at,
        }
        await store.insert_selection(tx, ctx.db, doc)
        record(tx, [closed])
        return doc

    return await ctx.uow.run(work)


# --- the month as the service manager sees it, and the collation ------------------------------------


async def month_view(db: AsyncDatabase[Document], month: str, caller: Identity, service_manager_id: str | None = None) -> dict[str, Any]:
    """The service manager's month (their files per team, their delegations, the selection), or
    what a delegate was given of it, or any service manager's month for QA staff."""
    qa = not QA_STAFF_ROLES.isdisjoint(caller.roles)
    sm = service_manager_id if qa and service_manager_id else caller.person_id
    delegated = [] if sm != caller.person_id else await store.delegations_to(db, month, caller.person_id)
    own = await store.of_service_manager(db, month, sm)
    if own or SERVICE_MANAGER_ROLE in caller.roles or qa:
        files, delegations = own, await store.delegations_by(db, month, sm)
        selection = await store.selection(db, month, sm)
    elif delegated:
        files = [
            f for d in delegated for f in await store.of_service_manager(db, month, d.service_manager_id)
            if f.team_id in d.team_ids and f.status is not FileStatus.PREPARING
        ]
        delegations, selection = delegated, None
    else:
        raise NotAllowed("The month's files are shown to the service manager, the people they delegated to, and QA staff.")
    teams: dict[str, list[PreparedFile]] = {}
    for f in files:
        teams.setdefault(f.team_id, []).append(f)
    return {
        "month": month, "service_manager_id": sm, "teams": teams, "delegations": delegations,
        "selection_closed_at": selection["closed_at"] if selection else None,
    }


async def collation(db: AsyncDatabase[Document], month: str, caller: Identity) -> dict[str, Any]:
    if COLLATION_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("The collation is for the performance management unit and QA staff.")
    return collate(month, await store.of_month(db, month))


async def quarterly(db: AsyncDatabase[Document], quarter: str, caller: Identity) -> dict[str, Any]:
    """14.3: the performance management unit's quarterly report of the monthly collations."""
    if COLLATION_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("The quarterly report is for the performance management unit and QA staff.")
    return quarterly_report(quarter, [collate(m, await store.of_month(db, m)) for m in quarter_months(quarter)])


async def without_file(db: AsyncDatabase[Document], month: str, caller: Identity) -> dict[str, Any]:
    """4.1: the workers who put no file forward for the month: of the caller's teams for a service
    manager (the teams whose manager reports to them), of every team for the performance
    management unit and QA staff."""
    everyone = not COLLATION_ROLES.isdisjoint(caller.roles)
    if not everyone and SERVICE_MANAGER_ROLE not in caller.roles:
        raise NotAllowed("The workers with no file put forward are listed for their service manager, the performance management unit and QA staff.")
    directory = Directory(db, ContactOverrides())
    teams = await store.teams(db)
    if not everyone:
        teams = [t for t in teams if t.get("manager_id") and await directory.up_the_line(t["manager_id"], SERVICE_MANAGER_ROLE) == caller.person_id]
    team_ids = [t["_id"] for t in teams]
    people = await store.people_in_teams(db, team_ids, sorted(WORKER_ROLES))
    workers = [Worker(p["_id"], p["team_id"], p.get("line_manager_id")) for p in people]
    return {"month": month, "team_ids": team_ids, "workers": workers_without_file(workers, await store.of_month(db, month))}

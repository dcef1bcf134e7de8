"""One function per thing a person (or the scheduler) does with practice observations, monitoring
forms, feedback, complaints' lessons and compliments: check who may, call the rules, write the
record (version-guarded, every version kept, through ``store``) and its events in one transaction
(the domain events, published by ``events.record``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.calendar import local_date
from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Document, Transaction
from shared.versioned import check_version

from ..common.context import AuditContext
from ..common.directory import Directory, unknown
from ..common.errors import InvalidEntries, NotAllowed
from ..common.roles import QA_STAFF_ROLES, REPORT_ROLES, Role
from . import events as pe
from . import store as rs
from .domain import events as ev
from .domain.errors import RecordExists, RecordNotFound
from .domain.observation import Agreement, Observation, Plan, Reflection, Report, due_reminder
from .domain.records import (
    LOGGED_FROM_LEVEL,
    Collation,
    ComplaintLessonsEntries,
    ComplimentEntries,
    FeedbackEntries,
    FormFacts,
    MonitoringEntries,
    check_complaint,
    check_monitoring,
    collate,
    complaints_log,
    lessons_extract,
    month_of,
    report_on_time,
)

#: Who may plan an observation of a social worker in their own team (besides their line manager).
SUPERVISOR_ROLES = frozenset({Role.TEAM_MANAGER, Role.SENIOR_PRACTITIONER, Role.PRACTICE_SUPERVISOR})
#: Who records service-user feedback and compliments.
FEEDBACK_ROLES = frozenset({
    Role.IRO, Role.CP_CHAIR, Role.SOCIAL_WORKER, Role.SENIOR_PRACTITIONER, Role.TEAM_MANAGER, Role.SERVICE_MANAGER, Role.PARTICIPATION_OFFICER,
    Role.COMPLAINTS_MANAGER, *QA_STAFF_ROLES,
})
#: Who records lessons learned from a complaint (the team's manager too).
COMPLAINT_ROLES = frozenset({Role.SERVICE_MANAGER, Role.COMPLAINTS_MANAGER, *QA_STAFF_ROLES})


# --- shared checks -------------------------------------------------------------------------------


async def known_team(db: AsyncDatabase[Document], team_id: str) -> Document:
    team = await rs.team(db, team_id)
    if team is None:
        raise await unknown(db, "team", team_id, InvalidEntries("Unknown team.", [{"field": "team_id", "message": "the directory has not told the audit service of this team", "code": "unknown"}]))
    return team


def reads_team(caller: Identity, team_id: str, team_manager_id: str | None) -> bool:
    """A team's records are read by its manager, QA staff and the operational managers."""
    if caller.person_id == team_manager_id or not REPORT_ROLES.isdisjoint(caller.roles):
        return True
    return caller.has_role(Role.TEAM_MANAGER) and caller.in_team(team_id)


async def may_read_team(db: AsyncDatabase[Document], caller: Identity, team_id: str) -> None:
    if not reads_team(caller, team_id, await rs.team_manager_of(db, team_id)):
        raise NotAllowed("A team's quality assurance records are for its manager, QA staff and operational managers.")


def _when(ctx: AuditContext) -> datetime:
    return ctx.uow.clock.now()


# --- practice observation -----------------------------------------------------------------------


async def plan_observation(ctx: AuditContext, *, social_worker_id: str, plan: Plan, caller: Identity, key: IdempotencyKey | None) -> Observation:
    directory = Directory(ctx.db, ctx.overrides)
    worker = await directory.person(social_worker_id)
    if worker is None:
        raise InvalidEntries("Unknown social worker.", [{"field": "social_worker_id", "message": "the directory has not told the audit service of this person", "code": "unknown"}])
    line_manager, team = worker.get("line_manager_id"), worker.get("team_id")
    supervises = caller.has_role(*SUPERVISOR_ROLES) and team is not None and caller.in_team(team)
    if caller.person_id != line_manager and not supervises:
        raise NotAllowed("A social worker's practice is observed by their line manager or a supervisor in their team.")
    now = _when(ctx)
    observation = Observation.plan_with(
        observation_id=uuid.uuid4().hex, social_worker_id=social_worker_id, observer_id=caller.person_id, line_manager_id=line_manager,
        team_id=team, plan=plan, at=now,
    )

    async def work(tx: Transaction) -> Observation:
        await rs.insert_observation(tx, ctx.db, observation, by=caller.person_id, at=now)
        await remember(tx, ctx.db, key, observation.id, now=now)
        pe.record(tx, observation.events)
        return observation

    return await ctx.uow.run(work)


async def read_observation(ctx: AuditContext, observation_id: str, caller: Identity, tx: Transaction | None = None) -> Observation:
    observation = await rs.load_observation(ctx.db, observation_id, tx=tx)
    if observation is None:
        raise RecordNotFound("Observation", observation_id)
    if not observation.visible_to(caller.person_id, caller.roles):
        raise RecordNotFound("Observation", observation_id)
    return observation


async def _act(ctx: AuditContext, observation_id: str, caller: Identity, expected: int, change: Callable[[Observation, datetime], None]) -> Observation:
    """Load, check visibility, change, save version-guarded with what the change recorded."""

    async def work(tx: Transaction) -> Observation:
        observation = await read_observation(ctx, observation_id, caller, tx)
        check_version("observation", observation.version, expected, ident=observation.id)
        now = _when(ctx)
        change(observation, now)
        await rs.save_observation(tx, ctx.db, observation, expected=expected, by=caller.person_id, at=now)
        pe.record(tx, observation.events)
        return observation

    return await ctx.uow.run(work)


async def revise_plan(ctx: AuditContext, observation_id: str, plan: Plan, *, caller: Identity, expected: int) -> Observation:
    return await _act(ctx, observation_id, caller, expected, lambda o, now: o.revise_plan(by=caller.person_id, plan=plan, at=now))


async def agree(ctx: AuditContext, observation_id: str, agreement: Agreement, *, caller: Identity, expected: int) -> Observation:
    return await _act(ctx, observation_id, caller, expected, lambda o, now: o.agree(by=caller.person_id, agreement=agreement, at=now))


async def report(ctx: AuditContext, observation_id: str, entries: Report, *, caller: Identity, expected: int) -> Observation:
    return await _act(ctx, observation_id, caller, expected, lambda o, now: o.record_report(by=caller.person_id, report=entries, at=now))


async def reflect(ctx: AuditContext, observation_id: str, reflection: Reflection, *, caller: Identity, expected: int) -> Observation:
    return await _act(ctx, observation_id, caller, expected, lambda o, now: o.reflect(by=caller.person_id, reflection=reflection, at=now))


async def cancel(ctx: AuditContext, observation_id: str, reason: str, *, caller: Identity, expected: int) -> Observation:
    return await _act(ctx, observation_id, caller, expected, lambda o, now: o.cancel(by=caller.person_id, reason=reason, at=now))


async def list_observations(ctx: AuditContext, caller: Identity, *, social_worker_id: str | None, after: str | None, limit: int) -> list[Observation]:
    viewer = caller.person_id if QA_STAFF_ROLES.isdisjoint(caller.roles) else None
    return await rs.observations(ctx.db, viewer=viewer, social_worker_id=social_worker_id, after=after, limit=limit)


async def observations_due(ctx: AuditContext, today: date) -> list[dict[str, Any]]:
    """Remind of every social worker whose next observation is due: one ``audit.observation.due``
    per social worker and due day, however often (or on however many replicas) this runs."""
    sent: list[dict[str, Any]] = []
    for worker in await rs.social_workers(ctx.db):
        sw = worker["_id"]
        counted_since = await rs.counted_since(ctx.db, sw, today)
        observed = await rs.observed_on(ctx.db, sw)
        due = due_reminder(
            sw, line_manager_id=worker.get("line_manager_id"), team_id=worker.get("team_id"), observed=observed, counted_since=counted_since, today=today,
        )
        if due is None or await rs.reminded(ctx.db, sw, due.due_on):
            continue

        async def work(tx: Transaction, due: ev.ObservationDue = due) -> None:
            await rs.remember_reminder(tx, ctx.db, due.social_worker_id, due.due_on, today=today)
            pe.record(tx, [due])

        try:
            await ctx.uow.run(work)
        except DuplicateKeyError:
            continue  # another replica reminded first
        sent.append({"social_worker_id": sw, "due_on": due.due_on.isoformat()})
    return sent


# --- monitoring forms ---------------------------------------------------------------------------


async def submit_monitoring_form(ctx: AuditContext, entries: MonitoringEntries, *, caller: Identity, key: IdempotencyKey | None) -> Document:
    now = _when(ctx)
    check_monitoring(entries, author_roles=caller.roles, today=local_date(now))
    directory = Directory(ctx.db, ctx.overrides)
    case = await directory.case(entries.case_id)
    if case is None:
        raise await unknown(ctx.db, "case", entries.case_id, InvalidEntries("Unknown case.", [{"field": "case_id", "message": "the directory has not told the audit service of this case", "code": "unknown"}]))
    team_id = case.get("team_id")
    team_manager = case.get("team_manager_id") or (await rs.team_manager_of(ctx.db, team_id) if team_id else None)
    on_time = report_on_time(entries.kind, entries.meeting_on, entries.report_received_on)
    doc = {
        **rs.record_document(uuid.uuid4().hex, entries, day=entries.meeting_on, team_id=team_id or "", by=caller.person_id, at=now),
        "report_on_time": on_time, "team_manager_id": team_manager,
    }

    async def work(tx: Transaction) -> Document:
        stored = await rs.insert(tx, ctx.db, rs.MONITORING_FORMS, doc, by=caller.person_id, at=now)
        await remember(tx, ctx.db, key, stored["_id"], now=now)
        pe.record(tx, [ev.MonitoringFormSubmitted(
            form_id=stored["_id"], kind=entries.kind.value, case_id=entries.case_id, team_id=team_id, team_manager_id=team_manager,
            by=caller.person_id, meeting_on=entries.meeting_on, report_on_time=on_time, at=now,
        )])
        return stored

    return await ctx.uow.run(work)


async def read_record(ctx: AuditContext, collection: str, what: str, record_id: str, caller: Identity) -> Document:
    """A record is read by whoever recorded it and by its team's readers; anyone else gets 404."""
    doc = await rs.load(ctx.db, collection, record_id)
    if doc is None:
        raise RecordNotFound(what, record_id)
    manager = doc.get("team_manager_id") or await rs.team_manager_of(ctx.db, doc.get("team_id") or "")
    if caller.person_id != doc.get("recorded_by") and not reads_team(caller, doc.get("team_id") or "", manager):
        raise RecordNotFound(what, record_id)
    return doc


async def issue_collation(ctx: AuditContext, *, team_id: str, month: str, caller: Identity) -> tuple[Document, bool]:
    """Collate a team's monitoring forms of a month; issuing again with nothing new changes nothing,
    with forms added since it is issued as a new version. Returns (collation, changed)."""
    if QA_STAFF_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("QA staff collate the monitoring forms for the liaison meeting.")
    await known_team(ctx.db, team_id)
    forms = await rs.for_team(ctx.db, rs.MONITORING_FORMS, team_id, [month])
    collation = collate(team_id, month, [
        FormFacts(f["_id"], f["kind"], f.get("report_on_time"), f.get("ratings") or {}, f.get("plan_progressing")) for f in forms
    ])
    collation_id = f"{month}:{team_id}"
    now = _when(ctx)

    async def work(tx: Transaction) -> tuple[Document, bool]:
        current = await rs.load(ctx.db, rs.MONITORING_COLLATIONS, collation_id, tx=tx)
        figures = collation_figures(collation)
        if current is not None and {k: current.get(k) for k in figures} == figures:
            return current, False
        manager = await rs.team_manager_of(ctx.db, team_id, tx=tx)
        doc = {"_id": collation_id, **figures, "team_manager_id": manager, "issued_by": caller.person_id, "issued_at": now}
        if current is None:
            stored = await rs.insert(tx, ctx.db, rs.MONITORING_COLLATIONS, doc, by=caller.person_id, at=now)
        else:
            stored = await rs.replace(tx, ctx.db, rs.MONITORING_COLLATIONS, doc, expected=current["version"], what="collation", by=caller.person_id, at=now)
        pe.record(tx, [ev.CollationIssued(
            collation_id=collation_id, team_id=team_id, month=month, team_manager_id=manager, forms=collation.forms,
            reports_on_time=collation.reports_on_time, reports_late=collation.reports_late, plans_not_progressing=collation.plans_not_progressing,
            version=stored["version"], by=caller.person_id, at=now,
        )])
        return stored, True

    return await ctx.uow.run(work)


def collation_figures(c: Collation) -> dict[str, Any]:
    return {
        "team_id": c.team_id, "month": c.month, "forms": c.forms, "by_kind": c.by_kind, "reports_on_time": c.reports_on_time,
        "reports_late": c.reports_late, "ratings": c.ratings, "plans_not_progressing": c.plans_not_progressing, "form_ids": c.form_ids,
    }


# --- feedback, complaints, compliments ---------------------------------------------------------


async def _create(
    ctx: AuditContext, collection: str, doc: Document, *, caller: Identity, key: IdempotencyKey | None, complaint: bool = False
) -> Document:
    now = _when(ctx)

    async def work(tx: Transaction) -> Document:
        stored = await rs.insert(tx, ctx.db, collection, doc, by=caller.person_id, at=now)
        await remember(tx, ctx.db, key, stored["_id"], now=now)
        if complaint:
            _record_complaint(tx, stored)
        return stored

    return await ctx.uow.run(work)


async def record_feedback(ctx: AuditContext, entries: FeedbackEntries, *, caller: Identity, key: IdempotencyKey | None) -> Document:
    refusal = "Feedback is recorded by the staff who gather it (social workers, IROs, CP chairs, managers, QA staff)."
    return await _record_received(ctx, rs.FEEDBACK, entries, refusal, caller=caller, key=key)


async def record_compliment(ctx: AuditContext, entries: ComplimentEntries, *, caller: Identity, key: IdempotencyKey | None) -> Document:
    refusal = "Compliments are recorded by staff who receive them and by the complaints team."
    return await _record_received(ctx, rs.COMPLIMENTS, entries, refusal, caller=caller, key=key)


async def _record_received(
    ctx: AuditContext, collection: str, entries: FeedbackEntries | ComplimentEntries, refusal: str, *, caller: Identity, key: IdempotencyKey | None
) -> Document:
    """Feedback or a compliment, recorded by the staff who received it (else ``refusal``), for a
    known team, on a day not yet to come."""
    if FEEDBACK_ROLES.isdisjoint(caller.roles):
        raise NotAllowed(refusal)
    now = _when(ctx)
    _not_future(entries.received_on, now, "received_on")
    await known_team(ctx.db, entries.team_id)
    doc = rs.record_document(uuid.uuid4().hex, entries, day=entries.received_on, team_id=entries.team_id, by=caller.person_id, at=now)
    return await _create(ctx, collection, doc, caller=caller, key=key)


def _not_future(day: date, now: datetime, field: str) -> None:
    if day > local_date(now):
        raise InvalidEntries("A date in the future.", [{"field": field, "message": "this is recorded once it has happened"}])


async def _may_record_complaint(ctx: AuditContext, caller: Identity, team_id: str) -> None:
    team = await known_team(ctx.db, team_id)
    if caller.person_id != team.get("manager_id") and COMPLAINT_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Lessons learned are recorded by the team's manager, a service manager, the complaints team or QA staff.")


def _record_complaint(tx: Transaction, doc: Document) -> None:
    """The lessons as stored (recorded, or revised: a later version)."""
    pe.record(tx, [ev.ComplaintLessonsRecorded(
        record_id=doc["_id"], complaint_ref=doc["complaint_ref"], kind=doc["kind"], team_id=doc["team_id"], outcome=doc["outcome"],
        actions_taken=tuple(doc["actions_taken"]), by=doc["updated_by"], version=doc["version"], at=doc["updated_at"],
    )])


async def record_complaint_lessons(ctx: AuditContext, entries: ComplaintLessonsEntries, *, caller: Identity, key: IdempotencyKey | None) -> Document:
    check_complaint(entries)
    await _may_record_complaint(ctx, caller, entries.team_id)
    now = _when(ctx)
    _not_future(entries.date_responded, now, "date_responded")
    existing = await rs.complaint_lessons_of(ctx.db, entries.complaint_ref)
    if existing is not None:
        raise RecordExists("Complaint lessons", f"Lessons learned from complaint {entries.complaint_ref!r} are recorded already ({existing}): revise them.")
    doc = rs.record_document(uuid.uuid4().hex, entries, day=entries.date_responded, team_id=entries.team_id, by=caller.person_id, at=now)
    try:
        return await _create(ctx, rs.COMPLAINT_LESSONS, doc, caller=caller, key=key, complaint=True)
    except DuplicateKeyError as exc:
        raise RecordExists("Complaint lessons", f"Lessons learned from complaint {entries.complaint_ref!r} are recorded already.") from exc


async def revise_complaint_lessons(
    ctx: AuditContext, record_id: str, entries: ComplaintLessonsEntries, *, caller: Identity, expected: int
) -> Document:
    """A revision keeps the earlier version (``/history``); the reference and team stay."""
    check_complaint(entries)
    now = _when(ctx)

    async def work(tx: Transaction) -> Document:
        current = await rs.load(ctx.db, rs.COMPLAINT_LESSONS, record_id, tx=tx)
        if current is None:
            raise RecordNotFound("Complaint lessons", record_id)
        manager = await rs.team_manager_of(ctx.db, current["team_id"], tx=tx)
        if caller.person_id not in (current["recorded_by"], manager) and COMPLAINT_ROLES.isdisjoint(caller.roles):
            if not reads_team(caller, current["team_id"], manager):
                raise RecordNotFound("Complaint lessons", record_id)
            raise NotAllowed("Lessons learned are revised by whoever recorded them, the team's manager, the complaints team or QA staff.")
        if (entries.complaint_ref, entries.team_id) != (current["complaint_ref"], current["team_id"]):
            raise InvalidEntries("The reference and team stay.", [{"field": "complaint_ref", "message": "record another complaint's lessons separately"}])
        doc = {**current, **rs.entries_document(entries), "updated_by": caller.person_id, "updated_at": now, "month": month_of(entries.date_responded)}
        stored = await rs.replace(tx, ctx.db, rs.COMPLAINT_LESSONS, doc, expected=expected, what="complaint lessons", by=caller.person_id, at=now)
        _record_complaint(tx, stored)
        return stored

    return await ctx.uow.run(work)


# --- 4.5.2: the log of level 2 complaints and above, the annual extract --------------------------

#: Who reads the complaints log and the annual extract: the Complaints and Service Improvement
#: Manager, QA staff, service managers and the operational managers who read the reports.
COMPLAINT_LOG_ROLES = COMPLAINT_ROLES | REPORT_ROLES


def _may_read_log(caller: Identity) -> None:
    if COMPLAINT_LOG_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("The complaints log is for the complaints team, QA staff and the operational managers.")


async def complaint_log(ctx: AuditContext, caller: Identity) -> list[dict[str, Any]]:
    """4.5.2: the log of the level 2 complaints and above."""
    _may_read_log(caller)
    return complaints_log(await rs.logged_complaints(ctx.db, level_from=LOGGED_FROM_LEVEL))


async def complaint_lessons_extract(ctx: AuditContext, year: int, caller: Identity) -> dict[str, Any]:
    """4.5.2: the annual extract of learning from the log."""
    _may_read_log(caller)
    return lessons_extract(year, await rs.logged_complaints(ctx.db, level_from=LOGGED_FROM_LEVEL, months=(f"{year:04d}-01", f"{year:04d}-12")))

"""One function per thing a person (or the audit service itself) does in Hillingdon's framework:
load the record, call the domain, save it with its events in one transaction.

The review of a requires-improvement or inadequate audit is opened by the audit service's own
consumer of ``audit.audit.completed`` (``hillingdon.consumers``), in the transaction that marks
the event handled: see that module for why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from pymongo.asynchronous.database import AsyncDatabase
from shared.identity import Identity
from shared.mongo import Document, Transaction, UnitOfWork
from shared.versioned import check_version

from ..case_audit import store as audit_store
from ..case_audit.domain.audit import AuditStatus
from ..case_audit.usecases import AllocationRequest, allocate_in
from ..common.context import SERVICE_ACTOR, AuditContext
from ..common.directory import ContactOverrides, Directory, audit_type_of, unknown
from ..common.errors import InvalidEntries, NotAllowed
from ..common.grades import Grade
from ..common.roles import QA_STAFF_ROLES, REPORT_ROLES, Role
from ..cycles.domain.timetable import Month
from ..tools.catalogue import HILLINGDON
from . import pdf
from . import store as st
from .domain import report as rp
from .domain import single_agency_round as sa
from .domain import themed as th
from .domain.crib_sheet import CribEntry, CribSheet, ManagementSession, SheetFacts
from .domain.errors import NotFound
from .domain.review import SINGLE_AGENCY, PracticeReview, ReviewOutcome, needs_review
from .events import record

#: Who reads an issued report besides QA staff: operational managers, the performance unit, and
#: the practice mentors and team managers who progress it (5.2.5).
REPORT_READERS = frozenset(REPORT_ROLES | {Role.TEAM_MANAGER, Role.PRACTICE_MENTOR})
#: Who keeps crib sheets: team managers in supervision, service managers in their sessions.
CRIB_SHEET_ROLES = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER})

R = TypeVar("R", PracticeReview, rp.EditableReport, CribSheet, ManagementSession, sa.SingleAgencyRound)


class _Visible(Protocol):
    def visible_to(self, person_id: str, roles: frozenset[str] | set[str]) -> bool: ...


V = TypeVar("V", bound=_Visible)


def _sees(caller: Identity) -> Callable[[V], bool]:
    """Whether ``caller`` may see a record: one of its parties, or QA staff."""
    return lambda r: r.visible_to(caller.person_id, caller.roles)


async def _change(
    uow: UnitOfWork, records: st.Collection[R], record_id: str, expected: int, visible: Callable[[R], bool], change: Callable[[R, datetime], object],
    extra: Callable[[Transaction, R], Any] | None = None,
) -> R:
    async def work(tx: Transaction) -> R:
        found = await records.load(uow.db, record_id, tx=tx)
        if found is None or not visible(found):
            raise NotFound(records.what, record_id)
        check_version(records.what, found.version, expected, ident=found.id)
        change(found, uow.clock.now())
        if extra is not None:
            await extra(tx, found)
        await records.save(tx, uow.db, found)
        record(tx, found)
        return found

    return await uow.run(work)


async def _read(db: AsyncDatabase[Document], records: st.Collection[R], record_id: str, visible: Callable[[R], bool]) -> R:
    found = await records.load(db, record_id)
    if found is None or not visible(found):
        raise NotFound(records.what, record_id)
    return found


# --- reviews of requires improvement / inadequate audits -----------------------------------------


async def open_review(tx: Transaction, db: AsyncDatabase[Document], audit_id: str, at: datetime) -> PracticeReview | None:
    """Open the review of a completed Hillingdon audit graded requires improvement or inadequate
    (inside ``tx``); nothing for any other audit, nor for one whose review is open already."""
    audit = await audit_store.load(db, audit_id, tx=tx)
    if audit is None or audit.status is not AuditStatus.COMPLETED:
        return None
    grade = audit.grade_of_record
    if not needs_review(audit.form.programme.value, grade.value if grade else None) or grade is None:
        return None
    if await st.review_of_audit(db, audit_id, tx=tx):
        return None
    directory = Directory(db, ContactOverrides(), tx.session)
    manager = await directory.accountable_service_manager(audit.case.case_id)
    review = PracticeReview.open(
        review_id=uuid.uuid4().hex, audit_id=audit.id, case_ref=audit.case_ref, team_id=audit.case.team_id, month=audit.month, grade=grade,
        auditor_id=audit.auditor_id, service_manager_id=manager,
        assistant_director_id=await directory.assistant_director_above(manager) if manager else None, by=SERVICE_ACTOR, at=at,
    )
    await st.REVIEW_RECORDS.insert(tx, db, review)
    record(tx, review)
    return review


async def read_review(db: AsyncDatabase[Document], review_id: str, caller: Identity) -> PracticeReview:
    return await _read(db, st.REVIEW_RECORDS, review_id, _sees(caller))


async def list_reviews(db: AsyncDatabase[Document], caller: Identity, *, status: str | None, after: str | None, limit: int) -> list[PracticeReview]:
    query: dict[str, Any] = {} if not QA_STAFF_ROLES.isdisjoint(caller.roles) else {"viewers": caller.person_id}
    if status:
        query["status"] = status
    return await st.REVIEW_RECORDS.page(db, query, after=after, limit=limit)


async def record_review_outcome(uow: UnitOfWork, review_id: str, outcome: ReviewOutcome, *, caller: Identity, expected: int) -> PracticeReview:
    return await _change(
        uow, st.REVIEW_RECORDS, review_id, expected, _sees(caller), lambda r, now: r.record_outcome(by=caller.person_id, outcome=outcome, at=now)
    )


async def report_review(uow: UnitOfWork, review_id: str, *, caller: Identity, expected: int) -> PracticeReview:
    return await _change(uow, st.REVIEW_RECORDS, review_id, expected, _sees(caller), lambda r, now: r.report(by=caller.person_id, at=now))


async def verify_review(uow: UnitOfWork, review_id: str, verification: str, *, caller: Identity, expected: int) -> PracticeReview:
    return await _change(
        uow, st.REVIEW_RECORDS, review_id, expected, _sees(caller),
        lambda r, now: r.verify(by=caller.person_id, roles=caller.roles, verification=verification, at=now),
    )


async def reassign_review(
    uow: UnitOfWork, review_id: str, *, service_manager_id: str | None, assistant_director_id: str | None, caller: Identity, expected: int
) -> PracticeReview:
    return await _change(
        uow, st.REVIEW_RECORDS, review_id, expected, _sees(caller),
        lambda r, now: r.reassign(
            by=caller.person_id, roles=caller.roles, service_manager_id=service_manager_id, assistant_director_id=assistant_director_id, at=now
        ),
    )


# --- the monthly audit report and the themed audit report --------------------------------------

async def _monthly_figures(db: AsyncDatabase[Document], month: Month) -> dict[str, Any]:
    opened, reported = await st.review_counts(db, str(month))
    return rp.monthly_figures(await st.audit_rows(db, SINGLE_AGENCY, [str(month)]), reviews_opened=opened, reviews_reported=reported)


async def _themed_figures(db: AsyncDatabase[Document], period: th.ThemedPeriod, theme: str) -> dict[str, Any]:
    return th.themed_figures(await st.audit_rows(db, th.THEMED, [str(m) for m in period.months]), theme)


async def _insert_report(uow: UnitOfWork, report: rp.EditableReport) -> rp.EditableReport:
    async def work(tx: Transaction) -> rp.EditableReport:
        await st.REPORT_RECORDS.insert(tx, uow.db, report)
        record(tx, report)
        return report

    return await uow.run(work)


async def generate_monthly_report(uow: UnitOfWork, month: Month, *, caller: Identity) -> rp.EditableReport:
    """The draft of the month's report, from the month's single-agency audits as they stand."""
    if rp.LEAD_QA_AUDITOR not in caller.roles:
        raise NotAllowed("The lead QA auditor completes the monthly audit report.")
    figures = await _monthly_figures(uow.db, month)
    label = f"{month.first_day:%B %Y}"
    report = rp.EditableReport.generate(
        kind=rp.ReportKind.MONTHLY, period=str(month), title=f"Monthly audit report - {label}", figures=figures,
        sections=rp.monthly_draft(label, figures), by=caller.person_id, roles=caller.roles, at=uow.clock.now(),
    )
    return await _insert_report(uow, report)


async def generate_themed_report(uow: UnitOfWork, period: th.ThemedPeriod, theme: str, *, caller: Identity) -> rp.EditableReport:
    if rp.LEAD_QA_AUDITOR not in caller.roles:
        raise NotAllowed("The lead QA auditor completes the themed audit report.")
    figures = await _themed_figures(uow.db, period, theme)
    report = rp.EditableReport.generate(
        kind=rp.ReportKind.THEMED, period=str(period), title=f"Themed audit: {theme} - {period.label}", figures=figures,
        sections=th.themed_draft(figures), by=caller.person_id, roles=caller.roles, at=uow.clock.now(),
    )
    return await _insert_report(uow, report)


def _sees_report(caller: Identity) -> Callable[[rp.EditableReport], bool]:
    return lambda r: r.visible_to(caller.roles, REPORT_READERS)


async def read_report(db: AsyncDatabase[Document], kind: rp.ReportKind, period: str, caller: Identity) -> rp.EditableReport:
    return await _read(db, st.REPORT_RECORDS, rp.report_id(kind, period), _sees_report(caller))


async def edit_report(
    uow: UnitOfWork, kind: rp.ReportKind, period: str, sections: dict[str, str], *, caller: Identity, expected: int
) -> rp.EditableReport:
    return await _change(
        uow, st.REPORT_RECORDS, rp.report_id(kind, period), expected, _sees_report(caller),
        lambda r, now: r.edit(by=caller.person_id, roles=caller.roles, sections=sections, at=now),
    )


async def refresh_report(uow: UnitOfWork, kind: rp.ReportKind, period: str, *, caller: Identity, expected: int) -> rp.EditableReport:
    if kind is rp.ReportKind.MONTHLY:
        figures = await _monthly_figures(uow.db, Month.parse(period))
    else:
        current = await read_report(uow.db, kind, period, caller)
        figures = await _themed_figures(uow.db, th.ThemedPeriod.parse(period), str(current.figures.get("theme", "")))
    return await _change(
        uow, st.REPORT_RECORDS, rp.report_id(kind, period), expected, _sees_report(caller),
        lambda r, now: r.refresh(by=caller.person_id, roles=caller.roles, figures=figures, at=now),
    )


async def issue_report(uow: UnitOfWork, kind: rp.ReportKind, period: str, *, caller: Identity, expected: int) -> rp.EditableReport:
    pdf_id = uuid.uuid4().hex

    async def store_pdf(tx: Transaction, report: rp.EditableReport) -> None:
        # Rendered once, as issued, and kept: the issued report never changes.
        content = pdf.render(report, at=uow.clock.now())
        await st.store_pdf(tx, uow.db, pdf_id=pdf_id, report_id=report.id, content=content, at=uow.clock.now())

    return await _change(
        uow, st.REPORT_RECORDS, rp.report_id(kind, period), expected, _sees_report(caller),
        lambda r, now: r.issue(by=caller.person_id, roles=caller.roles, pdf_id=pdf_id, at=now), extra=store_pdf,
    )


async def report_pdf(db: AsyncDatabase[Document], report: rp.EditableReport, now: datetime) -> bytes:
    """The issued PDF as stored; a draft's, rendered now (marked DRAFT)."""
    if report.pdf_id is not None and (content := await st.load_pdf(db, report.pdf_id)) is not None:
        return content
    return pdf.render(report, at=now)


async def themed_schedule(db: AsyncDatabase[Document], year: int, today: date) -> list[th.ScheduledPeriod]:
    periods = [str(p) for p in th.periods_of_year(year)]
    docs = await st.reports_of_kind(db, rp.ReportKind.THEMED.value, periods)
    known = {d["period"]: (d["status"], (d.get("body") or {}).get("figures", {}).get("theme")) for d in docs}
    return th.schedule(year, known, today)


# --- crib sheets and the service manager's sessions --------------------------------------------


async def create_crib_sheet(uow: UnitOfWork, *, case_id: str, month: Month, social_worker_id: str | None, caller: Identity) -> CribSheet:
    if CRIB_SHEET_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Team managers and service managers keep crib sheets in supervision.")

    async def work(tx: Transaction) -> CribSheet:
        directory = Directory(uow.db, ContactOverrides(), tx.session)
        case = await directory.case(case_id)
        if case is None:
            raise await unknown(uow.db, "case", case_id, InvalidEntries("Unknown case.", [{"field": "case_id", "message": "the directory has not told the audit service of this case", "code": "unknown"}]))
        team_manager = case.get("team_manager_id")
        if team_manager is None and case.get("team_id"):
            team_manager = await st.team_manager(uow.db, case["team_id"], tx=tx)
        service_manager = await directory.accountable_service_manager(case_id)
        worker = social_worker_id or case.get("allocated_worker_id")
        errors = []
        if not team_manager:
            errors.append({"field": "case_id", "message": "the directory names no team manager for this case", "code": "unknown"})
        if not worker:
            errors.append({"field": "social_worker_id", "message": "give the case's social worker (the directory names none)"})
        if errors:
            raise InvalidEntries("The crib sheet cannot be started.", errors)
        if caller.person_id not in (team_manager, service_manager):
            raise NotAllowed("The case's team manager or service manager keeps its crib sheet.")
        now = uow.clock.now()
        sheet = CribSheet(
            id=uuid.uuid4().hex, case_id=case_id, team_id=case.get("team_id"), month=str(month), social_worker_id=str(worker),
            team_manager_id=str(team_manager), service_manager_id=service_manager, created_by=caller.person_id, created_at=now,
            updated_by=caller.person_id, updated_at=now,
        )
        await st.CRIB_SHEET_RECORDS.insert(tx, uow.db, sheet)
        return sheet

    return await uow.run(work)


async def read_crib_sheet(db: AsyncDatabase[Document], sheet_id: str, caller: Identity) -> CribSheet:
    return await _read(db, st.CRIB_SHEET_RECORDS, sheet_id, _sees(caller))


async def save_crib_sheet(uow: UnitOfWork, sheet_id: str, entries: dict[str, CribEntry], *, caller: Identity, expected: int) -> CribSheet:
    return await _change(
        uow, st.CRIB_SHEET_RECORDS, sheet_id, expected, _sees(caller), lambda s, now: s.save(by=caller.person_id, entries=entries, at=now)
    )


async def check_crib_sheet(uow: UnitOfWork, sheet_id: str, *, caller: Identity, expected: int) -> CribSheet:
    return await _change(uow, st.CRIB_SHEET_RECORDS, sheet_id, expected, _sees(caller), lambda s, now: s.check(by=caller.person_id, at=now))


async def _sheet_facts(tx: Transaction, db: AsyncDatabase[Document], sheet_ids: list[str]) -> list[SheetFacts]:
    facts = []
    for sheet_id in sheet_ids:
        sheet = await st.CRIB_SHEET_RECORDS.load(db, sheet_id, tx=tx)
        if sheet is None:
            raise InvalidEntries("Unknown crib sheet.", [{"field": "crib_sheet_ids", "message": f"there is no crib sheet {sheet_id!r}", "code": "unknown"}])
        facts.append(SheetFacts(sheet.id, sheet.case_id, sheet.team_id, sheet.month, sheet.status.value == "checked"))
    return facts


async def hold_session(uow: UnitOfWork, *, month: Month, team_id: str, crib_sheet_ids: list[str], caller: Identity) -> ManagementSession:
    async def work(tx: Transaction) -> ManagementSession:
        directory = Directory(uow.db, ContactOverrides(), tx.session)
        session = ManagementSession.hold(
            month=str(month), team_id=team_id, service_manager_id=caller.person_id, roles=caller.roles,
            team_manager_id=await st.team_manager(uow.db, team_id, tx=tx),
            assistant_director_id=await directory.assistant_director_above(caller.person_id),
            sheets=await _sheet_facts(tx, uow.db, crib_sheet_ids), at=uow.clock.now(),
        )
        await st.SESSION_RECORDS.insert(tx, uow.db, session)
        return session

    return await uow.run(work)


async def read_session(db: AsyncDatabase[Document], session_id: str, caller: Identity) -> ManagementSession:
    return await _read(db, st.SESSION_RECORDS, session_id, _sees(caller))


async def write_session_summary(uow: UnitOfWork, session_id: str, summary: str, *, caller: Identity, expected: int) -> ManagementSession:
    return await _change(
        uow, st.SESSION_RECORDS, session_id, expected, _sees(caller), lambda s, now: s.write_summary(by=caller.person_id, summary=summary, at=now)
    )


async def report_session(uow: UnitOfWork, session_id: str, *, caller: Identity, expected: int) -> ManagementSession:
    async def work(tx: Transaction) -> ManagementSession:
        found = await st.SESSION_RECORDS.load(uow.db, session_id, tx=tx)
        if found is None or not found.visible_to(caller.person_id, caller.roles):
            raise NotFound("session", session_id)
        check_version("session", found.version, expected, ident=found.id)
        found.report(by=caller.person_id, sheets=await _sheet_facts(tx, uow.db, found.crib_sheet_ids), at=uow.clock.now())
        await st.SESSION_RECORDS.save(tx, uow.db, found)
        record(tx, found)
        return found

    return await uow.run(work)



# --- the single-agency audit round (Appendix D) --------------------------------------------------


@dataclass(frozen=True)
class RoundRequest:
    """One auditor's allocation as the QA team asks for it."""

    auditor_id: str
    area_of_expertise: list[str]
    case_ids: list[str]


async def _round_audits(db: AsyncDatabase[Document], audit_ids: list[str], tx: Transaction | None = None) -> list[sa.AuditFacts]:
    facts = await st.audit_facts(db, audit_ids, tx=tx)
    out = []
    for audit_id in audit_ids:
        completed, grade = facts.get(audit_id, (False, None))
        out.append(sa.AuditFacts(audit_id, completed, Grade(grade) if completed and grade else None))
    return out


async def allocate_round(ctx: AuditContext, *, month: Month, team_id: str, allocations: list[RoundRequest], caller: Identity) -> sa.SingleAgencyRound:
    """The QA team's case list for a team's month: the round and one audit per case (the Hillingdon
    tool on the audit engine, due two months on), in one transaction with their events."""
    if QA_STAFF_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("The case list is drawn up by the QA team.")

    async def work(tx: Transaction) -> sa.SingleAgencyRound:
        db = ctx.db
        if existing := await st.round_of_team(db, team_id, str(month), tx=tx):
            raise st.Exists("round", existing)
        directory = Directory(db, ContactOverrides(), tx.session)
        team_manager = await st.team_manager(db, team_id, tx=tx)
        service_manager = await directory.up_the_line(team_manager, Role.SERVICE_MANAGER, include_start=False) if team_manager else None
        asked = []
        for a in allocations:
            person = await directory.person(a.auditor_id)
            auditor = sa.Auditor(a.auditor_id, frozenset(person.get("roles", [])), bool(person.get("active", True))) if person else None
            cases = {}
            for case_id in a.case_ids:
                if (case := await directory.case(case_id)) is not None:
                    cases[case_id] = sa.RoundCase(case_id, case.get("team_id"), audit_type_of(case))
            asked.append(sa.AskedAllocation(a.auditor_id, list(a.area_of_expertise), list(a.case_ids), auditor, cases))
        round_id = uuid.uuid4().hex
        audit_ids = {c: uuid.uuid4().hex for a in allocations for c in a.case_ids}
        round_ = sa.SingleAgencyRound.draw_up(
            round_id=round_id, month=month, team_id=team_id, team_manager_id=team_manager, service_manager_id=service_manager, asked=asked,
            audit_ids=audit_ids, by=caller.person_id, roles=caller.roles, at=ctx.uow.clock.now(),
        )
        for alloc in round_.allocations:
            for case_id, audit_id in zip(alloc.case_ids, alloc.audit_ids, strict=True):
                request = AllocationRequest(
                    tool_id=HILLINGDON, case_id=case_id, auditor_id=alloc.auditor_id, month=str(month), due_on=round_.due_on,
                    allocation_key=f"{HILLINGDON}:round:{round_id}:{case_id}",
                )
                await allocate_in(tx, ctx, request, by=caller.person_id, audit_id=audit_id, code="")
        await st.ROUND_RECORDS.insert(tx, db, round_)
        record(tx, round_)
        return round_

    return await ctx.uow.run(work)


async def read_round(db: AsyncDatabase[Document], round_id: str, caller: Identity) -> tuple[sa.SingleAgencyRound, list[sa.AuditFacts]]:
    found = await _read(db, st.ROUND_RECORDS, round_id, _sees(caller))
    return found, await _round_audits(db, found.audit_ids())


async def list_rounds(db: AsyncDatabase[Document], caller: Identity, *, month: str | None, after: str | None, limit: int) -> list[sa.SingleAgencyRound]:
    query: dict[str, Any] = {} if not QA_STAFF_ROLES.isdisjoint(caller.roles) else {"viewers": caller.person_id}
    if month:
        query["month"] = month
    return await st.ROUND_RECORDS.page(db, query, after=after, limit=limit)


async def _change_round(
    uow: UnitOfWork, round_id: str, expected: int, caller: Identity, change: Callable[[sa.SingleAgencyRound, list[sa.AuditFacts], datetime], object],
) -> sa.SingleAgencyRound:
    async def work(tx: Transaction) -> sa.SingleAgencyRound:
        found = await st.ROUND_RECORDS.load(uow.db, round_id, tx=tx)
        if found is None or not found.visible_to(caller.person_id, caller.roles):
            raise NotFound("round", round_id)
        check_version("round", found.version, expected, ident=found.id)
        change(found, await _round_audits(uow.db, found.audit_ids(), tx), uow.clock.now())
        await st.ROUND_RECORDS.save(tx, uow.db, found)
        record(tx, found)
        return found

    return await uow.run(work)


async def select_qa_sample(uow: UnitOfWork, round_id: str, audit_ids: list[str], *, caller: Identity, expected: int) -> sa.SingleAgencyRound:
    def change(r: sa.SingleAgencyRound, audits: list[sa.AuditFacts], now: datetime) -> None:
        known = {a.audit_id: a for a in audits}
        asked = [known.get(a, sa.AuditFacts(a, False, None)) for a in audit_ids]
        r.select_qa_sample(by=caller.person_id, roles=caller.roles, audits=asked, at=now)

    return await _change_round(uow, round_id, expected, caller, change)


async def review_sampled_audit(
    uow: UnitOfWork, round_id: str, audit_id: str, *, finding: str, agrees_with_grade: bool, caller: Identity, expected: int
) -> sa.SingleAgencyRound:
    return await _change_round(
        uow, round_id, expected, caller,
        lambda r, _, now: r.review_sampled(audit_id=audit_id, by=caller.person_id, roles=caller.roles, finding=finding, agrees_with_grade=agrees_with_grade, at=now),
    )


async def save_round_overview(uow: UnitOfWork, round_id: str, text: str, *, caller: Identity, expected: int) -> sa.SingleAgencyRound:
    return await _change_round(uow, round_id, expected, caller, lambda r, audits, now: r.save_overview(by=caller.person_id, text=text, audits=audits, at=now))


async def report_round_overview(uow: UnitOfWork, round_id: str, *, caller: Identity, expected: int) -> sa.SingleAgencyRound:
    return await _change_round(uow, round_id, expected, caller, lambda r, _, now: r.report_overview(by=caller.person_id, at=now))

"""Every report endpoint timed at one client over three years of data: the audit service's
completion, grades, trend, moderation agreement and team review; resolution's counts, durations
and impact; sign-off's timeliness. Each call's database commands are captured with SecantusDB's
profiler (``profile`` level 2, ``system.profile``) and explained (``explain`` with
``executionStats``): the plan's stages, keys and documents examined, and any COLLSCAN.

    python -m bench.reports [--audits 20400] [--teams 600] [--resolutions 6000] [--exemplars 10000]
                            [--to 2026-11] [--seed 20] [--repeat 20] [--no-rebuild] [--only TEXT]

It starts what it needs like ``bench.countersign`` (SecantusDB unless ``MONGODB_URL`` is set, the
local RabbitMQ unless ``AMQP_URL`` is set; audit, resolution, sign-off and the gateway as
processes on free ports), then generates the data FAST and deterministically (``--seed``): the
domain objects are built with their own methods (allocate, submit, peer review, moderate; raise,
delegate, escalate, resolve, close; start, answer, first-sign, counter-sign, unlock) and written
with the documents each service's store writes (``to_document``, ``form_document``...) by
``insert_many`` in large batches, not through the API; the audit service's directory (teams with
their area and district, auditors, peer reviewers) through its projection function. Then it calls
each service's read-model rebuild, ``rebuild(db)`` in ``audit.reporting.readmodels``,
``resolution.readmodels`` and ``signoff.readmodels``, unless ``--no-rebuild``, and calls every report direct to its service with a signed ``X-QA-Identity``
(the gateway is not measured): warm-up, then ``--repeat`` calls each (fewer when one parameter set
has used up ``--budget`` seconds), p50 and p95, and the service process's CPU per call. For scale, the raw time of one indexed
``find_one`` in the same run (no floor is set for reports). Prints a table and writes
``bench/results/reports-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import importlib
import json
import os
import platform
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .stack import Running, cpu, running

RESULTS = Path(__file__).resolve().parent / "results"
BATCH = 2000
TARGET_P50_MS = 100.0
#: Who reads the reports (a role every service's report rule accepts).
READER = {"person_id": "BP-PERF", "name": "Bench performance officer", "roles": ["performance_officer", "qa_officer"], "teams": []}
AREAS = ("North", "South", "East", "West")
DISTRICTS_PER_AREA = 4
QA = "BP-QA"
OFFICERS = ("BP-PDO-1", "BP-PDO-2", "BP-PDO-3")
#: Months back from ``--to`` (0 = the last month) -> (share left at audit, peer review, moderation).
IN_PROGRESS = {0: (0.40, 0.22, 0.08), 1: (0.10, 0.08, 0.04)}
IN_PROGRESS_OLD = (0.04, 0.01, 0.01)
GRADE_WEIGHTS = (("outstanding", 5), ("good", 45), ("requires_improvement", 33), ("inadequate", 13), ("inadequate_critical", 4))


def _month_name(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def months_ending(last: str, count: int) -> list[str]:
    year, month = (int(x) for x in last.split("-"))
    out = []
    for _ in range(count):
        out.append(_month_name(year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def _month_start(month: str) -> date:
    year, number = (int(x) for x in month.split("-"))
    return date(year, number, 1)


def _month_end(month: str) -> date:
    start = _month_start(month)
    return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])


def _at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str
    area: str
    district: str
    manager_id: str


def authority(teams: int, peer_reviewers: int) -> tuple[list[Team], list[str]]:
    districts = [(area, f"{area} {n + 1}") for area in AREAS for n in range(DISTRICTS_PER_AREA)]
    out = []
    for i in range(teams):
        area, district = districts[i % len(districts)]
        out.append(Team(f"BT-{i + 1:04d}", f"Team {i + 1:04d} ({district})", area, district, f"BP-TM-{i + 1:04d}"))
    return out, [f"BP-PR-{i + 1:04d}" for i in range(peer_reviewers)]


async def _insert(db: AsyncDatabase[Any], collection: str, docs: list[dict[str, Any]]) -> int:
    for start in range(0, len(docs), BATCH):
        await db[collection].insert_many(docs[start : start + BATCH], ordered=False)
    return len(docs)


# --- audits ------------------------------------------------------------------------------------


@dataclass
class AuditTally:
    audits: int = 0
    drafts: int = 0
    dispensations: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    tools: Counter[str] = field(default_factory=Counter)
    grades: Counter[str] = field(default_factory=Counter)
    moderated: int = 0
    escalated: int = 0


def _adjacent(rng: random.Random, grade: Any, scale: list[Any]) -> Any:
    i = scale.index(grade)
    options = [scale[j] for j in (i - 1, i + 1) if 0 <= j < len(scale)]
    return rng.choice(options)


class AuditMaker:
    """Audits built with the aggregate's own methods, month by month."""

    def __init__(self, rng: random.Random) -> None:
        from audit.case_audit.domain.audit import Audit, AuditStatus, CaseFacts, OfficerPurpose
        from audit.case_audit.domain.moderation import Grading
        from audit.case_audit.domain.work import ActionItem, Answer, Evidence, StageWork
        from audit.common.grades import Grade
        from audit.tools.catalogue import HAMPSHIRE, HILLINGDON, KENT, THEMED, shipped_tools
        from audit.tools.domain.definition import CaseType, OpenBand

        self.rng = rng
        self.Audit, self.AuditStatus, self.CaseFacts, self.OfficerPurpose = Audit, AuditStatus, CaseFacts, OfficerPurpose
        self.Grading, self.ActionItem, self.Answer, self.Evidence, self.StageWork = Grading, ActionItem, Answer, Evidence, StageWork
        self.Grade, self.scale = Grade, list(Grade)
        self.CaseType, self.OpenBand = CaseType, OpenBand
        self.kent = KENT
        self.tools = ((KENT, 76), (HILLINGDON, 12), (THEMED, 7), (HAMPSHIRE, 5))
        self.definitions = {t.tool_id: t.definition for t in shipped_tools()}
        self.forms: dict[tuple[str, Any, Any], Any] = {}

    def form(self, tool_id: str, case_type: Any, band: Any) -> Any:
        key = (tool_id, case_type, band)
        if key not in self.forms:
            self.forms[key] = self.definitions[tool_id].form_for(tool_id, 1, case_type, band)
        return self.forms[key]

    def work(self, form: Any, grade: Any, *, by_peer_reviewer: bool, like: Any = None) -> Any:
        rng, g = self.rng, self.Grade
        answers = {}
        weak = grade in (g.REQUIRES_IMPROVEMENT, g.INADEQUATE, g.INADEQUATE_CRITICAL)
        for key, question in form.questions().items():
            if like is not None and key in like.answers:
                theirs = like.answers[key]
                if question.scale.choices and rng.random() < 0.05:
                    other = next(c for c in question.scale.choices if c != theirs.value)
                    answers[key] = self.Answer(value=other, comment="Seen differently on the file.")
                else:
                    answers[key] = theirs
                continue
            if not question.scale.choices:
                answers[key] = self.Answer(value="Seen and recorded on the file.")
            else:
                no = rng.random() < (0.25 if weak else 0.05)
                value = "no" if no and "no" in question.scale.choices else ("n/a" if rng.random() < 0.03 and "n/a" in question.scale.choices else "yes")
                answers[key] = self.Answer(value=value if value in question.scale.choices else question.scale.choices[0])
        sections = {}
        for key in form.graded_sections(by_peer_reviewer=by_peer_reviewer):
            if like is not None and key in like.section_grades:
                sections[key] = like.section_grades[key] if rng.random() < 0.95 else _adjacent(rng, like.section_grades[key], self.scale)
            elif rng.random() < 0.7:
                sections[key] = grade
            else:
                sections[key] = _adjacent(rng, grade, self.scale)
        overall = None
        if form.overall_grade:
            overall = grade if like is None else (like.overall_grade if rng.random() < 0.9 else _adjacent(rng, like.overall_grade, self.scale))
        plan = []
        if overall in form.action_plan_for_grades:
            plan = [self.ActionItem(action="Update the child's plan and record the review", owner="Team manager", due=None)]
        return self.StageWork(
            answers=answers, section_grades=sections, overall_grade=overall, action_plan=plan,
            oversight_comment="" if by_peer_reviewer else "Supervision monthly; the last session was recorded.",
            analysis="" if by_peer_reviewer else "Risk is understood; the plan is clear but drift was seen.",
            recommendations="" if by_peer_reviewer else "Record supervision and review the plan within four weeks.",
        )

    def grading(self, form: Any, review: Any, grade: Any) -> Any:
        sections = {k: review.section_grades.get(k, grade) for k in form.graded_sections(by_peer_reviewer=True)}
        return self.Grading(section_grades=sections, overall_grade=grade, comment="Agreed at moderation.")

    def make(self, number: int, month: str, team: Team, peer_reviewer: str, target: str, case_no: int) -> Any:
        rng, s = self.rng, self.AuditStatus
        tool_id = _weighted(rng, self.tools)
        case_type = rng.choice(list(self.CaseType))
        band = self.OpenBand.OVER_3_MONTHS if rng.random() < 0.8 else self.OpenBand.UNDER_3_MONTHS
        form = self.form(tool_id, case_type, band)
        start, end = _month_start(month), _month_end(month)
        allocated = _at(start, 7)
        case = self.CaseFacts(case_id=f"BC-{case_no:06d}", case_type=case_type, opened_on=start - timedelta(days=rng.randint(20, 700)), team_id=team.team_id)
        auditor = team.manager_id
        audit = self.Audit.allocate(
            audit_id=f"BA-{month}-{number:04d}", form=form, case=case, auditor_id=auditor,
            peer_reviewer_id=peer_reviewer if form.peer_review else None, coordinator_id=None, by=QA, at=allocated,
            month=month, allocation_key=f"bench:{tool_id}:{month}:{auditor}", due_on=end,
        )
        day = lambda lo, hi: _at(min(end, start + timedelta(days=rng.randint(lo, hi))), rng.randint(9, 16), rng.randint(0, 59))  # noqa: E731
        grade = self.Grade(_weighted(rng, GRADE_WEIGHTS))
        if target == "audit":
            if rng.random() < 0.5:
                audit.save_audit_draft(by=auditor, work=replace(self.work(form, grade, by_peer_reviewer=False), overall_grade=None), at=day(2, 10))
            return audit
        work = self.work(form, grade, by_peer_reviewer=False)
        if any(q.evidence_list for q in form.questions().values()):
            evidence = {k: [self.Evidence(what="Assessment", when=start.isoformat(), where="case record")] for k, q in form.questions().items() if q.evidence_list}
            audit.save_evidence(by=auditor, evidence=evidence, at=day(1, 3))
        audit.save_audit_draft(by=auditor, work=work, at=day(3, 8))
        audit.submit_audit(by=auditor, at=day(8, 14))
        if audit.status is s.COMPLETED or target == "peer_review":
            return audit
        review = self.work(form, grade, by_peer_reviewer=True, like=work)
        audit.save_peer_review_draft(by=peer_reviewer, work=review, at=day(14, 18))
        audit.submit_peer_review(by=peer_reviewer, at=day(18, 21))
        if audit.status is not s.MODERATION or target == "moderation":
            return audit
        agreed = review.overall_grade or grade
        if rng.random() < 0.08:
            officer = rng.choice(OFFICERS)
            audit.escalate_moderation(by=peer_reviewer, reason="No grading could be agreed.", at=day(21, 23))
            audit.assign_officer(purpose=self.OfficerPurpose.MODERATION, officer_id=officer, by=QA, at=day(23, 24))
            audit.record_final_grading(by=officer, grading=self.grading(form, review, agreed), at=day(24, 27))
        else:
            audit.propose_moderated_grading(by=auditor, grading=self.grading(form, review, agreed), at=day(21, 24))
            audit.accept_moderated_grading(by=peer_reviewer, at=day(24, 27))
        return audit


def _target(rng: random.Random, age: int) -> str:
    at_audit, at_review, at_moderation = IN_PROGRESS.get(age, IN_PROGRESS_OLD)
    r = rng.random()
    if r < at_audit:
        return "audit"
    if r < at_audit + at_review:
        return "peer_review"
    if r < at_audit + at_review + at_moderation:
        return "moderation"
    return "completed"


async def generate_audits(db: AsyncDatabase[Any], rng: random.Random, months: list[str], total: int, teams: list[Team], peer_reviewers: list[str]) -> AuditTally:
    from audit.case_audit import store as audit_store
    from audit.common import directory
    from audit.cycles import store as cycle_store
    from audit.cycles.domain.dispensation import Dispensation, DispensationReason, months_covered

    # The directory as the audit service projects it: teams (area, district, manager), auditors, peer reviewers.
    people = [directory.PersonChanged(person_id=t.manager_id, version=1, name=f"Manager of {t.name}", roles=["team_manager", "auditor"], team_id=t.team_id)
              for t in teams]
    people += [directory.PersonChanged(person_id=p, version=1, name=f"Peer reviewer {p}", roles=["peer_reviewer"]) for p in peer_reviewers]
    people += [directory.PersonChanged(person_id=o, version=1, name=f"Officer {o}", roles=["practice_development_officer"]) for o in OFFICERS]
    await directory.project_many(
        db, people, [directory.TeamChanged(team_id=t.team_id, version=1, name=t.name, district=t.district, area=t.area, manager_id=t.manager_id) for t in teams], [],
    )
    maker = AuditMaker(rng)
    tally = AuditTally()
    per_month = [total // len(months) + (1 if i < total % len(months) else 0) for i in range(len(months))]
    docs: list[dict[str, Any]] = []
    drafts: list[dict[str, Any]] = []
    dispensations: list[dict[str, Any]] = []
    case_no = 0
    for index, (month, count) in enumerate(zip(months, per_month, strict=True)):
        age = len(months) - 1 - index
        chosen = rng.sample(teams, min(count, len(teams)))
        # A few auditors with a dispensation this month (leave, sickness); most of their audits stay unstarted.
        dispensed = {t.manager_id for t in rng.sample(chosen, max(1, len(chosen) // 40))}
        first, last = _month_start(month), _month_end(month)
        for person in sorted(dispensed):
            reason = rng.choice([DispensationReason.ANNUAL_LEAVE, DispensationReason.SICK_LEAVE])
            recorded = _at(first - timedelta(days=3))
            d = Dispensation(
                id=f"BD-{month}-{person}", person_id=person, reason=reason, starts_on=first, ends_on=last, note="Bench", recorded_by=QA, recorded_at=recorded,
                updated_by=QA, updated_at=recorded, months=[str(m) for m in months_covered(first, last)],
            )
            dispensations.append(cycle_store.dispensation_document(d))
        for number, team in enumerate(chosen, start=1):
            case_no += 1
            target = _target(rng, age)
            if team.manager_id in dispensed and rng.random() < 0.8:
                target = "audit"
            audit = maker.make(number, month, team, rng.choice(peer_reviewers), target, case_no)
            audit.version = 1 + sum(1 for e in audit.events if type(e).__name__ != "AuditAllocated")
            docs.append(audit_store.to_document(audit))
            drafts += [
                {"audit_id": audit.id, "stage": e.stage, "number": e.number, "work": _jsonable(e.work), "by": e.by, "at": e.at}
                for e in audit.events if type(e).__name__ == "DraftSaved"
            ]
            tally.statuses[audit.status.value] += 1
            tally.tools[audit.form.tool_id] += 1
            if audit.status is maker.AuditStatus.COMPLETED and audit.grade_of_record is not None:
                tally.grades[audit.grade_of_record.value] += 1
            tally.moderated += audit.moderation is not None
            tally.escalated += bool(audit.moderation and audit.moderation.escalated)
        if index % 6 == 5:
            print(f"  audits: {month} done ({tally.audits + len(docs)} so far)", flush=True)
        if len(docs) >= BATCH or index == len(months) - 1:
            tally.audits += await _insert(db, audit_store.AUDITS, docs)
            tally.drafts += await _insert(db, audit_store.DRAFTS, drafts) if drafts else 0
            docs, drafts = [], []
    tally.dispensations = await _insert(db, cycle_store.DISPENSATIONS, dispensations)
    return tally


def _jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)


# --- resolutions -------------------------------------------------------------------------------

THEMES = (
    "Care planning drift", "Permanence planning", "Contact arrangements", "Health assessments", "Education and PEP",
    "Placement stability", "Voice of the child", "Risk assessment", "Statutory visits", "Pathway planning",
    "Court timeliness", "Multi-agency working",
)
CLOSING_REASONS = ("Child's case closed", "Concern superseded by court decision", "Child moved out of area", "Owner left; concern re-raised", "No agreement possible")


@dataclass
class ResolutionTally:
    forms: int = 0
    history: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)


async def generate_resolutions(db: AsyncDatabase[Any], rng: random.Random, first: date, last: date, total: int, teams: list[Team], today: datetime) -> ResolutionTally:
    from resolution import documents, store
    from resolution.domain import NextStep, PersonRef, ResolutionForm, Stage, StageDates, Theme
    from resolution.domain.closing_reasons import ClosingReason
    from resolution.domain.values import CaseSnapshot

    created = _at(first - timedelta(days=30))
    themes = [Theme.create(name, f"{name} (bench)", by=QA, roles=frozenset({"qa_officer"}), at=created) for name in THEMES]
    reasons = [ClosingReason.create(name, "", by=QA, roles=frozenset({"qa_officer"}), at=created) for name in CLOSING_REASONS]
    await _insert(db, store.THEMES, [documents.theme_document(t) for t in themes])
    await _insert(db, store.CLOSING_REASONS, [documents.theme_document(r) for r in reasons])
    owners = [(f"BP-IRO-{i:03d}", "iro") for i in range(1, 41)] + [(f"BP-CPC-{i:03d}", "cp_chair") for i in range(1, 16)] + [(f"BP-FGC-{i:03d}", "fgc_coordinator") for i in range(1, 6)]
    span = (last - first).days
    tally = ResolutionTally()
    forms: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    raised_days = sorted(rng.randint(0, span) for _ in range(total))
    for n, offset in enumerate(raised_days, start=1):
        team = rng.choice(teams)
        owner, role = rng.choice(owners)
        worker = f"BP-SW-{team.team_id}"
        raised = _at(first + timedelta(days=offset), rng.randint(9, 16), rng.randint(0, 59))
        case = CaseSnapshot(f"BC-R{n:06d}", rng.choice(["CP", "CIC", "CIN"]), "open", team.team_id, worker, team.manager_id)
        chosen = rng.sample(themes, rng.choice([1, 1, 1, 2, 2, 3]))
        form = ResolutionForm.raise_form(
            f"RF-{raised:%Y%m%d}-{n:05d}", case=case, by=owner, roles=frozenset({role}), at=raised,
            concerns=[(t, f"Concern about {t.name.lower()} for this child.") for t in chosen],
        )
        clock = raised

        def later(days_lo: int, days_hi: int) -> datetime | None:
            nonlocal clock
            step = clock + timedelta(days=rng.randint(days_lo, days_hi), hours=rng.randint(0, 5))
            if step >= today:
                return None
            clock = step
            return step

        stage, finished = Stage.INFORMAL, False
        while not finished:
            at = later(1, 4)
            if at is None:
                break
            record = form.stage(stage)
            due = add_days(at.date(), 10)
            form.record_stage_dates(stage, StageDates(raised_on=record.dates.raised_on, response_due_on=max(due, record.dates.raised_on or due)), by=owner, at=at)
            if not stage.recorded_by_owner and rng.random() < 0.6:
                delegate = worker if stage is Stage.INFORMAL else f"BP-{stage.value.upper()}-{team.district.replace(' ', '')}"
                roles = frozenset(stage.responder_roles)
                form.delegate_section(stage, PersonRef(delegate, roles), by=owner, at=at)
                at = later(1, 15)
                if at is None:
                    break
                form.save_section(stage, "Response: the plan is being reviewed and will be updated.", by=delegate, at=at)
                form.finalise_section(stage, by=delegate, at=at)
            else:
                at = later(1, 10)
                if at is None:
                    break
                form.save_section(stage, "Response recorded by the owner after discussion.", by=owner, at=at)
                form.finalise_section(stage, by=owner, at=at)
            received = at.date()
            form.record_stage_dates(stage, StageDates(raised_on=form.stage(stage).dates.raised_on, response_due_on=form.stage(stage).dates.response_due_on,
                                                      response_received_on=received), by=owner, at=at)
            at = later(0, 7)
            if at is None:
                break
            r = rng.random()
            if r < 0.62 or stage is Stage.STAGE_3 and r < 0.8:
                form.record_resolution(stage, resolved=True, by=owner, at=at, impact="The plan was updated; the child's needs are now met.")
                finished = True
            elif r < 0.85 and stage is not Stage.STAGE_3:
                form.record_resolution(stage, resolved=False, by=owner, at=at, next_step=NextStep.ESCALATE)
                stage = stage.next() or stage
            else:
                form.record_resolution(stage, resolved=False, by=owner, at=at, next_step=NextStep.CLOSE_UNRESOLVED, closing_reason=rng.choice(reasons),
                                       close_reason="Closed after discussion.")
                finished = True
        forms.append(documents.form_document(form))
        history += [store._history_doc(form.id, e) for e in form.history]
        form.history = []
        tally.statuses[form.status.value] += 1
        tally.stages[form.current_stage.value] += 1
        if len(forms) >= BATCH:
            tally.forms += await _insert(db, store.FORMS, forms)
            tally.history += await _insert(db, store.FORM_HISTORY, history)
            forms, history = [], []
    if forms:
        tally.forms += await _insert(db, store.FORMS, forms)
        tally.history += await _insert(db, store.FORM_HISTORY, history)
    return tally


def add_days(day: date, working: int) -> date:
    from shared.calendar import add_working_days

    return add_working_days(day, working)


# --- exemplars ---------------------------------------------------------------------------------

TYPE_WEIGHTS = (("REFERR", 30), ("INIASS", 30), ("COREAS", 15), ("STRATD", 15), ("S47OUT", 10))


@dataclass
class ExemplarTally:
    exemplars: int = 0
    chronology: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    types: Counter[str] = field(default_factory=Counter)


def _answers(exemplar_type: Any, start: date) -> dict[str, Any]:
    from signoff.domain.types import QuestionKind

    out: dict[str, Any] = {}
    for q in exemplar_type.questions:
        if not q.mandatory and q.id != exemplar_type.start_question_id:
            continue
        if q.kind is QuestionKind.DATE:
            out[q.id] = start.isoformat()
        elif q.kind is QuestionKind.YES_NO:
            out[q.id] = True
        elif q.kind is QuestionKind.CHOICE:
            out[q.id] = q.options[0]
        else:
            out[q.id] = "Recorded: see the case file."
    return out


async def generate_exemplars(db: AsyncDatabase[Any], rng: random.Random, first: date, last: date, total: int, teams: list[Team], today: datetime) -> ExemplarTally:
    from shared.calendar import add_working_days
    from signoff import store
    from signoff.domain import chronology
    from signoff.domain.access import Actor, CaseView, Relation
    from signoff.domain.catalogue import SEED_TYPES
    from signoff.domain.exemplar import Exemplar

    types = {t.code: t for t in SEED_TYPES}
    all_codes = frozenset(types)
    span = (last - first).days
    tally = ExemplarTally()
    docs: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    starts = sorted(rng.randint(0, span) for _ in range(total))
    for n, offset in enumerate(starts, start=1):
        code = _weighted(rng, TYPE_WEIGHTS)
        exemplar_type = types[code]
        team = rng.choice(teams)
        start = first + timedelta(days=offset)
        created = _at(start, rng.randint(9, 16), rng.randint(0, 59))
        case = CaseView(f"BC-S{n:06d}", team.team_id, allocated_worker_id=f"BP-SW-{team.team_id}", team_manager_id=team.manager_id)
        worker = Actor(f"BP-SW-{team.team_id}", frozenset(exemplar_type.first_signers), Relation.MEMBER)
        senior = Actor(team.manager_id, frozenset(exemplar_type.counter_signers), Relation.MANAGER)
        answers = _answers(exemplar_type, start)
        x = Exemplar.start(f"EX-{start:%Y%m%d}-{n:05d}", case, exemplar_type, worker, {}, created)
        x.save_answers(worker, answers, created + timedelta(minutes=20))
        timescale = exemplar_type.timescale_working_days or 5
        r = rng.random()
        kind = "draft" if r < 0.04 else "first_signed" if r < 0.09 else "late" if r < 0.30 else "unlocked" if r < 0.33 else "on_time"
        due = add_working_days(start, timescale)
        signed_day = add_working_days(start, rng.randint(0, timescale)) if kind in ("on_time", "unlocked") else add_working_days(due, rng.randint(1, 15))
        first_at = _at(max(start, signed_day - timedelta(days=1)), 11)
        counter_at = _at(signed_day, 15)
        if kind != "draft" and first_at < today:
            x.first_sign(worker, max(first_at, created + timedelta(hours=1)))
            if kind != "first_signed" and counter_at < today:
                x.counter_sign(senior, max(counter_at, created + timedelta(hours=2)), comments="Agreed.", counter_signed_on_case=all_codes)
                if kind == "unlocked":
                    again = counter_at + timedelta(days=rng.randint(2, 20))
                    if again < today:
                        x.unlock(worker, again, "A date was recorded wrongly.")
                        x.save_answers(worker, {q: v for q, v in answers.items() if q == exemplar_type.start_question_id}, again + timedelta(minutes=5))
                        resign = again + timedelta(days=rng.randint(0, 5))
                        if resign < today and rng.random() < 0.7:
                            x.first_sign(worker, resign)
                            x.counter_sign(senior, resign + timedelta(hours=2), comments="Agreed again.", counter_signed_on_case=all_codes)
        revision = 1 + len(x.events)
        docs.append(store.to_document(x, revision))
        entries += [store._entry_doc(e) for e in chronology.entries_for(x.events)]
        x.events.clear()
        tally.kinds[kind] += 1
        tally.types[code] += 1
        if len(docs) >= BATCH:
            tally.exemplars += await _insert(db, store.EXEMPLARS, docs)
            tally.chronology += await _insert(db, store.CHRONOLOGY, entries)
            docs, entries = [], []
    if docs:
        tally.exemplars += await _insert(db, store.EXEMPLARS, docs)
        tally.chronology += await _insert(db, store.CHRONOLOGY, entries)
    return tally


# --- the calls ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    service: str
    label: str
    path: str
    params: dict[str, str]


def calls(months: list[str], teams: list[Team], first: date, last: date) -> list[Call]:
    last_month, year_before = months[-1], months[-12]
    quarter = _quarter_of(months[-2])
    whole_year = next(y for y in sorted({m[:4] for m in months}) if all(f"{y}-{i:02d}" in months for i in range(1, 13)))
    mid = months[len(months) // 2]
    three_years = {"from": first.isoformat(), "to": last.isoformat()}
    year = {"from": (_month_start(year_before)).isoformat(), "to": last.isoformat()}
    month = {"from": _month_start(last_month).isoformat(), "to": _month_end(last_month).isoformat()}
    audit = "/v1/reports"
    out = [
        Call("audit", f"completion {last_month} by area", f"{audit}/completion", {"month": last_month, "by": "area"}),
        Call("audit", f"completion {last_month} by district", f"{audit}/completion", {"month": last_month, "by": "district"}),
        Call("audit", f"completion {last_month} by team", f"{audit}/completion", {"month": last_month, "by": "team"}),
        Call("audit", f"completion {mid} by team, Kent tool", f"{audit}/completion", {"month": mid, "by": "team", "tool_id": "kent-online-peer-review"}),
        Call("audit", f"grades {last_month}", f"{audit}/grades", {"period": last_month}),
        Call("audit", f"grades {quarter}", f"{audit}/grades", {"period": quarter}),
        Call("audit", f"trend 12 months {year_before}..{last_month}", f"{audit}/trend", {"from": year_before, "to": last_month}),
        Call("audit", f"trend {len(months)} months {months[0]}..{last_month}", f"{audit}/trend", {"from": months[0], "to": last_month}),
        Call("audit", f"agreement {last_month} by team", f"{audit}/moderation-agreement", {"period": last_month, "by": "team"}),
        Call("audit", f"agreement {quarter} by team", f"{audit}/moderation-agreement", {"period": quarter, "by": "team"}),
        Call("audit", f"agreement {whole_year} by team", f"{audit}/moderation-agreement", {"period": whole_year, "by": "team"}),
        Call("audit", f"agreement {whole_year} by pair (auditor/peer reviewer)", f"{audit}/moderation-agreement", {"period": whole_year, "by": "pair"}),
        Call("audit", f"agreement {whole_year} by sub-section", f"{audit}/moderation-agreement", {"period": whole_year, "by": "sub_section"}),
        Call("audit", f"agreement {whole_year} by month, linear", f"{audit}/moderation-agreement", {"period": whole_year, "by": "month", "weights": "linear"}),
        Call("audit", f"agreement {whole_year} by quarter, item overall", f"{audit}/moderation-agreement", {"period": whole_year, "by": "quarter", "item": "overall"}),
        Call("audit", f"team review {teams[0].team_id} to {last_month}", f"{audit}/team-review", {"team_id": teams[0].team_id, "to": last_month}),
    ]
    for group in ("theme", "stage", "team", "role", "month", "closing-reason"):
        out.append(Call("resolution", f"resolutions 3 years by {group}", "/v1/reports/resolutions", {**three_years, "group_by": group}))
    out += [
        Call("resolution", "resolutions 1 year by theme", "/v1/reports/resolutions", {**year, "group_by": "theme"}),
        Call("resolution", "resolutions 1 month by theme", "/v1/reports/resolutions", {**month, "group_by": "theme"}),
        Call("resolution", "durations 1 month", "/v1/reports/durations", month),
        Call("resolution", "durations 1 year", "/v1/reports/durations", year),
        Call("resolution", "durations 3 years", "/v1/reports/durations", three_years),
        Call("resolution", "impact 3 years, first page", "/v1/reports/impact", three_years),
        Call("resolution", "impact 1 month, first page", "/v1/reports/impact", month),
        Call("signoff", "timeliness 1 month", "/v1/reports/timeliness", month),
        Call("signoff", "timeliness 1 year", "/v1/reports/timeliness", year),
        Call("signoff", "timeliness 3 years", "/v1/reports/timeliness", three_years),
        Call("signoff", "timeliness 3 years, type INIASS", "/v1/reports/timeliness", {**three_years, "type": "INIASS"}),
    ]
    return out


def _quarter_of(month: str) -> str:
    year, number = month.split("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _cpu_ms(pid: int | None) -> float | None:
    """The CPU time a process has used so far (user and system, ms; Linux's /proc), else None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


async def _time(
    http: httpx.AsyncClient, url: str, call: Call, headers: Callable[[], dict[str, str]], repeat: int, warmup: int, budget: float, pid: int | None = None,
) -> dict[str, Any]:
    async def once() -> tuple[float, httpx.Response]:
        started = time.perf_counter()
        resp = await http.get(url + call.path, params=call.params, headers=headers())
        return time.perf_counter() - started, resp

    for _ in range(warmup):
        _, resp = await once()
        if resp.status_code != 200:
            raise SystemExit(f"{call.service} {call.path} {call.params}: {resp.status_code} {resp.text[:500]}")
    times: list[float] = []
    spent = 0.0
    size = 0
    cpu_before = _cpu_ms(pid)
    while len(times) < repeat and (len(times) < 3 or spent < budget):
        elapsed, resp = await once()
        resp.raise_for_status()
        size = len(resp.content)
        times.append(elapsed)
        spent += elapsed
    cpu_after = _cpu_ms(pid)
    ms = [t * 1000 for t in times]
    # The service process's CPU per timed call (its background loops in that window included): a
    # figure that the machine's other load moves far less than the times.
    cpu = round((cpu_after - cpu_before) / len(ms), 1) if cpu_before is not None and cpu_after is not None else None
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(_pct(ms, 0.95), 2), "min_ms": round(min(ms), 2),
            "max_ms": round(max(ms), 2), "bytes": size, "service_cpu_ms": cpu}


# --- explain -----------------------------------------------------------------------------------

#: Fields of a recorded command that an ``explain`` of it does not take.
_DROP = {"lsid", "txnNumber", "autocommit", "startTransaction", "$clusterTime", "$db", "$readPreference", "readConcern", "writeConcern",
         "maxTimeMS", "comment", "apiVersion", "apiStrict", "apiDeprecationErrors"}


#: Collections the services' background loops read while a report runs (left out of its commands).
BACKGROUND = frozenset({"outbox"})


def _stages(plan: dict[str, Any] | None) -> list[str]:
    """The plan's stages, outermost first (``FETCH<IXSCAN month_1_team_id_1``)."""
    out = []
    while plan:
        name = plan.get("stage", "?")
        if name == "IXSCAN" and plan.get("indexName"):
            name = f"IXSCAN {plan['indexName']}"
        out.append(name)
        plan = plan.get("inputStage") or (plan.get("inputStages") or [None])[0]
    return out


def _plan_of(explained: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    if "queryPlanner" in explained:
        return _stages(explained["queryPlanner"].get("winningPlan")), explained.get("executionStats") or {}
    for stage in explained.get("stages") or []:
        cursor = stage.get("$cursor")
        if cursor:
            return _stages(cursor.get("queryPlanner", {}).get("winningPlan")), cursor.get("executionStats") or {}
    return [], {}


async def _explain(db: AsyncDatabase[Any], command: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in command.items() if k not in _DROP}
    if "aggregate" in body:
        body["cursor"] = {}
    try:
        explained = await db.command({"explain": body, "verbosity": "executionStats"})
    except Exception as exc:  # say what the store answered rather than stop the run
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    stages, stats = _plan_of(explained)
    return {"stages": stages, "collscan": any(s.startswith("COLLSCAN") for s in stages),
            "keys_examined": stats.get("totalKeysExamined"), "docs_examined": stats.get("totalDocsExamined"), "returned": stats.get("nReturned")}


def _summary(command: dict[str, Any]) -> str:
    verb = next(iter(command))
    text = json.dumps({k: v for k, v in command.items() if k not in _DROP}, default=str, separators=(",", ":"))
    return f"{verb}: {text[:220]}{'...' if len(text) > 220 else ''}"


async def explain_call(http: httpx.AsyncClient, url: str, call: Call, headers: dict[str, str], db: AsyncDatabase[Any]) -> dict[str, Any]:
    """Profile one call of ``call`` (every command on its service's database) and explain each read."""
    last = await db["system.profile"].find({}, {"_id": 1}).sort("_id", -1).limit(1).to_list()
    since = last[0]["_id"] if last else ObjectId("000000000000000000000000")
    resp = await http.get(url + call.path, params=call.params, headers=headers)
    resp.raise_for_status()
    recorded = await db["system.profile"].find({"_id": {"$gt": since}}).sort("_id", 1).to_list()
    commands, background = [], []
    for entry in recorded:
        ns, command = str(entry.get("ns", "")), entry.get("command") or {}
        collection = ns.split(".", 1)[1] if "." in ns else ""
        if collection.startswith("system.") or not command:
            continue
        verb = next(iter(command))
        item: dict[str, Any] = {"collection": collection, "op": verb, "millis": entry.get("millis"), "command": _summary(command)}
        if collection in BACKGROUND:
            background.append(item)  # the service's own loops (the outbox relay's poll), not the report
            continue
        if verb in ("find", "aggregate", "count", "distinct"):
            item["explain"] = await _explain(db, command)
        commands.append(item)
    # The explains ran on the profiled database too: the next call's window starts after them.
    return {"commands": commands, "background": background, "collscan": any(c.get("explain", {}).get("collscan") for c in commands)}


# --- the run -----------------------------------------------------------------------------------


async def floor(db: AsyncDatabase[Any], collection: str, ids: list[str], repeat: int = 200) -> dict[str, Any]:
    """One indexed ``find_one`` (by ``_id``) at a time, for scale: not a floor the issue sets."""
    for i in range(20):
        await db[collection].find_one({"_id": ids[i % len(ids)]})
    times = []
    for i in range(repeat):
        started = time.perf_counter()
        await db[collection].find_one({"_id": ids[i % len(ids)]})
        times.append((time.perf_counter() - started) * 1000)
    return {"what": f"one find_one by _id on {collection} (indexed)", "n": repeat, "p50_ms": round(statistics.median(times), 3), "p95_ms": round(_pct(times, 0.95), 3)}


#: Each service's read-model rebuild, ``async def rebuild(db) -> int`` (the documents it read).
REBUILDS = {
    "audit": "audit.reporting.readmodels",
    "resolution": "resolution.readmodels",
    "signoff": "signoff.readmodels",
}


async def rebuild(dbs: dict[str, AsyncDatabase[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for service, module_name in REBUILDS.items():
        function = importlib.import_module(module_name).rebuild
        started = time.perf_counter()
        result = await function(dbs[service])
        out[service] = {"module": module_name, "result": result, "s": round(time.perf_counter() - started, 2)}
    return out


@dataclass(frozen=True)
class Options:
    audits: int
    teams: int
    peer_reviewers: int
    resolutions: int
    exemplars: int
    months: int
    to: str
    seed: int
    repeat: int
    warmup: int
    budget: float
    rebuild: bool
    explain: bool
    #: Only the calls whose "<service> <label>" holds one of these (all when empty).
    only: tuple[str, ...] = ()


async def measure(system: Running, opts: Options) -> dict[str, Any]:
    from shared.identity import Identity, sign_identity

    namespace = system.stack.namespace
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongodb_url)
    dbs = {s: client[f"{namespace}_{s}"] for s in ("audit", "resolution", "signoff")}
    rng = random.Random(opts.seed)
    months = months_ending(opts.to, opts.months)
    first, last = _month_start(months[0]), _month_end(months[-1])
    teams, peer_reviewers = authority(opts.teams, opts.peer_reviewers)
    # "Today" for the data: the end of the last month (what is still open is open at that point).
    today = _at(last + timedelta(days=1), 0)
    try:
        started = time.perf_counter()
        audits = await generate_audits(dbs["audit"], rng, months, opts.audits, teams, peer_reviewers)
        audits_s = time.perf_counter() - started
        print(f"audits generated in {audits_s:.1f} s", flush=True)
        resolutions = await generate_resolutions(dbs["resolution"], random.Random(opts.seed + 1), first, last, opts.resolutions, teams, today)
        resolutions_s = time.perf_counter() - started - audits_s
        exemplars = await generate_exemplars(dbs["signoff"], random.Random(opts.seed + 2), first, last, opts.exemplars, teams, today)
        generated_s = time.perf_counter() - started
        data = {
            "months": [months[0], months[-1]], "teams": len(teams), "areas": len(AREAS), "districts": len(AREAS) * DISTRICTS_PER_AREA,
            "peer_reviewers": len(peer_reviewers),
            "audits": {"documents": audits.audits, "drafts": audits.drafts, "dispensations": audits.dispensations, "statuses": dict(audits.statuses),
                       "tools": dict(audits.tools), "grades": dict(audits.grades), "moderated": audits.moderated, "escalated": audits.escalated},
            "resolutions": {"forms": resolutions.forms, "history": resolutions.history, "statuses": dict(resolutions.statuses), "stages": dict(resolutions.stages)},
            "exemplars": {"documents": exemplars.exemplars, "chronology": exemplars.chronology, "kinds": dict(exemplars.kinds), "types": dict(exemplars.types)},
            "generate_s": {"audits": round(audits_s, 1), "resolutions": round(resolutions_s, 1), "exemplars": round(generated_s - audits_s - resolutions_s, 1),
                           "total": round(generated_s, 1)},
        }
        print(f"generated in {generated_s:.1f} s: {json.dumps(data, default=str)}", flush=True)
        rebuilt = await rebuild(dbs) if opts.rebuild else None
        if rebuilt:
            print(f"rebuilt: {rebuilt}", flush=True)
        identity = Identity(person_id=READER["person_id"], name=READER["name"], roles=frozenset(READER["roles"]), teams=frozenset(READER["teams"]))
        key = system.stack.signing_key.encode()

        def headers() -> dict[str, str]:
            return {"X-QA-Identity": sign_identity(identity, key)}

        chosen = [c for c in calls(months, teams, first, last) if not opts.only or any(w in f"{c.service} {c.label}" for w in opts.only)]
        results = []
        checkpoint = RESULTS / f"reports-partial-{namespace}.json"
        async with httpx.AsyncClient(timeout=600) as http:
            for call in chosen:
                row: dict[str, Any] = {"service": call.service, "report": call.label, "path": call.path, "params": call.params}
                if opts.repeat > 0:
                    process = system.stack.services[call.service].process
                    pid = process.pid if process is not None else None
                    timed = await _time(http, system.stack.url(call.service), call, headers, opts.repeat, opts.warmup, opts.budget, pid)
                    row.update(timed)
                    print(f"{call.service:10} {call.label:55} p50 {timed['p50_ms']:9.1f} ms  p95 {timed['p95_ms']:9.1f} ms  (n={timed['n']})"
                          f"  service CPU {timed['service_cpu_ms']} ms a call", flush=True)
                results.append(row)
                # What is measured so far survives a failure further on.
                RESULTS.mkdir(parents=True, exist_ok=True)
                checkpoint.write_text(json.dumps({"data": data, "rebuild": rebuilt, "reports": results}, indent=2, default=str) + "\n")
            explained_note = None
            if opts.explain:
                # A fresh client: the first one's connections sat idle through the timings (the server may have closed them).
                profiler: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongodb_url)
                pdbs = {s: profiler[f"{namespace}_{s}"] for s in dbs}
                try:
                    for db in pdbs.values():
                        await db.command({"profile": 2, "slowms": 0})
                    for row, call in zip(results, chosen, strict=True):
                        row["profile"] = await explain_call(http, system.stack.url(call.service), call, headers(), pdbs[call.service])
                        print(f"explained: {call.service} {call.label}: {_plan_line(row['profile'])}", flush=True)
                finally:
                    for db in pdbs.values():
                        await db.command({"profile": 0})
                    await profiler.close()
                explained_note = ("SecantusDB's profiler (profile 2, slowms 0) records each command (ns, command, millis) in system.profile, "
                                  "without plan details; every find/aggregate/count/distinct it recorded was explained (executionStats).")
        checkpoint.unlink(missing_ok=True)
        fresh: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongodb_url)
        try:
            scale = await floor(fresh[f"{namespace}_audit"], "audits", [f"BA-{months[-1]}-{i:04d}" for i in range(1, 51)])
        finally:
            await fresh.close()
        return {"data": data, "rebuild": rebuilt, "reports": results, "find_one_for_scale": scale, "explain_note": explained_note}
    finally:
        await client.close()


def run(opts: Options) -> dict[str, Any]:
    with running(["audit", "resolution", "signoff", "gateway"], "reports") as system:
        figures = asyncio.run(measure(system, opts))
        embedded = system.embedded
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "cpu": cpu(), "python": platform.python_version(), "load_avg": [round(x, 2) for x in os.getloadavg()]},
        "mongodb": "embedded SecantusDB" if embedded else "MONGODB_URL",
        "options": opts.__dict__,
        "read_models": "rebuilt" if opts.rebuild else "none (--no-rebuild: the reports as they read today)",
        "target_p50_ms": TARGET_P50_MS,
        **figures,
    }


def _plan_line(profile: dict[str, Any]) -> str:
    parts = []
    for c in profile["commands"]:
        e = c.get("explain")
        if e is None:
            parts.append(f"{c['collection']}.{c['op']}")
        elif "error" in e:
            parts.append(f"{c['collection']}.{c['op']}: explain failed ({e['error'][:80]})")
        else:
            parts.append(f"{c['collection']}.{c['op']} {'<'.join(e['stages'])} docs={e['docs_examined']}")
    return f"{len(profile['commands'])} cmds; " + "; ".join(parts) + ("  COLLSCAN!" if profile["collscan"] else "")


def table(result: dict[str, Any]) -> str:
    lines = [f"{'service':10} {'report':55} {'p50 ms':>9} {'p95 ms':>9} {'n':>3} {'cpu ms':>7}  plan"]
    for row in result["reports"]:
        plan = _plan_line(row["profile"]) if row.get("profile") else ""
        if "p50_ms" not in row:
            lines.append(f"{row['service']:10} {row['report']:55} {'-':>9} {'-':>9} {0:3} {'-':>7}  {plan}")
            continue
        flag = "" if row["p50_ms"] <= TARGET_P50_MS else " *"
        cpu = "-" if row.get("service_cpu_ms") is None else f"{row['service_cpu_ms']:.1f}"
        lines.append(f"{row['service']:10} {row['report']:55} {row['p50_ms']:9.1f} {row['p95_ms']:9.1f} {row['n']:3} {cpu:>7}{flag} {plan}")
    scale = result["find_one_for_scale"]
    timed = [r for r in result["reports"] if "p50_ms" in r]
    over = sum(r["p50_ms"] > TARGET_P50_MS for r in timed)
    collscans = sum(bool((r.get("profile") or {}).get("collscan")) for r in result["reports"])
    lines += [
        (f"* p50 above the issue's {TARGET_P50_MS:.0f} ms: {over} of {len(timed)}" if timed else "(not timed: --repeat 0)")
        + f"; calls with a COLLSCAN: {collscans}" + ("" if any(r.get("profile") for r in result["reports"]) else " (not explained)"),
        f"for scale (not a floor): {scale['what']}: p50 {scale['p50_ms']} ms, p95 {scale['p95_ms']} ms",
        f"read models: {result['read_models']}" + (f" {result['rebuild']}" if result.get("rebuild") else ""),
        f"machine: {result['machine']}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--audits", type=int, default=20400, help="audits over the months (default 20,400)")
    parser.add_argument("--teams", type=int, default=600, help="teams, each with its manager as auditor (default 600)")
    parser.add_argument("--peer-reviewers", type=int, default=300, help="peer reviewers (default 300)")
    parser.add_argument("--resolutions", type=int, default=6000, help="resolution forms (default 6,000)")
    parser.add_argument("--exemplars", type=int, default=10000, help="sign-off exemplars (default 10,000)")
    parser.add_argument("--months", type=int, default=36, help="months of data (default 36)")
    parser.add_argument("--to", default="2026-11", help="the last month of data (default 2026-11)")
    parser.add_argument("--seed", type=int, default=20, help="the data's random seed (default 20)")
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per report and parameters (default 20; 0: explain only)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first (default 2)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds one report may take in all; at least 3 calls (default 60)")
    parser.add_argument("--no-rebuild", action="store_true", help="do not call the read models' rebuild (the reports as they read today)")
    parser.add_argument("--no-explain", action="store_true", help="skip profiling and explaining each call")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="only the reports whose '<service> <label>' contains TEXT (repeatable; default: every report)")
    args = parser.parse_args()
    opts = Options(
        audits=args.audits, teams=args.teams, peer_reviewers=args.peer_reviewers, resolutions=args.resolutions, exemplars=args.exemplars,
        months=args.months, to=args.to, seed=args.seed, repeat=args.repeat, warmup=args.warmup, budget=args.budget,
        rebuild=not args.no_rebuild, explain=not args.no_explain, only=tuple(args.only),
    )
    result = run(opts)
    print(table(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"reports-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}{'-before' if not opts.rebuild else ''}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()

"""Hillingdon's single-agency audit round (seed 002, Appendix D "Single Agency Audit", and 5.2.1).

"The case list is drawn up by the QA Team and three cases are allocated to a Service manager and
Team Manager using a bespoke audit tool. Each are assigned cases within their own area of expertise
and knowledge." "The managers are given Two months to complete the audits." "The QA team will also
review a sample of cases that have been graded "good" or above." "The Team Manager will
subsequently complete an overview of all the findings of all the audits of cases within the team,
report this to the Service Manager". 5.2.1: peer audits are "completed by Team Managers, Service
Managers, Independent Reviewing Officers, Child Protection Chairs and Assistant Directors".

One round is one team's month: QA staff draw up the case list (three of the team's cases for each
peer auditor, each of a type within the auditor's area of expertise); each case's audit runs on the
audit engine with the Hillingdon tool, due two months on; QA staff review a sample of the round's
audits graded good or outstanding; the team's manager writes the overview of the findings once
every audit of the round is complete and reports it to the service manager above them. Every saved
overview and every QA review is kept. The random monthly draw is not used: it is Kent's.

Plain values: the API's request bodies (``hillingdon.schemas``) hold their limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from audit.common.errors import InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade
from audit.cycles.domain.timetable import Month, audit_due_on

from ...common.roles import QA_STAFF_ROLES, Role
from .events import Happened

#: "three cases are allocated to a Service manager and Team Manager".
CASES_EACH = 3
#: 5.2.1: who completes peer audits.
PEER_AUDITOR_ROLES = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER, Role.IRO, Role.CP_CHAIR, Role.ASSISTANT_DIRECTOR})
#: Appendix D: the managers the round must include.
REQUIRED_AUDITOR_ROLES = (Role.SERVICE_MANAGER, Role.TEAM_MANAGER)
#: The areas of expertise a case is assigned by (the case types of the Hillingdon tool's sections).
AREAS = ("CIN", "CP", "CIC")
#: "a sample of cases that have been graded "good" or above".
GOOD_OR_ABOVE = frozenset({Grade.OUTSTANDING, Grade.GOOD})
#: "The managers are given Two months to complete the audits".
MONTHS_GIVEN = 2

ALLOCATED = "allocated"
SAMPLED = "sampled"
SAMPLE_REVIEWED = "sample_reviewed"
OVERVIEW_SAVED = "overview_saved"
OVERVIEW_REPORTED = "overview_reported"


def round_due_on(month: Month) -> date:
    """Two months: the round's month and the next; due at the end of the second (as a monthly
    audit is due at the end of its month)."""
    return audit_due_on(month.plus(MONTHS_GIVEN - 1))


class RoundStatus(StrEnum):
    #: The audits are with the peer auditors.
    ALLOCATED = "allocated"
    #: The team manager reported the overview to the service manager: closed.
    OVERVIEW_REPORTED = "overview_reported"


@dataclass(frozen=True)
class Auditor:
    """What the directory says of a person the QA team allocates cases to."""

    person_id: str
    roles: frozenset[str]
    active: bool = True


@dataclass(frozen=True)
class RoundCase:
    """What the directory says of a case on the list."""

    case_id: str
    team_id: str | None
    #: The type it is audited as (CP over CIC over CIN).
    case_type: str


@dataclass(frozen=True)
class AskedAllocation:
    """One auditor's allocation as the QA team asks for it, with what the directory says."""

    auditor_id: str
    area_of_expertise: list[str]
    case_ids: list[str]
    #: None: the directory does not know them.
    auditor: Auditor | None
    #: The cases the directory knows, by id.
    cases: dict[str, RoundCase]


@dataclass(frozen=True)
class AuditFacts:
    """What the round reads of one of its audits."""

    audit_id: str
    completed: bool
    grade: Grade | None


@dataclass
class Allocation:
    auditor_id: str
    #: The case types within the auditor's area of expertise and knowledge.
    area_of_expertise: list[str]
    case_ids: list[str]
    #: The audit of each case, in the order of ``case_ids``.
    audit_ids: list[str]


@dataclass
class SampledAudit:
    audit_id: str
    grade: Grade
    selected_by: str
    selected_at: datetime
    #: What the QA team found (kept as written once recorded).
    finding: str | None = None
    agrees_with_grade: bool | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


@dataclass
class OverviewVersion:
    number: int
    text: str
    by: str
    at: datetime


@dataclass
class SingleAgencyRound:
    id: str
    month: str
    team_id: str
    #: The team's manager: writes the overview.
    team_manager_id: str
    #: The service manager the overview is reported to (the first above the team manager).
    service_manager_id: str
    due_on: date
    allocations: list[Allocation]
    drawn_up_by: str
    created_at: datetime
    version: int = 0
    status: RoundStatus = RoundStatus.ALLOCATED
    qa_sample: list[SampledAudit] = field(default_factory=list)
    overview: str | None = None
    overview_history: list[OverviewVersion] = field(default_factory=list)
    overview_reported_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    events: list[Happened] = field(default_factory=list, repr=False, compare=False)

    # --- drawing up the case list ------------------------------------------------------------

    @classmethod
    def draw_up(
        cls,
        *,
        round_id: str,
        month: Month,
        team_id: str,
        team_manager_id: str | None,
        service_manager_id: str | None,
        asked: list[AskedAllocation],
        audit_ids: dict[str, str],
        by: str,
        roles: frozenset[str],
        at: datetime,
    ) -> SingleAgencyRound:
        """``asked``: each auditor's allocation with what the directory says of them and their cases;
        ``audit_ids``: the audit id given to each case."""
        if QA_STAFF_ROLES.isdisjoint(roles):
            raise NotAllowed("The case list is drawn up by the QA team.")
        errors: list[dict[str, str]] = []
        if team_manager_id is None:
            errors.append(
                {
                    "field": "team_id",
                    "message": "the directory names no manager for this team (they write the overview)",
                    "code": "unknown",
                }
            )
        elif service_manager_id is None:
            errors.append(
                {
                    "field": "team_id",
                    "message": "the directory names no service manager above the team's manager (the overview is reported to them)",
                    "code": "unknown",
                }
            )
        if not asked:
            errors.append({"field": "allocations", "message": "allocate cases to a service manager and a team manager"})
        seen_auditors: set[str] = set()
        seen_cases: set[str] = set()
        held: dict[str, set[str]] = {r.value: set() for r in REQUIRED_AUDITOR_ROLES}
        for n, a in enumerate(asked):
            where, auditor, auditor_id, area, case_ids = (
                f"allocations[{n}]",
                a.auditor,
                a.auditor_id,
                a.area_of_expertise,
                a.case_ids,
            )
            if auditor is None or not auditor.active:
                errors.append(
                    {
                        "field": f"{where}.auditor_id",
                        "message": f"{auditor_id!r} is not an active person in the directory",
                        "code": "unknown",
                    }
                )
            elif PEER_AUDITOR_ROLES.isdisjoint(auditor.roles):
                errors.append(
                    {
                        "field": f"{where}.auditor_id",
                        "message": "peer audits are completed by team managers, service managers, IROs, CP chairs and assistant directors",
                    }
                )
            else:
                for role in held.keys() & auditor.roles:
                    held[role].add(auditor_id)
            if auditor_id in seen_auditors:
                errors.append({"field": f"{where}.auditor_id", "message": "this auditor is allocated cases twice in the round"})
            seen_auditors.add(auditor_id)
            unknown_areas = sorted(set(area) - set(AREAS))
            if not area or unknown_areas:
                errors.append(
                    {
                        "field": f"{where}.area_of_expertise",
                        "message": f"give the auditor's area of expertise as case types of {', '.join(AREAS)}",
                    }
                )
            if len(case_ids) != CASES_EACH or len(set(case_ids)) != len(case_ids):
                errors.append(
                    {
                        "field": f"{where}.case_ids",
                        "message": f"three different cases are allocated to each auditor (given {len(set(case_ids))})",
                    }
                )
            for case_id in case_ids:
                case = a.cases.get(case_id)
                if case_id in seen_cases:
                    errors.append({"field": f"{where}.case_ids", "message": f"case {case_id!r} is on the list twice"})
                seen_cases.add(case_id)
                if case is None:
                    errors.append(
                        {
                            "field": f"{where}.case_ids",
                            "message": f"the directory has not told the audit service of case {case_id!r}",
                            "code": "unknown",
                        }
                    )
                    continue
                if case.team_id != team_id:
                    errors.append({"field": f"{where}.case_ids", "message": f"case {case_id!r} is not one of the team's cases"})
                if area and not unknown_areas and case.case_type not in area:
                    errors.append(
                        {
                            "field": f"{where}.case_ids",
                            "message": f"case {case_id!r} ({case.case_type}) is outside the auditor's area of expertise ({', '.join(area)})",
                        }
                    )
        managers, team_managers = held[Role.SERVICE_MANAGER], held[Role.TEAM_MANAGER]
        if asked and not any(sm != tm for sm in managers for tm in team_managers):
            errors.append(
                {
                    "field": "allocations",
                    "message": "three cases are allocated to a service manager and to a team manager: name one of each",
                }
            )
        if errors:
            raise InvalidEntries("The round's case list cannot be allocated as asked.", errors)
        assert team_manager_id is not None and service_manager_id is not None
        round_ = cls(
            id=round_id,
            month=str(month),
            team_id=team_id,
            team_manager_id=team_manager_id,
            service_manager_id=service_manager_id,
            due_on=round_due_on(month),
            allocations=[
                Allocation(
                    auditor_id=a.auditor_id,
                    area_of_expertise=sorted(set(a.area_of_expertise)),
                    case_ids=list(a.case_ids),
                    audit_ids=[audit_ids[c] for c in a.case_ids],
                )
                for a in asked
            ],
            drawn_up_by=by,
            created_at=at,
            updated_by=by,
            updated_at=at,
        )
        round_.events.append(Happened(ALLOCATED, at, by))
        return round_

    # --- who sees what ---------------------------------------------------------------------------

    def audit_ids(self) -> list[str]:
        return [a for alloc in self.allocations for a in alloc.audit_ids]

    def viewers(self) -> list[str]:
        return sorted({self.team_manager_id, self.service_manager_id, *(a.auditor_id for a in self.allocations)})

    def visible_to(self, person_id: str, roles: frozenset[str] | set[str]) -> bool:
        return person_id in self.viewers() or not QA_STAFF_ROLES.isdisjoint(roles)

    # --- the QA team's sample of audits graded good or above ------------------------------------

    def select_qa_sample(self, *, by: str, roles: frozenset[str], audits: list[AuditFacts], at: datetime) -> None:
        """``audits``: the facts of the audits asked for (each must be one of the round's)."""
        if QA_STAFF_ROLES.isdisjoint(roles):
            raise NotAllowed("The QA team reviews the sample of cases graded good or above.")
        if not audits:
            raise InvalidEntries(
                "Name the audits of the sample.", [{"field": "audit_ids", "message": "at least one audit graded good or above"}]
            )
        ours, sampled = set(self.audit_ids()), {s.audit_id for s in self.qa_sample}
        errors = []
        for a in audits:
            if a.audit_id not in ours:
                errors.append(
                    {"field": "audit_ids", "message": f"audit {a.audit_id!r} is not one of the round's", "code": "unknown"}
                )
            elif a.audit_id in sampled:
                errors.append({"field": "audit_ids", "message": f"audit {a.audit_id!r} is in the sample already"})
            elif not a.completed or a.grade is None:
                errors.append(
                    {"field": "audit_ids", "message": f"audit {a.audit_id!r} is not complete: only graded audits are sampled"}
                )
            elif a.grade not in GOOD_OR_ABOVE:
                errors.append(
                    {
                        "field": "audit_ids",
                        "message": f"audit {a.audit_id!r} is graded {a.grade.label}: the sample is of cases graded good or above",
                    }
                )
        if len({a.audit_id for a in audits}) != len(audits):
            errors.append({"field": "audit_ids", "message": "an audit is named twice"})
        if errors:
            raise InvalidEntries("The sample is of the round's completed audits graded good or above.", errors)
        for a in audits:
            assert a.grade is not None
            self.qa_sample.append(SampledAudit(audit_id=a.audit_id, grade=a.grade, selected_by=by, selected_at=at))
        self._touch(by, at)
        self.events.append(Happened(SAMPLED, at, by))

    def review_sampled(
        self, *, audit_id: str, by: str, roles: frozenset[str], finding: str, agrees_with_grade: bool, at: datetime
    ) -> None:
        if QA_STAFF_ROLES.isdisjoint(roles):
            raise NotAllowed("The QA team reviews the sample of cases graded good or above.")
        sample = next((s for s in self.qa_sample if s.audit_id == audit_id), None)
        if sample is None:
            raise InvalidEntries(
                "Not in the sample.",
                [{"field": "audit_id", "message": f"audit {audit_id!r} is not in the round's QA sample", "code": "unknown"}],
            )
        if sample.reviewed_by is not None:
            raise WrongStage("The QA team reviewed this audit already; the review is kept as written.")
        if not finding.strip():
            raise InvalidEntries(
                "Say what the QA review found.", [{"field": "finding", "message": "what the QA team found of the audit"}]
            )
        sample.finding, sample.agrees_with_grade, sample.reviewed_by, sample.reviewed_at = (
            finding.strip(),
            agrees_with_grade,
            by,
            at,
        )
        self._touch(by, at)
        self.events.append(Happened(f"{SAMPLE_REVIEWED}/{audit_id}", at, by))

    # --- the team manager's overview, reported to the service manager ------------------------------

    def save_overview(self, *, by: str, text: str, audits: list[AuditFacts], at: datetime) -> None:
        """``audits``: the facts of every audit of the round."""
        self._still_open()
        if by != self.team_manager_id:
            raise NotAllowed("The team manager completes the overview of the findings of the team's audits.")
        open_ = sorted(a.audit_id for a in audits if not a.completed)
        if open_:
            raise WrongStage(
                f"The overview covers the findings of all the audits: {len(open_)} of the round's audits are not complete yet."
            )
        if not text.strip():
            raise InvalidEntries(
                "Write the overview.", [{"field": "overview", "message": "an overview of all the findings of all the audits"}]
            )
        self.overview = text.strip()
        self.overview_history.append(OverviewVersion(number=len(self.overview_history) + 1, text=self.overview, by=by, at=at))
        self._touch(by, at)
        self.events.append(Happened(OVERVIEW_SAVED, at, by))

    def report_overview(self, *, by: str, at: datetime) -> None:
        self._still_open()
        if by != self.team_manager_id:
            raise NotAllowed("The team manager reports the overview to the service manager.")
        if self.overview is None:
            raise WrongStage("Complete the overview of the findings before reporting it to the service manager.")
        self.status = RoundStatus.OVERVIEW_REPORTED
        self.overview_reported_at = at
        self._touch(by, at)
        self.events.append(Happened(OVERVIEW_REPORTED, at, by))

    def _still_open(self) -> None:
        if self.status is RoundStatus.OVERVIEW_REPORTED:
            raise WrongStage("The overview was reported to the service manager; it is kept as reported.")

    def _touch(self, by: str, at: datetime) -> None:
        self.updated_by, self.updated_at = by, at

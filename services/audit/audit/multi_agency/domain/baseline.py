"""The audit group's baseline audit (Hillingdon QAF Appendix E 3): "The audit group would set a
baseline for improvement and would complete an eight to ten case audit on children within a specific
area of the service, i.e. subject to child protection plans, children looked after etc. This would
enable the audit group to bench mark quality of practice and enable comparisons to be made in
subsequent audits".

A baseline holds eight to ten cases, each a multi-agency audit (``domain.audit``) on the one tool
of the baseline, with the audit group's lead auditors per agency. It is set up with its cases and
completed by the coordinator (the Business Development Manager) or the Lead QA Auditor once every
case has had its multi-agency meeting: the report then keeps the baseline's figures as they stood,
the benchmark later audits are compared with.

Plain Python: the aggregate checks the rules and changes its state; its version number is its ETag.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...common.errors import InvalidEntries, NotAllowed, WrongStage
from ...common.grades import Grade
from ...common.roles import QA_STAFF_ROLES
from .audit import CHAIR_ROLE, MEETING_GRADES, MultiAgencyAudit, Partner
from .errors import NoSuchCase

#: "an eight to ten case audit" (Appendix E 3).
FEWEST_CASES = 8
MOST_CASES = 10
#: The grades counted as good or better in the baseline's figures.
GOOD_OR_BETTER = (Grade.OUTSTANDING, Grade.GOOD)


def _error(field_name: str, message: str) -> dict[str, Any]:
    return {"field": field_name, "message": message}


def size_errors(cases: int, field_name: str = "cases") -> list[dict[str, Any]]:
    """The baseline's size rule: eight to ten cases, no fewer, no more."""
    if FEWEST_CASES <= cases <= MOST_CASES:
        return []
    return [_error(field_name, f"a baseline audit is an eight to ten case audit: {cases} case(s) given")]


@dataclass(frozen=True, kw_only=True)
class BaselineFigures:
    """The baseline's figures: counts only, no case, code or person."""

    cases: int
    meetings_held: int
    #: Agreed Ofsted grade -> cases (the meeting's grade); ``not_graded`` for cases without a meeting yet.
    by_grade: dict[str, int]
    good_or_better: int
    consultations_obtained: int
    consultations_not_obtained: int
    actions_total: int
    actions_done: int

    @property
    def good_or_better_percent(self) -> int | None:
        """Of the cases graded at their meeting (None while none is)."""
        return round(100 * self.good_or_better / self.meetings_held) if self.meetings_held else None


def figures_of(audits: list[MultiAgencyAudit]) -> BaselineFigures:
    grades: Counter[str] = Counter()
    for audit in audits:
        grades[audit.meeting.agreed_grade.value if audit.meeting else "not_graded"] += 1
    obtained = sum(1 for a in audits for c in a.consultations.values() if c.input.obtained)
    consulted = sum(len(a.consultations) for a in audits)
    actions = [x for a in audits if a.plan for x in a.plan.actions]
    return BaselineFigures(
        cases=len(audits),
        meetings_held=sum(1 for a in audits if a.meeting),
        by_grade={g.value: grades[g.value] for g in MEETING_GRADES if grades[g.value]} | ({"not_graded": grades["not_graded"]} if grades["not_graded"] else {}),
        good_or_better=sum(grades[g.value] for g in GOOD_OR_BETTER),
        consultations_obtained=obtained,
        consultations_not_obtained=consulted - obtained,
        actions_total=len(actions),
        actions_done=sum(1 for x in actions if x.done),
    )


@dataclass
class BaselineReport:
    """The baseline completed: its figures as they stood, and the key outcomes and learning."""

    summary: str
    figures: BaselineFigures
    by: str
    at: datetime
    pdf_id: str | None = None


@dataclass
class Withdrawal:
    """A case taken out of the baseline before its completion; its audit stays, as written."""

    audit_id: str
    reason: str
    by: str
    at: datetime


@dataclass
class Baseline:
    id: str
    theme: str
    #: The area of the service the children are in, e.g. child_protection_plan, looked_after.
    service_area: str
    coordinator_id: str
    #: The audit group: each agency's lead auditor, as named when the baseline was set up.
    partners: list[Partner]
    #: Its cases, each a multi-agency audit (by id, in the order given).
    audit_ids: list[str]
    #: Who audits each case (read with the audits; kept here for who may read the baseline).
    auditor_ids: list[str]
    created_by: str
    created_at: datetime
    version: int = 0
    #: The participation worker and QA officer who see the families, for cases added later too.
    consultation_worker_ids: list[str] = field(default_factory=list)
    #: Cases taken out before completion, oldest first.
    withdrawn: list[Withdrawal] = field(default_factory=list)
    report: BaselineReport | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def set_up(
        cls, *, baseline_id: str, theme: str, service_area: str, coordinator_id: str, partners: list[Partner], case_ids: list[str],
        audit_ids: list[str], auditor_ids: list[str], by: str, at: datetime, consultation_worker_ids: list[str] | None = None,
    ) -> Baseline:
        errors = size_errors(len(case_ids))
        for case_id in sorted({c for c in case_ids if case_ids.count(c) > 1}):
            errors.append(_error("cases", f"the case {case_id} is listed twice"))
        if not theme.strip():
            errors.append(_error("theme", "the baseline's theme (its key line of enquiry) is missing"))
        if not service_area.strip():
            errors.append(_error("service_area", "say which area of the service the children are in"))
        if errors:
            raise InvalidEntries("The baseline audit cannot be set up as asked.", errors)
        return cls(
            id=baseline_id, theme=theme.strip(), service_area=service_area.strip(), coordinator_id=coordinator_id, partners=list(partners),
            audit_ids=list(audit_ids), auditor_ids=sorted(set(auditor_ids)), created_by=by, created_at=at, updated_by=by, updated_at=at,
            consultation_worker_ids=sorted(set(consultation_worker_ids or [])),
        )

    @property
    def completed(self) -> bool:
        return self.report is not None

    def visible_to(self, person_id: str, roles: frozenset[str] | set[str]) -> bool:
        group = {self.coordinator_id, *self.auditor_ids, *(p.representative_id for p in self.partners)}
        return person_id in group or not QA_STAFF_ROLES.isdisjoint(roles)

    def _may_change_cases(self, by: str, by_roles: frozenset[str] | set[str]) -> None:
        if by != self.coordinator_id and QA_STAFF_ROLES.isdisjoint(by_roles):
            raise NotAllowed("The coordinator or QA staff add and withdraw the baseline's cases.")
        if self.report is not None:
            raise WrongStage("The baseline audit has been completed: its cases are settled.")

    def add_case(self, *, audit_id: str, auditor_id: str, by: str, by_roles: frozenset[str] | set[str], at: datetime) -> None:
        """A case added before completion, never an eleventh."""
        self._may_change_cases(by, by_roles)
        if len(self.audit_ids) >= MOST_CASES:
            raise WrongStage(f"The baseline holds {len(self.audit_ids)} cases already: a baseline audit is an eight to ten case audit.")
        self.audit_ids.append(audit_id)
        self.auditor_ids = sorted({*self.auditor_ids, auditor_id})
        self.updated_by, self.updated_at = by, at

    def withdraw_case(self, *, audit_id: str, reason: str, by: str, by_roles: frozenset[str] | set[str], at: datetime) -> Withdrawal:
        """A case taken out before completion (e.g. consent withdrawn); the baseline may then hold fewer than
        eight until another is added, and is not completed meanwhile."""
        self._may_change_cases(by, by_roles)
        if audit_id not in self.audit_ids:
            raise NoSuchCase(audit_id)
        if not reason.strip():
            raise InvalidEntries("Say why the case is withdrawn.", [_error("reason", "the reason for withdrawing the case is missing")])
        withdrawal = Withdrawal(audit_id=audit_id, reason=reason.strip(), by=by, at=at)
        self.audit_ids.remove(audit_id)
        self.withdrawn.append(withdrawal)
        self.updated_by, self.updated_at = by, at
        return withdrawal

    def complete(
        self, *, audits: list[MultiAgencyAudit], summary: str, by: str, by_roles: frozenset[str] | set[str], at: datetime, pdf_id: str | None = None,
    ) -> BaselineReport:
        """The coordinator or the Lead QA Auditor completes the baseline once it holds eight to ten cases,
        each with its multi-agency meeting held; the figures are kept as they stand (the benchmark)."""
        if by != self.coordinator_id and CHAIR_ROLE not in by_roles:
            raise NotAllowed("The coordinator or the Lead QA Auditor completes the baseline audit.")
        if self.report is not None:
            raise WrongStage("The baseline audit has already been completed.")
        if size_errors(len(audits)):
            raise WrongStage(f"The baseline holds {len(audits)} case(s): a baseline audit is an eight to ten case audit.")
        unmet = [a.case_ref for a in audits if a.meeting is None]
        if unmet:
            raise WrongStage(f"{len(unmet)} case(s) have not had their multi-agency meeting yet: {', '.join(unmet)}.")
        if not summary.strip():
            raise InvalidEntries("The baseline's report needs its summary.", [_error("summary", "the key outcomes and learning are missing")])
        self.report = BaselineReport(summary=summary.strip(), figures=figures_of(audits), by=by, at=at, pdf_id=pdf_id)
        self.updated_by, self.updated_at = by, at
        return self.report


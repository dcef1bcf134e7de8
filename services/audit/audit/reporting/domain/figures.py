"""What the reports count (Kent 4.2 and 5, Hillingdon 5.2.5 and 6.2), as plain functions over
small rows.

Each audit's document carries its *report facts* (programme, team, grade of record, weak
sections, "no" answers), written with the audit itself, so a report reads the facts of the
audits in its period through an index and never the audits' bodies (except the team review,
which quotes the actions of one team's few audits).

- **Completion**: of the audits allocated for a month, how many were submitted (stage 1) and how
  many completed; an auditor with a dispensation for the month is counted apart and left out of
  the rate (Kent 4.1: "discount the Auditor for that month").
- **Grades**: counts per grade of record (the moderated grade where there is one).
- **Themes**: the common areas that need to be addressed (Hillingdon 6.2): sub-sections whose
  grade of record is requires improvement or worse, and questions answered "no".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ...case_audit.domain.audit import Audit, AuditStatus
from ...common.grades import Grade
from .agreement import pairing_facts

WEAK_GRADES = frozenset({Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE, Grade.INADEQUATE_CRITICAL})


def section_grades_of_record(audit: Audit) -> dict[str, Grade]:
    """Sub-section grades as they stand: the auditor's, the peer reviewer's over them (supervision
    is theirs alone), the moderated (or final) grading over both."""
    grades = dict(audit.stage1.work.section_grades)
    if audit.stage2 is not None and audit.stage2.submitted:
        grades.update(audit.stage2.work.section_grades)
    if audit.moderated_grading is not None:
        grades.update(audit.moderated_grading.section_grades)
    return grades


def report_facts(audit: Audit) -> dict[str, Any]:
    """The fields a report reads, stored at the top of the audit's document."""
    facts: dict[str, Any] = {
        "tool_id": audit.form.tool_id,
        "programme": audit.form.programme.value,
        "team_id": audit.case.team_id,
        "case_type": audit.case.case_type.value,
        "submitted": audit.stage1.submitted,
        "grade": None,
        "weak_sections": [],
        "no_answers": [],
        # The moderation agreement report's paired grades (None until a peer-reviewed audit completes).
        "agreement": pairing_facts(audit),
    }
    if audit.status is AuditStatus.COMPLETED:
        grade = audit.grade_of_record
        facts["grade"] = grade.value if grade else None
        facts["weak_sections"] = [
            {"key": key, "title": section.title}
            for key, g in sorted(section_grades_of_record(audit).items())
            if g in WEAK_GRADES and (section := audit.form.section(key)) is not None
        ]
        final = audit.stage2.work if audit.stage2 is not None and audit.stage2.submitted else audit.stage1.work
        questions = audit.form.questions()
        facts["no_answers"] = [
            {"key": key, "text": questions[key].text} for key, answer in sorted(final.answers.items()) if answer.value == "no" and key in questions
        ]
    return facts


@dataclass(frozen=True)
class Row:
    """One audit as the reports see it."""

    audit_id: str
    month: str
    team_id: str
    auditor_id: str
    status: str
    submitted: bool
    grade: str | None = None
    weak_sections: tuple[tuple[str, str], ...] = ()
    no_answers: tuple[tuple[str, str], ...] = ()

    @property
    def completed(self) -> bool:
        return self.status == AuditStatus.COMPLETED.value

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Row:
        return cls(
            audit_id=doc["_id"], month=doc.get("month") or "", team_id=doc.get("team_id") or "", auditor_id=doc.get("auditor_id") or "",
            status=doc.get("status") or "", submitted=bool(doc.get("submitted")), grade=doc.get("grade"),
            weak_sections=tuple((s["key"], s["title"]) for s in doc.get("weak_sections") or []),
            no_answers=tuple((q["key"], q["text"]) for q in doc.get("no_answers") or []),
        )


@dataclass(frozen=True)
class Completion:
    group: str
    allocated: int
    submitted: int
    completed: int
    dispensed: int
    #: Completed / (allocated - dispensed), None when nothing counts.
    completion_rate: float | None
    submission_rate: float | None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def completion(rows: Iterable[Row], group_of: Callable[[Row], str], dispensed: frozenset[str] = frozenset()) -> list[Completion]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(group_of(row), []).append(row)
    out = []
    for group, members in sorted(groups.items()):
        excused = [r for r in members if r.auditor_id in dispensed and not r.completed]
        counted = [r for r in members if r not in excused]
        done = sum(r.completed for r in counted)
        submitted = sum(r.submitted for r in counted)
        out.append(Completion(
            group=group, allocated=len(members), submitted=submitted, completed=done, dispensed=len(excused),
            completion_rate=_rate(done, len(counted)), submission_rate=_rate(submitted, len(counted)),
        ))
    return out


def grade_counts(rows: Iterable[Row]) -> dict[str, int]:
    """Completed audits per grade of record, every grade listed (zeros included)."""
    counts = Counter(r.grade for r in rows if r.completed and r.grade)
    return {g.value: counts.get(g.value, 0) for g in Grade}


@dataclass(frozen=True)
class Theme:
    #: ``section`` (graded requires improvement or worse) or ``question`` (answered "no").
    kind: str
    key: str
    title: str
    audits: int
    #: Of the completed audits in the period.
    share: float


def themes(rows: Iterable[Row], *, top: int = 10) -> list[Theme]:
    completed = [r for r in rows if r.completed]
    sections: Counter[tuple[str, str]] = Counter()
    questions: Counter[tuple[str, str]] = Counter()
    for row in completed:
        sections.update(set(row.weak_sections))
        questions.update(set(row.no_answers))
    found = [Theme("section", k, t, n, round(n / len(completed), 4)) for (k, t), n in sections.items()]
    found += [Theme("question", k, t, n, round(n / len(completed), 4)) for (k, t), n in questions.items()]
    return sorted(found, key=lambda th: (-th.audits, th.kind, th.key))[:top]


@dataclass(frozen=True)
class TrendPoint:
    month: str
    allocated: int
    completed: int
    completion_rate: float | None
    grades: dict[str, int]


def trend(rows: Iterable[Row], months: list[str]) -> list[TrendPoint]:
    by_month: dict[str, list[Row]] = {m: [] for m in months}
    for row in rows:
        if row.month in by_month:
            by_month[row.month].append(row)
    return [
        TrendPoint(month=m, allocated=len(rs), completed=sum(r.completed for r in rs), completion_rate=_rate(sum(r.completed for r in rs), len(rs)), grades=grade_counts(rs))
        for m, rs in by_month.items()
    ]


@dataclass(frozen=True)
class ActionEntry:
    audit_id: str
    month: str
    #: ``action_plan`` (an item of the audit's action plan), ``recommendation`` (the recommended
    #: actions) or ``inadequate_practice`` (the operational service manager's action).
    source: str
    action: str
    owner: str | None = None
    due: str | None = None
    status: str | None = None


def actions_of(audit: Audit) -> list[ActionEntry]:
    """The actions a completed audit asks of the team (Hillingdon 5.2.4: the improvement plan)."""
    if audit.status is not AuditStatus.COMPLETED:
        return []
    month = audit.month or ""
    work = audit.stage1.work
    found = [
        ActionEntry(audit.id, month, "action_plan", item.action, item.owner, item.due.isoformat() if item.due else None)
        for item in work.action_plan
    ]
    if work.recommendations.strip():
        found.append(ActionEntry(audit.id, month, "recommendation", work.recommendations.strip()))
    action = audit.inadequate_action
    if action is not None:
        found.append(ActionEntry(
            audit.id, month, "inadequate_practice", "Bring practice on the case to an adequate level", action.owner_id,
            action.escalate_on.isoformat(), action.status.value,
        ))
    return found


@dataclass(frozen=True)
class TeamReview:
    """Hillingdon 6.2: a team's six-monthly structured review of its audits."""

    team_id: str
    months: list[str]
    audits: int
    completed: int
    grades: dict[str, int]
    common_issues: list[Theme]
    actions: list[ActionEntry] = field(default_factory=list)


def team_review(team_id: str, months: list[str], rows: list[Row], audits: list[Audit]) -> TeamReview:
    actions = [a for audit in sorted(audits, key=lambda x: (x.month or "", x.id)) for a in actions_of(audit)]
    return TeamReview(
        team_id=team_id, months=months, audits=len(rows), completed=sum(r.completed for r in rows), grades=grade_counts(rows),
        common_issues=themes(rows), actions=actions,
    )

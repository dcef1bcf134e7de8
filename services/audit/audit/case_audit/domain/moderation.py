"""Stage 3, moderation: started when the auditor's and peer reviewer's grades differ or the
peer reviewer grades supervision inadequate. Both parties agree a moderated grading (one proposes,
the other accepts); if they cannot, the peer reviewer escalates and a practice development officer
is appointed, whose grading is final (Kent 4.4, 4.8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...common.grades import Grade
from ...tools.domain.definition import AuditForm
from .work import StageWork


@dataclass(frozen=True, kw_only=True)
class Grading:
    """A full grading of the case: every graded sub-section (supervision included) and overall."""

    section_grades: dict[str, Grade]
    overall_grade: Grade
    comment: str = ""


def grading_errors(form: AuditForm, grading: Grading) -> list[dict[str, Any]]:
    expected = form.graded_sections(by_peer_reviewer=True)
    errors = [{"field": f"section_grades.{k}", "message": "not graded"} for k in expected if k not in grading.section_grades]
    errors += [
        {"field": f"section_grades.{k}", "message": "there is no such graded section on this audit's form"}
        for k in grading.section_grades
        if k not in expected
    ]
    return errors


@dataclass(frozen=True)
class Trigger:
    """Why moderation is (or is not) required after the peer review."""

    differing_sections: tuple[str, ...]
    overall_grades_differ: bool
    supervision_inadequate: bool

    @property
    def grades_differ(self) -> bool:
        return bool(self.differing_sections) or self.overall_grades_differ

    @property
    def required(self) -> bool:
        return self.grades_differ or self.supervision_inadequate


def moderation_trigger(form: AuditForm, audit: StageWork, review: StageWork) -> Trigger:
    differing = tuple(
        key for key in form.graded_sections(by_peer_reviewer=False) if audit.section_grades.get(key) != review.section_grades.get(key)
    )
    # Kent: sub-section grades may differ, but the case cannot end with two overall grades.
    overall_differs = form.overall_grade and audit.overall_grade != review.overall_grade
    supervision_inadequate = any(
        review.section_grades.get(key) in (Grade.INADEQUATE, Grade.INADEQUATE_CRITICAL) for key in form.oversight_sections()
    )
    return Trigger(differing, bool(overall_differs), supervision_inadequate)


@dataclass
class Proposal:
    number: int
    grading: Grading
    by: str
    at: datetime


@dataclass
class Moderation:
    started_at: datetime
    trigger: Trigger
    proposals: list[Proposal] = field(default_factory=list)
    agreed_number: int | None = None
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    escalated_by: str | None = None
    escalated_at: datetime | None = None
    escalation_reason: str = ""
    officer_id: str | None = None
    officer_appointed_by: str | None = None
    officer_appointed_at: datetime | None = None
    final_grading: Grading | None = None
    final_by: str | None = None
    final_at: datetime | None = None

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None

    @property
    def agreed(self) -> Proposal | None:
        return next((p for p in self.proposals if p.number == self.agreed_number), None)

    @property
    def outcome(self) -> Grading | None:
        """The moderated grading: the officer's where there is one (final), else the agreed one."""
        if self.final_grading is not None:
            return self.final_grading
        agreed = self.agreed
        return agreed.grading if agreed else None

    @property
    def concluded_at(self) -> datetime | None:
        return self.final_at or self.accepted_at

    @property
    def latest(self) -> Proposal | None:
        return self.proposals[-1] if self.proposals else None

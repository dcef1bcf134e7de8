"""Grades (the Ofsted scale the programmes share) and the answers a question can take."""

from __future__ import annotations

from enum import StrEnum


class Grade(StrEnum):
    """The grading scale of every graded programme, best first."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    INADEQUATE_CRITICAL = "inadequate_critical"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_inadequate(self) -> bool:
        """Inadequate in either form: both need the operational service manager's action."""
        return self in (Grade.INADEQUATE, Grade.INADEQUATE_CRITICAL)


_LABELS = {
    Grade.OUTSTANDING: "Outstanding",
    Grade.GOOD: "Good",
    Grade.REQUIRES_IMPROVEMENT: "Requires improvement",
    Grade.INADEQUATE: "Inadequate",
    Grade.INADEQUATE_CRITICAL: "Inadequate (critical)",
}

#: Grades that send a copy to the safeguarding quality assurance service manager (Kent 4.4).
QA_SERVICE_MANAGER_GRADES = frozenset({Grade.OUTSTANDING, Grade.INADEQUATE, Grade.INADEQUATE_CRITICAL})


class AnswerScale(StrEnum):
    """What kind of answer a question takes."""

    #: Kent and Hampshire checklists: Yes / No / N/A ("delete those that do not apply").
    YES_NO_NA = "yes_no_na"
    YES_NO = "yes_no"
    #: A free-text answer (themed and multi-agency lines of enquiry).
    TEXT = "text"

    def accepts(self, value: str) -> bool:
        if self is AnswerScale.YES_NO_NA:
            return value in ("yes", "no", "n/a")
        if self is AnswerScale.YES_NO:
            return value in ("yes", "no")
        return bool(value.strip())

    @property
    def choices(self) -> tuple[str, ...]:
        if self is AnswerScale.YES_NO_NA:
            return ("yes", "no", "n/a")
        if self is AnswerScale.YES_NO:
            return ("yes", "no")
        return ()

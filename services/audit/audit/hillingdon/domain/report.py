"""The lead QA auditor's reports: the monthly audit report (Hillingdon 5.2.5: "headlines including
themes and recommendations") and the themed audit findings-and-recommendations report (5.3.2).

A report is generated as a draft from the audits of its period (its *figures*, and a first text
written from them), edited by the lead QA auditor (every edit kept in ``history``), then issued:
from then on it never changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.calendar import local_date

from audit.common.errors import Gaps, InvalidEntries, NotAllowed
from audit.common.grades import Grade
from audit.reporting.domain.figures import Row, grade_counts, themes

from ...common.roles import QA_STAFF_ROLES, Role
from .errors import Issued
from .events import Happened

#: Who writes and issues the reports.
LEAD_QA_AUDITOR = Role.LEAD_QA_AUDITOR
MAX_SECTION = 50000

GENERATED = "generated"
EDITED = "edited"
REFRESHED = "refreshed"
ISSUED = "issued"


class ReportKind(StrEnum):
    MONTHLY = "monthly"
    THEMED = "themed"


class ReportStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"


#: The text sections of each kind of report, in order, with their headings.
SECTIONS: dict[ReportKind, dict[str, str]] = {
    ReportKind.MONTHLY: {"headlines": "Headlines", "themes": "Themes", "recommendations": "Recommendations"},
    ReportKind.THEMED: {"findings": "Findings", "recommendations": "Recommendations"},
}


@dataclass
class ReportEdit:
    """One change to the report, with the whole text as it stood after it."""

    number: int
    what: str
    by: str
    at: datetime
    sections: dict[str, str]


@dataclass
class EditableReport:
    id: str
    kind: ReportKind
    #: ``2026-10`` (monthly) or the first month of a bi-monthly period (themed).
    period: str
    title: str
    figures: dict[str, Any]
    sections: dict[str, str]
    created_by: str
    created_at: datetime
    version: int = 0
    status: ReportStatus = ReportStatus.DRAFT
    history: list[ReportEdit] = field(default_factory=list)
    issued_by: str | None = None
    issued_at: datetime | None = None
    pdf_id: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    events: list[Happened] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def generate(
        cls, *, kind: ReportKind, period: str, title: str, figures: dict[str, Any], sections: dict[str, str],
        by: str, roles: frozenset[str], at: datetime,
    ) -> EditableReport:
        _lead_only(roles, "generates")
        report = cls(
            id=report_id(kind, period), kind=kind, period=period, title=title, figures=figures,
            sections={k: sections.get(k, "") for k in SECTIONS[kind]}, created_by=by, created_at=at,
        )
        report._changed(GENERATED, by, at)
        return report

    def visible_to(self, roles: frozenset[str], readers: frozenset[str]) -> bool:
        """Drafts: QA staff. Issued: QA staff and ``readers`` (the managers who progress it)."""
        if not QA_STAFF_ROLES.isdisjoint(roles):
            return True
        return self.status is ReportStatus.ISSUED and not readers.isdisjoint(roles)

    def edit(self, *, by: str, roles: frozenset[str], sections: dict[str, str], at: datetime) -> None:
        _lead_only(roles, "edits")
        self._draft()
        known = SECTIONS[self.kind]
        errors = [{"field": f"sections.{k}", "message": f"this report's sections are: {', '.join(known)}"} for k in sections if k not in known]
        errors += [{"field": f"sections.{k}", "message": "too long"} for k, v in sections.items() if len(v) > MAX_SECTION]
        if errors:
            raise InvalidEntries("The edit does not fit this report.", errors)
        if not sections:
            raise InvalidEntries("Nothing to change.", [{"field": "sections", "message": "give at least one section's text"}])
        self.sections = {**self.sections, **{k: v.strip() for k, v in sections.items()}}
        self._changed(EDITED, by, at)

    def refresh(self, *, by: str, roles: frozenset[str], figures: dict[str, Any], at: datetime) -> None:
        """New figures from the period's audits as they now stand; the text is left as written."""
        _lead_only(roles, "refreshes")
        self._draft()
        self.figures = figures
        self._changed(REFRESHED, by, at)

    def issue(self, *, by: str, roles: frozenset[str], pdf_id: str, at: datetime) -> None:
        _lead_only(roles, "issues")
        self._draft()
        missing = [{"field": f"sections.{k}", "message": f"{title} is empty"} for k, title in SECTIONS[self.kind].items() if not self.sections.get(k)]
        if missing:
            raise Gaps(f"The report cannot be issued: {len(missing)} section(s) to write first.", missing)
        self.status = ReportStatus.ISSUED
        self.issued_by, self.issued_at, self.pdf_id = by, at, pdf_id
        self._changed(ISSUED, by, at)

    def _draft(self) -> None:
        if self.status is ReportStatus.ISSUED:
            raise Issued(f"The report was issued on {local_date(self.issued_at) if self.issued_at else '-'}; an issued report is never changed.")

    def _changed(self, what: str, by: str, at: datetime) -> None:
        self.history.append(ReportEdit(number=len(self.history) + 1, what=what, by=by, at=at, sections=dict(self.sections)))
        self.updated_by, self.updated_at = by, at
        self.events.append(Happened(what, at, by))


def report_id(kind: ReportKind, period: str) -> str:
    return f"{kind.value}:{period}"


def _lead_only(roles: frozenset[str], does: str) -> None:
    if LEAD_QA_AUDITOR not in roles:
        raise NotAllowed(f"The lead QA auditor {does} this report.")


# --- figures ------------------------------------------------------------------------------------


def audit_figures(rows: Iterable[Row]) -> dict[str, Any]:
    """What a report counts of its period's audits: allocated, completed, grades, common themes."""
    rows = list(rows)
    completed = [r for r in rows if r.completed]
    return {
        "audits": len(rows),
        "completed": len(completed),
        "grades": grade_counts(rows),
        "themes": [{"kind": t.kind, "key": t.key, "title": t.title, "audits": t.audits, "share": t.share} for t in themes(rows)],
    }


def monthly_figures(rows: Iterable[Row], *, reviews_opened: int, reviews_reported: int) -> dict[str, Any]:
    figures = audit_figures(rows)
    figures["reviews"] = {"opened": reviews_opened, "reported": reviews_reported}
    return figures


def grade_line(grades: dict[str, int]) -> str:
    """``Outstanding: 1, Good: 2, ...`` over every grade (zeros included)."""
    return ", ".join(f"{Grade(g).label}: {n}" for g, n in grades.items())


def themes_text(figures: dict[str, Any]) -> str:
    lines = []
    for theme in figures["themes"]:
        what = "graded requires improvement or worse" if theme["kind"] == "section" else 'answered "no"'
        lines.append(f"- {theme['title']}: {what} in {theme['audits']} of {figures['completed']} audits")
    return "\n".join(lines) or 'No common theme: no section graded requires improvement or worse, no question answered "no".'


def monthly_draft(month_label: str, figures: dict[str, Any]) -> dict[str, str]:
    """The first text of a monthly report, written from its figures (the lead QA auditor edits it)."""
    reviews = figures["reviews"]
    headlines = (
        f"{month_label}: {figures['completed']} of {figures['audits']} single agency audits completed. "
        f"Grades: {grade_line(figures['grades'])}. "
        f"Reviews with service managers (requires improvement or inadequate): {reviews['opened']} opened, {reviews['reported']} reported "
        "to the assistant director."
    )
    return {"headlines": headlines, "themes": themes_text(figures), "recommendations": ""}

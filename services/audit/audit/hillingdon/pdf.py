"""The PDF of a monthly audit report or a themed audit report: its figures (audits, grades, common
themes, reviews; the monthly report draws the month's grades as a bar chart) and its text sections. A draft is marked DRAFT; an issued report's PDF is
rendered once, at issue, and stored."""

from __future__ import annotations

from datetime import datetime

from shared.calendar import local_date

from audit.common.grades import Grade

from ..common.pdf import PdfDocument
from ..reporting import charts
from .domain.report import SECTIONS, EditableReport, ReportKind, ReportStatus


def filename(report: EditableReport) -> str:
    return f"{report.kind.value}-report-{report.period}.pdf"


def render(report: EditableReport, *, at: datetime) -> bytes:
    figures = report.figures
    draft = report.status is ReportStatus.DRAFT
    pdf = PdfDocument.begin(f"{report.title}{' - DRAFT' if draft else ''}", title=report.title, heading=report.title, at=at)
    if draft:
        pdf.heading("DRAFT - not issued", 11)
    else:
        pdf.para(f"Issued by {report.issued_by} on {local_date(report.issued_at).isoformat() if report.issued_at else '-'}.")

    pdf.heading("Figures", 12)
    pdf.para(f"Audits: {figures['audits']}    Completed: {figures['completed']}")
    for grade, count in figures["grades"].items():
        pdf.para(f"{Grade(grade).label}: {count}")
    if report.kind is ReportKind.MONTHLY:
        charts.embed(pdf, charts.grades(figures["grades"], f"Grades of the audits completed, {report.period}"))
    if report.kind is ReportKind.MONTHLY:
        reviews = figures["reviews"]
        pdf.para(f"Reviews with service managers: {reviews['opened']} opened, {reviews['reported']} reported to the assistant director")
    if figures["themes"]:
        rows = [
            (t["title"], "graded requires improvement or worse" if t["kind"] == "section" else 'answered "no"', str(t["audits"]))
            for t in figures["themes"]
        ]
        pdf.rows(("Common theme", "Found as", "Audits"), rows, (100, 55, 25))

    for key, heading in SECTIONS[report.kind].items():
        pdf.heading(heading, 12)
        pdf.para(report.sections.get(key) or "-")
    return bytes(pdf.output())

"""The report of a multi-agency audit's action plan to the QA sub-committee, as a PDF for its
papers: the case by its code, the meeting's findings and agreed grade, and each agency's actions."""

from __future__ import annotations

from ..common.pdf import PdfDocument, grade_label
from .domain.audit import MultiAgencyAudit, Report, ReportKind

TITLES = {ReportKind.PROGRESS: "Progress report", ReportKind.COMPLETION: "Completion report"}


def filename(audit_id: str, number: int) -> str:
    """No child's name or case id in it: the audit id and the report's number."""
    return f"multi-agency-{audit_id}-report-{number}.pdf"


def render(audit: MultiAgencyAudit, report: Report) -> bytes:
    title = f"{TITLES[report.kind]} to the QA sub-committee"
    pdf = PdfDocument(f"Multi-agency audit {audit.case_ref} - {title}")
    pdf.set_creation_date(report.at)
    pdf.set_title(title)
    pdf.add_page()
    pdf.heading(f"Multi-agency audit: {audit.theme}", 15)
    pdf.heading(f"{title} ({report.number})", 12)
    meeting, plan = audit.meeting, audit.plan
    details = [
        ("Case", f"{audit.case_ref} (coded)"),
        ("Tool", f"{audit.tool_id} version {audit.tool_version}"),
        ("Coordinator", audit.coordinator_id),
        ("Partners", ", ".join(f"{p.name} ({p.representative_id})" for p in audit.partners)),
        ("Meeting", f"{meeting.held_on.isoformat()}, chaired by {meeting.chair_id}" if meeting else "-"),
        ("Agreed grade", grade_label(meeting.agreed_grade) if meeting else "-"),
        ("Actions done", f"{report.actions_done} of {report.actions_total}"),
        ("Reported", f"{report.at.isoformat()} by {report.by}"),
    ]
    pdf.rows(("Audit", audit.id), details, (45, 135))
    if meeting:
        pdf.heading("Findings agreed with partners", 11)
        pdf.para(meeting.findings)
    pdf.heading("Key outcomes and learning", 11)
    pdf.para(report.summary)
    if plan:
        pdf.heading("Multi-agency action plan", 11)
        pdf.rows(
            ("Agency", "Owner", "Action", "Due", "Status"),
            [(a.agency, a.owner_id, a.action, a.due_on.isoformat(), a.status.value.replace("_", " ")) for a in plan.actions],
            (30, 25, 85, 20, 20),
        )
    return bytes(pdf.output())

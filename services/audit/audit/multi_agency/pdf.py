"""The report of a multi-agency audit's action plan to the QA sub-committee, as a PDF for its
papers: the case by its code, the meeting's findings and agreed grade, and each agency's actions."""

from __future__ import annotations

from ..common.grades import Grade
from ..common.pdf import PdfDocument, grade_label
from .domain.audit import MultiAgencyAudit, Report, ReportKind
from .domain.baseline import Baseline

TITLES = {ReportKind.PROGRESS: "Progress report", ReportKind.COMPLETION: "Completion report"}


def filename(audit_id: str, number: int) -> str:
    """No child's name or case id in it: the audit id and the report's number."""
    return f"multi-agency-{audit_id}-report-{number}.pdf"


def render(audit: MultiAgencyAudit, report: Report) -> bytes:
    title = f"{TITLES[report.kind]} to the QA sub-committee"
    pdf = PdfDocument.begin(f"Multi-agency audit {audit.case_ref} - {title}", title=title, heading=f"Multi-agency audit: {audit.theme}", at=report.at)
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


def baseline_filename(baseline_id: str) -> str:
    """No case, code or name in it: the baseline's id."""
    return f"multi-agency-baseline-{baseline_id}.pdf"


def render_baseline(baseline: Baseline, audits: list[MultiAgencyAudit]) -> bytes:
    """The completed baseline's report: its figures (the benchmark) and each case's agreed grade by
    number only. Neither a case's code nor its id is printed: the report goes to the Performance
    Sub-committee and the HSCB, who need the figures, not the cases."""
    report = baseline.report
    if report is None:
        raise ValueError("a baseline's report is rendered once the baseline is completed")
    f = report.figures
    title = "Baseline audit report"
    pdf = PdfDocument.begin(f"Multi-agency {title.lower()}", title=title, heading=f"Multi-agency baseline audit: {baseline.theme}", at=report.at)
    pdf.heading(f"{title}: an eight to ten case audit of {f.cases} cases", 12)
    share = f"{f.good_or_better_percent}%" if f.good_or_better_percent is not None else "-"
    details = [
        ("Area of the service", baseline.service_area.replace("_", " ")),
        ("Coordinator", baseline.coordinator_id),
        ("Lead auditors", ", ".join(f"{p.name} ({p.representative_id})" for p in baseline.partners)),
        ("Cases audited", str(f.cases)),
        ("Meetings held", str(f.meetings_held)),
        ("Good or better", f"{f.good_or_better} of {f.meetings_held} ({share})"),
        ("Consultations", f"{f.consultations_obtained} obtained, {f.consultations_not_obtained} not obtained"),
        ("Actions", f"{f.actions_done} of {f.actions_total} done"),
        ("Completed", f"{report.at.isoformat()} by {report.by}"),
    ]
    pdf.rows(("Baseline", baseline.id), details, (45, 135))
    pdf.heading("Agreed grades", 11)
    pdf.rows(("Grade", "Cases"), [(grade_label(Grade(g)) if g != "not_graded" else "Not graded", str(n)) for g, n in f.by_grade.items()], (90, 90))
    pdf.heading("Cases (by number)", 11)
    pdf.rows(
        ("Case", "Agreed grade", "Actions done"),
        [
            (str(n), grade_label(a.meeting.agreed_grade) if a.meeting else "-", f"{sum(1 for x in a.plan.actions if x.done)} of {len(a.plan.actions)}" if a.plan else "-")
            for n, a in enumerate(audits, start=1)
        ],
        (30, 90, 60),
    )
    pdf.heading("Key outcomes and learning", 11)
    pdf.para(report.summary)
    return bytes(pdf.output())

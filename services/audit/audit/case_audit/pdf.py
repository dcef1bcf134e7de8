"""The PDF of an audit after each stage, for people to read: stage 1 alone; both stages side by
side after the peer review; and with the moderated grading after moderation. Rendered with fpdf2's
core fonts (no font files), so the PDFs stay small."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fpdf import FPDF
from fpdf.fonts import FontFace

from ..common.grades import Grade
from .domain.audit import Audit
from .domain.routing import CopyStage
from .domain.work import StageWork

_REPLACE = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " "})
_HEAD = FontFace(emphasis="BOLD", fill_color=(225, 230, 240))
STAGE_TITLES = {
    CopyStage.AUDIT: "Stage 1: audit",
    CopyStage.PEER_REVIEW: "Stages 1 and 2: audit and peer review",
    CopyStage.MODERATED: "Moderated audit",
}


def pdf_text(text: object) -> str:
    """Text the core fonts can draw (Latin-1), with typographic punctuation made plain."""
    return str(text).translate(_REPLACE).encode("latin-1", "replace").decode("latin-1")


def grade_label(grade: Grade | None) -> str:
    return grade.label if grade is not None else "-"


def _answer(work: StageWork | None, key: str) -> str:
    if work is None or key not in work.answers:
        return "-"
    answer = work.answers[key]
    return f"{answer.value} - {answer.comment}" if answer.comment else answer.value


def _evidence(audit: Audit, key: str) -> str:
    items = audit.evidence.get(key, [])
    return "\n".join(f"{e.what} - {e.when} - {e.where}" for e in items) or "-"


class PdfDocument(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def header(self) -> None:
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, pdf_text(self.doc_title), new_x="LMARGIN", new_y="NEXT", align="R")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, f"Page {self.page_no()} - RESTRICTED", align="C")

    def heading(self, text: str, size: int = 13) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", size)
        self.multi_cell(0, 7, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)

    def para(self, text: str) -> None:
        self.set_font("Helvetica", "", 10)
        self.multi_cell(0, 5, pdf_text(text or "-"), new_x="LMARGIN", new_y="NEXT")

    def rows(self, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: tuple[int, ...]) -> None:
        self.set_font("Helvetica", "", 9)
        with self.table(col_widths=widths, headings_style=_HEAD, text_align="LEFT", line_height=4.5) as table:
            for values in [header, *rows]:
                row = table.row()
                for value in values:
                    row.cell(pdf_text(value))
        self.ln(2)


def filename(audit_id: str, stage: str) -> str:
    """The name a stage's PDF goes by, downloaded or attached to an email (no child's name in it)."""
    return f"audit-{audit_id}-{stage}.pdf"


def render(audit: Audit, stage: CopyStage, *, names: dict[str, str], at: datetime) -> bytes:
    """The PDF of ``audit`` as it stands at the end of ``stage``."""
    form = audit.form
    pdf = PdfDocument(f"{form.title} - audit {audit.id}")
    pdf.set_creation_date(at)
    pdf.set_title(pdf_text(f"{form.title}: {STAGE_TITLES[stage]}"))
    pdf.add_page()
    pdf.heading(f"{form.title}", 15)
    pdf.heading(STAGE_TITLES[stage], 12)

    def who(person_id: str | None) -> str:
        if not person_id:
            return "-"
        return f"{names[person_id]} ({person_id})" if person_id in names else person_id

    both = stage in (CopyStage.PEER_REVIEW, CopyStage.MODERATED)
    review = audit.stage2.work if both and audit.stage2 else None
    details = [
        ("Case", audit.case_ref + (" (coded: multi-agency audit)" if form.coded_case else "")),
        ("Case type", f"{audit.case.case_type} - open {audit.form.open_band.value.replace('_', ' ')}"),
        ("Tool", f"{form.tool_id} version {form.tool_version}"),
        ("Auditor", who(audit.auditor_id)),
        ("Peer reviewer", who(audit.peer_reviewer_id)),
        ("Stage 1 submitted", audit.stage1.submitted_at.isoformat() if audit.stage1.submitted_at else "-"),
    ]
    if both and audit.stage2 is not None:
        details.append(("Peer review submitted", audit.stage2.submitted_at.isoformat() if audit.stage2.submitted_at else "-"))
    pdf.rows(("Audit", audit.id), details, (45, 135))

    auditor, peer = audit.stage1.work, review
    for section in form.sections:
        pdf.heading(section.title, 11)
        if both:
            rows: list[tuple[str, ...]] = [(q.text, _answer(auditor, q.key), _answer(peer, q.key)) for q in section.questions]
            pdf.rows(("Question", "Auditor", "Peer reviewer"), rows, (80, 50, 50))
        elif any(q.evidence_list for q in section.questions):
            rows = [(q.text, _evidence(audit, q.key), _answer(auditor, q.key)) for q in section.questions]
            pdf.rows(("Standard", "Evidence (what, when, where)", "Met?"), rows, (80, 70, 30))
        else:
            rows = [(q.text, _answer(auditor, q.key)) for q in section.questions]
            pdf.rows(("Question", "Auditor"), rows, (110, 70))
        if section.oversight:
            pdf.para(f"Auditor's comment on their own oversight: {auditor.oversight_comment or '-'}")
            if both:
                pdf.para(f"Peer reviewer's grade: {grade_label(peer.section_grades.get(section.key) if peer else None)}")
        elif section.graded:
            line = f"Auditor's grade: {grade_label(auditor.section_grades.get(section.key))}"
            if both:
                line += f"    Peer reviewer's grade: {grade_label(peer.section_grades.get(section.key) if peer else None)}"
            pdf.para(line)

    pdf.heading("Overview", 12)
    pdf.para(f"Analysis of audit findings (auditor): {auditor.analysis}")
    pdf.para(f"Recommended action(s) to be taken (auditor): {auditor.recommendations}")
    if both and peer is not None:
        pdf.para(f"Peer reviewer's analysis: {peer.analysis or '-'}")
        pdf.para(f"Peer reviewer's recommendations: {peer.recommendations or '-'}")
    if form.overall_grade:
        line = f"Auditor's overall grade: {grade_label(auditor.overall_grade)}"
        if both and peer is not None:
            line += f"    Peer reviewer's overall grade: {grade_label(peer.overall_grade)}"
        pdf.para(line)
    if auditor.action_plan:
        pdf.rows(("Action", "Owner", "Due"), [(a.action, a.owner, a.due.isoformat() if a.due else "-") for a in auditor.action_plan], (110, 45, 25))

    moderation = audit.moderation
    if stage is CopyStage.MODERATED and moderation is not None and moderation.outcome is not None:
        outcome = moderation.outcome
        pdf.heading("Stage 3: moderation", 12)
        reasons = []
        if moderation.trigger.grades_differ:
            reasons.append("grades differ")
        if moderation.trigger.supervision_inadequate:
            reasons.append("supervision / management oversight graded inadequate")
        pdf.para(f"Moderation was required because: {', '.join(reasons)}.")
        if moderation.final_grading is not None:
            pdf.para(f"Final grading by the practice development officer {who(moderation.final_by)} on {moderation.final_at.isoformat() if moderation.final_at else '-'}.")
        elif moderation.agreed is not None:
            agreed = moderation.agreed
            pdf.para(f"Agreed: proposed by {who(agreed.by)} on {agreed.at.isoformat()}, accepted by {who(moderation.accepted_by)} on {moderation.accepted_at.isoformat() if moderation.accepted_at else '-'}.")
        rows = []
        for key in form.graded_sections(by_peer_reviewer=True):
            sub_section = form.section(key)
            rows.append(
                (
                    sub_section.title if sub_section else key,
                    grade_label(auditor.section_grades.get(key)) if sub_section and not sub_section.oversight else "(commented)",
                    grade_label(peer.section_grades.get(key)) if peer else "-",
                    grade_label(outcome.section_grades.get(key)),
                )
            )
        rows.append(("Overall", grade_label(auditor.overall_grade), grade_label(peer.overall_grade if peer else None), grade_label(outcome.overall_grade)))
        pdf.rows(("Sub-section", "Auditor", "Peer reviewer", "Moderated"), rows, (75, 35, 35, 35))
        if outcome.comment:
            pdf.para(f"Moderation comment: {outcome.comment}")
    pdf.heading(f"Grade of record: {grade_label(audit.grade_of_record if stage is not CopyStage.AUDIT else auditor.overall_grade)}", 12)
    return bytes(pdf.output())

"""The PDF of an audit after each stage, for people to read: stage 1 alone; both stages side by
side after the peer review; and with the moderated grading after moderation. Rendered with the
embedded DejaVu Sans of ``common.pdf`` (names print as written)."""

from __future__ import annotations

from datetime import datetime

from ..common.pdf import PdfDocument, grade_label
from .domain.audit import AllocationBasis, Audit
from .domain.during_audit import takes_practitioner_views
from .domain.routing import CopyStage
from .domain.work import StageWork

STAGE_TITLES = {
    CopyStage.AUDIT: "Stage 1: audit",
    CopyStage.PEER_REVIEW: "Stages 1 and 2: audit and peer review",
    CopyStage.MODERATED: "Moderated audit",
}


#: What the PDF says of how the monthly draw chose the case (issue 21: the fallback's audits are
#: "marked as such on the audit").
BASIS_LINES = {
    AllocationBasis.LINE_MANAGED: "A case the auditor line-manages",
    AllocationBasis.TEAM_COVER: "Team cover: a case of a team no auditor of its own could take this month",
    AllocationBasis.OWN_SERVICE: (
        "Allocated under the programme's own-service fallback: a case of the auditor's own service they do not line-manage"
    ),
}


def _answer(work: StageWork | None, key: str) -> str:
    if work is None or key not in work.answers:
        return "-"
    answer = work.answers[key]
    return f"{answer.value} - {answer.comment}" if answer.comment else answer.value


def _evidence(audit: Audit, key: str) -> str:
    items = audit.evidence.get(key, [])
    return "\n".join(f"{e.what} - {e.when} - {e.where}" for e in items) or "-"


def filename(audit_id: str, stage: str) -> str:
    """The name a stage's PDF goes by, downloaded or attached to an email (no child's name in it)."""
    return f"audit-{audit_id}-{stage}.pdf"


def render(audit: Audit, stage: CopyStage, *, names: dict[str, str], at: datetime) -> bytes:
    """The PDF of ``audit`` as it stands at the end of ``stage``."""
    form = audit.form
    pdf = PdfDocument.begin(f"{form.title} - audit {audit.id}", title=f"{form.title}: {STAGE_TITLES[stage]}", heading=f"{form.title}", at=at)
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
        *([("Allocation", BASIS_LINES[audit.basis])] if audit.basis else []),
        ("Stage 1 submitted", audit.stage1.submitted_at.isoformat() if audit.stage1.submitted_at else "-"),
    ]
    if both and audit.stage2 is not None:
        details.append(("Peer review submitted", audit.stage2.submitted_at.isoformat() if audit.stage2.submitted_at else "-"))
    pdf.rows(("Audit", audit.id), details, (45, 135))

    if takes_practitioner_views(form):
        views = audit.current_practitioner_views
        pdf.heading("The allocated social worker's views and reflections on their practice", 12)
        if views is None:
            pdf.para(f"Social worker: {who(audit.social_worker_id)}. No views were given before the audit.")
        else:
            pdf.para(f"Given by {who(views.by)} on {views.at.isoformat()}: {views.views}")

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
    if audit.concerns:
        pdf.heading("Immediate safeguarding concerns raised during the audit", 12)
        for concern in audit.concerns:
            to = ", ".join(who(p) for p in concern.recipients) or "no team manager or service manager known"
            pdf.para(f"Raised by {who(concern.raised_by)} ({concern.raised_as.replace('_', ' ')}) on {concern.raised_at.isoformat()}, to {to}: {concern.concern}")
            if concern.acknowledged_at is not None:
                pdf.para(f"Outcome recorded by {who(concern.acknowledged_by)} on {concern.acknowledged_at.isoformat()}: {concern.outcome}")
            else:
                pdf.para("Outcome: not yet recorded.")
    pdf.heading(f"Grade of record: {grade_label(audit.grade_of_record if stage is not CopyStage.AUDIT else auditor.overall_grade)}", 12)
    return bytes(pdf.output())

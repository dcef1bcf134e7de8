"""The team review pack as a PDF (DejaVu Sans embedded, like the audits' PDFs): every figure of the
pack (the grades drawn as a bar chart), the agreed priorities and the improvement plan with each action's status."""

from __future__ import annotations

from datetime import datetime

from shared.calendar import local_date

from ..common.grades import Grade
from ..common.pdf import PdfDocument
from ..reporting import charts
from .domain.review import Review, Views


def filename(review: Review) -> str:
    return f"team-review-{review.team_id}-{review.to_month}.pdf"


def _views(pdf: PdfDocument, title: str, views: dict[str, Views]) -> None:
    pdf.heading(title, 11)
    rows = [(who.replace("_", " "), str(v.responses), str(v.positive), str(v.mixed), str(v.negative)) for who, v in views.items()]
    pdf.rows(("Respondent", "Responses", "Positive", "Mixed", "Negative"), rows, (60, 30, 30, 30, 30))
    for who, v in views.items():
        for comment in v.comments:
            pdf.para(f"{who.replace('_', ' ').capitalize()}: {comment}")


def render(review: Review, *, team_name: str, names: dict[str, str], at: datetime) -> bytes:
    pack = review.pack
    period = f"{pack.months[0]} to {pack.months[-1]}"
    pdf = PdfDocument.begin(
        f"Structured review of performance - {team_name} - {period}", title=f"Team review: {team_name}, {period}",
        heading="Six-monthly structured review of performance", at=at,
    )

    def who(person_id: str | None) -> str:
        return f"{names.get(person_id, person_id)} ({person_id})" if person_id else "-"

    pdf.rows(("Team", f"{team_name} ({review.team_id})"), [
        ("Period", period), ("Team manager", who(review.team_manager_id)), ("Service manager", who(review.service_manager_id)),
        ("Assistant director", who(review.assistant_director_id)), ("Issued", f"{local_date(review.issued_at).isoformat()} by {who(review.issued_by)}"),
        ("Plan status", review.status.value),
    ], (50, 130))

    a = pack.audits
    pdf.heading("Audits from the single agency audit", 12)
    pdf.para(f"Audits: {a.audits}; completed audits: {a.completed}")
    for grade in Grade:
        pdf.para(f"{grade.label}: {a.grades.get(grade.value, 0)}")
    charts.embed(pdf, charts.grades(a.grades, f"Grades of the team's completed audits, {period}"))
    pdf.heading("Common areas to address", 11)
    for issue in a.common_issues:
        pdf.para(f"{issue.title}: {issue.audits} audit(s)")
    if not a.common_issues:
        pdf.para("None found in the completed audits.")
    pdf.para(f"Actions from the audits: {a.actions}")

    pdf.heading("Performance indicators", 12)
    if review.performance_indicators:
        pdf.rows(("Indicator", "Value", "Target"), [(i.name, i.value, i.target or "-") for i in review.performance_indicators], (110, 35, 35))
        for i in review.performance_indicators:
            if i.comment:
                pdf.para(f"{i.name}: {i.comment}")
    else:
        pdf.para("Not yet entered by QA staff.")

    pdf.heading("Key practice issues arising from IMRs or SCRs", 12)
    for practice_issue in review.practice_issues:
        pdf.para(f"{practice_issue.source.value.upper()} {practice_issue.reference}: {practice_issue.issue}")
    if not review.practice_issues:
        pdf.para("None entered by QA staff.")

    m = pack.monitoring
    pdf.heading("Monitoring forms (IROs and CP chairs)", 12)
    pdf.para(f"Monitoring forms: {m.forms}; conference reports on time: {m.reports_on_time}; late: {m.reports_late}; plans not progressing: {m.plans_not_progressing}")
    pdf.rows(("Aspect", "Good", "Adequate", "Poor"), [(k.replace("_", " "), str(v["good"]), str(v["adequate"]), str(v["poor"])) for k, v in m.ratings.items()], (75, 35, 35, 35))

    _views(pdf, "Consultation data", pack.consultation)
    _views(pdf, "Feedback from parents, partner agencies, social workers and children", pack.feedback)

    c = pack.complaints
    pdf.heading("Complaints and representations", 12)
    pdf.para(f"Complaints: {c.complaints}; members' enquiries: {c.members_enquiries}")
    pdf.para(f"Upheld: {c.outcomes['upheld']}; part upheld: {c.outcomes['part_upheld']}; not upheld: {c.outcomes['not_upheld']}")
    pdf.para("Actions taken: " + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in c.actions_taken.items() if n) if any(c.actions_taken.values()) else "Actions taken: none")
    for lesson in c.lessons:
        pdf.para(f"Lesson learned: {lesson}")
    pdf.para(f"Compliments: {pack.compliments.compliments}")
    for summary in pack.compliments.summaries:
        pdf.para(f"Compliment: {summary}")

    o = pack.observations
    pdf.heading("Feedback from practice observation", 12)
    pdf.para(f"Social workers in the team: {o.social_workers}; observations reported: {o.observations}; social workers observed: {o.social_workers_observed}; observed twice: {o.social_workers_observed_twice}")
    for text in o.positive_aspects:
        pdf.para(f"Positive aspect: {text}")
    for text in o.areas_for_development:
        pdf.para(f"Area for development: {text}")

    pdf.heading("Agreed priorities", 12)
    for n, priority in enumerate(review.priorities, 1):
        pdf.para(f"{n}. {priority}")
    if not review.priorities:
        pdf.para("Not yet agreed.")
    if review.priorities_agreed_by:
        pdf.para("Agreed by: " + ", ".join(who(p) for p in review.priorities_agreed_by))

    pdf.heading("Improvement plan", 12)
    if review.actions:
        pdf.rows(("No.", "Action", "Owner", "Due", "Status"), [
            (str(x.number), x.action + (f" (referred to service development: {x.referral.need})" if x.referral else ""), who(x.owner_id),
             x.due_on.isoformat(), x.status.value.replace("_", " ") + (f" {x.completed_on.isoformat()}" if x.completed_on else ""))
            for x in review.actions
        ], (12, 83, 35, 25, 25))
    else:
        pdf.para("No actions yet.")
    return bytes(pdf.output())

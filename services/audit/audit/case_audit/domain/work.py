"""What one party writes on an audit's form (answers, grades, comments, overview, action plan),
the checks on a saved draft, and the list of gaps that stops a submission.

Plain values: the API's request bodies (``case_audit.schemas``) hold their limits and descriptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ...common.grades import Grade
from ...tools.domain.definition import AuditForm


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """Hampshire's evidence list: what, when and where, not how the standard was met."""

    what: str
    when: str
    where: str


@dataclass(frozen=True, kw_only=True)
class Answer:
    value: str
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class ActionItem:
    action: str
    owner: str
    due: date | None = None


@dataclass(frozen=True, kw_only=True)
class StageWork:
    """One party's form: answers by question key, grades by section key, and the overview."""

    answers: dict[str, Answer] = field(default_factory=dict)
    section_grades: dict[str, Grade] = field(default_factory=dict)
    #: The auditor's comment on their own supervision / management oversight of the case.
    oversight_comment: str = ""
    #: "Analysis of audit findings" (Kent's overview; copied into the case note).
    analysis: str = ""
    #: "Recommended action(s) to be taken".
    recommendations: str = ""
    overall_grade: Grade | None = None
    action_plan: list[ActionItem] = field(default_factory=list)


def _error(field: str, message: str) -> dict[str, Any]:
    return {"field": field, "message": message}


def entry_errors(form: AuditForm, work: StageWork, *, by_peer_reviewer: bool) -> list[dict[str, Any]]:
    """What in a draft does not fit the form. A draft may be incomplete, never wrong."""
    errors = []
    questions = form.questions()
    for key, answer in work.answers.items():
        question = questions.get(key)
        if question is None:
            errors.append(_error(f"answers.{key}", "there is no such question on this audit's form"))
            continue
        if not question.scale.accepts(answer.value):
            choices = ", ".join(question.scale.choices) or "some text"
            errors.append(_error(f"answers.{key}", f"the answer must be one of: {choices}"))
    graded = set(form.graded_sections(by_peer_reviewer=by_peer_reviewer))
    for key in work.section_grades:
        section = form.section(key)
        if section is None:
            errors.append(_error(f"section_grades.{key}", "there is no such section on this audit's form"))
        elif section.oversight and not by_peer_reviewer:
            errors.append(_error(f"section_grades.{key}", "supervision / management oversight is graded by the peer reviewer; comment on it instead"))
        elif key not in graded:
            errors.append(_error(f"section_grades.{key}", "this section is not graded"))
    if work.overall_grade is not None and not form.overall_grade:
        errors.append(_error("overall_grade", "this tool takes no overall grade"))
    return errors


def evidence_errors(form: AuditForm, evidence: dict[str, list[Evidence]]) -> list[dict[str, Any]]:
    questions = form.questions()
    return [
        _error(f"evidence.{key}", "this question takes no evidence list")
        for key in evidence
        if key not in questions or not questions[key].evidence_list
    ]


def gaps(
    form: AuditForm,
    work: StageWork,
    *,
    by_peer_reviewer: bool,
    stage1: StageWork | None = None,
    evidence: dict[str, list[Evidence]] | None = None,
) -> list[dict[str, Any]]:
    """Every gap that stops this party submitting, in form order."""
    evidence = evidence or {}
    found = []
    for section in form.sections:
        for question in section.questions:
            answer = work.answers.get(question.key)
            field = f"answers.{question.key}"
            if answer is None:
                found.append(_error(field, f"not answered: {question.text}"))
                continue
            if question.evidence_list and answer.value == "yes" and not evidence.get(question.key) and not by_peer_reviewer:
                found.append(_error(f"evidence.{question.key}", "a standard judged as met needs its evidence listed (what, when, where)"))
            if by_peer_reviewer and stage1 is not None:
                theirs = stage1.answers.get(question.key)
                if theirs is not None and theirs.value != answer.value and not answer.comment.strip():
                    found.append(_error(f"{field}.comment", f"differs from the auditor's answer {theirs.value!r}: say why"))
        if section.key in form.graded_sections(by_peer_reviewer=by_peer_reviewer) and section.key not in work.section_grades:
            found.append(_error(f"section_grades.{section.key}", f"not graded: {section.title}"))
        if section.oversight and not by_peer_reviewer and not work.oversight_comment.strip():
            found.append(_error("oversight_comment", f"comment on your own oversight of the case: {section.title}"))
    if form.analysis_required and not by_peer_reviewer and not work.analysis.strip():
        found.append(_error("analysis", "the analysis of audit findings is missing"))
    if form.recommendations_required and not by_peer_reviewer and not work.recommendations.strip():
        found.append(_error("recommendations", "the recommended actions are missing"))
    if form.overall_grade and work.overall_grade is None:
        found.append(_error("overall_grade", "the overall grade is missing"))
    if work.overall_grade in form.action_plan_for_grades and not work.action_plan:
        found.append(_error("action_plan", f"an action plan is required for a case graded {work.overall_grade.label if work.overall_grade else ''}"))
    return found


def differing_answers(stage1: StageWork, stage2: StageWork) -> list[str]:
    return sorted(k for k, a in stage2.answers.items() if k in stage1.answers and stage1.answers[k].value != a.value)

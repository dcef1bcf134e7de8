"""Report counting: completion with dispensations, grades, themes, trend, the team review's actions."""

from __future__ import annotations

import gc
from dataclasses import replace
from typing import Any

import pytest
from audit.case_audit.domain.audit import AuditStatus
from audit.common.grades import Grade
from audit.reporting.domain.figures import Row, completion, grade_counts, report_facts, themes, trend
from audit.reporting.gc_pause import gc_paused

from .conftest import T0, complete_work, form, new_audit


def row(audit_id: str, team: str = "T1", status: str = "completed", grade: str | None = "good", auditor: str = "A", month: str = "2026-11", **kw: Any) -> Row:
    return Row(audit_id=audit_id, month=month, team_id=team, auditor_id=auditor, status=status, submitted=status != "audit", grade=grade, **kw)


def test_completion_by_group_leaves_dispensed_auditors_out_of_the_rate() -> None:
    rows = [row("1"), row("2", status="audit", grade=None, auditor="B"), row("3", status="peer_review", grade=None, auditor="C"), row("4", team="T2", status="audit", auditor="D")]
    found = {c.group: c for c in completion(rows, lambda r: r.team_id, frozenset({"B"}))}
    t1 = found["T1"]
    assert (t1.allocated, t1.submitted, t1.completed, t1.dispensed) == (3, 2, 1, 1)
    assert t1.completion_rate == 0.5 and t1.submission_rate == 1.0
    assert found["T2"].completion_rate == 0.0


def test_grade_counts_list_every_grade() -> None:
    counts = grade_counts([row("1"), row("2", grade="inadequate"), row("3"), row("4", status="audit", grade=None)])
    assert counts == {"outstanding": 0, "good": 2, "requires_improvement": 0, "inadequate": 1, "inadequate_critical": 0}


def test_themes_count_weak_sections_and_no_answers_once_per_audit() -> None:
    weak = (("planning", "Planning"),)
    rows = [row("1", weak_sections=weak, no_answers=(("q1", "Seen alone?"),)), row("2", weak_sections=weak), row("3")]
    found = themes(rows)
    assert (found[0].kind, found[0].key, found[0].audits, found[0].share) == ("section", "planning", 2, 0.6667)
    assert (found[1].kind, found[1].key, found[1].audits) == ("question", "q1", 1)


def test_trend_lists_every_month_even_without_audits() -> None:
    points = trend([row("1", month="2026-10"), row("2", month="2026-11", status="audit", grade=None)], ["2026-09", "2026-10", "2026-11"])
    assert [(p.month, p.allocated, p.completed) for p in points] == [("2026-09", 0, 0), ("2026-10", 1, 1), ("2026-11", 1, 0)]


def test_report_facts_of_a_completed_audit_use_the_grade_of_record() -> None:
    f = form()
    audit = new_audit(f)
    planning = next(s.key for s in f.sections if s.graded)
    grades = {k: Grade.GOOD for k in f.graded_sections(by_peer_reviewer=False)}
    grades[planning] = Grade.REQUIRES_IMPROVEMENT
    question = next(iter(f.questions()))
    work = complete_work(f)
    work = replace(work, section_grades=grades, answers={**work.answers, question: replace(work.answers[question], value="no")})
    audit.save_audit_draft(by=audit.auditor_id, work=work, at=T0)
    facts = report_facts(audit)
    assert facts["grade"] is None and facts["submitted"] is False and facts["weak_sections"] == []
    audit.submit_audit(by=audit.auditor_id, at=T0)
    assert report_facts(audit)["submitted"] is True
    review = complete_work(f, by_peer_reviewer=True)
    review = replace(
        review,
        section_grades={**review.section_grades, planning: Grade.REQUIRES_IMPROVEMENT},
        answers={**review.answers, question: work.answers[question]},
    )
    audit.save_peer_review_draft(by="P-PR", work=review, at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    assert audit.status is AuditStatus.COMPLETED
    facts = report_facts(audit)
    assert facts["grade"] == "good"
    assert [s["key"] for s in facts["weak_sections"]] == [planning]
    assert [q["key"] for q in facts["no_answers"]] == [question]


def test_the_collector_is_held_off_inside_the_block_only() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("a failing report")
    assert gc.isenabled(), "enabled again after an exception"
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled(), "left as it was: someone else held it off"
    finally:
        gc.enable()

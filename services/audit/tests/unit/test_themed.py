"""Themed audits (Hillingdon 5.3): the bi-monthly periods, the schedule of reports, and the draft
findings-and-recommendations report."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from audit.cycles.domain.timetable import Month
from audit.hillingdon.domain import report as rp
from audit.hillingdon.domain.themed import PeriodState, ThemedPeriod, periods_of_year, schedule, themed_draft, themed_figures
from audit.reporting.domain.figures import Row

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_the_year_is_six_periods_of_two_months() -> None:
    periods = periods_of_year(2026)
    assert [str(p) for p in periods] == ["2026-01", "2026-03", "2026-05", "2026-07", "2026-09", "2026-11"]
    assert [str(m) for m in periods[-1].months] == ["2026-11", "2026-12"]
    assert periods[-1].due_on == date(2026, 12, 31) and periods[-1].label == "November-December 2026"
    assert str(periods[-1].next()) == "2027-01"


def test_a_period_starts_in_an_odd_month() -> None:
    with pytest.raises(ValueError, match="bi-monthly"):
        ThemedPeriod.parse("2026-12")
    assert ThemedPeriod.of(Month(2026, 12)) == ThemedPeriod.parse("2026-11")
    assert ThemedPeriod.of(Month(2026, 11)) == ThemedPeriod.parse("2026-11")


def test_the_schedule_shows_what_was_issued_drafted_missed_and_is_to_come() -> None:
    known = {"2026-01": ("issued", "supervision"), "2026-03": ("draft", "care plans"), "2026-09": ("draft", "decision making"), "2026-11": ("draft", "the child's views")}
    states = {str(p.period): p.state for p in schedule(2026, known, date(2026, 11, 2))}
    assert states == {
        "2026-01": PeriodState.ISSUED, "2026-03": PeriodState.OVERDUE, "2026-05": PeriodState.OVERDUE, "2026-07": PeriodState.OVERDUE,
        "2026-09": PeriodState.OVERDUE, "2026-11": PeriodState.DRAFT,
    }
    assert schedule(2027, {}, date(2026, 11, 2))[0].state is PeriodState.UPCOMING


def test_the_themed_draft_lists_its_findings_and_waits_for_recommendations() -> None:
    rows = [
        Row("A1", "2026-11", "T-1", "P1", "completed", True, "good", (), (("theme_supervision_regular", "Is supervision regular, reflective and recorded?"),)),
        Row("A2", "2026-12", "T-1", "P1", "completed", True, "requires_improvement", (), (("theme_supervision_regular", "Is supervision regular, reflective and recorded?"),)),
    ]
    figures = themed_figures(rows, "supervision")
    assert figures["theme"] == "supervision" and figures["completed"] == 2 and figures["grades"]["requires_improvement"] == 1
    draft = themed_draft(figures)
    assert "2 of 2 themed audits completed." in draft["findings"]
    assert 'Is supervision regular, reflective and recorded?: answered "no" in 2 of 2 audits' in draft["findings"]
    report = rp.EditableReport.generate(
        kind=rp.ReportKind.THEMED, period="2026-11", title="Themed audit: supervision", figures=figures, sections=draft,
        by="P-LEAD", roles=frozenset({"lead_qa_auditor"}), at=T0,
    )
    assert set(report.sections) == {"findings", "recommendations"}
    report.edit(by="P-LEAD", roles=frozenset({"lead_qa_auditor"}), sections={"recommendations": "Supervision training for new managers."}, at=T0)
    report.issue(by="P-LEAD", roles=frozenset({"lead_qa_auditor"}), pdf_id="p", at=T0)
    assert report.status is rp.ReportStatus.ISSUED

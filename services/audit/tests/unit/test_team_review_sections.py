"""Hillingdon 6.2 (seed 002): the team review pack's "Performance Indicators" and "Key practice issues
arising from IMRs or SCRs", entered by QA staff where no system supplies them, kept with the review
and shown in its PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from audit.common.errors import InvalidEntries, NotAllowed
from audit.reporting.domain.figures import team_review
from audit.team_review import pdf, schemas, store
from audit.team_review.domain.review import Indicator, IssueSource, PracticeIssue, Review, build_pack
from pypdf import PdfReader

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
MONTHS = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
QA = frozenset({"qa_officer"})


def review() -> Review:
    pack = build_pack(
        audits=team_review("T1", MONTHS, [], []),
        monitoring=[],
        feedback=[],
        complaints=[],
        compliments=[],
        observations=[],
        social_worker_ids=[],
    )
    return Review(
        id="R1",
        team_id="T1",
        to_month="2026-09",
        months=MONTHS,
        team_manager_id="TM1",
        service_manager_id="SM1",
        assistant_director_id="AD1",
        pack=pack,
        issued_by="QA1",
        issued_at=T0,
        updated_by="QA1",
        updated_at=T0,
    )


INDICATORS = [
    Indicator(name="Assessments completed within 45 working days", value="87%", target="90%", comment="Two late in July"),
    Indicator(name="Children seen within timescale", value="95%"),
]
ISSUES = [PracticeIssue(source=IssueSource.SCR, reference="SCR-2026-03", issue="Fathers not engaged in assessments")]


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_qa_staff_enter_the_performance_indicators() -> None:
    """Seed 002, 6.2: "Teams will have received the following performance information: - Performance
    Indicators". No system supplies them: QA staff enter them; the team's managers may not."""
    r = review()
    for who, roles in (("TM1", frozenset({"team_manager"})), ("SM1", frozenset({"service_manager"}))):
        with pytest.raises(NotAllowed):
            r.enter_indicators(by=who, roles=roles, indicators=INDICATORS, at=T1)
    r.enter_indicators(by="QA1", roles=QA, indicators=INDICATORS, at=T1)
    assert r.performance_indicators == INDICATORS and (r.updated_by, r.updated_at) == ("QA1", T1)


def test_an_indicator_has_a_name_and_a_value_and_is_listed_once() -> None:
    """Seed 002, 6.2 "Performance Indicators": each named once, with its figure."""
    r = review()
    with pytest.raises(InvalidEntries) as bad:
        r.enter_indicators(
            by="QA1",
            roles=QA,
            indicators=[*INDICATORS, Indicator(name="children seen within timescale", value="1"), Indicator(name="x", value=" ")],
            at=T1,
        )
    assert [e["field"] for e in bad.value.errors] == ["indicators.2.name", "indicators.3"]
    assert r.performance_indicators == []


def test_qa_staff_enter_the_key_practice_issues_from_imrs_or_scrs() -> None:
    """Seed 002, 6.2: "- Key practice issues arising from IMRs or SCRs"."""
    r = review()
    with pytest.raises(NotAllowed):
        r.enter_practice_issues(by="TM1", roles=frozenset({"team_manager"}), issues=ISSUES, at=T1)
    with pytest.raises(InvalidEntries) as bad:
        r.enter_practice_issues(
            by="QA1", roles=QA, issues=[PracticeIssue(source=IssueSource.IMR, reference=" ", issue="x")], at=T1
        )
    assert bad.value.errors[0]["field"] == "issues.0" and r.practice_issues == []
    r.enter_practice_issues(by="QA1", roles=QA, issues=ISSUES, at=T1)
    assert r.practice_issues == ISSUES


def test_the_sections_are_stored_answered_and_shown_in_the_pack_pdf() -> None:
    """Seed 002, 6.2: the pack the team receives shows the performance indicators and the key
    practice issues arising from IMRs or SCRs (or says none were entered)."""
    empty = text_of(pdf.render(review(), team_name="Hillingdon East", names={}, at=T0))
    assert "Performance indicators" in empty and "Not yet entered by QA staff." in empty
    assert "Key practice issues arising from IMRs or SCRs" in empty and "None entered by QA staff." in empty
    r = review()
    r.enter_indicators(by="QA1", roles=QA, indicators=INDICATORS, at=T1)
    r.enter_practice_issues(by="QA1", roles=QA, issues=ISSUES, at=T1)
    r.version = 3
    again = store.from_document({**store.to_document(r), "version": 3})
    assert again.performance_indicators == INDICATORS and again.practice_issues == ISSUES
    body = schemas.review_out(r).model_dump(mode="json")
    assert body["performance_indicators"][0] == {
        "name": INDICATORS[0].name,
        "value": "87%",
        "target": "90%",
        "comment": "Two late in July",
    }
    assert body["practice_issues"] == [
        {"source": "scr", "reference": "SCR-2026-03", "issue": "Fathers not engaged in assessments"}
    ]
    text = text_of(pdf.render(r, team_name="Hillingdon East", names={}, at=T1))
    assert "87%" in text and "90%" in text and "Two late in July" in text
    assert "SCR SCR-2026-03: Fathers not engaged in assessments" in text


def test_a_review_stored_before_the_sections_reads_back_with_none() -> None:
    """Seed 002, 6.2: reviews issued before these sections existed read back with both empty."""
    doc = store.to_document(review())
    del doc["performance_indicators"], doc["practice_issues"]
    old = store.from_document({**doc, "version": 1})
    assert old.performance_indicators == [] and old.practice_issues == []

"""The shipped tools as data: which sections each shows by case type and age, and the rules a
tool definition keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from audit.common.grades import AnswerScale, Grade
from audit.tools.catalogue import HAMPSHIRE, HILLINGDON, KENT, MULTI_AGENCY, THEMED, shipped_tool, shipped_tools
from audit.tools.domain.definition import (
    CaseType,
    NoSectionsShown,
    OpenBand,
    ProgrammeKind,
    add_months,
    open_band,
)
from audit.tools.schemas import ToolDefinition, definition_json, parse_definition
from pydantic import ValidationError

from .conftest import form

UNDER, OVER = OpenBand.UNDER_3_MONTHS, OpenBand.OVER_3_MONTHS
COMMON = ["assessment", "voice_of_the_child", "planning"]
TAIL = ["multi_agency_working", "supervision_and_oversight"]


def test_five_programmes_are_shipped() -> None:
    assert {t.tool_id for t in shipped_tools()} == {KENT, HAMPSHIRE, HILLINGDON, THEMED, MULTI_AGENCY}
    assert {t.definition.programme for t in shipped_tools()} == set(ProgrammeKind)


def test_kent_has_nine_sub_sections_with_supervision_commented_by_the_auditor_and_graded_by_the_peer_reviewer() -> None:
    kent = shipped_tool(KENT)
    assert len(kent.sections) == 9
    assert kent.peer_review and kent.moderation and kent.overall_grade
    oversight = [s for s in kent.sections if s.oversight]
    assert [s.key for s in oversight] == ["supervision_and_oversight"]
    f = form(KENT, CaseType.CIN, OVER)
    assert "supervision_and_oversight" not in f.graded_sections(by_peer_reviewer=False)
    assert "supervision_and_oversight" in f.graded_sections(by_peer_reviewer=True)


@pytest.mark.parametrize(
    ("case_type", "band", "expected"),
    [
        (CaseType.CIN, UNDER, ["referral_and_initial_response", *COMMON, *TAIL]),
        (CaseType.CIN, OVER, [*COMMON, "review_and_progress", *TAIL]),
        (CaseType.CP, UNDER, ["referral_and_initial_response", *COMMON, "child_protection", *TAIL]),
        (CaseType.CP, OVER, [*COMMON, "child_protection", "review_and_progress", *TAIL]),
        (CaseType.CIC, UNDER, ["referral_and_initial_response", *COMMON, "child_in_care", *TAIL]),
        (CaseType.CIC, OVER, [*COMMON, "child_in_care", "review_and_progress", *TAIL]),
    ],
)
def test_kent_sections_shown_depend_on_case_type_and_how_long_the_case_has_been_open(case_type: CaseType, band: OpenBand, expected: list[str]) -> None:
    assert [s.key for s in form(KENT, case_type, band).sections] == expected


@pytest.mark.parametrize("case_type", list(CaseType))
@pytest.mark.parametrize("band", [UNDER, OVER])
def test_hampshire_shows_all_fourteen_standards_with_yes_no_na_and_an_evidence_list_for_every_case(case_type: CaseType, band: OpenBand) -> None:
    f = form(HAMPSHIRE, case_type, band)
    questions = list(f.questions().values())
    assert [q.key for q in questions] == [f"standard_{n:02d}" for n in range(1, 15)]
    assert all(q.scale is AnswerScale.YES_NO_NA and q.evidence_list for q in questions)
    assert not f.overall_grade and not f.peer_review
    assert f.graded_sections(by_peer_reviewer=False) == []


@pytest.mark.parametrize(
    ("case_type", "journey"),
    [(CaseType.CIN, "safeguarding_journey"), (CaseType.CP, "safeguarding_journey"), (CaseType.CIC, "looked_after_journey")],
)
@pytest.mark.parametrize("band", [UNDER, OVER])
def test_hillingdon_asks_the_safeguarding_or_the_looked_after_lines_of_enquiry_by_case_type(case_type: CaseType, journey: str, band: OpenBand) -> None:
    keys = [s.key for s in form(HILLINGDON, case_type, band).sections]
    assert keys == [journey, "partnership_and_oversight", "child_voice_and_identity"]


def test_hillingdon_requires_an_action_plan_where_action_is_needed() -> None:
    assert set(shipped_tool(HILLINGDON).action_plan_for_grades) == {Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE, Grade.INADEQUATE_CRITICAL}


@pytest.mark.parametrize("case_type", list(CaseType))
def test_multi_agency_and_themed_show_every_section_whatever_the_case(case_type: CaseType) -> None:
    assert form(MULTI_AGENCY, case_type, UNDER).coded_case
    assert len(form(MULTI_AGENCY, case_type, OVER).sections) == 3
    assert len(form(THEMED, case_type, UNDER).sections) == 3
    assert not form(THEMED, case_type, UNDER).coded_case


@pytest.mark.parametrize(
    ("opened", "on", "band"),
    [
        (date(2026, 1, 10), date(2026, 4, 9), UNDER),
        (date(2026, 1, 10), date(2026, 4, 10), OVER),
        (date(2025, 11, 30), date(2026, 2, 27), UNDER),
        (date(2025, 11, 30), date(2026, 2, 28), OVER),  # no 30 February: the month's last day
        (date(2026, 10, 1), date(2026, 10, 1), UNDER),
    ],
)
def test_open_under_or_over_three_months(opened: date, on: date, band: OpenBand) -> None:
    assert open_band(opened, on) is band


def test_add_months_crosses_years_and_clamps_to_month_end() -> None:
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def _definition(**changes: object) -> dict[str, Any]:
    """The shipped Kent tool as JSON (nested dicts and lists), with ``changes``."""
    base = definition_json(shipped_tool(KENT))
    base.update(changes)
    return base


def test_a_tool_with_duplicate_question_keys_is_refused() -> None:
    raw = _definition()
    raw["sections"][1]["questions"][0]["key"] = raw["sections"][0]["questions"][0]["key"]
    with pytest.raises(ValidationError, match="question keys must be unique"):
        parse_definition(raw)


def test_moderation_or_a_supervision_section_without_a_peer_review_stage_is_refused() -> None:
    with pytest.raises(ValidationError, match="moderation needs a peer review"):
        parse_definition(_definition(peer_review=False))
    with pytest.raises(ValidationError, match="Value error, a supervision / management oversight section is graded by a peer reviewer"):
        ToolDefinition.model_validate(_definition(peer_review=False, moderation=False))


def test_the_domain_keeps_the_rules_across_fields_and_a_definition_reads_back_as_stored() -> None:
    kent = shipped_tool(KENT)
    with pytest.raises(ValueError, match="moderation needs a peer review"):
        replace(kent, peer_review=False)
    with pytest.raises(ValueError, match="section keys must be unique"):
        replace(kent, sections=[*kent.sections, kent.sections[0]])
    assert parse_definition(definition_json(kent)) == kent


def test_a_tool_showing_nothing_for_a_case_says_so() -> None:
    raw = _definition()
    for section in raw["sections"]:
        section["case_types"] = ["CP"]
    with pytest.raises(NoSectionsShown, match="no section for a CIN case"):
        parse_definition(raw).form_for(KENT, 2, CaseType.CIN, OVER)

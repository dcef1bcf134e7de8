"""Hillingdon 4.5.2 (seed 002): a complaint's level, the log of level 2 complaints and above, and the
annual extract of the lessons learned from it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from audit.common.errors import InvalidEntries
from audit.practice.domain.records import (
    ActionTaken,
    ComplaintKind,
    ComplaintLessonsEntries,
    Outcome,
    check_complaint,
    complaints_log,
    lessons_extract,
    logged,
)


def entries(**changes: Any) -> ComplaintLessonsEntries:
    values: dict[str, Any] = {
        "complaint_ref": "CR-1",
        "team_id": "T-1",
        "date_responded": date(2026, 5, 20),
        "summary": "Late visit.",
        "outcome": Outcome.UPHELD,
        "lessons_learned": "Visits to be rescheduled in writing.",
        "level": 2,
        "date_received": date(2026, 5, 1),
    }
    values.update(changes)
    return ComplaintLessonsEntries(**values)


def stored(
    ref: str,
    level: int | None,
    responded: str,
    *,
    team: str = "T-1",
    kind: str = "complaint",
    received: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    return {
        "_id": f"id-{ref}",
        "complaint_ref": ref,
        "kind": kind,
        "team_id": team,
        "level": level,
        "date_responded": responded,
        "date_received": received,
        "outcome": more.get("outcome", "upheld"),
        "actions_taken": more.get("actions", ["apology"]),
        "lessons_learned": more.get("lessons", f"Lesson of {ref}"),
        "month": responded[:7],
    }


def test_a_complaint_has_a_level_a_members_enquiry_none() -> None:
    """Seed 002, 4.5.2: "A log of the level 2 complaints and above is held": a complaint is recorded
    with its level (1, 2 or 3); a member's enquiry is not a complaint of a level."""
    check_complaint(entries())
    check_complaint(entries(level=None))
    with pytest.raises(InvalidEntries) as bad:
        check_complaint(entries(level=4))
    assert bad.value.errors[0]["field"] == "level"
    with pytest.raises(InvalidEntries) as enquiry:
        check_complaint(entries(kind=ComplaintKind.MEMBERS_ENQUIRY, level=2))
    assert enquiry.value.errors[0]["message"] == "a member's enquiry has no complaint level"
    with pytest.raises(InvalidEntries) as order:
        check_complaint(entries(date_received=date(2026, 6, 1)))
    assert order.value.errors[0]["field"] == "date_received"


def test_the_log_holds_level_2_complaints_and_above_with_how_long_each_took() -> None:
    """Seed 002, 4.5.2: "A log of the level 2 complaints and above is held to ensure that they are
    resolved in a timely way"."""
    records = [
        stored("CR-3", 3, "2026-06-10", received="2026-05-01"),
        stored("CR-1", 1, "2026-05-01"),
        stored("CR-2", 2, "2026-05-20"),
        stored("ME-1", None, "2026-05-02", kind="members_enquiry"),
        stored("CR-0", None, "2026-05-03"),
    ]
    assert [logged(r) for r in records] == [True, False, True, False, False]
    log = complaints_log(records)
    assert [(e["complaint_ref"], e["level"]) for e in log] == [("CR-2", 2), ("CR-3", 3)]
    assert log[0]["days_to_respond"] is None and log[1]["days_to_respond"] == 40
    assert log[1]["date_responded"] == date(2026, 6, 10) and log[1]["date_received"] == date(2026, 5, 1)


def test_the_annual_extract_gathers_the_years_lessons_per_team() -> None:
    """Seed 002, 4.5.2: the log "extracts learning from the report on an Annual basis identifying
    actions that need to be implemented within the service improvement plan"."""
    records = [
        stored("CR-2", 2, "2026-02-01", team="T-2", outcome="part_upheld", actions=["explanation", "review_procedure"]),
        stored("CR-3", 3, "2026-11-30", team="T-1", actions=["apology", "review_procedure"]),
        stored("CR-4", 2, "2025-12-31", team="T-1"),
        stored("CR-1", 1, "2026-03-01", team="T-1"),
    ]
    extract = lessons_extract(2026, records)
    assert extract["complaints"] == 2 and extract["by_level"] == {"2": 1, "3": 1}
    assert extract["outcomes"] == {"part_upheld": 1, "upheld": 1}
    assert extract["actions_taken"] == {"apology": 1, "explanation": 1, "review_procedure": 2}
    assert [(t["team_id"], [lesson["complaint_ref"] for lesson in t["lessons"]]) for t in extract["teams"]] == [
        ("T-1", ["CR-3"]),
        ("T-2", ["CR-2"]),
    ]
    assert extract["teams"][0]["lessons"][0]["lessons_learned"] == "Lesson of CR-3"
    assert lessons_extract(2024, records)["complaints"] == 0
    assert ActionTaken.REVIEW_PROCEDURE.value == "review_procedure"

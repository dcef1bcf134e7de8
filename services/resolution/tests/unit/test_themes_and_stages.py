"""Themes are data kept by administrators and QA officers; the stages are an ordered ladder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from resolution.domain import InvalidInput, NotAllowed, Stage, Theme
from resolution.domain.themes import theme_key

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
ADMIN = frozenset({"administrator"})
QA = frozenset({"qa_officer"})


@pytest.mark.parametrize("roles", [ADMIN, QA])
def test_an_administrator_or_qa_officer_adds_a_theme(roles) -> None:
    theme = Theme.create("  Care   planning ", "Plans not made or reviewed", by="P-1", roles=roles, at=AT)
    assert (theme.id, theme.name, theme.active, theme.version) == ("care-planning", "Care planning", True, 1)
    assert theme.key == theme_key("care PLANNING")


@pytest.mark.parametrize("roles", [frozenset(), frozenset({"iro"}), frozenset({"team_manager", "social_worker"})])
def test_nobody_else_changes_the_list_of_themes(roles) -> None:
    with pytest.raises(NotAllowed):
        Theme.create("Contact", "", by="P-1", roles=roles, at=AT)
    theme = Theme.create("Contact", "", by="P-1", roles=ADMIN, at=AT)
    with pytest.raises(NotAllowed):
        theme.change(by="P-2", roles=roles, at=AT, active=False)
    assert theme.active


def test_a_theme_needs_a_sensible_name_and_description() -> None:
    with pytest.raises(InvalidInput):
        Theme.create("   ", "", by="P-1", roles=ADMIN, at=AT)
    with pytest.raises(InvalidInput):
        Theme.create("x" * 121, "", by="P-1", roles=ADMIN, at=AT)
    with pytest.raises(InvalidInput):
        Theme.create("Contact", "x" * 1001, by="P-1", roles=ADMIN, at=AT)


def test_a_theme_is_renamed_or_retired_with_a_new_version_and_an_unchanged_one_keeps_its_version() -> None:
    theme = Theme.create("Contact", "", by="P-1", roles=ADMIN, at=AT)
    assert not theme.change(by="P-2", roles=QA, at=AT, name="Contact", active=True)
    assert theme.version == 1
    assert theme.change(by="P-2", roles=QA, at=AT, name="Family contact", active=False)
    assert (theme.name, theme.active, theme.version, theme.updated_by, theme.id) == ("Family contact", False, 2, "P-2", "contact")


def test_the_stages_in_order_with_who_answers_at_each() -> None:
    assert [s.title for s in Stage] == [
        "Informal (social worker)",
        "Stage 1 (team manager)",
        "Stage 2 (head of service)",
        "Stage 3 (service director)",
        "Stage 4 (executive director)",
        "Stage 5 (CAFCASS)",
    ]
    assert [s.rank for s in Stage] == [0, 1, 2, 3, 4, 5]
    assert Stage.INFORMAL.next() is Stage.STAGE_1 and Stage.STAGE_5.next() is None
    assert [s for s in Stage if s.recorded_by_owner] == [Stage.STAGE_5]
    assert "team_manager" in Stage.STAGE_1.responder_roles and "executive_director" in Stage.STAGE_4.responder_roles

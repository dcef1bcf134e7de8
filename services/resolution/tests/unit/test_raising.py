"""Raising a resolution: who may raise it, what the form takes from the directory, concerns
and themes, and the missing team manager or allocated worker entered on the form."""

from __future__ import annotations

import pytest
from resolution.domain import (
    CaseSnapshot,
    FormStatus,
    InvalidInput,
    NotAllowed,
    PersonRef,
    RuleConflict,
    Stage,
)
from resolution.domain import events as ev

OWNER, SW, TM = "IRO-1", "SW-1", "TM-1"


@pytest.mark.parametrize("role", ["iro", "cp_chair", "fgc_coordinator"])
def test_an_iro_cp_chair_or_fgc_coordinator_raises_a_form_they_then_own(world, role) -> None:
    form = world.raise_form(roles=frozenset({role, "social_worker"}))

    assert form.owner_id == OWNER
    assert form.owner_role == role
    assert form.status is FormStatus.OPEN
    assert form.current_stage is Stage.INFORMAL
    assert form.version == 1
    assert (form.case_id, form.case_type, form.team_id) == ("CASE-1", "CIC", "T-1")
    assert (form.contacts.allocated_worker_id, form.contacts.team_manager_id) == (SW, TM)
    [raised] = form.pull_events()
    assert isinstance(raised, ev.ResolutionRaised)
    assert raised.owner_role == role and raised.theme_ids == ("care-planning",)
    [entry] = form.history
    assert (entry.version, entry.action, entry.by) == (1, "raised", OWNER)


@pytest.mark.parametrize("roles", [frozenset(), frozenset({"social_worker"}), frozenset({"team_manager", "qa_officer"})])
def test_anyone_else_cannot_raise_a_resolution(world, roles) -> None:
    with pytest.raises(NotAllowed):
        world.raise_form(roles=roles)


def test_holding_several_raising_roles_needs_raised_as_and_only_a_held_role_is_accepted(world) -> None:
    both = frozenset({"iro", "cp_chair"})
    with pytest.raises(InvalidInput, match="raised_as"):
        world.raise_form(roles=both)
    with pytest.raises(NotAllowed):
        world.raise_form(roles=both, raised_as="fgc_coordinator")
    assert world.raise_form(roles=both, raised_as="cp_chair").owner_role == "cp_chair"


def test_a_closed_case_cannot_have_a_resolution_raised(world) -> None:
    closed = CaseSnapshot("CASE-9", "CIN", "closed", "T-1")
    with pytest.raises(RuleConflict) as refused:
        world.raise_form(case=closed)
    assert refused.value.slug == "case-closed"


def test_several_concerns_each_filed_under_a_theme(world) -> None:
    form = world.raise_form(concerns=[(world.themes["care-planning"], "No permanence plan."), (world.themes["contact"], "Contact not arranged.")])

    assert [(c.number, c.theme_id) for c in form.concerns] == [(1, "care-planning"), (2, "contact")]
    assert form.pull_events()[0].theme_ids == ("care-planning", "contact")


def test_concerns_need_a_current_theme_and_a_detail(world) -> None:
    with pytest.raises(InvalidInput, match="at least one concern"):
        world.raise_form(concerns=[])
    with pytest.raises(InvalidInput, match="retired"):
        world.raise_form(concerns=[(world.themes["old"], "Detail")])
    with pytest.raises(InvalidInput, match="detail"):
        world.raise_form(concerns=[(world.themes["contact"], "   ")])


def test_the_owner_adds_concerns_later_and_nobody_else_can(world) -> None:
    form = world.raise_form()
    form.pull_events()
    concern = form.add_concern(world.themes["contact"], "Sibling contact stopped.", by=OWNER, at=world.tick(hours=1))

    assert concern.number == 2 and form.version == 2
    assert form.history[-1].action == "concern-added"
    assert form.pull_events() == []
    with pytest.raises(NotAllowed):
        form.add_concern(world.themes["contact"], "More", by=SW, at=world.tick(hours=1))


def test_a_missing_team_manager_and_allocated_worker_entered_on_the_form_are_reported(world) -> None:
    bare = CaseSnapshot("CASE-2", "CP", "open", "T-1")
    form = world.raise_form(case=bare, team_manager=world.person(TM), allocated_worker=world.person(SW))

    assert form.contacts.team_manager_id == TM and form.contacts.team_manager_from_form
    assert form.contacts.allocated_worker_id == SW and form.contacts.allocated_worker_from_form
    raised, reported = form.pull_events()
    assert isinstance(reported, ev.CaseContactReported)
    assert (reported.case_id, reported.team_manager_id, reported.allocated_worker_id) == ("CASE-2", TM, SW)


def test_a_contact_the_directory_already_records_is_not_overwritten_from_the_form(world) -> None:
    other_tm = PersonRef("TM-2", frozenset({"team_manager"}))
    with pytest.raises(RuleConflict) as refused:
        world.raise_form(team_manager=other_tm)
    assert refused.value.slug == "contact-already-recorded"
    # The same person the directory already has is not news: no event.
    form = world.raise_form(team_manager=world.person(TM))
    assert [type(e) for e in form.pull_events()] == [ev.ResolutionRaised]


def test_a_contact_entered_must_be_active_and_hold_a_fitting_role(world) -> None:
    bare = CaseSnapshot("CASE-2", "CP", "open", "T-1")
    with pytest.raises(InvalidInput, match="role"):
        world.raise_form(case=bare, team_manager=world.person(SW))
    with pytest.raises(InvalidInput, match="role"):
        world.raise_form(case=bare, allocated_worker=world.person(TM))
    with pytest.raises(InvalidInput, match="no longer active"):
        world.raise_form(case=bare, team_manager=PersonRef("TM-9", frozenset({"team_manager"}), active=False))


def test_the_owner_reports_a_missing_contact_after_raising(world) -> None:
    form = world.raise_form(case=CaseSnapshot("CASE-2", "CP", "open", "T-1"))
    form.pull_events()

    with pytest.raises(NotAllowed):
        form.report_case_contacts(by=SW, at=world.tick(hours=1), allocated_worker=world.person(SW))
    with pytest.raises(InvalidInput):
        form.report_case_contacts(by=OWNER, at=world.tick(hours=1))
    form.report_case_contacts(by=OWNER, at=world.tick(hours=1), allocated_worker=world.person(SW))
    [reported] = form.pull_events()
    assert reported.allocated_worker_id == SW and reported.team_manager_id is None
    version = form.version
    form.report_case_contacts(by=OWNER, at=world.tick(hours=1), allocated_worker=world.person(SW))
    assert form.version == version and form.pull_events() == []


def test_a_form_can_start_at_a_later_stage_when_informal_resolution_is_not_appropriate(world) -> None:
    form = world.raise_form(first_stage=Stage.STAGE_2)
    assert form.current_stage is Stage.STAGE_2
    assert [r.stage for r in form.stages] == [Stage.STAGE_2]


def test_who_may_read_a_form(world) -> None:
    form = world.delegated()
    assert form.can_read(OWNER, frozenset({"iro"}))
    assert form.can_read(SW, frozenset({"social_worker"}))
    assert form.can_read("QA-1", frozenset({"qa_officer"}))
    assert not form.can_read("SW-7", frozenset({"social_worker"}))
    assert not form.can_read("IRO-2", frozenset({"iro"}))

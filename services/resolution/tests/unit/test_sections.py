"""Delegated sections: one writer at a time, drafts kept, finalise makes it read-only,
reactivate, retract (keeping the delegate's draft), recall and re-delegate."""

from __future__ import annotations

from datetime import date

import pytest
from resolution.domain import (
    DelegationStatus,
    InvalidInput,
    NextStep,
    NotAllowed,
    PersonRef,
    RuleConflict,
    SectionState,
    Stage,
    StageDates,
)
from resolution.domain import events as ev

OWNER, SW, SW2, TM = "IRO-1", "SW-1", "SW-2", "TM-1"
STRANGER = "SW-9"


def _section_history(form, stage=Stage.INFORMAL):
    return [h for h in form.history if h.part == "section" and h.stage is stage]


def test_the_owner_delegates_a_section_to_one_person_and_the_event_carries_the_task(world) -> None:
    form = world.raise_form()
    form.record_stage_dates(Stage.INFORMAL, StageDates(date(2026, 3, 2), date(2026, 3, 16)), by=OWNER, at=world.tick(minutes=1))
    form.pull_events()
    form.delegate_section(Stage.INFORMAL, world.person(SW), by=OWNER, at=world.tick(minutes=1))

    section = form.current.section
    assert section.state is SectionState.DELEGATED and section.delegate_id == SW
    [delegated] = form.pull_events()
    assert isinstance(delegated, ev.SectionDelegated)
    assert (delegated.delegate_id, delegated.form_id, delegated.stage, delegated.by) == (SW, "F-1", Stage.INFORMAL, OWNER)
    assert delegated.due_on == date(2026, 3, 16)  # the stage's response-due date
    assert delegated.delegation_number == 1 and delegated.recalled_delegate_id is None


def test_an_explicit_due_date_wins_over_the_stage_date(world) -> None:
    form = world.raise_form()
    form.delegate_section(Stage.INFORMAL, world.person(SW), by=OWNER, at=world.tick(minutes=1), due_on=date(2026, 3, 9))
    assert form.pull_events()[-1].due_on == date(2026, 3, 9)


def test_only_the_owner_delegates_and_only_to_someone_who_answers_at_that_stage(world) -> None:
    form = world.raise_form()
    with pytest.raises(NotAllowed):
        form.delegate_section(Stage.INFORMAL, world.person(SW), by=TM, at=world.tick(minutes=1))
    with pytest.raises(InvalidInput, match="role"):
        form.delegate_section(Stage.INFORMAL, world.person(TM), by=OWNER, at=world.tick(minutes=1))
    with pytest.raises(InvalidInput, match="someone else"):
        form.delegate_section(Stage.INFORMAL, PersonRef(OWNER, frozenset({"social_worker", "iro"})), by=OWNER, at=world.tick(minutes=1))
    with pytest.raises(InvalidInput, match="no longer active"):
        form.delegate_section(Stage.INFORMAL, PersonRef("SW-8", frozenset({"social_worker"}), active=False), by=OWNER, at=world.tick(minutes=1))
    assert form.version == 1 and form.current.section.state is SectionState.WITH_OWNER


def test_stage_5_is_recorded_by_the_owner_on_cafcass_behalf_and_never_delegated(world) -> None:
    form = world.raise_form(first_stage=Stage.STAGE_5)
    with pytest.raises(RuleConflict) as refused:
        form.delegate_section(Stage.STAGE_5, world.person(SW), by=OWNER, at=world.tick(minutes=1))
    assert refused.value.slug == "recorded-by-owner"
    form.save_section(Stage.STAGE_5, "CAFCASS: the guardian agrees the plan will be reviewed.", by=OWNER, at=world.tick(minutes=1))
    form.finalise_section(Stage.STAGE_5, by=OWNER, at=world.tick(minutes=1))
    assert form.current.section.state is SectionState.FINALISED
    finalised = form.pull_events()[-1]
    assert isinstance(finalised, ev.SectionFinalised) and finalised.delegate_id is None


def test_while_delegated_only_the_delegate_writes_the_owner_included(world) -> None:
    form = world.delegated()
    for intruder in (OWNER, TM, STRANGER):
        with pytest.raises(NotAllowed):
            form.save_section(Stage.INFORMAL, "overwritten", by=intruder, at=world.tick(minutes=1))
        with pytest.raises(NotAllowed):
            form.finalise_section(Stage.INFORMAL, by=intruder, at=world.tick(minutes=1))
    form.save_section(Stage.INFORMAL, "My response", by=SW, at=world.tick(minutes=1))
    assert form.current.section.response == "My response"
    assert form.current.section.updated_by == SW


def test_every_draft_saved_is_kept_in_the_section_history(world) -> None:
    form = world.delegated()
    for text in ("first thoughts", "second draft", "final words"):
        form.save_section(Stage.INFORMAL, text, by=SW, at=world.tick(minutes=5))

    saves = [h for h in _section_history(form) if h.action == "section-draft-saved"]
    assert [h.details["response"] for h in saves] == ["first thoughts", "second draft", "final words"]
    assert all(h.by == SW for h in saves)
    assert [h.version for h in saves] == sorted({h.version for h in saves})


def test_finalise_makes_the_section_read_only(world) -> None:
    form = world.delegated()
    form.save_section(Stage.INFORMAL, "Plan agreed at the next review.", by=SW, at=world.tick(minutes=1))
    form.pull_events()
    form.finalise_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))

    section = form.current.section
    assert section.state is SectionState.FINALISED and section.finalised_by == SW
    assert section.delegations[-1].status is DelegationStatus.COMPLETED
    [finalised] = form.pull_events()
    assert isinstance(finalised, ev.SectionFinalised) and finalised.delegate_id == SW and finalised.delegation_number == 1
    for who in (SW, OWNER):
        with pytest.raises(RuleConflict) as refused:
            form.save_section(Stage.INFORMAL, "edit after finalise", by=who, at=world.tick(minutes=1))
        assert refused.value.slug == "section-finalised"
    with pytest.raises(NotAllowed):
        form.save_section(Stage.INFORMAL, "edit after finalise", by=STRANGER, at=world.tick(minutes=1))
    assert section.response == "Plan agreed at the next review."


def test_finalise_twice_is_refused(world) -> None:
    form = world.delegated()
    form.save_section(Stage.INFORMAL, "Done", by=SW, at=world.tick(minutes=1))
    form.finalise_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))
    version = form.version
    with pytest.raises(RuleConflict) as refused:
        form.finalise_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))
    assert refused.value.slug == "section-finalised"
    assert form.version == version


def test_an_empty_section_cannot_be_finalised(world) -> None:
    form = world.delegated()
    with pytest.raises(RuleConflict, match="Nothing has been written"):
        form.finalise_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))


def test_the_owner_reactivates_a_completed_section_for_its_delegate(world) -> None:
    form = world.delegated()
    form.save_section(Stage.INFORMAL, "Done", by=SW, at=world.tick(minutes=1))
    form.finalise_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))
    form.pull_events()

    with pytest.raises(NotAllowed):
        form.reactivate_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))
    form.reactivate_section(Stage.INFORMAL, by=OWNER, at=world.tick(minutes=1))

    section = form.current.section
    assert section.state is SectionState.DELEGATED and section.delegate_id == SW
    assert section.response == "Done"
    [reactivated] = form.pull_events()
    assert isinstance(reactivated, ev.SectionReactivated) and reactivated.delegate_id == SW
    form.save_section(Stage.INFORMAL, "Done, with the date of the review.", by=SW, at=world.tick(minutes=1))
    assert section.response == "Done, with the date of the review."


def test_only_a_finalised_section_can_be_reactivated(world) -> None:
    form = world.delegated()
    with pytest.raises(RuleConflict) as refused:
        form.reactivate_section(Stage.INFORMAL, by=OWNER, at=world.tick(minutes=1))
    assert refused.value.slug == "section-not-finalised"


def test_retracting_keeps_the_delegates_unfinalised_draft_for_the_owner(world) -> None:
    form = world.delegated()
    form.save_section(Stage.INFORMAL, "Half-written answer about the plan", by=SW, at=world.tick(minutes=1))
    form.pull_events()

    form.retract_section(Stage.INFORMAL, reason="Not completed in time", note="Needed for the review on Friday", by=OWNER, at=world.tick(days=1))

    section = form.current.section
    assert section.state is SectionState.WITH_OWNER
    assert section.response == "Half-written answer about the plan"  # not blanked, unlike the seed's system
    retraction = section.delegations[-1]
    assert (retraction.status, retraction.retract_reason, retraction.retract_note) == (
        DelegationStatus.RETRACTED, "Not completed in time", "Needed for the review on Friday",
    )
    entry = _section_history(form)[-1]
    assert entry.action == "section-retracted" and entry.details["draft"] == "Half-written answer about the plan"
    [retracted] = form.pull_events()
    assert isinstance(retracted, ev.SectionRetracted) and retracted.draft_kept and retracted.delegate_id == SW
    # The section is back with the owner: the former delegate can no longer write, the owner can.
    with pytest.raises(NotAllowed):
        form.save_section(Stage.INFORMAL, "late", by=SW, at=world.tick(minutes=1))
    form.save_section(Stage.INFORMAL, section.response + " (completed by the IRO)", by=OWNER, at=world.tick(minutes=1))


def test_retract_needs_a_reason_and_a_note_and_an_active_delegation(world) -> None:
    form = world.delegated()
    with pytest.raises(InvalidInput):
        form.retract_section(Stage.INFORMAL, reason="", note="note", by=OWNER, at=world.tick(minutes=1))
    with pytest.raises(InvalidInput):
        form.retract_section(Stage.INFORMAL, reason="Late", note="  ", by=OWNER, at=world.tick(minutes=1))
    with pytest.raises(NotAllowed):
        form.retract_section(Stage.INFORMAL, reason="Late", note="note", by=SW, at=world.tick(minutes=1))
    assert form.current.section.state is SectionState.DELEGATED
    form.retract_section(Stage.INFORMAL, reason="Late", note="note", by=OWNER, at=world.tick(minutes=1))
    with pytest.raises(RuleConflict) as refused:
        form.retract_section(Stage.INFORMAL, reason="Late", note="note", by=OWNER, at=world.tick(minutes=1))
    assert refused.value.slug == "section-not-active"


def test_retract_then_re_delegate_keeps_the_earlier_draft_readable(world) -> None:
    form = world.delegated()
    form.save_section(Stage.INFORMAL, "SW-1's draft", by=SW, at=world.tick(minutes=1))
    form.retract_section(Stage.INFORMAL, reason="Off sick", note="Passing to SW-2", by=OWNER, at=world.tick(minutes=1))
    form.delegate_section(Stage.INFORMAL, world.person(SW2), by=OWNER, at=world.tick(minutes=1))

    section = form.current.section
    assert section.delegate_id == SW2 and section.response == "SW-1's draft"
    assert [(d.delegate_id, d.status) for d in section.delegations] == [(SW, DelegationStatus.RETRACTED), (SW2, DelegationStatus.ACTIVE)]
    saves = [h for h in _section_history(form) if h.action == "section-draft-saved"]
    assert [(h.by, h.details["response"]) for h in saves] == [(SW, "SW-1's draft")]
    with pytest.raises(NotAllowed):
        form.save_section(Stage.INFORMAL, "SW-1 again", by=SW, at=world.tick(minutes=1))
    form.save_section(Stage.INFORMAL, "SW-2's answer", by=SW2, at=world.tick(minutes=1))
    saves = [h for h in _section_history(form) if h.action == "section-draft-saved"]
    assert [h.details["response"] for h in saves] == ["SW-1's draft", "SW-2's answer"]
    assert form.participants == [OWNER, SW, SW2]


def test_re_delegating_an_active_section_recalls_it_from_the_previous_delegate(world) -> None:
    form = world.delegated()
    form.save_section(Stage.INFORMAL, "draft", by=SW, at=world.tick(minutes=1))
    form.pull_events()
    form.delegate_section(Stage.INFORMAL, world.person(SW2), by=OWNER, at=world.tick(minutes=1))

    first, second = form.current.section.delegations
    assert first.status is DelegationStatus.RECALLED and second.status is DelegationStatus.ACTIVE
    [delegated] = form.pull_events()
    assert delegated.delegate_id == SW2 and delegated.recalled_delegate_id == SW and delegated.delegation_number == 2
    assert form.current.section.response == "draft"
    with pytest.raises(RuleConflict) as refused:
        form.delegate_section(Stage.INFORMAL, world.person(SW2), by=OWNER, at=world.tick(minutes=1))
    assert refused.value.slug == "already-delegated"


def test_a_finalised_section_is_reactivated_before_being_delegated_again(world) -> None:
    form = world.delegated()
    form.save_section(Stage.INFORMAL, "Done", by=SW, at=world.tick(minutes=1))
    form.finalise_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))
    with pytest.raises(RuleConflict) as refused:
        form.delegate_section(Stage.INFORMAL, world.person(SW2), by=OWNER, at=world.tick(minutes=1))
    assert refused.value.slug == "section-finalised"


def test_an_undelegated_section_is_written_by_the_owner_only(world) -> None:
    form = world.raise_form()
    with pytest.raises(NotAllowed):
        form.save_section(Stage.INFORMAL, "text", by=SW, at=world.tick(minutes=1))
    form.save_section(Stage.INFORMAL, "Discussed with the social worker by phone.", by=OWNER, at=world.tick(minutes=1))
    form.finalise_section(Stage.INFORMAL, by=OWNER, at=world.tick(minutes=1))
    form.reactivate_section(Stage.INFORMAL, by=OWNER, at=world.tick(minutes=1))
    assert form.current.section.state is SectionState.WITH_OWNER


def test_sections_of_a_stage_not_activated_or_already_over_cannot_be_worked_on(world) -> None:
    form = world.raise_form()
    with pytest.raises(RuleConflict) as refused:
        form.delegate_section(Stage.STAGE_1, world.person(TM), by=OWNER, at=world.tick(minutes=1))
    assert refused.value.slug == "stage-not-active"
    form.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=1))
    with pytest.raises(RuleConflict) as refused:
        form.save_section(Stage.INFORMAL, "late", by=OWNER, at=world.tick(minutes=1))
    assert refused.value.slug == "stage-over"


def test_a_response_has_a_size_limit(world) -> None:
    form = world.delegated()
    with pytest.raises(InvalidInput):
        form.save_section(Stage.INFORMAL, "x" * 20_001, by=SW, at=world.tick(minutes=1))

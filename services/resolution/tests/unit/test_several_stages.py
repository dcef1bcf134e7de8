"""Several escalation stages active at once, each with its own dates, section and resolution details.

Seed 001: "The Escalation section can be used to activate the various stages needed; either one or
more can be selected depending on how many levels of escalation are required."
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
from resolution.domain import FormStatus, InvalidInput, NextStep, NotAllowed, RuleConflict, SectionState, Stage, StageDates
from resolution.domain import events as ev
from resolution.domain.closing_reasons import ClosingReason

from .conftest import HOS, OWNER, SW, TM

ADMIN = frozenset({"administrator"})


def test_one_or_more_stages_are_selected_when_raising_each_with_its_own_record(world) -> None:
    """Seed 001: "either one or more can be selected depending on how many levels of escalation are required"."""
    form = world.raise_form(stages=[Stage.STAGE_2, Stage.INFORMAL, Stage.STAGE_1])
    assert [r.stage for r in form.stages] == [Stage.INFORMAL, Stage.STAGE_1, Stage.STAGE_2]  # lowest first
    assert form.active_stages == [Stage.INFORMAL, Stage.STAGE_1, Stage.STAGE_2]
    assert form.current_stage is Stage.STAGE_2 and form.status is FormStatus.OPEN
    assert len({id(r.section) for r in form.stages}) == 3 and len({id(r.dates) for r in form.stages}) == 3
    [raised] = form.pull_events()
    assert isinstance(raised, ev.ResolutionRaised)
    assert raised.first_stage is Stage.INFORMAL and raised.stages == (Stage.INFORMAL, Stage.STAGE_1, Stage.STAGE_2)
    assert form.history[-1].details["stages"] == ["informal", "stage-1", "stage-2"]


def test_raising_with_one_stage_is_as_before(world) -> None:
    form = world.raise_form(first_stage=Stage.STAGE_1)
    assert [r.stage for r in form.stages] == [Stage.STAGE_1] and form.active_stages == [Stage.STAGE_1]
    assert "stages" not in form.history[-1].details
    default = world.raise_form()
    assert default.active_stages == [Stage.INFORMAL]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"stages": []}, "at least one"),
        ({"stages": [Stage.STAGE_1, Stage.STAGE_1]}, "once"),
        ({"stages": [Stage.STAGE_1, Stage.STAGE_2], "first_stage": Stage.INFORMAL}, "lowest"),
    ],
)
def test_a_selection_that_makes_no_sense_is_refused_on_raising(world, kw, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        world.raise_form(**kw)


def test_the_owner_activates_further_stages_at_once_and_an_event_names_them(world) -> None:
    """Seed 001: "The Escalation section can be used to activate the various stages needed"."""
    form = world.raise_form()
    form.pull_events()
    version = form.version
    activated = form.activate_stages([Stage.STAGE_2, Stage.STAGE_1], by=OWNER, at=world.tick(days=2))
    assert activated == [Stage.STAGE_1, Stage.STAGE_2]
    assert form.active_stages == [Stage.INFORMAL, Stage.STAGE_1, Stage.STAGE_2] and form.current_stage is Stage.STAGE_2
    assert form.status is FormStatus.ESCALATED and form.version == version + 1
    assert all(form.stage(s).dates.raised_on == world.now.date() and form.stage(s).activated_by == OWNER for s in activated)
    [event] = form.pull_events()
    assert isinstance(event, ev.StagesActivated)
    assert event.stages == (Stage.STAGE_1, Stage.STAGE_2) and event.active_stages == (Stage.INFORMAL, Stage.STAGE_1, Stage.STAGE_2)
    assert form.history[-1].action == "stages-activated" and form.history[-1].details == {"stages": ["stage-1", "stage-2"]}


def test_only_the_owner_activates_stages(world) -> None:
    form = world.delegated(Stage.INFORMAL)
    before = copy.deepcopy(form.stages)
    with pytest.raises(NotAllowed):
        form.activate_stages([Stage.STAGE_1], by=SW, at=world.tick(minutes=1))
    assert form.stages == before


def test_a_stage_already_active_or_at_or_below_one_that_ended_is_refused_and_nothing_changes(world) -> None:
    form = world.raise_form(stages=[Stage.INFORMAL, Stage.STAGE_1])
    form.record_resolution(Stage.STAGE_1, resolved=False, next_step=NextStep.ESCALATE, escalate_to=Stage.STAGE_3, by=OWNER, at=world.tick(days=1))
    form.pull_events()
    version, before, status = form.version, copy.deepcopy(form.stages), form.status
    with pytest.raises(RuleConflict) as active:
        form.activate_stages([Stage.STAGE_4, Stage.STAGE_3], by=OWNER, at=world.tick(minutes=1))
    assert active.value.slug == "stage-already-active"
    with pytest.raises(RuleConflict) as passed:
        form.activate_stages([Stage.STAGE_1], by=OWNER, at=world.tick(minutes=1))
    assert passed.value.slug == "stage-passed"
    # Informal is still open, but it is below Stage 1, which ended: activating it again is no more possible than re-opening Stage 1.
    with pytest.raises(RuleConflict, match="already active"):
        form.activate_stages([Stage.INFORMAL], by=OWNER, at=world.tick(minutes=1))
    assert (form.version, form.stages, form.status, form.pull_events()) == (version, before, status, [])
    form.activate_stages([Stage.STAGE_2], by=OWNER, at=world.tick(minutes=1))  # above the ended Stage 1: allowed
    assert form.active_stages == [Stage.INFORMAL, Stage.STAGE_2, Stage.STAGE_3]


def test_each_active_stage_is_delegated_written_and_finalised_on_its_own(world) -> None:
    """Seed 001: "This section is to be delegated to the Social Worker" … "to the Team Manager": one
    section per stage, each with its own delegate."""
    form = world.raise_form(stages=[Stage.INFORMAL, Stage.STAGE_1])
    form.record_stage_dates(Stage.STAGE_1, StageDates(date(2026, 3, 2), date(2026, 3, 20)), by=OWNER, at=world.tick(minutes=1))
    form.pull_events()
    form.delegate_section(Stage.INFORMAL, world.person(SW), by=OWNER, at=world.tick(minutes=1), due_on=date(2026, 3, 9))
    form.delegate_section(Stage.STAGE_1, world.person(TM), by=OWNER, at=world.tick(minutes=1))
    delegated = form.pull_events()
    assert [(e.stage, e.delegate_id, e.due_on) for e in delegated] == [
        (Stage.INFORMAL, SW, date(2026, 3, 9)), (Stage.STAGE_1, TM, date(2026, 3, 20)),
    ]
    with pytest.raises(NotAllowed):  # the social worker writes only in the section delegated to them
        form.save_section(Stage.STAGE_1, "not mine", by=SW, at=world.tick(minutes=1))
    form.save_section(Stage.INFORMAL, "SW's answer", by=SW, at=world.tick(minutes=1))
    form.save_section(Stage.STAGE_1, "TM's draft", by=TM, at=world.tick(minutes=1))
    form.finalise_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))
    assert form.stage(Stage.INFORMAL).section.state is SectionState.FINALISED
    assert form.stage(Stage.STAGE_1).section.state is SectionState.DELEGATED and form.stage(Stage.STAGE_1).section.response == "TM's draft"
    form.retract_section(Stage.STAGE_1, reason="Team manager on leave", note="Back in a fortnight", by=OWNER, at=world.tick(minutes=1))
    assert form.stage(Stage.STAGE_1).section.response == "TM's draft"  # kept
    form.reactivate_section(Stage.INFORMAL, by=OWNER, at=world.tick(minutes=1))
    assert form.stage(Stage.INFORMAL).section.state is SectionState.DELEGATED
    kinds = [type(e).__name__ for e in form.pull_events()]
    assert kinds == ["SectionFinalised", "SectionRetracted", "SectionReactivated"]


def test_the_form_is_resolved_when_every_active_stage_has_its_resolution(world) -> None:
    """Seed 001: "At the end of each stage there is a resolution section that is to only be completed by
    the IRO, CP Chair or FGC Coordinator"."""
    form = world.raise_form(stages=[Stage.INFORMAL, Stage.STAGE_1])
    form.pull_events()
    with pytest.raises(NotAllowed):
        form.record_resolution(Stage.INFORMAL, resolved=True, impact="x", by=TM, at=world.tick(days=1))
    form.record_resolution(Stage.INFORMAL, resolved=True, impact="Contact restarted", by=OWNER, at=world.tick(days=3))
    assert form.status is FormStatus.OPEN and form.finished_at is None and form.active_stages == [Stage.STAGE_1]
    assert form.pull_events() == [] and form.history[-1].action == "stage-resolved"
    with pytest.raises(RuleConflict) as over:  # the ended stage is over; the other goes on
        form.save_section(Stage.INFORMAL, "late", by=OWNER, at=world.tick(minutes=1))
    assert over.value.slug == "stage-over"
    form.delegate_section(Stage.STAGE_1, world.person(TM), by=OWNER, at=world.tick(minutes=1))
    form.save_section(Stage.STAGE_1, "Plan agreed", by=TM, at=world.tick(days=1))
    form.finalise_section(Stage.STAGE_1, by=TM, at=world.tick(minutes=1))
    form.pull_events()
    form.record_resolution(Stage.STAGE_1, resolved=True, impact="Permanence plan agreed", by=OWNER, at=world.tick(days=2))
    assert form.status is FormStatus.RESOLVED and form.active_stages == []
    [resolved] = form.pull_events()
    assert isinstance(resolved, ev.ResolutionResolved) and resolved.stage is Stage.STAGE_1
    # Reports: each stage's own duration, from its own raised date (2 March) to its own resolution.
    assert [(d["stage"], d["days"]) for d in form.stage_durations()] == [("informal", 4), ("stage-1", 7)]  # 6th and 9th March
    assert form.days_to_finish() == 7


def test_escalating_to_a_stage_already_active_does_not_open_it_twice(world) -> None:
    form = world.raise_form(stages=[Stage.INFORMAL, Stage.STAGE_2])
    form.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.ESCALATE, escalate_to=Stage.STAGE_2, by=OWNER, at=world.tick(days=1))
    assert [r.stage for r in form.stages] == [Stage.INFORMAL, Stage.STAGE_2] and form.active_stages == [Stage.STAGE_2]
    form.record_resolution(Stage.STAGE_2, resolved=False, next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=1))
    assert form.active_stages == [Stage.STAGE_3]
    other = world.raise_form(stages=[Stage.INFORMAL, Stage.STAGE_1])
    other.record_resolution(Stage.STAGE_1, resolved=True, impact="Agreed", by=OWNER, at=world.tick(days=1))
    version = other.version
    with pytest.raises(RuleConflict) as passed:  # Stage 1 has ended: escalate above it
        other.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=1))
    assert passed.value.slug == "stage-passed" and other.version == version and other.stage(Stage.INFORMAL).resolution is None


def test_closing_unresolved_ends_the_form_but_waits_for_every_delegated_section(world) -> None:
    moved = ClosingReason.create("Child moved out of area", "", by="ADM-1", roles=ADMIN, at=world.now)
    form = world.raise_form(stages=[Stage.STAGE_1, Stage.STAGE_2])
    form.delegate_section(Stage.STAGE_2, world.person(HOS), by=OWNER, at=world.tick(minutes=1))
    form.pull_events()
    version = form.version
    with pytest.raises(RuleConflict, match="Stage 2") as waiting:
        form.record_resolution(Stage.STAGE_1, resolved=False, next_step=NextStep.CLOSE_UNRESOLVED, closing_reason=moved, by=OWNER, at=world.tick(days=1))
    assert waiting.value.slug == "section-still-delegated" and form.version == version and form.status is FormStatus.OPEN
    form.save_section(Stage.STAGE_2, "Head of service's draft", by=HOS, at=world.tick(minutes=1))
    form.retract_section(Stage.STAGE_2, reason="Child moved", note="Nothing more to answer", by=OWNER, at=world.tick(minutes=1))
    form.record_resolution(Stage.STAGE_1, resolved=False, next_step=NextStep.CLOSE_UNRESOLVED, closing_reason=moved, by=OWNER, at=world.tick(days=1))
    assert form.status is FormStatus.CLOSED_UNRESOLVED and form.active_stages == []
    assert form.stage(Stage.STAGE_2).section.response == "Head of service's draft"  # nothing lost
    with pytest.raises(RuleConflict) as finished:
        form.activate_stages([Stage.STAGE_3], by=OWNER, at=world.tick(minutes=1))
    assert finished.value.slug == "form-finished"

"""Resolution details at the end of each stage (owner only), the stage dates, the form's status,
and escalation through all six stages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from resolution.domain import FormStatus, InvalidInput, NextStep, NotAllowed, RuleConflict, SectionState, Stage, StageDates
from resolution.domain import events as ev
from resolution.domain.closing_reasons import ClosingReason

OWNER, SW, TM = "IRO-1", "SW-1", "TM-1"
RESPONDER = {Stage.INFORMAL: "SW-1", Stage.STAGE_1: "TM-1", Stage.STAGE_2: "HOS-1", Stage.STAGE_3: "SD-1", Stage.STAGE_4: "ED-1"}


def test_resolved_with_the_impact_for_the_child(world) -> None:
    form = world.raise_form()
    form.pull_events()
    form.record_resolution(Stage.INFORMAL, resolved=True, impact="Permanence plan agreed; child told.", by=OWNER, at=world.tick(days=3))

    assert form.status is FormStatus.RESOLVED and form.status.finished
    assert form.current.resolution.impact == "Permanence plan agreed; child told."
    assert form.finished_at == world.now
    [resolved] = form.pull_events()
    assert isinstance(resolved, ev.ResolutionResolved) and resolved.stage is Stage.INFORMAL and resolved.days_to_resolution == 3


def test_resolved_needs_the_impact_and_takes_no_next_step(world) -> None:
    form = world.raise_form()
    with pytest.raises(InvalidInput, match="impact"):
        form.record_resolution(Stage.INFORMAL, resolved=True, by=OWNER, at=world.tick(days=1))
    with pytest.raises(InvalidInput, match="impact"):
        form.record_resolution(Stage.INFORMAL, resolved=True, impact="  ", by=OWNER, at=world.tick(days=1))
    with pytest.raises(InvalidInput):
        form.record_resolution(Stage.INFORMAL, resolved=True, impact="Better", next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=1))
    assert form.status is FormStatus.OPEN and form.version == 1


def test_not_resolved_needs_a_next_step(world) -> None:
    form = world.raise_form()
    with pytest.raises(InvalidInput, match="next step"):
        form.record_resolution(Stage.INFORMAL, resolved=False, by=OWNER, at=world.tick(days=1))
    with pytest.raises(InvalidInput):
        form.record_resolution(Stage.INFORMAL, resolved=False, next_step="maybe", by=OWNER, at=world.tick(days=1))
    with pytest.raises(InvalidInput):
        form.record_resolution(Stage.INFORMAL, resolved=False, impact="x", next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=1))
    assert form.current.resolution is None


def test_not_resolved_escalates_to_the_next_stage(world) -> None:
    form = world.raise_form()
    form.pull_events()
    form.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=2))

    assert form.status is FormStatus.ESCALATED and form.current_stage is Stage.STAGE_1
    assert form.stage(Stage.INFORMAL).resolution.escalated_to is Stage.STAGE_1
    assert form.current.dates.raised_on == world.now.date()
    [escalated] = form.pull_events()
    assert isinstance(escalated, ev.StageEscalated)
    assert (escalated.from_stage, escalated.to_stage, escalated.team_id) == (Stage.INFORMAL, Stage.STAGE_1, "T-1")


def test_escalation_may_skip_to_a_later_stage_but_never_go_back(world) -> None:
    form = world.raise_form(first_stage=Stage.STAGE_1)
    with pytest.raises(InvalidInput, match="goes up"):
        form.record_resolution(Stage.STAGE_1, resolved=False, next_step=NextStep.ESCALATE, escalate_to=Stage.INFORMAL, by=OWNER, at=world.tick(days=1))
    form.record_resolution(Stage.STAGE_1, resolved=False, next_step=NextStep.ESCALATE, escalate_to=Stage.STAGE_3, by=OWNER, at=world.tick(days=1))
    assert [r.stage for r in form.stages] == [Stage.STAGE_1, Stage.STAGE_3]


def test_not_resolved_closes_unresolved_with_a_coded_reason(world) -> None:
    """Seed 001: "By using this method we will be able to collate real-time information about the
    progress of all resolutions, what the resolution was" — a closing reason from the managed list."""
    moved = ClosingReason.create("Child moved out of area", "", by="ADM-1", roles=frozenset({"administrator"}), at=world.now)
    form = world.raise_form()
    form.pull_events()
    version = form.version
    with pytest.raises(InvalidInput, match="closing reason"):
        form.record_resolution(
            Stage.INFORMAL, resolved=False, next_step=NextStep.CLOSE_UNRESOLVED, close_reason="free text only", by=OWNER, at=world.tick(days=1)
        )
    with pytest.raises(InvalidInput, match="closing reason"):
        form.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.ESCALATE, closing_reason=moved, by=OWNER, at=world.tick(days=1))
    with pytest.raises(InvalidInput, match="impact"):
        form.record_resolution(Stage.INFORMAL, resolved=True, impact="x", closing_reason=moved, by=OWNER, at=world.tick(days=1))
    retired = ClosingReason.create("Old reason", "", by="ADM-1", roles=frozenset({"administrator"}), at=world.now)
    retired.change(by="ADM-1", roles=frozenset({"administrator"}), at=world.now, active=False)
    with pytest.raises(InvalidInput, match="retired"):
        form.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.CLOSE_UNRESOLVED, closing_reason=retired, by=OWNER, at=world.tick(days=1))
    assert form.status is FormStatus.OPEN and form.version == version and not form.history[version:]  # nothing changed
    form.record_resolution(
        Stage.INFORMAL, resolved=False, next_step=NextStep.CLOSE_UNRESOLVED, closing_reason=moved, close_reason="To Leeds", by=OWNER,
        at=world.tick(days=1),
    )
    resolution = form.current.resolution
    assert form.status is FormStatus.CLOSED_UNRESOLVED and (resolution.closing_reason_id, resolution.close_reason) == ("child-moved-out-of-area", "To Leeds")
    [closed] = form.pull_events()
    assert isinstance(closed, ev.ResolutionClosedUnresolved) and closed.closing_reason_id == "child-moved-out-of-area"


def test_closing_reasons_are_kept_like_themes_by_administrators_and_qa_officers(world) -> None:
    """Seed 001: "The concerns are collected into themes so that we can monitor areas for team and
    service improvement" — how resolutions ended is kept the same way, as coded values."""
    with pytest.raises(NotAllowed, match="closing reasons"):
        ClosingReason.create("Moved", "", by="IRO-1", roles=frozenset({"iro"}), at=world.now)
    with pytest.raises(InvalidInput, match="closing reason needs a name"):
        ClosingReason.create("  ", "", by="QA-1", roles=frozenset({"qa_officer"}), at=world.now)
    reason = ClosingReason.create("Moved  to another authority", "", by="QA-1", roles=frozenset({"qa_officer"}), at=world.now)
    assert (reason.id, reason.name, reason.active, reason.version) == ("moved-to-another-authority", "Moved to another authority", True, 1)


def test_only_the_owner_records_the_resolution_details(world) -> None:
    form = world.delegated()
    form.save_section(Stage.INFORMAL, "Answer", by=SW, at=world.tick(minutes=1))
    form.finalise_section(Stage.INFORMAL, by=SW, at=world.tick(minutes=1))
    for who in (SW, TM, "QA-1"):
        with pytest.raises(NotAllowed):
            form.record_resolution(Stage.INFORMAL, resolved=True, impact="x", by=who, at=world.tick(days=1))


def test_resolution_details_wait_for_a_delegated_section_to_be_finalised_or_retracted(world) -> None:
    form = world.delegated()
    with pytest.raises(RuleConflict) as refused:
        form.record_resolution(Stage.INFORMAL, resolved=True, impact="x", by=OWNER, at=world.tick(days=1))
    assert refused.value.slug == "section-still-delegated"
    form.retract_section(Stage.INFORMAL, reason="Late", note="Resolved at the review", by=OWNER, at=world.tick(days=1))
    form.record_resolution(Stage.INFORMAL, resolved=True, impact="Plan agreed at review", by=OWNER, at=world.tick(days=1))
    assert form.status is FormStatus.RESOLVED


def test_a_stage_is_resolved_once_and_a_finished_form_changes_no_more(world) -> None:
    form = world.raise_form()
    form.record_resolution(Stage.INFORMAL, resolved=True, impact="Better", by=OWNER, at=world.tick(days=1))
    version = form.version
    attempts = [
        lambda: form.record_resolution(Stage.INFORMAL, resolved=True, impact="Again", by=OWNER, at=world.tick(days=1)),
        lambda: form.add_concern(world.themes["contact"], "More", by=OWNER, at=world.tick(days=1)),
        lambda: form.save_section(Stage.INFORMAL, "text", by=OWNER, at=world.tick(days=1)),
        lambda: form.delegate_section(Stage.INFORMAL, world.person(SW), by=OWNER, at=world.tick(days=1)),
        lambda: form.record_stage_dates(Stage.INFORMAL, StageDates(date(2026, 3, 2)), by=OWNER, at=world.tick(days=1)),
    ]
    for attempt in attempts:
        with pytest.raises(RuleConflict) as refused:
            attempt()
        assert refused.value.slug == "form-finished"
    assert form.version == version


def test_the_owner_records_each_stages_dates(world) -> None:
    form = world.raise_form()
    dates = StageDates(date(2026, 3, 2), date(2026, 3, 16), date(2026, 3, 2))
    with pytest.raises(NotAllowed):
        form.record_stage_dates(Stage.INFORMAL, dates, by=SW, at=world.tick(minutes=1))
    form.record_stage_dates(Stage.INFORMAL, dates, by=OWNER, at=world.tick(minutes=1))
    assert form.current.dates == dates
    assert form.history[-1].details == {"raised_on": "2026-03-02", "response_due_on": "2026-03-16", "response_received_on": "2026-03-02"}


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (StageDates(None, date(2026, 3, 16)), "raised must be given"),
        (StageDates(date(2026, 3, 2), date(2026, 3, 1)), "response due"),
        (StageDates(date(2026, 3, 2), None, date(2026, 2, 27)), "response received"),
        (StageDates(date(2026, 2, 27), None, date(2026, 3, 20)), "future"),
        (StageDates(date(2026, 3, 20)), "future"),
    ],
)
def test_stage_dates_that_make_no_sense_are_refused(world, dates, message) -> None:
    form = world.raise_form()
    with pytest.raises(InvalidInput, match=message):
        form.record_stage_dates(Stage.INFORMAL, dates, by=OWNER, at=world.tick(minutes=1))
    assert form.version == 1


def test_dates_of_a_stage_not_activated_are_refused(world) -> None:
    form = world.raise_form()
    with pytest.raises(RuleConflict):
        form.record_stage_dates(Stage.STAGE_2, StageDates(date(2026, 3, 2)), by=OWNER, at=world.tick(minutes=1))


def test_escalation_through_all_six_stages(world) -> None:
    form = world.raise_form()
    assert form.status is FormStatus.OPEN
    for stage in list(Stage)[:-1]:
        assert form.current_stage is stage
        form.record_stage_dates(stage, StageDates(world.now.date(), world.now.date() + timedelta(days=14)), by=OWNER, at=world.tick(minutes=1))
        form.delegate_section(stage, world.person(RESPONDER[stage]), by=OWNER, at=world.tick(minutes=1))
        form.save_section(stage, f"Response at {stage.title}", by=RESPONDER[stage], at=world.tick(days=2))
        form.finalise_section(stage, by=RESPONDER[stage], at=world.tick(minutes=1))
        form.record_resolution(stage, resolved=False, next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=1))
        assert form.status is FormStatus.ESCALATED
        assert form.current_stage is stage.next()
    assert form.current_stage is Stage.STAGE_5
    with pytest.raises(RuleConflict) as refused:
        form.record_resolution(Stage.STAGE_5, resolved=False, next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=1))
    assert refused.value.slug == "last-stage"
    form.save_section(Stage.STAGE_5, "CAFCASS response: agreed to a revised plan", by=OWNER, at=world.tick(days=1))
    form.finalise_section(Stage.STAGE_5, by=OWNER, at=world.tick(minutes=1))
    form.record_resolution(Stage.STAGE_5, resolved=True, impact="The child's plan was revised", by=OWNER, at=world.tick(days=1))

    assert form.status is FormStatus.RESOLVED
    assert [r.stage for r in form.stages] == list(Stage)
    assert all(r.section.state is SectionState.FINALISED for r in form.stages)
    assert [r.stage.value for r in form.stages if r.resolution and r.resolution.escalated_to] == [s.value for s in list(Stage)[:-1]]
    events = form.pull_events()
    escalations = [e for e in events if isinstance(e, ev.StageEscalated)]
    assert [(e.from_stage, e.to_stage) for e in escalations] == list(zip(list(Stage)[:-1], list(Stage)[1:], strict=True))
    assert sum(isinstance(e, ev.SectionDelegated) for e in events) == 5
    assert sum(isinstance(e, ev.ResolutionResolved) for e in events) == 1
    durations = form.stage_durations()
    assert [d["stage"] for d in durations] == [s.value for s in Stage]
    assert all(d["days"] >= 3 for d in durations[:-1])
    assert form.days_to_finish() == (form.finished_at.date() - form.raised_at.date()).days


def test_stage_durations_count_calendar_and_working_days_from_the_date_raised(world) -> None:
    form = world.raise_form()  # Monday 2 March 2026
    form.record_stage_dates(Stage.INFORMAL, StageDates(date(2026, 3, 2), None, date(2026, 3, 5)), by=OWNER, at=world.tick(days=3))
    form.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=6))  # Wed 11th
    [informal] = form.stage_durations()
    assert informal == {"stage": "informal", "days": 9, "working_days": 7, "response_days": 3}

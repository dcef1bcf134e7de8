"""The published form of each domain event, and a form's stored document round trip."""

from __future__ import annotations

from datetime import date

from resolution import events
from resolution.documents import form_document, form_from_document
from resolution.domain import NextStep, Stage, StageDates
from resolution.domain import events as ev

OWNER, SW, SW2 = "IRO-1", "SW-1", "SW-2"


def _busy_form(world):
    form = world.raise_form(concerns=[(world.themes["care-planning"], "A"), (world.themes["contact"], "B")])
    form.record_stage_dates(Stage.INFORMAL, StageDates(date(2026, 3, 2), date(2026, 3, 9)), by=OWNER, at=world.tick(minutes=1))
    form.delegate_section(Stage.INFORMAL, world.person(SW), by=OWNER, at=world.tick(minutes=1))
    form.save_section(Stage.INFORMAL, "draft", by=SW, at=world.tick(minutes=1))
    form.retract_section(Stage.INFORMAL, reason="Late", note="Note", by=OWNER, at=world.tick(days=1))
    form.delegate_section(Stage.INFORMAL, world.person(SW2), by=OWNER, at=world.tick(minutes=1))
    form.save_section(Stage.INFORMAL, "answer", by=SW2, at=world.tick(minutes=1))
    form.finalise_section(Stage.INFORMAL, by=SW2, at=world.tick(minutes=1))
    form.reactivate_section(Stage.INFORMAL, by=OWNER, at=world.tick(minutes=1))
    form.finalise_section(Stage.INFORMAL, by=SW2, at=world.tick(minutes=1))
    form.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.ESCALATE, by=OWNER, at=world.tick(days=1))
    form.record_resolution(Stage.STAGE_1, resolved=True, impact="Better", by=OWNER, at=world.tick(days=1))
    return form


def test_every_domain_event_maps_to_a_registered_integration_event(world) -> None:
    form = _busy_form(world)
    published = [events.integration_event(e) for e in form.pull_events()]
    types = [t.routing_key for t, _ in published]
    assert types == [
        "resolution.form.raised.v1",
        "resolution.section.delegated.v1",
        "resolution.section.retracted.v1",
        "resolution.section.delegated.v1",
        "resolution.section.finalised.v1",
        "resolution.section.reactivated.v1",
        "resolution.section.finalised.v1",
        "resolution.stage.escalated.v1",
        "resolution.form.resolved.v1",
    ]
    for event_type, data in published:
        assert event_type.routing_key in events.EVENTS
        envelope = event_type.envelope(data, source="/qa/resolution", subject="form/F-1", time=world.now)
        assert event_type.parse_data(envelope) == data


def test_the_delegated_event_carries_what_a_work_tray_task_needs() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    _, data = events.integration_event(ev.SectionDelegated("F-1", "CASE-1", OWNER, at, Stage.STAGE_1, "TM-1", 2, date(2026, 3, 16), "TM-2"))
    assert data.model_dump(mode="json") == {
        "form_id": "F-1", "case_id": "CASE-1", "stage": "stage-1", "stage_title": "Stage 1 (team manager)", "delegate_id": "TM-1",
        "delegation_number": 2, "delegated_by": OWNER, "delegated_at": "2026-03-02T09:00:00Z", "due_on": "2026-03-16",
        "recalled_delegate_id": "TM-2",
    }


def test_events_carry_no_free_text_anyone_wrote() -> None:
    for event_type in events.EVENTS:
        fields = set(event_type.data_model.model_fields)
        assert not fields & {"detail", "response", "impact", "note", "reason", "close_reason", "child_name"}, event_type.routing_key


def test_a_form_survives_its_stored_document_unchanged(world) -> None:
    form = _busy_form(world)
    doc = form_document(form)
    again = form_from_document(doc)
    assert again == form
    assert doc["participants"] == [OWNER, SW, SW2]
    assert doc["theme_ids"] == ["care-planning", "contact"]
    assert doc["current_stage"] == "stage-1" and doc["status"] == "resolved" and doc["raised_month"] == "2026-03"
    assert [d["stage"] for d in doc["report"]["stage_days"]] == ["informal", "stage-1"]
    assert doc["report"]["impact_recorded"] is True

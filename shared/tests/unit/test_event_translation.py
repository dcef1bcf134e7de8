"""Domain events to integration events by a table (``shared.event_translation``): facts of the
same name are carried, renamed and derived facts are named in the row, defaults stay defaults,
and a domain event with no row is not published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from shared.event_translation import Publishes, Translations, carried
from shared.events import EventData, EventType

AT = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)


class Stage(StrEnum):
    INFORMAL = "informal"


@dataclass(frozen=True)
class Delegated:
    form_id: str
    by: str
    at: datetime
    stage: Stage
    note: str


@dataclass(frozen=True)
class Kept:
    form_id: str


class SectionDelegated(EventData):
    form_id: str
    stage: str
    stage_title: str
    delegated_by: str
    delegated_at: datetime
    due_on: str | None = None


DELEGATED = EventType("test.section.delegated", 1, SectionDelegated, "A section was delegated.", "test")
TRANSLATIONS = Translations({
    Delegated: Publishes(DELEGATED, {"by": "delegated_by", "at": "delegated_at"}, {"stage_title": lambda e: e.stage.title()}),
})


def test_a_row_carries_same_named_facts_renames_and_derives_the_others() -> None:
    published = TRANSLATIONS(Delegated("f-1", "P-1", AT, Stage.INFORMAL, "not published"))
    assert published is not None
    event_type, data = published
    assert event_type is DELEGATED
    assert data.model_dump(mode="json") == {
        "form_id": "f-1", "stage": "informal", "stage_title": "Informal", "delegated_by": "P-1",
        "delegated_at": "2026-11-16T09:30:00Z", "due_on": None,
    }


def test_a_domain_event_without_a_row_is_not_published() -> None:
    assert TRANSLATIONS(Kept("f-1")) is None


def test_carried_takes_each_field_from_the_first_source_that_has_it_and_facts_win() -> None:
    data = carried(SectionDelegated, Kept("f-2"), Delegated("f-1", "P-1", AT, Stage.INFORMAL, "x"),
                   stage_title="Informal", delegated_by="P-2", delegated_at=AT)
    assert (data.form_id, data.stage, data.delegated_by, data.due_on) == ("f-2", "informal", "P-2", None)

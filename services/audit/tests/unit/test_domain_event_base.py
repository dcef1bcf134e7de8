"""The one way audit's packages declare domain events (``audit.common.events``): every subclass of
``Event`` is a frozen dataclass of its fields; ``DomainEvent`` puts ``at`` first; ``kw_only=True``
on a base makes its fields and its subclasses' keyword-only."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from audit.common.events import DomainEvent, Event

AT = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


class Signed(DomainEvent):
    by: str


class _AboutRecord(Event, kw_only=True):
    record_id: str


class Noted(_AboutRecord):
    note: str


def test_an_event_is_a_frozen_dataclass_with_when_it_happened_first() -> None:
    signed = Signed(AT, "P1")
    assert [f.name for f in dataclasses.fields(signed)] == ["at", "by"]
    assert signed == Signed(at=AT, by="P1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        signed.by = "P2"


def test_a_keyword_only_base_makes_its_subclasses_keyword_only_too() -> None:
    assert Noted(record_id="R1", note="seen") == Noted(note="seen", record_id="R1")
    with pytest.raises(TypeError):
        Noted("R1", "seen")

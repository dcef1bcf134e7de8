"""Staging what an aggregate recorded (``shared.event_translation.stage``): each domain event's
integration event is recorded in the transaction, in order, about the subject its translation
names or the one given; one without a translation is kept inside the service."""

from __future__ import annotations

from dataclasses import dataclass

from shared.event_translation import Publishes, Translations, stage
from shared.events import EventData, EventType
from shared.mongo import Transaction


@dataclass(frozen=True)
class Raised:
    form_id: str
    by: str


@dataclass(frozen=True)
class Kept:
    form_id: str


class FormRaised(EventData):
    form_id: str
    raised_by: str


RAISED = EventType("test.form.raised", 1, FormRaised, "A form was raised.", "test")
TRANSLATIONS = Translations({Raised: Publishes(RAISED, {"by": "raised_by"})})


def _transaction() -> Transaction:
    return Transaction(session=None)  # staging writes nothing: no session needed


def _staged(tx: Transaction) -> list[tuple[str, dict[str, object], str | None]]:
    return [(t.routing_key, data.model_dump(mode="json"), subject) for t, data, subject in tx.staged]


def test_each_translated_event_is_staged_in_order_about_the_subject_given() -> None:
    tx = _transaction()
    stage(tx, TRANSLATIONS, [Raised("f-1", "P-1"), Kept("f-1"), Raised("f-2", "P-2")], subject="form/f-1")
    assert _staged(tx) == [
        ("test.form.raised.v1", {"form_id": "f-1", "raised_by": "P-1"}, "form/f-1"),
        ("test.form.raised.v1", {"form_id": "f-2", "raised_by": "P-2"}, "form/f-1"),
    ]


def test_the_subject_may_be_worked_out_from_each_domain_event_or_left_out() -> None:
    tx = _transaction()
    stage(tx, TRANSLATIONS, [Raised("f-1", "P-1"), Raised("f-2", "P-2")], subject=lambda e: f"form/{e.form_id}")
    stage(tx, TRANSLATIONS, [Raised("f-3", "P-3")])
    assert [subject for _, _, subject in tx.staged] == ["form/f-1", "form/f-2", None]


def test_a_translation_that_names_its_subject_is_staged_about_it() -> None:
    tx = _transaction()

    def translate(e: object) -> tuple[EventType, EventData, str] | None:
        return None if isinstance(e, Kept) else (RAISED, FormRaised(form_id="f-9", raised_by="P-9"), "case/C-1")

    stage(tx, translate, [Kept("f-1"), Raised("f-9", "P-9")], subject="ignored")
    assert _staged(tx) == [("test.form.raised.v1", {"form_id": "f-9", "raised_by": "P-9"}, "case/C-1")]


def test_an_event_without_a_translation_stages_nothing() -> None:
    tx = _transaction()
    stage(tx, TRANSLATIONS, [Kept("f-1")], subject="form/f-1")
    assert tx.staged == []


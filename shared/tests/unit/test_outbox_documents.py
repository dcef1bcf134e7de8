"""The outbox rows written in the same transaction as the state change that causes them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from shared.events import EventData, EventType, parse_envelope
from shared.outbox import outbox_documents

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
SOURCE = "/qa/signoff"


class CaseOpened(EventData):
    case_id: str
    due: date


class CaseClosed(EventData):
    case_id: str


CASE_OPENED = EventType("resolution.case.opened", 1, CaseOpened, "A case was opened.", "resolution")
CASE_CLOSED = EventType("resolution.case.closed", 3, CaseClosed, "A case was closed.", "resolution")


def staged_events():
    return [
        (CASE_OPENED, CaseOpened(case_id="c-1", due=date(2026, 5, 13)), "c-1"),
        (CASE_CLOSED, CaseClosed(case_id="c-1"), "c-1"),
        (CASE_OPENED, CaseOpened(case_id="c-2", due=date(2026, 5, 14)), None),
    ]


def test_one_pending_document_per_staged_event_in_staging_order():
    docs = outbox_documents(staged_events(), source=SOURCE, now=NOW, correlation="corr-7")

    assert len(docs) == 3
    assert [doc["seq"] for doc in docs] == [0, 1, 2]
    assert [doc["routing_key"] for doc in docs] == [
        "resolution.case.opened.v1",
        "resolution.case.closed.v3",
        "resolution.case.opened.v1",
    ]
    for doc in docs:
        assert doc["status"] == "pending"
        assert doc["attempts"] == 0
        assert doc["correlation_id"] == "corr-7"
        assert doc["created_at"] == NOW
        assert doc["available_at"] <= NOW, "a new event is available to the relay at once"


def test_document_id_is_the_envelope_id_and_ids_are_distinct():
    docs = outbox_documents(staged_events(), source=SOURCE, now=NOW, correlation=None)

    for doc in docs:
        assert doc["_id"] == parse_envelope(doc["envelope"].encode()).id
    assert len({doc["_id"] for doc in docs}) == len(docs)


def test_stored_envelope_parses_back_to_the_same_event():
    staged = staged_events()

    docs = outbox_documents(staged, source=SOURCE, now=NOW, correlation="corr-7")

    assert isinstance(docs[0]["envelope"], str)
    for doc, (event_type, data, subject) in zip(docs, staged, strict=True):
        envelope = parse_envelope(doc["envelope"].encode())
        assert envelope.type == event_type.type == doc["routing_key"]
        assert envelope.subject == subject
        assert envelope.source == SOURCE
        assert envelope.time == NOW
        assert envelope.correlationid == "corr-7"
        assert event_type.parse_data(envelope) == data


def test_without_a_correlation_the_envelope_carries_none():
    (doc,) = outbox_documents([staged_events()[1]], source=SOURCE, now=NOW, correlation=None)

    assert doc["correlation_id"] is None
    assert parse_envelope(doc["envelope"].encode()).correlationid is None
    assert '"correlationid"' not in doc["envelope"]


def test_no_staged_events_give_no_documents():
    assert outbox_documents([], source=SOURCE, now=NOW, correlation="corr-7") == []


def test_staging_data_of_the_wrong_model_fails_before_anything_is_written():
    with pytest.raises(TypeError):
        outbox_documents(
            [(CASE_OPENED, CaseClosed(case_id="c-1"), "c-1")], source=SOURCE, now=NOW, correlation=None
        )

"""The chronology entries and integration events an exemplar's changes produce."""

from __future__ import annotations

from datetime import timedelta

from signoff import events as integration
from signoff.domain import messages
from signoff.domain.catalogue import INITIAL_ASSESSMENT
from signoff.domain.chronology import Kind, entries_for
from signoff.domain.exemplar import Exemplar

from services.signoff.tests.unit.builders import CASE, DS, SENIOR_PERSON, SIBLING, SW, T0, start


def history() -> tuple[Exemplar, Exemplar]:
    x = Exemplar.start("X-1", CASE, INITIAL_ASSESSMENT, SW, {"date_commenced": "2026-03-02"}, T0)
    x.save_answers(SW, {k: v for k, v in start(INITIAL_ASSESSMENT).current.answers.items()}, T0)
    x.first_sign(SW, T0)
    messages.ready_for_counter_sign(x, "M-1", signer=SW, recipient=SENIOR_PERSON, due_on=None, at=T0)
    x.counter_sign(DS, T0 + timedelta(hours=1), comments="private comment")
    x.unlock(SW, T0 + timedelta(hours=2), "Reason naming a child")
    x.first_sign(SW, T0 + timedelta(hours=3))
    x.counter_sign(DS, T0 + timedelta(hours=4))
    clone = Exemplar.clone_from("X-2", x, CASE, SIBLING, SW, T0 + timedelta(hours=5))
    return x, clone


def test_the_chronology_has_every_version_signature_unlock_clone_and_message_in_order() -> None:
    x, clone = history()
    entries = entries_for(x.events)
    assert [(e.kind, e.version) for e in entries] == [
        (Kind.CREATED, 1), (Kind.FIRST_SIGNED, 1), (Kind.MESSAGE_SENT, 1), (Kind.COUNTER_SIGNED, 1),
        (Kind.UNLOCKED, 1), (Kind.VERSION_CREATED, 2), (Kind.FIRST_SIGNED, 2), (Kind.COUNTER_SIGNED, 2),
    ]
    assert all(e.case_id == "C-1" and e.type_code == "INIASS" and e.exemplar_id == "X-1" for e in entries)
    assert [e.seq for e in entries] == list(range(len(entries)))
    assert entries[4].by == "P-SW" and "Reason naming a child" in entries[4].summary
    cloned = entries_for(clone.events)
    assert [(e.kind, e.case_id, e.version) for e in cloned] == [
        (Kind.CLONED, "C-2", 1), (Kind.CLONED_TO_SIBLING, "C-1", 2), (Kind.INDEX_CHILD_CASE_NOTE, "C-2", 1),
    ]


def test_integration_events_carry_ids_and_facts_not_answers_comments_or_reasons() -> None:
    x, clone = history()
    published = [found for e in [*x.events, *clone.events] if (found := integration.integration_event(e)) is not None]
    assert [t.type for t, _ in published] == [
        "signoff.exemplar.created.v1", "signoff.exemplar.first-signed.v1", "signoff.workflow-message.sent.v1",
        "signoff.exemplar.counter-signed.v1", "signoff.exemplar.unlocked.v1", "signoff.exemplar.first-signed.v1",
        "signoff.exemplar.counter-signed.v1", "signoff.exemplar.cloned.v1", "signoff.index-child-case-note.added.v1",
    ]
    text = " ".join(d.model_dump_json() for _, d in published)
    assert "private comment" not in text and "Reason naming a child" not in text and "answer to" not in text
    unlocked = published[4][1]
    assert unlocked.model_dump(include={"version", "new_version", "unlocked_by"}) == {"version": 1, "new_version": 2, "unlocked_by": "P-SW"}
    counter_signed = published[3][1]
    assert counter_signed.model_dump(include={"first_signed_by", "counter_signed_by", "working_days_taken", "on_time"}) == {
        "first_signed_by": "P-SW", "counter_signed_by": "P-DS", "working_days_taken": 0, "on_time": True,
    }
    cloned = published[-2][1]
    assert (cloned.exemplar_id, cloned.case_id, cloned.index_exemplar_id, cloned.index_version) == ("X-2", "C-2", "X-1", 2)


def test_every_published_type_is_registered_with_the_signoff_publisher() -> None:
    # Five of the exemplar's life, the index child's case note, the workflow message, and how far the
    # directory is applied (the sync signal).
    assert len(integration.EVENTS) == 8
    assert all(t.publisher == "signoff" and t.name.startswith("signoff.") for t in integration.EVENTS)
    for t in integration.EVENTS:
        assert "child_name" not in t.json_schema()["properties"]

"""Workflow messages: from a person or the system, with subject, action and due date; and the
system's "ready for counter-sign" after a first signature."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from signoff.domain import events as ev
from signoff.domain import messages
from signoff.domain.access import PersonView, Relation
from signoff.domain.catalogue import CORE_ASSESSMENT, INITIAL_ASSESSMENT
from signoff.domain.errors import InvalidInput, NotAllowed
from signoff.domain.exemplar import Exemplar
from signoff.domain.messages import Action

from services.signoff.tests.unit.builders import CASE, DS, SIBLING, SW, T0, actor, start

SENIOR = PersonView("P-DS", frozenset({"duty_senior"}), "T-A", "P-TM")
WORKER = PersonView("P-SW", frozenset({"social_worker"}), "T-A", "P-DS")


def send(x: Exemplar, **overrides):
    args = dict(sender=SW, recipient=SENIOR, subject="Case C-1 initial assessment", action=Action.READY_FOR_COUNTER_SIGN,
                text=None, due_on=date(2026, 3, 4), at=T0)
    args.update(overrides)
    return messages.send(x, "M-1", **args)


def test_a_person_sends_a_message_with_subject_action_and_due_date() -> None:
    x = start(INITIAL_ASSESSMENT)
    m = send(x)
    assert (m.to_person_id, m.assigned_by, m.from_system, m.action, m.due_on, m.version) == (
        "P-DS", "P-SW", False, Action.READY_FOR_COUNTER_SIGN, date(2026, 3, 4), 1,
    )
    [sent] = x.events
    assert isinstance(sent, ev.MessageSent) and sent.message_id == "M-1" and not sent.from_system
    assert not m.send_email and not sent.send_email  # the work tray only, unless the sender asks


def test_a_sender_may_ask_for_an_email_as_well() -> None:
    x = start(INITIAL_ASSESSMENT)
    m = send(x, send_email=True)
    [sent] = x.events
    assert m.send_email and isinstance(sent, ev.MessageSent) and sent.send_email


def test_free_text_is_needed_for_other() -> None:
    x = start(INITIAL_ASSESSMENT)
    with pytest.raises(InvalidInput, match="needs its text"):
        send(x, action=Action.OTHER)
    assert send(x, action=Action.OTHER, text="Please add the school's view").text == "Please add the school's view"


@pytest.mark.parametrize(
    "overrides",
    [{"subject": "  "}, {"subject": "x" * 201}, {"due_on": date(2026, 3, 1)}, {"recipient": None},
     {"recipient": replace(SENIOR, active=False)}, {"text": "x" * 4001}],
)
def test_bad_messages_are_refused_and_record_nothing(overrides) -> None:
    x = start(INITIAL_ASSESSMENT)
    with pytest.raises(InvalidInput):
        send(x, **overrides)
    assert x.events == []


def test_someone_outside_the_team_cannot_send_from_the_exemplar() -> None:
    x = start(INITIAL_ASSESSMENT)
    with pytest.raises(NotAllowed):
        send(x, sender=actor("P-X", "social_worker", relation=Relation.NONE))


def test_the_counter_signer_is_the_one_named_else_the_signers_line_manager_if_they_may_counter_sign() -> None:
    x = start(INITIAL_ASSESSMENT)
    other = PersonView("P-SP", frozenset({"senior_practitioner"}), "T-A")
    assert messages.counter_signer_for(x, other, SENIOR) is other
    assert messages.counter_signer_for(x, None, SENIOR) is SENIOR
    assert messages.counter_signer_for(x, None, WORKER) is None
    assert messages.counter_signer_for(x, None, None) is None
    with pytest.raises(InvalidInput, match="cannot counter-sign"):
        messages.counter_signer_for(x, WORKER, SENIOR)


def test_the_system_message_is_due_on_the_works_due_date_or_the_next_working_day() -> None:
    x = start(INITIAL_ASSESSMENT)  # commenced Monday 2 March 2026: due Wednesday 11 March
    assert messages.default_due(x, date(2026, 3, 3)) == date(2026, 3, 11)
    assert messages.default_due(x, date(2026, 3, 13)) == date(2026, 3, 16)  # past due: the next working day
    assert messages.default_due(start(replace(CORE_ASSESSMENT, timescale_working_days=None)), date(2026, 3, 6)) == date(2026, 3, 9)


def test_the_system_message_is_from_the_system_on_the_signers_behalf() -> None:
    x = start(INITIAL_ASSESSMENT)
    x.first_sign(SW, T0)
    m = messages.ready_for_counter_sign(x, "M-9", signer=SW, recipient=SENIOR, due_on=None, at=T0)
    assert m.from_system and m.assigned_by == "P-SW" and m.action is Action.READY_FOR_COUNTER_SIGN
    assert m.due_on == date(2026, 3, 11) and "ready for counter-sign" in m.subject
    assert not m.send_email and not any(isinstance(e, ev.MessageSent) and e.send_email for e in x.events)


def test_a_clones_message_says_it_is_a_clone() -> None:
    index = start(INITIAL_ASSESSMENT)
    index.first_sign(SW, T0)
    index.counter_sign(DS, T0 + timedelta(hours=1))
    clone = Exemplar.clone_from("X-2", index, CASE, SIBLING, SW, T0 + timedelta(hours=2))
    clone.first_sign(SW, T0 + timedelta(hours=3))
    m = messages.ready_for_counter_sign(clone, "M-2", signer=SW, recipient=SENIOR, due_on=None, at=T0 + timedelta(hours=3))
    assert (m.clone_of_exemplar_id, m.clone_of_version) == ("X-1", 1)
    assert "a clone of exemplar X-1 Version 1" in m.subject

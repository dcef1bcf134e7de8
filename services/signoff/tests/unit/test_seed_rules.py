"""Seed 000's rules about the team admin / duty admin officer, the index child's case note and the
Outcome of s47 Enquiries waiting for the strategy discussion (issue 21, "Sign-off (000)")."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import pytest
from signoff import events as integration
from signoff.domain import chronology, messages
from signoff.domain import events as ev
from signoff.domain.access import PersonView, Relation
from signoff.domain.catalogue import CORE_ASSESSMENT, COUNTER_SIGN_AFTER, INITIAL_ASSESSMENT, OUTCOME_S47, STRATEGY_DISCUSSION
from signoff.domain.errors import InvalidInput, NotAllowed, ReadFirstNotSigned
from signoff.domain.exemplar import Exemplar, Origin, VersionStatus
from signoff.domain.messages import Action
from signoff.domain.roles import ADMIN_OFFICER, KNOWN_ROLES

from services.signoff.tests.unit.builders import CASE, DM, DS, SIBLING, SW, T0, TM, actor, complete_answers, start

#: The duty admin officer of the child's team.
AO = actor("P-AO", "admin_officer")
#: An admin officer of another team.
AO_ELSEWHERE = actor("P-AO2", "admin_officer", relation=Relation.NONE)
SENIOR = PersonView("P-DS", frozenset({"duty_senior", "senior_practitioner"}), "T-A", "P-TM")
WORKER = PersonView("P-SW", frozenset({"social_worker"}), "T-A", "P-DS")
LEADER = PersonView("P-TL", frozenset({"team_leader"}), "T-A", "P-TM")


def _index_signed_by_duty_senior() -> Exemplar:
    x = start(INITIAL_ASSESSMENT, by=AO)
    x.first_sign(DS, T0)
    x.counter_sign(DS, T0 + timedelta(hours=1), comments="Agreed")
    x.events.clear()
    return x


def _send(x: Exemplar, sender=AO, recipient=SENIOR, action=Action.READY_FOR_FIRST_SIGN_OFF):
    return messages.send(
        x,
        "M-1",
        sender=sender,
        recipient=recipient,
        subject="Initial Assessment ready for first and second sign-off",
        action=action,
        text=None,
        due_on=date(2026, 3, 3),
        at=T0,
    )


# --- the team admin / duty admin officer -------------------------------------------------------


def test_the_admin_officer_is_a_known_role() -> None:
    """ "the initial assessment exemplar can be completed and cloned by the duty admin officer" (seed 000):
    the role exists, so types and the directory can name it."""
    assert ADMIN_OFFICER == "admin_officer" and ADMIN_OFFICER in KNOWN_ROLES


def test_the_admin_officer_completes_the_initial_assessment() -> None:
    """ "If the duty senior decision is to “proceed to a strategy discussion” then the initial assessment
    exemplar can be completed and cloned by the duty admin officer and work-flowed to the duty senior"."""
    x = Exemplar.start("X-1", CASE, INITIAL_ASSESSMENT, AO, {"date_commenced": "2026-03-02"}, T0)
    x.save_answers(AO, {k: v for k, v in complete_answers(INITIAL_ASSESSMENT).items() if k != "date_commenced"}, T0)
    assert x.created_by == "P-AO" and x.unanswered_mandatory() == [] and x.current.status is VersionStatus.DRAFT
    with pytest.raises(NotAllowed):  # an admin officer of another team does not
        Exemplar.start("X-2", CASE, INITIAL_ASSESSMENT, AO_ELSEWHERE, {}, T0)


def test_the_admin_officer_does_not_sign_the_duty_senior_applies_both_signatures() -> None:
    """ "work-flowed to the duty senior who will apply first and second signature" and "the exemplar will
    be completed by team admin and the duty senior will add the first and second signature"."""
    x = start(INITIAL_ASSESSMENT, by=AO)
    with pytest.raises(NotAllowed, match="an admin officer does not sign"):
        x.first_sign(AO, T0)
    assert x.current.first_signature is None and x.events == []
    x.first_sign(DS, T0)
    x.events.clear()
    with pytest.raises(NotAllowed, match="an admin officer does not sign"):
        x.counter_sign(AO, T0)
    assert x.current.counter_signature is None and x.events == []
    x.counter_sign(DS, T0 + timedelta(hours=1))
    assert x.current.first_signature.by == x.current.counter_signature.by == "P-DS" and x.current.locked


def test_an_admin_officer_who_also_holds_a_signing_role_signs_in_that_role() -> None:
    """ "the first sign off should be done by the professional completing the exemplar": the refusal is
    for the admin officer as such, not for a duty senior who also does admin."""
    x = start(INITIAL_ASSESSMENT, by=AO)
    x.first_sign(actor("P-DS2", "admin_officer", "duty_senior"), T0)
    assert x.current.first_signature.by == "P-DS2"


def test_the_admin_officer_work_flows_the_exemplar_to_the_duty_senior() -> None:
    """ "the initial assessment exemplar can be completed and cloned by the duty admin officer and
    work-flowed to the duty senior who will apply first and second signature"."""
    x = start(INITIAL_ASSESSMENT, by=AO)
    m = _send(x)
    assert m.to_person_id == "P-DS" and m.assigned_by == "P-AO" and not m.from_system
    [sent] = x.events
    assert isinstance(sent, ev.MessageSent) and sent.action == "ready_for_first_sign_off"


@pytest.mark.parametrize("recipient", [WORKER, LEADER])
def test_the_admin_officer_cannot_work_flow_for_sign_off_to_someone_who_cannot_give_both_signatures(recipient) -> None:
    """ "work-flowed to the duty senior who will apply first and second signature": a social worker cannot
    counter-sign, a team leader cannot first-sign an Initial Assessment."""
    x = start(INITIAL_ASSESSMENT, by=AO)
    with pytest.raises(InvalidInput, match="first and second signature") as refused:
        _send(x, recipient=recipient)
    assert refused.value.errors[0].field == "to_person_id" and x.events == []


def test_the_admin_officers_other_messages_and_other_senders_are_not_restricted() -> None:
    """ "Workflow messages can be used to advise another ICS user of action required in an exemplar":
    the duty-senior rule is for the admin officer's sign-off work-flow only."""
    x = start(INITIAL_ASSESSMENT, by=AO)
    assert _send(x, recipient=WORKER, action=Action.CHANGES_NEEDED).to_person_id == "P-SW"
    assert _send(x, sender=SW, recipient=WORKER).to_person_id == "P-SW"
    core = start(CORE_ASSESSMENT, by=AO)  # one person may not sign both: the signature the action names
    assert _send(core, recipient=WORKER).to_person_id == "P-SW"
    with pytest.raises(InvalidInput, match="the counter-signature"):
        _send(core, recipient=WORKER, action=Action.READY_FOR_COUNTER_SIGN)


def test_the_admin_officer_clones_the_signed_off_exemplar_to_siblings() -> None:
    """ "the initial assessment exemplar can be completed and cloned by the duty admin officer" / "Once
    quality assured by the duty senior or line manager the exemplar will be cloned to siblings, signed
    off and work-flowed"."""
    index = _index_signed_by_duty_senior()
    clone = Exemplar.clone_from("X-2", index, CASE, SIBLING, AO, T0 + timedelta(hours=2))
    assert clone.created_by == "P-AO" and clone.current.origin is Origin.CLONED and clone.clone_of.exemplar_id == "X-1"
    with pytest.raises(NotAllowed):
        clone.first_sign(AO, T0 + timedelta(hours=3))
    _send(clone)
    clone.first_sign(DS, T0 + timedelta(hours=3))
    clone.counter_sign(DS, T0 + timedelta(hours=4))
    assert clone.current.locked


def test_the_admin_officer_opens_a_signed_off_exemplar_as_a_second_version() -> None:
    """ "N.B If a mistake is discovered following sign off the admin officer can open the exemplar and once
    signed off again there will be second version of the exemplar.\" """
    x = _index_signed_by_duty_senior()
    with pytest.raises(NotAllowed):  # not an admin officer of another team
        x.unlock(AO_ELSEWHERE, T0 + timedelta(hours=2), "Wrong date commenced")
    assert len(x.versions) == 1 and x.events == []
    new = x.unlock(AO, T0 + timedelta(hours=2), "Wrong date commenced")
    assert new.number == 2 and x.versions[0].unlock.by == "P-AO" and new.status is VersionStatus.DRAFT
    x.first_sign(DS, T0 + timedelta(hours=3))
    x.counter_sign(DS, T0 + timedelta(hours=4))
    assert x.current.number == 2 and x.current.locked and x.versions[0].locked


# --- the index child's case note ---------------------------------------------------------------


def test_cloning_adds_a_case_note_naming_the_index_child_on_the_siblings_case_by_id() -> None:
    """ "The index child will be identified at the outset and a case note added to each of the siblings by
    team admin." / "clone a case note to siblings stating in the summary field, “John Smith is the index
    child.”\" """
    index = _index_signed_by_duty_senior()
    clone = Exemplar.clone_from("X-2", index, CASE, SIBLING, AO, T0 + timedelta(hours=2))
    [note] = [e for e in clone.events if isinstance(e, ev.IndexChildCaseNoteAdded)]
    assert (note.case_id, note.exemplar_id, note.index_case_id, note.index_exemplar_id, note.index_version) == (
        "C-2",
        "X-2",
        "C-1",
        "X-1",
        1,
    )
    assert note.by == "P-AO"
    [entry] = [e for e in chronology.entries_for([note])]
    assert entry.kind is chronology.Kind.INDEX_CHILD_CASE_NOTE and entry.case_id == "C-2"
    assert "case C-1 is the index child" in entry.summary


def test_the_index_child_case_note_event_carries_identifiers_only() -> None:
    """ "a case note added to each of the siblings by team admin": published for the case-management system
    by id (it writes "<name> is the index child" from its own record), never a name."""
    index = _index_signed_by_duty_senior()
    clone = Exemplar.clone_from("X-2", index, CASE, SIBLING, SW, T0 + timedelta(hours=2))
    [note] = [e for e in clone.events if isinstance(e, ev.IndexChildCaseNoteAdded)]
    found = integration.integration_event(note)
    assert found is not None
    event_type, data = found
    assert event_type is integration.INDEX_CHILD_CASE_NOTE_ADDED and not event_type.internal
    assert data.model_dump(mode="json") == {
        "exemplar_id": "X-2",
        "case_id": "C-2",
        "team_id": "T-A",
        "type_code": "INIASS",
        "version": 1,
        "index_case_id": "C-1",
        "index_exemplar_id": "X-1",
        "index_version": 1,
        "added_by": "P-SW",
        "added_at": (T0 + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
    }
    assert integration.subject_of(note) == "exemplar/X-2"  # the clone that carries the note
    assert not {"name", "child_name", "summary", "text"} & {f.name for f in fields(note)}


# --- the Outcome of s47 Enquiries waits for the strategy discussion ----------------------------


def _s47_first_signed() -> Exemplar:
    x = start(OUTCOME_S47, by=TM)
    x.first_sign(TM, T0)
    x.events.clear()
    return x


def test_the_outcome_of_s47_enquiries_is_not_counter_signed_before_the_strategy_discussion() -> None:
    """ "N.B When quality assuring the outcome of s47 enquiries exemplar the district manager will have read
    the strategy discussion exemplar and ensured that agency checks have been completed before applying
    their second signature to the exemplar.\" """
    assert COUNTER_SIGN_AFTER == {"S47OUT": "STRATD"}
    x = _s47_first_signed()
    for signed_on_case in (frozenset(), frozenset({"INIASS", "COREAS"})):
        with pytest.raises(ReadFirstNotSigned, match="Strategy Discussion exemplar") as refused:
            x.counter_sign(DM, T0 + timedelta(hours=1), counter_signed_on_case=signed_on_case)
        assert refused.value.needs_type_code == "STRATD" and refused.value.case_id == "C-1"
    assert x.current.counter_signature is None and not x.current.locked and x.events == []
    x.counter_sign(DM, T0 + timedelta(hours=1), counter_signed_on_case=frozenset({STRATEGY_DISCUSSION.code}))
    assert x.current.counter_signature.by == "P-DM"


def test_who_may_counter_sign_is_asked_before_the_strategy_discussion() -> None:
    """ "Outcome s47 enquiries | Chair | District manager": someone who may not counter-sign is told so,
    whatever the strategy discussion's state."""
    x = _s47_first_signed()
    with pytest.raises(NotAllowed):
        x.counter_sign(DS, T0 + timedelta(hours=1))


def test_other_types_do_not_wait_for_a_strategy_discussion() -> None:
    """ "Strategy Discussion | Chair | Chair": only the outcome of s47 enquiries waits for it."""
    for t, first, second in ((INITIAL_ASSESSMENT, SW, DS), (STRATEGY_DISCUSSION, TM, TM)):
        x = start(t, by=first)
        x.first_sign(first, T0)
        x.counter_sign(second, T0 + timedelta(hours=1))
        assert x.current.locked

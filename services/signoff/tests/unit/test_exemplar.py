"""The exemplar's rules: start, save answers, first signature (the Exemplar Assistant),
counter-signature, lock, unlock to a new version, clone to siblings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from signoff.domain import events as ev
from signoff.domain.access import Actor, CaseView, Relation
from signoff.domain.catalogue import CORE_ASSESSMENT, INITIAL_ASSESSMENT, OUTCOME_S47, STRATEGY_DISCUSSION
from signoff.domain.errors import Conflict, InvalidInput, Locked, MandatoryUnanswered, NotAllowed
from signoff.domain.exemplar import Exemplar, Origin, VersionStatus
from signoff.domain.types import ExemplarType

from services.signoff.tests.unit.builders import ADMIN, CASE, DM, DS, SIBLING, SP, SW, SW2, T0, TM, actor, complete_answers, start

LATER = T0 + timedelta(hours=2)


def signed(t=INITIAL_ASSESSMENT, first=SW, second=DS):
    x = start(t)
    x.first_sign(first, T0)
    x.counter_sign(second, LATER, comments="Good analysis")
    x.events.clear()
    return x


# --- start -------------------------------------------------------------------------------------


def test_starting_makes_version_1_in_draft_and_records_created() -> None:
    x = Exemplar.start("X-1", CASE, INITIAL_ASSESSMENT, SW, {"date_commenced": "2026-03-02"}, T0)
    assert x.current.number == 1 and x.current.status is VersionStatus.DRAFT and x.current.origin is Origin.CREATED
    assert x.current.created_by == "P-SW" and x.current.created_at == T0
    [created] = x.events
    assert isinstance(created, ev.Created) and created.version == 1 and created.start_date.isoformat() == "2026-03-02"


def test_starting_on_a_closed_case_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="closed"):
        Exemplar.start("X-1", replace(CASE, status="closed"), INITIAL_ASSESSMENT, SW, {}, T0)


def test_starting_an_inactive_type_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="no longer in use"):
        Exemplar.start("X-1", CASE, replace(INITIAL_ASSESSMENT, active=False), SW, {}, T0)


def test_someone_outside_the_team_cannot_start_one_but_an_administrator_can() -> None:
    with pytest.raises(NotAllowed):
        Exemplar.start("X-1", CASE, INITIAL_ASSESSMENT, actor("P-X", "social_worker", relation=Relation.NONE), {}, T0)
    assert Exemplar.start("X-1", CASE, INITIAL_ASSESSMENT, ADMIN, {}, T0).created_by == "P-ADMIN"


def test_starting_with_malformed_answers_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Exemplar.start("X-1", CASE, INITIAL_ASSESSMENT, SW, {"child_seen": "maybe"}, T0)


# --- answers -------------------------------------------------------------------------------------


def test_saving_answers_keeps_what_each_changed_question_held() -> None:
    x = start(INITIAL_ASSESSMENT, answers={"analysis": "first draft"})
    x.save_answers(SW2, {"analysis": "second draft", "child_seen": True}, LATER)
    assert x.current.answers == {"analysis": "second draft", "child_seen": True}
    [edit] = x.current.edits
    assert edit.by == "P-SW2" and edit.at == LATER
    assert edit.changes == {"analysis": {"before": "first draft", "after": "second draft"}, "child_seen": {"before": None, "after": True}}


def test_saving_the_same_answers_changes_nothing() -> None:
    x = start(INITIAL_ASSESSMENT, answers={"analysis": "same"})
    x.save_answers(SW, {"analysis": "same"}, LATER)
    assert x.current.edits == [] and x.events == []


def test_null_clears_an_answer() -> None:
    x = start(INITIAL_ASSESSMENT, answers={"analysis": "text"})
    x.save_answers(SW, {"analysis": None}, LATER)
    assert "analysis" not in x.current.answers


def test_malformed_answers_change_nothing() -> None:
    x = start(INITIAL_ASSESSMENT, answers={"analysis": "kept"})
    with pytest.raises(InvalidInput):
        x.save_answers(SW, {"analysis": "new", "child_seen": "yes"}, LATER)
    assert x.current.answers == {"analysis": "kept"} and x.current.edits == []


def test_changing_answers_after_the_first_signature_withdraws_it() -> None:
    x = start(INITIAL_ASSESSMENT)
    x.first_sign(SW, T0)
    x.save_answers(SW, {"analysis": "corrected after the duty senior's review"}, LATER)
    assert x.current.status is VersionStatus.DRAFT and x.current.first_signature is None
    assert x.current.edits[-1].withdrew_first_signature is not None and x.current.edits[-1].withdrew_first_signature.by == "P-SW"
    assert isinstance(x.events[-1], ev.FirstSignatureWithdrawn)


def test_someone_outside_the_team_cannot_change_answers() -> None:
    x = start(INITIAL_ASSESSMENT)
    with pytest.raises(NotAllowed):
        x.save_answers(actor("P-X", "senior_practitioner", relation=Relation.NONE), {"analysis": "x"}, LATER)


# --- first signature -------------------------------------------------------------------------


def test_signing_with_unanswered_mandatory_questions_lists_every_one() -> None:
    x = start(INITIAL_ASSESSMENT, answers={"date_commenced": "2026-03-02", "plan_review_date": "2026-04-01"})
    with pytest.raises(MandatoryUnanswered) as refused:
        x.first_sign(SW, T0)
    assert [u.question_id for u in refused.value.unanswered] == ["child_seen", "analysis", "further_action"]
    assert "'Has the Child / Young Person Been Seen?'" in str(refused.value)
    assert x.current.first_signature is None and x.events == []


def test_the_seeds_example_relationship_to_the_child_is_reported() -> None:
    from signoff.domain.catalogue import REFERRAL

    answers = complete_answers(REFERRAL)
    del answers["referrer_relationship"]
    x = start(REFERRAL, by=DS, answers=answers)
    with pytest.raises(MandatoryUnanswered, match="Relationship to the Child / Young Person"):
        x.first_sign(DS, T0)


def test_first_signature_is_recorded_with_who_and_when() -> None:
    x = start(INITIAL_ASSESSMENT)
    x.first_sign(SW, T0)
    assert x.current.status is VersionStatus.FIRST_SIGNED
    assert (x.current.first_signature.by, x.current.first_signature.at) == ("P-SW", T0)
    assert isinstance(x.events[-1], ev.FirstSigned)


def test_first_signature_by_a_role_the_type_does_not_name_is_refused() -> None:
    x = start(CORE_ASSESSMENT)
    with pytest.raises(NotAllowed, match="social_worker"):
        x.first_sign(DS, T0)


def test_first_signature_from_outside_the_team_is_refused() -> None:
    x = start(INITIAL_ASSESSMENT)
    with pytest.raises(NotAllowed):
        x.first_sign(actor("P-X", "social_worker", relation=Relation.NONE), T0)


def test_signing_twice_is_a_conflict() -> None:
    x = start(INITIAL_ASSESSMENT)
    x.first_sign(SW, T0)
    with pytest.raises(Conflict, match="already first-signed"):
        x.first_sign(SW, LATER)


# --- counter-signature -----------------------------------------------------------------------


def test_counter_signature_records_comments_and_supervision_notes_and_locks_the_version() -> None:
    x = start(INITIAL_ASSESSMENT)
    x.first_sign(SW, T0)
    x.counter_sign(DS, LATER, comments="Agreed", supervision_notes="Discussed in supervision")
    cs = x.current.counter_signature
    assert cs is not None and (cs.by, cs.at, cs.comments, cs.supervision_notes) == ("P-DS", LATER, "Agreed", "Discussed in supervision")
    assert x.current.locked and x.current.status is VersionStatus.COUNTER_SIGNED
    done = x.events[-1]
    assert isinstance(done, ev.CounterSigned) and done.first_signed_by == "P-SW" and done.on_time is True


_BOTH = actor("P-BOTH", "social_worker", "senior_practitioner")


@pytest.mark.parametrize(
    "exemplar_type, first_signer, counter_signer, refusal",
    [
        pytest.param(INITIAL_ASSESSMENT, SW, SW2, "counter-signature", id="by a social worker"),
        pytest.param(
            INITIAL_ASSESSMENT, SW, actor("P-SP2", "senior_practitioner", "practice_supervisor", relation=Relation.NONE),
            "not in or over that team", id="by a manager of another team",
        ),
        pytest.param(CORE_ASSESSMENT, _BOTH, _BOTH, "someone else", id="by the first signer where the type forbids it"),
    ],
)
def test_counter_signature_is_refused(exemplar_type: ExemplarType, first_signer: Actor, counter_signer: Actor, refusal: str) -> None:
    x = start(exemplar_type)
    x.first_sign(first_signer, T0)
    with pytest.raises(NotAllowed, match=refusal):
        x.counter_sign(counter_signer, LATER)
    assert x.current.counter_signature is None


def test_a_manager_of_the_team_may_counter_sign() -> None:
    x = start(CORE_ASSESSMENT)
    x.first_sign(SW, T0)
    x.counter_sign(actor("P-TL", "team_leader", relation=Relation.MANAGER), LATER)
    assert x.current.locked


def test_the_chair_gives_both_signatures_of_a_strategy_discussion() -> None:
    x = start(STRATEGY_DISCUSSION, by=TM)
    x.first_sign(TM, T0)
    x.counter_sign(TM, LATER)
    assert x.current.locked


def test_only_a_district_manager_counter_signs_the_outcome_of_s47_enquiries() -> None:
    x = start(OUTCOME_S47, by=TM)
    x.first_sign(TM, T0)
    with pytest.raises(NotAllowed):
        x.counter_sign(SP, LATER)
    x.counter_sign(DM, LATER, counter_signed_on_case=frozenset({STRATEGY_DISCUSSION.code}))
    assert x.current.counter_signature.by == "P-DM"


def test_a_draft_cannot_be_counter_signed() -> None:
    x = start(INITIAL_ASSESSMENT)
    with pytest.raises(Conflict, match="no first signature"):
        x.counter_sign(DS, LATER)


def test_a_counter_signed_version_cannot_be_counter_signed_again() -> None:
    x = signed()
    with pytest.raises(Locked):
        x.counter_sign(SP, LATER)


# --- lock and unlock -------------------------------------------------------------------------


def test_every_edit_after_the_counter_signature_is_refused_and_says_why() -> None:
    x = signed()
    before = dict(x.current.answers)
    with pytest.raises(Locked) as refused:
        x.save_answers(SW, {"analysis": "changed"}, LATER)
    assert "counter-signed by P-DS" in str(refused.value) and "Unlock it" in str(refused.value)
    with pytest.raises(Locked):
        x.first_sign(SW, LATER)
    assert x.current.answers == before


def test_unlock_makes_version_2_with_the_data_of_version_1_and_leaves_version_1_unchanged() -> None:
    x = signed()
    v1_answers = dict(x.current.answers)
    v2 = x.unlock(SW, LATER, "Wrong date of commencement")
    assert v2.number == 2 and v2.origin is Origin.UNLOCKED and v2.status is VersionStatus.DRAFT
    assert v2.answers == v1_answers and v2.answers is not x.versions[0].answers
    v1 = x.version(1)
    assert v1 is not None and v1.locked and v1.unlock is not None and v1.unlock.reason == "Wrong date of commencement"
    x.save_answers(SW, {"date_commenced": "2026-03-03"}, LATER)
    assert x.version(1).answers == v1_answers
    unlocked = next(e for e in x.events if isinstance(e, ev.Unlocked))
    assert (unlocked.version, unlocked.new_version) == (1, 2)


def test_unlock_needs_a_reason() -> None:
    x = signed()
    with pytest.raises(InvalidInput):
        x.unlock(SW, LATER, "  ")
    assert len(x.versions) == 1


def test_only_a_locked_version_is_unlocked() -> None:
    x = start(INITIAL_ASSESSMENT)
    with pytest.raises(Conflict, match="not locked"):
        x.unlock(SW, LATER, "why")


@pytest.mark.parametrize("who", [SW, DS, TM, ADMIN])
def test_admin_social_worker_and_relevant_managers_may_unlock(who) -> None:
    x = signed()
    x.unlock(who, LATER, "correction")
    assert x.current.number == 2


@pytest.mark.parametrize(
    "who",
    [actor("P-SW9", "social_worker", relation=Relation.NONE), actor("P-IRO", "iro"), actor("P-QA", "qa_officer")],
)
def test_others_may_not_unlock(who) -> None:
    x = signed()
    with pytest.raises(NotAllowed):
        x.unlock(who, LATER, "correction")
    assert len(x.versions) == 1


def test_unlocked_versions_are_signed_and_counter_signed_again_any_number_of_times() -> None:
    x = signed()
    for n in (2, 3, 4):
        x.unlock(SW, LATER, f"revision {n}")
        x.first_sign(SW, LATER)
        x.counter_sign(DS, LATER)
        assert x.current.number == n and x.current.locked
    assert [v.status for v in x.versions] == [VersionStatus.COUNTER_SIGNED] * 4


# --- clone ---------------------------------------------------------------------------------


def test_a_clone_copies_the_counter_signed_version_and_needs_its_own_signatures() -> None:
    index = signed()
    clone = Exemplar.clone_from("X-2", index, CASE, SIBLING, SW, LATER)
    assert clone.case_id == "C-2" and clone.current.number == 1 and clone.current.origin is Origin.CLONED
    assert clone.current.answers == index.current.answers and clone.current.status is VersionStatus.DRAFT
    assert clone.clone_of is not None
    assert (clone.clone_of.exemplar_id, clone.clone_of.version, clone.clone_of.comments) == ("X-1", 1, "Good analysis")
    [cloned, note] = clone.events
    assert isinstance(note, ev.IndexChildCaseNoteAdded) and note.index_case_id == "C-1"
    assert isinstance(cloned, ev.Cloned) and cloned.index_exemplar_id == "X-1" and cloned.index_version == 1
    with pytest.raises(Conflict):
        clone.counter_sign(DS, LATER)


def test_only_a_counter_signed_exemplar_is_cloned() -> None:
    index = start(INITIAL_ASSESSMENT)
    with pytest.raises(Conflict, match="not counter-signed"):
        Exemplar.clone_from("X-2", index, CASE, SIBLING, SW, LATER)


def test_a_clone_goes_only_to_a_sibling_case() -> None:
    index = signed()
    with pytest.raises(InvalidInput, match="not a sibling"):
        Exemplar.clone_from("X-2", index, CASE, CaseView("C-9", "T-A"), SW, LATER)
    with pytest.raises(InvalidInput, match="own case"):
        Exemplar.clone_from("X-2", index, CASE, CASE, SW, LATER)


def test_a_sibling_link_recorded_on_one_side_only_counts() -> None:
    index = signed()
    one_sided = CaseView("C-3", "T-A", sibling_case_ids=frozenset({"C-1"}))
    assert Exemplar.clone_from("X-3", index, CASE, one_sided, SW, LATER).case_id == "C-3"


def test_cloning_after_an_unlock_takes_the_latest_counter_signed_version() -> None:
    index = signed()
    index.unlock(SW, LATER, "fix")
    with pytest.raises(Conflict):
        Exemplar.clone_from("X-2", index, CASE, SIBLING, SW, LATER)
    index.first_sign(SW, LATER)
    index.counter_sign(DS, LATER)
    clone_of = Exemplar.clone_from("X-2", index, CASE, SIBLING, SW, LATER).clone_of
    assert clone_of is not None and clone_of.version == 2

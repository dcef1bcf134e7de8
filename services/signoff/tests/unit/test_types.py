"""Exemplar types as data: the seed's five, their validation, and answers checked against them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from signoff.domain import roles
from signoff.domain.catalogue import (
    CORE_ASSESSMENT,
    INITIAL_ASSESSMENT,
    OUTCOME_S47,
    REFERRAL,
    SEED_TYPES,
    STRATEGY_DISCUSSION,
)
from signoff.domain.errors import InvalidInput
from signoff.domain.types import ExemplarType, Question, QuestionKind


def test_the_seed_has_five_types_with_who_signs_what() -> None:
    assert [t.name for t in SEED_TYPES] == [
        "Referral and Information", "Initial Assessment", "Core Assessment", "Strategy Discussion", "Outcome of s47 Enquiries",
    ]
    assert REFERRAL.first_signers == {roles.DUTY_SENIOR} and roles.DUTY_SENIOR in REFERRAL.counter_signers
    assert roles.SOCIAL_WORKER in INITIAL_ASSESSMENT.first_signers and roles.DUTY_SENIOR in INITIAL_ASSESSMENT.counter_signers
    assert CORE_ASSESSMENT.first_signers == {roles.SOCIAL_WORKER} and not CORE_ASSESSMENT.same_person_may_sign_both
    assert STRATEGY_DISCUSSION.first_signers == STRATEGY_DISCUSSION.counter_signers and STRATEGY_DISCUSSION.same_person_may_sign_both
    assert OUTCOME_S47.counter_signers == {roles.DISTRICT_MANAGER} and not OUTCOME_S47.same_person_may_sign_both


def test_the_seeds_relevant_managers_may_counter_sign_assessments() -> None:
    for t in (REFERRAL, INITIAL_ASSESSMENT, CORE_ASSESSMENT):
        assert roles.SEED_COUNTER_SIGNERS <= t.counter_signers
        assert roles.SOCIAL_WORKER not in t.counter_signers


def test_initial_assessment_has_seven_working_days_and_every_type_a_timescale_and_start_question() -> None:
    assert INITIAL_ASSESSMENT.timescale_working_days == 7
    for t in SEED_TYPES:
        assert t.timescale_working_days is not None
        start = t.question(t.start_question_id or "")
        assert start is not None and start.kind is QuestionKind.DATE and start.mandatory
        assert t.role_notes


def test_the_seeds_own_question_is_mandatory() -> None:
    q = REFERRAL.question("referrer_relationship")
    assert q is not None and q.text == "Relationship to the Child / Young Person." and q.mandatory


def test_a_type_with_unknown_roles_duplicate_questions_and_a_bad_start_question_is_refused_with_every_problem() -> None:
    with pytest.raises(InvalidInput) as refused:
        ExemplarType(
            code="bad code",
            name="X",
            questions=(Question("a", "A?", QuestionKind.TEXT, True), Question("a", "A again?", QuestionKind.CHOICE, True, ("one",))),
            first_signers=frozenset({"duty senior"}),
            counter_signers=frozenset(),
            same_person_may_sign_both=False,
            timescale_working_days=-1,
            start_question_id="a",
        )
    fields = {e.field for e in refused.value.errors}
    assert {"code", "questions[1].id", "questions[1].options", "first_signers", "counter_signers", "timescale_working_days", "start_question_id"} <= fields


def test_a_new_type_can_be_defined_as_data() -> None:
    t = ExemplarType(
        code="CINREV", name="Child in Need Review",
        questions=(Question("review_date", "Date of review.", QuestionKind.DATE, True),),
        first_signers=frozenset({roles.SOCIAL_WORKER}), counter_signers=frozenset({roles.TEAM_LEADER}),
        same_person_may_sign_both=False, timescale_working_days=None, start_question_id="review_date",
    )
    assert t.unanswered_mandatory({})[0].question_id == "review_date"


def test_answers_are_normalised() -> None:
    clean = INITIAL_ASSESSMENT.check_answers(
        {"date_commenced": "2026-03-02", "child_seen": False, "analysis": "  text  ", "further_action": "Core assessment", "plan_review_date": None}
    )
    assert clean == {"date_commenced": "2026-03-02", "child_seen": False, "analysis": "text", "further_action": "Core assessment", "plan_review_date": None}


def test_blank_text_is_no_answer() -> None:
    assert INITIAL_ASSESSMENT.check_answers({"analysis": "   "}) == {"analysis": None}


def test_every_malformed_answer_is_listed() -> None:
    with pytest.raises(InvalidInput) as refused:
        INITIAL_ASSESSMENT.check_answers(
            {"date_commenced": "02/03/2026", "child_seen": "yes", "analysis": 5, "further_action": "Maybe", "nonsense": "x"}
        )
    assert {e.field for e in refused.value.errors} == {
        "answers.date_commenced", "answers.child_seen", "answers.analysis", "answers.further_action", "answers.nonsense",
    }


@pytest.mark.parametrize("value", ["2026-02-30", "2026-3-2", 20260302, True])
def test_malformed_dates_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput):
        INITIAL_ASSESSMENT.check_answers({"date_commenced": value})


def test_overlong_text_is_refused() -> None:
    with pytest.raises(InvalidInput):
        INITIAL_ASSESSMENT.check_answers({"analysis": "x" * 20_001})


def test_the_start_date_is_the_start_questions_answer_or_the_fallback() -> None:
    assert INITIAL_ASSESSMENT.start_date({"date_commenced": "2026-03-04"}, date(2026, 3, 9)) == date(2026, 3, 4)
    assert INITIAL_ASSESSMENT.start_date({}, date(2026, 3, 9)) == date(2026, 3, 9)
    assert replace(INITIAL_ASSESSMENT, start_question_id=None).start_date({"date_commenced": "2026-03-04"}, date(2026, 3, 9)) == date(2026, 3, 9)

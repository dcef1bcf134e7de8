"""The six-monthly team review (Hillingdon 6) as plain rules: the pack's figures from a seeded
team's records, and the improvement plan tracked to completion with its referrals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from audit.common.errors import InvalidEntries, NotAllowed, WrongStage
from audit.reporting.domain.figures import Row, team_review
from audit.team_review import events as te
from audit.team_review import schemas, store
from audit.team_review.domain import events as ev
from audit.team_review.domain.review import ActionKind, ActionStatus, NewAction, Pack, Review, ReviewStatus, build_pack
from shared.mongo import Transaction

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
MONTHS = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]


def audit_rows() -> list[Row]:
    assess = (("assessment", "Assessment"),)
    return [
        Row("A1", "2026-04", "T1", "TM1", "completed", True, "good"),
        Row("A2", "2026-05", "T1", "TM1", "completed", True, "requires_improvement", weak_sections=assess, no_answers=(("q7", "Was the child seen alone?"),)),
        Row("A3", "2026-06", "T1", "TM1", "completed", True, "inadequate", weak_sections=assess),
        Row("A4", "2026-07", "T1", "TM1", "completed", True, "good"),
        Row("A5", "2026-09", "T1", "TM1", "allocated", False),
    ]


def seeded_pack() -> Pack:
    feedback = [
        {"kind": "consultation", "respondent": "child", "view": "positive", "comments": "My social worker listens"},
        {"kind": "consultation", "respondent": "parent", "view": "negative", "comments": ""},
        {"kind": "consultation", "respondent": "parent", "view": "mixed", "comments": "Reports came late"},
        {"kind": "meeting_feedback", "respondent": "parent", "view": "positive", "comments": ""},
        {"kind": "meeting_feedback", "respondent": "partner_agency", "view": "negative", "comments": "Not invited to the core group"},
        {"kind": "meeting_feedback", "respondent": "social_worker", "view": "positive", "comments": ""},
    ]
    monitoring: list[dict[str, Any]] = [
        {"kind": "initial_cp_conference", "report_on_time": True, "ratings": {"report": "good", "quality_of_practice": "adequate"}},
        {"kind": "review_cp_conference", "report_on_time": False, "ratings": {"report": "poor"}},
        {"kind": "cp_midpoint_review", "report_on_time": None, "ratings": {}, "plan_progressing": False},
    ]
    complaints = [
        {"kind": "complaint", "outcome": "upheld", "actions_taken": ["apology", "review_procedure"], "lessons_learned": "Confirm visits in writing"},
        {"kind": "complaint", "outcome": "not_upheld", "actions_taken": ["explanation"], "lessons_learned": "Explain the CP process at the start"},
        {"kind": "members_enquiry", "outcome": "part_upheld", "actions_taken": ["apology"], "lessons_learned": "Return calls within a day"},
    ]
    compliments = [{"summary": "Thank you for the support at court"}]
    report = {"positive_aspects": "Warm and direct", "areas_for_development": "Summarise actions"}
    observations: list[dict[str, Any]] = [
        {"social_worker_id": "SW1", "report": report, "reflection": {"achieved_aims": "Yes"}},
        {"social_worker_id": "SW1", "report": report, "reflection": None},
        {"social_worker_id": "SW2", "report": {**report, "areas_for_development": "Use the chronology"}, "reflection": None},
        {"social_worker_id": "SW3", "report": None},  # planned only: not feedback yet
    ]
    return build_pack(
        audits=team_review("T1", MONTHS, audit_rows(), []), monitoring=monitoring, feedback=feedback, complaints=complaints,
        compliments=compliments, observations=observations, social_worker_ids=["SW1", "SW2", "SW3", "SW4"],
    )


def test_the_pack_counts_a_seeded_teams_audits_grades_and_common_issues() -> None:
    pack = seeded_pack()
    assert pack.months == MONTHS
    assert (pack.audits.audits, pack.audits.completed) == (5, 4)
    assert pack.audits.grades == {"outstanding": 0, "good": 2, "requires_improvement": 1, "inadequate": 1, "inadequate_critical": 0}
    assert [(i.kind, i.key, i.audits, i.share) for i in pack.audits.common_issues] == [("section", "assessment", 2, 0.5), ("question", "q7", 1, 0.25)]


def test_the_pack_counts_monitoring_consultation_feedback_complaints_compliments_and_observations() -> None:
    pack = seeded_pack()
    m = pack.monitoring
    assert (m.forms, m.reports_on_time, m.reports_late, m.plans_not_progressing) == (3, 1, 1, 1)
    assert m.ratings["report"] == {"good": 1, "adequate": 0, "poor": 1} and m.by_kind["cp_midpoint_review"] == 1
    parents = pack.consultation["parent"]
    assert (parents.responses, parents.positive, parents.mixed, parents.negative) == (2, 0, 1, 1)
    assert pack.consultation["child"].comments == ["My social worker listens"] and pack.consultation["partner_agency"].responses == 0
    assert pack.feedback["parent"].positive == 1 and pack.feedback["partner_agency"].negative == 1 and pack.feedback["social_worker"].responses == 1
    c = pack.complaints
    assert (c.complaints, c.members_enquiries) == (2, 1)
    assert c.outcomes == {"upheld": 1, "part_upheld": 1, "not_upheld": 1}
    assert c.actions_taken["apology"] == 2 and c.actions_taken["compensation"] == 0 and len(c.lessons) == 3
    assert pack.compliments.compliments == 1
    o = pack.observations
    assert (o.social_workers, o.observations, o.social_workers_observed, o.social_workers_observed_twice, o.reflections) == (4, 3, 2, 1, 1)
    assert o.areas_for_development == ["Summarise actions", "Summarise actions", "Use the chronology"]


def review() -> Review:
    return Review(
        id="R1", team_id="T1", to_month="2026-09", months=MONTHS, team_manager_id="TM1", service_manager_id="SM1", assistant_director_id="AD1",
        pack=seeded_pack(), issued_by="QA1", issued_at=T0, updated_by="QA1", updated_at=T0,
    )


def test_only_the_parties_and_qa_staff_see_a_review_not_an_action_owner_outside_them() -> None:
    r = review()
    assert r.parties() == ["AD1", "SM1", "TM1"]
    assert r.visible_to("TM1", frozenset()) and r.visible_to("QA9", frozenset({"qa_officer"}))
    assert not r.visible_to("TM2", frozenset({"team_manager"})) and not r.visible_to("SW1", frozenset({"social_worker"}))
    r.add_action(by="TM1", entries=NewAction(action="Coach on chronologies", owner_id="SW1", due_on=date(2026, 11, 30)), assistant_director_id="AD1", at=T0)
    assert not r.visible_to("SW1", frozenset({"social_worker"}))


def test_priorities_are_agreed_by_the_team_manager_and_service_manager() -> None:
    r = review()
    with pytest.raises(NotAllowed):
        r.agree_priorities(by="AD1", priorities=["x"], at=T0)
    with pytest.raises(InvalidEntries):
        r.agree_priorities(by="TM1", priorities=["  "], at=T0)
    r.agree_priorities(by="TM1", priorities=["Assessment quality", "Seeing children alone"], at=T0)
    r.agree_priorities(by="SM1", priorities=["Assessment quality", "Seeing children alone"], at=T0)
    assert r.priorities_agreed_by == ["SM1", "TM1"]
    r.agree_priorities(by="SM1", priorities=["Assessment quality"], at=T0)
    assert r.priorities_agreed_by == ["SM1"]  # changed: to be agreed again


def test_the_improvement_plan_is_tracked_to_completion_with_every_status_change_kept() -> None:
    r = review()
    first = r.add_action(by="TM1", entries=NewAction(action="Team session on assessment", owner_id="TM1", due_on=date(2026, 10, 30), kind=ActionKind.TEAM_SESSION), assistant_director_id="AD1", at=T0)
    referral = r.add_action(
        by="SM1", entries=NewAction(action="Chronology training", owner_id="SM1", due_on=date(2026, 12, 18), kind=ActionKind.SERVICE_DEVELOPMENT, need="Training on chronologies for all teams"),
        assistant_director_id="AD1", at=T0,
    )
    assert (first.number, referral.number) == (1, 2) and first.referral is None
    assert referral.referral is not None and referral.referral.assistant_director_id == "AD1"
    assert r.next_notice_on == "2026-10-30" and r.actions_due(date(2026, 10, 29)) == [] and r.actions_due(date(2026, 10, 30)) == [first]
    with pytest.raises(NotAllowed):
        r.change_status(by="SW9", number=1, status=ActionStatus.COMPLETED, note="", at=T0)
    with pytest.raises(InvalidEntries):
        r.change_status(by="TM1", number=2, status=ActionStatus.DROPPED, note="", at=T0)
    r.change_status(by="TM1", number=1, status=ActionStatus.IN_PROGRESS, note="Booked for 20 October", at=T0)
    r.change_status(by="TM1", number=1, status=ActionStatus.COMPLETED, note="Held", at=T0)
    assert r.status is ReviewStatus.OPEN and [c.status for c in r.action(1).changes] == ["open", "in_progress", "completed"]
    with pytest.raises(WrongStage):
        r.change_status(by="TM1", number=1, status=ActionStatus.OPEN, note="", at=T0)
    r.change_status(by="SM1", number=2, status=ActionStatus.COMPLETED, note="In the service plan", at=T0)
    assert r.status is ReviewStatus.COMPLETED and r.action(2).completed_on == T0.date() and r.next_notice_on is None


def test_an_action_is_due_today_or_later_and_only_a_referral_states_a_need() -> None:
    r = review()
    with pytest.raises(InvalidEntries) as refused:
        r.add_action(by="TM1", entries=NewAction(action="x", owner_id="TM1", due_on=date(2026, 9, 30), need="y"), assistant_director_id=None, at=T0)
    assert [e["field"] for e in refused.value.errors] == ["due_on", "need"]
    with pytest.raises(InvalidEntries):
        r.add_action(by="TM1", entries=NewAction(action="x", owner_id="TM1", due_on=date(2026, 10, 30), kind=ActionKind.SERVICE_DEVELOPMENT), assistant_director_id=None, at=T0)
    assert r.actions == []



def test_today_for_an_action_is_the_day_in_england() -> None:
    # 00:30 on Thursday 1 October in England is still 30 September in UTC.
    just_after_midnight = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    r = review()
    with pytest.raises(InvalidEntries) as refused:
        r.add_action(by="TM1", entries=NewAction(action="x", owner_id="TM1", due_on=date(2026, 9, 30)), assistant_director_id=None, at=just_after_midnight)
    assert [e["field"] for e in refused.value.errors] == ["due_on"]
    r.add_action(by="TM1", entries=NewAction(action="x", owner_id="TM1", due_on=date(2026, 10, 1)), assistant_director_id=None, at=just_after_midnight)
    r.change_status(by="TM1", number=1, status=ActionStatus.COMPLETED, note="Done", at=just_after_midnight)
    assert r.actions[0].completed_on == date(2026, 10, 1)


# --- what a review records ------------------------------------------------------------------------


def test_issuing_records_the_pack_and_adding_a_referral_records_it_for_the_assistant_director() -> None:
    pack = seeded_pack()
    r = Review.issue(
        review_id="R1", team_id="T1", to_month="2026-09", team_manager_id="TM1", service_manager_id="SM1", assistant_director_id="AD1", pack=pack,
        by="QA1", at=T0,
    )
    assert (r.months, r.issued_by, r.updated_at, r.status) == (MONTHS, "QA1", T0, ReviewStatus.OPEN)
    assert r.events == [ev.ReviewIssued(
        review_id="R1", team_id="T1", months=tuple(MONTHS), team_manager_id="TM1", service_manager_id="SM1", assistant_director_id="AD1",
        completed_audits=4, grades=pack.audits.grades, by="QA1", at=T0,
    )]
    r.events.clear()
    r.add_action(by="TM1", entries=NewAction(action="Team session", owner_id="TM1", due_on=date(2026, 10, 30)), assistant_director_id="AD1", at=T0)
    assert r.events == []
    r.add_action(
        by="SM1", entries=NewAction(action="Training", owner_id="SM1", due_on=date(2026, 12, 18), kind=ActionKind.SERVICE_DEVELOPMENT, need="Chronologies"),
        assistant_director_id="AD1", at=T0,
    )
    assert r.events == [ev.ServiceDevelopmentReferred(
        review_id="R1", team_id="T1", action_number=2, need="Chronologies", assistant_director_id="AD1", service_manager_id="SM1", by="SM1", at=T0,
    )]


def test_completing_and_dropping_actions_are_recorded_with_whether_the_plan_is_completed() -> None:
    r = review()
    for owner in ("TM1", "SW1"):
        r.add_action(by="TM1", entries=NewAction(action="x", owner_id=owner, due_on=date(2026, 10, 30)), assistant_director_id=None, at=T0)
    r.change_status(by="TM1", number=1, status=ActionStatus.IN_PROGRESS, note="", at=T0)
    assert r.events == []
    r.change_status(by="TM1", number=1, status=ActionStatus.COMPLETED, note="Done", at=T0)
    later = T0.replace(day=2)
    r.change_status(by="SW1", number=2, status=ActionStatus.DROPPED, note="No longer needed", at=later)
    assert r.events == [
        ev.ImprovementActionCompleted(review_id="R1", team_id="T1", action_number=1, owner_id="TM1", due_on=date(2026, 10, 30), by="TM1", at=T0, plan_completed=False),
        ev.ImprovementActionDropped(review_id="R1", team_id="T1", action_number=2, owner_id="SW1", due_on=date(2026, 10, 30), by="SW1", at=later, plan_completed=True),
    ]


def test_an_unfinished_action_is_noticed_once_per_due_day() -> None:
    r = review()
    r.add_action(by="TM1", entries=NewAction(action="x", owner_id="SW1", due_on=date(2026, 10, 30)), assistant_director_id=None, at=T0)
    r.add_action(by="TM1", entries=NewAction(action="y", owner_id="TM1", due_on=date(2026, 11, 30)), assistant_director_id=None, at=T0)
    r.change_status(by="TM1", number=1, status=ActionStatus.IN_PROGRESS, note="", at=T0)
    assert r.notice_actions_due(date(2026, 10, 29)) == [] and r.events == []
    [noticed] = r.notice_actions_due(date(2026, 11, 2))
    assert noticed.number == 1 and noticed.due_notice_for == date(2026, 10, 30) and r.next_notice_on == "2026-11-30"
    assert r.events == [ev.ImprovementActionDue(review_id="R1", team_id="T1", action_number=1, owner_id="SW1", due_on=date(2026, 10, 30), status="in_progress")]
    assert r.notice_actions_due(date(2026, 11, 3)) == [] and len(r.events) == 1


# --- from domain events to integration events ------------------------------------------------------

AT = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


def published(e: ev.DomainEvent) -> tuple[str, dict[str, Any], str]:
    staged = te.integration_event(e)
    assert staged is not None
    event_type, data, subject = staged
    assert type(data) is event_type.data_model
    return event_type.type, data.model_dump(mode="json"), subject


def test_an_issued_review_and_a_referral_are_published_on_the_review() -> None:
    assert published(ev.ReviewIssued(
        review_id="R1", team_id="T1", months=("2026-08", "2026-09"), team_manager_id="TM1", service_manager_id=None, assistant_director_id="AD1",
        completed_audits=2, grades={"good": 2}, by="QA1", at=AT,
    )) == (te.TEAM_REVIEW_ISSUED.type, {
        "review_id": "R1", "team_id": "T1", "months": ["2026-08", "2026-09"], "team_manager_id": "TM1", "service_manager_id": None,
        "assistant_director_id": "AD1", "completed_audits": 2, "grades": {"good": 2}, "issued_by": "QA1", "issued_at": "2026-10-01T09:30:00Z",
    }, "team-review/R1")
    assert published(ev.ServiceDevelopmentReferred(
        review_id="R1", team_id="T1", action_number=3, need="Training", assistant_director_id=None, service_manager_id="SM1", by="TM1", at=AT,
    )) == (te.SERVICE_DEVELOPMENT_REFERRED.type, {
        "review_id": "R1", "team_id": "T1", "action_number": 3, "need": "Training", "assistant_director_id": None, "service_manager_id": "SM1",
        "referred_by": "TM1", "referred_at": "2026-10-01T09:30:00Z",
    }, "team-review/R1")


def test_an_action_completed_dropped_or_due_is_published_on_its_review() -> None:
    action = {"review_id": "R2", "team_id": "T1", "action_number": 1, "owner_id": "SW1", "due_on": "2026-10-30"}
    assert published(ev.ImprovementActionCompleted(
        review_id="R2", team_id="T1", action_number=1, owner_id="SW1", due_on=date(2026, 10, 30), by="TM1", at=AT, plan_completed=True,
    )) == (te.IMPROVEMENT_ACTION_COMPLETED.type, {
        **action, "completed_by": "TM1", "completed_at": "2026-10-01T09:30:00Z", "plan_completed": True,
    }, "team-review/R2")
    assert published(ev.ImprovementActionDropped(
        review_id="R2", team_id="T1", action_number=1, owner_id="SW1", due_on=date(2026, 10, 30), by="SM1", at=AT, plan_completed=False,
    )) == (te.IMPROVEMENT_ACTION_DROPPED.type, {
        **action, "dropped_by": "SM1", "dropped_at": "2026-10-01T09:30:00Z", "plan_completed": False,
    }, "team-review/R2")
    assert published(ev.ImprovementActionDue(
        review_id="R2", team_id="T1", action_number=1, owner_id="SW1", due_on=date(2026, 10, 30), status="open",
    )) == (te.IMPROVEMENT_ACTION_DUE.type, {**action, "status": "open"}, "team-review/R2")


def test_every_domain_event_is_published_and_record_stages_them_in_order() -> None:
    # Every event the review records (the bases that only share fields record nothing themselves).
    kinds = {cls for cls in vars(ev).values() if isinstance(cls, type) and issubclass(cls, ev.DomainEvent) and not cls.__subclasses__()}
    assert len(kinds) == len(te.EVENTS)
    assert te.integration_event(ev.DomainEvent(review_id="R1", team_id="T1")) is None
    r = review()
    r.add_action(
        by="TM1", entries=NewAction(action="x", owner_id="TM1", due_on=date(2026, 10, 30), kind=ActionKind.SERVICE_DEVELOPMENT, need="y"),
        assistant_director_id="AD1", at=T0,
    )
    r.change_status(by="TM1", number=1, status=ActionStatus.COMPLETED, note="", at=T0)
    tx = Transaction(session=None)
    te.record(tx, r.events)
    assert [(t.type, s) for t, _, s in tx.staged] == [(te.SERVICE_DEVELOPMENT_REFERRED.type, "team-review/R1"), (te.IMPROVEMENT_ACTION_COMPLETED.type, "team-review/R1")]


# --- the API's bodies and the stored review ---------------------------------------------------------


def test_the_response_body_shows_the_review_as_stored_and_the_store_reads_it_back_whole() -> None:
    r = review()
    r.add_action(
        by="TM1", entries=NewAction(action="Training", owner_id="SM1", due_on=date(2026, 12, 18), kind=ActionKind.SERVICE_DEVELOPMENT, need="y"),
        assistant_director_id="AD1", at=T0,
    )
    r.version = 2
    doc = store.to_document(r)
    assert "events" not in doc and "version" not in doc and doc["viewers"] == ["AD1", "SM1", "TM1"] and doc["next_notice_on"] == "2026-12-18"
    assert doc["actions"][0]["changes"][0] == {"status": "open", "note": "Added to the improvement plan", "by": "TM1", "at": "2026-10-01T09:00:00Z"}
    assert doc["pack"]["audits"]["common_issues"][0] == {"kind": "section", "key": "assessment", "title": "Assessment", "audits": 2, "share": 0.5}
    again = store.from_document({**doc, "version": 2})
    assert again == r and again.events == []
    body = schemas.review_out(r).model_dump(mode="json")
    assert body == {**{k: v for k, v in doc.items() if k not in ("_id", "viewers", "next_notice_on")}, "id": "R1", "version": 2,
                    "issued_at": "2026-10-01T09:00:00Z", "updated_at": "2026-10-01T09:00:00Z"}
    assert schemas.action_out(r.action(1)).model_dump(mode="json") == doc["actions"][0]


def test_an_action_body_becomes_the_rules_new_action() -> None:
    body = schemas.ActionIn.model_validate({"action": " Training ", "owner_id": "SM1", "due_on": "2026-12-18", "kind": "service_development", "need": "y"})
    assert schemas.new_action(body) == NewAction(action="Training", owner_id="SM1", due_on=date(2026, 12, 18), kind=ActionKind.SERVICE_DEVELOPMENT, need="y")

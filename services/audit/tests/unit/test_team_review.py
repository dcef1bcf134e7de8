"""The six-monthly team review (Hillingdon 6) as plain rules: the pack's figures from a seeded
team's records, and the improvement plan tracked to completion with its referrals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from audit.common.errors import InvalidEntries, NotAllowed, WrongStage
from audit.reporting.domain.figures import Row, team_review
from audit.team_review.domain.review import ActionIn, ActionKind, ActionStatus, Pack, Review, ReviewStatus, build_pack

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
    observations = [
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
    r.add_action(by="TM1", entries=ActionIn(action="Coach on chronologies", owner_id="SW1", due_on=date(2026, 11, 30)), assistant_director_id="AD1", at=T0)
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
    first = r.add_action(by="TM1", entries=ActionIn(action="Team session on assessment", owner_id="TM1", due_on=date(2026, 10, 30), kind=ActionKind.TEAM_SESSION), assistant_director_id="AD1", at=T0)
    referral = r.add_action(
        by="SM1", entries=ActionIn(action="Chronology training", owner_id="SM1", due_on=date(2026, 12, 18), kind=ActionKind.SERVICE_DEVELOPMENT, need="Training on chronologies for all teams"),
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
        r.add_action(by="TM1", entries=ActionIn(action="x", owner_id="TM1", due_on=date(2026, 9, 30), need="y"), assistant_director_id=None, at=T0)
    assert [e["field"] for e in refused.value.errors] == ["due_on", "need"]
    with pytest.raises(InvalidEntries):
        r.add_action(by="TM1", entries=ActionIn(action="x", owner_id="TM1", due_on=date(2026, 10, 30), kind=ActionKind.SERVICE_DEVELOPMENT), assistant_director_id=None, at=T0)
    assert r.actions == []

"""Practice observation (Appendix B) and the other operational QA records, as plain rules: the
observation cadence (at least two a year, due and reminded on working days), the steps of an
observation and their refusals, monitoring forms and their monthly collation, complaints' lessons."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from audit.common.errors import InvalidEntries, NotAllowed, WrongStage
from audit.common.schemas import to_domain
from audit.practice import events as pe
from audit.practice import schemas, store
from audit.practice.domain import events as ev
from audit.practice.domain import observation as do
from audit.practice.domain import records as dr
from audit.practice.domain.observation import (
    Agreement,
    Observation,
    ObservationStatus,
    Plan,
    Reflection,
    Report,
    Situation,
    cadence,
    due_reminder,
    observed_in_year,
    reminder_due,
)
from audit.practice.domain.records import (
    ActionTaken,
    Aspect,
    ComplaintLessonsEntries,
    FormFacts,
    MonitoringEntries,
    MonitoringKind,
    Outcome,
    Rating,
    check_complaint,
    check_monitoring,
    collate,
    report_on_time,
)
from pydantic import BaseModel
from shared.calendar import is_working_day
from shared.mongo import Transaction

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


# --- the cadence ---------------------------------------------------------------------------------


def test_the_next_observation_is_due_six_months_after_the_last_and_reminded_ten_working_days_before() -> None:
    c = cadence("SW1", last_observed_on=date(2026, 5, 6), counted_since=date(2026, 1, 5))
    assert c.due_on == date(2026, 11, 6)  # a Friday
    assert c.remind_on == date(2026, 10, 23)  # ten working days before (two weekends skipped)
    assert not reminder_due(c, date(2026, 10, 22))
    assert reminder_due(c, date(2026, 10, 23)) and reminder_due(c, date(2026, 11, 20))


def test_a_due_day_on_a_weekend_or_bank_holiday_moves_to_the_working_day_before() -> None:
    weekend = cadence("SW1", last_observed_on=date(2026, 4, 10), counted_since=date(2026, 1, 5))
    assert weekend.due_on == date(2026, 10, 9)  # six months on is Saturday 10 October
    christmas = cadence("SW1", last_observed_on=date(2026, 6, 25), counted_since=date(2026, 1, 5))
    assert christmas.due_on == date(2026, 12, 24)  # not Christmas Day
    assert christmas.remind_on == date(2026, 12, 10)
    month_end = cadence("SW1", last_observed_on=date(2026, 8, 31), counted_since=date(2026, 1, 5))
    assert month_end.due_on == date(2027, 2, 26)  # 28 February 2027 is a Sunday
    for c in (weekend, christmas, month_end):
        assert is_working_day(c.due_on) and is_working_day(c.remind_on)


def test_a_social_worker_never_observed_is_due_six_months_after_first_counted_and_easter_is_skipped() -> None:
    c = cadence("SW2", last_observed_on=None, counted_since=date(2026, 10, 1))
    assert c.due_on == date(2027, 4, 1)
    # Ten working days before 1 April 2027, over Good Friday (26 March) and Easter Monday (29 March).
    assert c.remind_on == date(2027, 3, 16)


def test_two_observations_a_year_keep_the_reminder_away_and_a_new_observation_moves_the_due_day() -> None:
    first = cadence("SW1", last_observed_on=date(2026, 3, 2), counted_since=date(2025, 9, 1))
    second = cadence("SW1", last_observed_on=date(2026, 8, 20), counted_since=date(2025, 9, 1))
    assert first.due_on == date(2026, 9, 2) and second.due_on == date(2027, 2, 19)
    assert reminder_due(first, date(2026, 8, 20)) and not reminder_due(second, date(2026, 8, 20))
    assert observed_in_year([date(2025, 9, 30), date(2026, 3, 2), date(2026, 8, 20)], date(2026, 9, 30)) == 2


# --- an observation --------------------------------------------------------------------------------


def plan(**changes: object) -> Plan:
    fields: dict[str, object] = {
        "situation": Situation.INTERVIEW, "planned_on": date(2026, 9, 21), "observer_focus": "Engaging the father in the plan",
        "written_consent_on": date(2026, 9, 14),
    }
    fields.update(changes)
    return Plan(**fields)


def report(**changes: object) -> Report:
    fields: dict[str, object] = {
        "observed_on": date(2026, 9, 21), "verbal_consent_confirmed": True, "situation": "Home visit", "aim_of_intervention": "Review the plan",
        "those_present": "Mother, father, social worker, observer", "standards_observed": "PCF 7 intervention and skills",
        "feedback_and_evidence": "Clear explanation of the concerns", "positive_aspects": "Warm and direct",
        "areas_for_development": "Summarise agreed actions at the end", "reflection": "Reflected openly", "designation": "Team manager",
    }
    fields.update(changes)
    return Report(**fields)


def reflection() -> Reflection:
    return Reflection(achieved_aims="Yes", did_well="Listening", could_improve="Summaries", how_to_improve="Use a checklist")


def planned() -> Observation:
    return Observation.plan_with(
        observation_id="O-1", social_worker_id="SW1", observer_id="TM1", line_manager_id="TM1", team_id="T1", plan=plan(), at=T0.replace(month=9, day=10),
    )


def test_an_observation_is_planned_agreed_reported_and_reflected_on() -> None:
    o = planned()
    assert o.status is ObservationStatus.PLANNED and o.viewers() == ["SW1", "TM1"]
    with pytest.raises(NotAllowed):
        o.agree(by="TM1", agreement=Agreement(aims="a", standards="s"), at=T0)
    with pytest.raises(WrongStage):
        o.record_report(by="TM1", report=report(), at=T0)  # not yet agreed with the social worker
    o.agree(by="SW1", agreement=Agreement(aims="Agree a safety plan", standards="PCF 7"), at=T0)
    o.record_report(by="TM1", report=report(), at=T0)
    assert o.status is ObservationStatus.REPORTED and o.feedback_due_on == date(2026, 10, 5) and o.written_late is False
    with pytest.raises(NotAllowed):
        o.reflect(by="TM1", reflection=reflection(), at=T0)
    o.reflect(by="SW1", reflection=reflection(), at=T0)
    assert o.status is ObservationStatus.REFLECTED
    with pytest.raises(WrongStage):
        o.record_report(by="TM1", report=report(), at=T0)  # closed once reflected on


def test_a_report_without_the_service_users_consent_is_refused_with_every_reason() -> None:
    o = Observation.plan_with(
        observation_id="O-2", social_worker_id="SW1", observer_id="TM1", line_manager_id="TM1", team_id="T1", plan=plan(written_consent_on=None), at=T0,
    )
    o.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0)
    with pytest.raises(InvalidEntries) as refused:
        o.record_report(by="TM1", report=report(verbal_consent_confirmed=False, observed_on=date(2026, 10, 2)), at=T0)
    assert [e["field"] for e in refused.value.errors] == ["written_consent_on", "verbal_consent_confirmed", "observed_on"]
    assert o.status is ObservationStatus.AGREED and o.report is None
    with pytest.raises(InvalidEntries):
        o.record_report(by="TM1", report=report(written_consent_on=date(2026, 9, 22)), at=T0)  # agreement after the session
    o.record_report(by="TM1", report=report(written_consent_on=date(2026, 9, 15)), at=T0)
    assert o.report is not None and o.report.written_consent_on == date(2026, 9, 15)


def test_the_day_of_an_observation_and_of_its_written_feedback_is_the_day_in_england() -> None:
    # 00:30 on Thursday 1 October in England is still 30 September in UTC.
    just_after_midnight = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    o = planned()
    o.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0.replace(month=9, day=15))
    o.record_report(by="TM1", report=report(observed_on=date(2026, 10, 1)), at=just_after_midnight)  # today, not the future
    assert o.report is not None and o.report.observed_on == date(2026, 10, 1)
    # Observed on 16 September: written feedback is due by 30 September, so 1 October is late.
    late = planned()
    late.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0.replace(month=9, day=15))
    late.record_report(by="TM1", report=report(observed_on=date(2026, 9, 16)), at=just_after_midnight)
    assert late.feedback_due_on == date(2026, 9, 30) and late.written_late is True


def test_written_feedback_later_than_two_weeks_is_marked_late_and_nobody_observes_themselves() -> None:
    o = planned()
    o.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0)
    o.record_report(by="TM1", report=report(observed_on=date(2026, 9, 1), written_consent_on=date(2026, 8, 20)), at=T0)
    assert o.feedback_due_on == date(2026, 9, 15) and o.written_late is True
    with pytest.raises(InvalidEntries):
        Observation.plan_with(observation_id="O-3", social_worker_id="TM1", observer_id="TM1", line_manager_id=None, team_id=None, plan=plan(), at=T0)


def test_a_planned_observation_is_cancelled_with_its_reason_and_a_changed_plan_is_agreed_again() -> None:
    o = planned()
    o.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0)
    o.revise_plan(by="TM1", plan=plan(planned_on=date(2026, 9, 28)), at=T0)
    assert o.status is ObservationStatus.PLANNED and o.agreement is None
    o.cancel(by="SW1", reason="The family did not agree to the observation", at=T0)
    assert o.status is ObservationStatus.CANCELLED
    with pytest.raises(WrongStage):
        o.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0)


# --- monitoring forms, complaints ------------------------------------------------------------------


def test_a_conference_report_is_on_time_24_hours_before_an_initial_and_5_working_days_before_a_review() -> None:
    meeting = date(2026, 9, 25)  # a Friday
    assert report_on_time(MonitoringKind.INITIAL_CP_CONFERENCE, meeting, date(2026, 9, 24)) is True
    assert report_on_time(MonitoringKind.INITIAL_CP_CONFERENCE, meeting, meeting) is False
    assert report_on_time(MonitoringKind.INITIAL_CP_CONFERENCE, meeting, None) is False
    assert report_on_time(MonitoringKind.REVIEW_CP_CONFERENCE, meeting, date(2026, 9, 18)) is True
    assert report_on_time(MonitoringKind.REVIEW_CP_CONFERENCE, meeting, date(2026, 9, 21)) is False
    assert report_on_time(MonitoringKind.LOOKED_AFTER_REVIEW, meeting, date(2026, 9, 24)) is None


def test_a_monitoring_form_is_completed_by_the_right_chair_after_the_meeting() -> None:
    entries = MonitoringEntries(kind=MonitoringKind.LOOKED_AFTER_REVIEW, case_id="C-1", meeting_on=date(2026, 10, 2), plan_progressing=True)
    with pytest.raises(InvalidEntries) as refused:
        check_monitoring(entries, author_roles=frozenset({"cp_chair"}), today=date(2026, 10, 1))
    assert [e["field"] for e in refused.value.errors] == ["kind", "meeting_on", "plan_progressing"]
    check_monitoring(replace(entries, plan_progressing=None), author_roles=frozenset({"iro"}), today=date(2026, 10, 2))


def test_the_monthly_collation_counts_forms_by_kind_reports_in_time_and_ratings() -> None:
    forms = [
        FormFacts("F1", "initial_cp_conference", True, {"report": "good", "process": "adequate"}, None),
        FormFacts("F2", "review_cp_conference", False, {"report": "poor"}, None),
        FormFacts("F3", "cp_midpoint_review", None, {}, False),
    ]
    c = collate("T1", "2026-09", forms)
    assert (c.forms, c.reports_on_time, c.reports_late, c.plans_not_progressing) == (3, 1, 1, 1)
    assert c.by_kind == {"initial_cp_conference": 1, "review_cp_conference": 1, "looked_after_review": 0, "cp_midpoint_review": 1, "looked_after_midpoint_review": 0}
    assert c.ratings["report"] == {"good": 1, "adequate": 0, "poor": 1} and c.ratings["process"]["adequate"] == 1
    assert c.form_ids == ["F1", "F2", "F3"]


def test_compensation_on_a_complaint_states_its_cost_and_only_then() -> None:
    base = {"complaint_ref": "CR/2026/1", "team_id": "T1", "date_responded": date(2026, 9, 1), "summary": "Late visit", "outcome": Outcome.PART_UPHELD, "lessons_learned": "Confirm visits in writing"}
    with pytest.raises(InvalidEntries):
        check_complaint(ComplaintLessonsEntries(**base, actions_taken=[ActionTaken.APOLOGY, ActionTaken.COMPENSATION]))
    with pytest.raises(InvalidEntries):
        check_complaint(ComplaintLessonsEntries(**base, actions_taken=[ActionTaken.APOLOGY], compensation_cost=50))
    check_complaint(ComplaintLessonsEntries(**base, actions_taken=[ActionTaken.APOLOGY, ActionTaken.COMPENSATION], compensation_cost=50))



# --- what an observation records ---------------------------------------------------------------------


def test_planning_records_the_plan_and_each_report_records_whether_it_revised_one_and_nothing_else_does() -> None:
    o = planned()
    assert o.events == [ev.ObservationPlanned(
        observation_id="O-1", social_worker_id="SW1", observer_id="TM1", team_id="T1", situation="interview", planned_on=date(2026, 9, 21),
        at=T0.replace(month=9, day=10),
    )]
    o.events.clear()
    o.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0)
    assert o.events == []
    late = T0.replace(month=10, day=20)
    o.record_report(by="TM1", report=report(), at=late)
    o.record_report(by="TM1", report=report(positive_aspects="Warm, direct and clear"), at=late)
    first, revision = o.events
    assert first == ev.ObservationReported(
        observation_id="O-1", social_worker_id="SW1", observer_id="TM1", team_id="T1", observed_on=date(2026, 9, 21),
        feedback_due_on=date(2026, 10, 5), written_late=True, revised=False, at=late,
    )
    assert isinstance(revision, ev.ObservationReported) and revision.revised is True
    o.events.clear()
    o.reflect(by="SW1", reflection=reflection(), at=late)
    assert o.events == []
    with pytest.raises(WrongStage):
        o.record_report(by="TM1", report=report(), at=late)
    assert o.events == []  # refused: nothing happened


def test_a_reminder_is_due_from_its_day_and_counts_the_years_observations() -> None:
    kwargs: dict[str, Any] = {"line_manager_id": "TM1", "team_id": "T1", "counted_since": date(2026, 1, 5)}
    observed = [date(2026, 5, 6), date(2025, 11, 3), date(2025, 4, 1)]
    assert due_reminder("SW1", observed=observed, today=date(2026, 10, 22), **kwargs) is None
    assert due_reminder("SW1", observed=observed, today=date(2026, 10, 23), **kwargs) == ev.ObservationDue(
        social_worker_id="SW1", line_manager_id="TM1", team_id="T1", due_on=date(2026, 11, 6), remind_on=date(2026, 10, 23),
        last_observed_on=date(2026, 5, 6), observations_last_12_months=2, overdue=False,
    )
    overdue = due_reminder("SW1", observed=observed, today=date(2026, 11, 9), **kwargs)
    assert overdue is not None and overdue.overdue is True
    never = due_reminder("SW2", observed=[], today=date(2026, 7, 3), **kwargs)
    assert never is not None and (never.due_on, never.last_observed_on, never.observations_last_12_months) == (date(2026, 7, 3), None, 0)


# --- from domain events to integration events ------------------------------------------------------

AT = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


def published(e: ev.DomainEvent) -> tuple[str, dict[str, Any], str]:
    staged = pe.integration_event(e)
    assert staged is not None
    event_type, data, subject = staged
    assert type(data) is event_type.data_model  # the type's own data model
    return event_type.type, data.model_dump(mode="json"), subject


def test_an_observation_planned_and_reported_are_published_as_its_integration_events() -> None:
    assert published(ev.ObservationPlanned(
        observation_id="O-1", social_worker_id="SW1", observer_id="TM1", team_id=None, situation="meeting", planned_on=date(2026, 10, 5), at=AT,
    )) == (pe.OBSERVATION_PLANNED.type, {
        "observation_id": "O-1", "social_worker_id": "SW1", "observer_id": "TM1", "team_id": None, "situation": "meeting",
        "planned_on": "2026-10-05", "planned_at": "2026-10-01T09:30:00Z",
    }, "observation/O-1")
    assert published(ev.ObservationReported(
        observation_id="O-1", social_worker_id="SW1", observer_id="TM1", team_id="T1", observed_on=date(2026, 9, 21),
        feedback_due_on=date(2026, 10, 5), written_late=False, revised=True, at=AT,
    )) == (pe.OBSERVATION_REPORTED.type, {
        "observation_id": "O-1", "social_worker_id": "SW1", "observer_id": "TM1", "team_id": "T1", "observed_on": "2026-09-21",
        "feedback_due_on": "2026-10-05", "written_late": False, "revised": True, "reported_at": "2026-10-01T09:30:00Z",
    }, "observation/O-1")


def test_a_reminder_is_published_for_the_social_worker() -> None:
    assert published(ev.ObservationDue(
        social_worker_id="SW1", line_manager_id="TM1", team_id="T1", due_on=date(2027, 3, 19), remind_on=date(2027, 3, 5),
        last_observed_on=None, observations_last_12_months=0, overdue=True,
    )) == (pe.OBSERVATION_DUE.type, {
        "social_worker_id": "SW1", "line_manager_id": "TM1", "team_id": "T1", "due_on": "2027-03-19", "remind_on": "2027-03-05",
        "last_observed_on": None, "observations_last_12_months": 0, "overdue": True,
    }, "social-worker/SW1")


def test_a_monitoring_form_its_collation_and_complaint_lessons_are_published_with_who_did_it() -> None:
    assert published(ev.MonitoringFormSubmitted(
        form_id="F1", kind="initial_cp_conference", case_id="C-1", team_id="T1", team_manager_id="TM1", by="CPC1",
        meeting_on=date(2026, 9, 25), report_on_time=None, at=AT,
    )) == (pe.MONITORING_FORM_SUBMITTED.type, {
        "form_id": "F1", "kind": "initial_cp_conference", "case_id": "C-1", "team_id": "T1", "team_manager_id": "TM1", "author_id": "CPC1",
        "meeting_on": "2026-09-25", "report_on_time": None, "submitted_at": "2026-10-01T09:30:00Z",
    }, "monitoring-form/F1")
    assert published(ev.CollationIssued(
        collation_id="2026-09:T1", team_id="T1", month="2026-09", team_manager_id=None, forms=3, reports_on_time=1, reports_late=2,
        plans_not_progressing=1, version=2, by="QA1", at=AT,
    )) == (pe.MONITORING_COLLATION_ISSUED.type, {
        "collation_id": "2026-09:T1", "team_id": "T1", "month": "2026-09", "team_manager_id": None, "forms": 3, "reports_on_time": 1,
        "reports_late": 2, "plans_not_progressing": 1, "version": 2, "issued_by": "QA1", "issued_at": "2026-10-01T09:30:00Z",
    }, "monitoring-collation/2026-09:T1")
    assert published(ev.ComplaintLessonsRecorded(
        record_id="L1", complaint_ref="CR/1", kind="members_enquiry", team_id="T1", outcome="upheld", actions_taken=("apology", "compensation"),
        by="TM1", version=1, at=AT,
    )) == (pe.COMPLAINT_LESSONS_RECORDED.type, {
        "record_id": "L1", "complaint_ref": "CR/1", "kind": "members_enquiry", "team_id": "T1", "outcome": "upheld",
        "actions_taken": ["apology", "compensation"], "manager_id": "TM1", "version": 1, "recorded_at": "2026-10-01T09:30:00Z",
    }, "complaint-lessons/L1")


def test_every_domain_event_is_published_and_record_stages_them_in_order() -> None:
    kinds = {cls for cls in vars(ev).values() if isinstance(cls, type) and issubclass(cls, ev.DomainEvent) and cls is not ev.DomainEvent}
    assert len(kinds) == len(pe.EVENTS)  # one integration event type each
    assert pe.integration_event(ev.DomainEvent()) is None
    o = planned()
    o.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0)
    o.record_report(by="TM1", report=report(), at=T0)
    tx = Transaction(session=None)
    pe.record(tx, [*o.events, ev.DomainEvent()])
    assert [(t.type, type(d).__name__, s) for t, d, s in tx.staged] == [
        (pe.OBSERVATION_PLANNED.type, "ObservationPlanned", "observation/O-1"), (pe.OBSERVATION_REPORTED.type, "ObservationReported", "observation/O-1"),
    ]


# --- the API's bodies and the stored records ------------------------------------------------------

BODIES: list[tuple[type[BaseModel], type]] = [
    (schemas.Plan, do.Plan), (schemas.Agreement, do.Agreement), (schemas.Report, do.Report), (schemas.Reflection, do.Reflection),
    (schemas.MonitoringEntries, dr.MonitoringEntries), (schemas.FeedbackEntries, dr.FeedbackEntries),
    (schemas.ComplaintLessonsEntries, dr.ComplaintLessonsEntries), (schemas.ComplimentEntries, dr.ComplimentEntries),
]


@pytest.mark.parametrize(("body", "entries"), BODIES, ids=[b.__name__ for b, _ in BODIES])
def test_each_request_body_carries_exactly_the_fields_of_the_rules_entries(body: type[BaseModel], entries: type) -> None:
    assert list(body.model_fields) == [f.name for f in fields(entries)]


def test_a_body_becomes_the_rules_plain_entries_with_its_enums_and_stripped_text() -> None:
    body = schemas.MonitoringEntries.model_validate({
        "kind": "cp_midpoint_review", "case_id": "C-1", "meeting_on": "2026-09-25", "ratings": {"report": "good"}, "plan_progressing": False,
        "comments": "  Plan drifting  ",
    })
    entries = to_domain(body, dr.MonitoringEntries)
    assert entries == dr.MonitoringEntries(
        kind=MonitoringKind.CP_MIDPOINT_REVIEW, case_id="C-1", meeting_on=date(2026, 9, 25), ratings={Aspect.REPORT: Rating.GOOD},
        plan_progressing=False, comments="Plan drifting",
    )
    assert to_domain(schemas.Plan.model_validate({"situation": "interview", "planned_on": "2026-09-21", "observer_focus": "x"}), do.Plan) == Plan(
        situation=Situation.INTERVIEW, planned_on=date(2026, 9, 21), observer_focus="x",
    )


def test_an_observation_is_stored_as_json_values_with_its_readers_and_month_and_read_back_whole() -> None:
    o = planned()
    o.agree(by="SW1", agreement=Agreement(aims="a", standards="s"), at=T0)
    o.record_report(by="TM1", report=report(), at=T0)
    o.version = 3
    doc = store.observation_document(o)
    assert (doc["_id"], doc["status"], doc["viewers"], doc["month"], doc["observed_on"]) == ("O-1", "reported", ["SW1", "TM1"], "2026-09", "2026-09-21")
    assert doc["plan"]["situation"] == "interview" and doc["report"]["written_consent_on"] == "2026-09-14" and doc["agreed_at"] == "2026-10-01T09:00:00Z"
    assert doc["created_at"] == T0.replace(month=9, day=10) and "version" not in doc and "events" not in doc
    again = store.observation_from({**doc, "version": 3})
    assert again == o and again.events == [] and again.report == o.report


def test_a_record_is_stored_with_its_entries_as_json_values_team_month_and_who_recorded_it() -> None:
    entries = ComplaintLessonsEntries(
        complaint_ref="CR/1", team_id="T1", date_responded=date(2026, 9, 1), summary="Late visit", outcome=Outcome.UPHELD,
        actions_taken=[ActionTaken.APOLOGY, ActionTaken.COMPENSATION], compensation_cost=50.0, lessons_learned="Confirm visits",
    )
    assert store.record_document("L1", entries, day=entries.date_responded, team_id="T1", by="TM1", at=T0) == {
        "_id": "L1", "kind": "complaint", "complaint_ref": "CR/1", "team_id": "T1", "date_responded": "2026-09-01", "summary": "Late visit",
        "outcome": "upheld", "actions_taken": ["apology", "compensation"], "compensation_cost": 50.0, "lessons_learned": "Confirm visits",
        "level": None, "date_received": None, "month": "2026-09", "recorded_by": "TM1", "recorded_at": T0, "updated_by": "TM1", "updated_at": T0,
    }

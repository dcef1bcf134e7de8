"""Retention of multi-agency audits (Hillingdon QAF Appendix E 6): held three years, then destroyed
by the scheduled pass, keeping only a log record with the audit's anonymous counts."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime

import pytest
from audit.common.errors import WrongStage
from audit.multi_agency.domain import retention
from audit.multi_agency.domain.audit import ActionStatus, MultiAgencyAudit, ReportKind, Stage
from audit.multi_agency.domain.events import AuditDestroyed
from audit.multi_agency.events import AUDIT_DESTROYED, integration_events

from .conftest import T0
from .test_multi_agency import LEAD, PARTNERS, new_audit, planned

SCHEDULER = "audit-scheduler"


def test_an_audit_is_held_for_three_years_then_destroyed() -> None:
    """ "The HSCB will hold the audits for three years for inspection purposes before destroying them." (002 Appendix E 6)"""
    audit = new_audit()  # set up on 1 October 2026
    assert retention.destroy_on(retention.set_up_on(audit)) == date(2029, 10, 1)
    assert not retention.due_for_destruction(audit, date(2029, 9, 30))
    assert retention.due_for_destruction(audit, date(2029, 10, 1))
    assert retention.due_for_destruction(audit, date(2031, 1, 1))

    with pytest.raises(WrongStage, match="held for three years: this one until 2029-10-01"):
        retention.destroy(audit, as_of=date(2029, 9, 30), by=SCHEDULER, at=T0)
    assert audit.events == []

    at = datetime(2029, 10, 1, 8, 0, tzinfo=UTC)
    record = retention.destroy(audit, as_of=date(2029, 10, 1), by=SCHEDULER, at=at)
    assert (record.audit_id, record.set_up_on, record.held_until, record.as_of, record.destroyed_at, record.by) == (
        "A-1",
        date(2026, 10, 1),
        date(2029, 10, 1),
        date(2029, 10, 1),
        at,
        SCHEDULER,
    )
    assert audit.events == [AuditDestroyed(at=at, as_of=date(2029, 10, 1), by=SCHEDULER)]


def test_three_years_are_counted_in_england_and_from_a_leap_day() -> None:
    """ "The HSCB will hold the audits for three years for inspection purposes before destroying them." (002 Appendix E 6)"""
    assert retention.destroy_on(date(2028, 2, 29)) == date(2031, 2, 28)
    assert retention.destroy_on(date(2027, 3, 1)) == date(2030, 3, 1)
    # 23:30 UTC on 31 May 2026 is already 1 June in England (BST): held until 1 June 2029.
    late = MultiAgencyAudit.set_up(
        audit_id="A-2",
        tool_id="t",
        tool_version=1,
        case_ref="MA-2",
        theme="Neglect",
        auditor_id="P-AUD",
        coordinator_id="P-BDM",
        partners=PARTNERS,
        consultation_worker_ids=[],
        by="P-QA",
        at=datetime(2026, 5, 31, 23, 30, tzinfo=UTC),
    )
    assert retention.set_up_on(late) == date(2026, 6, 1)
    assert not retention.due_for_destruction(late, date(2029, 5, 31))
    assert retention.due_for_destruction(late, date(2029, 6, 1))


def test_only_anonymous_counts_are_kept_and_the_event_carries_ids_only() -> None:
    """ "Each case will receive a code which will be entered on the audit itself to avoid identifying the child or family." and
    "The HSCB will hold the audits for three years for inspection purposes before destroying them." (002 Appendix E 6)"""
    audit = planned()
    first = audit.plan.actions[0] if audit.plan else None
    assert first is not None
    audit.change_action_status(
        action_id=first.id, status=ActionStatus.DONE, note="Done: referrals within 5 days.", by=first.owner_id, at=T0
    )
    audit.report(kind=ReportKind.PROGRESS, summary="Early help improving.", by="P-BDM", by_roles=LEAD, at=T0)
    audit.events.clear()
    live = retention.counts_of(audit)

    record = retention.destroy(audit, as_of=date(2029, 10, 1), by=SCHEDULER, at=datetime(2029, 10, 1, 8, tzinfo=UTC))
    assert record.counts == live
    assert asdict(record.counts) == {
        "month": "2026-10",
        "stage": Stage.ACTIONS.value,
        "agreed_grade": "requires_improvement",
        "agencies": 3,
        "consultations_obtained": 4,
        "consultations_not_obtained": 0,
        "actions_total": len(audit.plan.actions) if audit.plan else 0,
        "actions_done": 1,
        "reports": 1,
    }
    # Nothing in the record names a person, the case, its code or what anyone wrote.
    kept = json.dumps(asdict(record), default=str)
    for personal in ("P-", "MA-0001", "Neglect", "Early help", "referrals", "health", "police"):
        assert personal not in kept, personal

    [(event_type, data)] = list(integration_events(audit, audit.events))
    assert event_type is AUDIT_DESTROYED
    assert data.model_dump(mode="json") == {
        "audit_id": "A-1",
        "set_up_on": "2026-10-01",
        "held_until": "2029-10-01",
        "as_of": "2029-10-01",
        "destroyed_by": SCHEDULER,
        "destroyed_at": "2029-10-01T08:00:00Z",
    }


def test_the_reports_count_a_destroyed_audit_as_they_counted_it_held() -> None:
    """ "hold the audits for three years for inspection purposes before destroying them" (002 Appendix E 6): the audit goes, the
    "Robust qualitative and quantitative information about the effectiveness of safeguarding" (Benefits) keeps its numbers."""
    one, two = planned(), new_audit()
    two.id = "A-2"
    held = [retention.counts_of(one), retention.counts_of(two)]
    before = retention.figures(2026, held, [])
    after = retention.figures(2026, held[1:], [retention.destroy(one, as_of=date(2029, 10, 1), by=SCHEDULER, at=T0).counts])
    assert (before.audits, before.held, before.destroyed) == (2, 2, 0)
    assert (after.audits, after.held, after.destroyed) == (2, 1, 1)
    assert {k: v for k, v in vars(after).items() if k not in ("held", "destroyed")} == {
        k: v for k, v in vars(before).items() if k not in ("held", "destroyed")
    }
    assert before.by_grade == {"not_graded": 1, "requires_improvement": 1}
    assert before.by_stage == {"actions": 1, "consultation": 1}
    # Another year counts none of them.
    assert retention.figures(2027, held, []).audits == 0
    assert retention.figures(2026, [], []).by_grade == {}

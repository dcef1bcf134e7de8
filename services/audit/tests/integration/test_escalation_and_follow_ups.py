"""Moderation escalated to a practice development officer, whose grading is final; an inadequate
(critical) grade confirmed by an officer; the action for the operational service manager that
escalates to the assistant director when still open a month later."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from audit.case_audit import events as ie

from devstack.testing import EventCapture, ServiceClient, eventually

from .conftest import QA_OFFICER, complete, grading
from .service import seeded_service

KENT = "kent-online-peer-review"


async def _to_moderation(svc: Any, *, supervision: str = "good") -> tuple[str, dict[str, Any], str]:
    """Allocate and take a CIC audit through stages 1 and 2 to moderation; returns id, form, ETag."""
    http = svc.http
    qa = svc.as_person(*QA_OFFICER[:1], roles=QA_OFFICER[1])
    tm = svc.as_person("P-TM4")
    pr = svc.as_person("P-PR")
    created = await http.post("/v1/audits", json={"tool_id": KENT, "case_id": "C-4001", "auditor_id": "P-TM4", "peer_reviewer_id": "P-PR"}, headers=qa)
    audit = created.json()
    audit_id, form = audit["id"], audit["form"]
    assert audit["open_band"] == "under_3_months" and "child_in_care" in [s["key"] for s in form["sections"]]
    saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form, grade="inadequate"), headers={**tm, "If-Match": created.headers["ETag"]})
    submitted = await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**tm, "If-Match": saved.headers["ETag"]})
    review = complete(form, grade="inadequate", peer=True)
    review["section_grades"]["supervision_and_oversight"] = supervision
    review["section_grades"]["planning"] = "inadequate_critical"
    saved = await http.put(f"/v1/audits/{audit_id}/peer-review", json=review, headers={**pr, "If-Match": submitted.headers["ETag"]})
    submitted = await http.post(f"/v1/audits/{audit_id}/peer-review/submit", headers={**pr, "If-Match": saved.headers["ETag"]})
    assert submitted.json()["status"] == "moderation", submitted.text
    return audit_id, form, submitted.headers["ETag"]


@dataclass
class Escalated:
    """A CIC audit in moderation whose peer reviewer escalates it to a practice development officer."""

    svc: ServiceClient
    capture: EventCapture

    def __post_init__(self) -> None:
        self.http = self.svc.http
        self.tm, self.pr = self.svc.as_person("P-TM4"), self.svc.as_person("P-PR")
        self.pdo = self.svc.as_person("P-PDO", roles=["practice_development_officer"])
        self.qa = self.svc.as_person("P-QA", roles=["qa_officer"])
        self.admin = self.svc.as_person("P-ADMIN", roles=["administrator"])
        self.director = self.svc.as_person("P-AD", roles=["assistant_director"])
        self.audit_id = ""

    async def escalate(self) -> dict[str, httpx.Response]:
        """To moderation; the auditor tries to escalate, the officer to read it (not yet a party);
        the peer reviewer escalates; the auditor proposes a grading too late."""
        self.audit_id, self.form, etag = await _to_moderation(self.svc)
        url = f"/v1/audits/{self.audit_id}/moderation"
        refused = await self.http.post(f"{url}/escalate", json={"reason": "No agreement"}, headers={**self.tm, "If-Match": etag})
        officer_before = await self.http.get(f"/v1/audits/{self.audit_id}", headers=self.pdo)
        escalated = await self.http.post(f"{url}/escalate", json={"reason": "We cannot agree on planning."}, headers={**self.pr, "If-Match": etag})
        assert escalated.status_code == 200, escalated.text
        self.etag = escalated.headers["ETag"]
        late = await self.http.post(f"{url}/proposals", json=grading(self.form, "inadequate", "inadequate"), headers={**self.tm, "If-Match": self.etag})
        return {"refused": refused, "officer_before": officer_before, "escalated": escalated, "late": late}

    async def reappoint(self) -> httpx.Response:
        """Escalated; a team manager tries to re-appoint the officer, then a QA officer does. Returns the team manager's try."""
        await self.escalate()
        url = f"/v1/audits/{self.audit_id}/officers/moderation"
        not_qa = await self.http.put(url, json={"person_id": "P-PDO"}, headers={**self.tm, "If-Match": self.etag})
        appointed = await self.http.put(url, json={"person_id": "P-PDO"}, headers={**self.qa, "If-Match": self.etag})
        assert appointed.status_code == 200, appointed.text
        self.etag = appointed.headers["ETag"]
        return not_qa

    async def graded_finally(self) -> dict[str, Any]:
        """Re-appointed; the officer grades it finally, inadequate (critical). Returns the audit then."""
        await self.reappoint()
        final = await self.http.post(
            f"/v1/audits/{self.audit_id}/moderation/final-grading", json=grading(self.form, "inadequate", "inadequate_critical"),
            headers={**self.pdo, "If-Match": self.etag},
        )
        assert final.status_code == 200, final.text
        self.etag = final.headers["ETag"]
        done: dict[str, Any] = final.json()
        return done

    async def confirmed(self) -> None:
        """Graded finally; the officer confirms the critical grade."""
        await self.graded_finally()
        confirmed = await self.http.post(
            f"/v1/audits/{self.audit_id}/critical-confirmation", json={"confirmed": True, "comment": "Confirmed; strategy meeting held."},
            headers={**self.pdo, "If-Match": self.etag},
        )
        assert confirmed.status_code == 200, confirmed.text

    async def escalations(self, today: str, as_person: dict[str, str] | None = None) -> httpx.Response:
        """The scheduler's pass over the inadequate actions on ``today`` (by an administrator unless said otherwise)."""
        return await self.http.post("/v1/inadequate-actions/escalations", json={"today": today}, headers=as_person or self.admin)

    async def followed_up(self) -> None:
        """Confirmed; the escalation pass run the day before, on the day and the day after; and
        every event published has arrived."""
        await self.confirmed()
        for today in ("2026-10-31", "2026-11-01", "2026-11-02"):
            await self.escalations(today)
        for event_type in (ie.MODERATION_ESCALATED, ie.MODERATION_FINALISED, ie.AUDIT_COMPLETED, ie.CRITICAL_GRADE_CONFIRMED, ie.INADEQUATE_ACTION_OPENED, ie.INADEQUATE_ACTION_ESCALATED):
            await self.capture.wait_for(event_type.type, 1)
        await self.capture.wait_for(ie.OFFICER_APPOINTED.type, 3)
        await self.capture.flushed(self.svc.db)  # every event written has arrived: a second one would be here


@pytest.fixture
async def escalated(service_env: dict[str, str], capture: EventCapture) -> AsyncIterator[Escalated]:
    async with seeded_service() as svc:
        yield Escalated(svc, capture)


async def test_the_peer_reviewer_escalates_a_moderation_to_an_officer_chosen_from_the_directory_and_the_auditor_may_not(escalated: Escalated) -> None:
    answers = await escalated.escalate()
    assert answers["refused"].status_code == 403
    assert answers["officer_before"].status_code == 404  # not yet party to it
    assert answers["escalated"].json()["moderation"]["officer_id"] == "P-PDO"


async def test_once_escalated_the_parties_propose_no_more_gradings(escalated: Escalated) -> None:
    assert (await escalated.escalate())["late"].status_code == 409


async def test_a_team_manager_may_not_reappoint_the_officer(escalated: Escalated) -> None:
    # A QA officer may (``reappoint`` does it after this refusal).
    assert (await escalated.reappoint()).status_code == 403


async def test_the_officers_grading_is_final_and_completes_the_audit(escalated: Escalated) -> None:
    done = await escalated.graded_finally()
    assert done["status"] == "completed" and done["grade_of_record"] == "inadequate_critical"
    assert done["moderation"]["final_by"] == "P-PDO"


async def test_an_inadequate_critical_grade_gets_an_officer_to_confirm_it_and_an_action_for_the_operational_service_manager(escalated: Escalated) -> None:
    done = await escalated.graded_finally()
    assert done["critical_confirmation"]["officer_id"] == "P-PDO"
    action = done["inadequate_action"]
    assert action["owner_id"] == "P-SM" and action["escalate_on"] == "2026-11-01" and action["status"] == "open"


async def test_the_action_is_escalated_to_the_assistant_director_on_its_day_once_by_an_administrators_pass(escalated: Escalated) -> None:
    # The scheduler's escalation: nothing the day before, the action on the day, once.
    await escalated.confirmed()
    assert (await escalated.escalations("2026-10-31", as_person=escalated.tm)).status_code == 403
    assert (await escalated.escalations("2026-10-31")).json() == {"escalated": []}
    assert (await escalated.escalations("2026-11-01")).json() == {"escalated": [escalated.audit_id]}
    assert (await escalated.escalations("2026-11-02")).json() == {"escalated": []}
    as_director = await escalated.http.get(f"/v1/audits/{escalated.audit_id}", headers=escalated.director)
    assert as_director.status_code == 200 and as_director.json()["inadequate_action"]["escalated_to"] == "P-AD"


async def test_each_step_of_an_escalated_moderation_and_its_follow_up_is_published_once(escalated: Escalated) -> None:
    await escalated.followed_up()
    capture = escalated.capture
    appointed_events = [e.data for e in capture.of_type(ie.OFFICER_APPOINTED.type)]
    assert [(e["purpose"], e["appointed_by"]) for e in appointed_events] == [
        ("moderation", "audit-service"), ("moderation", "P-QA"), ("critical_confirmation", "audit-service"),
    ]
    for event_type in (ie.MODERATION_ESCALATED, ie.MODERATION_FINALISED, ie.INADEQUATE_ACTION_ESCALATED, ie.INADEQUATE_ACTION_OPENED):
        assert len(capture.of_type(event_type.type)) == 1
    assert capture.of_type(ie.MODERATION_AGREED.type) == []
    escalation = capture.of_type(ie.INADEQUATE_ACTION_ESCALATED.type)[0].data
    assert escalation == {**escalation, "owner_id": "P-SM", "assistant_director_id": "P-AD"}


async def test_the_moderated_copy_of_a_child_in_care_graded_inadequate_critical_goes_to_the_iro_team_manager_and_safeguarding_qa(
    escalated: Escalated,
) -> None:
    await escalated.followed_up()
    moderated_copy = next(c.data for c in escalated.capture.of_type(ie.COPY_ROUTED.type) if c.data["stage"] == "moderated")
    assert moderated_copy["recipient_ids"] == ["P-TM4", "P-PR", "P-PDO", "P-SM", "P-IROM", "P-QASM"]


async def test_supervision_graded_inadequate_starts_moderation_and_both_are_told(service_env, capture: EventCapture) -> None:
    async with seeded_service() as svc:
        audit_id, _, _ = await _to_moderation(svc, supervision="inadequate")
        [required] = await capture.wait_for(ie.MODERATION_REQUIRED.type, 1)
        assert required.data["supervision_inadequate"] and required.data["grades_differ"]
        assert (required.data["auditor_id"], required.data["peer_reviewer_id"]) == ("P-TM4", "P-PR")


async def test_the_scheduler_pass_escalates_what_falls_due_on_its_day_once_however_often_it_runs(service_env, capture: EventCapture) -> None:
    from datetime import UTC, datetime

    from audit.scheduler import CycleScheduler
    from shared.clock import FixedClock

    async with seeded_service() as svc:
        pr, pdo = svc.as_person("P-PR"), svc.as_person("P-PDO", roles=["practice_development_officer"])
        audit_id, form, etag = await _to_moderation(svc)
        escalated = await svc.http.post(f"/v1/audits/{audit_id}/moderation/escalate", json={"reason": "No agreement"}, headers={**pr, "If-Match": etag})
        final = await svc.http.post(
            f"/v1/audits/{audit_id}/moderation/final-grading", json=grading(form, "inadequate", "inadequate"),
            headers={**pdo, "If-Match": escalated.headers["ETag"]},
        )
        assert final.json()["inadequate_action"]["escalate_on"] == "2026-11-01", final.text

        class CountedScheduler(CycleScheduler):
            passes = 0

            async def run_once(self) -> None:
                await super().run_once()
                self.passes += 1

        runtime = svc.runtime
        for day, expected in ((datetime(2026, 10, 30, 9, tzinfo=UTC), 0), (datetime(2026, 11, 1, 9, tzinfo=UTC), 1)):
            scheduler = CountedScheduler(runtime.extra["audit"], runtime.extra["cycle_settings"], FixedClock(day), interval_s=0.05)
            scheduler.start()

            async def several_passes(scheduler: CountedScheduler = scheduler) -> bool:
                return scheduler.passes >= 3

            await eventually(several_passes, message="three scheduler passes")
            await scheduler.stop()
            as_director = await svc.http.get(f"/v1/audits/{audit_id}", headers=svc.as_person("P-AD", roles=["assistant_director"]))
            assert (as_director.status_code == 200 and as_director.json()["inadequate_action"]["escalated_to"] == "P-AD") == bool(expected), day
        await capture.wait_for(ie.INADEQUATE_ACTION_ESCALATED.type, 1)
        await capture.flushed(svc.db)  # every event written has arrived: a second one would be here
        assert len(capture.of_type(ie.INADEQUATE_ACTION_ESCALATED.type)) == 1

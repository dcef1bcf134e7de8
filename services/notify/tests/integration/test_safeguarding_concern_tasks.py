"""Seed 004, 4.7 in notify, against real MongoDB and RabbitMQ: a safeguarding concern raised during an
audit is a task and an email at once for the case's team manager and the accountable service manager;
recording its outcome closes both tasks."""

from __future__ import annotations

from typing import Any

import notify.mappings.audit as a
from notify.main import create_app

from devstack.testing import eventually, running_service

STAFF = [
    {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager", "auditor"]},
    {"person_id": "PR-1", "name": "Pat Reviewer", "roles": ["peer_reviewer"]},
    {"person_id": "SM-1", "name": "Sue Service", "roles": ["service_manager"]},
]
RAISED = {
    "audit_id": "A-1",
    "concern_id": "K-1",
    "case_ref": "C-1",
    "raised_by": "PR-1",
    "team_manager_id": "TM-1",
    "service_manager_id": "SM-1",
    "recipient_ids": ["TM-1", "SM-1"],
    "raised_at": "2026-10-01T09:00:00Z",
}


async def _tray(svc: Any, person_id: str, **params: str) -> list[dict[str, Any]]:
    response = await svc.http.get("/v1/tasks", params=params, headers=svc.as_person(person_id))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_concern_reaches_both_managers_at_once_and_its_outcome_closes_their_tasks(smtp, kit) -> None:
    """Seed 004, 4.7: "Action should not wait until auditing is completed." """
    async with running_service(create_app) as svc:
        await kit.add_people(svc, *STAFF)
        await kit.publish(svc, a.CONCERN_RAISED, RAISED)
        messages = await smtp.catcher.wait_for(2)
        assert sorted(m["To"] for m in messages) == ["sm-1@council.example", "tm-1@council.example"]
        for message in messages:
            assert " ".join(str(message["Subject"]).split()) == "Immediate safeguarding concern raised in audit A-1"
            plain = message.get_body(("plain",)).get_content()
            assert "Pat Reviewer raised an immediate concern" in plain and "https://qa.council.example/audit/audits/A-1" in plain
        for person in ("TM-1", "SM-1"):
            [task] = await _tray(svc, person)
            assert (task["status"], task["assigned_by"], task["origin"]) == ("open", "PR-1", "person")
        assert await _tray(svc, "PR-1") == []

        await kit.publish(
            svc,
            a.CONCERN_ACKNOWLEDGED,
            {
                "audit_id": "A-1",
                "concern_id": "K-1",
                "case_ref": "C-1",
                "acknowledged_by": "SM-1",
                "acknowledged_at": "2026-10-01T11:00:00Z",
            },
        )

        async def closed() -> bool:
            statuses = [[t["status"] for t in await _tray(svc, p)] for p in ("TM-1", "SM-1")]
            return statuses == [["done"], ["done"]]

        await eventually(closed, message="both concern tasks closed by the outcome")
        [task] = await _tray(svc, "TM-1")
        assert task["status_changed_by"] == "SM-1"

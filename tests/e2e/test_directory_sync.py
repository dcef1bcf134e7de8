"""The directory sync signal end to end: import people, wait until every service has applied the
import (the import's ``sync``), then record a dispensation for one of them at once; a service
asked about a person while the directory's changes are still arriving answers a retryable 409."""

from __future__ import annotations

import uuid

import pytest

from devstack.testing import eventually

pytestmark = pytest.mark.e2e

DISPENSATION = {"reason": "sick_leave", "starts_on": "2026-11-30", "ends_on": "2026-12-21", "note": "Long-term sick"}


def _auditor(person_id: str) -> dict[str, object]:
    return {"id": person_id, "name": f"Auditor {person_id}", "email": f"{person_id.lower()}@council.example",
            "roles": ["team_manager", "auditor"], "team_id": "T-CIN", "line_manager_id": "P-DM"}


async def test_an_import_says_when_every_service_has_it_and_a_dispensation_follows_at_once(gateway) -> None:
    suffix = uuid.uuid4().hex[:6].upper()
    ids = [f"P-SYNC-{suffix}-{i}" for i in range(3)]
    writer = await gateway.as_integration()
    resp = await gateway.http.post("/api/v1/directory/people:import", json=[_auditor(i) for i in ids], headers=writer)
    assert resp.status_code == 200, resp.text
    sync = resp.json()["sync"]
    assert sync["kind"] == "person" and set(sync["applied"]) == {"signoff", "resolution", "audit", "notify"}

    # A person the audit service cannot have been told of, while the import's changes are arriving:
    # retryable (409 with Retry-After), never the final 422.
    qa = await gateway.as_person("P-QASM")
    early = await gateway.http.post("/api/v1/audit/dispensations", json={**DISPENSATION, "person_id": f"P-NEVER-{suffix}"}, headers=qa)
    assert early.status_code == 409, early.text
    assert early.headers["content-type"] == "application/problem+json" and int(early.headers["retry-after"]) >= 1
    problem = early.json()
    assert problem["type"].endswith("/not-in-directory-yet") and problem["kind"] == "person" and problem["errors"][0]["field"] == "person_id"

    async def synced() -> dict[str, object] | None:
        status = (await gateway.http.get(sync["href"], headers=writer)).json()
        return dict(status) if status["synced"] else None

    status = await eventually(synced, timeout=30, message="every service applied the import")
    assert all(status["applied"].values())
    # Synced: every service holds the new people, so the dispensation is recorded first time.
    created = await gateway.http.post("/api/v1/audit/dispensations", json={**DISPENSATION, "person_id": ids[1]}, headers=qa)
    assert created.status_code == 201, created.text
    assert created.json()["person_id"] == ids[1]


async def test_a_client_that_does_not_wait_retries_on_the_retryable_answer(gateway) -> None:
    person_id = f"P-SYNC-{uuid.uuid4().hex[:6].upper()}"
    writer = await gateway.as_integration()
    resp = await gateway.http.post("/api/v1/directory/people:import", json=[_auditor(person_id)], headers=writer)
    assert resp.status_code == 200, resp.text
    qa = await gateway.as_person("P-QASM")
    answers: list[int] = []

    async def recorded() -> bool:
        resp = await gateway.http.post("/api/v1/audit/dispensations", json={**DISPENSATION, "person_id": person_id}, headers=qa)
        answers.append(resp.status_code)
        assert resp.status_code in (201, 409), resp.text  # never 422 "Unknown person"
        return resp.status_code == 201

    await eventually(recorded, timeout=30, interval=0.2, message="the dispensation recorded")
    assert answers[-1] == 201 and set(answers[:-1]) <= {409}

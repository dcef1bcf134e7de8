"""Who may read and change an audit: a person not party to it cannot (404), a party doing what is
not theirs is refused (403), and a stale or missing If-Match changes nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from audit.main import create_app

from devstack.testing import EventCapture, running_service
from devstack.testing import problem as _problem

from .conftest import QA_OFFICER, clock, complete, seed_directory

KENT = "kent-online-peer-review"


async def _allocate(svc: Any, **changes: Any) -> dict[str, Any]:
    body = {"tool_id": KENT, "case_id": "C-3001", "auditor_id": "P-TM3", "peer_reviewer_id": "P-PR", **changes}
    created = await svc.http.post("/v1/audits", json=body, headers=svc.as_person(*QA_OFFICER[:1], roles=QA_OFFICER[1]))
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_a_person_not_party_to_an_audit_can_neither_read_nor_change_it(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        audit = await _allocate(svc)
        audit_id, http = audit["id"], svc.http
        stranger = svc.as_person("P-X", roles=["team_manager", "auditor", "service_manager"])
        match = {**stranger, "If-Match": '"1"'}

        assert _problem(await http.get(f"/v1/audits/{audit_id}", headers=stranger), 404)["title"] == "Not found"
        _problem(await http.get(f"/v1/audits/{audit_id}/pdfs", headers=stranger), 404)
        _problem(await http.get(f"/v1/audits/{audit_id}/drafts", headers=stranger), 404)
        _problem(await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(audit["form"]), headers=match), 404)
        _problem(await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers=match), 404)
        _problem(await http.put(f"/v1/audits/{audit_id}/peer-review", json={}, headers=match), 404)
        listed = await http.get("/v1/audits", headers=stranger)
        assert listed.status_code == 200 and listed.json()["items"] == []
        # The same answer as for an audit that does not exist: existence does not leak.
        _problem(await http.get("/v1/audits/no-such-audit", headers=stranger), 404)

        unchanged = await http.get(f"/v1/audits/{audit_id}", headers=svc.as_person("P-TM3"))
        assert unchanged.json()["version"] == 1 and unchanged.json()["stage1"]["drafts"] == 0
        assert [a["id"] for a in (await http.get("/v1/audits", headers=svc.as_person("P-TM3"))).json()["items"]] == [audit_id]

        await capture.flushed(svc.db)  # every event written has arrived: one that is not here was never published
        assert [e.type for e in capture.events if e.type.startswith("audit.")] == ["audit.audit.allocated.v1"]


async def test_parties_are_refused_what_is_not_theirs_and_stale_writes_change_nothing(service_env) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        audit = await _allocate(svc)
        audit_id, http, form = audit["id"], svc.http, audit["form"]
        tm = svc.as_person("P-TM3", roles=["team_manager"])
        pr = svc.as_person("P-PR", roles=["peer_reviewer"])

        refused = _problem(await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form), headers={**pr, "If-Match": '"1"'}), 403)
        assert "auditor" in refused["detail"]
        _problem(await http.put(f"/v1/audits/{audit_id}/peer-review", json=complete(form, peer=True), headers={**pr, "If-Match": '"1"'}), 409)
        _problem(await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form), headers=tm), 428)
        stale = _problem(await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form), headers={**tm, "If-Match": '"7"'}), 412)
        assert stale["current_version"] == 1
        bad = complete(form)
        bad["section_grades"]["supervision_and_oversight"] = "good"
        invalid = _problem(await http.put(f"/v1/audits/{audit_id}/stage1", json=bad, headers={**tm, "If-Match": '"1"'}), 422)
        assert [e["field"] for e in invalid["errors"]] == ["section_grades.supervision_and_oversight"]
        off_scale = _problem(await http.put(f"/v1/audits/{audit_id}/stage1", json={"overall_grade": "excellent"}, headers={**tm, "If-Match": '"1"'}), 422)
        assert off_scale["errors"]
        after = (await http.get(f"/v1/audits/{audit_id}", headers=tm)).json()
        assert after["version"] == 1 and after["stage1"]["drafts"] == 0

        # Only QA staff allocate; nobody else's draft is shown before it is submitted.
        _problem(await http.post("/v1/audits", json={"tool_id": KENT, "case_id": "C-3001", "auditor_id": "P-TM3", "peer_reviewer_id": "P-PR"}, headers=tm), 403)
        saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form), headers={**tm, "If-Match": '"1"'})
        assert saved.status_code == 200
        assert (await http.get(f"/v1/audits/{audit_id}", headers=pr)).json()["stage1"]["work"] is None
        assert (await http.get(f"/v1/audits/{audit_id}", headers=tm)).json()["stage1"]["work"]["overall_grade"] == "good"


async def test_allocation_refuses_unknown_cases_and_tools_and_the_same_peer_reviewer_as_auditor(service_env) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        qa = svc.as_person(*QA_OFFICER[:1], roles=QA_OFFICER[1])
        base = {"tool_id": KENT, "case_id": "C-3001", "auditor_id": "P-TM3", "peer_reviewer_id": "P-PR"}
        unknown_case = _problem(await svc.http.post("/v1/audits", json={**base, "case_id": "C-0000"}, headers=qa), 422)
        assert unknown_case["errors"][0]["field"] == "case_id"
        _problem(await svc.http.post("/v1/audits", json={**base, "tool_id": "no-such-tool"}, headers=qa), 422)
        same = _problem(await svc.http.post("/v1/audits", json={**base, "peer_reviewer_id": "P-TM3"}, headers=qa), 422)
        assert same["errors"][0]["field"] == "peer_reviewer_id"
        assert (await svc.http.get("/v1/audits", headers=qa)).json()["items"] == []


async def test_a_multi_agency_audits_child_is_known_only_to_its_auditor_and_coordinator(service_env) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        audit = await _allocate(svc, tool_id="multi-agency", peer_reviewer_id=None, coordinator_id="P-BDM")
        audit_id = audit["id"]
        code = audit["case_ref"]
        assert code.startswith("MA-") and audit["case_id"] is None  # the QA officer allocating is not the coordinator
        for person in ("P-TM3", "P-BDM"):
            seen = (await svc.http.get(f"/v1/audits/{audit_id}", headers=svc.as_person(person))).json()
            assert seen["case_id"] == "C-3001" and seen["case_ref"] == code
        other_qa = (await svc.http.get(f"/v1/audits/{audit_id}", headers=svc.as_person("P-QA2", roles=["lead_qa_auditor"]))).json()
        assert other_qa["case_id"] is None and other_qa["case_ref"] == code
        listed = (await svc.http.get("/v1/audits", headers=svc.as_person("P-QA2", roles=["lead_qa_auditor"]))).json()["items"]
        assert [(a["id"], a["case_ref"]) for a in listed] == [(audit_id, code)]


async def test_allocating_twice_with_one_allocation_key_creates_one_audit(service_env, capture: EventCapture) -> None:
    """What the monthly allocation's work-item consumer relies on (one audit per auditor and month)."""
    from audit.case_audit import usecases

    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        request = usecases.AllocationRequest(
            tool_id=KENT, case_id="C-3001", auditor_id="P-TM3", peer_reviewer_id="P-PR", month="2026-10", allocation_key=f"{KENT}:2026-10:P-TM3"
        )
        first = await usecases.allocate_audit(svc.runtime.extra["audit"], request, by="allocation")
        second = await usecases.allocate_audit(svc.runtime.extra["audit"], request, by="allocation")
        assert first == second
        # Two replicas taking the same work item at once: the unique allocation key decides.
        both = await asyncio.gather(*(usecases.allocate_audit(svc.runtime.extra["audit"], replace(request, allocation_key="k-2"), by="allocation") for _ in range(2)))
        assert both[0] == both[1] != first
        assert await svc.db["audits"].count_documents({}) == 2
        await capture.wait_for("audit.audit.allocated.v1", 2)
        await capture.flushed(svc.db)  # every event written has arrived: a third one would be here
        assert len(capture.of_type("audit.audit.allocated.v1")) == 2

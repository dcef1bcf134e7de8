"""The basis of an audit's allocation read through the audit API (issue 21; real SecantusDB and
RabbitMQ, one in-process replica). Kent 2: "Each month every team manager in Specialist Children's
Services is allocated a case they are responsible for line managing to audit"; and QA staff may
switch on, per programme, "a documented fallback (off by default) that gives such an auditor a case
from their own service they do not manage, marked as such on the audit"."""

from __future__ import annotations

from typing import Any

from audit.common.directory import PersonChanged, project_many
from audit.main import create_app
from shared.clock import FixedClock

from devstack.testing import eventually, running_service

from .conftest import DRAW_DAY, small_authority

KENT = "kent-online-peer-review"
#: A team manager under the same service manager who line-manages no case.
NO_CASES = "TM9"


async def _load(db: Any) -> None:
    people, teams, cases = small_authority(2, cases_per_team=3, peer_reviewers=3)
    people.append(PersonChanged(person_id=NO_CASES, version=1, roles=["team_manager"], line_manager_id="P-SM"))
    await project_many(db, people, teams, cases)


async def _audits_by_auditor(svc: Any, qa: dict[str, str], month: str, expected: int) -> dict[str, dict[str, Any]]:
    """Each allocated audit of ``month`` as the audit API reads it, by auditor."""

    async def allocated() -> list[dict[str, Any]] | None:
        rows = (await svc.http.get(f"/v1/cycles/{month}/assignments", headers=qa)).json()["items"]
        return rows if sum(1 for r in rows if r["audit_id"]) == expected else None

    rows = await eventually(allocated, message=f"{month}'s audits allocated")
    audits = {}
    for row in rows:
        resp = await svc.http.get(f"/v1/audits/{row['audit_id']}", headers=qa)
        assert resp.status_code == 200, resp.text
        audits[row["auditor_id"]] = resp.json()
    return audits


async def test_with_the_fallback_off_each_audit_says_it_is_of_a_line_managed_case(service_env, capture) -> None:
    async with running_service(lambda: create_app(clock=FixedClock(DRAW_DAY))) as svc:
        await _load(svc.db)
        qa = svc.as_person("P-QA", roles=["qa_officer"])
        cycle = (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec"}, headers=qa)).json()
        assert cycle["own_service_fallback"] is False and [i["auditor_id"] for i in cycle["idle_auditors"]] == [NO_CASES]
        audits = await _audits_by_auditor(svc, qa, "2026-12", 2)
        assert {a: audit["basis"] for a, audit in audits.items()} == {"TM0": "line_managed", "TM1": "line_managed"}
        events = await capture.wait_for("audit.audit.allocated.v1", 2)
        assert sorted(e.data["basis"] for e in events) == ["line_managed", "line_managed"]
        listed = (await svc.http.get("/v1/audits", headers=qa)).json()["items"]
        assert sorted(a["basis"] for a in listed) == ["line_managed", "line_managed"]


async def test_with_the_fallback_on_the_audit_it_gives_is_marked_own_service(service_env, capture) -> None:
    async with running_service(lambda: create_app(clock=FixedClock(DRAW_DAY))) as svc:
        await _load(svc.db)
        qa = svc.as_person("P-QA", roles=["qa_officer"])
        tool = await svc.http.get(f"/v1/tools/{KENT}", headers=qa)
        switched = await svc.http.post(
            f"/v1/tools/{KENT}/versions",
            json={**tool.json()["definition"], "own_service_fallback": True},
            headers={**qa, "If-Match": tool.headers["ETag"]},
        )
        assert switched.status_code == 201, switched.text
        cycle = (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec"}, headers=qa)).json()
        assert cycle["own_service_fallback"] is True and cycle["idle_auditors"] == []
        audits = await _audits_by_auditor(svc, qa, "2026-12", 3)
        assert {a: audit["basis"] for a, audit in audits.items()} == {
            "TM0": "line_managed",
            "TM1": "line_managed",
            NO_CASES: "own_service",
        }
        # A case of their service (P-SM's teams) that they do not line-manage.
        assert audits[NO_CASES]["case_id"].startswith(("C-0-", "C-1-"))
        events = {e.data["auditor_id"]: e.data for e in await capture.wait_for("audit.audit.allocated.v1", 3)}
        assert events[NO_CASES]["basis"] == "own_service"
        # A party to the audit reads the same mark.
        mine = await svc.http.get(f"/v1/audits/{audits[NO_CASES]['id']}", headers=svc.as_person(NO_CASES, roles=["team_manager"]))
        assert mine.status_code == 200 and mine.json()["basis"] == "own_service"

"""Issue 21 over the audit API (real SecantusDB and RabbitMQ, one in-process replica): a draw with
another seed refused (409), teams without a file and idle auditors reported with their reasons,
peer reviewers one audit each with the rest awaiting QA staff (who assign one, and the audit is
then allocated), and the programme's own-service fallback switched on as a tool version (who,
when), marking the audits it gives."""

from __future__ import annotations

from datetime import date
from typing import Any

from audit.common.directory import CaseChanged, PersonChanged, TeamChanged, project_many
from audit.main import create_app
from shared.clock import FixedClock

from devstack.testing import eventually, running_service

from .conftest import DRAW_DAY

KENT = "kent-online-peer-review"
QA = {"person_id": "P-QA", "roles": ["qa_officer"]}


def app(clock: FixedClock):
    return lambda: create_app(clock=clock)


async def load(db: Any, *, cases: dict[str, int], peer_reviewers: int) -> None:
    """Service manager SM1 above TM0..TM3 (team T<n>, with ``cases[T<n>]`` open cases); TM4 has no
    service manager above them and no team; peer reviewers PR<n>."""
    people = [
        PersonChanged(person_id="SM1", version=1, roles=["service_manager"]),
        PersonChanged(person_id="P-QA", version=1, roles=["qa_officer"]),
    ]
    people += [
        PersonChanged(person_id=f"TM{t}", version=1, roles=["team_manager"], team_id=f"T{t}", line_manager_id="SM1")
        for t in range(4)
    ]
    people += [PersonChanged(person_id="TM4", version=1, roles=["team_manager"])]
    people += [
        PersonChanged(person_id=f"PR{n}", version=1, roles=["peer_reviewer"], line_manager_id="SM1")
        for n in range(peer_reviewers)
    ]
    teams = [
        TeamChanged(team_id=f"T{t}", version=1, name=f"Team {t}", district="D", area="East Kent", manager_id=f"TM{t}")
        for t in range(4)
    ]
    open_cases = [
        CaseChanged(
            case_id=f"C-{team}-{n}",
            version=1,
            case_type="CIN",
            team_id=team,
            team_manager_id=f"TM{team[1:]}",
            opened_on=date(2026, 3, 1),
        )
        for team, count in cases.items()
        for n in range(count)
    ]
    await project_many(db, people, teams, open_cases)


async def test_a_draw_with_another_seed_is_refused_naming_the_months_seed(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load(svc.db, cases={"T0": 2, "T1": 2}, peer_reviewers=2)
        qa = svc.as_person(QA["person_id"], roles=QA["roles"])
        first = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-a"}, headers=qa)
        assert first.status_code == 201, first.text
        other = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-b"}, headers=qa)
        assert other.status_code == 409 and other.headers["content-type"].startswith("application/problem+json")
        problem = other.json()
        assert problem["existing_seed"] == "dec-a" and problem["cycle_id"] == f"{KENT}:2026-12"
        assert "not applied" in problem["detail"] and "dec-b" in problem["detail"]
        same = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-a"}, headers=qa)
        assert same.status_code == 200 and same.json()["seed"] == "dec-a"
        unseeded = await svc.http.post("/v1/cycles/2026-12/draw", json={}, headers=qa)
        assert unseeded.status_code == 200 and unseeded.json()["seed"] == "dec-a"
        # A caller who is not QA staff learns nothing of the month, seed or not.
        manager = svc.as_person("TM0", roles=["team_manager"])
        assert (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-b"}, headers=manager)).status_code == 403
        await capture.settle(0.5)
        assert len(capture.of_type("audit.cycle.drawn.v1")) == 1
        assert (await svc.http.get("/v1/cycles/2026-12", headers=qa)).json()["seed"] == "dec-a"


async def test_teams_without_a_file_and_idle_auditors_are_reported_with_their_reasons(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load(svc.db, cases={"T0": 3, "T1": 1, "T3": 3}, peer_reviewers=3)
        qa = svc.as_person(QA["person_id"], roles=QA["roles"])
        # November: TM0, TM1 and TM3 each audit a case they line-manage (T1's only case among them).
        november = (await svc.http.post("/v1/cycles/2026-11/draw", json={"seed": "nov"}, headers=qa)).json()
        assert november["audits"] == 3 and november["awaiting_peer_reviewer"] == []
        await capture.wait_for("audit.audit.allocated.v1", 3)

        december = (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec"}, headers=qa)).json()
        assert december["audits"] == 2 and not december["own_service_fallback"]
        assert december["uncovered_team_ids"] == ["T1"]
        assert december["uncovered_teams"] == [
            {"team_id": "T1", "reason": "no_eligible_case", "open_cases": 1, "audited_in_last_12_months": 1}
        ]
        assert december["idle_auditor_ids"] == ["TM1", "TM2", "TM4"]
        assert december["idle_auditors"] == [
            {"auditor_id": "TM1", "reason": "all_line_managed_cases_audited_in_last_12_months", "fallback_reason": None},
            {"auditor_id": "TM2", "reason": "no_line_managed_case", "fallback_reason": None},
            {"auditor_id": "TM4", "reason": "no_line_managed_case", "fallback_reason": None},
        ]
        read = (await svc.http.get("/v1/cycles/2026-12", headers=qa)).json()
        assert read["uncovered_teams"] == december["uncovered_teams"] and read["idle_auditors"] == december["idle_auditors"]


async def test_peer_reviewers_take_one_audit_each_and_qa_staff_assign_the_rest(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load(svc.db, cases={"T0": 2, "T1": 2, "T2": 2, "T3": 2}, peer_reviewers=2)
        qa = svc.as_person(QA["person_id"], roles=QA["roles"])
        cycle = (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec"}, headers=qa)).json()
        assert cycle["audits"] == 4 and len(cycle["awaiting_peer_reviewer"]) == 2 and cycle["version"] == 1
        allocated = await capture.wait_for("audit.audit.allocated.v1", 2)
        assert sorted(e.data["peer_reviewer_id"] for e in allocated) == ["PR0", "PR1"]
        await capture.settle(0.5)
        assert len(capture.of_type("audit.audit.allocated.v1")) == 2  # the two awaiting a reviewer are not allocated
        rows = (await svc.http.get("/v1/cycles/2026-12/assignments", headers=qa)).json()["items"]
        waiting = [r for r in rows if r["peer_reviewer_id"] is None]
        assert sorted(r["auditor_id"] for r in waiting) == cycle["awaiting_peer_reviewer"] and all(
            r["audit_id"] is None for r in waiting
        )

        first = cycle["awaiting_peer_reviewer"][0]
        path = f"/v1/cycles/2026-12/assignments/{first}/peer-reviewer"
        assert (await svc.http.put(path, json={"peer_reviewer_id": "PR0"}, headers=qa)).status_code == 428
        manager = svc.as_person("TM0", roles=["team_manager"])
        assert (
            await svc.http.put(path, json={"peer_reviewer_id": "PR0"}, headers={**manager, "If-Match": '"1"'})
        ).status_code == 403
        doubled = await svc.http.put(path, json={"peer_reviewer_id": "PR0"}, headers={**qa, "If-Match": '"1"'})
        assert doubled.status_code == 409 and "one case per month" in doubled.json()["detail"]
        not_reviewer = await svc.http.put(path, json={"peer_reviewer_id": "TM2"}, headers={**qa, "If-Match": '"1"'})
        assert not_reviewer.status_code == 422
        assert (
            await svc.http.put(path, json={"peer_reviewer_id": "NOBODY"}, headers={**qa, "If-Match": '"1"'})
        ).status_code == 422
        reviewed = next(r["auditor_id"] for r in rows if r["peer_reviewer_id"])
        taken = await svc.http.put(
            f"/v1/cycles/2026-12/assignments/{reviewed}/peer-reviewer",
            json={"peer_reviewer_id": "PR0"},
            headers={**qa, "If-Match": '"1"'},
        )
        assert taken.status_code == 409
        assert (
            await svc.http.put(
                "/v1/cycles/2027-02/assignments/TM0/peer-reviewer",
                json={"peer_reviewer_id": "PR0"},
                headers={**qa, "If-Match": '"1"'},
            )
        ).status_code == 404

        # A new peer reviewer joins; QA staff assign them, and the audit is allocated.
        await project_many(svc.db, [PersonChanged(person_id="PR9", version=1, roles=["peer_reviewer"])], [], [])
        assigned = await svc.http.put(path, json={"peer_reviewer_id": "PR9"}, headers={**qa, "If-Match": '"1"'})
        assert assigned.status_code == 200, assigned.text
        assert (
            assigned.headers["ETag"] == '"2"' and assigned.json()["awaiting_peer_reviewer"] == cycle["awaiting_peer_reviewer"][1:]
        )
        stale = await svc.http.put(
            f"/v1/cycles/2026-12/assignments/{cycle['awaiting_peer_reviewer'][1]}/peer-reviewer",
            json={"peer_reviewer_id": "PR9"},
            headers={**qa, "If-Match": '"1"'},
        )
        assert stale.status_code == 412
        again = await svc.http.put(path, json={"peer_reviewer_id": "PR9"}, headers={**qa, "If-Match": '"2"'})
        assert again.status_code == 409  # no longer awaiting one
        [event] = [e for e in await capture.wait_for("audit.audit.allocated.v1", 3) if e.data["auditor_id"] == first]
        assert event.data["peer_reviewer_id"] == "PR9"

        async def allocated_three() -> bool:
            return bool((await svc.http.get("/v1/cycles/2026-12", headers=qa)).json()["allocated"] == 3)

        await eventually(allocated_three)


async def test_the_own_service_fallback_is_a_programme_setting_with_history_and_marks_its_audits(service_env, capture) -> None:
    async with running_service(app(FixedClock(DRAW_DAY))) as svc:
        await load(svc.db, cases={"T0": 4, "T3": 4}, peer_reviewers=6)
        qa = svc.as_person(QA["person_id"], roles=QA["roles"])
        tool = await svc.http.get(f"/v1/tools/{KENT}", headers=qa)
        definition = tool.json()["definition"]
        assert definition["own_service_fallback"] is False  # off by default
        body = {**definition, "own_service_fallback": True}
        manager = svc.as_person("TM0", roles=["team_manager"])
        assert (
            await svc.http.post(f"/v1/tools/{KENT}/versions", json=body, headers={**manager, "If-Match": tool.headers["ETag"]})
        ).status_code == 403
        assert (
            await svc.http.post(
                f"/v1/tools/{KENT}/versions",
                json={**body, "own_service_fallback": "sometimes"},
                headers={**qa, "If-Match": tool.headers["ETag"]},
            )
        ).status_code == 422
        switched = await svc.http.post(f"/v1/tools/{KENT}/versions", json=body, headers={**qa, "If-Match": tool.headers["ETag"]})
        assert switched.status_code == 201, switched.text
        versions = (await svc.http.get(f"/v1/tools/{KENT}/versions", headers=qa)).json()["items"]
        assert [(v["definition"]["own_service_fallback"], v["created_by"]) for v in versions[:2]] == [
            (True, "P-QA"),
            (False, versions[1]["created_by"]),
        ]
        assert versions[0]["created_at"]

        cycle = (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec"}, headers=qa)).json()
        assert cycle["own_service_fallback"] is True and cycle["audits"] == 4
        # TM1 and TM2 manage no case: each is given one of SM1's service they do not manage. TM4 has no service.
        assert cycle["idle_auditors"] == [
            {"auditor_id": "TM4", "reason": "no_line_managed_case", "fallback_reason": "no_service_manager_above_them"}
        ]
        allocated = await capture.wait_for("audit.audit.allocated.v1", 4)

        async def all_allocated() -> bool:
            return bool((await svc.http.get("/v1/cycles/2026-12", headers=qa)).json()["allocated"] == 4)

        await eventually(all_allocated)
        rows = {r["auditor_id"]: r for r in (await svc.http.get("/v1/cycles/2026-12/assignments", headers=qa)).json()["items"]}
        assert {a: r["basis"] for a, r in rows.items()} == {
            "TM0": "line_managed",
            "TM1": "own_service",
            "TM2": "own_service",
            "TM3": "line_managed",
        }
        for auditor in ("TM1", "TM2"):
            assert rows[auditor]["team_id"] in ("T0", "T3") and rows[auditor]["audit_id"] in {
                e.data["audit_id"] for e in allocated
            }
        assert len({r["case_id"] for r in rows.values()}) == 4

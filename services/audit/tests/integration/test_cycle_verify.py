"""Issue 18, "a sample anyone can verify", over the audit API (real SecantusDB and RabbitMQ, one
in-process replica): a drawn month records the inputs it used (the directory's version, the
dispensations) and every case's reason, served paged; ``verify`` re-draws from the recorded seed
and inputs and reproduces the sample, and says so when the stored sample, a reason or the inputs
were altered in the database afterwards; ``preview`` draws without writing anything."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from audit.common.directory import CASE_CHANGED, CaseChanged, PersonChanged, project_many
from audit.cycles import store as cycle_store
from audit.main import create_app
from shared.clock import FixedClock

from devstack.testing import eventually, publish, running_service

from .conftest import DRAW_DAY, load_authority

KENT = "kent-online-peer-review"
QA = ("P-QA", ["qa_officer"])
LEFT_OUT = {
    "audited_in_last_12_months",
    "not_line_managed_by_an_available_auditor",
    "lower_precedence",
    "not_child_in_need_protection_or_care",
}


def app():
    return lambda: create_app(clock=FixedClock(DRAW_DAY))


async def every_case(svc: Any, qa: dict[str, str], month: str, *, limit: int = 7) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = await svc.http.get(f"/v1/cycles/{month}/cases", params=params, headers=qa)
        assert page.status_code == 200, page.text
        rows += page.json()["items"]
        cursor = page.json()["next"]
        if cursor is None:
            return rows


async def verified(svc: Any, qa: dict[str, str], month: str = "2026-12") -> dict[str, Any]:
    resp = await svc.http.post(f"/v1/cycles/{month}/verify", headers=qa)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_a_drawn_month_records_its_inputs_gives_every_case_its_reason_and_verifies(
    service_env, capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cycle_store, "REASON_CHUNK", 4)  # pages that cross the stored chunks
    async with running_service(app()) as svc:
        await load_authority(svc.db, teams=5, cases_per_team=4, peer_reviewers=2)
        # TM4 manages nobody's case but their team's: an extra team T9 whose manager is no auditor.
        await project_many(svc.db, [PersonChanged(person_id="SW9", version=1, roles=["social_worker"])], [], [])
        # Three cases arrive as the gateway numbers them: the directory version the draw records.
        for n in range(3):
            data = CaseChanged(
                case_id=f"C-9-{n}",
                version=1,
                sequence=n + 1,
                case_type="CIN",
                team_id="T9",
                team_manager_id="SW9",
                opened_on=date(2026, 5, 1),
            )
            await publish(svc, CASE_CHANGED, data)

        async def arrived() -> bool:
            return bool(await svc.db["directory_applied"].count_documents({"_id": "case", "through": 3}) == 1)

        await eventually(arrived, message="the numbered case changes applied")
        qa = svc.as_person(*QA[:1], roles=QA[1])
        away = await svc.http.post(
            "/v1/dispensations",
            json={"person_id": "TM1", "reason": "annual_leave", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
            headers=qa,
        )
        assert away.status_code == 201, away.text

        drawn = await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-verify"}, headers=qa)
        assert drawn.status_code == 201, drawn.text
        cycle = drawn.json()
        assert cycle["directory_version"] == {"team": 0, "person": 0, "case": 3}
        assert cycle["dispensation_ids"] == [away.json()["dispensation_id"]] and cycle["dispensed_ids"] == ["TM1"]

        rows = await every_case(svc, qa, "2026-12")
        assert [r["case_id"] for r in rows] == sorted(r["case_id"] for r in rows) and len(rows) == 5 * 4 + 3
        assignments = (await svc.http.get("/v1/cycles/2026-12/assignments", headers=qa)).json()["items"]
        picked = {r["case_id"]: r for r in rows if r["picked"]}
        assert {(a["case_id"], a["auditor_id"], a["basis"]) for a in assignments} == {
            (c, r["auditor_id"], r["basis"]) for c, r in picked.items()
        }
        assert all(len(r["rank"]) == 64 for r in rows)
        left = [r for r in rows if not r["picked"]]
        assert all(r["reason"] in LEFT_OUT for r in left)
        # TM1 is away and no one covers T1 and T9 (every other auditor has their own case): not line-managed by an available auditor.
        assert {r["reason"] for r in left if r["case_id"].startswith(("C-1-", "C-9-"))} == {
            "not_line_managed_by_an_available_auditor"
        }
        for r in left:
            if r["case_id"].startswith(("C-0-", "C-2-", "C-3-", "C-4-")):
                assert r["reason"] == "lower_precedence" and picked[r["outranked_by"]]["rank"] < r["rank"]

        result = await verified(svc, qa)
        assert result["reproduced"] is True and result["inputs_digest_matches"] is True and result["inputs_recorded"] is True, (
            result
        )
        assert (
            result["differences"] == [] and result["seed"] == "dec-verify" and result["inputs_digest"] == cycle["inputs_digest"]
        )
        assert result["recorded_inputs_digest"] == cycle["inputs_digest"]

        # QA staff give an audit awaiting a peer reviewer one: still the month's draw.
        waiting = cycle["awaiting_peer_reviewer"]
        assert waiting, cycle
        await project_many(svc.db, [PersonChanged(person_id="PR9", version=1, roles=["peer_reviewer"])], [], [])
        assigned = await svc.http.put(
            f"/v1/cycles/2026-12/assignments/{waiting[0]}/peer-reviewer",
            json={"peer_reviewer_id": "PR9"},
            headers={**qa, "If-Match": '"1"'},
        )
        assert assigned.status_code == 200, assigned.text
        assert (await verified(svc, qa))["reproduced"] is True

        # Verifying writes nothing: one drawn event, the cycle at the version QA staff left it.
        await capture.settle(0.5)
        assert len(capture.of_type("audit.cycle.drawn.v1")) == 1
        assert (await svc.http.get("/v1/cycles/2026-12", headers=qa)).json()["version"] == 2


async def test_verify_says_so_when_the_stored_sample_its_reasons_or_its_inputs_were_altered(service_env) -> None:
    async with running_service(app()) as svc:
        await load_authority(svc.db, teams=4, cases_per_team=3, peer_reviewers=4)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        cycle = (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-tamper"}, headers=qa)).json()
        assert (await verified(svc, qa))["reproduced"] is True
        cid = cycle["cycle_id"]

        # The point of this test: the stored sample altered behind the service's back.
        stored = await svc.db["cycles"].find_one({"_id": cid})
        first = stored["assignments"][0]
        other = next(f"C-{first['team_id'][1:]}-{n}" for n in range(3) if f"C-{first['team_id'][1:]}-{n}" != first["case_id"])
        await svc.db["cycles"].update_one({"_id": cid}, {"$set": {"assignments.0.case_id": other}})
        result = await verified(svc, qa)
        assert result["reproduced"] is False and result["inputs_digest_matches"] is True
        assert result["differences_total"] == 1 and result["differences"] == [
            {
                "what": "assignment",
                "id": first["auditor_id"],
                "stored": {
                    "case_id": other,
                    "case_type": first["case_type"],
                    "team_id": first["team_id"],
                    "peer_reviewer_id": first["peer_reviewer_id"],
                    "basis": first["basis"],
                },
                "redrawn": {
                    "case_id": first["case_id"],
                    "case_type": first["case_type"],
                    "team_id": first["team_id"],
                    "peer_reviewer_id": first["peer_reviewer_id"],
                    "basis": first["basis"],
                },
            }
        ]
        await svc.db["cycles"].update_one({"_id": cid}, {"$set": {"assignments.0.case_id": first["case_id"]}})
        assert (await verified(svc, qa))["reproduced"] is True

        # A case's reason altered.
        chunk = await svc.db["cycle_case_reasons"].find_one({"cycle_id": cid})
        row = next(r for r in chunk["rows"] if not r[1])
        await svc.db["cycle_case_reasons"].update_one(
            {"_id": chunk["_id"]}, {"$set": {f"rows.{chunk['rows'].index(row)}.5": "audited_in_last_12_months"}}
        )
        result = await verified(svc, qa)
        assert result["reproduced"] is False and [(d["what"], d["id"]) for d in result["differences"]] == [("case", row[0])]
        assert result["differences"][0]["stored"]["reason"] == "audited_in_last_12_months"
        assert result["differences"][0]["redrawn"]["reason"] == row[5]
        await svc.db["cycle_case_reasons"].update_one({"_id": chunk["_id"]}, {"$set": {"rows": chunk["rows"]}})
        assert (await verified(svc, qa))["reproduced"] is True

        # The recorded inputs altered: a case taken out. Their digest is no longer the cycle's.
        inputs = await svc.db["cycle_inputs"].find_one({"cycle_id": cid})
        await svc.db["cycle_inputs"].update_one({"_id": inputs["_id"]}, {"$pop": {"cases": 1}})
        result = await verified(svc, qa)
        assert result["reproduced"] is False and result["inputs_digest_matches"] is False
        assert result["recorded_inputs_digest"] not in (None, cycle["inputs_digest"])
        assert "inputs" in {d["what"] for d in result["differences"]}

        # Inputs gone (as for a cycle drawn before they were recorded): it cannot be re-drawn.
        await svc.db["cycle_inputs"].delete_many({"cycle_id": cid})
        result = await verified(svc, qa)
        assert result["reproduced"] is False and result["inputs_recorded"] is False and result["recorded_inputs_digest"] is None
        assert [d["what"] for d in result["differences"]] == ["inputs"]


async def test_preview_draws_from_todays_inputs_without_writing_anything(service_env, capture) -> None:
    async with running_service(app()) as svc:
        await load_authority(svc.db, teams=4, cases_per_team=3, peer_reviewers=2)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        preview = await svc.http.post("/v1/cycles/2026-12/preview", json={"seed": "dec-dry"}, headers=qa)
        assert preview.status_code == 200, preview.text
        dry = preview.json()
        assert dry["seed"] == "dec-dry" and dry["peer_review"] is True and len(dry["assignments"]) == 4
        assert dry["reasons"] == {"line_managed": 4, "lower_precedence": 8}
        assert dry["directory_version"] == {"team": 0, "person": 0, "case": 0} and dry["dispensation_ids"] == []
        generated = (await svc.http.post("/v1/cycles/2026-12/preview", json={}, headers=qa)).json()
        assert generated["seed"] and generated["seed"] != "dec-dry" and generated["inputs_digest"] == dry["inputs_digest"]

        # Nothing written: no cycle, no event, no audit.
        assert (await svc.http.get("/v1/cycles/2026-12", headers=qa)).status_code == 404
        assert await svc.db["cycles"].count_documents({}) == 0 and await svc.db["cycle_inputs"].count_documents({}) == 0
        await capture.settle(0.5)
        assert capture.of_type("audit.cycle.drawn.v1") == [] and capture.of_type("audit.allocation.requested.v1") == []

        # Drawing with the previewed seed draws what the preview showed.
        cycle = (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-dry"}, headers=qa)).json()
        rows = (await svc.http.get("/v1/cycles/2026-12/assignments", headers=qa)).json()["items"]
        assert cycle["inputs_digest"] == dry["inputs_digest"]
        assert [{k: r[k] for k in dry["assignments"][0]} for r in rows] == dry["assignments"]
        assert cycle["awaiting_peer_reviewer"] == dry["awaiting_peer_reviewer"]


async def test_refusals_bad_input_and_permissions(service_env) -> None:
    async with running_service(app()) as svc:
        await load_authority(svc.db, teams=2, cases_per_team=2, peer_reviewers=1)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        manager = svc.as_person("TM0", roles=["team_manager"])

        def problem(resp: Any, status: int) -> dict[str, Any]:
            assert resp.status_code == status, resp.text
            assert resp.headers["content-type"].startswith("application/problem+json")
            body: dict[str, Any] = resp.json()
            return body

        # Not drawn yet.
        problem(await svc.http.post("/v1/cycles/2026-12/verify", headers=qa), 404)
        problem(await svc.http.get("/v1/cycles/2026-12/cases", headers=qa), 404)
        # Preview: not QA staff, unknown tool, a month that is over, a bad seed, an unknown field, a bad month.
        problem(await svc.http.post("/v1/cycles/2026-12/preview", json={}, headers=manager), 403)
        unknown = problem(await svc.http.post("/v1/cycles/2026-12/preview", json={"tool_id": "no-such-tool"}, headers=qa), 422)
        assert unknown["errors"][0]["field"] == "tool_id"
        assert "is over" in problem(await svc.http.post("/v1/cycles/2026-10/preview", json={}, headers=qa), 409)["detail"]
        problem(await svc.http.post("/v1/cycles/2026-12/preview", json={"seed": "not a seed!"}, headers=qa), 422)
        problem(await svc.http.post("/v1/cycles/2026-12/preview", json={"size": 3}, headers=qa), 422)
        problem(await svc.http.post("/v1/cycles/2026-13/preview", json={}, headers=qa), 422)
        # A themed programme is not drawn monthly.
        themed = problem(
            await svc.http.post("/v1/cycles/2026-12/preview", json={"tool_id": "themed-supervision-and-decisions"}, headers=qa),
            409,
        )
        assert "not drawn monthly" in themed["detail"]

        assert (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec-x"}, headers=qa)).status_code == 201
        # Drawn: still QA staff only, and the cursor must be one the service gave.
        problem(await svc.http.post("/v1/cycles/2026-12/verify", headers=manager), 403)
        problem(await svc.http.get("/v1/cycles/2026-12/cases", headers=manager), 403)
        problem(await svc.http.get("/v1/cycles/2026-12/cases", params={"cursor": "garbage"}, headers=qa), 400)
        problem(await svc.http.get("/v1/cycles/2026-12/cases", params={"limit": 0}, headers=qa), 422)
        problem(await svc.http.post("/v1/cycles/2026-12/verify", params={"tool_id": "no-such-tool"}, headers=qa), 404)
        assert (await verified(svc, qa))["reproduced"] is True

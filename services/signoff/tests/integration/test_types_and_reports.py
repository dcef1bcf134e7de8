"""Exemplar types as data through the API, and the timeliness report."""

from __future__ import annotations

from typing import Any

from shared.clock import FixedClock
from signoff import type_store
from signoff.main import create_app

from devstack.testing import running_service
from services.signoff.tests.integration.harness import T0, act, complete_ia, create, load_directory, who


def editable(t: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in t.items() if k not in ("code", "version")}


async def test_the_seed_types_are_stored_at_start_up_once(service_env) -> None:
    async with running_service(create_app) as svc:
        listed = (await svc.http.get("/v1/exemplar-types?limit=3", headers=who(svc, "P-SW1"))).json()
        nxt = (await svc.http.get(f"/v1/exemplar-types?limit=3&cursor={listed['next']}", headers=who(svc, "P-SW1"))).json()
        assert [t["code"] for t in listed["items"] + nxt["items"]] == ["COREAS", "INIASS", "REFERR", "S47OUT", "STRATD"]
        assert nxt["next"] is None
    async with running_service(create_app) as svc:  # a restart (or a second replica) adds nothing
        assert await svc.db[type_store.TYPE_VERSIONS].count_documents({}) == 5
        ia = (await svc.http.get("/v1/exemplar-types/INIASS", headers=who(svc, "P-SW1"))).json()
        assert ia["timescale_working_days"] == 7 and ia["first_signers"] == ["duty_senior", "social_worker"]
        assert "duty_senior" in ia["counter_signers"] and ia["role_notes"]


async def test_an_administrator_changes_a_type_as_a_new_version_and_work_under_way_keeps_its_rules(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        admin = who(svc, "P-ADMIN")
        started = await create(svc)  # on INIASS version 1
        current = await svc.http.get("/v1/exemplar-types/INIASS", headers=admin)
        body = editable(current.json())
        body["questions"].append({"id": "school_view", "text": "View of the school.", "kind": "text", "mandatory": True, "options": []})
        body["timescale_working_days"] = 10

        missing = await svc.http.put("/v1/exemplar-types/INIASS", json=body, headers=admin)
        assert missing.status_code == 428 and missing.json()["type"].endswith("if-match-required")
        assert "exemplar type 'INIASS' exists, at revision 1" in missing.json()["detail"]
        stale = await svc.http.put("/v1/exemplar-types/INIASS", json=body, headers={**admin, "If-Match": '"9"'})
        assert stale.status_code == 412
        changed = await svc.http.put("/v1/exemplar-types/INIASS", json=body, headers={**admin, "If-Match": current.headers["ETag"]})
        assert changed.status_code == 200 and changed.json()["version"] == 2 and changed.headers["ETag"] == '"2"'
        v1 = (await svc.http.get("/v1/exemplar-types/INIASS/versions/1", headers=admin)).json()
        assert v1["timescale_working_days"] == 7 and len(v1["questions"]) == len(body["questions"]) - 1

        # the exemplar started on version 1 signs without the new question; a new one needs it
        assert (await act(svc, "P-SW1", started, "first-signature")).json()["type_version"] == 1
        fresh = await create(svc)
        assert fresh.json()["type_version"] == 2
        refused = await act(svc, "P-SW1", fresh, "first-signature", expect=422)
        assert [u["question_id"] for u in refused.json()["unanswered"]] == ["school_view"]

        bad = {**body, "first_signers": ["duty senior"], "start_question_id": "school_view"}
        invalid = await svc.http.put("/v1/exemplar-types/INIASS", json=bad, headers={**admin, "If-Match": '"2"'})
        assert invalid.status_code == 422 and {e["field"] for e in invalid.json()["errors"]} == {"first_signers", "start_question_id"}
        assert (await svc.http.get("/v1/exemplar-types/INIASS", headers=admin)).json()["version"] == 2


async def test_an_administrator_adds_a_type_without_code(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        body = {
            "name": "Child in Need Review", "questions": [{"id": "review_date", "text": "Date of review.", "kind": "date", "mandatory": True}],
            "first_signers": ["social_worker"], "counter_signers": ["team_leader", "senior_practitioner"],
            "same_person_may_sign_both": False, "timescale_working_days": None, "start_question_id": "review_date",
        }
        resp = await svc.http.put("/v1/exemplar-types/CINREV", json=body, headers=who(svc, "P-ADMIN"))
        assert resp.status_code == 201 and resp.json()["version"] == 1
        created = await create(svc, type_code="CINREV", answers={"review_date": "2026-03-02"})
        assert created.json()["type_name"] == "Child in Need Review"


async def test_timeliness_is_taken_from_the_latest_versions_counter_signature(service_env) -> None:
    clock = FixedClock(T0)  # Monday 2 March 2026
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await load_directory(svc)
        # one counter-signed the day it started: on time...
        quick = await create(svc)
        await act(svc, "P-DS", await act(svc, "P-SW1", quick, "first-signature"), "counter-signature")
        # ...one unlocked twice, Version 3 counter-signed Wednesday 11 March: the 7th working day, on time
        slow = await create(svc, case_id="C-1002")
        for day, reason in ((0, None), (2, "first correction"), (9, "second correction")):
            clock.set(T0.replace(day=2 + day))
            if reason:
                slow = await act(svc, "P-SW1", slow, "unlock", {"reason": reason})
            slow = await act(svc, "P-DS", await act(svc, "P-SW1", slow, "first-signature"), "counter-signature")
        assert slow.json()["version"] == 3
        # ...one not signed yet, started later
        await create(svc, case_id="C-1003", answers=complete_ia("2026-03-10"))
        await create(svc, case_id="C-1003", type_code="REFERR", answers={"referral_date": "2026-03-02"})

        clock.set(T0.replace(day=20))
        url = "/v1/reports/timeliness?from=2026-03-01&to=2026-03-31&type=INIASS"
        report = (await svc.http.get(url, headers=who(svc, "P-PERF"))).json()
        rows = {r["case_id"]: r for r in report["items"]}
        assert set(rows) == {"C-1001", "C-1002", "C-1003"}
        assert rows["C-1001"]["status"] == "on_time" and rows["C-1001"]["counter_signed_on"] == "2026-03-02"
        assert (rows["C-1002"]["latest_version"], rows["C-1002"]["counter_signed_on"], rows["C-1002"]["working_days_taken"]) == (3, "2026-03-11", 7)
        assert rows["C-1003"]["status"] == "overdue" and rows["C-1003"]["due_on"] == "2026-03-19"
        assert report["totals"] == {
            "total": 3, "completed": 2, "on_time": 2, "late": 0, "open": 0, "overdue": 1, "no_timescale": 0, "percent_on_time": 100.0,
        }

        # unlocked a third time and counter-signed on Friday 13 March: now the work counts as late
        clock.set(T0.replace(day=13))
        slow = await act(svc, "P-SW1", slow, "unlock", {"reason": "third correction"})
        slow = await act(svc, "P-DS", await act(svc, "P-SW1", slow, "first-signature"), "counter-signature")
        clock.set(T0.replace(day=20))
        later = (await svc.http.get(url, headers=who(svc, "P-PERF"))).json()
        row = next(r for r in later["items"] if r["case_id"] == "C-1002")
        assert (row["latest_version"], row["counter_signed_on"], row["working_days_taken"], row["status"]) == (4, "2026-03-13", 9, "late")

        everything = (await svc.http.get("/v1/reports/timeliness?from=2026-03-01&to=2026-03-31&limit=2", headers=who(svc, "P-PERF"))).json()
        assert everything["totals"]["total"] == 4 and set(everything["by_type"]) == {"INIASS", "REFERR"}
        assert len(everything["items"]) == 2 and everything["next"]
        rest = (await svc.http.get(f"/v1/reports/timeliness?from=2026-03-01&to=2026-03-31&limit=2&cursor={everything['next']}",
                                   headers=who(svc, "P-PERF"))).json()
        assert len(rest["items"]) == 2 and rest["next"] is None
        assert (await svc.http.get("/v1/reports/timeliness?from=2026-03-31&to=2026-03-01", headers=who(svc, "P-PERF"))).status_code == 422

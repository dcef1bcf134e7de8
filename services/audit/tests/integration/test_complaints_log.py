"""Hillingdon 4.5.2 over the API, with a real MongoDB: a complaint's level, the log of level 2
complaints and above, and the annual extract of lessons learned; who may read them, refusals
that change nothing, and a revision of the level that moves a complaint into the log."""

from __future__ import annotations

from typing import Any

from audit.practice.store import COMPLAINT_LESSONS

from .service import is_problem, seeded_service


def complaint(ref: str, level: int | None, responded: str, **more: Any) -> dict[str, Any]:
    body = {
        "kind": "complaint",
        "complaint_ref": ref,
        "team_id": "T-CP",
        "date_responded": responded,
        "summary": "Visit missed",
        "outcome": "upheld",
        "actions_taken": ["apology"],
        "lessons_learned": f"Lesson of {ref}",
        "level": level,
        **more,
    }
    return body


async def test_the_log_of_level_2_complaints_and_the_annual_extract_of_lessons(service_env) -> None:
    async with seeded_service() as svc:
        http = svc.http
        tm = svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"])
        complaints_manager = svc.as_person("P-CM", roles=["complaints_manager"])
        qa = svc.as_person("P-QA", roles=["qa_officer"])

        # Bad levels are refused and nothing is recorded.
        for bad, field in (
            (complaint("CR-9", 4, "2026-09-10"), "level"),
            ({**complaint("ME-9", 2, "2026-09-10"), "kind": "members_enquiry"}, "level"),
            (complaint("CR-9", 2, "2026-09-10", date_received="2026-09-20"), "date_received"),
        ):
            refused = await http.post("/v1/complaints", json=bad, headers=complaints_manager)
            assert is_problem(refused, 422) and refused.json()["errors"][0]["field"].endswith(field), refused.text
        assert await svc.db[COMPLAINT_LESSONS].count_documents({}) == 0

        for body in (
            complaint("CR-1", 1, "2026-09-01"),
            complaint("CR-2", 2, "2026-09-10", date_received="2026-08-20"),
            complaint("CR-3", 3, "2026-08-15", outcome="not_upheld", actions_taken=["explanation", "review_procedure"]),
            complaint("CR-4", 2, "2025-12-30"),
            {**complaint("ME-1", None, "2026-09-02"), "kind": "members_enquiry"},
        ):
            created = await http.post("/v1/complaints", json=body, headers=complaints_manager)
            assert created.status_code == 201, created.text
            assert created.json()["level"] == body["level"]

        log = await http.get("/v1/complaints-log", headers=complaints_manager)
        assert log.status_code == 200, log.text
        assert [(e["complaint_ref"], e["level"], e["days_to_respond"]) for e in log.json()["items"]] == [
            ("CR-4", 2, None),
            ("CR-3", 3, None),
            ("CR-2", 2, 21),
        ]
        extract = await http.get("/v1/complaints-lessons/2026", headers=qa)
        assert extract.status_code == 200, extract.text
        e = extract.json()
        assert e["complaints"] == 2 and e["by_level"] == {"2": 1, "3": 1} and e["outcomes"] == {"not_upheld": 1, "upheld": 1}
        assert e["actions_taken"] == {"apology": 1, "explanation": 1, "review_procedure": 1}
        assert [lesson["complaint_ref"] for lesson in e["teams"][0]["lessons"]] == ["CR-3", "CR-2"]
        assert (await http.get("/v1/complaints-lessons/2025", headers=qa)).json()["complaints"] == 1

        # A team manager and a social worker do not read the service-wide log.
        for who in (tm, svc.as_person("P-SW1", roles=["social_worker"])):
            assert is_problem(await http.get("/v1/complaints-log", headers=who), 403)
            assert is_problem(await http.get("/v1/complaints-lessons/2026", headers=who), 403)
        assert (await http.get("/v1/complaints-lessons/20266", headers=qa)).status_code == 422

        # Level 1 revised to level 2 (the earlier version kept): it joins the log.
        items = (await http.get("/v1/complaints?team_id=T-CP", headers=tm)).json()["items"]
        [first] = [i for i in items if i["complaint_ref"] == "CR-1"]
        revised = await http.put(
            f"/v1/complaints/{first['id']}",
            json=complaint("CR-1", 2, "2026-09-01"),
            headers={**complaints_manager, "If-Match": '"1"'},
        )
        assert revised.status_code == 200, revised.text
        assert [i["complaint_ref"] for i in (await http.get("/v1/complaints-log", headers=complaints_manager)).json()["items"]][
            -2:
        ] == ["CR-1", "CR-2"]
        history = (await http.get(f"/v1/complaints/{first['id']}/history", headers=complaints_manager)).json()["items"]
        assert [h["record"]["level"] for h in history] == [1, 2]

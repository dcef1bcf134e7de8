"""Hampshire's rules of issue 21 over the audit API, against real MongoDB and RabbitMQ: the auditor
raises with the team/unit manager a standard judged not met that the team/unit manager said was
(seed 003, 10.5), the workers who put no file forward (4.1), and the quarterly report (14.3)."""

from __future__ import annotations

from typing import Any

from audit.hampshire import events as he
from audit.hampshire.store import FILES
from audit.main import create_app

from devstack.testing import EventCapture, running_service

from . import hampshire_setup
from .conftest import clock
from .service import is_problem

MONTH = "2026-10"
PEOPLE: hampshire_setup.People = {
    "R-SM": (["service_manager"], None, None),
    "R-TM1": (["team_manager"], "R-SM", "R-T1"),
    "R-TM2": (["team_manager"], "R-SM", "R-T2"),
    "R-SW1": (["social_worker"], "R-TM1", "R-T1"),
    "R-SW2": (["senior_practitioner"], "R-TM1", "R-T1"),
    "R-SW3": (["social_worker"], "R-TM2", "R-T2"),
    "R-OSM": (["service_manager"], None, None),
    "R-OTM": (["team_manager"], "R-OSM", "R-T9"),
    "R-OSW": (["social_worker"], "R-OTM", "R-T9"),
    "R-QA": (["qa_officer"], None, None),
    "R-PMU": (["performance_management"], None, None),
}


async def seed(db: Any) -> None:
    await hampshire_setup.seed(db, PEOPLE, (("R-T1", "R-TM1"), ("R-T2", "R-TM2"), ("R-T9", "R-OTM")), (("RC-11", "R-T1"), ("RC-12", "R-T1")))


def preparation() -> dict[str, Any]:
    return hampshire_setup.preparation(action="Outcome measures requested from the family.", comments="Prepared in supervision.")


def judgements(reason: str = "") -> dict[str, Any]:
    values = {f"standard_{n:02d}": {"value": "yes"} for n in range(1, 15)}
    values["standard_03"] = {"value": "no", "comment": reason}
    values["standard_08"] = {"value": "no", "comment": "No outcome measures agreed."}
    values["standard_14"] = {"value": "n/a"}
    return {"judgements": values, "comments": "Risk to the public is not assessed."}


async def test_a_standard_judged_not_met_that_the_team_manager_said_was_is_raised_with_them(
    service_env, capture: EventCapture
) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed(svc.db)
        http = svc.http
        who = {p: svc.as_person(p, roles=roles) for p, (roles, _, _) in PEOPLE.items()}

        created = await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "RC-11"}, headers=who["R-SW1"])
        assert created.status_code == 201, created.text
        url = f"/v1/hampshire/files/{created.json()['id']}"
        saved = await http.put(
            f"{url}/preparation", json=preparation(), headers={**who["R-SW1"], "If-Match": created.headers["ETag"]}
        )
        ready = await http.post(f"{url}/ready", headers={**who["R-TM1"], "If-Match": saved.headers["ETag"]})
        assert ready.status_code == 200, ready.text
        chosen = await http.post(
            f"/v1/hampshire/months/{MONTH}/selections", json={"file_ids": [created.json()["id"]]}, headers=who["R-SM"]
        )
        assert chosen.status_code == 200, chosen.text

        # Judged not met without saying why: the audit is not completed, nothing raised.
        current = await http.get(url, headers=who["R-SM"])
        judged = await http.put(
            f"{url}/judgements", json=judgements(), headers={**who["R-SM"], "If-Match": current.headers["ETag"]}
        )
        assert judged.status_code == 200, judged.text
        gaps = await http.post(f"{url}/complete", headers={**who["R-SM"], "If-Match": judged.headers["ETag"]})
        assert is_problem(gaps, 422) and [e["field"] for e in gaps.json()["errors"]] == ["judgements.standard_03.comment"]
        unchanged = (await http.get(url, headers=who["R-SM"])).json()
        assert (
            unchanged["status"] == "selected"
            and unchanged["disagreement"] is None
            and unchanged["version"] == judged.json()["version"]
        )

        # With the reason, completing raises it with the team manager.
        judged = await http.put(
            f"{url}/judgements",
            json=judgements("The risk to the public is not assessed."),
            headers={**who["R-SM"], "If-Match": judged.headers["ETag"]},
        )
        done = await http.post(f"{url}/complete", headers={**who["R-SM"], "If-Match": judged.headers["ETag"]})
        assert done.status_code == 200, done.text
        d = done.json()["disagreement"]
        assert (
            d["standards"] == ["standard_03"]
            and d["auditor_id"] == "R-SM"
            and d["team_manager_id"] == "R-TM1"
            and d["outcome"] is None
        )

        # The outcome: the team manager's only, If-Match guarded, valid, once.
        outcome_url = f"{url}/disagreement/outcome"
        body = {"outcome": "agreed", "notes": "Agreed: a risk assessment covering the public will be added."}
        etag = done.headers["ETag"]
        assert is_problem(await http.post(outcome_url, json=body, headers=who["R-TM1"]), 428)
        for person in ("R-SM", "R-SW1"):
            assert is_problem(await http.post(outcome_url, json=body, headers={**who[person], "If-Match": etag}), 403)
        assert is_problem(await http.post(outcome_url, json=body, headers={**who["R-OTM"], "If-Match": etag}), 404)
        for bad in ({"outcome": "maybe", "notes": "x"}, {"outcome": "agreed", "notes": ""}, {"outcome": "agreed"}):
            assert is_problem(await http.post(outcome_url, json=bad, headers={**who["R-TM1"], "If-Match": etag}), 422)
        assert is_problem(await http.post(outcome_url, json=body, headers={**who["R-TM1"], "If-Match": '"1"'}), 412)
        assert (await http.get(url, headers=who["R-TM1"])).json()["disagreement"]["outcome"] is None
        settled = await http.post(outcome_url, json=body, headers={**who["R-TM1"], "If-Match": etag})
        assert settled.status_code == 200, settled.text
        s = settled.json()["disagreement"]
        assert s["outcome"] == "agreed" and s["settled_by"] == "R-TM1" and s["notes"].startswith("Agreed")
        assert settled.json()["work"]["judgements"]["standard_03"]["value"] == "no", "the auditor's judgement stands"
        again = await http.post(
            outcome_url,
            json={"outcome": "not_agreed", "notes": "Changed."},
            headers={**who["R-TM1"], "If-Match": settled.headers["ETag"]},
        )
        assert is_problem(again, 409)
        assert (await http.get(url, headers=who["R-SM"])).json()["disagreement"]["outcome"] == "agreed"

        # Published once each, identifiers only.
        await capture.wait_for(he.DISAGREEMENT_RAISED.type, 1)
        await capture.wait_for(he.DISAGREEMENT_SETTLED.type, 1)
        await capture.settle(0.5)
        [raised] = capture.of_type(he.DISAGREEMENT_RAISED.type)
        [closed] = capture.of_type(he.DISAGREEMENT_SETTLED.type)
        assert (
            raised.data["team_manager_id"] == "R-TM1"
            and raised.data["standards"] == ["standard_03"]
            and raised.data["auditor_id"] == "R-SM"
        )
        assert closed.data["outcome"] == "agreed" and closed.data["file_id"] == raised.data["file_id"]
        assert "risk" not in str(raised.data).lower() and "risk" not in str(closed.data).lower()


async def test_the_workers_without_a_file_and_the_quarterly_report(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed(svc.db)
        http = svc.http
        who = {p: svc.as_person(p, roles=roles) for p, (roles, _, _) in PEOPLE.items()}
        missing_url = f"/v1/hampshire/months/{MONTH}/workers-without-file"

        # Nobody has put a file forward: every worker of the service manager's teams is listed.
        listed = await http.get(missing_url, headers=who["R-SM"])
        assert listed.status_code == 200, listed.text
        assert listed.json()["team_ids"] == ["R-T1", "R-T2"]
        assert [(w["worker_id"], w["status"]) for w in listed.json()["workers"]] == [
            ("R-SW1", "no_file"),
            ("R-SW2", "no_file"),
            ("R-SW3", "no_file"),
        ]

        # One file put forward, one started: the first worker is no longer listed, the second is, in preparation.
        created = await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "RC-11"}, headers=who["R-SW1"])
        url = f"/v1/hampshire/files/{created.json()['id']}"
        saved = await http.put(
            f"{url}/preparation", json=preparation(), headers={**who["R-SW1"], "If-Match": created.headers["ETag"]}
        )
        assert (await http.post(f"{url}/ready", headers={**who["R-SW1"], "If-Match": saved.headers["ETag"]})).status_code == 200
        started = await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "RC-12"}, headers=who["R-SW2"])
        assert started.status_code == 201, started.text
        listed = (await http.get(missing_url, headers=who["R-SM"])).json()["workers"]
        assert [(w["worker_id"], w["status"], w["file_id"]) for w in listed] == [
            ("R-SW2", "in_preparation", started.json()["id"]),
            ("R-SW3", "no_file", None),
        ]
        # The performance management unit and QA staff see every team; another service manager only theirs.
        every = (await http.get(missing_url, headers=who["R-PMU"])).json()
        assert every["team_ids"] == ["R-T1", "R-T2", "R-T9"] and [w["worker_id"] for w in every["workers"]] == [
            "R-SW2",
            "R-SW3",
            "R-OSW",
        ]
        assert [w["worker_id"] for w in (await http.get(missing_url, headers=who["R-OSM"])).json()["workers"]] == ["R-OSW"]
        for person in ("R-SW1", "R-TM1"):
            assert is_problem(await http.get(missing_url, headers=who[person]), 403)
        assert (await http.get("/v1/hampshire/months/2026-13/workers-without-file", headers=who["R-SM"])).status_code == 422

        # The quarter: the month's file audited, then reported in 2026-Q4 (and not in Q3).
        chosen = await http.post(
            f"/v1/hampshire/months/{MONTH}/selections", json={"file_ids": [created.json()["id"]]}, headers=who["R-SM"]
        )
        assert chosen.status_code == 200, chosen.text
        current = await http.get(url, headers=who["R-SM"])
        judged = await http.put(
            f"{url}/judgements", json=judgements("Not assessed."), headers={**who["R-SM"], "If-Match": current.headers["ETag"]}
        )
        assert (
            await http.post(f"{url}/complete", headers={**who["R-SM"], "If-Match": judged.headers["ETag"]})
        ).status_code == 200
        report = await http.get("/v1/hampshire/quarterly-reports/2026-Q4", headers=who["R-PMU"])
        assert report.status_code == 200, report.text
        r = report.json()
        assert [m["month"] for m in r["months"]] == ["2026-10", "2026-11", "2026-12"] and r["months"][0]["audited"] == 1
        assert (r["prepared"], r["selected"], r["audited"]) == (1, 1, 1)
        by_standard = {s["standard"]: s for s in r["standards"]}
        assert by_standard["standard_03"]["judgements"]["no"] == 1 and by_standard["standard_03"]["met_percent"] == 0
        assert by_standard["standard_01"]["met_percent"] == 100
        assert (await http.get("/v1/hampshire/quarterly-reports/2026-Q3", headers=who["R-QA"])).json()["audited"] == 0
        for person in ("R-SM", "R-SW1"):
            assert is_problem(await http.get("/v1/hampshire/quarterly-reports/2026-Q4", headers=who[person]), 403)
        assert (await http.get("/v1/hampshire/quarterly-reports/2026-Q5", headers=who["R-PMU"])).status_code == 422
        assert await svc.db[FILES].count_documents({"month": MONTH}) == 2

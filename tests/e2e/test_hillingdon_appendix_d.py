"""Hillingdon's Appendix D end to end, through the gateway, with the services as real processes: the
QA team allocates a team's single-agency audit round (three cases each to a service manager and a
team manager, within their area of expertise, due two months on); the auditors' tasks arrive in
notify; the audits are completed; the QA team reviews a sample graded good or above; the team's
manager writes the overview of all the findings and reports it to the service manager, whose work
tray then holds it (and the team manager's overview task closes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from devstack.testing import Gateway, eventually

pytestmark = pytest.mark.e2e


def _work(form: dict[str, Any], grade: str) -> dict[str, Any]:
    answers = {
        q["key"]: {"value": "yes" if q["scale"] != "text" else "Recorded."} for s in form["sections"] for q in s["questions"]
    }
    return {
        "answers": answers,
        "section_grades": {s["key"]: grade for s in form["sections"] if s["graded"]},
        "overall_grade": grade,
        "oversight_comment": "Supervision is regular.",
        "analysis": "The plan is clear.",
        "recommendations": "Keep the chronology up to date.",
        "action_plan": [{"action": "Update the chronology", "owner": "Social worker", "due": "2027-01-29"}],
    }


async def _tasks(gateway: Any, headers: dict[str, str], kind: str, status: str | None = None) -> list[dict[str, Any]]:
    params = {"kind": kind, **({"status": status} if status else {})}
    resp = await gateway.http.get("/api/v1/notify/tasks", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


async def _open_overviews(gateway: Gateway, headers: dict[str, str], round_id: str) -> list[dict[str, Any]]:
    """The open findings-overview tasks in a person's tray that are for the round."""
    return [t for t in await _tasks(gateway, headers, "findings_overview", "open") if round_id in t["link"]["path"]]


@dataclass(frozen=True)
class HillingdonWest:
    """The gateway, and the team in the directory: its people by their part in the round (``AD``, ``SM``, ``TM``, ``SW``, the peer
    auditors ``PSM`` and ``PTM``, ``QA``) as their ids and the headers each sends, the team's id and its cases (id to case type)."""

    gateway: Gateway
    ids: dict[str, str]
    as_: dict[str, dict[str, str]]
    team: str
    cases: dict[str, str]


@dataclass(frozen=True)
class Round:
    """The round as the QA team's allocation returned it, and its address."""

    round_: dict[str, Any]
    url: str


async def _the_team_its_people_and_its_cases_are_in_the_directory(gateway: Gateway) -> HillingdonWest:
    """The integration writes the people (the peer service manager and team manager who audit among them), the team
    and its six cases (three CP, three CIN) to the directory; each person signs in."""
    n = uuid.uuid4().hex[:6].upper()
    ids = {role: f"HD{n}-{role}" for role in ("AD", "SM", "TM", "SW", "PSM", "PTM", "QA")}
    team = f"T-HD{n}"
    writer = await gateway.as_integration()
    people = {
        "AD": (["assistant_director"], None, None),
        "SM": (["service_manager"], "AD", None),
        "TM": (["team_manager"], "SM", team),
        "SW": (["social_worker"], "TM", team),
        "PSM": (["service_manager"], "AD", None),  # the peer service manager who audits
        "PTM": (["team_manager"], "SM", None),  # the peer team manager who audits
        "QA": (["qa_officer"], None, None),
    }
    for key, (roles, manager, team_id) in people.items():
        body = {
            "name": f"Person {key} {n}",
            "email": f"{ids[key].lower()}@council.example",
            "roles": roles,
            "team_id": team_id,
            "line_manager_id": ids[manager] if manager else None,
        }
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    resp = await gateway.http.put(
        f"/api/v1/directory/teams/{team}",
        json={"name": "Hillingdon West", "district": "West", "area": "Hillingdon", "service": "CSC", "manager_id": ids["TM"]},
        headers=writer,
    )
    assert resp.status_code in (200, 201), resp.text
    cases = {f"C-HD{n}-{k}": ("CP" if k < 3 else "CIN") for k in range(6)}
    for case, case_type in cases.items():
        resp = await gateway.http.put(
            f"/api/v1/directory/cases/{case}",
            json={
                "child_name": "Test Child",
                "case_type": case_type,
                "team_id": team,
                "allocated_worker_id": ids["SW"],
                "team_manager_id": ids["TM"],
                "opened_on": "2026-03-02",
            },
            headers=writer,
        )
        assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}
    return HillingdonWest(gateway, ids, as_, team, cases)


async def _the_qa_team_allocates_the_round_within_each_auditor_s_area_of_expertise(west: HillingdonWest) -> Round:
    """The QA team allocates three CP cases to the peer service manager and three CIN cases to the peer team manager,
    due two months on. Not the team manager's to draw up; a case outside the auditor's area of expertise is refused;
    the team's social worker does not see the round."""
    gateway, ids, as_, team, cases = west.gateway, west.ids, west.as_, west.team, west.cases
    cp, cin = [c for c, t in cases.items() if t == "CP"], [c for c, t in cases.items() if t == "CIN"]
    body = {
        "month": "2026-12",
        "team_id": team,
        "allocations": [
            {"auditor_id": ids["PSM"], "area_of_expertise": ["CP"], "case_ids": cp},
            {"auditor_id": ids["PTM"], "area_of_expertise": ["CIN"], "case_ids": cin},
        ],
    }

    # Not the team manager's to draw up; a case outside the auditor's area of expertise is refused.
    assert (await gateway.http.post("/api/v1/audit/hillingdon/rounds", json=body, headers=as_["TM"])).status_code == 403

    async def allocated() -> dict[str, Any] | None:
        # 422 (or 409 retryable) until the audit service has the people and cases (directory events).
        resp = await gateway.http.post("/api/v1/audit/hillingdon/rounds", json=body, headers=as_["QA"])
        assert resp.status_code in (201, 409, 422), resp.text
        return resp.json() if resp.status_code == 201 else None

    outside = {**body, "allocations": [{**body["allocations"][0], "area_of_expertise": ["CIN"]}, body["allocations"][1]]}
    round_ = await eventually(allocated, timeout=60, interval=0.5, message="the round allocated")
    refused = await gateway.http.post("/api/v1/audit/hillingdon/rounds", json={**outside, "month": "2027-01"}, headers=as_["QA"])
    assert refused.status_code == 422 and "outside the auditor's area of expertise" in refused.text, refused.text
    assert round_["due_on"] == "2027-01-31" and round_["service_manager_id"] == ids["SM"]
    url = f"/api/v1/audit/hillingdon/rounds/{round_['id']}"
    assert (await gateway.http.get(url, headers=as_["SW"])).status_code == 404
    return Round(round_, url)


async def _the_auditors_and_the_team_manager_find_their_tasks_in_notify(west: HillingdonWest, the_round: Round) -> None:
    """Each auditor has three audits in their tray, due two months on; the team manager the overview."""
    gateway, as_, round_ = west.gateway, west.as_, the_round.round_
    for key in ("PSM", "PTM"):

        async def audit_tasks(key: str = key) -> list[dict[str, Any]] | None:
            found = await _tasks(gateway, as_[key], "audit", "open")
            return found if len(found) == 3 else None

        tasks = await eventually(audit_tasks, timeout=60, interval=0.5, message=f"{key}'s three audit tasks")
        assert {t["due_on"] for t in tasks} == {"2027-01-31"}

    async def overview_task() -> list[dict[str, Any]]:
        return await _open_overviews(gateway, as_["TM"], round_["id"])

    [tm_task] = await eventually(overview_task, timeout=60, interval=0.5, message="the team manager's overview task")
    assert tm_task["due_on"] == "2027-01-31"


async def _the_auditors_complete_their_audits_graded_good(west: HillingdonWest, the_round: Round) -> None:
    """Each auditor saves and submits their three audits, every one graded good."""
    gateway, as_, round_ = west.gateway, west.as_, the_round.round_
    for alloc, key in zip(round_["allocations"], ("PSM", "PTM"), strict=True):
        for audit_id in alloc["audit_ids"]:
            audit = (await gateway.http.get(f"/api/v1/audit/audits/{audit_id}", headers=as_[key])).json()
            saved = await gateway.http.put(
                f"/api/v1/audit/audits/{audit_id}/stage1",
                json=_work(audit["form"], "good"),
                headers={**as_[key], "If-Match": f'"{audit["version"]}"'},
            )
            assert saved.status_code == 200, saved.text
            done = await gateway.http.post(
                f"/api/v1/audit/audits/{audit_id}/stage1/submit", headers={**as_[key], "If-Match": saved.headers["etag"]}
            )
            assert done.status_code == 200 and done.json()["status"] == "completed", done.text


async def _the_qa_team_reviews_a_sample_graded_good_or_above(west: HillingdonWest, the_round: Round) -> str:
    """The QA team's sample of audits graded good or above, and its review; returns the round's ETag after the review."""
    gateway, as_, round_, url = west.gateway, west.as_, the_round.round_, the_round.url
    read = await gateway.http.get(url, headers=as_["QA"])
    sample = [round_["allocations"][0]["audit_ids"][0], round_["allocations"][1]["audit_ids"][0]]
    sampled = await gateway.http.post(
        f"{url}/qa-sample", json={"audit_ids": sample}, headers={**as_["QA"], "If-Match": read.headers["etag"]}
    )
    assert sampled.status_code == 200 and [s["grade"] for s in sampled.json()["qa_sample"]] == ["good", "good"], sampled.text
    reviewed = await gateway.http.put(
        f"{url}/qa-sample/{sample[0]}",
        json={"finding": "Grade supported.", "agrees_with_grade": True},
        headers={**as_["QA"], "If-Match": sampled.headers["etag"]},
    )
    assert reviewed.status_code == 200, reviewed.text
    etag: str = reviewed.headers["etag"]
    return etag


async def _the_team_manager_writes_and_reports_the_overview(west: HillingdonWest, the_round: Round, etag: str) -> None:
    """The team manager's overview, reported to the service manager."""
    gateway, as_, url = west.gateway, west.as_, the_round.url
    saved = await gateway.http.put(
        f"{url}/overview",
        json={"overview": "Plans are clear; chronologies lag."},
        headers={**as_["TM"], "If-Match": etag},
    )
    assert saved.status_code == 200, saved.text
    reported = await gateway.http.post(f"{url}/overview/report", headers={**as_["TM"], "If-Match": saved.headers["etag"]})
    assert reported.status_code == 200 and reported.json()["status"] == "overview_reported", reported.text


async def _the_overview_reaches_the_service_manager_s_tray(west: HillingdonWest, the_round: Round) -> None:
    """The overview arrives in the service manager's work tray, who reads it; the report closes the team manager's overview task."""
    gateway, as_, round_, url = west.gateway, west.as_, the_round.round_, the_round.url

    async def service_manager_task() -> list[dict[str, Any]]:
        return await _open_overviews(gateway, as_["SM"], round_["id"])

    [sm_task] = await eventually(
        service_manager_task, timeout=60, interval=0.5, message="the overview in the service manager's tray"
    )
    assert "overview" in sm_task["subject"]
    assert (await gateway.http.get(url, headers=as_["SM"])).json()["overview"] == "Plans are clear; chronologies lag."

    async def tm_task_done() -> bool:
        return not await _open_overviews(gateway, as_["TM"], round_["id"])

    await eventually(tm_task_done, timeout=60, interval=0.5, message="the team manager's overview task closed by the report")


async def test_a_single_agency_round_runs_from_the_case_list_to_the_overview_reported_to_the_service_manager(gateway) -> None:
    west = await _the_team_its_people_and_its_cases_are_in_the_directory(gateway)
    the_round = await _the_qa_team_allocates_the_round_within_each_auditor_s_area_of_expertise(west)
    await _the_auditors_and_the_team_manager_find_their_tasks_in_notify(west, the_round)
    await _the_auditors_complete_their_audits_graded_good(west, the_round)
    etag = await _the_qa_team_reviews_a_sample_graded_good_or_above(west, the_round)
    await _the_team_manager_writes_and_reports_the_overview(west, the_round, etag)
    await _the_overview_reaches_the_service_manager_s_tray(west, the_round)

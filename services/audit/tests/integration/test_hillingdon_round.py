"""Hillingdon's single-agency audit round (seed 002, Appendix D) through the audit API, on a real
database and broker: the QA team allocates three of the team's cases each to a service manager and
a team manager within their area of expertise, due in two months; the audits run on the audit
engine; the QA team reviews a sample graded good or above; the team manager's overview is reported
to the service manager. The monthly draw refuses the Hillingdon tool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from audit.case_audit import events as audit_events
from audit.common.directory import CaseChanged, project_case
from audit.hillingdon import events as he
from audit.main import create_app

from devstack.testing import EventCapture, ServiceClient, running_service
from devstack.testing import problem as _problem

from .conftest import QA_OFFICER, clock, complete, seed_directory

PLAN = [{"action": "Update the chronology", "owner": "Social worker", "due": "2026-11-30"}]
SM_CASES = ["C-3001", "C-3101", "C-3102"]  # CP
TM_CASES = ["C-3103", "C-3104", "C-3105"]  # CIN


def _body(**changes: Any) -> dict[str, Any]:
    body = {
        "month": "2026-10",
        "team_id": "T-CP",
        "allocations": [
            {"auditor_id": "P-PR", "area_of_expertise": ["CP"], "case_ids": SM_CASES},
            {"auditor_id": "P-TM4", "area_of_expertise": ["CIN"], "case_ids": TM_CASES},
        ],
    }
    body.update(changes)
    return body


async def _seed(db: Any) -> None:
    await seed_directory(db)
    for n, case_id in enumerate([*SM_CASES[1:], *TM_CASES]):
        await project_case(
            db,
            CaseChanged(
                case_id=case_id,
                version=1,
                case_type="CP" if n < 2 else "CIN",
                team_id="T-CP",
                team_manager_id="P-TM3",
                opened_on=date(2026, 3, 1),
            ),
        )


async def _complete(svc: Any, audit_id: str, auditor: str, roles: list[str], grade: str) -> None:
    me = svc.as_person(auditor, roles=roles)
    read = await svc.http.get(f"/v1/audits/{audit_id}", headers=me)
    assert read.status_code == 200, read.text
    saved = await svc.http.put(
        f"/v1/audits/{audit_id}/stage1",
        json=complete(read.json()["form"], grade=grade, action_plan=PLAN),
        headers={**me, "If-Match": read.headers["ETag"]},
    )
    assert saved.status_code == 200, saved.text
    done = await svc.http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**me, "If-Match": saved.headers["ETag"]})
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text


@dataclass(frozen=True)
class Hillingdon:
    """The audit service running the round, and the people who take part in it, as the headers they send."""

    svc: ServiceClient
    http: httpx.AsyncClient
    capture: EventCapture
    qa: dict[str, str]
    team_manager: dict[str, str]
    service_manager: dict[str, str]
    stranger: dict[str, str]


@dataclass(frozen=True)
class CaseList:
    """The round the QA team drew up: its id and address, and the audits allocated to the service manager and to the team manager."""

    id: str
    url: str
    sm_audits: list[str]
    tm_audits: list[str]


async def _the_qa_team_draws_up_the_case_list(hillingdon: Hillingdon) -> CaseList:
    """Only the QA team draws up the case list; a list that breaks Appendix D changes nothing.
    A second round for the team's month is refused."""
    svc, http, qa, team_manager = hillingdon.svc, hillingdon.http, hillingdon.qa, hillingdon.team_manager
    _problem(await http.post("/v1/hillingdon/rounds", json=_body(), headers=team_manager), 403)
    short = _problem(
        await http.post(
            "/v1/hillingdon/rounds",
            json=_body(
                allocations=[
                    {"auditor_id": "P-PR", "area_of_expertise": ["CIN"], "case_ids": SM_CASES[:2]},
                    {"auditor_id": "P-IRO", "area_of_expertise": ["CIN"], "case_ids": TM_CASES},
                ]
            ),
            headers=qa,
        ),
        422,
    )
    messages = [e["message"] for e in short["errors"]]
    assert "three different cases are allocated to each auditor (given 2)" in messages
    assert "case 'C-3001' (CP) is outside the auditor's area of expertise (CIN)" in messages
    assert "three cases are allocated to a service manager and to a team manager: name one of each" in messages
    assert (
        await svc.db["audits"].count_documents({}) == 0
        and await svc.db["hillingdon_single_agency_rounds"].count_documents({}) == 0
    )

    created = await http.post("/v1/hillingdon/rounds", json=_body(), headers=qa)
    assert created.status_code == 201, created.text
    round_ = created.json()
    assert round_["due_on"] == "2026-11-30" and round_["team_manager_id"] == "P-TM3" and round_["service_manager_id"] == "P-SM"
    assert [a["case_ids"] for a in round_["allocations"]] == [SM_CASES, TM_CASES]
    url = f"/v1/hillingdon/rounds/{round_['id']}"
    # A second round for the team's month is refused.
    _problem(await http.post("/v1/hillingdon/rounds", json=_body(), headers=qa), 409)
    return CaseList(round_["id"], url, round_["allocations"][0]["audit_ids"], round_["allocations"][1]["audit_ids"])


async def _each_case_s_audit_is_allocated_on_the_audit_engine(hillingdon: Hillingdon) -> None:
    """Each case's audit is allocated on the audit engine, due two months on."""
    capture = hillingdon.capture
    allocated = await capture.wait_for(audit_events.AUDIT_ALLOCATED.type, 6)
    assert {e.data["due_on"] for e in allocated} == {"2026-11-30"} and {e.data["month"] for e in allocated} == {"2026-10"}
    assert {e.data["tool_id"] for e in allocated} == {"hillingdon-single-agency"}
    [announced] = await capture.wait_for(he.SINGLE_AGENCY_ROUND_ALLOCATED.type, 1)
    assert announced.data["due_on"] == "2026-11-30" and announced.data["service_manager_id"] == "P-SM"
    assert "case_ids" not in str(announced.data)


async def _the_round_is_seen_by_its_managers_auditors_and_qa_staff(hillingdon: Hillingdon, case_list: CaseList) -> None:
    """Who sees the round: its managers, auditors and QA staff."""
    http, stranger, service_manager = hillingdon.http, hillingdon.stranger, hillingdon.service_manager
    _problem(await http.get(case_list.url, headers=stranger), 404)
    assert (await http.get("/v1/hillingdon/rounds", headers=stranger)).json()["items"] == []
    assert [r["id"] for r in (await http.get("/v1/hillingdon/rounds", headers=service_manager)).json()["items"]] == [case_list.id]


async def _no_overview_before_every_audit_is_complete(hillingdon: Hillingdon, case_list: CaseList) -> None:
    """The overview covers all the findings: not before every audit is complete."""
    http, team_manager, url = hillingdon.http, hillingdon.team_manager, case_list.url
    read = await http.get(url, headers=team_manager)
    _problem(
        await http.put(f"{url}/overview", json={"overview": "Too soon"}, headers={**team_manager, "If-Match": read.headers["ETag"]}),
        409,
    )


async def _the_auditors_complete_their_audits(hillingdon: Hillingdon, case_list: CaseList) -> None:
    """The service manager's first case is graded Requires improvement, the team manager's first Outstanding, the rest Good."""
    svc = hillingdon.svc
    for n, audit_id in enumerate(case_list.sm_audits):
        await _complete(svc, audit_id, "P-PR", ["peer_reviewer", "service_manager"], "requires_improvement" if n == 0 else "good")
    for n, audit_id in enumerate(case_list.tm_audits):
        await _complete(svc, audit_id, "P-TM4", ["team_manager", "auditor"], "outstanding" if n == 0 else "good")


async def _the_qa_team_reviews_a_sample_graded_good_or_above(hillingdon: Hillingdon, case_list: CaseList) -> str:
    """Every audit is complete; the QA team's sample is of cases graded good or above, and each sampled
    audit is reviewed once. Returns the round's ETag after the review."""
    http, qa, team_manager, capture = hillingdon.http, hillingdon.qa, hillingdon.team_manager, hillingdon.capture
    url, sm_audits, tm_audits = case_list.url, case_list.sm_audits, case_list.tm_audits
    read = await http.get(url, headers=qa)
    assert all(a["completed"] for a in read.json()["audits"])
    # The QA team's sample is of cases graded good or above.
    refused = _problem(
        await http.post(f"{url}/qa-sample", json={"audit_ids": [sm_audits[0]]}, headers={**qa, "If-Match": read.headers["ETag"]}),
        422,
    )
    assert "graded Requires improvement" in refused["errors"][0]["message"]
    _problem(
        await http.post(f"{url}/qa-sample", json={"audit_ids": [tm_audits[0]]}, headers={**team_manager, "If-Match": read.headers["ETag"]}),
        403,
    )
    sampled = await http.post(
        f"{url}/qa-sample", json={"audit_ids": [tm_audits[0], sm_audits[1]]}, headers={**qa, "If-Match": read.headers["ETag"]}
    )
    assert sampled.status_code == 200, sampled.text
    assert [(s["audit_id"], s["grade"]) for s in sampled.json()["qa_sample"]] == [
        (tm_audits[0], "outstanding"),
        (sm_audits[1], "good"),
    ]
    _problem(
        await http.post(f"{url}/qa-sample", json={"audit_ids": [tm_audits[1]]}, headers={**qa, "If-Match": read.headers["ETag"]}),
        412,
    )
    reviewed = await http.put(
        f"{url}/qa-sample/{tm_audits[0]}",
        json={"finding": "The grade is supported by the evidence.", "agrees_with_grade": True},
        headers={**qa, "If-Match": sampled.headers["ETag"]},
    )
    assert reviewed.status_code == 200 and reviewed.json()["qa_sample"][0]["reviewed_by"] == "P-QA", reviewed.text
    _problem(
        await http.put(
            f"{url}/qa-sample/{tm_audits[0]}",
            json={"finding": "Again", "agrees_with_grade": False},
            headers={**qa, "If-Match": reviewed.headers["ETag"]},
        ),
        409,
    )
    [review_event] = await capture.wait_for(he.SINGLE_AGENCY_SAMPLE_REVIEWED.type, 1)
    assert review_event.data["audit_id"] == tm_audits[0] and review_event.data["agrees_with_grade"] is True
    etag: str = reviewed.headers["ETag"]
    return etag


async def _the_team_manager_s_overview_is_reported_to_the_service_manager(hillingdon: Hillingdon, case_list: CaseList, etag: str) -> None:
    """The team manager's overview, then reported to the service manager."""
    svc, http, team_manager, service_manager = hillingdon.svc, hillingdon.http, hillingdon.team_manager, hillingdon.service_manager
    url = case_list.url
    _problem(
        await http.put(
            f"{url}/overview",
            json={"overview": "Not mine"},
            headers={**svc.as_person("P-TM4", roles=["team_manager"]), "If-Match": etag},
        ),
        403,
    )
    _problem(await http.post(f"{url}/overview/report", headers={**team_manager, "If-Match": etag}), 409)
    first = await http.put(
        f"{url}/overview",
        json={"overview": "Chronologies are weak across the team."},
        headers={**team_manager, "If-Match": etag},
    )
    assert first.status_code == 200, first.text
    second = await http.put(
        f"{url}/overview",
        json={"overview": "Chronologies are weak; visits timely."},
        headers={**team_manager, "If-Match": first.headers["ETag"]},
    )
    assert [v["text"] for v in second.json()["overview_history"]] == [
        "Chronologies are weak across the team.",
        "Chronologies are weak; visits timely.",
    ]
    _problem(await http.post(f"{url}/overview/report", headers={**service_manager, "If-Match": second.headers["ETag"]}), 403)
    reported = await http.post(f"{url}/overview/report", headers={**team_manager, "If-Match": second.headers["ETag"]})
    assert reported.status_code == 200 and reported.json()["status"] == "overview_reported", reported.text
    [overview_event] = await hillingdon.capture.wait_for(he.SINGLE_AGENCY_OVERVIEW_REPORTED.type, 1)
    assert overview_event.data["service_manager_id"] == "P-SM" and overview_event.data["team_manager_id"] == "P-TM3"
    assert sorted(overview_event.data["audit_ids"]) == sorted(case_list.sm_audits + case_list.tm_audits)
    _problem(
        await http.put(f"{url}/overview", json={"overview": "Rewritten"}, headers={**team_manager, "If-Match": reported.headers["ETag"]}),
        409,
    )
    assert (await http.get(url, headers=service_manager)).json()["overview"] == "Chronologies are weak; visits timely."


async def test_a_single_agency_round_from_case_list_to_overview(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await _seed(svc.db)
        hillingdon = Hillingdon(
            svc=svc,
            http=svc.http,
            capture=capture,
            qa=svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1]),
            team_manager=svc.as_person("P-TM3", roles=["team_manager", "auditor"]),
            service_manager=svc.as_person("P-SM", roles=["service_manager"]),
            stranger=svc.as_person("P-X", roles=["team_manager", "auditor"]),
        )
        case_list = await _the_qa_team_draws_up_the_case_list(hillingdon)
        await _each_case_s_audit_is_allocated_on_the_audit_engine(hillingdon)
        await _the_round_is_seen_by_its_managers_auditors_and_qa_staff(hillingdon, case_list)
        await _no_overview_before_every_audit_is_complete(hillingdon, case_list)
        await _the_auditors_complete_their_audits(hillingdon, case_list)
        etag = await _the_qa_team_reviews_a_sample_graded_good_or_above(hillingdon, case_list)
        await _the_team_manager_s_overview_is_reported_to_the_service_manager(hillingdon, case_list, etag)


async def test_the_monthly_draw_is_not_how_hillingdon_runs_its_single_agency_audit(service_env) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await _seed(svc.db)
        qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        drawn = await svc.http.post("/v1/cycles/2026-11/draw", json={"tool_id": "hillingdon-single-agency"}, headers=qa)
        assert _problem(drawn, 409)["type"].endswith("cycle-refused")
        assert await svc.db["audits"].count_documents({}) == 0

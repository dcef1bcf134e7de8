"""One Hampshire month end to end over the API, against real MongoDB and RabbitMQ: files prepared
for two teams, the service manager told which are ready, a competent person delegated, files
selected and judged, the audits completed and collated; each event published exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from audit.hampshire import events as he
from audit.hampshire.store import FILES, READY_LISTS
from audit.main import create_app
from audit.scheduler import CycleScheduler

from devstack.testing import EventCapture, ServiceClient, running_service

from . import hampshire_setup
from .conftest import clock
from .service import is_problem

MONTH = "2026-10"
PEOPLE: hampshire_setup.People = {
    "H-SM": (["service_manager"], None, None),
    "H-TM1": (["team_manager"], "H-SM", "H-T1"),
    "H-TM2": (["team_manager"], "H-SM", "H-T2"),
    "H-PEER": (["team_manager"], "H-SM", "H-T3"),
    "H-SW1": (["social_worker"], "H-TM1", "H-T1"),
    "H-SW2": (["social_worker"], "H-TM1", "H-T1"),
    "H-SW3": (["social_worker"], "H-TM2", "H-T2"),
    "H-X": (["social_worker"], "H-PEER", "H-T3"),
    "H-QA": (["qa_officer"], None, None),
    "H-PMU": (["performance_management"], None, None),
}


async def seed(db: Any) -> None:
    teams = (("H-T1", "H-TM1"), ("H-T2", "H-TM2"), ("H-T3", "H-PEER"))
    await hampshire_setup.seed(db, PEOPLE, teams, (("C-11", "H-T1"), ("C-12", "H-T1"), ("C-13", "H-T1"), ("C-21", "H-T2")))


def preparation() -> dict[str, Any]:
    action = "Outcome measures requested from the family; chase at the next visit."
    return hampshire_setup.preparation(action=action, comments="The child's views are well recorded.")


def judgements() -> dict[str, Any]:
    values = {f"standard_{n:02d}": {"value": "yes"} for n in range(1, 15)}
    values["standard_08"] = {"value": "no", "comment": "No outcome measures agreed."}
    values["standard_14"] = {"value": "n/a"}
    return {"judgements": values, "comments": "A well-prepared file; agree outcome measures with the family."}


@dataclass
class Month:
    """The service running for the month, and the headers each of ``PEOPLE`` sends."""

    svc: ServiceClient
    http: Any = field(init=False)
    who: dict[str, dict[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.http = self.svc.http
        self.who = {p: self.svc.as_person(p, roles=roles) for p, (roles, _, _) in PEOPLE.items()}


@dataclass(frozen=True)
class Files:
    """The month's three files as their creators got them: ``a`` (C-13) and ``b`` (C-12) of team 1, ``c`` (C-21) of team 2."""

    a: dict[str, Any]
    b: dict[str, Any]
    c: dict[str, Any]


async def files_prepared(m: Month) -> Files:
    """Files prepared for two teams, one a month for each worker, never last month's case again; returns them."""
    http, who = m.http, m.who
    # Last month's file of worker 1, then the same case again this month: refused, nothing created.
    last = await http.post("/v1/hampshire/files", json={"month": "2026-09", "case_id": "C-11"}, headers=who["H-SW1"])
    assert last.status_code == 201, last.text
    again = await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "C-11"}, headers=who["H-SW1"])
    assert is_problem(again, 422) and again.json()["errors"][0]["field"] == "case_id"
    assert await m.svc.db[FILES].count_documents({"month": MONTH}) == 0

    # Worker 1 prepares another case (a retried POST creates nothing new); one file a month each.
    body = {"month": MONTH, "case_id": "C-13"}
    created = await http.post("/v1/hampshire/files", json=body, headers={**who["H-SW1"], "Idempotency-Key": "prep-1"})
    assert created.status_code == 201, created.text
    file_a = created.json()
    assert file_a["supervisor_id"] == "H-TM1" and file_a["service_manager_id"] == "H-SM" and file_a["team_id"] == "H-T1"
    assert len(file_a["standards"]) == 14 and file_a["status"] == "preparing" and created.headers["ETag"] == '"1"'
    replay = await http.post("/v1/hampshire/files", json=body, headers={**who["H-SW1"], "Idempotency-Key": "prep-1"})
    assert replay.json()["id"] == file_a["id"] and replay.headers["Idempotent-Replayed"] == "true"
    second = await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "C-12"}, headers=who["H-SW1"])
    assert is_problem(second, 409) and second.json()["file_id"] == file_a["id"]
    # Nor may another worker put last month's case forward: not again for 12 months (12.1).
    other = await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "C-11", "worker_id": "H-SW2"}, headers=who["H-TM1"])
    assert is_problem(other, 422) and "2026-09" in other.json()["errors"][0]["message"]
    # The supervisor prepares for their worker; an outsider may not.
    outsider = await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "C-12", "worker_id": "H-SW2"}, headers=who["H-X"])
    assert is_problem(outsider, 403)
    file_b = (await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "C-12", "worker_id": "H-SW2"}, headers=who["H-TM1"])).json()
    file_c = (await http.post("/v1/hampshire/files", json={"month": MONTH, "case_id": "C-21"}, headers=who["H-SW3"])).json()
    assert file_b["worker_id"] == "H-SW2" and file_c["team_id"] == "H-T2"
    assert await m.svc.db[FILES].count_documents({"month": MONTH}) == 3
    return Files(file_a, file_b, file_c)


async def files_made_ready(m: Month, files: Files) -> None:
    """The files made ready: only their parties read them, bad input is refused, the evidence listed, then ready."""
    http, who = m.http, m.who
    file_a, file_b, file_c = files.a, files.b, files.c
    # A person outside the file's parties cannot read it.
    for person in ("H-X", "H-PEER", "H-PMU"):
        assert is_problem(await http.get(f"/v1/hampshire/files/{file_a['id']}", headers=who[person]), 404)

    # Bad input gets problem+json and changes nothing.
    a_url = f"/v1/hampshire/files/{file_a['id']}"
    assert is_problem(await http.put(f"{a_url}/preparation", json=preparation(), headers=who["H-SW1"]), 428)
    unknown = await http.put(f"{a_url}/preparation", json={"standards": {"standard_99": {"not_applicable": True}}}, headers={**who["H-SW1"], "If-Match": '"1"'})
    assert is_problem(unknown, 422) and unknown.json()["errors"][0]["field"] == "standards.standard_99"
    both = {"standards": {"standard_01": {"missing": True, "action": "Ask", "evidence": [{"what": "a", "when": "b", "where": "c"}]}}}
    mixed = await http.put(f"{a_url}/preparation", json=both, headers={**who["H-SW1"], "If-Match": '"1"'})
    assert is_problem(mixed, 422) and mixed.json()["errors"][0]["field"] == "standards.standard_01"
    not_ready = await http.post(f"{a_url}/ready", headers={**who["H-SW1"], "If-Match": '"1"'})
    assert is_problem(not_ready, 422) and len(not_ready.json()["errors"]) == 14
    unchanged = await http.get(a_url, headers=who["H-SW1"])
    assert unchanged.headers["ETag"] == '"1"' and unchanged.json()["preparation"]["standards"] == {}

    # The evidence lists (If-Match guards every edit), then ready.
    etags: dict[str, str] = {}
    for f, person in ((file_a, "H-SW1"), (file_b, "H-TM1"), (file_c, "H-SW3")):
        saved = await http.put(f"/v1/hampshire/files/{f['id']}/preparation", json=preparation(), headers={**who[person], "If-Match": '"1"'})
        assert saved.status_code == 200, saved.text
        etags[f["id"]] = saved.headers["ETag"]
    stale = await http.put(f"{a_url}/preparation", json=preparation(), headers={**who["H-TM1"], "If-Match": '"1"'})
    assert is_problem(stale, 412) and stale.json()["current_version"] == 2
    for f, person in ((file_a, "H-TM1"), (file_b, "H-SW2"), (file_c, "H-SW3")):
        ready = await http.post(f"/v1/hampshire/files/{f['id']}/ready", headers={**who[person], "If-Match": etags[f["id"]]})
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text


async def service_manager_told_which_are_ready(m: Month) -> None:
    """The service manager is told which files are ready, once: the scheduler's pass lists last
    month's files (nothing while the month runs); a second run sends nothing."""
    http, who, svc = m.http, m.who, m.svc
    scheduler = CycleScheduler(svc.runtime.extra["audit"], svc.runtime.extra["cycle_settings"], svc.runtime.clock, interval_s=60)
    await scheduler.due_today(date(2026, 10, 30))
    assert await svc.db[READY_LISTS].count_documents({}) == 0
    await scheduler.due_today(date(2026, 11, 2))
    assert [d["sent_by"] for d in await svc.db[READY_LISTS].find({}).to_list()] == ["audit-scheduler"]
    assert is_problem(await http.post(f"/v1/hampshire/months/{MONTH}/ready-lists", headers=who["H-SW1"]), 403)
    assert (await http.post(f"/v1/hampshire/months/{MONTH}/ready-lists", headers=who["H-QA"])).json()["list_ids"] == []
    await scheduler.due_today(date(2026, 11, 3))
    assert await svc.db[READY_LISTS].count_documents({}) == 1
    view = await http.get(f"/v1/hampshire/months/{MONTH}", headers=who["H-SM"])
    assert view.status_code == 200, view.text
    assert {t["team_id"]: t["ready"] for t in view.json()["teams"]} == {"H-T1": 2, "H-T2": 1}
    assert is_problem(await http.get(f"/v1/hampshire/months/{MONTH}", headers=who["H-X"]), 403)


async def selection_delegated_and_closed(m: Month, files: Files) -> str:
    """The service manager delegates team 2 to a competent person, each selects, and the selection closes; returns the delegation's id."""
    http, who = m.http, m.who
    file_a, file_b, file_c = files.a, files.b, files.c
    a_url = f"/v1/hampshire/files/{file_a['id']}"
    # Only the service manager delegates; the competent person is recorded.
    delegation_body = {"month": MONTH, "delegate_id": "H-PEER", "team_ids": ["H-T2"]}
    assert is_problem(await http.post("/v1/hampshire/delegations", json=delegation_body, headers=who["H-TM1"]), 403)
    delegated = await http.post("/v1/hampshire/delegations", json=delegation_body, headers=who["H-SM"])
    assert delegated.status_code == 201, delegated.text
    delegation_id: str = delegated.json()["id"]

    # Selection: a party not delegated is refused; the service manager takes one from team 1.
    selections = f"/v1/hampshire/months/{MONTH}/selections"
    assert is_problem(await http.post(selections, json={"file_ids": [file_a["id"]]}, headers=who["H-TM1"]), 403)
    assert is_problem(await http.post(selections, json={"file_ids": [file_a["id"]]}, headers=who["H-X"]), 404)
    assert is_problem(await http.post(selections, json={"file_ids": [file_a["id"]]}, headers=who["H-PEER"]), 404)
    chosen = await http.post(selections, json={"file_ids": [file_a["id"]]}, headers=who["H-SM"])
    assert chosen.status_code == 200 and chosen.json()["selected"][0]["auditor_id"] == "H-SM", chosen.text
    refused = await http.post(f"/v1/hampshire/months/{MONTH}/selection/close", headers=who["H-SM"])
    assert is_problem(refused, 409) and [e.get("team_id") for e in refused.json()["errors"]] == ["H-T2"]
    # The delegate selects from the team delegated to them, and is recorded on the file.
    chosen = await http.post(selections, json={"file_ids": [file_c["id"]]}, headers=who["H-PEER"])
    assert chosen.status_code == 200, chosen.text
    seen_c = (await http.get(f"/v1/hampshire/files/{file_c['id']}", headers=who["H-PEER"])).json()
    assert seen_c["auditor_id"] == "H-PEER" and seen_c["delegation_id"] == delegation_id and seen_c["delegated_by"] == "H-SM"
    assert is_problem(await http.post(f"/v1/hampshire/months/{MONTH}/selection/close", headers=who["H-PEER"]), 403)
    closed = await http.post(f"/v1/hampshire/months/{MONTH}/selection/close", headers=who["H-SM"])
    assert closed.status_code == 200, closed.text
    assert closed.json()["not_selected_file_ids"] == [file_b["id"]]
    assert {s["file_id"]: s["delegation_id"] for s in closed.json()["selected"]} == {file_a["id"]: None, file_c["id"]: delegation_id}
    assert is_problem(await http.post(f"/v1/hampshire/months/{MONTH}/selection/close", headers=who["H-SM"]), 409)
    kept = (await http.get(f"/v1/hampshire/files/{file_b['id']}", headers=who["H-SW2"])).json()
    assert kept["status"] == "not_selected" and kept["preparation"] == (await http.get(a_url, headers=who["H-SW1"])).json()["preparation"]
    return delegation_id


async def standards_judged_and_completed(m: Month, files: Files) -> None:
    """Judging the standards: only the auditor; every gap listed; then complete."""
    http, who = m.http, m.who
    file_a, file_c = files.a, files.c
    a_url = f"/v1/hampshire/files/{file_a['id']}"
    a = (await http.get(a_url, headers=who["H-SM"]))
    assert is_problem(await http.put(f"{a_url}/judgements", json=judgements(), headers={**who["H-SW1"], "If-Match": a.headers["ETag"]}), 403)
    off_scale = {"judgements": {"standard_01": {"value": "partly met"}}}
    assert is_problem(await http.put(f"{a_url}/judgements", json=off_scale, headers={**who["H-SM"], "If-Match": a.headers["ETag"]}), 422)
    gaps = await http.post(f"{a_url}/complete", headers={**who["H-SM"], "If-Match": a.headers["ETag"]})
    assert is_problem(gaps, 422) and gaps.json()["errors"][-1]["field"] == "comments"
    for f, person in ((file_a, "H-SM"), (file_c, "H-PEER")):
        url = f"/v1/hampshire/files/{f['id']}"
        current = await http.get(url, headers=who[person])
        judged = await http.put(f"{url}/judgements", json=judgements(), headers={**who[person], "If-Match": current.headers["ETag"]})
        assert judged.status_code == 200, judged.text
        done = await http.post(f"{url}/complete", headers={**who[person], "If-Match": judged.headers["ETag"]})
        assert done.status_code == 200 and done.json()["status"] == "audited", done.text
    history = (await http.get(f"{a_url}/history", headers=who["H-SM"])).json()
    assert [(h["part"], h["number"]) for h in history] == [("judgements", 1), ("preparation", 1)]


async def collated_for_the_performance_management_unit(m: Month, files: Files) -> None:
    """The collation for the performance management unit."""
    http, who = m.http, m.who
    file_a, file_c = files.a, files.c
    assert is_problem(await http.get(f"/v1/hampshire/collation?month={MONTH}", headers=who["H-X"]), 403)
    collation = await http.get(f"/v1/hampshire/collation?month={MONTH}", headers=who["H-PMU"])
    assert collation.status_code == 200, collation.text
    c = collation.json()
    assert (c["prepared"], c["selected"], c["audited"]) == (3, 2, 2)
    assert {a["file_id"]: a["delegated_by"] for a in c["audits"]} == {file_a["id"]: None, file_c["id"]: "H-SM"}
    assert next(s for s in c["standards"] if s["standard"] == "standard_08")["judgements"] == {"yes": 0, "no": 2, "n/a": 0}


async def each_event_published_once(capture: EventCapture, files: Files, delegation_id: str) -> None:
    """Each event exactly once, with the ids it carries."""
    file_a, file_b, file_c = files.a, files.b, files.c
    expected = {
        he.FILE_PREPARED: 3, he.FILES_READY: 1, he.SELECTION_DELEGATED: 1, he.FILE_SELECTED: 2, he.SELECTION_CLOSED: 1,
        he.FILE_AUDITED: 2, he.CASE_CONTACT_NOTE: 5,
    }
    for event_type, count in expected.items():
        await capture.wait_for(event_type.type, count)
    await capture.settle(1.0)
    published = [e for e in capture.events if e.type.startswith("audit.")]
    assert {t: len(capture.of_type(t.type)) for t in expected} == expected
    assert len(published) == sum(expected.values())
    assert len({e.id for e in published}) == len(published)

    assert sorted(e.data["file_id"] for e in capture.of_type(he.FILE_PREPARED.type)) == sorted([file_a["id"], file_b["id"], file_c["id"]])
    [ready_list] = capture.of_type(he.FILES_READY.type)
    assert ready_list.data["service_manager_id"] == "H-SM" and ready_list.data["file_count"] == 3
    assert {t["team_id"]: sorted(t["file_ids"]) for t in ready_list.data["teams"]} == {
        "H-T1": sorted([file_a["id"], file_b["id"]]), "H-T2": [file_c["id"]],
    }
    assert ready_list.data["delegate_ids"] == []  # delegated after the list went
    assert ready_list.data["audit_due_on"] == "2026-11-20"
    [delegation_event] = capture.of_type(he.SELECTION_DELEGATED.type)
    assert delegation_event.data["delegation_id"] == delegation_id and delegation_event.data["team_ids"] == ["H-T2"]
    selected = {e.data["file_id"]: e.data for e in capture.of_type(he.FILE_SELECTED.type)}
    assert selected[file_a["id"]]["auditor_id"] == "H-SM" and selected[file_c["id"]]["delegation_id"] == delegation_id
    assert {e["due_on"] for e in selected.values()} == {"2026-11-20"}, "to the performance management unit by the 20th"
    audited = {e.data["file_id"]: e.data for e in capture.of_type(he.FILE_AUDITED.type)}
    assert set(audited) == {file_a["id"], file_c["id"]}
    assert audited[file_c["id"]]["auditor_id"] == "H-PEER" and audited[file_c["id"]]["delegated_by"] == "H-SM"
    assert audited[file_a["id"]]["judgements"]["standard_08"] == "no"
    notes = sorted((e.data["case_id"], e.data["stage"]) for e in capture.of_type(he.CASE_CONTACT_NOTE.type))
    assert notes == [("C-12", "prepared"), ("C-13", "audited"), ("C-13", "prepared"), ("C-21", "audited"), ("C-21", "prepared")]
    audited_note = next(e.data for e in capture.of_type(he.CASE_CONTACT_NOTE.type) if e.data["case_id"] == "C-21" and e.data["stage"] == "audited")
    assert audited_note["by_ids"] == ["H-PEER"] and "delegated by service manager H-SM" in audited_note["text"]
    assert all(e.subject == f"hampshire-file/{e.data['file_id']}" for e in capture.of_type(he.CASE_CONTACT_NOTE.type))


async def test_one_hampshire_month_end_to_end(service_env, capture: EventCapture) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed(svc.db)
        month = Month(svc)
        files = await files_prepared(month)
        await files_made_ready(month, files)
        await service_manager_told_which_are_ready(month)
        delegation_id = await selection_delegated_and_closed(month, files)
        await standards_judged_and_completed(month, files)
        await collated_for_the_performance_management_unit(month, files)
        await each_event_published_once(capture, files, delegation_id)

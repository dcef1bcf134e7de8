"""The work tray API: the caller's own tasks, filters, pagination, mark done / cancel with
If-Match, and email preferences (statutory kinds stay on)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from notify.mail.outbox import EMAILS
from notify.main import create_app
from notify.mappings import resolution as r
from notify.mappings import signoff as s
from notify.store import TASKS
from shared.clock import FixedClock

from devstack.testing import ConsumerOutcomes, eventually, mail_outbox_drained, running_service

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # a Tuesday


def _message(n: int, due_on: str, to: str = "M-1", **extra: Any) -> dict[str, Any]:
    return {"exemplar_id": f"E-{n}", "case_id": "C-1", "team_id": "T-1", "type_code": "INIASS", "version": 1, "message_id": f"m-{n}",
            "to_person_id": to, "assigned_by": "W-1", "from_system": False, "action": "changes_needed",
            "subject": f"Exemplar {n}", "due_on": due_on, "sent_at": NOW.isoformat(), "send_email": False, **extra}


async def _seed(svc: Any, kit: Any) -> None:
    for n, due in enumerate(["2026-03-09", "2026-03-10", "2026-03-12", "2026-03-10", "2026-03-20"]):
        await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, _message(n, due))
    await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, _message(9, "2026-03-01", to="M-2"))
    # Sign-off's own message after a first signature: the counter-sign task.
    await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, _message(
        7, "2026-03-23", type_code="CORASS", version=2, from_system=True, action="ready_for_counter_sign",
        subject="Core Assessment Version 2 ready for counter-sign",
    ))
    # A delegated section without a due date.
    await kit.publish(svc, r.SECTION_DELEGATED, {"form_id": "F-1", "case_id": "C-1", "stage": "stage_1", "stage_title": "Stage 1",
                                                  "delegate_id": "M-1", "delegation_number": 1, "delegated_by": "IRO-1",
                                                  "delegated_at": NOW.isoformat()})

    async def all_there() -> bool:
        return await svc.db[TASKS].count_documents({}) == 8

    await eventually(all_there, message="tasks opened")


async def _list(svc: Any, person: str = "M-1", **params: Any) -> Any:
    return await svc.http.get("/v1/tasks", params=params, headers=svc.as_person(person))


async def test_the_tray_lists_only_the_callers_tasks_in_due_order_with_filters_and_pages(smtp, kit) -> None:
    clock = FixedClock(NOW)
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await _seed(svc, kit)
        everything = (await _list(svc)).json()["items"]
        subjects = [t["subject"] for t in everything]
        # In due order; the two due today in id order; the one without a due date last.
        assert subjects[0] == "Exemplar 0" and sorted(subjects[1:3]) == ["Exemplar 1", "Exemplar 3"]
        assert subjects[3:] == ["Exemplar 2", "Exemplar 4", "Core Assessment Version 2 ready for counter-sign", "Resolution F-1: Stage 1"]
        first = everything[0]
        assert (first["origin"], first["assigned_by"], first["action"]) == ("person", "W-1", "Changes needed")
        assert first["link"]["url"] == "https://qa.council.example/signoff/exemplars/E-0/versions/1"
        assert sorted(t["subject"] for t in (await _list(svc, due="today")).json()["items"]) == ["Exemplar 1", "Exemplar 3"]
        assert [t["subject"] for t in (await _list(svc, due="overdue")).json()["items"]] == ["Exemplar 0"]
        [counter_sign] = (await _list(svc, kind="counter_sign")).json()["items"]
        assert (counter_sign["subject"], counter_sign["origin"], counter_sign["assigned_by"]) == (
            "Core Assessment Version 2 ready for counter-sign", "system", "W-1")
        assert len((await _list(svc, kind="workflow_message")).json()["items"]) == 5
        assert len((await _list(svc, origin="system")).json()["items"]) == 1

        pages, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            body = (await _list(svc, **params)).json()
            pages.append([t["subject"] for t in body["items"]])
            cursor = body.get("next")
            if not cursor:
                break
        assert [x for page in pages for x in page] == [t["subject"] for t in everything]
        assert [len(p) for p in pages] == [2, 2, 2, 1]

        assert [t["subject"] for t in (await _list(svc, person="M-2")).json()["items"]] == ["Exemplar 9"]
        assert (await _list(svc, person="nobody")).json() == {"items": [], "next": None}


async def test_bad_filters_and_cursors_are_refused_with_problem_json(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        for params in ({"due": "tomorrow"}, {"kind": "gossip"}, {"status": "maybe"}, {"limit": 0}):
            response = await _list(svc, **params)
            assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        assert (await _list(svc, due="overdue", status="done")).status_code == 400
        assert (await _list(svc, cursor="!!!")).status_code == 400
        assert (await svc.http.get("/v1/tasks")).status_code == 401


async def test_marking_done_and_cancelling_need_the_current_etag_and_an_open_task_of_ones_own(smtp, kit) -> None:
    clock = FixedClock(NOW)
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await _seed(svc, kit)
        [task, other, *_] = (await _list(svc)).json()["items"]
        path = f"/v1/tasks/{task['id']}"
        read = await svc.http.get(path, headers=svc.as_person("M-1"))
        assert read.headers["ETag"] == '"1"'
        assert (await svc.http.get(path, headers=svc.as_person("M-2"))).status_code == 404  # someone else's tray
        assert (await svc.http.get("/v1/tasks/no-such-task", headers=svc.as_person("M-1"))).status_code == 404
        assert (await svc.http.post(f"{path}/done", headers=svc.as_person("M-1"))).status_code == 428
        assert (await svc.http.post(f"{path}/done", headers={**svc.as_person("M-1"), "If-Match": '"7"'})).status_code == 412
        refused = await svc.http.post(f"{path}/done", headers={**svc.as_person("M-2"), "If-Match": '"1"'})
        assert refused.status_code == 404
        assert (await svc.http.get(path, headers=svc.as_person("M-1"))).json()["status"] == "open"

        done = await svc.http.post(f"{path}/done", json={"note": "signed"}, headers={**svc.as_person("M-1"), "If-Match": '"1"'})
        assert done.status_code == 200 and done.headers["ETag"] == '"2"'
        body = done.json()
        assert (body["status"], body["status_changed_by"], body["status_changed_at"]) == ("done", "M-1", "2026-03-10T10:00:00Z")
        assert [(h["status"], h["by"], h["reason"]) for h in body["history"]] == [("open", "W-1", "created"), ("done", "M-1", "signed")]
        again = await svc.http.post(f"{path}/cancel", headers={**svc.as_person("M-1"), "If-Match": '"2"'})
        assert again.status_code == 409 and "already done" in again.json()["detail"]

        cancelled = await svc.http.post(f"/v1/tasks/{other['id']}/cancel", json={"reason": "sent to me by mistake"},
                                        headers={**svc.as_person("M-1"), "If-Match": '"1"'})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert [t["id"] for t in (await _list(svc, status="cancelled")).json()["items"]] == [other["id"]]
        assert (await svc.http.post(f"/v1/tasks/{other['id']}/cancel", json={"unknown": 1},
                                    headers={**svc.as_person("M-1"), "If-Match": '"2"'})).status_code == 422


async def test_two_people_at_once_marking_the_same_task_one_wins_the_other_gets_412_or_409(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, _message(1, "2026-03-10"))
        task = await eventually(lambda: svc.db[TASKS].find_one({}), message="task")
        headers = {**svc.as_person("M-1"), "If-Match": '"1"'}
        answers = await asyncio.gather(svc.http.post(f"/v1/tasks/{task['_id']}/done", headers=headers),
                                       svc.http.post(f"/v1/tasks/{task['_id']}/cancel", headers=headers))
        assert sorted(r.status_code for r in answers) in ([200, 409], [200, 412])
        assert (await svc.db[TASKS].find_one({}))["version"] == 2


async def test_preferences_turn_optional_emails_off_but_never_statutory_ones(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        await kit.add_people(svc, {"person_id": "M-1", "name": "Mo Manager", "roles": ["team_manager"]},
                             {"person_id": "M-3", "name": "Mel Manager", "roles": ["team_manager"]})
        me = svc.as_person("M-1")
        prefs = await svc.http.get("/v1/preferences", headers=me)
        assert prefs.headers["ETag"] == '"0"' and all(prefs.json()["email"].values())
        assert "audit" in prefs.json()["statutory"]

        refused = await svc.http.patch("/v1/preferences", json={"email": {"workflow_message": False, "audit_copy": False}},
                                       headers={**me, "If-Match": '"0"'})
        assert refused.status_code == 422 and refused.json()["kinds"] == ["audit_copy"]
        assert (await svc.http.get("/v1/preferences", headers=me)).headers["ETag"] == '"0"'
        assert (await svc.http.patch("/v1/preferences", json={"email": {"gossip": False}}, headers={**me, "If-Match": '"0"'})).status_code == 422
        assert (await svc.http.patch("/v1/preferences", json={"email": {"workflow_message": False}}, headers=me)).status_code == 428

        changed = await svc.http.patch("/v1/preferences", json={"email": {"workflow_message": False}}, headers={**me, "If-Match": '"0"'})
        assert changed.status_code == 200 and changed.headers["ETag"] == '"1"'
        assert changed.json()["email"]["workflow_message"] is False and changed.json()["updated_by"] == "M-1"
        stale = await svc.http.patch("/v1/preferences", json={"email": {"counter_sign": False}}, headers={**me, "If-Match": '"0"'})
        assert stale.status_code == 412

        # A workflow message asking for an email: the tray gets it, the mailbox does not.
        taken = ConsumerOutcomes("notify", "work-tray")
        await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, _message(1, "2026-03-10", send_email=True))
        await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, _message(2, "2026-03-10", to="M-3", send_email=True))
        await smtp.catcher.wait_for(1)
        await taken.wait_for("handled", 2)  # both messages handled: any email either queued is in the outbox
        await mail_outbox_drained(svc)  # and has gone
        assert [m["To"] for m in smtp.catcher.messages] == ["m-3@council.example"]
        assert await svc.db[TASKS].count_documents({}) == 2 and await svc.db[EMAILS].count_documents({}) == 1

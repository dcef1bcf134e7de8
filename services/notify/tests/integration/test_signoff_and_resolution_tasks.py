"""Sign-off and resolution events become tasks that close themselves when the event satisfying
them arrives; a duplicate event changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from notify import consumers
from notify.mail.outbox import EMAILS
from notify.main import create_app
from notify.mappings import resolution as r
from notify.mappings import signoff as s
from notify.store import TASK_HISTORY, TASKS
from pydantic import BaseModel, ConfigDict
from shared.consumer import AMQP_QUEUES, PROCESSED_EVENTS, ReceivedEvent
from shared.events import EventType

from devstack.testing import CommandLog, ConsumerOutcomes, eventually, running_service

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC).isoformat()
EXEMPLAR = {"exemplar_id": "E-1", "case_id": "C-1", "team_id": "T-1", "type_code": "INIASS", "version": 2}


class _AnyData(BaseModel):
    model_config = ConfigDict(extra="allow")


#: Sign-off publishes it; notify no longer reads it (so has no reader model of its own for it).
FIRST_SIGNED = EventType("signoff.exemplar.first-signed", 1, _AnyData, "An exemplar was first-signed.", "signoff")


async def _tasks(svc: Any, **query: Any) -> list[dict[str, Any]]:
    return list(await svc.db[TASKS].find(query).sort("created_at").to_list())


async def _wait_status(svc: Any, assignee: str, status: str, count: int = 1) -> list[dict[str, Any]]:
    async def reached() -> list[dict[str, Any]] | None:
        found = await _tasks(svc, assignee_id=assignee, status=status)
        return found if len(found) >= count else None

    return list(await eventually(reached, message=f"{count} {status} task(s) for {assignee}"))


def _ready_for_counter_sign(**extra: Any) -> dict[str, Any]:
    """The message sign-off itself sends to the counter-signer after a first signature."""
    return {**EXEMPLAR, "message_id": "m-sys", "to_person_id": "M-1", "assigned_by": "W-1", "from_system": True,
            "action": "ready_for_counter_sign", "subject": "Initial Assessment Version 2 ready for counter-sign", "text": None,
            "due_on": "2026-03-11", "sent_at": NOW, "clone_of_exemplar_id": None, "clone_of_version": None, "send_email": False, **extra}


async def test_sign_offs_ready_for_counter_sign_message_is_one_counter_sign_task_and_counter_signing_closes_it(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        await kit.add_people(svc, {"person_id": "M-1", "name": "Mo Senior", "roles": ["senior_practitioner"]},
                             {"person_id": "W-1", "name": "Wendy Worker", "roles": ["social_worker"], "line_manager_id": "M-1"})
        taken = ConsumerOutcomes("notify", consumers.PURPOSE)
        # What sign-off publishes at a first signature: the first-signed fact (not notify's concern)
        # and its message to the counter-signer (the task).
        await kit.publish(svc, FIRST_SIGNED, {**EXEMPLAR, "signed_by": "W-1", "signed_at": NOW, "start_date": "2026-03-02"})
        first = await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, _ready_for_counter_sign())
        [task] = await _wait_status(svc, "M-1", "open")
        assert (task["kind"], task["origin"], task["assigned_by"], task["link"]["path"]) == (
            "counter_sign", "system", "W-1", "/exemplars/E-1/versions/2")
        assert task["next_reminder_on"] is not None  # counter-signatures are chased
        await kit.republish(svc, first, internal=True)
        await kit.publish(svc, s.COUNTER_SIGNED, {
            **EXEMPLAR, "first_signed_by": "W-1", "counter_signed_by": "M-1", "counter_signed_at": NOW, "start_date": "2026-03-02",
            "counter_signed_on": "2026-03-10", "timescale_working_days": 7, "working_days_taken": 6, "on_time": True,
        })
        [closed] = await _wait_status(svc, "M-1", "done")
        assert (closed["status_changed_by"], closed["version"], closed["next_reminder_on"]) == ("M-1", 2, None)
        # The duplicate was taken, and so was everything delivered before the counter-signature:
        # a first-signed event, had the queue been bound to it, would have been delivered first.
        await taken.wait_for("duplicate")
        await taken.idle()
        assert len(await _tasks(svc)) == 1  # neither the first-signed event nor the duplicate message made a second task
        assert await svc.db[EMAILS].count_documents({}) == 0  # counter-sign tasks go to the tray only


async def test_a_workflow_message_and_its_duplicate_make_one_task_closed_when_the_version_is_counter_signed(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        taken = ConsumerOutcomes("notify", consumers.PURPOSE)
        message = await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, {
            **EXEMPLAR, "message_id": "m-1", "to_person_id": "M-1", "assigned_by": "W-1", "from_system": False,
            "action": "ready_for_counter_sign", "subject": "Initial assessment for counter-sign", "due_on": "2026-03-12", "sent_at": NOW,
        })
        await kit.republish(svc, message, internal=True)
        [task] = await _wait_status(svc, "M-1", "open")
        assert (task["kind"], task["assigned_by"], task["origin"], task["due_on"]) == ("counter_sign", "W-1", "person", "2026-03-12")
        await kit.publish(svc, s.COUNTER_SIGNED, {**EXEMPLAR, "counter_signed_by": "M-1", "first_signed_by": "W-1"})
        await _wait_status(svc, "M-1", "done")
        await taken.wait_for("duplicate")  # the redelivery was taken, and known for what it is
        assert len(await _tasks(svc)) == 1


def _received(event_type: EventType, data: dict[str, Any]) -> ReceivedEvent:
    """An event as the consumer hands it to a handler (what sign-off would have published)."""
    envelope = event_type.envelope(event_type.data_model.model_validate(data), source="/qa/signoff", subject=None, time=datetime.fromisoformat(NOW))
    return ReceivedEvent(envelope, event_type.parse_data(envelope))


async def test_the_mail_relay_is_asked_to_look_only_after_an_event_that_queued_an_email(smtp, kit) -> None:
    """The work tray's handlers, in the service's own transactions: a task without an email and a
    task closed leave the mail relay alone; a task with its email asks it to look once."""
    async with running_service(create_app) as svc:
        await kit.add_people(svc, {"person_id": "M-1", "name": "Mo Senior", "roles": ["senior_practitioner"]},
                             {"person_id": "W-1", "name": "Wendy Worker", "roles": ["social_worker"], "line_manager_id": "M-1"})
        looks: list[int] = []

        async def emails() -> int:
            return int(await svc.db[EMAILS].count_documents({}))

        def look() -> None:
            looks.append(len(looks) + 1)

        handlers = {sub.event_type.routing_key: sub.handler for sub in consumers.subscriptions(svc.runtime.extra["notifier"], look)}

        async def handle(event_type: EventType, data: dict[str, Any]) -> None:
            event = _received(event_type, data)
            await svc.runtime.uow.run(lambda tx: handlers[event_type.routing_key](event, tx))

        await handle(s.WORKFLOW_MESSAGE_SENT, _ready_for_counter_sign())  # a task, no email
        await handle(s.COUNTER_SIGNED, {**EXEMPLAR, "counter_signed_by": "M-1", "first_signed_by": "W-1"})  # the task closed
        assert [t["status"] for t in await _tasks(svc, assignee_id="M-1")] == ["done"]
        assert await emails() == 0
        await handle(s.WORKFLOW_MESSAGE_SENT, _ready_for_counter_sign(message_id="m-2", exemplar_id="E-2", send_email=True))
        assert await emails() == 1

        async def looked() -> bool:
            return bool(looks)

        await eventually(looked, message="the mail relay asked to look")
        # The look is asked for 0.05 s after each event, in order: had either of the first two
        # events asked, that look would have come before this one.
        assert looks == [1]


async def test_runs_of_messages_and_of_counter_signatures_open_and_close_tasks_as_one_event_at_a_time_would(smtp, kit) -> None:
    """The batch handlers: a run of events that only open tasks, and one of events that only close
    them, each one read and one write command for the run (the tasks and their history, left for
    the end of the transaction: ``bulkWrite``), leaving the tasks,
    their history and their emails as the events handled one by one would. An event replayed
    after its marker was lost opens nothing again."""
    log = CommandLog.get()
    async with running_service(create_app) as svc:
        await kit.add_people(svc, {"person_id": "M-1", "name": "Mo Senior", "roles": ["senior_practitioner"]},
                             {"person_id": "W-1", "name": "Wendy Worker", "roles": ["social_worker"], "line_manager_id": "M-1"})
        looks: list[str] = []
        subs = {sub.event_type.routing_key: sub for sub in consumers.subscriptions(svc.runtime.extra["notifier"], lambda: looks.append("look"))}
        messages = [_received(s.WORKFLOW_MESSAGE_SENT, _ready_for_counter_sign(message_id=f"m-{n}", exemplar_id=f"E-{n}", send_email=n == 2))
                    for n in (1, 2, 3)]
        with log.recording() as commands:
            await svc.runtime.uow.run(lambda tx: subs[s.WORKFLOW_MESSAGE_SENT.routing_key].batch_handler(messages[:1], tx))
        assert log.to(commands, TASKS, TASK_HISTORY) == ["find", "bulkWrite"]
        # E-1's message again (its marker lost), then E-2's (with an email) and E-3's.
        with log.recording() as commands:
            await svc.runtime.uow.run(lambda tx: subs[s.WORKFLOW_MESSAGE_SENT.routing_key].batch_handler(messages, tx))
        assert log.to(commands, TASKS, TASK_HISTORY) == ["find", "bulkWrite"]
        assert [t["status"] for t in await _tasks(svc, assignee_id="M-1")] == ["open"] * 3
        [mail] = await svc.db[EMAILS].find().to_list()
        assert (mail["recipient_id"], mail["source_event_id"]) == ("M-1", messages[1].id)

        async def looked() -> bool:
            return bool(looks)

        await eventually(looked, message="the mail relay asked to look")
        # Asked 0.05 s after each run that queued an email: had the first run asked, its look
        # would have come before this one.
        assert looks == ["look"]

        def signed(exemplar_id: str, by: str) -> ReceivedEvent:
            return _received(s.COUNTER_SIGNED, {**EXEMPLAR, "exemplar_id": exemplar_id, "counter_signed_by": by, "first_signed_by": "W-1"})

        # E-1 counter-signed twice over (two events: the first closes its task), E-2 once; E-3 not.
        run = [signed("E-1", "M-1"), signed("E-2", "M-1"), signed("E-1", "M-2")]
        with log.recording() as commands:
            await svc.runtime.uow.run(lambda tx: subs[s.COUNTER_SIGNED.routing_key].batch_handler(run, tx))
        assert log.to(commands, TASKS, TASK_HISTORY, EMAILS) == ["find", "bulkWrite"]

        tasks = {t["link"]["path"].split("/")[2]: t for t in await _tasks(svc, assignee_id="M-1")}
        assert {e: (t["status"], t["version"], t["status_changed_by"]) for e, t in tasks.items()} == {
            "E-1": ("done", 2, "M-1"), "E-2": ("done", 2, "M-1"), "E-3": ("open", 1, "W-1")}
        history = await svc.db[TASK_HISTORY].find({}, {"_id": 0, "task_id": 1, "status": 1, "event_id": 1}).to_list()
        closed = sorted((h["task_id"], h["event_id"]) for h in history if h["status"] == "done")
        assert closed == sorted([(tasks["E-1"]["_id"], run[0].id), (tasks["E-2"]["_id"], run[1].id)])
        assert len(history) == 5  # three opened, two closed
        assert sorted(h["event_id"] for h in history if h["status"] == "open") == sorted(m.id for m in messages)


async def test_the_work_tray_queue_is_not_bound_to_first_signed_even_where_an_earlier_release_bound_it(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        queue = await svc.db[AMQP_QUEUES].find_one({"purpose": consumers.PURPOSE})
        assert s.WORKFLOW_MESSAGE_SENT.routing_key in queue["routing_keys"] and s.COUNTER_SIGNED.routing_key in queue["routing_keys"]
        assert FIRST_SIGNED.routing_key not in queue["routing_keys"]
        # What an earlier release left behind: the durable queue still bound to first-signed.
        async with svc.runtime.amqp.channel() as channel:
            bound = await channel.get_queue(queue["_id"])
            await bound.bind(svc.runtime.settings.exchange_name, routing_key=FIRST_SIGNED.routing_key)

    async with running_service(create_app) as svc:  # the next start unbinds it
        taken = ConsumerOutcomes("notify", consumers.PURPOSE)
        await kit.publish(svc, FIRST_SIGNED, {**EXEMPLAR, "signed_by": "W-1", "signed_at": NOW, "start_date": "2026-03-02"})
        await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, _ready_for_counter_sign())
        await _wait_status(svc, "M-1", "open")
        # The message was taken, and so was everything delivered before it: a first-signed event,
        # had it been delivered, would have been dead-lettered (and the dead letter confirmed) by now.
        await taken.wait_for("handled")
        await taken.idle()
        async with svc.runtime.amqp.channel() as channel:
            dead = await channel.declare_queue(queue["dead"], passive=True)
            assert dead.declaration_result.message_count == 0
        assert await svc.db[PROCESSED_EVENTS].count_documents({"type": FIRST_SIGNED.routing_key}) == 0
        assert len(await _tasks(svc)) == 1


async def test_a_delegated_section_is_a_task_for_the_delegate_until_finalised(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        base = {"form_id": "F-1", "case_id": "C-1", "stage": "stage_1", "stage_title": "Stage 1 (team manager)"}
        await kit.publish(svc, r.SECTION_DELEGATED, {**base, "delegate_id": "D-1", "delegation_number": 1, "delegated_by": "IRO-1",
                                                      "delegated_at": NOW, "due_on": "2026-03-17"})
        [task] = await _wait_status(svc, "D-1", "open")
        assert (task["kind"], task["assigned_by"], task["origin"], task["subject"]) == (
            "section_delegated", "IRO-1", "person", "Resolution F-1: Stage 1 (team manager)")
        await kit.publish(svc, r.SECTION_FINALISED, {**base, "finalised_by": "D-1", "delegate_id": "D-1", "delegation_number": 1,
                                                      "finalised_at": NOW})
        [done] = await _wait_status(svc, "D-1", "done")
        assert done["status_changed_by"] == "D-1"


async def test_a_run_delegating_a_section_twice_cancels_the_first_delegates_task_as_one_event_at_a_time_would(smtp, kit) -> None:
    """A run whose events both open and close tasks is applied event by event in one transaction:
    the second delegation closes the task the first opened, though the first left its writes for
    the end of the transaction."""
    async with running_service(create_app) as svc:
        subs = {sub.event_type.routing_key: sub for sub in consumers.subscriptions(svc.runtime.extra["notifier"], lambda: None)}
        base = {"form_id": "F-9", "case_id": "C-9", "stage": "stage_2", "stage_title": "Stage 2", "delegated_by": "IRO-1", "delegated_at": NOW}
        run = [_received(r.SECTION_DELEGATED, {**base, "delegate_id": "D-1", "delegation_number": 1}),
               _received(r.SECTION_DELEGATED, {**base, "delegate_id": "D-2", "delegation_number": 2, "recalled_delegate_id": "D-1"})]
        await svc.runtime.uow.run(lambda tx: subs[r.SECTION_DELEGATED.routing_key].batch_handler(run, tx))
        assert {t["assignee_id"]: t["status"] for t in await _tasks(svc)} == {"D-1": "cancelled", "D-2": "open"}
        [first] = await _tasks(svc, assignee_id="D-1")
        history = await svc.db[TASK_HISTORY].find({"task_id": first["_id"]}).sort("seq").to_list()
        assert [(h["reason"], h["event_id"]) for h in history] == [("created", run[0].id), ("section recalled and delegated again", run[1].id)]


async def test_re_delegating_cancels_the_earlier_delegates_task_and_retracting_cancels_the_new_one(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        base = {"form_id": "F-1", "case_id": "C-1", "stage": "stage_2", "stage_title": "Stage 2"}
        await kit.publish(svc, r.SECTION_DELEGATED, {**base, "delegate_id": "D-1", "delegation_number": 1, "delegated_by": "IRO-1", "delegated_at": NOW})
        await _wait_status(svc, "D-1", "open")
        await kit.publish(svc, r.SECTION_DELEGATED, {**base, "delegate_id": "D-2", "delegation_number": 2, "delegated_by": "IRO-1",
                                                      "delegated_at": NOW, "recalled_delegate_id": "D-1"})
        [recalled] = await _wait_status(svc, "D-1", "cancelled")
        assert recalled["status_changed_by"] == "IRO-1"
        await _wait_status(svc, "D-2", "open")
        await kit.publish(svc, r.SECTION_RETRACTED, {**base, "delegate_id": "D-2", "delegation_number": 2, "retracted_by": "IRO-1",
                                                      "retracted_at": NOW, "draft_kept": True})
        await _wait_status(svc, "D-2", "cancelled")
        history = await svc.db["task_history"].find({"task_id": recalled["_id"]}).sort("seq").to_list()
        assert [h["reason"] for h in history] == ["created", "section recalled and delegated again"]

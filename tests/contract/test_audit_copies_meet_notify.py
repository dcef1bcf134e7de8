"""Contract: the audit service's ``audit.copy.routed.v2`` (``audit.case_audit.events``, its own
EventType and model) meets notify's work-tray consumer (``notify.mappings.audit``).

Each event is built as the audit service builds it and read through notify's mapping, first as
effects (tasks and emails) and then through the running notify service to the mail it sends, so
a change of the publisher's contract that notify cannot read fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from audit.case_audit import events as ie
from notify.domain.effects import Effects
from notify.domain.kinds import TaskKind
from notify.mail.outbox import EMAILS
from notify.main import create_app
from notify.mappings import all_mappings
from notify.mappings import audit as a
from shared.consumer import ReceivedEvent
from shared.events import EventType

from devstack.testing import (
    ConsumerOutcomes,
    ServiceClient,
    SmtpServer,
    add_people,
    email_text,
    mail_outbox_drained,
    publish,
    republish,
    running_service,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)
STAFF = [
    {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager", "auditor"]},
    {"person_id": "PR-1", "name": "Pat Reviewer", "roles": ["peer_reviewer"]},
    {"person_id": "SM-1", "name": "Sue Service", "roles": ["service_manager"]},
    {"person_id": "IRO-1", "name": "Ivy Iro", "roles": ["iro"]},
]


class People:
    async def line_manager_of(self, person_id: str) -> str | None:
        return None


def _routed(**changes: Any) -> ie.CopyRouted:
    """A routed copy as the audit service builds it (its own model): no document, only where it is."""
    fields: dict[str, Any] = {
        "audit_id": "A-1", "case_ref": "C-1", "programme": "peer_review", "coded_case": False, "stage": "peer_review", "pdf_id": "pdf-1",
        "document_path": "/api/v1/audit/audits/A-1/pdfs/pdf-1",
        "recipients": [ie.CopyRecipient(person_id="SM-1", reasons=["accountable_service_manager"]), ie.CopyRecipient(person_id="IRO-1", reasons=[])],
        "recipient_ids": ["SM-1", "IRO-1", "QA-1"], "grade": "good", "routed_at": NOW,
    }
    return ie.CopyRouted(**{**fields, **changes})


async def _published_effects(published: EventType, data: Any) -> Effects:
    """``data`` as the audit service publishes it, read through notify's mapping of that routing key."""
    envelope = published.envelope(data, source=published.source, subject=None, time=NOW)
    mapping = next(m for m in all_mappings() if m.event_type.routing_key == published.routing_key)
    return await mapping.translate(ReceivedEvent(envelope, mapping.event_type.parse_data(envelope)), People())


# --- The event as notify's mapping reads it ---------------------------------------------------------


def test_notify_reads_the_copy_routed_the_audit_service_publishes_on_the_platform_exchange_and_needs_only_what_it_always_carries() -> None:
    """Audit's ``audit.copy.routed.v2`` meets notify's copy of that type: same key, publisher and exchange, no field notify needs that audit may omit."""
    assert (a.COPY_ROUTED.routing_key, a.COPY_ROUTED.publisher) == (ie.COPY_ROUTED.routing_key, ie.COPY_ROUTED.publisher) == ("audit.copy.routed.v2", "audit")
    assert a.COPY_ROUTED.internal and ie.COPY_ROUTED.internal
    theirs = ie.COPY_ROUTED.data_model.model_fields
    for name, field in a.COPY_ROUTED.data_model.model_fields.items():
        if field.is_required():
            assert name in theirs and theirs[name].is_required(), f"notify requires {name}, audit may omit it"
    assert "audit.copy.routed.v1" not in {m.event_type.routing_key for m in all_mappings()}


async def test_a_routed_copy_is_a_task_and_an_email_with_a_link_to_the_pdf_for_each_recipient_once() -> None:
    """Audit's ``audit.copy.routed.v2`` meets notify's work-tray mapping: one copy task and email per recipient."""
    effects = await _published_effects(ie.COPY_ROUTED, _routed())
    assert [t.assignee_id for t in effects.open] == ["SM-1", "IRO-1", "QA-1"]
    assert "accountable service manager" in effects.open[0].action
    for task in effects.open:
        assert task.kind is TaskKind.AUDIT_COPY and task.subject == "Copy of audit A-1 (stages 1 and 2, peer review)"
        assert task.email is not None and task.email.template == "audit_copy"
        assert task.email.document_path == "/api/v1/audit/audits/A-1/pdfs/pdf-1"
        assert not hasattr(task.email, "attachment")


async def test_a_routed_copy_of_a_multi_agency_audit_names_neither_the_code_nor_the_case() -> None:
    """Audit's ``audit.copy.routed.v2`` of a coded multi-agency case meets notify's work-tray mapping: no code, no case in the task."""
    effects = await _published_effects(ie.COPY_ROUTED, _routed(case_ref="MA-CODE-7", programme="multi_agency", coded_case=True, stage="audit"))
    for task in effects.open:
        assert task.subject == "Copy of a multi-agency audit (stage 1, audit)"
        assert task.email is not None and task.email.context["what"] == "a multi-agency audit"
        shown = task.subject + task.action + str(task.context) + str(task.email.context)
        assert "MA-CODE-7" not in shown and "C-1" not in shown


# --- The event through the running notify service, to the mail it sends ---------------------------


async def _tray(svc: ServiceClient, person_id: str) -> list[dict[str, Any]]:
    response = await svc.http.get("/v1/tasks", headers=svc.as_person(person_id))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _routed_in_april(**changes: Any) -> ie.CopyRouted:
    return _routed(**{
        "pdf_id": "pdf-9", "document_path": "/api/v1/audit/audits/A-1/pdfs/pdf-9",
        "recipients": [ie.CopyRecipient(person_id="SM-1", reasons=["accountable_service_manager"]),
                       ie.CopyRecipient(person_id="IRO-1", reasons=["iro_team_manager"])],
        "recipient_ids": ["SM-1", "IRO-1"], "routed_at": datetime(2026, 4, 10, 10, 0, tzinfo=UTC), **changes,
    })


async def test_a_routed_copy_reaches_each_recipient_once_with_a_link_to_the_pdf_and_no_attachment(smtp: SmtpServer) -> None:
    """Audit's ``audit.copy.routed.v2``, delivered twice, meets notify's work-tray consumer and mail relay: one email per recipient."""
    async with running_service(create_app) as svc:
        await add_people(svc, *STAFF)
        envelope = await publish(svc, ie.COPY_ROUTED, _routed_in_april())
        messages = await smtp.catcher.wait_for(2)
        taken = ConsumerOutcomes("notify", "work-tray")
        await republish(svc, envelope, internal=True)
        await taken.wait_for("duplicate")  # the redelivery was taken, and known for what it is
        await mail_outbox_drained(svc)  # whatever it might have queued has gone
        assert len(smtp.catcher.messages) == 2
        assert sorted(m["To"] for m in messages) == ["iro-1@council.example", "sm-1@council.example"]
        link = "https://qa.council.example/api/v1/audit/audits/A-1/pdfs/pdf-9"
        for message in messages:
            assert list(message.iter_attachments()) == []
            assert {part.get_content_type() for part in message.walk() if not part.is_multipart()} == {"text/plain", "text/html"}
            assert message["Subject"] == "Copy of audit A-1 (stages 1 and 2, peer review)"
            plain = email_text(message)
            assert link in plain and "not attached" in plain
            assert f'<a href="{link}">' in email_text(message, "html")
        [copy] = await _tray(svc, "SM-1")
        assert copy["kind"] == "audit_copy" and "accountable service manager" in copy["action"]
        # Nothing of the document is kept by notify either.
        assert await svc.db["email_attachments"].count_documents({}) == 0
        assert all("attachments" not in doc for doc in await svc.db[EMAILS].find({}).to_list())


async def test_a_routed_copy_of_a_multi_agency_audit_is_emailed_without_the_code_or_the_case(smtp: SmtpServer) -> None:
    """Audit's ``audit.copy.routed.v2`` of a coded multi-agency case meets notify's mail: neither the code nor the case in the email."""
    async with running_service(create_app) as svc:
        await add_people(svc, *STAFF)
        await publish(svc, ie.COPY_ROUTED, _routed_in_april(
            audit_id="A-2", case_ref="MA-CODE-7", programme="multi_agency", coded_case=True, stage="audit", pdf_id="pdf-7",
            document_path="/api/v1/audit/audits/A-2/pdfs/pdf-7", recipients=[ie.CopyRecipient(person_id="SM-1", reasons=["accountable_service_manager"])],
            recipient_ids=["SM-1"],
        ))
        [message] = await smtp.catcher.wait_for(1)
        assert message["Subject"] == "Copy of a multi-agency audit (stage 1, audit)"
        assert list(message.iter_attachments()) == []
        plain = email_text(message)
        assert "a multi-agency audit" in plain and "https://qa.council.example/api/v1/audit/audits/A-2/pdfs/pdf-7" in plain
        whole = message.as_string()
        assert "MA-CODE-7" not in whole and "C-1" not in whole
        [copy] = await _tray(svc, "SM-1")
        assert copy["subject"] == "Copy of a multi-agency audit (stage 1, audit)"

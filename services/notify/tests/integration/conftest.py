"""Fixtures for notify's integration tests: a real SMTP server on loopback (aiosmtpd) whose
received mail the test reads back, and helpers to feed the service events as a producer would."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from notify.directory import PERSON_CHANGED, RECIPIENTS, PersonChanged
from pydantic import BaseModel
from shared.events import EventType

from devstack.infra import free_port
from devstack.testing import eventually


class MailCatcher:
    """An SMTP server's handler: keeps every accepted message; can refuse the first N with 451."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.refuse_next = 0
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 Mailbox busy, try again later"
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, count: int, *, timeout: float = 10.0) -> list[EmailMessage]:
        async def enough() -> list[EmailMessage] | None:
            return list(self.messages) if len(self.messages) >= count else None

        return list(await eventually(enough, timeout=timeout, message=f"{count} email(s) received"))


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.catcher = MailCatcher()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.catcher, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A running SMTP server on loopback, and notify's environment pointed at it."""
    server = SmtpServer(free_port())
    server.start()
    for key, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(server.port),
        "MAIL_FROM": "QA Platform <qa@council.example>",
        "MAIL_POLL_INTERVAL_S": "0.1",
        "MAIL_RETRY_BASE_S": "0.2",
        "MAIL_RETRY_MAX_S": "1",
        "FRONTEND_BASE_URL": "https://qa.council.example",
        # The scheduler runs where a test asks for it (with its clock), not on its own.
        "REMINDER_SCHEDULER_ENABLED": "false",
    }.items():
        monkeypatch.setenv(key, value)
    try:
        yield server
    finally:
        server.stop()


async def publish(svc: Any, event_type: EventType, data: BaseModel | dict[str, Any], *, source: str | None = None,
                  event_id: str | None = None, time: datetime | None = None) -> Any:
    """Publish an event as its producer would (an envelope on the namespace's exchange)."""
    model = data if isinstance(data, BaseModel) else event_type.data_model.model_validate(data)
    envelope = event_type.envelope(model, source=source or event_type.source, subject=None, time=time or datetime.now(UTC), event_id=event_id)
    await svc.runtime.publisher.publish(envelope.to_json(), routing_key=event_type.routing_key, message_id=envelope.id,
                                        event_type=envelope.type, internal=event_type.internal)
    return envelope


async def republish(svc: Any, envelope: Any, *, internal: bool = False) -> None:
    """The same envelope again: what a redelivery by the broker looks like to the consumer."""
    await svc.runtime.publisher.publish(envelope.to_json(), routing_key=envelope.type, message_id=envelope.id, event_type=envelope.type,
                                        internal=internal)


async def add_people(svc: Any, *people: dict[str, Any]) -> None:
    """Staff as the directory announces them; returns once notify has projected every one."""
    for i, person in enumerate(people):
        fields = {"version": 1, "roles": ["social_worker"], "email": f"{person['person_id'].lower()}@council.example",
                  "name": f"Person {i}", **person}
        data = PersonChanged(**fields)
        await publish(svc, PERSON_CHANGED, data, source="/qa/gateway")

    async def all_there() -> bool:
        ids = [p["person_id"] for p in people]
        return await svc.db[RECIPIENTS].count_documents({"_id": {"$in": ids}}) == len(ids)

    await eventually(all_there, message="people projected")


@pytest.fixture
def kit() -> Any:
    """The helpers above, for test modules (which cannot import this conftest)."""

    class Kit:
        pass

    k = Kit()
    k.publish = publish  # type: ignore[attr-defined]
    k.republish = republish  # type: ignore[attr-defined]
    k.add_people = add_people  # type: ignore[attr-defined]
    return k

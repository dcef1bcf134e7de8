"""The mail relay: sends the mail outbox over SMTP, records each attempt, retries with back-off.

Several notify replicas may relay at once. Each pass claims a batch (``shared.leases``, as the
event outbox does: ``available_at`` moves past the claim period), so a mail is sent by one
replica; it is marked sent only after the SMTP server accepted it. A replica that dies between
the server's acceptance and that mark leaves the mail to be sent again after the claim lapses:
the only way a copy can go, and it carries the same Message-ID.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.clock import Clock
from shared.leases import claim_due
from shared.mongo import Document
from shared.worker import BackgroundWorker

from ..directory import RECIPIENTS
from ..settings import NotifySettings
from .outbox import ATTACHMENTS, EMAILS, FAILED, SENT
from .smtp import SmtpSender, build_message

log = logging.getLogger(__name__)


class NoAddress(Exception):
    pass


class MailRelay(BackgroundWorker):
    """Sends the mail outbox every ``MAIL_POLL_INTERVAL_S``, and at once when woken (``wake()``,
    after a commit that queued mail)."""

    def __init__(self, db: AsyncDatabase[Document], sender: SmtpSender, clock: Clock, settings: NotifySettings) -> None:
        super().__init__(
            "mail-relay", interval_s=settings.mail_poll_interval_s, stop_timeout_s=settings.smtp_timeout_s + 5, logger=log,
            failure_message="mail relay pass failed; retrying",
        )
        self.db = db
        self.emails = db[EMAILS]
        self.sender = sender
        self.clock = clock
        self.settings = settings

    async def run_once(self) -> bool:
        return await self.send_pending() >= self.settings.mail_batch_size  # a full batch: more are waiting

    async def send_pending(self) -> int:
        """One pass: claim due mails, send each, record the outcome. Returns how many were tried."""
        claim, claimed = await claim_due(self.emails, now=self.clock.now(), lease_s=self.settings.mail_claim_s, limit=self.settings.mail_batch_size)
        for doc in claimed:
            await self._send_one(doc, claim)
        return len(claimed)

    async def _send_one(self, doc: dict[str, Any], claim: str) -> None:
        try:
            to = doc.get("to") or await self._address_of(doc["recipient_id"])
            # Only an email queued before documents stopped being attached has any (see ``outbox``).
            attachments = [await self._attachment(a["id"]) for a in doc.get("attachments", [])]
            message = build_message(doc, to=to, mail_from=self.settings.mail_from, attachments=attachments, at=self.clock.now())
            answer = await self.sender.send(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(doc, claim, exc)
            return
        at = self.clock.now()
        await self.emails.update_one(
            {"_id": doc["_id"], "claim": claim},
            {
                "$set": {"status": SENT, "sent_at": at, "to": to, "attempts": doc.get("attempts", 0) + 1},
                "$push": {"results": {"at": at, "result": "sent", "detail": str(answer)[:500]}},
                "$unset": {"claim": ""},
            },
        )
        log.info("email sent", extra={"email_id": doc["_id"], "template": doc["template"], "recipient_id": doc["recipient_id"]})

    async def _failed(self, doc: dict[str, Any], claim: str, error: Exception) -> None:
        at = self.clock.now()
        attempts = doc.get("attempts", 0) + 1
        gave_up = attempts >= self.settings.mail_max_attempts
        backoff = min(self.settings.mail_retry_max_s, self.settings.mail_retry_base_s * 2 ** (attempts - 1))
        update: dict[str, Any] = {"attempts": attempts, "last_error": repr(error)[:500]}
        if gave_up:
            update["status"] = FAILED
        else:
            update["available_at"] = at + timedelta(seconds=backoff)
        await self.emails.update_one(
            {"_id": doc["_id"], "claim": claim},
            {
                "$set": update,
                "$push": {"results": {"at": at, "result": "failed", "detail": repr(error)[:500]}},
                "$unset": {"claim": ""},
            },
        )
        log.warning(
            "email not sent; %s", "giving up" if gave_up else f"retrying in {backoff:.1f}s",
            extra={"email_id": doc["_id"], "attempt": attempts, "error": repr(error)},
        )

    async def _address_of(self, person_id: str) -> str:
        person = await self.db[RECIPIENTS].find_one({"_id": person_id}, {"email": 1, "active": 1})
        if person is None or not person.get("email"):
            raise NoAddress(f"no email address is known for person {person_id!r}")
        return str(person["email"])

    async def _attachment(self, attachment_id: str) -> dict[str, Any]:
        found = await self.db[ATTACHMENTS].find_one({"_id": attachment_id})
        if found is None:
            raise LookupError(f"attachment {attachment_id} is missing")
        return found

"""The mail outbox: each email is a document written in the same transaction as the task it
goes with, then sent by the relay. Its id comes from the event, the recipient and the template,
so one event can never queue the same email twice.

No email carries a document: a document (an audit's PDF) stays with the service that keeps it and
the email links to it. ``email_attachments`` holds only the files of emails queued before that
(``audit.copy.routed.v1``), which the relay still sends if any is pending.

An email document is also the record of the send: to whom, what (subject and both parts), when,
every attempt's result, and the final status (``pending``, ``sent``, or ``failed`` once it has
been tried ``MAIL_MAX_ATTEMPTS`` times).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.leases import PENDING
from shared.mongo import Document, Indexes, Transaction

from .render import Rendered

EMAILS = "emails"
ATTACHMENTS = "email_attachments"

SENT = "sent"
FAILED = "failed"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

INDEXES = [
    Indexes(
        EMAILS,
        [
            IndexModel([("status", ASCENDING), ("available_at", ASCENDING), ("created_at", ASCENDING)]),
            IndexModel([("claim", ASCENDING)], sparse=True),
            IndexModel([("source_event_id", ASCENDING)]),
            IndexModel([("recipient_id", ASCENDING), ("created_at", ASCENDING)]),
        ],
    ),
]


def email_id_for(key: str, recipient_id: str, template: str) -> str:
    """``key`` is the event id (or, for a reminder, the task and reminder date)."""
    return hashlib.sha256(f"{key}\x1f{recipient_id}\x1f{template}".encode()).hexdigest()[:32]


async def queue_email(
    db: AsyncDatabase[Document],
    tx: Transaction,
    *,
    key: str,
    recipient_id: str,
    to: str | None,
    template: str,
    rendered: Rendered,
    now: datetime,
    kind: str,
    task_id: str | None = None,
    source_event_id: str | None = None,
) -> str | None:
    """Queue one email (inside the caller's transaction); None if that email was queued already.

    ``to`` may be None when the directory has not told us the person's address yet: the relay
    looks it up again when it sends.
    """
    email_id = email_id_for(key, recipient_id, template)
    emails = db[EMAILS]
    # Checked rather than caught: a duplicate-key error would abort the whole transaction.
    if await emails.find_one({"_id": email_id}, {"_id": 1}, session=tx.session) is not None:
        return None
    await emails.insert_one(
        {
            "_id": email_id,
            "recipient_id": recipient_id,
            "to": to,
            "template": template,
            "kind": kind,
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
            "task_id": task_id,
            "source_event_id": source_event_id,
            "key": key,
            "status": PENDING,
            "attempts": 0,
            "results": [],
            "created_at": now,
            "available_at": _EPOCH,
        },
        session=tx.session,
    )
    return email_id

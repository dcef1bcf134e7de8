"""Building the MIME message of an email document and handing it to the SMTP server."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from ..settings import NotifySettings


def build_message(doc: dict[str, Any], *, to: str, mail_from: str, attachments: list[dict[str, Any]], at: Any) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = doc["subject"]
    message["Date"] = format_datetime(at)
    # The same email always has the same Message-ID: a mail system that sees it twice (a replica
    # died after the server accepted it) can recognise the copy.
    message["Message-ID"] = f"<{doc['_id']}@notify.qa-platform>"
    message["X-QA-Template"] = doc["template"]
    message.set_content(doc["text"])
    message.add_alternative(doc["html"], subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment["content_type"].partition("/")
        message.add_attachment(bytes(attachment["data"]), maintype=maintype, subtype=subtype or "octet-stream", filename=attachment["filename"])
    return message


class SmtpSender:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> str:
        """Send one message; returns the server's answer. Raises on any refusal or failure."""
        s = self.settings
        _, answer = await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_s,
        )
        return answer


__all__ = ["SmtpSender", "build_message"]

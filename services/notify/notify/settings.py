"""The notify service's settings (environment variables, on top of the shared ones)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"

    #: The mail server every email is handed to (SMTP, optionally with STARTTLS and a login).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    #: The From address of every email.
    mail_from: str = "QA Platform <no-reply@qa-platform.example>"
    #: Whether this replica sends the mail outbox (any number of replicas may; each mail is claimed).
    mail_relay_enabled: bool = True
    mail_poll_interval_s: float = Field(default=2.0, gt=0)
    mail_batch_size: int = Field(default=50, ge=1, le=1000)
    #: How long a replica holds the mails it has claimed before another may take them over.
    mail_claim_s: float = Field(default=60.0, gt=0)
    #: Back-off after the n-th failed send: MAIL_RETRY_BASE_S * 2**(n-1), at most MAIL_RETRY_MAX_S.
    mail_retry_base_s: float = Field(default=30.0, gt=0)
    mail_retry_max_s: float = Field(default=3600.0, gt=0)
    #: Sends after which a mail is given up as failed (kept, with every attempt's result).
    mail_max_attempts: int = Field(default=12, ge=1)

    #: Where the front end lives, for the links in emails (``<FRONTEND_BASE_URL>/<service>/<path>``).
    frontend_base_url: str = "http://localhost:8000"

    #: Whether this replica runs the reminder and digest scheduler (safe on several replicas).
    reminder_scheduler_enabled: bool = True
    #: Seconds between two passes of the scheduler.
    reminder_interval_s: float = Field(default=300.0, gt=0)
    #: Working days between two reminders of a task still open.
    reminder_working_days: int = Field(default=10, ge=1)
    #: Day of the month from which (on the first working day) the mid-month digest goes out.
    digest_day_of_month: int = Field(default=15, ge=1, le=28)

    #: Seconds between two heartbeat comments on an open task stream (Server-Sent Events).
    sse_heartbeat_s: float = Field(default=15.0, gt=0)

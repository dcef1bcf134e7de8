"""Integrator access, as rules (plain Python, no I/O): what may be granted, which webhook URLs are
accepted, how a webhook is signed (Standard Webhooks), and what happens after each attempt.

An integrator is a system outside the platform (the case-management system, the performance
unit's BI tools, an email or task system) that receives events. It never publishes. It gets either
its own read-only broker user and queue (AMQP), or webhook deliveries to an HTTPS endpoint; both
are granted event types one by one, and only types on the integrator-visible exchange.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

#: Standard Webhooks: secrets are shown as ``whsec_`` + base64 of the key bytes.
SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"


class IntegrationRefused(Exception):
    """A request an administrator can correct: says what is wrong, changes nothing."""

    def __init__(self, slug: str, title: str, detail: str, status: int = 422, **extra: object) -> None:
        super().__init__(detail)
        self.slug, self.title, self.detail, self.status, self.extra = slug, title, detail, status, extra


@dataclass(frozen=True)
class KnownType:
    """An event type of the catalogue: who publishes it and whether an integrator may have it."""

    type: str
    publisher: str
    grantable: bool
    summary: str


def check_grant(requested: Sequence[str], known: dict[str, KnownType]) -> list[str]:
    """The event types to grant, de-duplicated and sorted; refused if any is unknown or internal."""
    if not requested:
        raise IntegrationRefused("no-event-types", "No event types", "Grant at least one event type (see /api/asyncapi.json).")
    unknown = sorted({t for t in requested if t not in known})
    if unknown:
        raise IntegrationRefused(
            "unknown-event-type", "Unknown event type",
            f"These are not event types of the platform: {', '.join(unknown)}. The catalogue is /api/asyncapi.json.",
            unknown=unknown,
        )
    internal = sorted({t for t in requested if not known[t].grantable})
    if internal:
        raise IntegrationRefused(
            "event-type-not-grantable", "Event type not grantable",
            f"These event types are for the platform's own services only and are never granted to an integrator: {', '.join(internal)}.",
            not_grantable=internal,
        )
    return sorted(set(requested))


def check_endpoint_url(url: str, *, allow_insecure: bool) -> str:
    """A webhook endpoint: an absolute HTTPS URL with a host (plain HTTP only in local runs)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise IntegrationRefused("bad-endpoint-url", "Not an endpoint URL", f"{url!r} is not an absolute https:// URL.")
    if parts.scheme != "https" and not allow_insecure:
        raise IntegrationRefused(
            "endpoint-not-https", "Endpoint must use HTTPS",
            f"{url!r} is not HTTPS. Events are personal data in transit: only https:// endpoints are accepted.",
        )
    if parts.username or parts.password:
        raise IntegrationRefused("credentials-in-url", "Credentials in the URL", "Put no credentials in the URL: every delivery is signed.")
    if not allow_insecure:
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            address = None
        if parts.hostname == "localhost" or (address is not None and (address.is_private or address.is_loopback or address.is_link_local)):
            raise IntegrationRefused(
                "endpoint-not-public", "Endpoint on an internal address",
                f"{url!r} points inside the platform's network; name the integrator's public HTTPS endpoint.",
            )
    return parts.geturl()


# --- Standard Webhooks signing -------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` under the secret's key bytes."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_header(secrets_in_force: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature per secret in force (two during a rotation), space-separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_in_force)


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any signature in ``header`` was made with ``secret`` (what a receiver does)."""
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())


# --- Retries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Delays before each retry of a failed delivery; after the last the delivery has failed for
    good and the endpoint is disabled (until an administrator enables it again)."""

    delays_s: tuple[float, ...]

    @property
    def attempts(self) -> int:
        return len(self.delays_s) + 1

    def next_attempt_at(self, failed_attempts: int, now: datetime) -> datetime | None:
        """When to try again after ``failed_attempts`` failures, or None: given up."""
        if failed_attempts > len(self.delays_s):
            return None
        return now + timedelta(seconds=self.delays_s[failed_attempts - 1])


def succeeded(status_code: int | None) -> bool:
    """A 2xx answer is a delivery; anything else (or no answer) is a failed attempt."""
    return status_code is not None and 200 <= status_code < 300

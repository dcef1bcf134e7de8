"""Configuration from the environment, one typed ``Settings`` per service on this shared base.

Every name here is an environment variable (upper-case) an operator can set; the README lists
them all. ``QA_NAMESPACE`` prefixes every database, exchange and queue name, so several
installations (or test runs) can share one MongoDB and one RabbitMQ without colliding.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    #: Which service this is; each service's Settings gives its own default.
    service_name: str = "service"

    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    #: How long a request waits for a reachable MongoDB before it is answered 503
    #: ``database-unavailable`` with ``Retry-After`` (milliseconds). Only the wait for a server:
    #: a query that reached one runs as long as it needs. Background work (outbox relay,
    #: consumers, workers) keeps its own, longer wait (``shared.mongo``).
    mongodb_request_timeout_ms: int = Field(default=1000, ge=50, le=60000)
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    qa_namespace: str = Field(default="qa", pattern=r"^[a-z][a-z0-9_]{0,30}$")

    #: Shared secret with which the gateway signs the caller's identity for the services.
    identity_signing_key: SecretStr
    #: How long a signed identity stays valid (seconds): it covers one request's journey.
    identity_max_age_s: int = 120

    log_level: str = "INFO"
    access_log: bool = True

    consumer_prefetch: int = Field(default=32, ge=1, le=1000)
    #: Messages a projection queue (one transaction per batch) holds at once: its largest batch.
    consumer_batch_prefetch: int = Field(default=128, ge=1, le=1000)
    consumer_max_attempts: int = Field(default=5, ge=1, le=50)
    #: Back-off before each retry of a failed handler, in milliseconds; the last one repeats.
    consumer_retry_delays_ms: list[int] = [1000, 5000, 30000]
    #: Deliveries after which RabbitMQ itself dead-letters a message that keeps killing a consumer.
    consumer_delivery_limit: int = Field(default=20, ge=2)

    outbox_relay_enabled: bool = True
    outbox_poll_interval_s: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=200, ge=1, le=5000)
    #: How long a relay replica holds events it has claimed before another may take them over.
    outbox_claim_s: float = Field(default=30.0, gt=0)

    #: Seconds between readings of the gauges that cost a database or broker command (outbox
    #: backlog and its oldest event's age, queue depths, the service's open work): ``shared.readings``.
    metrics_interval_s: float = Field(default=30.0, gt=0)

    #: Seconds a request may wait for the next part of its body (a client that declares a body and
    #: sends none, or stalls mid-way, gets 408 and the connection is closed).
    body_read_timeout_s: float = Field(default=10.0, gt=0)

    #: Seconds a stopping process waits for in-flight messages before giving them back.
    shutdown_grace_s: float = Field(default=20.0, ge=0)

    #: Whether ``POST /v1/scheduler/runs`` may run the service's time-driven work "as of" a given
    #: date (administrators only). Off unless set: ``./dev up`` and the test fixtures turn it on.
    scheduler_as_of_enabled: bool = False

    @property
    def database_name(self) -> str:
        return f"{self.qa_namespace}_{self.service_name}"

    @property
    def exchange_name(self) -> str:
        """The integrator-visible topic exchange: events an integrator may be granted."""
        return f"{self.qa_namespace}.events"

    @property
    def platform_exchange_name(self) -> str:
        """The platform-internal topic exchange: only the services' own broker users may read it."""
        return f"{self.qa_namespace}.platform"

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of every event this service publishes."""
        return f"/qa/{self.service_name}"

    def queue_name(self, purpose: str) -> str:
        return f"{self.qa_namespace}.{self.service_name}.{purpose}"

"""The gateway's settings (environment variables, on top of the shared ones)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"

    signoff_url: str = "http://127.0.0.1:8001"
    resolution_url: str = "http://127.0.0.1:8002"
    audit_url: str = "http://127.0.0.1:8003"
    notify_url: str = "http://127.0.0.1:8004"

    #: The OIDC issuer whose tokens are accepted (``iss``), its JWKS URL and our audience (``aud``).
    jwt_issuer: str | None = None
    jwks_url: str | None = None
    jwt_audience: str = "qa-platform"
    #: The token claim that holds the person's directory id.
    jwt_person_claim: str = "sub"
    #: Seconds the issuer's keys are cached before they are fetched again (rotation).
    jwks_cache_s: int = 300
    #: Least seconds between two fetches of the JWKS caused by tokens naming a key we do not know
    #: (rotation), so a flood of made-up key ids cannot turn the gateway against the issuer.
    jwks_min_refetch_s: float = Field(default=10.0, ge=0)
    #: Local runs and tests only: mint tokens for directory people at ``POST /auth/dev/token``.
    dev_issuer_enabled: bool = False
    dev_issuer: str = "qa-platform-dev-issuer"

    #: Token subjects of machine clients (the case-management system) that keep the directory up
    #: to date; they act with the ``integration`` role without being people in the directory.
    integration_clients: list[str] = []

    #: Seconds a person's roles and teams are cached per gateway replica.
    identity_cache_s: float = 5.0

    #: Seconds to connect to a service, and to wait for its answer (not applied to event streams).
    upstream_connect_timeout_s: float = 2.0
    upstream_read_timeout_s: float = 30.0
    upstream_pool_size: int = Field(default=200, ge=1)

    #: Origins of the front end allowed to call the API from a browser (JSON list; empty: none).
    cors_origins: list[str] = []
    #: Origins allowed besides, as a regular expression matched against the whole origin (``./dev up``
    #: sets it to any ``http://localhost:<port>`` and ``http://127.0.0.1:<port>``; unset: none).
    cors_origin_regex: str | None = None
    #: Local runs: a PEM file holding the dev issuer's RSA key, so its tokens survive a restart
    #: (unset: a fresh key per process).
    dev_issuer_key_file: str | None = None

    #: Requests a person may make per minute, and how many at once above that pace (a token
    #: bucket). Kept in memory per gateway replica: with N replicas a person may reach N times it.
    #: 0 turns the limit off.
    rate_limit_per_minute: int = Field(default=1200, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    #: Person ids never rate-limited (a load test's or fuzzer's own identity in a test system). Empty in production.
    rate_limit_exempt: list[str] = []

    #: Largest request body accepted (bytes); the directory's bulk import takes up to ``max_import_bytes``.
    max_request_bytes: int = Field(default=1 << 20, ge=1024)
    max_import_bytes: int = Field(default=64 << 20, ge=1024)
    #: Rows one bulk import may hold, and rows written per transaction.
    max_import_rows: int = Field(default=50_000, ge=1)
    import_batch_size: int = Field(default=200, ge=1, le=1000)
    #: The asynchronous import (``Prefer: respond-async``): seconds a replica's runner holds a job
    #: before another may take it over (renewed each batch), and seconds between its looks for
    #: jobs left by a stopped replica. ``IMPORT_RUNNER_ENABLED=false``: this replica writes none.
    import_claim_s: float = Field(default=30.0, gt=0)
    import_poll_interval_s: float = Field(default=2.0, gt=0)
    import_runner_enabled: bool = True

    #: Seconds each service's OpenAPI document is cached for the aggregated ``/api/openapi.json``.
    docs_cache_s: float = Field(default=30.0, ge=0)

    #: The broker's management API as an administrator (``http://user:password@host:15672/``): the
    #: gateway creates each AMQP integrator's user, permissions and queue there. Unset: AMQP
    #: integrators cannot be created (503); webhooks still can.
    broker_management_url: SecretStr | None = None
    #: AMQP as the broker's administrator, for the dead-letter API (every service's dead-letter
    #: queues). Unset: ``AMQP_URL``'s host, port and vhost with ``BROKER_MANAGEMENT_URL``'s login.
    broker_admin_amqp_url: SecretStr | None = None
    #: The AMQP URL integrators are given (host, port, vhost; their own login is put in). Unset:
    #: the gateway's own ``AMQP_URL`` with its login replaced.
    integrator_amqp_url: str | None = None
    #: Most messages an integrator's queue holds; beyond it the oldest is dropped, so an
    #: integrator that stops reading never pushes back on the platform.
    integrator_queue_max_length: int = Field(default=1_000_000, ge=1000)

    #: Plain-http and internal-address webhook endpoints (local runs and tests only).
    webhook_allow_insecure_urls: bool = False
    #: Seconds before each retry of a failed delivery; after the last the endpoint is disabled.
    #: The default follows the Standard Webhooks reference schedule (5 s … 10 h; about 1.5 days).
    webhook_retry_delays_s: list[float] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    #: Seconds a receiver has to answer one delivery.
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    #: Seconds a replica holds a delivery it is sending before another may take it over.
    webhook_claim_s: float = Field(default=60.0, gt=0)
    webhook_poll_interval_s: float = Field(default=1.0, gt=0)
    #: Deliveries in flight at once to one endpoint (per replica).
    webhook_endpoint_concurrency: int = Field(default=4, ge=1, le=64)
    #: Seconds the previous signing secret keeps signing beside a rotated one.
    webhook_secret_overlap_s: float = Field(default=86400.0, ge=0)
    #: ``false``: this replica sends no webhooks (only to test take-over).
    webhook_dispatcher_enabled: bool = True

    def service_urls(self) -> dict[str, str]:
        return {
            "signoff": self.signoff_url,
            "resolution": self.resolution_url,
            "audit": self.audit_url,
            "notify": self.notify_url,
        }

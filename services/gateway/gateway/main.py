"""The gateway's app factory: ``uvicorn gateway.main:create_app --factory --port 8000``.

Requests pass, outermost first: correlation id and metrics (shared), CORS, the body size limit,
then forwarding of ``/api/v1/<service>/...`` (plain ASGI, the hot path); everything else reaches
FastAPI's routes: ``/api/v1/me``, the directory, the docs and the dev issuer.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, Field
from shared.app import CallerOut, ConsumerSpec, Runtime, RuntimeDep, create_service_app
from shared.broker_access import BrokerAdmin, vhost_of
from shared.errors import Problem
from starlette.middleware import Middleware

from .auth import DevIssuer, TokenVerifier
from .callers import Caller, CallerResolver
from .directory import api as directory_api
from .directory import contact_reports
from .directory import sync as directory_sync
from .directory.jobs import INDEXES as IMPORT_INDEXES
from .directory.jobs import ImportRunner
from .directory.store import INDEXES, PEOPLE, ImportRaced
from .docs import api as docs_api
from .docs.openapi import OpenApiAggregator
from .integrations import api as integrations_api
from .integrations.amqp import AmqpIntegrators
from .integrations.domain import IntegrationRefused, RetryPolicy
from .integrations.readings import READINGS as WEBHOOK_READINGS
from .integrations.store import INDEXES as INTEGRATION_INDEXES
from .integrations.webhooks import Bindings, Dispatcher, Webhooks
from .limits import BodyLimitMiddleware, RateLimiter
from .operations import api as operations_api
from .operations.store import INDEXES as OPERATIONS_INDEXES
from .operations.usecases import DeadLetters, admin_amqp_url
from .proxy import ForwardingMiddleware, ServiceProxy
from .settings import GatewaySettings

#: Request headers a browser may send cross-origin, and response headers it may read.
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "X-Correlation-ID", "Last-Event-ID", "Prefer"]
CORS_EXPOSED_HEADERS = ["ETag", "Location", "Retry-After", "X-Correlation-ID", "Idempotent-Replayed", "Preference-Applied"]


class DevTokenRequest(BaseModel):
    person_id: str = Field(min_length=1, max_length=64)
    ttl_s: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)


class DevToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class Me(CallerOut):
    # Who the token belongs to: the fields every service's ``/v1/me`` answers, under the gateway's own name.
    pass


def _dev_router() -> APIRouter:
    router = APIRouter(prefix="/auth/dev", tags=["dev issuer"])

    @router.post("/token", response_model=DevToken, summary="Mint a token for a person in the directory (local runs and tests only)")
    async def mint_dev_token(body: DevTokenRequest, runtime: RuntimeDep) -> DevToken:
        issuer: DevIssuer = runtime.extra["dev_issuer"]
        known = body.person_id in runtime.settings.integration_clients
        if not known and await runtime.db[PEOPLE.collection].find_one({"_id": body.person_id}, {"_id": 1}) is None:
            raise Problem(404, "not-found", "Not found", f"There is no person {body.person_id!r} in the directory.")
        return DevToken(access_token=issuer.mint(body.person_id, ttl_s=body.ttl_s), expires_in=body.ttl_s)

    @router.get("/jwks.json", summary="The dev issuer's public keys")
    async def dev_jwks(runtime: RuntimeDep) -> dict[str, object]:
        issuer: DevIssuer = runtime.extra["dev_issuer"]
        return issuer.jwks()

    return router


def _api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/me", response_model=Me, tags=["identity"], summary="Who the token belongs to, with roles and teams")
    async def me(caller: Caller) -> Me:
        return Me(person_id=caller.person_id, name=caller.name, roles=sorted(caller.roles), teams=sorted(caller.teams))

    return router


def _raced(exc: Exception) -> Problem:
    return Problem(409, "import-raced", "Changed during the import", str(exc))


def _refused(exc: Exception) -> Problem:
    assert isinstance(exc, IntegrationRefused)
    return Problem(exc.status, exc.slug, exc.title, exc.detail, **exc.extra)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    if not settings.dev_issuer_enabled and not (settings.jwks_url and settings.jwt_issuer):
        raise RuntimeError("set JWKS_URL and JWT_ISSUER (the OIDC issuer), or DEV_ISSUER_ENABLED=true for a local run")

    async def on_startup(runtime: Runtime) -> None:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.upstream_pool_size, keepalive_timeout=60, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=None, connect=settings.upstream_connect_timeout_s, sock_read=settings.upstream_read_timeout_s),
            # Forward the caller's own Accept and Accept-Encoding, nothing aiohttp would add.
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )
        dev_key = Path(settings.dev_issuer_key_file).read_bytes() if settings.dev_issuer_key_file else None
        dev_issuer = DevIssuer(settings.dev_issuer, settings.jwt_audience, dev_key) if settings.dev_issuer_enabled else None
        verifier = TokenVerifier(
            audience=settings.jwt_audience, issuer=settings.jwt_issuer, jwks_url=settings.jwks_url,
            session=session, cache_s=settings.jwks_cache_s, dev_issuer=dev_issuer, min_refetch_s=settings.jwks_min_refetch_s,
        )
        runtime.extra.update(
            http=session,
            dev_issuer=dev_issuer,
            callers=CallerResolver(
                verifier, runtime.db, person_claim=settings.jwt_person_claim, cache_s=settings.identity_cache_s,
                signing_key=settings.identity_signing_key.get_secret_value().encode(), signed_ttl_s=settings.identity_max_age_s,
                integration_clients=frozenset(settings.integration_clients),
            ),
            proxy=ServiceProxy(settings.service_urls(), session, read_timeout_s=settings.upstream_read_timeout_s),
            limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst, exempt=frozenset(settings.rate_limit_exempt)),
            docs=OpenApiAggregator(settings.service_urls(), session, cache_s=settings.docs_cache_s),
        )

        def finished(job: dict[str, object]) -> None:  # as the synchronous import does, once a job of people or teams is done
            if job["kind"] in ("person", "team"):
                runtime.extra["callers"].forget()

        runtime.extra["imports"] = ImportRunner(
            runtime.uow, claim_s=settings.import_claim_s, poll_interval_s=settings.import_poll_interval_s, on_finished=finished
        )
        if settings.import_runner_enabled:
            runtime.extra["imports"].start()

        management = settings.broker_management_url.get_secret_value() if settings.broker_management_url else None
        vhost = vhost_of(settings.amqp_url)
        runtime.extra["amqp_integrators"] = AmqpIntegrators(
            runtime.uow, runtime.clock, namespace=settings.qa_namespace,
            admin=(lambda: BrokerAdmin(management, vhost=vhost)) if management else None,
            integrator_amqp_url=settings.integrator_amqp_url or settings.amqp_url,
            queue_max_length=settings.integrator_queue_max_length,
        )
        runtime.extra["dead_letters"] = DeadLetters(
            runtime.uow, runtime.clock, namespace=settings.qa_namespace,
            admin=(lambda: BrokerAdmin(management, vhost=vhost)) if management else None,
            admin_amqp_url=settings.broker_admin_amqp_url.get_secret_value() if settings.broker_admin_amqp_url else admin_amqp_url(settings.amqp_url, management),
        )
        runtime.extra["webhooks"] = Webhooks(
            runtime.uow, runtime.clock, allow_insecure_urls=settings.webhook_allow_insecure_urls,
            secret_overlap_s=settings.webhook_secret_overlap_s,
        )
        # Deliveries use their own connection pool: a slow receiver never takes the proxy's.
        webhook_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100), skip_auto_headers=("User-Agent",))
        runtime.extra["webhook_http"] = webhook_http
        runtime.extra["webhook_bindings"] = Bindings(
            runtime.uow, lambda: next((c for c in runtime.consumers if c.purpose == "webhooks"), None)
        )
        runtime.extra["dispatcher"] = Dispatcher(
            runtime.uow, runtime.clock, webhook_http, policy=RetryPolicy(tuple(settings.webhook_retry_delays_s)),
            timeout_s=settings.webhook_timeout_s, claim_s=settings.webhook_claim_s, poll_interval_s=settings.webhook_poll_interval_s,
            endpoint_concurrency=settings.webhook_endpoint_concurrency, bindings=runtime.extra["webhook_bindings"],
        )
        if settings.webhook_dispatcher_enabled:
            runtime.extra["dispatcher"].start()

    async def on_shutdown(runtime: Runtime) -> None:
        await runtime.extra["dispatcher"].stop(grace_s=min(settings.shutdown_grace_s, settings.webhook_timeout_s))
        await runtime.extra["webhook_http"].close()
        await runtime.extra["imports"].stop()
        await runtime.extra["http"].close()

    routers = [_api_router(), directory_api.build_router(), integrations_api.build_router(), operations_api.build_router()]
    if settings.dev_issuer_enabled:
        routers.append(_dev_router())
    app = create_service_app(
        settings,
        title="QA platform API",
        description="The one API of the children's social care quality-assurance platform.",
        routers=routers,
        indexes=[*INDEXES, *IMPORT_INDEXES, *INTEGRATION_INDEXES, *contact_reports.INDEXES, *OPERATIONS_INDEXES],
        # Bound only to the types some endpoint wants (integrations.webhooks.Bindings), a batch per transaction.
        consumers=[
            ConsumerSpec("webhooks", lambda runtime: runtime.extra["webhooks"].subscriptions(), batch=True, bind=False),
            # The services' reports of how far they have applied the directory (the directory sync signal).
            ConsumerSpec("directory-sync", lambda runtime: directory_sync.subscriptions(runtime.db), batch=True),
            # A team manager or allocated worker entered on a resolution form (seed 001), applied to the case.
            ConsumerSpec("directory-contacts", lambda runtime: contact_reports.subscriptions(runtime.db)),
        ],
        domain_errors={IntegrationRefused: _refused, ImportRaced: _raced},
        readings=WEBHOOK_READINGS,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        behind_gateway=False,
    )
    docs_api.install(app)
    # Inside the shared request-context middleware (so correlation ids and metrics cover them all).
    if settings.cors_origins or settings.cors_origin_regex:
        app.user_middleware.append(
            Middleware(
                CORSMiddleware, allow_origins=settings.cors_origins, allow_origin_regex=settings.cors_origin_regex, allow_credentials=True,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"], allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS, max_age=600,
            )
        )
    app.user_middleware.append(Middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes, max_import_bytes=settings.max_import_bytes))
    app.user_middleware.append(Middleware(ForwardingMiddleware))
    return app

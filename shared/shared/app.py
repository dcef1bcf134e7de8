"""The app factory every service uses: lifespan wiring (MongoDB, RabbitMQ, outbox relay,
consumers), correlation ids, request metrics and logs, problem+json, health and readiness.

A service's ``main.py`` calls ``create_service_app`` with its settings, routers, indexes and
consumers; ``uvicorn <service>.main:create_app --factory`` runs it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from aio_pika.abc import AbstractRobustConnection
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import broker, mongo, openapi, tracing
from .clock import Clock, SystemClock
from .consumer import PROCESSED_INDEXES, EventConsumer, Subscription
from .errors import Problem, install_problem_handlers, problem_response
from .idempotency import IDEMPOTENCY_INDEXES
from .identity import CurrentPerson
from .mongo import Document, Indexes, UnitOfWork
from .observability import CORRELATION_HEADER, HTTP_LATENCY, HTTP_REQUESTS, configure_logging, correlation_id
from .outbox import OUTBOX_INDEXES, OutboxRelay
from .problems import with_common_problems
from .readings import COMMON_READINGS, Reading, Readings
from .settings import ServiceSettings
from .worker import BackgroundWorker

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a running service holds: connections, the unit of work, relay and consumers."""

    settings: ServiceSettings
    clock: Clock
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    amqp: AbstractRobustConnection
    publisher: broker.Publisher
    relay: OutboxRelay
    uow: UnitOfWork
    consumers: list[EventConsumer] = field(default_factory=list)
    #: The service's own background workers (``create_service_app``'s ``workers``), running.
    workers: list[BackgroundWorker] = field(default_factory=list)
    #: Service-specific objects (stores, mailers...) set by the service's ``on_startup``.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsumerSpec:
    """A queue this service consumes: its purpose (part of the queue name) and subscriptions."""

    purpose: str
    subscriptions: Callable[[Runtime], Sequence[Subscription]]
    #: Handle the messages in hand together, one transaction per batch (projections; see shared.consumer).
    batch: bool = False
    #: Messages held at once on this queue; ``CONSUMER_PREFETCH`` when not given.
    prefetch: int | None = None
    #: False: start with no subscription bound; the service binds them with ``EventConsumer.bind_exactly``.
    bind: bool = True


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def _retrying(what: str, connect: Callable[[], Awaitable[Any]], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    delay = 0.25
    while True:
        try:
            return await connect()
        except Exception as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not connect to {what} within {timeout_s:.0f}s: {exc}") from exc
            log.warning("waiting for %s: %s", what, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    version: str = "1.0.0",
    routers: Sequence[APIRouter] = (),
    indexes: Sequence[Indexes] = (),
    consumers: Sequence[ConsumerSpec] = (),
    #: The service's exceptions as problems, on top of ``shared.problems.COMMON_PROBLEMS`` (the service's entry wins).
    domain_errors: dict[type[Exception], Callable[[Exception], Problem]] | None = None,
    on_startup: Callable[[Runtime], Awaitable[None]] | None = None,
    on_shutdown: Callable[[Runtime], Awaitable[None]] | None = None,
    #: The service's own background workers, each built once ``on_startup`` has run, started, and
    #: stopped at shutdown once the consumers have stopped (before ``on_shutdown``).
    workers: Sequence[Callable[[Runtime], BackgroundWorker]] = (),
    #: The service's own gauges, read every ``METRICS_INTERVAL_S`` after the common ones (``shared.readings``).
    readings: Sequence[Reading] = (),
    clock: Clock | None = None,
    startup_timeout_s: float = 60.0,
    behind_gateway: bool = True,
) -> FastAPI:
    clock = clock or SystemClock()
    configure_logging(settings.service_name, settings.log_level)
    tracing.configure(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = mongo.connect(settings.mongodb_url)
        await _retrying("MongoDB", lambda: mongo.ping(client), startup_timeout_s)
        db = client[settings.database_name]
        await mongo.create_indexes(db, [OUTBOX_INDEXES, PROCESSED_INDEXES, IDEMPOTENCY_INDEXES, *indexes])
        amqp = await _retrying(
            "RabbitMQ", lambda: broker.connect(settings.amqp_url, name=settings.service_name), startup_timeout_s
        )
        publisher = broker.Publisher(amqp, settings.exchange_name, settings.platform_exchange_name)
        await publisher.open()
        relay = OutboxRelay(
            db,
            publisher,
            clock,
            service=settings.service_name,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
            claim_s=settings.outbox_claim_s,
        )
        uow = UnitOfWork(client, db, source=settings.source, clock=clock, relay=relay)
        runtime = Runtime(settings, clock, client, db, amqp, publisher, relay, uow)
        app.state.runtime = runtime
        if on_startup is not None:
            await on_startup(runtime)
        for build in workers:
            runtime.workers.append(build(runtime))
            runtime.workers[-1].start()
        if settings.outbox_relay_enabled:
            relay.start()
        for spec in consumers:
            consumer = EventConsumer(
                connection=amqp,
                uow=uow,
                service=settings.service_name,
                purpose=spec.purpose,
                queue=settings.queue_name(spec.purpose),
                exchange=settings.exchange_name,
                platform_exchange=settings.platform_exchange_name,
                subscriptions=spec.subscriptions(runtime),
                prefetch=spec.prefetch or (settings.consumer_batch_prefetch if spec.batch else settings.consumer_prefetch),
                max_attempts=settings.consumer_max_attempts,
                retry_delays_ms=settings.consumer_retry_delays_ms,
                delivery_limit=settings.consumer_delivery_limit,
                batch=spec.batch,
                bind=spec.bind,
            )
            await consumer.start()
            runtime.consumers.append(consumer)
        gauges = Readings(runtime, [*COMMON_READINGS, *readings], interval_s=settings.metrics_interval_s)
        gauges.start()
        log.info("ready", extra={"database": settings.database_name, "exchange": settings.exchange_name})
        try:
            yield
        finally:
            log.info("shutting down")
            await gauges.stop()
            await asyncio.gather(*(c.stop(settings.shutdown_grace_s) for c in runtime.consumers))
            for worker in runtime.workers:
                await worker.stop()
            if on_shutdown is not None:
                await on_shutdown(runtime)
            await relay.stop()
            await publisher.close()
            await amqp.close()
            await client.close()
            tracing.shutdown()
            log.info("stopped")

    # No redirect for a trailing slash: behind the gateway its Location would name the service's own
    # address. Such a path is a 404 problem that says to drop the slash (``_not_found``).
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan, redirect_slashes=False)
    app.state.settings = settings
    install_problem_handlers(app, with_common_problems(domain_errors))
    install_http_hygiene(app)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name, access_log=settings.access_log)
    # Inside the request context (so a 408 carries the correlation id), outside everything else.
    app.user_middleware.append(Middleware(BodyReadTimeoutMiddleware, timeout_s=settings.body_read_timeout_s))
    app.include_router(operations_router())
    if behind_gateway:
        app.include_router(identity_router())
    for router in routers:
        app.include_router(router)
    openapi.install(app)
    return app


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: the database and the broker answer", response_model=None)
    async def readyz(request: Request) -> JSONResponse | dict[str, Any]:
        runtime: Runtime | None = getattr(request.app.state, "runtime", None)
        checks: dict[str, str] = {}
        if runtime is None:
            checks["startup"] = "not finished"
        else:
            try:
                await asyncio.wait_for(mongo.ping(runtime.mongo), timeout=2)
                checks["mongodb"] = "ok"
            except Exception as exc:
                checks["mongodb"] = f"unavailable: {exc}"
            checks["rabbitmq"] = "ok" if not runtime.amqp.is_closed else "unavailable"
        if all(v == "ok" for v in checks.values()):
            return {"status": "ready", "checks": checks}
        return problem_response(
            request, Problem(503, "not-ready", "Not ready", "A dependency is unavailable.", checks=checks)
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class CallerOut(BaseModel):
    person_id: str
    name: str | None
    roles: list[str]
    teams: list[str]


def identity_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["identity"])

    @router.get("/me", response_model=CallerOut, summary="The caller as this service sees them (from the gateway's signed identity)")
    async def me(caller: CurrentPerson) -> CallerOut:
        return CallerOut(person_id=caller.person_id, name=caller.name, roles=sorted(caller.roles), teams=sorted(caller.teams))

    return router


class BodyReadTimeout(StarletteHTTPException):
    """The client declared a body and did not send it (or stalled) for ``timeout_s``.

    An HTTPException so that FastAPI's body reading lets it through as it is; answered as 408
    problem+json with ``Connection: close`` (the rest of the body may still arrive, and must not be
    read as the next request).
    """

    def __init__(self, timeout_s: float) -> None:
        super().__init__(408, f"The request body did not arrive within {timeout_s:g} s.", headers={"Connection": "close"})

    def problem(self) -> Problem:
        return Problem(408, "request-timeout", "Request timeout", str(self.detail), headers={"Connection": "close"})


class BodyReadTimeoutMiddleware:
    """Bounds the wait for each part of a request body to ``timeout_s`` (pure ASGI), so a client
    that declares a body and sends none (or stops half-way) cannot hold a request open.

    Only the body is timed: once it has been read whole, later ``receive`` calls (a stream
    waiting for the client to go away) wait as long as they need.
    """

    def __init__(self, app: ASGIApp, *, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_read = False
        started = False

        async def timed_receive() -> Message:
            nonlocal body_read
            if body_read:
                return await receive()
            try:
                async with asyncio.timeout(self.timeout_s):
                    message = await receive()
            except TimeoutError:
                raise BodyReadTimeout(self.timeout_s) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_read = True
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except BodyReadTimeout as exc:
            if started:
                raise
            await problem_response(Request(scope), exc.problem())(scope, receive, send)


#: The order methods are listed in an ``Allow`` header.
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(router: Router, scope: Scope) -> list[str]:
    """Every method some route of ``router`` takes at ``scope``'s path (for ``Allow``): each is
    tried, as included routers hide their routes' methods."""
    return [
        method for method in _METHOD_ORDER
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in router.routes)
    ]


def install_http_hygiene(app: FastAPI) -> None:
    """A 405 lists every method the path takes in ``Allow`` (Starlette names only the first
    route's); a path with a trailing slash is a 404 problem saying to drop it (no redirect);
    a body that does not arrive in time is a 408 problem."""
    router = app.router
    http_handler = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            allow = allowed_methods(router, request.scope)
            if allow:
                exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allow)}
        response = http_handler(request, exc)
        return await response if inspect.isawaitable(response) else response

    async def body_timeout(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BodyReadTimeout)
        return problem_response(request, exc.problem())

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            without = {**scope, "path": path.rstrip("/") or "/"}
            if any(route.matches(without)[0] is not Match.NONE for route in router.routes):
                raise Problem(404, "not-found", "Not found", "There is nothing at this path; drop the trailing slash.")
        await router.not_found(scope, receive, send)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(BodyReadTimeout, body_timeout)
    router.default = not_found


class RequestContextMiddleware:
    """Correlation id in and out, request metrics, one JSON log line a request (pure ASGI)."""

    _quiet = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, app: ASGIApp, *, service: str, access_log: bool = True) -> None:
        self.app = app
        self.service = service
        self.access_log = access_log
        self.log = logging.getLogger(f"{service}.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = None
        for name, value in scope["headers"]:
            if name == b"x-correlation-id":
                cid = value.decode("latin-1")[:128]
                break
        cid = cid or uuid.uuid4().hex
        token = correlation_id.set(cid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-correlation-id", cid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, path, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, path).observe(elapsed)
            if self.access_log and scope["path"] not in self._quiet:
                self.log.info(
                    "%s %s %s", method, scope["path"], status,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 2), "route": path},
                )
            correlation_id.reset(token)


__all__ = ["BodyReadTimeout", "BodyReadTimeoutMiddleware", "ConsumerSpec", "Runtime", "RuntimeDep", "create_service_app", "CORRELATION_HEADER"]

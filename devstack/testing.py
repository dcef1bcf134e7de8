"""Pytest fixtures for every test suite in the repository: real MongoDB and RabbitMQ, namespaced
per test so runs never collide and leave nothing behind, and the whole system as processes.

Where the infrastructure comes from, in order: ``MONGODB_URL`` / ``AMQP_URL`` if set; else
testcontainers' ``mongo`` and ``rabbitmq`` containers where a Docker engine answers; else an
embedded SecantusDB process and the local RabbitMQ on 127.0.0.1:5672.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aio_pika
import pytest
from pymongo import MongoClient

from .infra import LOCAL_AMQP_URL, ensure_rabbitmq, free_port, start_embedded_mongo
from .stack import DEFAULT_PORTS, Stack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Infrastructure:
    mongodb_url: str
    amqp_url: str
    origin: str


def _docker_engine_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def infrastructure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    mongodb_url = os.environ.get("MONGODB_URL")
    amqp_url = os.environ.get("AMQP_URL")
    origin = []
    cleanups: list[Any] = []
    if (not mongodb_url or not amqp_url) and os.environ.get("QA_TESTCONTAINERS", "auto") != "off" and _docker_engine_answers():
        if not mongodb_url:
            from testcontainers.mongodb import MongoDbContainer

            mongo_container = MongoDbContainer("mongo:8.0").with_command("--replSet rs0 --bind_ip_all")
            mongo_container.start()
            cleanups.append(mongo_container.stop)
            host, port = mongo_container.get_container_host_ip(), mongo_container.get_exposed_port(27017)
            client: MongoClient[dict[str, Any]] = MongoClient(f"mongodb://{host}:{port}/?directConnection=true")
            with client:
                client.admin.command("replSetInitiate", {"_id": "rs0", "members": [{"_id": 0, "host": "localhost:27017"}]})
            mongodb_url = f"mongodb://{host}:{port}/?directConnection=true"
            origin.append("mongo container")
        if not amqp_url:
            from testcontainers.rabbitmq import RabbitMqContainer

            rabbit_container = RabbitMqContainer("rabbitmq:3.13-management")
            rabbit_container.start()
            cleanups.append(rabbit_container.stop)
            amqp_url = f"amqp://guest:guest@{rabbit_container.get_container_host_ip()}:{rabbit_container.get_exposed_port(5672)}/"
            origin.append("rabbitmq container")
    if not mongodb_url:
        data = tmp_path_factory.mktemp("secantus")
        mongo = start_embedded_mongo(data / "data", log_path=data / "secantus.log", sync_on_commit=False)
        cleanups.append(mongo.stop)
        mongodb_url = mongo.url
        origin.append("SecantusDB")
    if not amqp_url:
        amqp_url = LOCAL_AMQP_URL
        ensure_rabbitmq(amqp_url)
        origin.append("local RabbitMQ")
    # The services' broker users and integrators' logins are made through the management API.
    from .broker import ensure_management, management_url_for

    ensure_management(management_url_for(amqp_url))
    try:
        yield Infrastructure(mongodb_url, amqp_url, ", ".join(origin) or "environment")
    finally:
        for cleanup in reversed(cleanups):
            cleanup()


_RUN = f"t{uuid.uuid4().hex[:8]}"
_COUNTER = itertools.count(1)


def new_namespace() -> str:
    """A namespace no other test or run uses: databases ``<ns>_*``, exchange ``<ns>.events``."""
    return f"{_RUN}_{next(_COUNTER)}"


def remove_namespace(infra: Infrastructure, namespace: str) -> None:
    """Drop the namespace's databases, queues and exchange."""
    queues: set[str] = {integrator_view_queue(namespace)}
    exchanges = {f"{namespace}.events", f"{namespace}.platform"}
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url, serverSelectionTimeoutMS=5000)
    with client:
        for name in client.list_database_names():
            if name.startswith(f"{namespace}_"):
                for doc in client[name]["amqp_queues"].find():
                    queues.update([doc["_id"], doc["dead"], *doc.get("retries", [])])
                    exchanges.add(doc.get("requeue") or f"{doc['_id']}.requeue")
                client.drop_database(name)

    async def delete() -> None:
        connection = await aio_pika.connect(infra.amqp_url)
        async with connection:
            for queue in sorted(queues):
                channel = await connection.channel()
                try:
                    await channel.queue_delete(queue)
                except Exception:
                    pass
            for exchange in sorted(exchanges):
                channel = await connection.channel()
                try:
                    await channel.exchange_delete(exchange)
                except Exception:
                    pass

    asyncio.run(delete())
    _remove_broker_users(infra, namespace)


def _remove_broker_users(infra: Infrastructure, namespace: str) -> None:
    """Delete the namespace's broker users (services' and integrators'), where the management API answers."""
    from .broker import management_url_for, remove_users_async
    from .infra import port_open

    management = urlparse(management_url_for(infra.amqp_url))
    if not port_open(management.hostname or "127.0.0.1", management.port or 15672):
        return
    asyncio.run(remove_users_async(infra.amqp_url, namespace))


@pytest.fixture
def namespace(infrastructure: Infrastructure) -> Iterator[str]:
    ns = new_namespace()
    yield ns
    remove_namespace(infrastructure, ns)


@pytest.fixture
def service_env(infrastructure: Infrastructure, namespace: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for a service app built inside the test process (integration tests)."""
    env = {
        "MONGODB_URL": infrastructure.mongodb_url,
        "AMQP_URL": infrastructure.amqp_url,
        "QA_NAMESPACE": namespace,
        "IDENTITY_SIGNING_KEY": "test-signing-key-" + namespace,
        "CONSUMER_RETRY_DELAYS_MS": "[200, 400]",
        "OUTBOX_POLL_INTERVAL_S": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="session")
def system(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """All five services as real processes, started once per test run, with the demo directory."""
    from . import demo
    from .broker import management_url_for, provision

    namespace = new_namespace()
    log_dir = Path(os.environ.get("QA_TEST_LOG_DIR") or tmp_path_factory.mktemp("service-logs"))
    # Each service logs in as its own least-privilege broker user, as in production.
    amqp_urls = provision(infrastructure.amqp_url, namespace)
    stack = Stack(
        mongodb_url=infrastructure.mongodb_url,
        amqp_url=infrastructure.amqp_url,
        namespace=namespace,
        signing_key=secrets.token_urlsafe(32),
        log_dir=log_dir,
        ports={name: free_port() for name in DEFAULT_PORTS},
        amqp_urls=amqp_urls,
        management_url=management_url_for(infrastructure.amqp_url),
        extra_env={
            "*": {"CONSUMER_RETRY_DELAYS_MS": "[300, 600]", "CONSUMER_MAX_ATTEMPTS": "3", "OUTBOX_POLL_INTERVAL_S": "0.3"},
            # Webhook retries and take-over in seconds rather than hours, so tests can wait for them.
            "gateway": {"WEBHOOK_RETRY_DELAYS_S": "[0.5, 1, 1, 2, 2, 2, 2]", "WEBHOOK_POLL_INTERVAL_S": "0.2",
                        "WEBHOOK_TIMEOUT_S": "2", "WEBHOOK_CLAIM_S": "4"},
        },
        mail_dir=log_dir / "mail",
        smtp_port=free_port(),
    )
    try:
        # What an integrator granted every grantable type would see, from the first event on:
        # tests/e2e/test_what_an_integrator_saw.py reads it after the other flows.
        asyncio.run(_declare_integrator_view(infrastructure.amqp_url, namespace))
        stack.start()
        demo.load(stack.url("gateway"))
        yield stack
    finally:
        stack.stop()
        remove_namespace(infrastructure, namespace)


def integrator_view_queue(namespace: str) -> str:
    return f"{namespace}.integrations.everything"


async def _declare_integrator_view(amqp_url: str, namespace: str) -> None:
    from shared.broker import declare_events_exchange

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_events_exchange(channel, f"{namespace}.events")
        queue = await channel.declare_queue(integrator_view_queue(namespace), durable=True)
        await queue.bind(exchange, routing_key="#")


async def eventually(predicate: Any, *, timeout: float = 10.0, interval: float = 0.05, message: str = "condition") -> Any:
    """Await ``predicate()`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{message} not reached within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


# --- Integration tests of one service: the app in-process, real MongoDB and RabbitMQ -------------


class ServiceClient:
    """A service app running in the test process (lifespan and all), called over ASGI.

    ``as_person`` gives the headers the gateway would send: a signed identity.
    """

    def __init__(self, app: Any, http: Any) -> None:
        self.app = app
        self.http = http

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    @property
    def db(self) -> Any:
        return self.runtime.db

    def as_person(self, person_id: str, *, roles: tuple[str, ...] | list[str] = (), teams: tuple[str, ...] | list[str] = (), name: str | None = None) -> dict[str, str]:
        from shared.identity import IDENTITY_HEADER, Identity, sign_identity

        settings = self.app.state.settings
        identity = Identity(person_id=person_id, name=name, roles=frozenset(roles), teams=frozenset(teams))
        return {IDENTITY_HEADER: sign_identity(identity, settings.identity_signing_key.get_secret_value().encode())}


class running_service:  # noqa: N801 - used as ``async with running_service(create_app) as svc``
    """``async with running_service(create_app) as svc``: needs the ``service_env`` fixture.

    To inject something (a clock), pass ``lambda: create_app(clock=clock)``.
    """

    def __init__(self, create_app: Any) -> None:
        self.create_app = create_app
        self._lifespan: Any = None
        self._http: Any = None

    async def __aenter__(self) -> ServiceClient:
        import httpx

        app = self.create_app()
        self._lifespan = app.router.lifespan_context(app)
        await self._lifespan.__aenter__()
        self._http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")
        return ServiceClient(app, self._http)

    async def __aexit__(self, *exc: Any) -> None:
        await self._http.aclose()
        await self._lifespan.__aexit__(*exc)


class EventCapture:
    """Collects every event published in a namespace with the given routing keys (``#`` for all),
    through an exclusive queue bound on both exchanges, the integrator-visible ``<ns>.events`` and
    the platform-internal ``<ns>.platform``. ``integrator_view=True`` binds ``<ns>.events`` only:
    what an integrator's ``#`` queue would see."""

    def __init__(self, amqp_url: str, namespace: str, routing_keys: tuple[str, ...] = ("#",), *, integrator_view: bool = False) -> None:
        self.amqp_url = amqp_url
        self.exchange = f"{namespace}.events"
        self.exchanges = (self.exchange,) if integrator_view else (self.exchange, f"{namespace}.platform")
        self.routing_keys = routing_keys
        self.events: list[Any] = []
        self.messages: list[Any] = []
        self._connection: Any = None

    async def __aenter__(self) -> EventCapture:
        from shared.broker import declare_events_exchange
        from shared.events import parse_envelope

        self._connection = await aio_pika.connect(self.amqp_url)
        channel = await self._connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for name in self.exchanges:
            exchange = await declare_events_exchange(channel, name)
            for key in self.routing_keys:
                await queue.bind(exchange, routing_key=key)

        async def on_message(message: Any) -> None:
            async with message.process():
                self.messages.append(message)
                self.events.append(parse_envelope(message.body))

        await queue.consume(on_message)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._connection.close()

    def of_type(self, event_type: str) -> list[Any]:
        return [e for e in self.events if e.type == event_type]

    async def wait_for(self, event_type: str, count: int = 1, *, timeout: float = 10.0) -> list[Any]:
        """The events of ``event_type`` once at least ``count`` arrived (fails the test after timeout)."""

        async def enough() -> list[Any] | None:
            found = self.of_type(event_type)
            return found if len(found) >= count else None

        return list(await eventually(enough, timeout=timeout, message=f"{count} × {event_type}"))

    async def settle(self, seconds: float = 0.5) -> None:
        """Wait a little so that any extra (duplicate) event would have arrived."""
        await asyncio.sleep(seconds)


@pytest.fixture
async def capture(infrastructure: Infrastructure, namespace: str) -> Any:
    """Every event published in this test's namespace."""
    async with EventCapture(infrastructure.amqp_url, namespace) as events:
        yield events

"""Pytest fixtures for every test suite in the repository: real MongoDB and RabbitMQ, namespaced
per test so runs never collide and leave nothing behind, and the whole system as processes.

Where the infrastructure comes from, in order: ``MONGODB_URL`` / ``AMQP_URL`` if set; else
testcontainers' ``mongo`` and ``rabbitmq`` containers where a Docker engine answers; else an
embedded SecantusDB process and the local RabbitMQ on 127.0.0.1:5672.

For tests that run a service in-process: ``running_service``, events published as their
producer would (``publish``, ``republish``), waiting on a condition (``eventually``), and a real
SMTP server for notify (the ``smtp`` fixture).
"""

from __future__ import annotations

import asyncio
import email.policy
import itertools
import logging
import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import aio_pika
import httpx
import pytest
from pydantic import BaseModel
from pymongo import MongoClient

from .infra import LOCAL_AMQP_URL, abort_open_transactions, ensure_rabbitmq, free_port, start_embedded_mongo
from .stack import DEFAULT_PORTS, INTEGRATION_CLIENT, Stack

if TYPE_CHECKING:
    from shared.events import Envelope, EventType

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


#: The tests that run the services as processes: those sharing the run's one system (``system``),
#: some of which read what earlier ones left there, and those starting systems of their own.
SYSTEM_TESTS = ("tests/e2e/", "tests/fuzz/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``./dev test`` spreads the suite over two processes (``pytest -n 2 --dist loadgroup``): the
    system tests are one group, which one process runs in their order (and first, being the largest),
    while the other runs everything else. Kept together, no two systems compete for the 2 cores."""
    for item in items:
        if item.path.relative_to(config.rootpath).as_posix().startswith(SYSTEM_TESTS):
            item.add_marker(pytest.mark.xdist_group("system"))


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
        # Tests drive time through the API (POST /v1/scheduler/runs); off by default elsewhere.
        "SCHEDULER_AS_OF_ENABLED": "true",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@contextmanager
def running_system(infrastructure: Infrastructure, log_dir: Path, *, env: dict[str, str] | None = None, integrator_view: bool = False) -> Iterator[Stack]:
    """All five services as real processes in a namespace of their own, with the demo directory;
    ``env`` is added to every service's environment."""
    from . import demo
    from .broker import management_url_for, provision

    namespace = new_namespace()
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
            "*": {"CONSUMER_RETRY_DELAYS_MS": "[300, 600]", "CONSUMER_MAX_ATTEMPTS": "3", "OUTBOX_POLL_INTERVAL_S": "0.3",
                  "SCHEDULER_AS_OF_ENABLED": "true", **(env or {})},
            # Webhook retries and take-over in seconds rather than hours, so tests can wait for them.
            "gateway": {"WEBHOOK_RETRY_DELAYS_S": "[0.5, 1, 1, 2, 2, 2, 2]", "WEBHOOK_POLL_INTERVAL_S": "0.2",
                        "WEBHOOK_TIMEOUT_S": "2", "WEBHOOK_CLAIM_S": "4",
                        # tests/fuzz runs Schemathesis as the demo administrator, at the fuzzer's pace.
                        "RATE_LIMIT_EXEMPT": '["P-ADMIN"]'},
        },
        mail_dir=log_dir / "mail",
        smtp_port=free_port(),
    )
    try:
        if integrator_view:
            # What an integrator granted every grantable type would see, from the first event on:
            # tests/e2e/test_what_an_integrator_saw.py reads it after the other flows.
            asyncio.run(_declare_integrator_view(infrastructure.amqp_url, namespace))
        stack.start()
        demo.load(stack.url("gateway"))
        yield stack
    finally:
        stack.stop()
        if stack.any_killed:  # a process stopped by SIGKILL may have left transactions open
            abort_open_transactions(infrastructure.mongodb_url)
        remove_namespace(infrastructure, namespace)


@pytest.fixture(scope="session")
def system(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """All five services as real processes, started once per test run, with the demo directory."""
    log_dir = Path(os.environ.get("QA_TEST_LOG_DIR") or tmp_path_factory.mktemp("service-logs"))
    with running_system(infrastructure, log_dir, integrator_view=True) as stack:
        yield stack


class Gateway:
    """A client of a running system's gateway, with tokens for the demo people."""

    def __init__(self, stack: Stack, client: httpx.AsyncClient) -> None:
        self.stack = stack
        self.http = client

    async def token(self, person_id: str) -> str:
        resp = await self.http.post("/auth/dev/token", json={"person_id": person_id})
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    async def as_person(self, person_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(person_id)}"}

    async def as_integration(self) -> dict[str, str]:
        return await self.as_person(INTEGRATION_CLIENT)


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


def problem(response: Any, status: int) -> dict[str, Any]:
    """Assert ``response`` is a problem+json answer of ``status`` (with its status, title and type
    in the body as RFC 9457 has them) and return the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["type"], body
    return body


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


_WRITE_COMMANDS = frozenset({"insert", "update", "delete", "findAndModify", "bulkWrite"})


class CommandLog:
    """The database commands every client of this process sends while ``recording()``: each as
    (command name, collections, whether it ran in a transaction), e.g. ``("find", ("exemplars",),
    True)``; a replace, or a bulk of them, is an ``update``; a client-level ``bulkWrite`` names
    every collection it writes to (``Transaction.insert_at_end``). ``CommandLog.get()`` is the process's
    one log: PyMongo keeps a registered listener for good and tells it of clients made after, so
    get it before the service under test starts. A service's pollers send commands too, outside
    transactions: ``to`` leaves those out unless asked."""

    _one: CommandLog | None = None

    def __init__(self) -> None:
        from pymongo import monitoring

        log = self

        class _Listener(monitoring.CommandListener):
            def started(self, event: monitoring.CommandStartedEvent) -> None:
                if log._recording:
                    target = event.command.get(event.command_name)
                    targets = (target,) if isinstance(target, str) else ()
                    if event.command_name == "bulkWrite":  # the client-level one: its collections are its namespaces
                        targets = tuple(ns["ns"].split(".", 1)[1] for ns in event.command.get("nsInfo", ()))
                    in_transaction = event.command.get("autocommit") is False
                    log.commands.append((event.command_name, targets, in_transaction))

            def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
                pass

            def failed(self, event: monitoring.CommandFailedEvent) -> None:
                pass

        self._recording = False
        self.commands: list[tuple[str, tuple[str, ...], bool]] = []
        monitoring.register(_Listener())

    @classmethod
    def get(cls) -> CommandLog:
        if cls._one is None:
            cls._one = cls()
        return cls._one

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, tuple[str, ...], bool]]]:
        """The commands sent inside the block (a fresh list each time)."""
        self.commands = []
        self._recording = True
        try:
            yield self.commands
        finally:
            self._recording = False

    def to(self, commands: list[tuple[str, tuple[str, ...], bool]], *collections: str, outside_transactions: bool = False) -> list[str]:
        """The names of ``commands`` sent to any of ``collections`` in a transaction (and outside
        one too with ``outside_transactions``), in order."""
        wanted = set(collections)
        return [name for name, targets, in_transaction in commands if wanted.intersection(targets) and (in_transaction or outside_transactions)]

    def writes(self, commands: list[tuple[str, tuple[str, ...], bool]]) -> list[tuple[str, tuple[str, ...]]]:
        """The write commands sent in a transaction, in order, each with the collections it wrote to."""
        return [(name, targets) for name, targets, in_transaction in commands if in_transaction and name in _WRITE_COMMANDS]

    def in_transactions(self, commands: list[tuple[str, tuple[str, ...], bool]]) -> list[str]:
        """The names of ``commands`` sent in a transaction, in order (``commitTransaction`` too)."""
        return [name for name, _, in_transaction in commands if in_transaction]


class ConsumerOutcomes:
    """How many messages an in-process consumer took from its queue since this object was made,
    by outcome (``handled``, ``duplicate``, ``retried``, ``dead_lettered``), read from the
    service's ``qa_messages_total`` counter, which moves only once a message was settled with the
    broker. The positive barrier for "the duplicate was delivered and taken": wait for the
    ``duplicate`` and then assert what it must not have done.
    """

    def __init__(self, service: str, queue: str) -> None:
        self.service = service
        self.queue = queue
        self._baseline = {outcome: self._total(outcome) for outcome in ("handled", "duplicate", "retried", "dead_lettered")}

    def _total(self, outcome: str) -> float:
        from prometheus_client import REGISTRY

        labels = {"service": self.service, "queue": self.queue, "outcome": outcome}
        return REGISTRY.get_sample_value("qa_messages_total", labels) or 0.0

    def since(self, outcome: str) -> int:
        return int(self._total(outcome) - self._baseline.get(outcome, 0.0))

    async def wait_for(self, outcome: str, count: int = 1, *, timeout: float = 10.0) -> None:
        """Returns once ``count`` more messages were settled with ``outcome`` (fails the test after timeout)."""

        async def enough() -> bool:
            return self.since(outcome) >= count

        await eventually(enough, timeout=timeout, message=f"{count} message(s) {outcome} by {self.service}'s {self.queue} consumer")

    def in_flight(self) -> int:
        from prometheus_client import REGISTRY

        return int(REGISTRY.get_sample_value("qa_messages_in_flight", {"service": self.service, "queue": self.queue}) or 0)

    async def idle(self, *, timeout: float = 10.0) -> None:
        """Returns once the consumer holds no message unsettled. Deliveries reach the consumer in
        queue order, so after a later message was settled this means every earlier one was too."""

        async def idle() -> bool:
            return self.in_flight() == 0

        await eventually(idle, timeout=timeout, message=f"{self.service}'s {self.queue} consumer idle")


_SENTINEL_HEADER = "x-qa-test-sentinel"


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
        self._channel: Any = None
        self._queue: Any = None
        self._sentinels: set[str] = set()

    async def __aenter__(self) -> EventCapture:
        from shared.broker import declare_events_exchange
        from shared.events import parse_envelope

        self._connection = await aio_pika.connect(self.amqp_url)
        self._channel = channel = await self._connection.channel()
        self._queue = queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for name in self.exchanges:
            exchange = await declare_events_exchange(channel, name)
            for key in self.routing_keys:
                await queue.bind(exchange, routing_key=key)

        async def on_message(message: Any) -> None:
            async with message.process():
                sentinel = (message.headers or {}).get(_SENTINEL_HEADER)
                if sentinel is not None:
                    self._sentinels.add(str(sentinel))
                    return
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

    async def flushed(self, *outboxes: Any, timeout: float = 10.0) -> None:
        """Returns once every event written to the given services' outboxes (their databases:
        ``svc.db``, or the database of a service running as a process) was published and reached
        this capture; then ``events`` holds them all, and an event that is not there was never
        written. The positive barrier to take before asserting that something was published once,
        or not at all.

        Each outbox first holds nothing pending (the relay marks an event sent only once the
        broker confirmed it, that is, once it was put in this capture's queue); then a sentinel
        put in the queue behind them arrives (a queue keeps its order).
        """
        from shared.documents import OUTBOX
        from shared.outbox import PENDING

        for db in outboxes:

            async def drained(db: Any = db) -> bool:
                return bool(await db[OUTBOX].count_documents({"status": PENDING}) == 0)

            await eventually(drained, timeout=timeout, message=f"the outbox of {db.name} drained")
        token = uuid.uuid4().hex
        # Straight to this capture's queue (the default exchange), so that no other queue sees it.
        await self._channel.default_exchange.publish(aio_pika.Message(b"", headers={_SENTINEL_HEADER: token}), routing_key=self._queue.name)

        async def arrived() -> bool:
            return token in self._sentinels

        await eventually(arrived, timeout=timeout, message="the capture's sentinel")

    async def settle(self, seconds: float = 0.5) -> None:
        """Wait a little so that any extra (duplicate) event would have arrived. A fixed sleep:
        prefer ``flushed``, which waits until the events written have all arrived."""
        await asyncio.sleep(seconds)


@pytest.fixture
async def capture(infrastructure: Infrastructure, namespace: str) -> Any:
    """Every event published in this test's namespace."""
    async with EventCapture(infrastructure.amqp_url, namespace) as events:
        yield events


# --- Events as their producers publish them, and a real SMTP server for notify --------------------


async def publish(svc: ServiceClient, event_type: EventType, data: BaseModel | dict[str, Any], *, source: str | None = None,
                  event_id: str | None = None, time: datetime | None = None) -> Envelope:
    """Publish an event as its producer would (an envelope on the namespace's exchange), through
    ``svc``'s publisher. ``data`` is a model of ``event_type`` (the producer's own, in a contract
    test) or a dict validated by it."""
    model = data if isinstance(data, BaseModel) else event_type.data_model.model_validate(data)
    envelope = event_type.envelope(model, source=source or event_type.source, subject=None, time=time or datetime.now(UTC), event_id=event_id)
    await svc.runtime.publisher.publish(envelope.to_json(), routing_key=event_type.routing_key, message_id=envelope.id,
                                        event_type=envelope.type, internal=event_type.internal)
    return envelope


async def republish(svc: ServiceClient, envelope: Envelope, *, internal: bool = False) -> None:
    """The same envelope again: what a redelivery by the broker looks like to the consumer."""
    await svc.runtime.publisher.publish(envelope.to_json(), routing_key=envelope.type, message_id=envelope.id, event_type=envelope.type,
                                        internal=internal)


async def add_people(svc: ServiceClient, *people: dict[str, Any]) -> None:
    """Staff as the directory announces them to notify; returns once notify has projected every one."""
    from notify.directory import PERSON_CHANGED, RECIPIENTS, PersonChanged

    for i, person in enumerate(people):
        fields = {"version": 1, "roles": ["social_worker"], "email": f"{person['person_id'].lower()}@council.example",
                  "name": f"Person {i}", **person}
        await publish(svc, PERSON_CHANGED, PersonChanged(**fields), source="/qa/gateway")

    async def all_there() -> bool:
        ids = [p["person_id"] for p in people]
        return bool(await svc.db[RECIPIENTS].count_documents({"_id": {"$in": ids}}) == len(ids))

    await eventually(all_there, message="people projected")


class MailCatcher:
    """An SMTP server's handler: keeps every accepted message; can refuse the first N with 451."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.refuse_next = 0
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 Mailbox busy, try again later"
            self.messages.append(BytesParser(policy=email.policy.default).parsebytes(envelope.content))
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, count: int, *, timeout: float = 10.0) -> list[EmailMessage]:
        async def enough() -> list[EmailMessage] | None:
            return list(self.messages) if len(self.messages) >= count else None

        return list(await eventually(enough, timeout=timeout, message=f"{count} email(s) received"))


def email_text(message: EmailMessage, subtype: str = "plain") -> str:
    """The text of ``message``'s ``plain`` (or ``html``) body; fails the test if it has none."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} body in {message['Subject']!r}"
    return str(part.get_content())


class SmtpServer:
    """A real SMTP server on loopback (aiosmtpd) whose received mail the test reads back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.catcher = MailCatcher()
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.catcher, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A running SMTP server on loopback, and notify's environment pointed at it."""
    server = SmtpServer(free_port())
    server.start()
    for key, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(server.port),
        "MAIL_FROM": "QA Platform <qa@council.example>",
        "MAIL_POLL_INTERVAL_S": "0.1",
        "MAIL_RETRY_BASE_S": "0.2",
        "MAIL_RETRY_MAX_S": "1",
        "FRONTEND_BASE_URL": "https://qa.council.example",
        # The scheduler runs where a test asks for it (with its clock), not on its own.
        "REMINDER_SCHEDULER_ENABLED": "false",
    }.items():
        monkeypatch.setenv(key, value)
    try:
        yield server
    finally:
        server.stop()


async def mail_outbox_drained(svc: ServiceClient, *, timeout: float = 10.0) -> None:
    """Returns once notify's mail outbox holds nothing still to send: every mail it queued was
    sent or given up. After this, a mail that was going to go has gone."""
    from notify.mail.outbox import EMAILS, PENDING

    async def drained() -> bool:
        return bool(await svc.db[EMAILS].count_documents({"status": PENDING}) == 0)

    await eventually(drained, timeout=timeout, message="notify's mail outbox drained")

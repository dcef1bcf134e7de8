"""Who may do what on the broker: least-privilege RabbitMQ users for the services and for
integrators, and the management HTTP API that creates them.

Every party gets its own broker user:

- **a service** (``<ns>-<service>``) may configure, write and read only its own queues and
  exchanges (``<ns>.<service>.*``: its queues, their retry and dead-letter queues and their
  ``.requeue`` exchanges) and the two event exchanges; its **topic permissions** let it publish
  only the routing keys of the event types it owns (``EventType.publisher``), on the exchange each
  travels on (``<ns>.events``, or ``<ns>.platform`` for platform-internal types). A publish of
  another service's type is refused by the broker itself.
- **an integrator** (``<ns>-integrator-<id>``) may configure nothing and write nothing: it reads
  its one queue, ``<ns>.integrations.<id>``, which the platform declares and binds (through the
  management API) to exactly the event types it was granted; its topic permissions allow reading
  only those routing keys from ``<ns>.events`` and nothing from ``<ns>.platform``.

The same definitions are written three ways: applied here through the management API (the local
run, the tests, and the gateway provisioning integrators), as a RabbitMQ definitions file for
docker-compose, and as the Messaging Topology Operator's resources for Kubernetes (``devstack.broker``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from .events import EventType

NOTHING = "^$"
EVERYTHING = ".*"


@dataclass(frozen=True)
class TopicPermission:
    """Which routing keys a user may publish (write) and bind (read) on one topic exchange."""

    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class BrokerUser:
    """A broker user's name and its permissions on the vhost (regular expressions over names)."""

    username: str
    configure: str
    write: str
    read: str
    topics: tuple[TopicPermission, ...]
    tags: str = ""


def exact(names: Iterable[str]) -> str:
    """A regular expression matching exactly these names (``^$``: none)."""
    listed = sorted(set(names))
    if not listed:
        return NOTHING
    return "^(" + "|".join(re.escape(name) for name in listed) + ")$"


def events_exchange(namespace: str) -> str:
    return f"{namespace}.events"


def platform_exchange(namespace: str) -> str:
    return f"{namespace}.platform"


def service_username(namespace: str, service: str) -> str:
    return f"{namespace}-{service}"


def integrator_username(namespace: str, integrator_id: str) -> str:
    return f"{namespace}-integrator-{integrator_id}"


def integrator_queue(namespace: str, integrator_id: str) -> str:
    return f"{namespace}.integrations.{integrator_id}"


def service_user(namespace: str, service: str, published: Iterable[EventType]) -> BrokerUser:
    """The broker user of one service: its own names, the two exchanges, and publish rights on
    exactly the routing keys of the types it owns."""
    owned = [t for t in published if t.publisher == service]
    ns, own = re.escape(namespace), re.escape(service)
    names = rf"^({ns}\.{own}\..*|{ns}\.events|{ns}\.platform)$"
    return BrokerUser(
        username=service_username(namespace, service),
        configure=names,
        write=names,
        read=names,
        topics=(
            TopicPermission(events_exchange(namespace), write=exact(t.routing_key for t in owned if not t.internal), read=EVERYTHING),
            TopicPermission(platform_exchange(namespace), write=exact(t.routing_key for t in owned if t.internal), read=EVERYTHING),
        ),
    )


def integrator_user(namespace: str, integrator_id: str, granted: Iterable[str]) -> BrokerUser:
    """An integrator's read-only user: its own queue, and only the granted routing keys."""
    return BrokerUser(
        username=integrator_username(namespace, integrator_id),
        configure=NOTHING,
        write=NOTHING,
        read=exact([integrator_queue(namespace, integrator_id)]),
        topics=(
            TopicPermission(events_exchange(namespace), write=NOTHING, read=exact(granted)),
            TopicPermission(platform_exchange(namespace), write=NOTHING, read=NOTHING),
        ),
    )


def amqp_url_for(base_url: str, username: str, password: str) -> str:
    """``base_url`` (any credentials in it replaced) logging in as ``username``."""
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def vhost_of(amqp_url: str) -> str:
    """The vhost an AMQP URL names (``/`` when its path is empty or ``/``)."""
    path = urlsplit(amqp_url).path
    return "/" if path in ("", "/") else path[1:].replace("%2F", "/").replace("%2f", "/")


class BrokerAdminError(RuntimeError):
    """The management API refused or failed a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"RabbitMQ management API answered {status}: {message}")
        self.status = status


class BrokerUnavailable(BrokerAdminError):
    """The management API could not be reached in time, or answered that the broker is unavailable
    (502, 503, 504): a request that needed it is answered 503 ``broker-unavailable``
    (``shared.problems``). Every call is idempotent, so the caller may simply try again."""

    def __init__(self, message: str, *, status: int = 503) -> None:
        RuntimeError.__init__(self, f"RabbitMQ management API unavailable: {message}")
        self.status = status



class BrokerAdmin:
    """The RabbitMQ management HTTP API, as an administrator (``http://user:pass@host:15672/``).

    Every call is idempotent (PUT, or DELETE that tolerates 404), so provisioning can be run again
    after a failure half way, and by several replicas.
    """

    def __init__(self, management_url: str, *, vhost: str = "/", timeout_s: float = 10.0, connect_timeout_s: float = 2.0) -> None:
        import aiohttp

        parts = urlsplit(management_url)
        self._base = urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port or 15672}", parts.path.rstrip("/"), "", ""))
        self._headers = {"Authorization": aiohttp.encode_basic_auth(unquote(parts.username or "guest"), unquote(parts.password or "guest"))}
        self.vhost = vhost
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=connect_timeout_s)
        self._session: Any = None

    async def __aenter__(self) -> BrokerAdmin:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _v(self) -> str:
        return quote(self.vhost, safe="")

    async def _call(self, method: str, path: str, body: Any = None, *, ok_missing: bool = False) -> Any:
        import aiohttp
        from yarl import URL

        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        url = URL(self._base + "/api" + path, encoded=True)
        try:
            async with self._session.request(method, url, json=body) as resp:
                if resp.status == 404 and ok_missing:
                    return None
                if resp.status in (502, 503, 504):
                    raise BrokerUnavailable(f"{method} {path} answered {resp.status}", status=resp.status)
                if resp.status >= 400:
                    raise BrokerAdminError(resp.status, (await resp.text())[:500])
                if resp.status == 204 or resp.content_length == 0:
                    return None
                return await resp.json(content_type=None)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise BrokerUnavailable(f"{method} {path}: {exc!r}") from exc

    # --- users and permissions -------------------------------------------------------------------

    async def apply(self, user: BrokerUser, password: str | None) -> None:
        """Create or update the user (with ``password``; None keeps the current one) and set its
        permissions and topic permissions exactly as given."""
        if password is not None:
            await self._call("PUT", f"/users/{quote(user.username, safe='')}", {"password": password, "tags": user.tags})
        await self._call(
            "PUT", f"/permissions/{self._v()}/{quote(user.username, safe='')}",
            {"configure": user.configure, "write": user.write, "read": user.read},
        )
        for topic in user.topics:
            await self._call(
                "PUT", f"/topic-permissions/{self._v()}/{quote(user.username, safe='')}",
                {"exchange": topic.exchange, "write": topic.write, "read": topic.read},
            )

    async def set_password(self, username: str, password: str, tags: str = "") -> None:
        await self._call("PUT", f"/users/{quote(username, safe='')}", {"password": password, "tags": tags})

    async def delete_user(self, username: str) -> None:
        """Delete the user and close its open connections (a revoked login stops at once)."""
        await self._call("DELETE", f"/users/{quote(username, safe='')}", ok_missing=True)
        await self.close_connections(username)

    async def close_connections(self, username: str) -> None:
        connections = await self._call("GET", f"/connections/username/{quote(username, safe='')}", ok_missing=True) or []
        for connection in connections:
            await self._call("DELETE", f"/connections/{quote(connection['name'], safe='')}", ok_missing=True)

    async def usernames(self, prefix: str = "") -> list[str]:
        users = await self._call("GET", "/users") or []
        return sorted(u["name"] for u in users if u["name"].startswith(prefix))

    # --- exchanges, queues, bindings ---------------------------------------------------------------

    async def queue_names(self, pattern: str) -> list[str]:
        """The names of the vhost's queues matching the regular expression ``pattern``."""
        found = await self._call("GET", f"/queues/{self._v()}?columns=name&name={quote(pattern, safe='')}&use_regex=true&page=1&page_size=500")
        items = found.get("items", []) if isinstance(found, dict) else (found or [])
        return sorted(q["name"] for q in items)

    async def declare_topic_exchange(self, name: str) -> None:
        await self._call("PUT", f"/exchanges/{self._v()}/{quote(name, safe='')}", {"type": "topic", "durable": True, "auto_delete": False})

    async def declare_queue(self, name: str, arguments: dict[str, Any] | None = None) -> None:
        await self._call(
            "PUT", f"/queues/{self._v()}/{quote(name, safe='')}", {"durable": True, "auto_delete": False, "arguments": arguments or {}}
        )

    async def delete_queue(self, name: str) -> None:
        await self._call("DELETE", f"/queues/{self._v()}/{quote(name, safe='')}", ok_missing=True)

    async def queue_bindings(self, exchange: str, queue: str) -> list[str]:
        """The routing keys ``queue`` is bound by on ``exchange``."""
        found = await self._call("GET", f"/bindings/{self._v()}/e/{quote(exchange, safe='')}/q/{quote(queue, safe='')}", ok_missing=True)
        return sorted(b["routing_key"] for b in found or [])

    async def bind_exactly(self, exchange: str, queue: str, routing_keys: Sequence[str]) -> None:
        """Bind ``queue`` on ``exchange`` by exactly these routing keys: add the missing, remove the rest."""
        path = f"/bindings/{self._v()}/e/{quote(exchange, safe='')}/q/{quote(queue, safe='')}"
        current = await self._call("GET", path, ok_missing=True) or []
        wanted = set(routing_keys)
        for binding in current:
            if binding["routing_key"] not in wanted:
                await self._call("DELETE", f"{path}/{quote(binding['properties_key'], safe='')}", ok_missing=True)
        have = {b["routing_key"] for b in current}
        for key in sorted(wanted - have):
            await self._call("POST", path, {"routing_key": key, "arguments": {}})

"""Forwarding ``/api/v1/<service>/<path>`` to ``<service>/v1/<path>`` with a pooled aiohttp client.

Measured on this kind of machine, a proxy forwarding through ``httpx.AsyncClient`` served ~520
requests/s (encode/httpx#3215) against ~5,100 through ``aiohttp.ClientSession``; so forwarded
traffic goes through aiohttp, and httpx stays for tests. Forwarding is the gateway's hot path,
so it is plain ASGI (``ForwardingMiddleware``) in front of FastAPI's router: no dependency
resolution, no request object, headers copied once as bytes.

Request bodies are bounded (``MAX_REQUEST_BYTES``) and read whole before forwarding; answers
stream back as they are produced, so Server-Sent Events pass through and a client that goes
away closes the upstream stream. An unreachable service is a 503 at once, a slow one a 504 after
``UPSTREAM_READ_TIMEOUT_S``, a broken answer a 502: never a hang. A body that does not arrive
is a 408 after ``BODY_READ_TIMEOUT_S``.

The path goes on as the client encoded it (``raw_path``, never the decoded ``path``), so an
encoded ``?``, ``#`` or ``/`` stays data and a non-ASCII id reaches the service, which answers
it. What could confuse the service is refused with 400 problem+json and nothing forwarded:
control characters (``%00``-``%1F``, ``%7F``), dot segments (``.``/``..`` however encoded,
``..%2F`` included: they are refused, not normalised), a malformed ``%`` escape, an encoded
``/api/v1/<service>/`` prefix. The service learns the prefix it is reached under from
``X-Forwarded-Prefix``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from fastapi import Request
from shared.app import BodyReadTimeout
from shared.errors import Problem, problem_response
from shared.identity import IDENTITY_HEADER
from shared.observability import CORRELATION_HEADER, correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from yarl import URL

from shared import tracing

from .limits import BodyTooLarge

PREFIX = "/api/v1/"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE"
FORWARDED_PREFIX = b"x-forwarded-prefix"
_IDEMPOTENT = frozenset({"GET", "HEAD"})

# Hop-by-hop headers (RFC 9110 §7.6.1), and those the gateway sets itself.
_DROP_REQUEST = frozenset(
    h.encode() for h in (
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding",
        "upgrade", "host", "content-length", "authorization", IDENTITY_HEADER.lower(), CORRELATION_HEADER.lower(),
        FORWARDED_PREFIX.decode(),
    )
)
_DROP_RESPONSE = frozenset(
    h.encode() for h in (
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding",
        "upgrade", "content-length", "x-correlation-id", "date", "server",
    )
)
_IDENTITY = IDENTITY_HEADER.encode()
_CORRELATION = CORRELATION_HEADER.encode()


#: What a forwarded path may hold as it is: RFC 3986 ``pchar`` and ``/``; ``%`` only as an escape.
_PATH_SAFE = re.compile(rb"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")
_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_DOT_SEGMENT = re.compile(rb"(?:^|[/\\])\.{1,2}(?=$|[/\\])")
_UNSAFE_BYTE = re.compile(rb"[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]")


def invalid_path(detail: str) -> Problem:
    return Problem(400, "invalid-path", "Invalid path", detail)


def forwarded_path(raw_path: bytes, prefix: bytes) -> str:
    """The part of ``raw_path`` (as the client encoded it) after ``prefix``, safe to put in the
    service's request line; a ``Problem`` (400) for a path that could confuse the service."""
    raw_path = raw_path.split(b"?", 1)[0]  # a raw_path that carries its query (some servers)
    if raw_path + b"/" == prefix:
        return ""
    if not raw_path.startswith(prefix):
        raise invalid_path(f"Write the {prefix.decode()} prefix of the path without percent-escapes.")
    rest = raw_path[len(prefix):]
    if not _PATH_SAFE.fullmatch(rest):
        if re.search(rb"%(?![0-9A-Fa-f]{2})", rest):
            raise invalid_path("The path holds a '%' that does not begin a percent-escape (write it as %25).")
        # Raw bytes a server let through (non-ASCII, spaces): escape them, as a client should have.
        rest = _UNSAFE_BYTE.sub(lambda m: b"%%%02X" % m[0][0], rest)
    decoded = _ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), rest)
    if _CONTROL.search(decoded):
        raise invalid_path("The path holds a control character (such as %00); no resource has one in its path.")
    if _DOT_SEGMENT.search(decoded):
        raise invalid_path("The path holds a '.' or '..' segment (perhaps percent-encoded); name the resource directly.")
    return rest.decode("ascii")


def unavailable(service: str) -> Problem:
    return Problem(503, "service-unavailable", "Service unavailable", f"The {service} service cannot be reached; try again shortly.", headers={"Retry-After": "5"})


def timed_out(service: str) -> Problem:
    return Problem(504, "service-timeout", "Service timed out", f"The {service} service did not answer in time.")


def bad_gateway(service: str, what: str = "gave no usable answer") -> Problem:
    return Problem(502, "bad-gateway", "Bad gateway", f"The {service} service {what}.")


@dataclass(frozen=True)
class _Route:
    """What the request metrics label a forwarded request with (read from ``scope["route"]``)."""

    path: str


class ServiceProxy:
    """Sends one request to a service and relays its answer to the ASGI ``send``."""

    def __init__(self, services: dict[str, str], session: aiohttp.ClientSession, *, read_timeout_s: float) -> None:
        self.services = {name: url.rstrip("/") for name, url in services.items()}
        self.routes = {name: _Route(f"{PREFIX}{name}/{{path}}") for name in services}
        self.session = session
        self._timeout = aiohttp.ClientTimeout(total=None, sock_read=read_timeout_s)
        self._stream_timeout = aiohttp.ClientTimeout(total=None, sock_read=None)

    async def forward(
        self, scope: Scope, receive: Receive, send: Send, service: str, path: str, headers: list[tuple[bytes, bytes]],
        *, has_body: bool, event_stream: bool, body_read_timeout_s: float | None = None,
    ) -> None:
        """Forward with ``headers`` (already stripped, identity and correlation added); ``path`` is
        still percent-encoded (``forwarded_path``)."""
        method = scope["method"]
        query = scope.get("query_string", b"")
        url = f"{self.services[service]}/v1/{path}"
        if query:
            url = f"{url}?{query.decode('latin-1')}"
        body = await _read_body(receive, body_read_timeout_s) if has_body else None
        if tracing.enabled():
            # The service's span is the child of the gateway's (the caller's trace goes on through it).
            carrier: dict[str, str] = {}
            tracing.inject(carrier)
            headers = [(k, v) for k, v in headers if k.lower() not in (b"traceparent", b"tracestate")]
            headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in carrier.items()]
        upstream = await self._send(service, method, URL(url, encoded=True), headers, body, event_stream)
        try:
            reply_headers = [(k, v) for k, v in upstream.raw_headers if k.lower() not in _DROP_RESPONSE]
            streamed = upstream.content_length is None and "chunked" in upstream.headers.get("transfer-encoding", "").lower()
            if streamed or upstream.headers.get("content-type", "").startswith("text/event-stream"):
                await send({"type": "http.response.start", "status": upstream.status, "headers": reply_headers})
                await _relay(upstream, receive, send)
                return
            try:
                content = await upstream.read()
            except TimeoutError as exc:
                raise timed_out(service) from exc
            except aiohttp.ClientError as exc:
                raise bad_gateway(service, "broke off its answer") from exc
            if method == "HEAD" and upstream.content_length is not None:
                reply_headers.append((b"content-length", str(upstream.content_length).encode()))
            elif upstream.status not in (204, 304):
                reply_headers.append((b"content-length", str(len(content)).encode()))
            await send({"type": "http.response.start", "status": upstream.status, "headers": reply_headers})
            await send({"type": "http.response.body", "body": content})
        finally:
            upstream.release()

    async def _send(
        self, service: str, method: str, url: URL, headers: list[tuple[bytes, bytes]], body: bytes | None, event_stream: bool
    ) -> aiohttp.ClientResponse:
        request_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        timeout = self._stream_timeout if event_stream else self._timeout
        # A pooled connection the service closed (a restart) fails at once; a read is safe to send again.
        attempts = 2 if method in _IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                return await self.session.request(
                    method, url, headers=request_headers, data=body, timeout=timeout, allow_redirects=False, auto_decompress=False,
                )
            except aiohttp.ClientConnectorError as exc:
                raise unavailable(service) from exc
            except TimeoutError as exc:
                raise timed_out(service) from exc
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                if attempt + 1 < attempts:
                    continue
                if method in _IDEMPOTENT:
                    raise unavailable(service) from exc
                raise bad_gateway(service, "closed the connection before answering; the request may or may not have been applied") from exc
            except aiohttp.ClientError as exc:
                raise bad_gateway(service) from exc
        raise AssertionError("unreachable")


async def _read_body(receive: Receive, timeout_s: float | None) -> bytes:
    chunks = []
    while True:
        try:
            async with asyncio.timeout(timeout_s):
                message = await receive()
        except TimeoutError:
            raise BodyReadTimeout(timeout_s or 0) from None
        if message["type"] == "http.disconnect":
            raise Problem(400, "client-disconnected", "Client disconnected", "The request body was not sent in full.")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _relay(upstream: aiohttp.ClientResponse, receive: Receive, send: Send) -> None:
    """Stream the answer as it comes; stop (and close the upstream) when the client goes away."""

    async def client_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(client_gone())
    try:
        async for chunk in _chunks(upstream, watcher):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    except (TimeoutError, aiohttp.ClientError):
        # Headers have gone out; all we can do is end the answer where the service broke off.
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b""})
    finally:
        watcher.cancel()
        upstream.close()


async def _chunks(upstream: aiohttp.ClientResponse, watcher: asyncio.Future[None]) -> Any:
    while True:
        read = asyncio.ensure_future(upstream.content.readany())
        await asyncio.wait((read, watcher), return_when=asyncio.FIRST_COMPLETED)
        if not read.done():
            read.cancel()
            return
        chunk = read.result()
        if not chunk:
            return
        yield chunk


class ForwardingMiddleware:
    """Answers ``/api/v1/<service>/...`` for the configured services; everything else goes on
    to the app (the gateway's own routes: ``/api/v1/me``, the directory, the docs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        service = scope["path"][len(PREFIX):].partition("/")[0]
        runtime = getattr(scope["app"].state, "runtime", None)
        proxy: ServiceProxy | None = runtime.extra.get("proxy") if runtime is not None else None
        if proxy is None or service not in proxy.services:
            await self.app(scope, receive, send)
            return
        assert runtime is not None  # a proxy was found on it
        scope["route"] = proxy.routes[service]
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._forward(scope, receive, tracked, proxy, service, runtime.extra, runtime.settings.body_read_timeout_s)
        except (Problem, BodyTooLarge, BodyReadTimeout) as exc:
            if started:
                raise
            problem = exc.problem() if isinstance(exc, BodyTooLarge | BodyReadTimeout) else exc
            await problem_response(Request(scope), problem)(scope, receive, send)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, proxy: ServiceProxy, service: str, extra: dict[str, Any], body_read_timeout_s: float,
    ) -> None:
        if scope["method"] not in METHODS:
            raise Problem(
                405, "method-not-allowed", "Method not allowed", f"{scope['method']} is not forwarded to the services.", headers={"Allow": ALLOW}
            )
        prefix = f"{PREFIX}{service}"
        raw_path = scope.get("raw_path") or quote(scope["path"], safe="/:@!$&'()*+,;=").encode()
        path = forwarded_path(raw_path, f"{prefix}/".encode())
        authorization = None
        event_stream = has_body = False
        headers: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"accept" and b"text/event-stream" in value:
                event_stream = True
            elif name == b"content-length" and value != b"0" or name == b"transfer-encoding":
                has_body = True
            if name not in _DROP_REQUEST:
                headers.append((name, value))
        resolver = extra["callers"]
        identity = await resolver.resolve(authorization.decode("latin-1") if authorization else None)
        extra["limiter"].check(identity.person_id)
        headers.append((_IDENTITY, resolver.signed(identity).encode()))
        headers.append((_CORRELATION, (correlation_id.get() or "").encode("latin-1")))
        headers.append((FORWARDED_PREFIX, prefix.encode()))
        await proxy.forward(
            scope, receive, send, service, path, headers, has_body=has_body, event_stream=event_stream, body_read_timeout_s=body_read_timeout_s,
        )

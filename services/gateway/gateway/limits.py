"""Limits the gateway puts on callers: requests per person (a token bucket) and body size.

The rate limit is kept in this process's memory, so it holds **per gateway replica**: behind a
load balancer with N replicas a person may make up to N times ``RATE_LIMIT_PER_MINUTE``. That
is deliberate (no shared store on the hot path); the limit is there to stop a runaway client,
not to meter anyone exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from fastapi import Request
from shared.errors import Problem, problem_response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Paths ending so take the larger bulk-import limit.
IMPORT_SUFFIX = ":import"


class RateLimiter:
    """A token bucket per person: ``burst`` requests at once, refilled at ``per_minute``/60 a second."""

    def __init__(
        self, per_minute: int, burst: int, *, clock: Callable[[], float] = time.monotonic, max_tracked: int = 100_000,
        exempt: frozenset[str] = frozenset(),
    ) -> None:
        self.enabled = per_minute > 0
        #: Callers never limited (``RATE_LIMIT_EXEMPT``: a load or fuzz test's own identity).
        self.exempt = exempt
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_tracked = max_tracked
        # person -> [tokens left, when last counted]
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket; returns 0, or the seconds to wait when empty."""
        if not self.enabled or key in self.exempt:
            return 0.0
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_tracked:
                self._forget_idle(now)
            self._buckets[key] = [self.burst - 1.0, now]
            return 0.0
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def check(self, key: str) -> None:
        """Spend a token or refuse with 429 and ``Retry-After`` (whole seconds, rounded up)."""
        wait = self.take(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise Problem(
                429, "too-many-requests", "Too many requests",
                f"You have sent too many requests in a short time; try again in {seconds} s.",
                headers={"Retry-After": str(seconds)},
            )

    def _forget_idle(self, now: float) -> None:
        # A bucket that would be full again holds nothing worth keeping.
        full_after = self.burst / self.rate if self.rate else 0.0
        self._buckets = {k: b for k, b in self._buckets.items() if now - b[1] < full_after}
        if len(self._buckets) >= self.max_tracked:
            self._buckets.clear()


class BodyTooLarge(HTTPException):
    """Raised where a body is read past the limit; an HTTPException so that FastAPI lets it
    through as it is (and the problem handlers answer 413 problem+json)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"This endpoint takes request bodies of at most {limit} bytes.")

    def problem(self) -> Problem:
        return Problem(413, "payload-too-large", "Request body too large", str(self.detail))


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413 problem+json (pure ASGI).

    A declared ``Content-Length`` over the limit is refused before anything is read; a body
    without one (chunked) is counted as it is read, and reading past the limit raises the same
    problem where the body is read, before the request is handled.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_import_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_import_bytes = max_import_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_import_bytes if scope["path"].endswith(IMPORT_SUFFIX) else self.max_bytes
        declared: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared > limit:
            await problem_response(Request(scope), BodyTooLarge(limit).problem())(scope, receive, send)
            return
        if declared is not None or not chunked:
            # The server holds the body to its declared length; nothing more to count.
            await self.app(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)

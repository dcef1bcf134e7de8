"""Replaying dead letters: move messages from ``<queue>.dead`` back to ``<queue>`` once the cause
of their failure is fixed.

    python -m shared.replay --queue qa.notify.directory --dry-run      # list, move nothing
    python -m shared.replay --queue qa.notify.directory [--limit 100]  # move them back

Each message keeps its body and identity (message id, type, correlation id) and is published to
the default exchange with the queue's name as routing key, so only the queue it failed in sees it
again (the other subscribers of the event handled their own copy long ago). ``x-qa-attempt`` is
reset to 1 so the consumer gives it its full retries again; ``x-qa-replayed-at`` records when it
was replayed. A message is acknowledged (removed) from the dead-letter queue only after the broker
has confirmed the copy; if it does not, the message stays where it was.

A replayed message that was in fact handled before (a dead letter from a consumer that crashed
after committing) is recognised by the consumer's "processed" marker and not handled twice.

At most the number of messages in the dead-letter queue when the command starts are moved, so a
message that fails again (and is dead-lettered again while the command runs) is not replayed in a
loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiormq.exceptions import ChannelNotFoundEntity
from pamqp.commands import Basic

from .broker import headers_without_deaths, persistent_copy, queue_depth
from .consumer import ATTEMPT_HEADER, FAILED_AT_HEADER, QUEUE_HEADER, REASON_HEADER

REPLAYED_AT_HEADER = "x-qa-replayed-at"
DEAD_SUFFIX = ".dead"


class ReplayError(Exception):
    """The replay could not start or had to stop (missing queue, a publish not confirmed)."""


@dataclass(frozen=True)
class DeadLetter:
    """What an operator needs to see of one dead-lettered message."""

    message_id: str | None
    type: str | None
    reason: str
    attempts: int | None
    failed_at: str | None
    queue: str | None

    @classmethod
    def of(cls, message: AbstractIncomingMessage) -> DeadLetter:
        headers = dict(message.headers or {})
        reason = headers.get(REASON_HEADER)
        if reason is None:
            # Dead-lettered by RabbitMQ itself (the quorum queue's delivery limit): it says why in x-death.
            reason = _x_death_reason(headers) or "unknown"
        try:
            attempts: int | None = int(headers[ATTEMPT_HEADER])  # type: ignore[arg-type]  # any AMQP value; the wrong ones raise below
        except (KeyError, TypeError, ValueError):
            attempts = None
        return cls(
            message_id=message.message_id,
            type=message.type,
            reason=_text(reason),
            attempts=attempts,
            failed_at=_text(headers[FAILED_AT_HEADER]) if FAILED_AT_HEADER in headers else None,
            queue=_text(headers[QUEUE_HEADER]) if QUEUE_HEADER in headers else None,
        )

    def line(self) -> str:
        attempts = "-" if self.attempts is None else str(self.attempts)
        return (
            f"{self.message_id or '-'}\t{self.type or '-'}\tattempts={attempts}\t"
            f"failed-at={self.failed_at or '-'}\treason={self.reason}"
        )


@dataclass(frozen=True)
class ReplayResult:
    queue: str
    dead_letter_queue: str
    #: Messages in the dead-letter queue when the command started.
    found: int
    #: The messages listed (dry run) or moved back (replay).
    letters: tuple[DeadLetter, ...]
    dry_run: bool

    @property
    def moved(self) -> int:
        return 0 if self.dry_run else len(self.letters)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _x_death_reason(headers: dict[str, Any]) -> str | None:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        reason = deaths[0].get("reason")
        return f"rabbitmq: {_text(reason)}" if reason is not None else None
    return None


def replay_copy(message: AbstractIncomingMessage, *, replayed_at: datetime) -> aio_pika.Message:
    """The message as it goes back to its queue: same body and identity, attempts reset."""
    headers = headers_without_deaths(message)
    headers[ATTEMPT_HEADER] = 1
    headers[REPLAYED_AT_HEADER] = replayed_at.isoformat()
    return persistent_copy(message, headers)


async def _depth(connection: AbstractConnection, name: str) -> int:
    """Messages ready in ``name``; ReplayError if there is no such queue."""
    try:
        return await queue_depth(connection, name)
    except ChannelNotFoundEntity:
        raise ReplayError(f"there is no queue {name!r} (check --queue: <namespace>.<service>.<purpose>)") from None


async def replay(
    connection: AbstractConnection,
    queue: str,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_letter: Callable[[DeadLetter], None] = lambda letter: None,
) -> ReplayResult:
    """List (``dry_run``) or move back up to ``limit`` messages of ``<queue>.dead`` to ``queue``."""
    if queue.endswith(DEAD_SUFFIX):
        raise ReplayError(f"name the queue the messages failed in, not its dead-letter queue: {queue[: -len(DEAD_SUFFIX)]!r}")
    if limit is not None and limit < 1:
        raise ReplayError("--limit must be at least 1")
    dead = queue + DEAD_SUFFIX
    await _depth(connection, queue)  # the destination must exist, or the broker would drop the copies
    found = await _depth(connection, dead)
    wanted = found if limit is None else min(found, limit)

    channel: AbstractChannel = await connection.channel(publisher_confirms=True)
    letters: list[DeadLetter] = []
    try:
        source = await channel.declare_queue(dead, passive=True)
        while len(letters) < wanted:
            message = await source.get(no_ack=False, fail=False, timeout=10)
            if message is None:
                break  # someone else took the rest
            letter = DeadLetter.of(message)
            if not dry_run:
                # mandatory: a copy the broker cannot route is returned, not silently dropped.
                confirmation = await channel.default_exchange.publish(
                    replay_copy(message, replayed_at=now()), routing_key=queue, mandatory=True, timeout=10
                )
                if not isinstance(confirmation, Basic.Ack):
                    await message.nack(requeue=True)
                    raise ReplayError(
                        f"the broker did not confirm the copy of {letter.message_id} ({type(confirmation).__name__}); "
                        "it stays in the dead-letter queue"
                    )
                await message.ack()
            # In a dry run the messages stay unacknowledged on this channel until it closes, so
            # each is listed once and all of them return to the dead-letter queue untouched.
            letters.append(letter)
            on_letter(letter)
    finally:
        if not channel.is_closed:
            await channel.close()
    return ReplayResult(queue, dead, found, tuple(letters), dry_run)


@dataclass(frozen=True)
class Taken:
    """A dead letter taken out of its queue by message id: what it was, and all of it (kept by
    whoever discards it, so nothing is lost)."""

    letter: DeadLetter
    body: bytes
    headers: dict[str, Any]
    replayed: bool


async def take(
    connection: AbstractConnection,
    queue: str,
    message_id: str,
    *,
    replay_it: bool,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Taken | None:
    """Take the dead letter ``message_id`` out of ``<queue>.dead``: move it back to ``queue``
    (``replay_it``) or remove it (discard). The others it passes on the way stay where they were
    (unacknowledged on this channel, they return to the dead-letter queue when it closes). None:
    no such message there now."""
    if queue.endswith(DEAD_SUFFIX):
        raise ReplayError(f"name the queue the messages failed in, not its dead-letter queue: {queue[: -len(DEAD_SUFFIX)]!r}")
    dead = queue + DEAD_SUFFIX
    await _depth(connection, queue)
    found = await _depth(connection, dead)
    channel: AbstractChannel = await connection.channel(publisher_confirms=True)
    try:
        source = await channel.declare_queue(dead, passive=True)
        for _ in range(found):
            message = await source.get(no_ack=False, fail=False, timeout=10)
            if message is None:
                return None
            if message.message_id != message_id:
                continue
            letter = DeadLetter.of(message)
            if replay_it:
                confirmation = await channel.default_exchange.publish(
                    replay_copy(message, replayed_at=now()), routing_key=queue, mandatory=True, timeout=10
                )
                if not isinstance(confirmation, Basic.Ack):
                    await message.nack(requeue=True)
                    raise ReplayError(f"the broker did not confirm the copy of {message_id}; it stays in the dead-letter queue")
            await message.ack()
            return Taken(letter, message.body, {k: _text(v) if isinstance(v, bytes) else v for k, v in (message.headers or {}).items()}, replay_it)
        return None
    finally:
        if not channel.is_closed:
            await channel.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shared.replay",
        description="Move dead-lettered messages from <queue>.dead back to <queue> (after the cause is fixed).",
    )
    parser.add_argument("--queue", required=True, help="the queue the messages failed in: <namespace>.<service>.<purpose>")
    parser.add_argument("--dry-run", action="store_true", help="list the dead letters and move nothing")
    parser.add_argument("--limit", type=int, default=None, help="move (or list) at most this many")
    parser.add_argument(
        "--amqp-url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        help="RabbitMQ (default: $AMQP_URL, else the local broker)",
    )
    return parser


async def _main(args: argparse.Namespace, out: TextIO) -> int:
    def show(letter: DeadLetter) -> None:
        print(letter.line(), file=out, flush=True)

    connection = await aio_pika.connect(args.amqp_url, client_properties={"connection_name": "qa-replay"})
    async with connection:
        result = await replay(connection, args.queue, dry_run=args.dry_run, limit=args.limit, on_letter=show)
    if result.dry_run:
        print(f"dry run: {len(result.letters)} of {result.found} dead letters in {result.dead_letter_queue} listed; nothing moved", file=out)
    else:
        print(f"replayed {result.moved} of {result.found} dead letters from {result.dead_letter_queue} to {result.queue}", file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_main(args, out))
    except ReplayError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

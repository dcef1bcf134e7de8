"""MongoDB access through PyMongo's async API, and the unit of work that ties a state change to
the events it causes.

Motor reached end of life on 2026-05-14; PyMongo's ``AsyncMongoClient`` has the same shape and is
what its maintainers direct new code to. Each service owns one database
(``<QA_NAMESPACE>_<service>``) and declares its indexes, created at start-up.

**Two kinds of patience with an unreachable database.** A request waits at most
``MONGODB_REQUEST_TIMEOUT_MS`` (default 1 s) for a reachable server, then fails with a
``pymongo.errors.ConnectionFailure`` that ``shared.problems`` answers with 503
``database-unavailable`` and ``Retry-After``. The background work a service's start-up begins
(outbox relay, consumers, workers, schedulers, job runners) waits as long as it always has
(``PATIENT_SERVER_SELECTION_MS``) and keeps its own retry and back-off. Only the wait for a
reachable server is shortened: once a server is selected, a query runs as long as it needs (some
reports take seconds). PyMongo's ``pymongo.timeout()`` would bound the whole operation instead,
so it is not used for this.

How a context is told apart: ``connect()`` marks the context that calls it (a service's
lifespan, a test fixture, a script) as patient, and everything started from it inherits the mark
(asyncio tasks copy their creator's context). The ASGI server runs each request in a task of its
own that does not descend from the lifespan, so requests get the short wait.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, InsertOne, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ClientBulkWriteException, ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.results import UpdateResult

from . import tracing
from .clock import Clock
from .documents import OUTBOX, PROCESSED_EVENTS, Document, Indexes, create_indexes
from .events import EventType
from .observability import correlation_id
from .outbox import OutboxRelay, outbox_documents

T = TypeVar("T")

__all__ = [
    "OUTBOX",
    "PROCESSED_EVENTS",
    "DatabaseUnavailable",
    "Document",
    "Indexes",
    "Transaction",
    "UnitOfWork",
    "connect",
    "create_indexes",
    "patient",
    "ping",
]

#: How long background work waits for a reachable server (what every caller waited before).
PATIENT_SERVER_SELECTION_MS = 5000
#: How long a request waits for one, unless ``MONGODB_REQUEST_TIMEOUT_MS`` says otherwise.
DEFAULT_REQUEST_TIMEOUT_MS = 1000
#: How long a request's transaction is re-run after transient conflicts (PyMongo's own limit).
_TRANSACTION_RETRY_S = 120.0

_patient: ContextVar[bool] = ContextVar("shared_mongo_patient", default=False)


class DatabaseUnavailable(ConnectionFailure):
    """A request's transaction met an unreachable database.

    ``outcome_unknown``: it went away while committing, so whether the change was saved is not
    known (every other case changed nothing)."""

    def __init__(self, message: str, *, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown


def patient() -> bool:
    """True in background work (the context that called ``connect()`` and what it started)."""
    return _patient.get()


class _Client(AsyncMongoClient[Document]):
    """An ``AsyncMongoClient`` whose wait for a reachable server depends on who is asking.

    PyMongo reads the wait from its topology's ``get_server_selection_timeout`` (the client's
    ``serverSelectionTimeoutMS``, or what is left of a ``pymongo.timeout()`` block); outside
    patient contexts it is capped at the request timeout. The topology is (re)built in
    ``_init_background`` (at construction, after an SRV lookup, after a fork), so the cap is
    applied there. Checked against this PyMongo version by shared/tests/integration/test_outages.py.
    """

    _qa_request_timeout_s: float

    def __init__(self, url: str, *, request_timeout_ms: int, **kwargs: Any) -> None:
        self._qa_request_timeout_s = request_timeout_ms / 1000
        super().__init__(url, **kwargs)

    def _init_background(self, old_pid: int | None = None) -> None:
        super()._init_background(old_pid)
        topology = self._topology
        configured = topology.get_server_selection_timeout
        cap = self._qa_request_timeout_s

        def server_selection_timeout() -> float:
            wait = configured()
            return wait if _patient.get() else min(wait, cap)

        topology.get_server_selection_timeout = server_selection_timeout  # type: ignore[method-assign]


def _request_timeout_from_environment() -> int:
    raw = os.environ.get("MONGODB_REQUEST_TIMEOUT_MS", "").strip()
    try:
        value = int(raw) if raw else DEFAULT_REQUEST_TIMEOUT_MS
    except ValueError:
        raise ValueError(f"MONGODB_REQUEST_TIMEOUT_MS must be a whole number of milliseconds, not {raw!r}") from None
    if value <= 0:
        raise ValueError("MONGODB_REQUEST_TIMEOUT_MS must be positive")
    return value


def connect(
    url: str, *, request_timeout_ms: int | None = None, patient_timeout_ms: int = PATIENT_SERVER_SELECTION_MS
) -> AsyncMongoClient[Document]:
    """A client for ``url``; the calling context (and what it starts) becomes patient.

    ``request_timeout_ms``: the longest a request waits for a reachable server
    (``ServiceSettings.mongodb_request_timeout_ms``; read from ``MONGODB_REQUEST_TIMEOUT_MS``
    when not given). ``patient_timeout_ms``: the wait of background work.
    """
    client = _Client(
        url,
        request_timeout_ms=request_timeout_ms if request_timeout_ms is not None else _request_timeout_from_environment(),
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=patient_timeout_ms,
    )
    _patient.set(True)
    return client


async def ping(client: AsyncMongoClient[Document]) -> None:
    await client.admin.command("ping")


@dataclass(frozen=True)
class _AtEnd:
    collection: AsyncCollection[Any]
    write: InsertOne[Document] | ReplaceOne[Document]
    #: For an insert: the document it inserts.
    inserts: Document | None = None
    #: For a guarded write: what to raise when it matched nothing.
    if_unmatched: Callable[[], Awaitable[BaseException]] | None = None
    #: For an insert: what to raise when its key is taken.
    if_duplicate: Callable[[], BaseException] | None = None


@dataclass
class Transaction:
    """What a use case holds while it changes state: the session to write with, and the events
    it records. The events are written to the outbox in the same transaction, at commit.

    A write the work needs nothing back from can be left for the end (``insert_at_end``,
    ``replace_at_end``): once the work returns, every such write and the outbox's events go to
    the database in one command (MongoDB 8's client-level ``bulkWrite``), still in the transaction,
    instead of one round trip each. What the work reads after leaving a write does not see it,
    until ``flush`` writes what was left (one command) for what comes next in the same transaction."""

    session: AsyncClientSession
    staged: list[tuple[EventType, Any, str | None]] = field(default_factory=list)
    at_end: list[_AtEnd] = field(default_factory=list)

    def record(self, event_type: EventType, data: Any, *, subject: str | None) -> None:
        self.staged.append((event_type, data, subject))

    def insert_at_end(self, collection: AsyncCollection[Any], doc: Document, *, if_duplicate: Callable[[], BaseException] | None = None) -> None:
        """Insert ``doc`` into ``collection`` when the work is done. ``if_duplicate``: when a record
        already holds its key, the transaction fails with the exception it gives (else with
        ``DuplicateKeyError``, as a lone insert would) and writes nothing."""
        self.at_end.append(_AtEnd(collection, InsertOne(doc, namespace=collection.full_name), inserts=doc, if_duplicate=if_duplicate))

    def replace_at_end(
        self, collection: AsyncCollection[Any], match: Document, doc: Document, *, if_unmatched: Callable[[], Awaitable[BaseException]]
    ) -> None:
        """Replace the record ``match`` finds with ``doc`` when the work is done; if it finds none,
        the transaction fails with the exception ``if_unmatched()`` gives (and writes nothing)."""
        self.at_end.append(_AtEnd(collection, ReplaceOne(match, doc, namespace=collection.full_name), if_unmatched=if_unmatched))

    async def flush(self) -> None:
        """Write now, in one command, what was left for the end, so that what runs next in this
        transaction reads it (a consumer's next handler in a batch, say). Nothing to write: no command."""
        held, self.at_end = self.at_end, []
        await _write_at_end(self.session, held, None, [])


async def _write_at_end(session: AsyncClientSession, at_end: list[_AtEnd], outbox: AsyncCollection[Document] | None, events: list[Document]) -> None:
    """The writes left for the end and the events' outbox documents, in the transaction: one
    command for all of them (a lone insert, or the events alone, as the one ``insert`` it was
    before writes could be left)."""
    if not at_end:
        if events and outbox is not None:
            await outbox.insert_many(events, session=session)
        return
    if len(at_end) == 1 and not events and at_end[0].inserts is not None:
        lone = at_end[0]
        try:
            await lone.collection.insert_one(lone.inserts, session=session)
        except DuplicateKeyError:
            if lone.if_duplicate is None:
                raise
            raise lone.if_duplicate() from None
        return
    writes = [w.write for w in at_end] + ([InsertOne(doc, namespace=outbox.full_name) for doc in events] if outbox is not None else [])
    guarded = any(w.if_unmatched is not None for w in at_end)
    try:
        done = await session.client.bulk_write(writes, session=session, ordered=True, verbose_results=guarded)
    except ClientBulkWriteException as exc:
        # A guarded write that matched nothing comes first: a write after it may then have failed
        # only because the record had moved (a history entry at a version already taken, say).
        if guarded and exc.error is None and exc.partial_result is not None:
            await _raise_if_unmatched(at_end, exc.partial_result.update_results)
        _raise_if_duplicate(at_end, exc)
        raise _as_single_write_error(exc) from exc
    if guarded:
        await _raise_if_unmatched(at_end, done.update_results)


def _raise_if_duplicate(at_end: list[_AtEnd], exc: ClientBulkWriteException) -> None:
    """The exception an insert left for the end asked for when its key was taken."""
    errors: list[Any] = list(exc.write_errors or [])  # documents, whatever the annotation says
    for error in errors:
        index = error.get("idx")
        if error.get("code") == 11000 and isinstance(index, int) and index < len(at_end) and (if_duplicate := at_end[index].if_duplicate):
            raise if_duplicate() from exc


async def _raise_if_unmatched(at_end: list[_AtEnd], results: Mapping[int, UpdateResult]) -> None:
    for index, w in enumerate(at_end):
        if w.if_unmatched is not None and index in results and results[index].matched_count != 1:
            raise await w.if_unmatched()


def _as_single_write_error(exc: ClientBulkWriteException) -> PyMongoError:
    """The error the same write alone would have raised. The driver keeps a failure of the whole
    command (a write conflict, a lost connection) inside the bulk error, whose own labels are
    empty: the inner one carries ``TransientTransactionError``, which decides a re-run."""
    error = exc.error
    if isinstance(error, PyMongoError):
        return error
    if isinstance(error, dict):
        return OperationFailure(str(error.get("errmsg", "bulkWrite failed")), error.get("code"), error)
    errors: list[Any] = list(exc.write_errors or [])
    first = errors[0] if errors else {}
    if first.get("code") == 11000:
        return DuplicateKeyError(str(first.get("errmsg", "duplicate key")), 11000, first)
    return exc


class UnitOfWork:
    """Runs a piece of work in one MongoDB transaction with its events staged for the outbox.

    ``await uow.run(work)`` calls ``work(tx)``; everything it writes with ``tx.session`` and every
    event it records with ``tx.record`` commit together or not at all. A transient conflict
    re-runs ``work`` from the start, so ``work`` must do nothing outside the database. With a
    ``relay``, the events are written claimed by it and handed to it once the transaction commits
    (``OutboxRelay.reserve``/``hand_off``): they are published at once, without a poll.

    Background work retries an unreachable database as PyMongo's ``with_transaction`` does (up
    to two minutes). A request does not: it raises ``DatabaseUnavailable`` at once, which is
    answered with 503 and ``Retry-After``.
    """

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        *,
        source: str,
        clock: Clock,
        relay: OutboxRelay | None = None,
    ) -> None:
        self.client = client
        self.db = db
        self.source = source
        self.clock = clock
        self.relay = relay

    async def run(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        result: list[T] = []
        #: The outbox documents the committed attempt wrote, and the relay's claim on them.
        written: list[tuple[str | None, list[Document]]] = []

        async def attempt(session: AsyncClientSession) -> None:
            tx = Transaction(session)
            result.clear()
            written.clear()
            result.append(await work(tx))
            docs: list[Document] = []
            claim = None
            if tx.staged:
                docs = outbox_documents(
                    tx.staged, source=self.source, now=self.clock.now(), correlation=correlation_id.get(), traceparent=tracing.traceparent()
                )
                # Claimed for this process's relay, which publishes them as soon as this commits.
                claim = self.relay.reserve(docs) if self.relay is not None else None
            await _write_at_end(session, tx.at_end, self.db[OUTBOX], docs)
            if docs:
                written[:] = [(claim, docs)]

        # Not causally consistent: each attempt is a transaction reading its own snapshot of the
        # primary, and nothing in it reads across attempts. (A causal session would put
        # ``readConcern.afterClusterTime`` on a re-run attempt's first command, which SecantusDB
        # refuses on a client-level ``bulkWrite``: the writes left for the end may come first.)
        async with self.client.start_session(causal_consistency=False) as session:
            if _patient.get():
                await session.with_transaction(attempt)
            else:
                await _with_transaction_failing_fast(session, attempt)
        if written and self.relay is not None:
            claim, docs = written[0]
            if claim is not None:
                self.relay.hand_off(claim, docs)
            else:
                self.relay.wake()  # left for the poll: let it look now
        return result[0]


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError")


def _max_time_expired(exc: PyMongoError) -> bool:
    if isinstance(exc, OperationFailure):
        if exc.code == 50:
            return True
        details = exc.details or {}
        return bool((details.get("writeConcernError") or {}).get("code") == 50)
    return False


async def _with_transaction_failing_fast(session: AsyncClientSession, attempt: Callable[[AsyncClientSession], Awaitable[None]]) -> None:
    """``session.with_transaction(attempt)`` for a request: the same re-runs after a write
    conflict and the same commit retries, but an unreachable database ends it at once.

    (``with_transaction`` labels a lost connection or a failed server selection as transient and
    would re-run the transaction, and retry its commit, for two minutes.)
    """
    started = time.monotonic()
    retry = 0
    while True:
        if retry:  # the back-off with_transaction uses between re-runs
            await asyncio.sleep(random.random() * min(0.005 * 1.5**retry, 0.5))  # noqa: S311 - jitter
        retry += 1
        await session.start_transaction()
        try:
            await attempt(session)
        except BaseException as exc:
            if session.in_transaction:
                await session.abort_transaction()
            if isinstance(exc, ConnectionFailure) and not isinstance(exc, DatabaseUnavailable):
                raise DatabaseUnavailable(f"the database is unreachable: {exc}") from exc
            if _transient(exc) and time.monotonic() - started < _TRANSACTION_RETRY_S:
                continue
            raise
        if not session.in_transaction:  # the work ended the transaction itself
            return
        while True:
            try:
                await session.commit_transaction()
                return
            except ConnectionFailure as exc:
                # PyMongo already retried the commit once; whether it was applied is not known.
                raise DatabaseUnavailable(f"the database became unreachable while committing: {exc}", outcome_unknown=True) from exc
            except PyMongoError as exc:
                within = time.monotonic() - started < _TRANSACTION_RETRY_S
                if exc.has_error_label("UnknownTransactionCommitResult") and not _max_time_expired(exc) and within:
                    continue
                if exc.has_error_label("TransientTransactionError") and within:
                    break
                raise

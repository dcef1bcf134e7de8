"""Real-time push of each person's new and changed tasks (Server-Sent Events).

One MongoDB change stream per process watches the ``tasks`` collection and fans each change out
in memory to the streams of the task's assignee. A task written by any replica (a consumer, the
scheduler, a request) reaches every replica's open streams, so no tray goes stale whichever replica
a person's browser is connected to. A lost change stream is reopened from its resume token.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document
from shared.worker import BackgroundWorker

from .store import TASKS

log = logging.getLogger(__name__)

#: Changes waiting for one slow stream before it is told to reload its tray instead.
QUEUE_LIMIT = 256


#: The wait before reopening a lost change stream, doubling while it cannot be reopened, up to the most.
REOPEN_S, REOPEN_MAX_S = 0.5, 10.0


class TaskHub(BackgroundWorker):
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        # A pass holds the change stream open for as long as it lasts: stopping ends it at once.
        super().__init__(
            "task-change-stream", interval_s=REOPEN_S, max_backoff_s=REOPEN_MAX_S, stop_timeout_s=0, logger=log,
            failure_message="task change stream lost; reopening", failure_level=logging.WARNING,
        )
        self.db = db
        self._subscribers: dict[str, set[asyncio.Queue[Document | None]]] = defaultdict(set)
        self._ready = asyncio.Event()
        self._resume_after: Any = None

    async def wait_ready(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def stop(self) -> None:
        await super().stop()
        for queues in self._subscribers.values():
            for queue in queues:
                try:
                    queue.put_nowait(None)  # tells the stream to end; the browser reconnects elsewhere
                except asyncio.QueueFull:
                    pass

    def subscribe(self, person_id: str) -> asyncio.Queue[Document | None]:
        queue: asyncio.Queue[Document | None] = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers[person_id].add(queue)
        return queue

    def unsubscribe(self, person_id: str, queue: asyncio.Queue[Document | None]) -> None:
        queues = self._subscribers.get(person_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[person_id]

    @property
    def subscribers(self) -> int:
        return sum(len(q) for q in self._subscribers.values())

    def publish(self, doc: Document) -> None:
        for queue in list(self._subscribers.get(doc.get("assignee_id", ""), ())):
            try:
                queue.put_nowait(doc)
            except asyncio.QueueFull:
                log.warning("task stream too slow; dropping a change", extra={"task_id": doc.get("_id")})

    async def run_once(self) -> bool:
        """Watch the tasks until the stream is lost (raises: reopened after a back-off that starts
        again from ``REOPEN_S`` once a stream opened) or ends (reopened at once), from where it was."""
        async with await self.db[TASKS].watch(
            [{"$match": {"operationType": {"$in": ["insert", "replace", "update"]}}}],
            full_document="updateLookup",
            resume_after=self._resume_after,
        ) as stream:
            self._ready.set()
            self.healthy()
            async for change in stream:
                self._resume_after = change["_id"]
                doc = change.get("fullDocument")
                if doc is not None:
                    self.publish(doc)
        return True


async def sse_stream(
    hub: TaskHub, person_id: str, *, heartbeat_s: float, render: Any, is_disconnected: Any
) -> AsyncIterator[str]:
    """The text of one person's event stream: a task event per change, a comment as heartbeat."""
    queue = hub.subscribe(person_id)
    try:
        yield ": connected\nretry: 3000\n\n"
        while True:
            try:
                doc = await asyncio.wait_for(queue.get(), timeout=heartbeat_s)
            except TimeoutError:
                if await is_disconnected():
                    return
                yield ": heartbeat\n\n"
                continue
            if doc is None:
                return  # the process is stopping; the browser reconnects to another replica
            yield f"event: task\nid: {doc['_id']}:{doc['version']}\ndata: {render(doc)}\n\n"
    finally:
        hub.unsubscribe(person_id, queue)

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

from .store import TASKS

log = logging.getLogger(__name__)

#: Changes waiting for one slow stream before it is told to reload its tray instead.
QUEUE_LIMIT = 256


class TaskHub:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self._subscribers: dict[str, set[asyncio.Queue[Document | None]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="task-change-stream")

    async def wait_ready(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
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

    async def _watch(self) -> None:
        resume_after: Any = None
        delay = 0.5
        while not self._stopping:
            try:
                async with await self.db[TASKS].watch(
                    [{"$match": {"operationType": {"$in": ["insert", "replace", "update"]}}}],
                    full_document="updateLookup",
                    resume_after=resume_after,
                ) as stream:
                    self._ready.set()
                    delay = 0.5
                    async for change in stream:
                        resume_after = change["_id"]
                        doc = change.get("fullDocument")
                        if doc is not None:
                            self.publish(doc)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._stopping:
                    break
                log.warning("task change stream lost; reopening", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


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

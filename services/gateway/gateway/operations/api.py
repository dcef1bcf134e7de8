"""The operations API (administrators only): the dead-letter queues of every service.

    GET  /api/v1/operations/dead-letters                       every queue: count, oldest, reasons
    GET  /api/v1/operations/dead-letters/history               what was replayed or discarded, by whom, why
    GET  /api/v1/operations/dead-letters/{queue}               one queue's letters (nothing moves)
    POST /api/v1/operations/dead-letters/{queue}/replay        all of them back to their queue
    POST /api/v1/operations/dead-letters/{queue}/messages/{message_id}/replay
    POST /api/v1/operations/dead-letters/{queue}/messages/{message_id}/discard
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from shared.app import RuntimeDep
from shared.errors import forbidden
from shared.identity import Identity
from shared.roles import Role

from ..callers import Caller
from .usecases import DeadLetters

PREFIX = "/api/v1/operations/dead-letters"
ADMINISTRATOR = Role.ADMINISTRATOR

QueueName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]+\.[a-z0-9_-]+\.[a-z0-9_-]+$", max_length=200,
                                description="The consumer queue the messages failed in: <namespace>.<service>.<purpose>", examples=["qa.notify.work-tray"])]
MessageId = Annotated[str, Path(min_length=1, max_length=200, description="The dead letter's message id (the event id)")]


class ReasonIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="Why: the fix that makes a replay safe, or why a letter is discarded (recorded)")


class DeadLetterQueueOut(BaseModel):
    queue: str = Field(description="The consumer queue the messages failed in")
    service: str
    dead_letter_queue: str
    messages: int = Field(description="Dead letters waiting (exact)")
    oldest_failed_at: str | None = Field(description="When the oldest of those read failed (ISO 8601), if it says")
    reasons: dict[str, int] = Field(description="The reasons of the letters read, with how many gave each")
    reasons_from: int = Field(description="How many letters the reasons were read from (at most 100)")


class DeadLetterOut(BaseModel):
    message_id: str | None
    type: str | None = Field(description="The event type")
    reason: str
    attempts: int | None
    failed_at: str | None
    queue: str | None


class DeadLetterListOut(BaseModel):
    queue: str
    messages: int
    letters: list[DeadLetterOut]


class DeadLetterActionOut(BaseModel):
    id: str
    action: str = Field(description="`replayed`, `replayed all` or `discarded`")
    queue: str
    reason: str
    by: str
    at: datetime
    message_ids: list[str | None]
    moved: int | None = Field(default=None, description="Letters moved back to their queue by this action")


def _admin(caller: Identity) -> str:
    if not caller.has_role(ADMINISTRATOR):
        raise forbidden("Only an administrator sees and acts on dead letters.")
    return caller.person_id


def _action(doc: dict[str, Any]) -> DeadLetterActionOut:
    return DeadLetterActionOut(id=doc["_id"], action=doc["action"], queue=doc["queue"], reason=doc["reason"], by=doc["by"], at=doc["at"],
                               message_ids=doc.get("message_ids", []), moved=doc.get("moved"))


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["operations"])

    def dead_letters(runtime: Any) -> DeadLetters:
        service: DeadLetters = runtime.extra["dead_letters"]
        return service

    @router.get("", response_model=list[DeadLetterQueueOut], summary="Every dead-letter queue of the platform: count, oldest, reasons (administrators)")
    async def list_dead_letter_queues(caller: Caller, runtime: RuntimeDep) -> list[DeadLetterQueueOut]:
        _admin(caller)
        return [DeadLetterQueueOut(**row) for row in await dead_letters(runtime).summary()]

    @router.get("/history", response_model=list[DeadLetterActionOut], summary="What was replayed or discarded, by whom and why, newest first (administrators)")
    async def list_dead_letter_actions(
        caller: Caller, runtime: RuntimeDep,
        queue: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]+\.[a-z0-9_-]+\.[a-z0-9_-]+$", max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[DeadLetterActionOut]:
        _admin(caller)
        return [_action(doc) for doc in await dead_letters(runtime).history(queue=queue, limit=limit)]

    @router.get("/{queue}", response_model=DeadLetterListOut, summary="One queue's dead letters, oldest first; nothing moves (administrators)")
    async def read_dead_letters(queue: QueueName, caller: Caller, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> DeadLetterListOut:
        _admin(caller)
        found, letters = await dead_letters(runtime).letters(queue, limit=limit)
        return DeadLetterListOut(queue=queue, messages=found, letters=[DeadLetterOut(**letter.__dict__) for letter in letters])

    @router.post("/{queue}/replay", response_model=DeadLetterActionOut, summary="Replay every dead letter of a queue after the fix (administrators; recorded)")
    async def replay_dead_letters(queue: QueueName, body: ReasonIn, caller: Caller, runtime: RuntimeDep) -> DeadLetterActionOut:
        return _action(await dead_letters(runtime).replay_all(queue, reason=body.reason, by=_admin(caller)))

    @router.post("/{queue}/messages/{message_id}/replay", response_model=DeadLetterActionOut, summary="Replay one dead letter (administrators; recorded)")
    async def replay_dead_letter(queue: QueueName, message_id: MessageId, body: ReasonIn, caller: Caller, runtime: RuntimeDep) -> DeadLetterActionOut:
        return _action(await dead_letters(runtime).replay_one(queue, message_id, reason=body.reason, by=_admin(caller)))

    @router.post("/{queue}/messages/{message_id}/discard", response_model=DeadLetterActionOut,
                 summary="Discard one dead letter with a reason; the message is kept in the record (administrators)")
    async def discard_dead_letter(queue: QueueName, message_id: MessageId, body: ReasonIn, caller: Caller, runtime: RuntimeDep) -> DeadLetterActionOut:
        return _action(await dead_letters(runtime).discard(queue, message_id, reason=body.reason, by=_admin(caller)))

    return router

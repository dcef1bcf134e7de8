"""The work tray and preferences API: the caller's own tasks (list, read, mark done, cancel, a
live stream of changes) and their email preferences. Everyone sees only their own tray."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, TypeAlias

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from shared.app import RuntimeDep
from shared.calendar import local_date
from shared.errors import Problem, bad_cursor
from shared.http import IdPath, Page, Pagination, RequiredIfMatch, encode_cursor, etag
from shared.identity import CurrentPerson

from . import scheduler_api, store, usecases
from .domain.kinds import STATUTORY, TaskKind
from .domain.preferences import Preferences
from .domain.tasks import Origin, TaskStatus
from .push import TaskHub, sse_stream
from .usecases import Notifier

TaskId: TypeAlias = IdPath


class Due(StrEnum):
    TODAY = "today"
    OVERDUE = "overdue"


class LinkOut(BaseModel):
    service: str
    path: str = Field(description="The resource path within the service")
    url: str = Field(description="Where the front end opens it")


class StatusChangeOut(BaseModel):
    version: int
    status: TaskStatus
    at: datetime
    by: str | None
    reason: str
    event_id: str | None = None


class TaskOut(BaseModel):
    id: str
    version: int
    kind: TaskKind
    subject: str
    action: str = Field(description="What the assignee is asked to do")
    due_on: date | None
    assigned_by: str | None = Field(description="The person who assigned it; absent when the system did")
    origin: Origin = Field(description="person or system (the tray's Post column)")
    assigned_on: datetime
    link: LinkOut
    status: TaskStatus
    status_changed_at: datetime | None
    status_changed_by: str | None
    reminders_sent: int
    last_reminded_on: date | None
    next_reminder_on: date | None
    context: dict[str, str]


class TaskDetailOut(TaskOut):
    history: list[StatusChangeOut]


class DoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=500)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


class PreferencesOut(BaseModel):
    person_id: str
    version: int
    email: dict[TaskKind, bool] = Field(description="Email on or off, per kind of task")
    statutory: list[TaskKind] = Field(description="Kinds whose email the procedure requires: always on")
    updated_at: datetime | None
    updated_by: str | None


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: dict[TaskKind, bool] = Field(description="Kinds to turn on or off; kinds not named keep their setting")


def task_out(doc: dict[str, Any], base_url: str) -> TaskOut:
    link = doc["link"]
    return TaskOut(
        id=doc["_id"], version=doc["version"], kind=doc["kind"], subject=doc["subject"], action=doc["action"],
        due_on=doc.get("due_on"), assigned_by=doc.get("assigned_by"), origin=doc["origin"], assigned_on=doc["created_at"],
        link=LinkOut(service=link["service"], path=link["path"], url=f"{base_url.rstrip('/')}/{link['service']}{link['path']}"),
        status=doc["status"], status_changed_at=doc.get("status_changed_at"), status_changed_by=doc.get("status_changed_by"),
        reminders_sent=doc.get("reminders_sent", 0), last_reminded_on=doc.get("last_reminded_on"),
        next_reminder_on=doc.get("next_reminder_on"), context=doc.get("context") or {},
    )


def _notifier(runtime: Any) -> Notifier:
    notifier: Notifier = runtime.extra["notifier"]
    return notifier


def _detail(task: Any, base_url: str) -> TaskDetailOut:
    out = task_out(store.to_document(task), base_url)
    history = [StatusChangeOut(version=h.version, status=h.status, at=h.at, by=h.by, reason=h.reason, event_id=h.event_id) for h in task.history]
    return TaskDetailOut(**out.model_dump(), history=history)


def _answer(task: Any, runtime: Any, response: Response) -> TaskDetailOut:
    """A task of the caller's tray with its history, its version sent as the answer's ETag."""
    response.headers["ETag"] = etag(task.version)
    return _detail(task, _notifier(runtime).settings.frontend_base_url)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/tasks", response_model=Page[TaskOut], tags=["work tray"], summary="The caller's work tray, in due order")
    async def list_tasks(
        caller: CurrentPerson,
        runtime: RuntimeDep,
        page: Pagination,
        status: Annotated[TaskStatus | None, Query(description="open, done or cancelled")] = None,
        kind: Annotated[TaskKind | None, Query(description="Only tasks of this kind")] = None,
        origin: Annotated[Origin | None, Query(description="Only tasks from a person, or from the system")] = None,
        due: Annotated[Due | None, Query(description="today: due today; overdue: open and due before today")] = None,
    ) -> Page[TaskOut]:
        today = local_date(runtime.clock.now())
        due_on = due_before = None
        if due is Due.TODAY:
            due_on = today.isoformat()
        elif due is Due.OVERDUE:
            if status not in (None, TaskStatus.OPEN):
                raise Problem(400, "contradictory-filters", "Contradictory filters", "Overdue tasks are open ones: leave out status or use status=open.")
            status = TaskStatus.OPEN
            due_before = today.isoformat()
        after = None
        if page.cursor is not None:
            try:
                after = (str(page.cursor["d"]), str(page.cursor["i"]))
            except KeyError:
                raise bad_cursor() from None
        docs = await store.list_tasks(
            runtime.db, caller.person_id, status=status, kind=kind, origin=origin, due_on=due_on, due_before=due_before,
            after=after, limit=page.limit + 1,
        )
        base = _notifier(runtime).settings.frontend_base_url
        items = [task_out(d, base) for d in docs[: page.limit]]
        last = docs[page.limit - 1] if len(docs) > page.limit else None
        return Page(items=items, next=encode_cursor({"d": last["due_key"], "i": last["_id"]}) if last else None)

    @router.get(
        "/tasks/stream",
        response_class=StreamingResponse,
        tags=["work tray"],
        summary="Server-Sent Events: the caller's new and changed tasks as they happen",
        responses={200: {"content": {"text/event-stream": {}}, "description": "`event: task` with a TaskOut as data; heartbeat comments"}},
    )
    async def stream_tasks(caller: CurrentPerson, runtime: RuntimeDep, request: Request) -> StreamingResponse:
        hub: TaskHub = runtime.extra["hub"]
        notifier = _notifier(runtime)
        base = notifier.settings.frontend_base_url

        def render(doc: dict[str, Any]) -> str:
            return json.dumps(task_out(doc, base).model_dump(mode="json"), separators=(",", ":"))

        body = sse_stream(hub, caller.person_id, heartbeat_s=notifier.settings.sse_heartbeat_s, render=render,
                          is_disconnected=request.is_disconnected)
        return StreamingResponse(body, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/tasks/{task_id}", response_model=TaskDetailOut, tags=["work tray"], summary="One task of the caller's tray, with its history")
    async def get_task(task_id: TaskId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> TaskDetailOut:
        task = await store.load_task(runtime.db, task_id, with_history=True)
        task.ensure_assignee(caller.person_id)
        return _answer(task, runtime, response)

    #: A change the assignee makes to a task of their tray (at the version they saw), answered with the task.
    task_change = partial(router.post, response_model=TaskDetailOut, tags=["work tray"])

    @task_change("/tasks/{task_id}/done", summary="Mark a task of the caller's tray done")
    async def mark_task_done(task_id: TaskId, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch,
                        body: DoneIn | None = None) -> TaskDetailOut:
        task = await usecases.mark_done(runtime.uow, runtime.db, task_id, by=caller.person_id, if_match=if_match,
                                        note=body.note if body else None)
        return _answer(task, runtime, response)

    @task_change("/tasks/{task_id}/cancel", summary="Cancel a task of the caller's tray")
    async def cancel_task(task_id: TaskId, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch,
                     body: CancelIn | None = None) -> TaskDetailOut:
        task = await usecases.cancel_task(runtime.uow, runtime.db, task_id, by=caller.person_id, if_match=if_match,
                                          reason=body.reason if body else None)
        return _answer(task, runtime, response)

    def prefs_out(prefs: Preferences) -> PreferencesOut:
        return PreferencesOut(person_id=prefs.person_id, version=prefs.version, email=prefs.email_settings(),
                              statutory=sorted(STATUTORY), updated_at=prefs.updated_at, updated_by=prefs.updated_by)

    @router.get("/preferences", response_model=PreferencesOut, tags=["preferences"], summary="The caller's email preferences")
    async def get_preferences(caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> PreferencesOut:
        prefs = await store.load_preferences(runtime.db, caller.person_id)
        response.headers["ETag"] = etag(prefs.version)
        return prefs_out(prefs)

    @router.patch(
        "/preferences",
        response_model=PreferencesOut,
        tags=["preferences"],
        summary="Turn emails on or off per kind of task (statutory kinds stay on); If-Match \"0\" before the first change",
    )
    async def change_preferences(body: PreferencesIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response,
                                 if_match: RequiredIfMatch) -> PreferencesOut:
        prefs = await usecases.change_preferences(runtime.uow, runtime.db, caller.person_id, body.email, if_match=if_match)
        response.headers["ETag"] = etag(prefs.version)
        return prefs_out(prefs)

    router.include_router(scheduler_api.build_router())
    return router

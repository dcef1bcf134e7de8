"""Routes over a child's case and a person: their exemplars, and the case's chronology."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

from fastapi import APIRouter
from shared.app import RuntimeDep
from shared.http import IdPath, Page, Pagination
from shared.identity import CurrentPerson
from shared.mongo import Document

from .. import directory, store, usecases
from ..domain import roles
from ..domain.errors import NotFound
from . import convert, paging
from . import models as m

router = APIRouter(prefix="/v1", tags=["cases"])

Ident: TypeAlias = IdPath
T = TypeVar("T")
#: A store's list of a case's rows, ``limit`` of them after the sort key ``after``.
ReadCase = Callable[..., Awaitable[list[Document]]]
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"description": "No such case, or not one you may read"}, 403: {"description": "Not allowed"}}


async def _readable_case(runtime: RuntimeDep, caller: CurrentPerson, case_id: str) -> None:
    case = await directory.case(runtime.db, case_id)
    if case is None or not usecases.may_read(await usecases.actor_for(runtime.db, caller, case)):
        raise NotFound("case", case_id)


async def _page_of_case(
    runtime: RuntimeDep, caller: CurrentPerson, case_id: str, page: Pagination, read: ReadCase, convert_row: Callable[[Document], T]
) -> Page[T]:
    """One page of what ``read`` lists of a case the caller may read (404 otherwise)."""
    await _readable_case(runtime, caller, case_id)
    return paging.page_of(await read(runtime.db, case_id, after=paging.after(page), limit=page.limit + 1), page, convert_row)


@router.get("/cases/{case_id}/exemplars", response_model=Page[m.ExemplarSummaryOut], summary="A child's exemplars, oldest first", responses=_ERRORS)
async def case_exemplars(case_id: Ident, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[m.ExemplarSummaryOut]:
    return await _page_of_case(runtime, caller, case_id, page, store.exemplars_of_case, convert.summary)


@router.get(
    "/cases/{case_id}/chronology", response_model=Page[m.ChronologyEntryOut], responses=_ERRORS,
    summary="A child's chronology: every version, signature, unlock, clone and message, in order",
)
async def case_chronology(case_id: Ident, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[m.ChronologyEntryOut]:
    return await _page_of_case(runtime, caller, case_id, page, store.chronology_of_case, convert.chronology_entry)


@router.get(
    "/people/{person_id}/exemplars", response_model=Page[m.ExemplarSummaryOut], responses=_ERRORS,
    summary="Exemplars a person started, edited, signed, counter-signed or unlocked (read by them, their line manager, or oversight roles)",
)
async def person_exemplars(person_id: Ident, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[m.ExemplarSummaryOut]:
    if person_id != caller.person_id and caller.roles.isdisjoint(roles.READ_ANY_CASE):
        person = await directory.person(runtime.db, person_id)
        if person is None or person.line_manager_id != caller.person_id:
            raise NotFound("person's exemplar list", person_id)
    docs = await store.exemplars_of_person(runtime.db, person_id, after=paging.after(page), limit=page.limit + 1)
    return paging.page_of(docs, page, convert.summary)

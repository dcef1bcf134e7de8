"""Cursor paging over a list read ``limit + 1`` rows at a time, ordered by one indexed key.

The cursor a page hands out (``Page.next``) holds ``{"after": <the last row's key>}``; ``after``
reads it back, refusing one a client made up, and ``page_of`` cuts the rows read into the page
and the cursor of the next one (only when the extra row shows that another page follows).

A list newest first (``shared.keyset.page_newest_first``) hands out ``{"before": [<the last row's
created_at>, <its id>]}``: ``newest_page_of`` and ``before``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, overload

from .errors import bad_cursor
from .http import Page, PageParams, encode_cursor

T = TypeVar("T")
K = TypeVar("K")


@overload
def after(page: PageParams, kind: type[K]) -> K | None: ...
@overload
def after(page: PageParams, kind: type[K], start: K) -> K: ...
def after(page: PageParams, kind: type[K], start: K | None = None) -> K | None:
    """The key of type ``kind`` the page starts after (``start`` on the first page); 400 if the
    cursor holds anything else."""
    value = page.cursor.get("after", start) if page.cursor else start
    if value is not start and not isinstance(value, kind):
        raise bad_cursor()
    return value


def page_of(docs: list[dict[str, Any]], page: PageParams, convert: Callable[[dict[str, Any]], T], key: str = "_id") -> Page[T]:
    """``docs`` was fetched with ``limit + 1`` to learn whether another page follows."""
    more = len(docs) > page.limit
    items = [convert(d) for d in docs[: page.limit]]
    return Page(items=items, next=encode_cursor({"after": docs[page.limit - 1][key]}) if more else None)


def before(page: PageParams) -> tuple[datetime, str] | None:
    """The (created_at, id) a newest-first page starts before (None on the first page); 400 if the
    cursor holds anything else."""
    if not page.cursor:
        return None
    try:
        at, ident = page.cursor["before"]
        if not isinstance(at, str) or not isinstance(ident, str):
            raise TypeError(at, ident)
        return datetime.fromisoformat(at), ident
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_cursor() from exc


def newest_page_of(docs: list[dict[str, Any]], page: PageParams, convert: Callable[[dict[str, Any]], T]) -> Page[T]:
    """``docs`` was read newest first with ``limit + 1``: the page, and the cursor of the next one
    only when the extra row shows that another follows (a full last page has none)."""
    items = [convert(d) for d in docs[: page.limit]]
    last = docs[page.limit - 1] if len(docs) > page.limit else None
    return Page(items=items, next=encode_cursor({"before": [last["created_at"].isoformat(), last["_id"]]}) if last else None)

"""Cursor paging over lists ordered by one indexed string key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from shared.errors import Problem
from shared.http import Page, PageParams, encode_cursor

T = TypeVar("T")


def after(page: PageParams) -> str | None:
    value = page.cursor.get("after") if page.cursor else None
    if value is not None and not isinstance(value, str):
        raise Problem(400, "bad-cursor", "Malformed cursor", "Pass back the 'next' value of the previous page unchanged.")
    return value


def page_of(docs: list[dict[str, Any]], page: PageParams, convert: Callable[[dict[str, Any]], T], key: str = "sort_key") -> Page[T]:
    """``docs`` was fetched with ``limit + 1`` to learn whether another page follows."""
    more = len(docs) > page.limit
    items = [convert(d) for d in docs[: page.limit]]
    return Page(items=items, next=encode_cursor({"after": docs[page.limit - 1][key]}) if more else None)

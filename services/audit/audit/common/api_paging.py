"""The two ways audit's routes page a list, written once.

By key (``keyset_page``): the store reads ``limit + 1`` records after the key the cursor holds
(``after``); the extra one only shows that another page follows, and the next cursor holds the
key of the last record shown. ``shared.paging.page_of`` does the same for stored documents; this
is for records read back as domain values (the key an attribute, ``id`` unless named).

By position (``slice_page``): a list held whole on its record (an audit's drafts and copies, a
report's versions); the cursor holds the index of the last item shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import TypeVar

from shared.http import Page, PageParams, encode_cursor

from shared import paging

R = TypeVar("R")
A = TypeVar("A")


def after(page: PageParams) -> str | None:
    """The id the page starts after (``None`` on the first page); 400 ``bad-cursor`` for a cursor
    that holds anything else."""
    return paging.after(page, str)


def keyset_page(found: Sequence[R], page: PageParams, convert: Callable[[R], A], key: str = "id") -> Page[A]:
    """``found`` was read with ``limit + 1`` after the cursor's key: the page, and the cursor of the
    next one when the extra record shows that another follows."""
    more = len(found) > page.limit
    items = [convert(r) for r in found[: page.limit]]
    return Page(items=items, next=encode_cursor({"after": attrgetter(key)(found[page.limit - 1])}) if more else None)


def slice_page(rows: Sequence[R], page: PageParams, convert: Callable[[R], A]) -> Page[A]:
    """A page of ``rows`` held whole, from the one after the index the cursor holds."""
    start = paging.after(page, int, -1) + 1
    items = [convert(r) for r in rows[start : start + page.limit]]
    more = start + page.limit < len(rows)
    return Page(items=items, next=encode_cursor({"after": start + page.limit - 1}) if more else None)

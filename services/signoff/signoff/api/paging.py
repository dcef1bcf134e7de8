"""Cursor paging over sign-off's lists, each ordered by one indexed string key, its ``sort_key``
(the mechanism is ``shared.paging``'s)."""

from __future__ import annotations

from functools import partial

from shared import paging

#: The ``sort_key`` the page starts after (None on the first page).
after = partial(paging.after, kind=str)
#: One page of the rows read (``limit + 1`` of them), with the cursor of the next.
page_of = partial(paging.page_of, key="sort_key")

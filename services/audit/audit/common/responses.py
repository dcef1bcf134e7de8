"""The answers a route that changes a record documents, written once for audit's routes: who may
not see it (404), whose it is not to do (403), a step it is not at (409), a stale If-Match (412),
invalid entries (422) and a missing If-Match (428). Each package words them for its own record."""

from __future__ import annotations

from typing import Any

Responses = dict[int | str, dict[str, Any]]


def change_responses(*, missing: str, forbidden: str, conflict: str, stale: str, invalid: str) -> Responses:
    """The documented problem answers of a version-guarded change (the ``responses=`` of its route)."""
    return {
        404: {"description": missing},
        403: {"description": forbidden},
        409: {"description": conflict},
        412: {"description": stale},
        422: {"description": invalid},
        428: {"description": "If-Match required"},
    }

"""Refusals of the practice and team review records that the audit's own errors do not name
(mapped to problem+json in ``audit.problems``; a stale version is ``shared.versioned.Stale``)."""

from __future__ import annotations


class RecordNotFound(Exception):
    """No such record, or not the caller's to see (404)."""

    def __init__(self, what: str, record_id: str) -> None:
        super().__init__(f"{what} {record_id!r}")
        self.what, self.record_id = what, record_id


class RecordExists(Exception):
    """A record with this natural key exists already (409)."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(detail)
        self.what, self.detail = what, detail

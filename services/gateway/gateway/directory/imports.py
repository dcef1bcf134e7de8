"""The asynchronous bulk import's rules (no I/O): asking for it (RFC 7240 ``Prefer: respond-async``),
splitting the good rows into batches, the job as stored and the report it gives.

A job is stored with its good rows, one document per batch, and written later by a runner one
batch per transaction; ``batches_done`` says how far it got, so it resumes at the next batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from .bulk import Rejected

T = TypeVar("T")

RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"

#: How long a finished job's stored rows are kept (its report is kept for good).
ROWS_RETENTION = timedelta(days=7)
#: Rejections per stored document (a file of 50,000 bad rows must not outgrow one document).
REJECTIONS_PER_DOCUMENT = 1000
#: A lease already lapsed: a new job may be claimed by any runner at once.
LAPSED = datetime(1970, 1, 1, tzinfo=UTC)


def prefers_respond_async(values: Iterable[str]) -> bool:
    """Whether the ``Prefer`` header(s) ask for ``respond-async`` (RFC 7240: a comma-separated
    list of preferences, each a token with optional ``=value`` and ``;`` parameters, case-insensitive)."""
    for value in values:
        for preference in value.split(","):
            token = preference.split(";", 1)[0].split("=", 1)[0].strip().lower()
            if token == "respond-async":
                return True
    return False


def split(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in order, ``size`` at a time (the last batch may be shorter)."""
    if size < 1:
        raise ValueError("a batch holds at least one item")
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


def rejection_documents(rejected: Sequence[Rejected]) -> list[dict[str, Any]]:
    """The rejected rows as stored and reported: row number, id and what is wrong."""
    return [
        {"row": r.row, "id": r.id, "errors": [{"field": e.field, "message": e.message} for e in r.errors]}
        for r in rejected
    ]


def new_job(
    job_id: str, kind: str, *, by: str, received: int, accepted: int, rejected: int, batches_total: int, now: datetime, through: int = 0
) -> dict[str, Any]:
    """A job as stored: nothing written yet; a job without a good row is completed at once.
    ``through`` grows with each batch: the directory sequence of its kind after the batch
    (the directory sync signal)."""
    done = batches_total == 0
    return {
        "_id": job_id, "kind": kind, "status": COMPLETED if done else RUNNING, "reason": None, "by": by,
        "received": received, "accepted": accepted, "rejected": rejected, "created": 0, "updated": 0, "unchanged": 0,
        "batches_done": 0, "batches_total": batches_total, "claim": None, "lease_until": LAPSED, "failures": 0,
        "created_at": now, "updated_at": now, "finished_at": now if done else None, "through": through,
    }


def report(job: dict[str, Any], rejections: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What a job did so far, as the API shows it (``rejections`` None: a summary without them)."""
    out: dict[str, Any] = {
        "id": job["_id"], "kind": job["kind"], "status": job["status"], "reason": job.get("reason"), "requested_by": job["by"],
        **{name: job[name] for name in ("received", "accepted", "created", "updated", "unchanged", "rejected", "batches_done", "batches_total")},
        "created_at": job["created_at"].isoformat(),
        "finished_at": job["finished_at"].isoformat() if job.get("finished_at") else None,
    }
    if rejections is not None:
        out["rejections"] = rejections
    return out

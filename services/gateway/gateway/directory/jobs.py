"""The asynchronous bulk import: jobs stored with their good rows, and the runner that writes them.

A job (``directory_imports``) is stored after its rows (``directory_import_rows``, one document
per batch) and rejections, so a job that exists has everything it needs. Every gateway replica
runs an ``ImportRunner``: it claims a running job whose lease lapsed (``IMPORT_CLAIM_S``) and
writes its remaining batches, each in ONE transaction with the job's progress; that update is
guarded by the claim and the batch number, so a runner that lost its claim writes nothing, and
a gateway killed mid-import is resumed at the next batch by any replica, no record written twice
and no event recorded twice. The rows of a finished job expire after ``ROWS_RETENTION``; the job
(its report) is kept.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.identity import Identity
from shared.keyset import page_newest_first
from shared.mongo import Document, Indexes, Transaction, UnitOfWork
from shared.worker import BackgroundWorker

from . import imports, store
from .bulk import Rejected
from .imports import COMPLETED, FAILED, RUNNING
from .store import KINDS_BY_NAME, Kind

log = logging.getLogger(__name__)

JOBS = "directory_imports"
ROWS = "directory_import_rows"
REJECTIONS = "directory_import_rejections"

INDEXES = [
    Indexes(JOBS, [
        # Equality and an exclusive bound on lease_until only (SecantusDB can miss keys equal to a $lte bound).
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)]),
    ]),
    Indexes(ROWS, [IndexModel([("job_id", ASCENDING)]), IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)]),
    # Rejections expire only if their job was never stored (the gateway stopped in between).
    Indexes(REJECTIONS, [IndexModel([("job_id", ASCENDING), ("seq", ASCENDING)]), IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)]),
]

#: Failed attempts at one batch (the database unreachable, say) before the job is given up.
MAX_FAILURES = 5


async def store_job(
    uow: UnitOfWork, now: datetime, kind: Kind, good: Sequence[tuple[str, Any]], rejected: Sequence[Rejected], *,
    received: int, by: str, batch_size: int,
) -> tuple[Document, list[dict[str, Any]]]:
    """Store a checked import (its ``good`` records by id, its ``rejected`` rows) as a job and
    return it with its rejections.

    The rows and the rejections go first, marked to expire; then one transaction stores the job
    and keeps its rejections. A gateway stopped in between leaves nothing that stays: what it
    wrote expires, and no job names it."""
    db = uow.db
    job_id = uuid.uuid4().hex
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as MongoDB keeps it, so the 202 and later reports agree
    batches = imports.split(good, batch_size)
    rejections = imports.rejection_documents(rejected)
    expires_at = now + imports.ROWS_RETENTION  # moved on when the job finishes
    if batches:
        await db[ROWS].insert_many([
            {
                "_id": f"{job_id}:{n}", "job_id": job_id, "batch": n, "expires_at": expires_at,
                "records": [{"id": record_id, "data": kind.data_of(record)} for record_id, record in batch],
            }
            for n, batch in enumerate(batches)
        ])
    if rejections:
        await db[REJECTIONS].insert_many([
            {"_id": f"{job_id}:{n}", "job_id": job_id, "seq": n, "rejections": chunk, "expires_at": expires_at}
            for n, chunk in enumerate(imports.split(rejections, imports.REJECTIONS_PER_DOCUMENT))
        ])
    # A job with nothing to write holds the directory as it is now (the sync signal's sequence).
    through = 0 if batches else (await store.last_sequences(db))[kind.name]
    job = imports.new_job(
        job_id, kind.name, by=by, received=received, accepted=len(good), rejected=len(rejected),
        batches_total=len(batches), now=now, through=through,
    )

    async def keep(tx: Transaction) -> None:
        await db[JOBS].insert_one(job, session=tx.session)
        if rejections:
            await db[REJECTIONS].update_many({"job_id": job_id}, {"$unset": {"expires_at": ""}}, session=tx.session)

    await uow.run(keep)
    return job, rejections


async def get_job(db: AsyncDatabase[Document], job_id: str) -> Document | None:
    return await db[JOBS].find_one({"_id": job_id})


async def rejections_of(db: AsyncDatabase[Document], job_id: str) -> list[dict[str, Any]]:
    docs = await db[REJECTIONS].find({"job_id": job_id}).sort("seq", ASCENDING).to_list()
    return [r for doc in docs for r in doc["rejections"]]


async def list_jobs(db: AsyncDatabase[Document], *, before: tuple[datetime, str] | None, limit: int) -> list[Document]:
    """Jobs newest first; ``before`` is the (created_at, id) of the last one of the previous page."""
    return await page_newest_first(db[JOBS], {}, before=before, limit=limit)


class LostClaim(Exception):
    """Another runner holds the job now (this one's lease lapsed); the batch was not written."""


class ImportRunner(BackgroundWorker):
    """Writes stored import jobs batch by batch; one per gateway replica, woken (``wake()``) when a
    job is stored, so it starts now rather than at the next poll. Stopping lets the batch in hand
    finish and releases the job for another replica at once."""

    def __init__(
        self, uow: UnitOfWork, *, claim_s: float, poll_interval_s: float, on_finished: Callable[[Document], None] = lambda job: None
    ) -> None:
        super().__init__(
            "directory-import-runner", interval_s=poll_interval_s, stop_timeout_s=max(10.0, claim_s), logger=log,
            failure_message="import runner pass failed; retrying",
        )
        self.uow = uow
        self.db = uow.db
        self.clock = uow.clock
        self.claim_s = claim_s
        self.poll_interval_s = poll_interval_s
        self.on_finished = on_finished

    async def run_once(self) -> None:
        await self.run_pending()

    async def run_pending(self) -> int:
        """Claim and write jobs until none is waiting; returns how many were taken."""
        taken = 0
        while not self.stopping:
            job = await self.claim()
            if job is None:
                break
            taken += 1
            while job is not None:
                if self.stopping:
                    await self.release(job)
                    break
                try:
                    job = await self.write_next_batch(job)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    assert job is not None  # write_next_batch raised, so job is still the claimed one
                    log.exception("import batch failed", extra={"job_id": job["_id"], "batch": job["batches_done"] + 1})
                    await self._set_back(job)
                    break
        return taken

    async def claim(self) -> Document | None:
        """Take the oldest running job whose lease lapsed (a new one, or one whose runner stopped)."""
        now = self.clock.now()
        due = {"status": RUNNING, "lease_until": {"$lt": now}}
        candidates = await self.db[JOBS].find(due, {"_id": 1}).sort([("lease_until", ASCENDING), ("created_at", ASCENDING)]).limit(5).to_list()
        for candidate in candidates:
            claim = uuid.uuid4().hex
            result = await self.db[JOBS].update_one(
                {**due, "_id": candidate["_id"]}, {"$set": {"claim": claim, "lease_until": now + timedelta(seconds=self.claim_s)}}
            )
            if result.modified_count == 1:
                job = await self.db[JOBS].find_one({"_id": candidate["_id"], "claim": claim})
                if job is not None:
                    return job
        return None

    async def release(self, job: Document) -> None:
        """Give the job up so that another runner may take it at once."""
        await self.db[JOBS].update_one({"_id": job["_id"], "claim": job["claim"]}, {"$set": {"claim": None, "lease_until": imports.LAPSED}})

    async def write_next_batch(self, job: Document) -> Document | None:
        """Write the job's next batch with its progress in one transaction.

        Returns the job as it now is, or None when there is nothing more for this runner to do
        (the job completed, failed, or another runner holds it).
        """
        n = job["batches_done"]
        kind = KINDS_BY_NAME[job["kind"]]
        rows = await self.db[ROWS].find_one({"_id": f"{job['_id']}:{n}"})
        if rows is None:
            days = imports.ROWS_RETENTION.days
            await self._fail(job, f"The rows of batch {n + 1} are no longer stored (they are kept {days} days); send the file again.")
            return None
        batch = [(row["id"], kind.record_of(row["data"])) for row in rows["records"]]
        last = n + 1 == job["batches_total"]
        after: dict[str, Any] = {}

        async def record_progress(tx: Transaction, counts: store.BatchCounts) -> None:
            now = self.clock.now()
            inc = {"created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged}
            fields: dict[str, Any] = {"batches_done": n + 1, "updated_at": now, "lease_until": now + timedelta(seconds=self.claim_s), "failures": 0}
            if last:
                fields |= {"status": COMPLETED, "finished_at": now}
            result = await self.db[JOBS].update_one(
                {"_id": job["_id"], "claim": job["claim"], "status": RUNNING, "batches_done": n},
                {"$inc": inc, "$set": fields, "$max": {"through": counts.through}}, session=tx.session,
            )
            if result.matched_count != 1:
                raise LostClaim
            after.clear()
            after.update({**job, **fields, **{k: job[k] + v for k, v in inc.items()}, "through": max(job.get("through", 0), counts.through)})

        try:
            await store.write_batch(self.uow, kind, batch, by=Identity(person_id=job["by"]), also=record_progress)
        except LostClaim:
            log.info("import job taken over by another runner", extra={"job_id": job["_id"], "batch": n + 1})
            return None
        except store.ImportRaced as exc:  # the batch kept meeting concurrent changes (409 on the synchronous path)
            await self._fail(job, str(exc))
            return None
        if last:
            await self._finished(after)
            return None
        return after

    async def _fail(self, job: Document, reason: str) -> None:
        now = self.clock.now()
        result = await self.db[JOBS].update_one(
            {"_id": job["_id"], "claim": job["claim"], "status": RUNNING},
            {"$set": {"status": FAILED, "reason": reason, "finished_at": now, "updated_at": now, "claim": None}},
        )
        if result.modified_count == 1:
            log.warning("import job failed", extra={"job_id": job["_id"], "reason": reason})
            failed = await get_job(self.db, job["_id"])
            await self._finished(failed or job)

    async def _set_back(self, job: Document) -> None:
        """After an unexpected error: try the batch again later, and give up after MAX_FAILURES."""
        failures = job.get("failures", 0) + 1
        if failures >= MAX_FAILURES:
            await self._fail(job, f"Batch {job['batches_done'] + 1} could not be written after {failures} attempts; send the file again.")
            return
        retry_at = self.clock.now() + timedelta(seconds=min(self.claim_s, 2.0**failures))
        await self.db[JOBS].update_one(
            {"_id": job["_id"], "claim": job["claim"], "status": RUNNING}, {"$set": {"failures": failures, "lease_until": retry_at, "claim": None}}
        )

    async def _finished(self, job: Document) -> None:
        finished_at = job.get("finished_at") or self.clock.now()
        await self.db[ROWS].update_many({"job_id": job["_id"]}, {"$set": {"expires_at": finished_at + imports.ROWS_RETENTION}})
        self.on_finished(job)

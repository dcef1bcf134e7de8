"""The reports' roll-ups in MongoDB (``report_rollups``): one small document per ``rollups.Key``
(what it counts is in ``reporting.domain.rollups``), read by ``reporting.store`` through the index
on (kind, dim, period, tool), and recomputed from the audits by ``reporting.readmodels.rebuild``.

The audit store records what each write moves in that write's transaction (``apply``) as one new
pending document (``report_rollups_pending``, ``shared.rollups.record``): an insert, so that audits
written at once (two replicas allocating a month, say) never conflict on the month's roll-ups as
they did when each write ``$inc``-ed them. ``fold`` adds the pending changes in (counts summed, least
values kept with ``$min``); every report folds before it reads, and a background worker every few
seconds (``folder``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes
from shared.worker import BackgroundWorker

from shared import rollups as pending_changes

from ..case_audit.documents import from_document
from .domain import agreement as agreeing
from .domain import rollups as domain

ROLLUPS = "report_rollups"

#: Every report's read: a kind (and dimension) over periods, of one programme's tool or all.
ROLLUP_INDEXES = Indexes(ROLLUPS, [IndexModel([("kind", ASCENDING), ("dim", ASCENDING), ("period", ASCENDING), ("tool_id", ASCENDING)])])
INDEXES = [ROLLUP_INDEXES, pending_changes.pending_indexes(ROLLUPS)]

#: The fields of an audit's document its roll-up facts are read from (``Facts.of_document``).
FACT_FIELDS = {
    "month": 1, "tool_id": 1, "team_id": 1, "auditor_id": 1, "status": 1, "submitted": 1, "grade": 1, "weak_sections": 1, "no_answers": 1,
    "agreement": 1,
}


def _legacy_pairing(doc: Mapping[str, Any]) -> agreeing.Pairing | None:
    """The paired grades of a completed audit stored before its document kept them (from its body)."""
    if "audit" not in doc:
        return None
    return agreeing.pairing(from_document(dict(doc)))


def facts(doc: Mapping[str, Any]) -> domain.Facts:
    return domain.Facts.of_document(doc, _legacy_pairing)


def operations(change: domain.Contribution) -> list[UpdateOne]:
    """One upsert per roll-up the change moves: ``$inc`` the counts, ``$min`` the least values."""
    out = []
    for key in sorted(set(change.counts) | set(change.least)):
        update: dict[str, Any] = {"$setOnInsert": key._asdict()}
        if counts := change.counts.get(key):
            update["$inc"] = counts
        if least := change.least.get(key):
            update["$min"] = least
        out.append(UpdateOne({"_id": key.id}, update, upsert=True))
    return out


async def apply(db: AsyncDatabase[Document], before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]], *, session: AsyncClientSession | None) -> None:
    """Record the move of the roll-ups from the audits' documents ``before`` to ``after`` as one
    pending change (one insert, in the caller's transaction; nothing when no count moves)."""
    change = domain.delta([facts(d) for d in before], [facts(d) for d in after])
    if change:
        await pending_changes.record(db[ROLLUPS], {"rollups": encoded(change)}, session=session)


def encoded(change: domain.Contribution) -> list[list[Any]]:
    """``change`` as a pending document keeps it: per roll-up, its key's parts, its counts and its
    least values as [name, value] pairs (names are dotted paths, which stay values here)."""
    return [
        [list(key), sorted(change.counts.get(key, {}).items()), sorted(change.least.get(key, {}).items())]
        for key in sorted(set(change.counts) | set(change.least))
    ]


def decoded(docs: Iterable[Mapping[str, Any]]) -> domain.Contribution:
    """The pending changes of ``docs`` together: counts summed, the least of each value kept."""
    total = domain.Contribution()
    for doc in docs:
        for parts, counts, least in doc["rollups"]:
            key = domain.Key(*parts)
            for name, n in counts:
                total.add(key, name, n)
            for name, value in least:
                total.keep_least(key, name, value)
    return total.without_zeros()


def _fold_operations(docs: list[dict[str, Any]]) -> list[UpdateOne]:
    return operations(decoded(docs))


async def fold(db: AsyncDatabase[Document]) -> None:
    """Add every pending change into the roll-ups (what a report does before it reads)."""
    await pending_changes.fold_all(db[ROLLUPS], _fold_operations)


def folder(db: AsyncDatabase[Document]) -> BackgroundWorker:
    """The background worker that keeps the pending changes few."""
    return pending_changes.folder(db[ROLLUPS], _fold_operations)


def documents(total: domain.Contribution) -> list[Document]:
    """The roll-up documents of ``total`` (every audit's contribution summed), as the rebuild writes them."""
    out: list[Document] = []
    for key in sorted(set(total.counts) | set(total.least)):
        doc: Document = {"_id": key.id, **key._asdict()}
        for name, value in [*total.counts.get(key, {}).items(), *total.least.get(key, {}).items()]:
            _set_path(doc, name.split("."), value)
        out.append(doc)
    return out


def _set_path(doc: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        doc = doc.setdefault(part, {})
    doc[path[-1]] = value

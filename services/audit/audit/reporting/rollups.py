"""The reports' roll-ups in MongoDB (``report_rollups``): one small document per ``rollups.Key``
(what it counts is in ``reporting.domain.rollups``), moved by the audit store in the same
transaction as the audit it writes (``apply``), read by ``reporting.store`` through the index on
(kind, dim, period, tool), and recomputed from the audits by ``reporting.readmodels.rebuild``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes

from ..case_audit.documents import from_document
from .domain import agreement as agreeing
from .domain import rollups as domain

ROLLUPS = "report_rollups"

INDEXES = [
    # Every report's read: a kind (and dimension) over periods, of one programme's tool or all.
    Indexes(ROLLUPS, [IndexModel([("kind", ASCENDING), ("dim", ASCENDING), ("period", ASCENDING), ("tool_id", ASCENDING)])]),
]

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
    """Move the roll-ups from the audits' documents ``before`` to ``after`` (one bulk write, in the
    caller's transaction; nothing when no count moves)."""
    change = domain.delta([facts(d) for d in before], [facts(d) for d in after])
    if change:
        await db[ROLLUPS].bulk_write(operations(change), ordered=False, session=session)


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

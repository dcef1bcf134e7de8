"""Counting roll-ups kept beside the records they count: the mechanism, not what is counted.

A service's report reads a few roll-up documents per period instead of every record behind them.
What one record adds to the roll-ups is a ``Contribution``: amounts keyed by (roll-up document
id, dotted path inside it). Every write of a record moves the roll-ups by
``contribution(after) - contribution(before)`` in the write's own transaction (``apply``: one
bulk write of ``$inc`` upserts, none when nothing counted changed); a rebuild sums every record's
contribution and writes the documents whole (``documents``). Both give the same documents, which
is what a service's test of its roll-ups checks.

Values that become field names (a theme's id, a type code) are escaped (``field``) so that a
``.``, a ``$`` or a ``%`` in them cannot make a path of their own, and read back with ``value``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import unquote

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

#: (roll-up document id, dotted path) -> amount.
Contribution = Counter[tuple[str, str]]
#: The fields a roll-up document carries besides its counts (for its indexes), from its id.
Fields = Callable[[str], dict[str, Any]]


def field(value: object) -> str:
    """A field name standing for ``value`` (prefixed, so that no value is empty or numeric-looking)."""
    return "k" + str(value).replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def value(name: str) -> str:
    """The value a ``field`` name stands for."""
    return unquote(name[1:])


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def delta(before: Contribution, after: Contribution) -> dict[str, dict[str, int]]:
    """``after - before`` per roll-up document, without zeros."""
    change = Counter(after)
    change.subtract(before)
    out: dict[str, dict[str, int]] = {}
    for (document_id, path), n in sorted(change.items()):
        if n:
            out.setdefault(document_id, {})[path] = n
    return out


async def apply(
    collection: AsyncCollection[Any], before: Contribution, after: Contribution, fields: Fields, *, session: AsyncClientSession | None,
) -> None:
    """Move the roll-ups in ``collection`` from ``before`` to ``after``: one bulk write of ``$inc``
    upserts (each setting its document's ``fields``), nothing when no amount moves."""
    change = delta(before, after)
    if change:
        await collection.bulk_write(
            [UpdateOne({"_id": document_id}, {"$inc": inc, "$set": fields(document_id)}, upsert=True) for document_id, inc in change.items()],
            ordered=False, session=session,
        )


def documents(totals: Contribution, fields: Fields) -> list[dict[str, Any]]:
    """The roll-up documents holding ``totals`` whole (zero amounts left out), as a rebuild writes them."""
    by_id: dict[str, dict[str, Any]] = {}
    for (document_id, path), n in sorted(totals.items()):
        if not n:
            continue
        node = by_id.setdefault(document_id, {"_id": document_id, **fields(document_id)})
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = n
    return list(by_id.values())

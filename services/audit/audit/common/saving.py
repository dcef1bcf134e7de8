"""How audit's stores keep an aggregate, written once: under one field of its document, beside the
fields its queries read (``Embedded``), and saved at its next version with the version it was read
at as the guard (``shared.versioned.replace_versioned``). A refused write leaves the aggregate at
that version, as it was read, so nothing in memory claims a write that did not happen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from pydantic import TypeAdapter
from pymongo.asynchronous.client_session import AsyncClientSession
from shared.documents import Document
from shared.versioned import Collection, Stale, replace_versioned


class Versioned(Protocol):
    id: str
    version: int


V = TypeVar("V", bound=Versioned)


class Embedded(Generic[V]):
    """An aggregate kept under the field ``key`` of its document as JSON, without the events it
    recorded (the outbox has them); its version is the document's ``version``."""

    def __init__(self, kind: type[V], key: str) -> None:
        self.key = key
        self._adapter: TypeAdapter[V] = TypeAdapter(kind)

    def dumped(self, record: V) -> Document:
        """What goes under ``key``."""
        return self._adapter.dump_python(record, mode="json", exclude={"events"})

    def loaded(self, doc: Document) -> V:
        """The aggregate a stored document holds, with no events recorded yet."""
        record = self._adapter.validate_python({**doc[self.key], "events": []})
        record.version = doc["version"]
        return record


async def save_next_version(
    collection: Collection, record: V, to_document: Callable[[V], Document], *, what: str, session: AsyncClientSession | None
) -> None:
    """Replace the stored ``record`` with its next version if nobody changed it since it was read;
    else ``Stale``, and ``record`` keeps the version it was read at."""
    expected = record.version
    record.version = expected + 1
    try:
        await replace_versioned(collection, record.id, to_document(record), expected, what=what, session=session)
    except Stale:
        record.version = expected
        raise

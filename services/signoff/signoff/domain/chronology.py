"""A child's chronology: every version, signature, unlock, clone and workflow message of their
exemplars, in order, with who, when, the version number and the type (the seed's Chronology table).
Entries are written with the change that causes them and never edited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from . import events as ev
from .messages import ACTION_WORDS, Action


class Kind(StrEnum):
    CREATED = "created"
    CLONED = "cloned"
    CLONED_TO_SIBLING = "cloned_to_sibling"
    INDEX_CHILD_CASE_NOTE = "index_child_case_note"
    FIRST_SIGNED = "first_signed"
    FIRST_SIGNATURE_WITHDRAWN = "first_signature_withdrawn"
    COUNTER_SIGNED = "counter_signed"
    UNLOCKED = "unlocked"
    VERSION_CREATED = "version_created"
    MESSAGE_SENT = "message_sent"


@dataclass(frozen=True)
class Entry:
    case_id: str
    at: datetime
    by: str
    kind: Kind
    exemplar_id: str
    version: int
    type_code: str
    summary: str
    #: Order among entries written at the same instant.
    seq: int = 0
    message_id: str | None = None


def entries_for(events: Iterable[ev.ExemplarEvent]) -> list[Entry]:
    out: list[Entry] = []
    for e in events:
        for kind, case_id, version, summary, message_id in _describe(e):
            out.append(Entry(case_id, e.at, e.by, kind, e.exemplar_id, version, e.type_code, summary, len(out), message_id))
    return out


def _describe(e: ev.ExemplarEvent) -> list[tuple[Kind, str, int, str, str | None]]:
    name = e.type_name
    match e:
        case ev.Created():
            return [(Kind.CREATED, e.case_id, e.version, f"{name} started (start date {e.start_date.isoformat()})", None)]
        case ev.Cloned():
            return [
                (Kind.CLONED, e.case_id, e.version,
                 f"{name} cloned from exemplar {e.index_exemplar_id} Version {e.index_version} (case {e.index_case_id})", None),
                (Kind.CLONED_TO_SIBLING, e.index_case_id, e.index_version,
                 f"{name} Version {e.index_version} cloned to sibling case {e.case_id} as exemplar {e.exemplar_id}", None),
            ]
        case ev.IndexChildCaseNoteAdded():
            return [(Kind.INDEX_CHILD_CASE_NOTE, e.case_id, e.version,
                     f"Case note: the child of case {e.index_case_id} is the index child ({name} exemplar {e.index_exemplar_id} "
                     f"Version {e.index_version}, cloned to this case as exemplar {e.exemplar_id})", None)]
        case ev.FirstSigned():
            return [(Kind.FIRST_SIGNED, e.case_id, e.version, f"{name} Version {e.version} first-signed", None)]
        case ev.FirstSignatureWithdrawn():
            return [(Kind.FIRST_SIGNATURE_WITHDRAWN, e.case_id, e.version,
                     f"{name} Version {e.version}: answers changed after the first signature by {e.signed_by}; to be signed again", None)]
        case ev.CounterSigned():
            return [(Kind.COUNTER_SIGNED, e.case_id, e.version,
                     f"{name} Version {e.version} counter-signed and locked ({e.working_days_taken} working days from start)", None)]
        case ev.Unlocked():
            return [
                (Kind.UNLOCKED, e.case_id, e.version, f"{name} Version {e.version} unlocked: {e.reason}", None),
                (Kind.VERSION_CREATED, e.case_id, e.new_version, f"{name} Version {e.new_version} created from Version {e.version}", None),
            ]
        case ev.MessageSent():
            origin = "system message" if e.from_system else "workflow message"
            words = ACTION_WORDS[Action(e.action)]
            return [(Kind.MESSAGE_SENT, e.case_id, e.version,
                     f"{name}: {origin} to {e.to_person_id} ({words}), due {e.due_on.isoformat()}: {e.subject}", e.message_id)]
    return []  # answers saved: kept with the version's edits, not on the chronology

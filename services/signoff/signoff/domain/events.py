"""What happened to an exemplar, as the aggregate records it. The store turns these into
chronology entries and (for those other services need) integration events, in the same write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, kw_only=True)
class ExemplarEvent:
    exemplar_id: str
    case_id: str
    team_id: str
    type_code: str
    type_name: str
    #: The exemplar's Version N the event is about.
    version: int
    by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class Created(ExemplarEvent):
    start_date: date


@dataclass(frozen=True, kw_only=True)
class AnswersSaved(ExemplarEvent):
    question_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FirstSigned(ExemplarEvent):
    start_date: date


@dataclass(frozen=True, kw_only=True)
class FirstSignatureWithdrawn(ExemplarEvent):
    """Answers changed after the first signature: the signature no longer stands for them."""

    signed_by: str


@dataclass(frozen=True, kw_only=True)
class CounterSigned(ExemplarEvent):
    first_signed_by: str
    start_date: date
    counter_signed_on: date
    timescale_working_days: int | None
    working_days_taken: int
    on_time: bool | None


@dataclass(frozen=True, kw_only=True)
class Unlocked(ExemplarEvent):
    """``version`` was unlocked; ``new_version`` holds its data and is editable."""

    new_version: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class Cloned(ExemplarEvent):
    """This exemplar (``exemplar_id``, on a sibling's case) is a clone of the index exemplar."""

    index_exemplar_id: str
    index_case_id: str
    index_version: int
    start_date: date


@dataclass(frozen=True, kw_only=True)
class IndexChildCaseNoteAdded(ExemplarEvent):
    """The case note on a sibling's case (``case_id``) that names the index child, added with the
    clone (``exemplar_id``) of the index child's exemplar. Identifiers only: the case-management
    system writes "<name> is the index child" from its own record of ``index_case_id``."""

    index_exemplar_id: str
    index_case_id: str
    index_version: int


@dataclass(frozen=True, kw_only=True)
class MessageSent(ExemplarEvent):
    message_id: str
    to_person_id: str
    from_system: bool
    action: str
    subject: str
    text: str | None
    due_on: date
    clone_of_exemplar_id: str | None
    clone_of_version: int | None
    #: The sender asked for an email as well as the work-tray entry.
    send_email: bool = False

"""The events sign-off publishes (integration events, documented in the AsyncAPI document).

They carry identifiers and facts: exemplar, case and team ids, the type code, the exemplar's
Version N, person ids and dates. Never a child's name, and never an answer, an unlock reason or a
counter-signer's comments (those stay in sign-off, readable through its API). A workflow message
carries its subject and free text because the recipient's work tray shows them; the API asks
senders to refer to the child by case, not by name.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field
from shared.directory_sync import applied_type
from shared.event_translation import Publishes, Translations
from shared.events import EventData, EventRegistry, EventType

from .domain import events as ev

PUBLISHER = "signoff"


class ExemplarFacts(EventData):
    exemplar_id: str
    case_id: str
    team_id: str
    """The id of the team that holds the child's case."""
    type_code: str = Field(description="The exemplar type's code, e.g. INIASS (Initial Assessment)")
    version: int = Field(description="The exemplar's Version N the event is about")


class ExemplarCreated(ExemplarFacts):
    created_by: str
    created_at: datetime
    start_date: date
    """The exemplar's start date (the day timeliness is counted from), as entered when it was created."""


class ExemplarFirstSigned(ExemplarFacts):
    signed_by: str
    signed_at: datetime
    start_date: date


class ExemplarCounterSigned(ExemplarFacts):
    first_signed_by: str
    """The person who first-signed this version (a directory person id)."""
    counter_signed_by: str
    counter_signed_at: datetime
    start_date: date
    counter_signed_on: date = Field(description="The date timeliness is measured to (local date of the counter-signature)")
    timescale_working_days: int | None
    """The exemplar type's timescale in working days; null when the type has none."""
    working_days_taken: int
    """Working days from the start date to the counter-signature."""
    on_time: bool | None = Field(description="Within the type's timescale; null when the type has none")


class ExemplarUnlocked(ExemplarFacts):
    """``version`` was unlocked; ``new_version`` is the editable copy of its data."""

    new_version: int
    """The new, editable version that holds the unlocked version's data (version + 1)."""
    unlocked_by: str
    unlocked_at: datetime


class ExemplarCloned(ExemplarFacts):
    """A new exemplar (``exemplar_id``, Version 1, on a sibling's case) cloned from the index child's."""

    index_exemplar_id: str
    """The index child's exemplar it was cloned from."""
    index_case_id: str
    """The index child's case id (the sibling whose exemplar was cloned)."""
    index_version: int
    """The version of the index child's exemplar that was cloned."""
    cloned_by: str
    cloned_at: datetime
    start_date: date
    """The clone's start date (the day timeliness is counted from)."""


class IndexChildCaseNoteAdded(ExemplarFacts):
    """The case note "<name> is the index child" on a sibling's case (``case_id``), added with the
    clone (``exemplar_id``) of the index child's exemplar, for the case-management system to write
    on the sibling's record. By identifiers only: never a name."""

    index_case_id: str
    """The index child's case id: the case-management system names that child in the note."""
    index_exemplar_id: str
    """The index child's exemplar that was cloned to the sibling."""
    index_version: int
    """The version of the index child's exemplar that was cloned."""
    added_by: str
    """The person who cloned the exemplar and so added the note (a directory person id)."""
    added_at: datetime
    """When the note was added (with the clone)."""


class WorkflowMessageSent(ExemplarFacts):
    message_id: str
    """The workflow message's id in the sign-off service."""
    to_person_id: str
    """The recipient's person id: the message becomes a task in their work tray."""
    assigned_by: str = Field(description="The sender, or the person on whose behalf the system sent it")
    from_system: bool
    """True when the system sent it on someone's behalf (e.g. on first signature), false when a person sent it."""
    action: str = Field(description="ready_for_first_sign_off | ready_for_counter_sign | changes_needed | other")
    subject: str
    """The message's subject line, written by the sender (who is asked to refer to the child by case, never by name)."""
    text: str | None = None
    """The message's text, written by the sender; null when there is none."""
    due_on: date
    """The date the recipient is asked to act by."""
    sent_at: datetime
    clone_of_exemplar_id: str | None = Field(default=None, description="Set when the exemplar is a clone: the index exemplar")
    clone_of_version: int | None = None
    """Set when the exemplar is a clone: the version of the index exemplar it was cloned from."""
    send_email: bool = Field(default=False, description="the sender asked for an email as well as the work-tray entry")


EXEMPLAR_CREATED = EventType(
    "signoff.exemplar.created", 1, ExemplarCreated, "An exemplar was started for a child's case (Version 1).", PUBLISHER
)
EXEMPLAR_FIRST_SIGNED = EventType(
    "signoff.exemplar.first-signed", 1, ExemplarFirstSigned,
    "A version of an exemplar was first-signed: every mandatory question answered; it awaits counter-signature.", PUBLISHER,
)
EXEMPLAR_COUNTER_SIGNED = EventType(
    "signoff.exemplar.counter-signed", 1, ExemplarCounterSigned,
    "A version was counter-signed and is now locked; timeliness is measured to this date.", PUBLISHER,
)
EXEMPLAR_UNLOCKED = EventType(
    "signoff.exemplar.unlocked", 1, ExemplarUnlocked,
    "A counter-signed version was unlocked: a new, editable version holds its data.", PUBLISHER,
)
EXEMPLAR_CLONED = EventType(
    "signoff.exemplar.cloned", 1, ExemplarCloned,
    "An index child's exemplar was cloned to a sibling's case (one event per clone; it needs its own signatures).", PUBLISHER,
)
INDEX_CHILD_CASE_NOTE_ADDED = EventType(
    "signoff.index-child-case-note.added", 1, IndexChildCaseNoteAdded,
    "A case note naming the index child (by case id) was added to a sibling's case with the clone of the index child's "
    "exemplar (one per sibling), for the case-management system.",
    PUBLISHER,
)
WORKFLOW_MESSAGE_SENT = EventType(
    "signoff.workflow-message.sent", 1, WorkflowMessageSent,
    "A workflow message was sent from an exemplar to a person (by a person or by the system): a task for their work tray.",
    PUBLISHER,
    internal=True,  # the message's subject and text are written by people and may name the child
)

EVENTS = EventRegistry(
    [
        EXEMPLAR_CREATED, EXEMPLAR_FIRST_SIGNED, EXEMPLAR_COUNTER_SIGNED, EXEMPLAR_UNLOCKED, EXEMPLAR_CLONED,
        INDEX_CHILD_CASE_NOTE_ADDED, WORKFLOW_MESSAGE_SENT,
    ]
)
EVENTS.register(applied_type(PUBLISHER))  # the directory sync signal (shared.directory_sync)


#: Which integration event each domain event publishes (the others are kept inside sign-off): the
#: exemplar's ids, type code and version and every other fact of the same name are carried as they
#: are; ``by`` and ``at`` are named for the act.
TRANSLATIONS = Translations({
    ev.Created: Publishes(EXEMPLAR_CREATED, {"by": "created_by", "at": "created_at"}),
    ev.FirstSigned: Publishes(EXEMPLAR_FIRST_SIGNED, {"by": "signed_by", "at": "signed_at"}),
    ev.CounterSigned: Publishes(EXEMPLAR_COUNTER_SIGNED, {"by": "counter_signed_by", "at": "counter_signed_at"}),
    ev.Unlocked: Publishes(EXEMPLAR_UNLOCKED, {"by": "unlocked_by", "at": "unlocked_at"}),
    ev.Cloned: Publishes(EXEMPLAR_CLONED, {"by": "cloned_by", "at": "cloned_at"}),
    ev.IndexChildCaseNoteAdded: Publishes(INDEX_CHILD_CASE_NOTE_ADDED, {"by": "added_by", "at": "added_at"}),
    ev.MessageSent: Publishes(WORKFLOW_MESSAGE_SENT, {"by": "assigned_by", "at": "sent_at"}),
})


def integration_event(e: ev.ExemplarEvent) -> tuple[EventType, EventData] | None:
    """The integration event for a domain event, or None for those kept inside sign-off."""
    return TRANSLATIONS(e)


def subject_of(e: ev.ExemplarEvent) -> str:
    return f"exemplar/{e.exemplar_id}"

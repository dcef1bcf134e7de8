"""Sign-off: workflow messages go to the recipient's tray (with an email when the sender asks).

A message whose action is "ready for counter-sign" (the one sign-off itself sends after a first
signature, or a person's) is the counter-signer's task: a counter-sign task, chased by reminders.
Notify does not also open one from ``signoff.exemplar.first-signed``: sign-off decides who
counter-signs and says so in that message, so the counter-signer gets one task, not two.

Reader models of ``services/signoff/signoff/events.py`` (version 1), tolerant of fields notify
does not use. Every task about an exemplar version closes when that version is counter-signed.
"""

from __future__ import annotations

from datetime import date

from pydantic import AliasChoices, Field
from shared.consumer import ReceivedEvent

from ..domain.effects import Effects
from ..domain.kinds import TaskKind
from ..domain.tasks import Link, Origin
from .base import TASK_EMAIL, Mapping, Reader, closes, context, event_of, pure, task

PUBLISHER = "signoff"


class WorkflowMessageSent(Reader):
    message_id: str | None = None
    exemplar_id: str
    version: int = Field(validation_alias=AliasChoices("version", "version_number", "exemplar_version"))
    case_id: str | None = None
    to_person_id: str = Field(validation_alias=AliasChoices("to_person_id", "recipient_id"))
    #: The sender, or the person on whose behalf the system sent it (the tray's "Assigned By").
    assigned_by: str | None = Field(default=None, validation_alias=AliasChoices("assigned_by", "from_person_id"))
    #: True when the system sent it (the tray's "Post" column marks those).
    from_system: bool = False
    subject: str
    #: ready_for_first_sign_off | ready_for_counter_sign | changes_needed | other (or free text).
    action: str = Field(validation_alias=AliasChoices("action", "action_required"))
    text: str | None = None
    due_on: date | None = None
    clone_of_exemplar_id: str | None = None
    #: The sender asked for an email as well as the tray entry (absent: the tray only).
    send_email: bool = False

    def action_text(self) -> str:
        label = ACTIONS.get(self.action)
        if label is None:
            return self.text or self.action
        if self.clone_of_exemplar_id:
            label += f" (a clone of exemplar {self.clone_of_exemplar_id}, already read by the senior)"
        return f"{label}: {self.text}" if self.text else label


class ExemplarCounterSigned(Reader):
    exemplar_id: str
    version: int = Field(validation_alias=AliasChoices("version", "version_number", "exemplar_version"))
    counter_signed_by: str | None = None


READY_FOR_COUNTER_SIGN = "ready_for_counter_sign"
ACTIONS = {
    "ready_for_first_sign_off": "Ready for first sign-off",
    READY_FOR_COUNTER_SIGN: "Ready for counter-sign",
    "changes_needed": "Changes needed",
}

WORKFLOW_MESSAGE_SENT = event_of(
    PUBLISHER, "signoff.workflow-message.sent", WorkflowMessageSent, "A workflow message was sent.",
    internal=True,  # as sign-off publishes it: on the platform exchange (free text to a person)
)
COUNTER_SIGNED = event_of(PUBLISHER, "signoff.exemplar.counter-signed", ExemplarCounterSigned, "An exemplar was counter-signed.")


def version_key(exemplar_id: str, version: int) -> str:
    return f"signoff:exemplar/{exemplar_id}/v{version}"


def _link(exemplar_id: str, version: int) -> Link:
    return Link("signoff", f"/exemplars/{exemplar_id}/versions/{version}")


def workflow_message(event: ReceivedEvent) -> Effects:
    m: WorkflowMessageSent = event.data
    return Effects(open=[task(
        m.to_person_id, TaskKind.COUNTER_SIGN if m.action == READY_FOR_COUNTER_SIGN else TaskKind.WORKFLOW_MESSAGE,
        subject=m.subject, action=m.action_text(), link=_link(m.exemplar_id, m.version),
        origin=Origin.SYSTEM if m.from_system else Origin.PERSON, assigned_by=m.assigned_by,
        due_on=m.due_on, closes_on=version_key(m.exemplar_id, m.version),
        context=context(m, "exemplar_id", "version", "case_id"), email=TASK_EMAIL if m.send_email else None,
    )])


MAPPINGS = [
    Mapping(WORKFLOW_MESSAGE_SENT, pure(workflow_message)),
    closes(COUNTER_SIGNED, lambda c: version_key(c.exemplar_id, c.version), "exemplar counter-signed", by="counter_signed_by"),
]

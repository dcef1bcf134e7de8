"""Workflow messages: sent from an exemplar to a person, saying what is needed ("ready for first
sign-off", "ready for counter-sign", "changes needed", or free text) and by when. A message is
from a person, or from the system on a person's behalf (the seed's tray tells them apart).

The system sends one message itself: after a first signature, "ready for counter-sign" to the
person who will counter-sign: the one the signer names, else the signer's line manager when they
may counter-sign this type. No one suitable, no system message (the signer can still send one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shared.calendar import add_working_days, local_date

from . import events as ev
from . import roles as r
from .access import Actor, PersonView
from .errors import FieldError, InvalidInput, NotAllowed
from .exemplar import Exemplar

MAX_SUBJECT = 200
MAX_TEXT = 4_000


class Action(StrEnum):
    READY_FOR_FIRST_SIGN_OFF = "ready_for_first_sign_off"
    READY_FOR_COUNTER_SIGN = "ready_for_counter_sign"
    CHANGES_NEEDED = "changes_needed"
    #: Free text: ``text`` says what is needed.
    OTHER = "other"


ACTION_WORDS = {
    Action.READY_FOR_FIRST_SIGN_OFF: "ready for first sign-off",
    Action.READY_FOR_COUNTER_SIGN: "ready for counter-sign",
    Action.CHANGES_NEEDED: "changes needed",
    Action.OTHER: "see message",
}


@dataclass(frozen=True)
class WorkflowMessage:
    id: str
    exemplar_id: str
    case_id: str
    type_code: str
    version: int
    to_person_id: str
    #: Who sent it, or on whose behalf the system did.
    assigned_by: str
    from_system: bool
    subject: str
    action: Action
    text: str | None
    due_on: date
    sent_at: datetime
    clone_of_exemplar_id: str | None = None
    clone_of_version: int | None = None
    #: The sender asked for an email as well as the work-tray entry (the system's messages never do).
    send_email: bool = False


def send(
    exemplar: Exemplar,
    message_id: str,
    *,
    sender: Actor,
    recipient: PersonView | None,
    subject: str,
    action: Action,
    text: str | None,
    due_on: date,
    at: datetime,
    from_system: bool = False,
    send_email: bool = False,
) -> WorkflowMessage:
    """A message from ``exemplar`` to ``recipient``; records ``MessageSent`` on the exemplar."""
    if not from_system and not (sender.in_team_structure or sender.is_administrator):
        raise NotAllowed("Workflow messages are sent from an exemplar by staff of the child's team or its managers.")
    if recipient is None or not recipient.active:
        raise InvalidInput("The recipient is not an active member of staff in the directory.")
    subject = subject.strip()
    text = text.strip() if text and text.strip() else None
    if not subject or len(subject) > MAX_SUBJECT:
        raise InvalidInput(f"A workflow message needs a subject of 1 to {MAX_SUBJECT} characters.")
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidInput(f"The message text is longer than {MAX_TEXT} characters.")
    if action is Action.OTHER and text is None:
        raise InvalidInput("Say what is needed: a message with action 'other' needs its text.")
    if due_on < local_date(at):
        raise InvalidInput(f"The due date {due_on.isoformat()} is in the past.")
    if not from_system:
        _admin_officer_sends_to_a_signer(exemplar, sender, recipient, action)
    clone = exemplar.clone_of
    message = WorkflowMessage(
        message_id, exemplar.id, exemplar.case_id, exemplar.type.code, exemplar.current.number, recipient.person_id,
        sender.person_id, from_system, subject, action, text, due_on, at,
        clone.exemplar_id if clone else None, clone.version if clone else None, send_email,
    )
    exemplar.record_message(
        ev.MessageSent(
            exemplar_id=exemplar.id, case_id=exemplar.case_id, team_id=exemplar.team_id, type_code=exemplar.type.code,
            type_name=exemplar.type.name, version=message.version, by=sender.person_id, at=at, message_id=message_id,
            to_person_id=recipient.person_id, from_system=from_system, action=action.value, subject=subject, text=text,
            due_on=due_on, clone_of_exemplar_id=message.clone_of_exemplar_id, clone_of_version=message.clone_of_version,
            send_email=send_email,
        )
    )
    return message


def _admin_officer_sends_to_a_signer(exemplar: Exemplar, sender: Actor, recipient: PersonView, action: Action) -> None:
    """"The initial assessment exemplar can be completed and cloned by the duty admin officer and
    work-flowed to the duty senior who will apply first and second signature." An admin officer
    (who does not sign) work-flows an exemplar for sign-off to someone who can give the signatures
    asked for: both of them where one person may give both (the duty senior, for an Initial
    Assessment), else the one the action names."""
    t = exemplar.type
    if r.ADMIN_OFFICER not in sender.roles or sender.has_role(t.first_signers | t.counter_signers):
        return
    if action not in (Action.READY_FOR_FIRST_SIGN_OFF, Action.READY_FOR_COUNTER_SIGN):
        return
    both = t.first_signers & t.counter_signers if t.same_person_may_sign_both else frozenset()
    if both and action is Action.READY_FOR_FIRST_SIGN_OFF:
        needed, what = both, "the first and second signature"
    elif action is Action.READY_FOR_FIRST_SIGN_OFF:
        needed, what = t.first_signers, "the first signature"
    else:
        needed, what = t.counter_signers, "the counter-signature"
    if recipient.roles.isdisjoint(needed):
        raise InvalidInput(
            f"The admin officer work-flows {t.name} to the person who will apply {what} ({', '.join(sorted(needed))}); "
            f"{recipient.person_id} cannot.",
            [FieldError("to_person_id", f"cannot apply {what} of {t.name}", "invalid")],
        )


def counter_signer_for(exemplar: Exemplar, named: PersonView | None, line_manager: PersonView | None) -> PersonView | None:
    """Who the system's "ready for counter-sign" goes to (see the module docstring)."""
    allowed = exemplar.type.counter_signers
    if named is not None:
        if not named.active or named.roles.isdisjoint(allowed):
            raise InvalidInput(
                f"{named.person_id} cannot counter-sign {exemplar.type.name}: that needs one of {', '.join(sorted(allowed))}."
            )
        return named
    if line_manager is not None and line_manager.active and not line_manager.roles.isdisjoint(allowed):
        return line_manager
    return None


def default_due(exemplar: Exemplar, today: date) -> date:
    """The piece of work's own due date while it is still ahead, else the next working day."""
    timescale = exemplar.type.timescale_working_days
    if timescale is not None:
        due = add_working_days(exemplar.start_date, timescale)
        if due >= today:
            return due
    return add_working_days(today, 1)


def ready_for_counter_sign(
    exemplar: Exemplar, message_id: str, *, signer: Actor, recipient: PersonView, due_on: date | None, at: datetime
) -> WorkflowMessage:
    version = exemplar.current.number
    clone_note = (
        f" (a clone of exemplar {exemplar.clone_of.exemplar_id} Version {exemplar.clone_of.version}, already counter-signed)"
        if exemplar.clone_of else ""
    )
    return send(
        exemplar, message_id, sender=signer, recipient=recipient,
        subject=f"{exemplar.type.name} Version {version} ready for counter-sign{clone_note}",
        action=Action.READY_FOR_COUNTER_SIGN, text=None,
        due_on=due_on or default_due(exemplar, local_date(at)), at=at, from_system=True,
    )

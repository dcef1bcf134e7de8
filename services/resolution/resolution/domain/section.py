"""A stage's section: the response written by the person it is delegated to.

While delegated, only the delegate writes in it. Finalising makes it read-only until the owner
reactivates it. Retracting (with a reason and a note) or re-delegating returns it to the owner
and keeps every word the delegate wrote: the text stays in the section and each save stays in
the section's history (the seed's system blanked it; we must not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from .errors import InvalidInput, NotAllowed, RuleConflict

MAX_RESPONSE = 20_000


class SectionState(StrEnum):
    WITH_OWNER = "with-owner"
    DELEGATED = "delegated"
    FINALISED = "finalised"


class DelegationStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    RECALLED = "recalled"
    RETRACTED = "retracted"


@dataclass
class Delegation:
    number: int
    delegate_id: str
    delegated_by: str
    delegated_at: datetime
    due_on: date | None
    status: DelegationStatus = DelegationStatus.ACTIVE
    ended_by: str | None = None
    ended_at: datetime | None = None
    retract_reason: str | None = None
    retract_note: str | None = None


@dataclass
class Section:
    state: SectionState = SectionState.WITH_OWNER
    response: str = ""
    updated_by: str | None = None
    updated_at: datetime | None = None
    finalised_by: str | None = None
    finalised_at: datetime | None = None
    delegations: list[Delegation] = field(default_factory=list)

    @property
    def current_delegation(self) -> Delegation | None:
        """The delegation in force (active, or completed by a finalise), if any."""
        if self.delegations and self.delegations[-1].status in (DelegationStatus.ACTIVE, DelegationStatus.COMPLETED):
            return self.delegations[-1]
        return None

    @property
    def delegate_id(self) -> str | None:
        current = self.current_delegation
        return current.delegate_id if current else None

    def check_writer(self, by: str, owner_id: str) -> None:
        """Refuse anyone but the one person who may write here now."""
        if self.state is SectionState.DELEGATED:
            if by != self.delegate_id:
                who = "the owner included" if by == owner_id else "only the delegate may write"
                raise NotAllowed(f"This section is delegated to {self.delegate_id}: only they may write in it ({who}).")
            return
        if self.state is SectionState.FINALISED:
            if by not in (owner_id, self.delegate_id, self.finalised_by):
                raise NotAllowed("Only the owner of the form and the section's delegate may act on this section.")
            raise RuleConflict(
                "The section is finalised and read-only; the owner can reactivate it.", slug="section-finalised", title="Section finalised"
            )
        if by != owner_id:
            raise NotAllowed("This section is not delegated: only the owner of the form may write in it.")

    def save(self, text: str, *, by: str, owner_id: str, at: datetime) -> None:
        self.check_writer(by, owner_id)
        if len(text) > MAX_RESPONSE:
            raise InvalidInput(f"A response is at most {MAX_RESPONSE} characters.")
        self.response = text
        self.updated_by = by
        self.updated_at = at

    def finalise(self, *, by: str, owner_id: str, at: datetime) -> None:
        self.check_writer(by, owner_id)
        if not self.response.strip():
            raise RuleConflict("Nothing has been written in the section: save a response before finalising it.", slug="section-empty")
        self.state = SectionState.FINALISED
        self.finalised_by = by
        self.finalised_at = at
        current = self.current_delegation
        if current is not None:
            current.status = DelegationStatus.COMPLETED
            current.ended_by = by
            current.ended_at = at

    def delegate(self, delegate_id: str, *, by: str, at: datetime, due_on: date | None) -> tuple[Delegation, str | None]:
        """Give the section to ``delegate_id``; a section delegated to someone else is recalled first."""
        if self.state is SectionState.FINALISED:
            raise RuleConflict(
                "The section is finalised; reactivate it before delegating it again.", slug="section-finalised", title="Section finalised"
            )
        recalled: str | None = None
        if self.state is SectionState.DELEGATED:
            current = self.delegations[-1]
            if current.delegate_id == delegate_id:
                raise RuleConflict(f"The section is already delegated to {delegate_id}.", slug="already-delegated")
            current.status = DelegationStatus.RECALLED
            current.ended_by = by
            current.ended_at = at
            recalled = current.delegate_id
        delegation = Delegation(len(self.delegations) + 1, delegate_id, by, at, due_on)
        self.delegations.append(delegation)
        self.state = SectionState.DELEGATED
        return delegation, recalled

    def reactivate(self, *, at: datetime) -> Delegation | None:
        if self.state is not SectionState.FINALISED:
            raise RuleConflict("Only a finalised (completed) section can be reactivated.", slug="section-not-finalised")
        self.finalised_by = None
        self.finalised_at = None
        current = self.current_delegation
        if current is None:
            self.state = SectionState.WITH_OWNER
            return None
        # Its delegate takes it up again, with the words they finalised still there.
        current.status = DelegationStatus.ACTIVE
        current.ended_by = None
        current.ended_at = None
        self.state = SectionState.DELEGATED
        return current

    def retract(self, *, by: str, at: datetime, reason: str, note: str) -> Delegation:
        if self.state is not SectionState.DELEGATED:
            raise RuleConflict("Only an active delegated section can be retracted.", slug="section-not-active")
        if not reason.strip() or not note.strip():
            raise InvalidInput("A reason and a note must both be recorded to retract a section.")
        current = self.delegations[-1]
        current.status = DelegationStatus.RETRACTED
        current.ended_by = by
        current.ended_at = at
        current.retract_reason = reason.strip()
        current.retract_note = note.strip()
        # The response is deliberately left as the delegate last saved it: the owner continues from it.
        self.state = SectionState.WITH_OWNER
        return current

"""What happens inside a Kent audit beside its stages (seed 004).

* **Immediate safeguarding concerns** (4.7): "Action should not wait until auditing is
  completed." The auditor or the peer reviewer raises a concern at any stage; it goes at once to
  the case's team manager and the accountable service manager, and stays open until one of them
  (or QA staff) records the action taken and its outcome. The concern's text stays with the
  audit: its events carry identifiers only.
* **The allocated social worker's views** (2): the social worker "contributes to the auditing
  process, through providing their views and reflections on their practice in the case to the
  Auditor (Team Manager) before the Auditor quality assures practice". Every save is kept.

``DuringAudit`` is part of the audit aggregate (``Audit`` inherits it), kept apart because it is
its own concern, like ``FollowUps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...common.errors import InvalidEntries, NotAllowed, WrongStage
from ...common.roles import QA_STAFF_ROLES
from ...tools.domain.definition import AuditForm, ProgrammeKind
from . import events as ev

#: How long a concern, its outcome or the social worker's views may be (characters).
MAX_TEXT = 8000


@dataclass
class SafeguardingConcern:
    """An immediate concern about the child's safety or wellbeing, raised during the audit."""

    id: str
    raised_by: str
    #: ``auditor`` or ``peer_reviewer``: the part the person raising it plays in the audit.
    raised_as: str
    raised_at: datetime
    concern: str
    #: Who it went to at once (either may be unknown to the directory, never guessed).
    team_manager_id: str | None
    service_manager_id: str | None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    #: The action taken and its outcome, as the person acknowledging wrote it.
    outcome: str = ""

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys(p for p in (self.team_manager_id, self.service_manager_id) if p))

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass(frozen=True)
class PractitionerViews:
    """One save of the allocated social worker's views and reflections on their practice."""

    number: int
    views: str
    by: str
    at: datetime


def takes_practitioner_views(form: AuditForm) -> bool:
    """Kent's online peer review has the social worker's step (seed 004, 2); other programmes do not."""
    return form.programme is ProgrammeKind.PEER_REVIEW


def _text(value: str, field_name: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidEntries(f"{what} cannot be empty.", [{"field": field_name, "message": "write it", "code": "missing"}])
    if len(text) > MAX_TEXT:
        raise InvalidEntries(f"{what} is too long.", [{"field": field_name, "message": f"at most {MAX_TEXT} characters"}])
    return text


class DuringAudit:
    """Safeguarding concerns and the social worker's views (mixed into ``Audit``)."""

    form: AuditForm
    auditor_id: str
    peer_reviewer_id: str | None
    concerns: list[SafeguardingConcern]
    social_worker_id: str | None
    practitioner_views: list[PractitionerViews]
    events: list[ev.DomainEvent]

    @property
    def submitted_stage1(self) -> bool:  # pragma: no cover - defined by Audit
        raise NotImplementedError

    def _touch(self, by: str, at: datetime) -> None:  # pragma: no cover - defined by Audit
        raise NotImplementedError

    # --- safeguarding concerns (4.7) -------------------------------------------------------------

    def raise_concern(
        self, *, concern_id: str, by: str, concern: str, team_manager_id: str | None, service_manager_id: str | None, at: datetime
    ) -> SafeguardingConcern:
        """At any stage, completed or not: action should not wait until auditing is completed."""
        if by == self.auditor_id:
            raised_as = "auditor"
        elif by == self.peer_reviewer_id:
            raised_as = "peer_reviewer"
        else:
            raise NotAllowed("Only the audit's auditor or peer reviewer raises a safeguarding concern from the audit.")
        text = _text(concern, "concern", "The concern")
        raised = SafeguardingConcern(
            id=concern_id,
            raised_by=by,
            raised_as=raised_as,
            raised_at=at,
            concern=text,
            team_manager_id=team_manager_id,
            service_manager_id=service_manager_id,
        )
        self.concerns.append(raised)
        self._touch(by, at)
        self.events.append(
            ev.SafeguardingConcernRaised(
                at=at, concern_id=concern_id, by=by, team_manager_id=team_manager_id, service_manager_id=service_manager_id
            )
        )
        return raised

    def concern(self, concern_id: str) -> SafeguardingConcern:
        found = next((c for c in self.concerns if c.id == concern_id), None)
        if found is None:
            raise InvalidEntries(
                "There is no such safeguarding concern on this audit.",
                [{"field": "concern_id", "message": "unknown concern", "code": "unknown"}],
            )
        return found

    def acknowledge_concern(
        self, *, concern_id: str, by: str, by_roles: frozenset[str] | set[str], outcome: str, at: datetime
    ) -> None:
        """The team manager or the service manager it went to (or QA staff) records what was done."""
        concern = self.concern(concern_id)
        if by not in concern.recipients and QA_STAFF_ROLES.isdisjoint(by_roles):
            raise NotAllowed(
                "Only the team manager or the service manager the concern went to (or QA staff) records its outcome."
            )
        if concern.acknowledged:
            raise WrongStage("This safeguarding concern has already been acknowledged with its outcome.")
        concern.outcome = _text(outcome, "outcome", "The outcome")
        concern.acknowledged_by, concern.acknowledged_at = by, at
        self._touch(by, at)
        self.events.append(ev.SafeguardingConcernAcknowledged(at=at, concern_id=concern_id, by=by))

    def concern_recipient(self, person_id: str) -> bool:
        return any(person_id in c.recipients for c in self.concerns)

    # --- the allocated social worker's views (2) -------------------------------------------------

    @property
    def current_practitioner_views(self) -> PractitionerViews | None:
        return self.practitioner_views[-1] if self.practitioner_views else None

    def give_practitioner_views(self, *, by: str, views: str, at: datetime) -> None:
        """Saved as often as the social worker likes before stage 1 is submitted; every save kept."""
        if not takes_practitioner_views(self.form):
            raise WrongStage("This audit's tool has no step for the social worker's views.")
        if self.social_worker_id is None or by != self.social_worker_id:
            raise NotAllowed("Only the social worker allocated to the case gives their views and reflections on their practice.")
        if self.submitted_stage1:
            raise WrongStage("The auditor has submitted the audit: views are given before the auditor quality assures practice.")
        text = _text(views, "views", "The views and reflections")
        number = len(self.practitioner_views) + 1
        self.practitioner_views.append(PractitionerViews(number=number, views=text, by=by, at=at))
        self._touch(by, at)
        self.events.append(ev.PractitionerViewsGiven(at=at, by=by, number=number))

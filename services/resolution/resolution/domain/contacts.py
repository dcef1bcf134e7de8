"""The case's team manager and allocated worker: taken from the directory, and when the
directory has none, entered on the form by the owner (and reported back to the directory)."""

from __future__ import annotations

from shared.roles import Role

from .errors import InvalidInput, RuleConflict
from .stages import Stage
from .values import CaseContacts, PersonRef

TEAM_MANAGER_ROLES = frozenset({Role.TEAM_MANAGER})


def check_person_fits(person: PersonRef, roles: frozenset[str], what: str) -> None:
    """Refuse someone no longer active, or without a role that can be ``what``."""
    if not person.active:
        raise InvalidInput(f"{person.person_id} is no longer active in the directory and cannot be the {what}.")
    if person.roles.isdisjoint(roles):
        raise InvalidInput(f"{person.person_id} does not hold a role that can be the {what} ({', '.join(sorted(roles))}).")


def enter_missing_contacts(contacts: CaseContacts, *, team_manager: PersonRef | None, allocated_worker: PersonRef | None) -> dict[str, str]:
    """Enter the contacts the directory lacks; returns what was newly entered (to be reported).

    A contact the directory already records is changed there, not from a resolution form.
    """
    reported: dict[str, str] = {}
    for person, attr, roles, what in (
        (team_manager, "team_manager_id", TEAM_MANAGER_ROLES, "team manager"),
        (allocated_worker, "allocated_worker_id", Stage.INFORMAL.responder_roles, "allocated worker"),
    ):
        if person is None:
            continue
        current = getattr(contacts, attr)
        if current == person.person_id:
            continue
        if current is not None:
            raise RuleConflict(
                f"The case already has {current} as its {what}; a change of {what} is made in the directory.",
                slug="contact-already-recorded",
            )
        check_person_fits(person, roles, what)
        setattr(contacts, attr, person.person_id)
        setattr(contacts, attr.replace("_id", "_from_form"), True)
        reported[attr] = person.person_id
    return reported

"""Email preferences: on or off per kind, statutory kinds always on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notify.domain.kinds import STATUTORY, TaskKind, is_chased, is_statutory
from notify.domain.preferences import Preferences, StatutoryEmail

AT = datetime(2026, 3, 2, tzinfo=UTC)


def test_every_email_is_on_until_turned_off() -> None:
    prefs = Preferences("P-1")
    assert all(prefs.email_settings().values())
    assert prefs.version == 0


def test_a_non_statutory_kind_can_be_turned_off_and_on_again() -> None:
    prefs = Preferences("P-1")
    prefs.change({TaskKind.WORKFLOW_MESSAGE: False}, by="P-1", at=AT)
    assert not prefs.wants_email(TaskKind.WORKFLOW_MESSAGE)
    assert prefs.wants_email(TaskKind.COUNTER_SIGN)
    assert (prefs.version, prefs.updated_by, prefs.updated_at) == (1, "P-1", AT)
    prefs.change({TaskKind.WORKFLOW_MESSAGE: True}, by="P-1", at=AT)
    assert prefs.wants_email(TaskKind.WORKFLOW_MESSAGE)
    assert prefs.version == 2


@pytest.mark.parametrize("kind", sorted(STATUTORY))
def test_a_statutory_kind_cannot_be_turned_off_and_nothing_changes(kind: TaskKind) -> None:
    prefs = Preferences("P-1")
    with pytest.raises(StatutoryEmail) as refused:
        prefs.change({TaskKind.WORKFLOW_MESSAGE: False, kind: False}, by="P-1", at=AT)
    assert refused.value.kinds == [kind]
    assert prefs.version == 0
    assert prefs.wants_email(TaskKind.WORKFLOW_MESSAGE)


def test_the_procedures_emails_are_statutory_and_chased_kinds_are_the_ones_with_deadlines() -> None:
    assert is_statutory(TaskKind.AUDIT) and is_statutory(TaskKind.AUDIT_COPY) and is_statutory(TaskKind.MODERATION)
    assert not is_statutory(TaskKind.WORKFLOW_MESSAGE)
    assert is_chased(TaskKind.AUDIT) and is_chased(TaskKind.PEER_REVIEW)
    assert not is_chased(TaskKind.AUDIT_COPY) and not is_chased(TaskKind.INCOMPLETE_AUDITS_DIGEST)

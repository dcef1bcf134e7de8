"""A directory change as a service's copy keeps it (``shared.directory_sync.record_of``): its id,
its version and its other fields as JSON, without the sync signal's ``sequence``; stamped with the
event that carried it when asked."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.consumer import ReceivedEvent
from shared.directory_readers import CaseRecord, PersonRecord
from shared.directory_sync import record_of
from shared.events import Envelope

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class CaseChanged(CaseRecord):
    case_type: str
    team_id: str | None = None
    opened_on: date | None = None


class PersonChanged(PersonRecord):
    name: str
    roles: list[str] = []
    active: bool = True


def _received(data: PersonChanged) -> ReceivedEvent:
    envelope = Envelope(id="evt-1", source="/qa/gateway", type="directory.person.changed.v1", time=AT, data=data.model_dump(mode="json"))
    return ReceivedEvent(envelope, data)


def test_a_record_is_its_id_version_and_other_fields_as_json() -> None:
    case = CaseChanged.model_validate({"case_id": "C-1", "version": 4, "sequence": 17, "case_type": "CIN", "opened_on": "2025-06-30", "unused": "x"})
    record_id, version, fields = record_of(case, "case_id")
    assert (record_id, version) == ("C-1", 4)
    assert fields == {"case_type": "CIN", "team_id": None, "opened_on": "2025-06-30"}
    assert list(fields) == ["case_type", "team_id", "opened_on"]


def test_a_record_without_a_sequence_is_the_same() -> None:
    person = PersonChanged(person_id="P-1", version=1, name="Ann")
    assert record_of(person, "person_id") == ("P-1", 1, {"name": "Ann", "roles": [], "active": True})


def test_a_stamped_record_names_the_event_that_wrote_it_and_when() -> None:
    person = PersonChanged(person_id="P-2", version=3, sequence=9, name="Bo", roles=["social_worker"], active=False)
    record_id, version, fields = record_of(person, "person_id", stamped=_received(person))
    assert (record_id, version) == ("P-2", 3)
    assert fields == {"name": "Bo", "roles": ["social_worker"], "active": False, "event_id": "evt-1", "updated_at": AT}
    assert list(fields)[-2:] == ["event_id", "updated_at"]

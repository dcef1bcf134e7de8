"""The directory's vocabulary every service reads: the role list (``shared.roles``) and what a
service's copy of the directory reads of ``directory.*.changed.v1`` (``shared.directory_readers``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel
from shared.directory_readers import CaseRecord, PersonRecord, TeamRecord, case_changed, person_changed, team_changed
from shared.events import EventType
from shared.roles import Role


def test_a_role_is_its_string_wherever_it_goes() -> None:
    assert Role.ADMIN_OFFICER == "admin_officer" and Role("duty_senior") is Role.DUTY_SENIOR
    assert "social_worker" in frozenset({Role.SOCIAL_WORKER})
    assert json.dumps([Role.IRO]) == '["iro"]'
    assert len({r.value for r in Role}) == len(Role) == 29


class PersonRead(PersonRecord):
    name: str


def test_a_reader_leads_with_the_records_id_version_and_sequence_and_ignores_what_it_does_not_use() -> None:
    person = PersonRead.model_validate({"person_id": "P-1", "version": 3, "sequence": 7, "name": "Pat", "email": "p@x.example"})
    assert (person.person_id, person.version, person.sequence, person.name) == ("P-1", 3, 7, "Pat")
    assert list(PersonRead.model_fields)[:3] == ["person_id", "version", "sequence"]
    assert CaseRecord.model_validate({"case_id": "C-1", "version": 1}).sequence is None
    assert list(TeamRecord.model_fields) == ["team_id", "version", "sequence"]


@pytest.mark.parametrize(
    ("make", "model", "routing_key", "internal"),
    [
        (person_changed, PersonRead, "directory.person.changed.v1", True),
        (case_changed, CaseRecord, "directory.case.changed.v1", False),
        (team_changed, TeamRecord, "directory.team.changed.v1", False),
    ],
)
def test_each_directory_event_is_the_gateways_version_1_read_with_the_services_model(
    make: Callable[[Any], EventType], model: type[BaseModel], routing_key: str, internal: bool
) -> None:
    event_type = make(model)
    assert (event_type.routing_key, event_type.publisher, event_type.data_model, event_type.internal) == (routing_key, "gateway", model, internal)

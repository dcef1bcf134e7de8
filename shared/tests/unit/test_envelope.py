"""The CloudEvents 1.0 envelope, versioned event types and the event registry."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from shared.events import Envelope, EventData, EventRegistry, EventType, UnreadableEvent, parse_envelope

BST = timezone(timedelta(hours=1))


class CounterSigned(EventData):
    exemplar_id: str
    due: date
    signed_at: datetime
    attempt: int = 1


class CaseOpened(EventData):
    case_id: str


COUNTER_SIGNED = EventType("signoff.exemplar.counter-signed", 1, CounterSigned, "An exemplar was counter-signed.", "signoff")
CASE_OPENED = EventType("resolution.case.opened", 2, CaseOpened, "A case was opened.", "resolution")


def counter_signed_data() -> CounterSigned:
    return CounterSigned(
        exemplar_id="ex-1",
        due=date(2026, 5, 13),
        signed_at=datetime(2026, 5, 4, 10, 30, tzinfo=BST),
    )


def make_envelope(**overrides) -> Envelope:
    arguments = {
        "source": "/qa/signoff",
        "subject": "ex-1",
        "time": datetime(2026, 5, 4, 10, 30, tzinfo=BST),
        "correlation_id": "corr-42",
    }
    arguments.update(overrides)
    return COUNTER_SIGNED.envelope(counter_signed_data(), **arguments)


def raw_envelope(**fields) -> bytes:
    body = {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "/qa/signoff",
        "type": "signoff.exemplar.counter-signed.v1",
        "time": "2026-05-04T09:30:00Z",
        "data": {"exemplar_id": "ex-1"},
    }
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


# --- EventType: names, versions, routing ---------------------------------------------------


def test_routing_key_and_cloudevents_type_are_name_dot_v_version():
    assert COUNTER_SIGNED.routing_key == "signoff.exemplar.counter-signed.v1"
    assert COUNTER_SIGNED.type == COUNTER_SIGNED.routing_key
    assert CASE_OPENED.routing_key == "resolution.case.opened.v2"


def test_dataschema_is_a_urn_naming_the_routing_key():
    assert COUNTER_SIGNED.dataschema == "urn:qa-platform:event:signoff.exemplar.counter-signed.v1"


@pytest.mark.parametrize(
    "bad_name",
    ["Bad Name", "single", "Signoff.exemplar", "signoff..exemplar", "signoff.exemplar.", "signoff.1st", ""],
)
def test_event_type_rejects_names_that_are_not_dotted_lower_case_words(bad_name):
    with pytest.raises(ValueError, match="dotted lower-case"):
        EventType(name=bad_name, version=1, data_model=CaseOpened, summary="", publisher="x")


@pytest.mark.parametrize("bad_version", [0, -1])
def test_event_type_versions_start_at_one(bad_version):
    with pytest.raises(ValueError, match="start at 1"):
        EventType(name="resolution.case.opened", version=bad_version, data_model=CaseOpened, summary="", publisher="x")


# --- EventType.envelope ------------------------------------------------------------------


def test_envelope_is_cloudevents_1_0_with_the_type_source_subject_and_schema_given():
    envelope = make_envelope()

    assert envelope.specversion == "1.0"
    assert envelope.datacontenttype == "application/json"
    assert envelope.source == "/qa/signoff"
    assert envelope.subject == "ex-1"
    assert envelope.type == "signoff.exemplar.counter-signed.v1"
    assert envelope.type == COUNTER_SIGNED.routing_key
    assert envelope.dataschema == COUNTER_SIGNED.dataschema
    assert envelope.correlationid == "corr-42"


def test_each_envelope_gets_a_fresh_uuid_id():
    first, second = make_envelope(), make_envelope()

    assert first.id != second.id
    assert uuid.UUID(first.id).version == 4


def test_envelope_uses_an_explicit_event_id_when_given():
    assert make_envelope(event_id="evt-fixed").id == "evt-fixed"


def test_envelope_time_is_converted_to_utc_keeping_the_instant():
    envelope = make_envelope(time=datetime(2026, 5, 4, 10, 30, tzinfo=BST))

    assert envelope.time.utcoffset() == timedelta(0)
    assert envelope.time == datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    assert json.loads(envelope.to_json())["time"] == "2026-05-04T09:30:00Z"


def test_envelope_data_is_dumped_in_json_mode():
    envelope = make_envelope()

    assert envelope.data == {
        "exemplar_id": "ex-1",
        "due": "2026-05-13",
        "signed_at": "2026-05-04T10:30:00+01:00",
        "attempt": 1,
    }


def test_envelope_refuses_data_of_another_event_types_model():
    with pytest.raises(TypeError, match="carries CounterSigned, not CaseOpened"):
        COUNTER_SIGNED.envelope(CaseOpened(case_id="c-1"), source="/qa/signoff", subject=None, time=datetime.now(UTC))


def test_envelope_refuses_a_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        make_envelope(time=datetime(2026, 5, 4, 10, 30))


def test_event_data_refuses_unknown_fields_when_publishing():
    with pytest.raises(ValidationError):
        CaseOpened(case_id="c-1", patient_name="must not travel in events")


def test_envelope_is_immutable():
    envelope = make_envelope()
    with pytest.raises(ValidationError):
        envelope.subject = "other"


# --- Envelope JSON ------------------------------------------------------------------------


def test_envelope_json_round_trips():
    envelope = make_envelope()

    assert Envelope.from_json(envelope.to_json()) == envelope
    assert Envelope.from_json(envelope.to_json().decode()) == envelope


def test_to_json_omits_absent_optional_attributes():
    envelope = make_envelope(subject=None, correlation_id=None)

    body = json.loads(envelope.to_json())

    assert "subject" not in body
    assert "correlationid" not in body
    assert body["dataschema"] == COUNTER_SIGNED.dataschema


def test_parse_envelope_reads_a_valid_envelope_and_keeps_extension_attributes():
    envelope = parse_envelope(raw_envelope(traceparent="00-abc-def-01"))

    assert envelope.id == "evt-1"
    assert envelope.type == "signoff.exemplar.counter-signed.v1"
    assert envelope.time == datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    assert json.loads(envelope.to_json())["traceparent"] == "00-abc-def-01"


@pytest.mark.parametrize("raw", [b"not json at all", b"\xff\xfe\x00", b"", b"[1, 2]", b'"a string"'])
def test_parse_envelope_refuses_bodies_that_are_not_json_objects(raw):
    with pytest.raises(UnreadableEvent):
        parse_envelope(raw)


@pytest.mark.parametrize("missing", ["id", "source", "type", "time", "data"])
def test_parse_envelope_refuses_an_envelope_without_a_required_attribute(missing):
    with pytest.raises(UnreadableEvent):
        parse_envelope(raw_envelope(**{missing: None}))


@pytest.mark.parametrize("empty", ["id", "source", "type"])
def test_parse_envelope_refuses_empty_required_strings(empty):
    with pytest.raises(UnreadableEvent):
        parse_envelope(raw_envelope(**{empty: ""}))


@pytest.mark.parametrize("specversion", ["0.3", "1.1", "2.0"])
def test_parse_envelope_refuses_other_cloudevents_versions(specversion):
    with pytest.raises(UnreadableEvent):
        parse_envelope(raw_envelope(specversion=specversion))


def test_parse_envelope_refuses_a_non_json_content_type():
    with pytest.raises(UnreadableEvent):
        parse_envelope(raw_envelope(datacontenttype="application/xml"))


# --- parse_data and json_schema ----------------------------------------------------------


def test_parse_data_returns_the_event_types_model():
    envelope = parse_envelope(make_envelope().to_json())

    data = COUNTER_SIGNED.parse_data(envelope)

    assert isinstance(data, CounterSigned)
    assert data == counter_signed_data()


def test_parse_data_raises_unreadable_event_on_invalid_data():
    envelope = parse_envelope(raw_envelope(data={"exemplar_id": "ex-1", "due": "not a date"}))

    with pytest.raises(UnreadableEvent, match="evt-1"):
        COUNTER_SIGNED.parse_data(envelope)


def test_json_schema_is_identified_by_the_dataschema_and_lists_required_properties():
    schema = COUNTER_SIGNED.json_schema()

    assert schema["$id"] == COUNTER_SIGNED.dataschema
    assert schema["title"] == "CounterSigned"
    assert set(schema["required"]) == {"exemplar_id", "due", "signed_at"}
    assert set(schema["properties"]) == {"exemplar_id", "due", "signed_at", "attempt"}
    assert schema["additionalProperties"] is False


def test_json_schema_does_not_leak_the_id_into_the_models_own_schema():
    COUNTER_SIGNED.json_schema()

    assert "$id" not in CounterSigned.model_json_schema()


# --- EventRegistry -----------------------------------------------------------------------


def test_registry_finds_a_type_by_routing_key():
    registry = EventRegistry([COUNTER_SIGNED, CASE_OPENED])

    assert registry.get("signoff.exemplar.counter-signed.v1") is COUNTER_SIGNED
    assert registry.get("resolution.case.opened.v2") is CASE_OPENED
    assert len(registry) == 2


def test_registry_membership_is_by_routing_key():
    registry = EventRegistry([CASE_OPENED])

    assert "resolution.case.opened.v2" in registry
    assert "resolution.case.opened.v1" not in registry
    assert "resolution.case.opened" not in registry


def test_registry_iterates_in_routing_key_order():
    registry = EventRegistry([COUNTER_SIGNED, CASE_OPENED])

    assert [t.routing_key for t in registry] == [
        "resolution.case.opened.v2",
        "signoff.exemplar.counter-signed.v1",
    ]


def test_registry_iteration_ignores_registration_order():
    reminder_due = EventType("notify.reminder.due", 1, CaseOpened, "A reminder fell due.", "notify")
    registry = EventRegistry([COUNTER_SIGNED, reminder_due, CASE_OPENED])

    assert list(registry) == [reminder_due, CASE_OPENED, COUNTER_SIGNED]


def test_registering_the_same_type_twice_is_harmless():
    registry = EventRegistry([CASE_OPENED])

    assert registry.register(CASE_OPENED) is CASE_OPENED
    assert registry.register(
        EventType("resolution.case.opened", 2, CaseOpened, "A case was opened.", "resolution")
    )
    assert len(registry) == 1


def test_registering_a_different_type_under_the_same_routing_key_is_refused():
    registry = EventRegistry([CASE_OPENED])
    impostor = EventType("resolution.case.opened", 2, CounterSigned, "Something else.", "resolution")

    with pytest.raises(ValueError, match="already registered differently"):
        registry.register(impostor)
    assert registry.get("resolution.case.opened.v2") is CASE_OPENED


def test_registry_refuses_an_unknown_routing_key_as_unreadable():
    with pytest.raises(UnreadableEvent, match="unknown event type"):
        EventRegistry([CASE_OPENED]).get("resolution.case.closed.v1")


def test_merged_registry_holds_both_and_leaves_the_originals_alone():
    left, right = EventRegistry([CASE_OPENED]), EventRegistry([COUNTER_SIGNED, CASE_OPENED])

    merged = left.merged(right)

    assert list(merged) == [CASE_OPENED, COUNTER_SIGNED]
    assert len(left) == 1 and len(right) == 2


def test_merging_registries_that_disagree_on_a_routing_key_is_refused():
    impostor = EventType("resolution.case.opened", 2, CounterSigned, "Something else.", "resolution")

    with pytest.raises(ValueError):
        EventRegistry([CASE_OPENED]).merged(EventRegistry([impostor]))


def test_an_envelope_time_without_an_offset_is_unreadable() -> None:
    """CloudEvents times are RFC 3339, which always carries an offset."""
    import json

    from shared.events import UnreadableEvent, parse_envelope

    body = {"specversion": "1.0", "id": "1", "source": "/s", "type": "a.b.v1", "time": "2026-01-01T00:00:00", "data": {}}
    with pytest.raises(UnreadableEvent):
        parse_envelope(json.dumps(body).encode())

"""Tracing through the gateway, each service and across the broker, exported over OTLP to a real
receiver: a caller's ``traceparent`` is the parent of the gateway's span, the gateway's span the
parent of the service's, and an event recorded in a request carries the request's span (the
CloudEvents ``traceparent`` extension) to the consumers in other services, whose spans join the
same trace.

These tests run a system of their own with tracing on (``OTEL_EXPORTER_OTLP_ENDPOINT``), started
once for the module, exporting to a receiver in a process of its own (``devstack.otlp``): tracing
stays off in the shared test system, as it is by default.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from devstack.otlp import OtlpReceiver, ReceivedSpan
from devstack.stack import Stack
from devstack.testing import Gateway, Infrastructure, eventually, running_system

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def otlp_receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver(tmp_path_factory.mktemp("otlp") / "receiver.log")
    try:
        receiver.wait_ready()
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="module")
def traced_system(infrastructure: Infrastructure, otlp_receiver: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Exported in small batches, soon, so a test waits a second rather than the default 5 s.
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    with running_system(infrastructure, tmp_path_factory.mktemp("traced-logs"), env=env) as stack:
        yield stack


@pytest.fixture
async def traced_gateway(traced_system: Stack) -> AsyncIterator[Gateway]:
    async with httpx.AsyncClient(base_url=traced_system.url("gateway"), timeout=30) as client:
        yield Gateway(traced_system, client)


def _traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def _descendants(spans: list[ReceivedSpan], root: ReceivedSpan, service: str) -> set[str]:
    """The span ids of ``root`` and every span of ``service`` below it."""
    found = {root.span_id}
    grew = True
    while grew:
        below = {s.span_id for s in spans if s.service == service and s.parent_span_id in found}
        grew = not below <= found
        found |= below
    return found


def _one(spans: list[ReceivedSpan], service: str, kind: str) -> ReceivedSpan:
    found = [s for s in spans if s.service == service and s.kind == kind]
    assert len(found) == 1, (service, kind, spans)
    return found[0]


async def test_a_request_is_one_trace_from_the_caller_through_the_gateway_to_the_service(traced_gateway: Gateway, otlp_receiver: OtlpReceiver) -> None:
    gateway = traced_gateway
    header, trace_id, caller_span = _traceparent()
    headers = {**await gateway.as_person("P-DS"), "traceparent": header}
    resp = await gateway.http.get("/api/v1/signoff/cases/C-1001/exemplars", headers=headers)
    assert resp.status_code == 200, resp.text

    async def both() -> list[ReceivedSpan] | None:
        spans = await otlp_receiver.of_trace(trace_id)
        services = {(s.service, s.kind) for s in spans}
        return spans if {("qa-gateway", "SPAN_KIND_SERVER"), ("qa-signoff", "SPAN_KIND_SERVER")} <= services else None

    spans = await eventually(both, timeout=15, message="the gateway's and sign-off's spans exported")
    at_gateway = _one(spans, "qa-gateway", "SPAN_KIND_SERVER")
    at_signoff = _one(spans, "qa-signoff", "SPAN_KIND_SERVER")
    assert at_gateway.parent_span_id == caller_span
    # Sign-off's span hangs under the gateway's request span (directly, or under a span within it).
    assert at_signoff.parent_span_id in _descendants(spans, at_gateway, "qa-gateway")
    assert at_signoff.attributes["http.route"] == "/v1/cases/{case_id}/exemplars" and at_signoff.attributes["http.response.status_code"] == 200


async def test_an_event_carries_its_request_span_across_the_broker_to_every_consumer(
    traced_gateway: Gateway, traced_system: Stack, mongo: AsyncMongoClient[dict[str, Any]], otlp_receiver: OtlpReceiver
) -> None:
    gateway, system = traced_gateway, traced_system
    header, trace_id, _ = _traceparent()
    person_id = f"P-{uuid.uuid4().hex[:6]}"
    person = {"name": "Tia Trace", "email": "tia.trace@council.example", "roles": ["social_worker"], "team_id": "T-CIN", "line_manager_id": "P-SP"}
    resp = await gateway.http.put(f"/api/v1/directory/people/{person_id}", json=person, headers={**await gateway.as_integration(), "traceparent": header})
    assert resp.status_code == 201, resp.text

    # The envelope carries the request's span, and nothing else was added to it.
    sent = await mongo[f"{system.namespace}_gateway"]["outbox"].find_one({"envelope": {"$regex": person_id}})
    envelope = json.loads(sent["envelope"])
    assert envelope["traceparent"].split("-")[1] == trace_id

    consumers = {"qa-signoff", "qa-resolution", "qa-audit", "qa-notify"}

    async def consumed_everywhere() -> list[ReceivedSpan] | None:
        spans = await otlp_receiver.of_trace(trace_id)
        return spans if consumers <= {s.service for s in spans if s.kind == "SPAN_KIND_CONSUMER"} else None

    spans = await eventually(consumed_everywhere, timeout=20, message="every service's consumer span in the trace")
    request = _one(spans, "qa-gateway", "SPAN_KIND_SERVER")
    in_request = _descendants(spans, request, "qa-gateway")
    assert envelope["traceparent"].split("-")[2] in in_request
    for service in consumers:
        # One event: the consumer's span is a child of the span that recorded it; a batch: linked to it.
        assert any(s.parent_span_id in in_request or trace_id in s.links for s in spans if s.service == service and s.kind == "SPAN_KIND_CONSUMER"), service
    # And the trace goes on: what a consumer records in turn (a service reporting to the gateway how
    # far it has applied the directory) is consumed under that consumer's span.
    ids = {s.span_id for s in spans}
    for span in (s for s in spans if s.kind == "SPAN_KIND_CONSUMER"):
        assert span.parent_span_id in ids or trace_id in span.links, span

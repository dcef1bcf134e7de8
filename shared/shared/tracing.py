"""Distributed tracing with OpenTelemetry: off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

When it is set (e.g. ``http://otel-collector:4318``; the other standard ``OTEL_*`` variables apply
too: ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_TRACES_SAMPLER``…), each process exports its spans over
OTLP/HTTP, as ``service.name`` ``qa-<service>``:

- a SERVER span per HTTP request, the child of the caller's W3C ``traceparent`` header when it sends
  one: FastAPI's own instrumentation makes it (with ``http.route`` and the status) once a tracer
  provider is installed; the gateway sends the current span's ``traceparent`` on every request it
  forwards, so a request's spans in the gateway and the service are one trace;
- every event a request (or a handler) records carries the span it was recorded in, as the
  CloudEvents distributed-tracing extension ``traceparent`` on the envelope (an identifier: a trace
  id and a span id, nothing about the child);
- a CONSUMER span per event handled (per batch, linked to each event's trace, for a batch
  consumer), the child of the envelope's ``traceparent``: the trace goes on across the broker.

Off, nothing is recorded or exported and envelopes carry no ``traceparent``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Link, SpanKind

_configured: str | None = None


def enabled() -> bool:
    return _configured is not None


def configure(service: str) -> bool:
    """Install the exporting tracer provider once per process when the endpoint is configured."""
    global _configured
    if _configured is not None:
        return True
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") and not os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"qa-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = service
    return True


def shutdown() -> None:
    """Export what is still buffered (a stopping process)."""
    provider = trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        flush()


def _tracer() -> trace.Tracer:
    return trace.get_tracer("qa-platform")


def traceparent() -> str | None:
    """The current span as a W3C ``traceparent`` (None when tracing is off or no span is open)."""
    if not enabled():
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current span's ``traceparent`` to an outgoing request's headers."""
    if enabled():
        propagate.inject(headers)


def _parent_of(envelope: Any) -> context.Context | None:
    value = getattr(envelope, "traceparent", None)
    return propagate.extract({"traceparent": value}) if isinstance(value, str) and value else None


@contextmanager
def consuming(envelopes: Sequence[Any], queue: str) -> Iterator[None]:
    """The span of handling one event (its envelope's ``traceparent`` its parent) or a batch (one
    span, linked to each event's trace)."""
    if not enabled() or not envelopes:
        yield
        return
    if len(envelopes) == 1:
        parent = _parent_of(envelopes[0])
        links: list[Link] = []
    else:
        parent = None
        links = [Link(trace.get_current_span(ctx).get_span_context()) for e in envelopes if (ctx := _parent_of(e)) is not None]
    name = f"{envelopes[0].type} process" if len(envelopes) == 1 else f"{queue} process batch"
    with _tracer().start_as_current_span(name, context=parent, kind=SpanKind.CONSUMER, links=links,
                                         attributes={"messaging.destination.name": queue, "messaging.batch.message_count": len(envelopes),
                                                     "messaging.message.id": envelopes[0].id}):
        yield

"""Correlation ids, structured JSON logs and Prometheus metrics, the same in every service."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

#: The correlation id of the request or event being handled, carried into every event it causes.
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

CORRELATION_HEADER = "X-Correlation-ID"

HTTP_REQUESTS = Counter(
    "qa_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "qa_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "qa_events_published_total", "Events confirmed by the broker", ["service", "type"]
)
OUTBOX_BACKLOG = Gauge(
    "qa_outbox_backlog", "Events written but not yet confirmed by the broker", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "qa_outbox_oldest_pending_age_seconds",
    "How long the oldest event not yet confirmed by the broker has waited (0: none waiting)",
    ["service"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "qa_outbox_publish_failures_total", "Publish attempts the broker did not confirm", ["service"]
)
OUTBOX_HANDOFFS_EXPIRED = Counter(
    "qa_outbox_handoffs_expired_total", "Events handed to the relay that waited too long in memory and were left to the poll", ["service"]
)
MESSAGES_HANDLED = Counter(
    "qa_messages_total",
    "Messages taken from a queue, by outcome (handled, duplicate, retried, dead_lettered)",
    ["service", "queue", "outcome"],
)
HANDLER_FAILURES = Counter(
    "qa_handler_failures_total", "Handler attempts that raised", ["service", "queue", "type"]
)
HANDLER_LATENCY = Histogram(
    "qa_handler_duration_seconds", "Time to handle one message", ["service", "queue"]
)
QUEUE_MESSAGES = Gauge(
    "qa_queue_messages",
    "Messages in a consumer's queue (ready: waiting for the consumer; dead: dead-lettered, waiting for an operator)",
    ["service", "queue", "state"],
)
MESSAGES_IN_FLIGHT = Gauge(
    "qa_messages_in_flight", "Messages being handled now", ["service", "queue"]
)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, service, correlation id, extras."""

    _standard = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        cid = correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key, value in record.__dict__.items():
            if key not in self._standard and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every logger (uvicorn's included) to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers = []
        uv.propagate = True
    # Our own middleware logs requests with the correlation id; uvicorn's access line would repeat it.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
    logging.getLogger("pymongo").setLevel(logging.WARNING)

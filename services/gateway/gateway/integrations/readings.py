"""The webhooks' gauges, read on the readings' slow cadence (``shared.readings``): deliveries
being retried after a failed attempt, deliveries held for a disabled endpoint, and endpoints
disabled after persistent failure — what the operators' alerts and dashboard read. Every replica
reads the same database: dashboards take the ``max`` across replicas."""

from __future__ import annotations

from prometheus_client import Gauge
from shared.app import Runtime
from shared.readings import Reading

from . import store
from .webhooks import DISABLED, HELD, PENDING

DELIVERIES = Gauge(
    "qa_webhook_deliveries",
    "Webhook deliveries not delivered: retrying (an attempt failed, more will follow) or held (the endpoint is disabled)",
    ["state"],
)
ENDPOINTS_DISABLED = Gauge("qa_webhook_endpoints_disabled", "Webhook endpoints disabled after persistent failure (or by an administrator)")


async def webhooks(runtime: Runtime) -> None:
    deliveries = runtime.db[store.DELIVERIES]
    DELIVERIES.labels("retrying").set(await deliveries.count_documents({"status": PENDING, "attempt_count": {"$gte": 1}}))
    DELIVERIES.labels("held").set(await deliveries.count_documents({"status": HELD}))
    ENDPOINTS_DISABLED.set(await runtime.db[store.ENDPOINTS].count_documents({"status": DISABLED}))


READINGS: tuple[Reading, ...] = (webhooks,)

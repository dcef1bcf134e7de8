"""What an integrator granted every type it may be granted saw during the whole end-to-end run.

A queue bound with ``#`` to the integrator-visible exchange ``<ns>.events`` has collected every
event since the system started (``devstack.testing.system``); this module runs after the other
end-to-end flows (its name sorts last) and reads it. Nothing personal or documentary may be
there: no child's name or date of birth, no staff names or email addresses, no document body,
nothing written to a person, and no multi-agency audit whose code sits beside the child's case.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import aio_pika
import pytest

from devstack import demo
from devstack.stack import DEFAULT_PORTS, Stack
from devstack.testing import Infrastructure, eventually, integrator_view_queue

pytestmark = pytest.mark.e2e

FORBIDDEN_KEYS = re.compile(r"(^|_)(child_name|date_of_birth|dob|address|postcode|email|pdf_base64|base64|attachment|document_body|body|content)$")
#: A document smuggled in any field: a long run of base64.
BLOB = re.compile(r"[A-Za-z0-9+/=]{400,}")


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def _outboxes_drained(mongo: Any, system: Stack) -> None:
    """Every event the services have written so far was published (each outbox holds nothing pending)."""

    async def drained() -> bool:
        for service in DEFAULT_PORTS:
            if await mongo[f"{system.namespace}_{service}"]["outbox"].count_documents({"status": "pending"}):
                return False
        return True

    await eventually(drained, timeout=60, message="every service's outbox drained")


async def _drain(amqp_url: str, queue_name: str) -> list[dict[str, Any]]:
    """Everything in the queue up to now: a sentinel goes in behind it (a queue keeps its order)
    and the queue is read up to the sentinel."""
    connection = await aio_pika.connect(amqp_url)
    seen: list[dict[str, Any]] = []
    sentinel = uuid.uuid4().hex
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=500)
        queue = await channel.get_queue(queue_name, ensure=True)
        # Straight into this queue (the default exchange): no other queue sees it.
        await channel.default_exchange.publish(aio_pika.Message(b"", message_id=sentinel), routing_key=queue_name)

        async def read_up_to_the_sentinel() -> bool:
            while (message := await queue.get(fail=False, timeout=10)) is not None:
                await message.ack()
                if message.message_id == sentinel:
                    return True
                seen.append({"routing_key": message.routing_key, "text": message.body.decode(), "event": json.loads(message.body)})
            return False

        await eventually(read_up_to_the_sentinel, timeout=60, message="the sentinel behind every event published")
    return seen


async def test_the_integrator_visible_exchange_carried_nothing_personal_or_documentary(system: Stack, infrastructure: Infrastructure, mongo: Any) -> None:
    await _outboxes_drained(mongo, system)
    seen = await _drain(infrastructure.amqp_url, integrator_view_queue(system.namespace))
    assert any(s["routing_key"] == "directory.case.changed.v1" for s in seen), "the demo load alone publishes cases"

    child_names = [c["child_name"] for c in demo.CASES.values()] + ["Test Child", "Integrator Test Child"]
    staff_names = [p["name"] for p in demo.PEOPLE.values()]
    internal = {"directory.person.changed.v1", "signoff.workflow-message.sent.v1", "audit.allocation.requested.v1"}
    problems = []
    for s in seen:
        event, text = s["event"], s["text"]
        if s["routing_key"] in internal or event["type"] in internal:
            problems.append(f"platform-internal type on the integrator exchange: {event['type']}")
        bad_keys = {k for k in _keys(event["data"]) if FORBIDDEN_KEYS.search(k)}
        if bad_keys:
            problems.append(f"{event['type']} carries {sorted(bad_keys)}")
        for name in child_names + staff_names:
            if name in text:
                problems.append(f"{event['type']} names {name!r}")
        if BLOB.search(text):
            problems.append(f"{event['type']} carries a document-sized blob")

    # Multi-agency audits: an audit known by a code anywhere is never tied to a case id anywhere.
    by_audit: dict[str, list[dict[str, Any]]] = {}
    for s in seen:
        data = s["event"]["data"]
        if "audit_id" in data:
            by_audit.setdefault(data["audit_id"], []).append(data)
    for audit_id, datas in by_audit.items():
        if any(d.get("programme") == "multi-agency" for d in datas) or any(str(d.get("case_ref", "")).startswith("MA-") for d in datas):
            joined = [d for d in datas if "case_id" in d]
            if joined:
                problems.append(f"multi-agency audit {audit_id} joined to case {joined[0]['case_id']}")
    assert not problems, "\n".join(sorted(set(problems))[:40])

"""The foundation end to end: five services as real processes, a state change crossing RabbitMQ
to another service exactly once, a crash between write and publish, a poison message."""

from __future__ import annotations

import re
import uuid
from typing import Any

import aio_pika
import httpx
import pytest

from devstack.stack import SERVICES, Stack, readyz
from devstack.testing import Infrastructure, eventually

pytestmark = pytest.mark.e2e


def _person(name: str) -> dict[str, object]:
    return {"name": name, "email": f"{name.lower().replace(' ', '.')}@council.example", "roles": ["social_worker"], "team_id": "T-CIN", "line_manager_id": "P-SP"}


async def _duplicates_seen(system: Stack) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{system.url('notify')}/metrics")).text
    match = re.search(r'qa_messages_total\{outcome="duplicate",queue="directory",service="notify"\} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


def test_every_service_answers_ready(system: Stack) -> None:
    for name in SERVICES:
        assert readyz(system.url(name)) == 200, name


async def test_a_directory_change_reaches_notify_exactly_once_even_when_delivered_twice(gateway, mongo, system: Stack, infrastructure: Infrastructure) -> None:
    person_id = f"P-{uuid.uuid4().hex[:6]}"
    resp = await gateway.http.put(f"/api/v1/directory/people/{person_id}", json=_person("Nia Twice"), headers=await gateway.as_integration())
    assert resp.status_code == 201, resp.text

    recipients = mongo[f"{system.namespace}_notify"]["recipients"]
    await eventually(lambda: recipients.find_one({"_id": person_id}), message="person projected by notify")

    # The broker delivers the very same event again (at-least-once): republish it as it was sent.
    # (The relay marks what the broker confirmed together, within MARK_SENT_WITHIN_S: wait for the mark.)
    async def marked_sent() -> dict[str, Any] | None:
        doc = await mongo[f"{system.namespace}_gateway"]["outbox"].find_one({"envelope": {"$regex": person_id}})
        return doc if doc is not None and doc["status"] == "sent" else None

    sent = await eventually(marked_sent, timeout=10, interval=0.05, message="the event marked sent")
    duplicates_before = await _duplicates_seen(system)
    connection = await aio_pika.connect(infrastructure.amqp_url)
    async with connection:
        channel = await connection.channel()
        # Staff records travel on the platform-internal exchange (directory.person.changed is internal).
        exchange = await channel.get_exchange(f"{system.namespace}.platform")
        await exchange.publish(aio_pika.Message(sent["envelope"].encode(), message_id=sent["_id"]), routing_key=sent["routing_key"])

    async def duplicate_noticed() -> bool:
        return await _duplicates_seen(system) > duplicates_before

    await eventually(duplicate_noticed, message="the second delivery reached notify")
    projected = await recipients.find_one({"_id": person_id})
    assert projected["changes_applied"] == 1
    assert projected["name"] == "Nia Twice" and projected["email"] == "nia.twice@council.example"
    assert await mongo[f"{system.namespace}_notify"]["processed_events"].count_documents({"event_id": sent["_id"]}) == 1


async def test_a_service_killed_after_its_write_publishes_the_event_once_after_restart(mongo, system: Stack) -> None:
    # The gateway writes but does not get to publish: its relay is off, then it is killed outright.
    system.restart("gateway", overrides={"OUTBOX_RELAY_ENABLED": "false"})
    person_id = f"P-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=system.url("gateway")) as client:
        token = (await client.post("/auth/dev/token", json={"person_id": "lcs-sync"})).json()["access_token"]
        resp = await client.put(f"/api/v1/directory/people/{person_id}", json=_person("Kit Crash"), headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 201, resp.text
    outbox = mongo[f"{system.namespace}_gateway"]["outbox"]
    pending = await outbox.find_one({"envelope": {"$regex": person_id}})
    assert pending is not None and pending["status"] == "pending"
    system.crash("gateway")

    recipients = mongo[f"{system.namespace}_notify"]["recipients"]
    assert await recipients.find_one({"_id": person_id}) is None

    system.restart("gateway")
    projected = await eventually(lambda: recipients.find_one({"_id": person_id}), message="event published after restart")
    assert projected["changes_applied"] == 1

    async def marked_sent() -> bool:
        return bool((await outbox.find_one({"_id": pending["_id"]}))["status"] == "sent")

    await eventually(marked_sent, timeout=10, interval=0.05, message="the event marked sent after the restart")
    assert await mongo[f"{system.namespace}_notify"]["processed_events"].count_documents({"event_id": pending["_id"]}) == 1


async def test_a_malformed_message_is_dead_lettered_and_later_messages_are_still_handled(gateway, mongo, system: Stack, infrastructure: Infrastructure) -> None:
    connection = await aio_pika.connect(infrastructure.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(f"{system.namespace}.platform")
        await exchange.publish(aio_pika.Message(b"{not json at all", message_id="poison-1"), routing_key="directory.person.changed.v1")

        person_id = f"P-{uuid.uuid4().hex[:6]}"
        resp = await gateway.http.put(f"/api/v1/directory/people/{person_id}", json=_person("Lee After"), headers=await gateway.as_integration())
        assert resp.status_code == 201
        recipients = mongo[f"{system.namespace}_notify"]["recipients"]
        await eventually(lambda: recipients.find_one({"_id": person_id}), message="later message handled")

        dead_queue = await channel.declare_queue(f"{system.namespace}.notify.directory.dead", passive=True)

        async def poison() -> aio_pika.abc.AbstractIncomingMessage | None:
            return await dead_queue.get(fail=False, timeout=5)

        dead = await eventually(poison, message="poison message in the dead-letter queue")
        await dead.ack()
        assert dead.body == b"{not json at all"
        assert "not a CloudEvents" in str(dead.headers["x-qa-dead-letter-reason"])


async def test_a_request_reaches_the_service_with_the_callers_identity_and_a_forged_one_is_ignored(gateway) -> None:
    forged = {"X-QA-Identity": "eyJwZXJzb25faWQiOiJQLUFEIn0.forged"}
    for service in ("signoff", "resolution", "audit", "notify"):
        resp = await gateway.http.get(f"/api/v1/{service}/me", headers={**await gateway.as_person("P-SW1"), **forged})
        assert resp.status_code == 200, resp.text
        assert resp.json()["person_id"] == "P-SW1"
        assert resp.json()["roles"] == ["social_worker"]
        assert resp.json()["teams"] == ["T-DA"]
    no_token = await gateway.http.get("/api/v1/signoff/me", headers=forged)
    assert no_token.status_code == 401
    assert no_token.headers["content-type"] == "application/problem+json"


async def test_a_service_refuses_an_identity_not_signed_by_the_gateway(system: Stack) -> None:
    from shared.identity import Identity, sign_identity

    forged = sign_identity(Identity(person_id="P-AD", roles=frozenset({"assistant_director"})), b"not-the-key")
    async with httpx.AsyncClient(base_url=system.url("signoff")) as client:
        resp = await client.get("/v1/me", headers={"X-QA-Identity": forged})
    assert resp.status_code == 401
    assert resp.json()["type"].endswith("/unauthenticated")


async def test_the_correlation_id_travels_from_the_request_into_the_event(gateway, mongo, system: Stack) -> None:
    person_id = f"P-{uuid.uuid4().hex[:6]}"
    headers = {**await gateway.as_integration(), "X-Correlation-ID": f"trace-{person_id}"}
    resp = await gateway.http.put(f"/api/v1/directory/people/{person_id}", json=_person("Cor Relation"), headers=headers)
    assert resp.headers["x-correlation-id"] == f"trace-{person_id}"
    event = await mongo[f"{system.namespace}_gateway"]["outbox"].find_one({"envelope": {"$regex": person_id}})
    assert f'"correlationid":"trace-{person_id}"' in event["envelope"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJQLUFEIn0."],
    ids=["missing", "empty", "not-bearer", "garbage", "unsigned"],
)
async def test_the_gateway_refuses_requests_without_a_valid_token(gateway, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    resp = await gateway.http.get("/api/v1/me", headers=headers)
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.headers["www-authenticate"].startswith("Bearer")

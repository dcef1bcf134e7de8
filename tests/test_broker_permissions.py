"""The broker itself enforces who may publish and who may read, on the real RabbitMQ.

Each service logs in as its own user (``devstack.broker``, from the event registries): it may
publish the routing keys of the types it owns and nothing else; an integrator's user may publish
nothing at all, and reads only its own queue, bound to the types it was granted.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aio_pika
import pytest
from aiormq.exceptions import AMQPConnectionError, ChannelAccessRefused, ProbableAuthenticationError
from shared.broker import EVENT_CONTENT_TYPE
from shared.broker_access import BrokerAdmin, amqp_url_for, integrator_queue, integrator_user, vhost_of

from devstack.broker import management_url_for, provision_async
from devstack.testing import Infrastructure, eventually

COUNTER_SIGNED = "signoff.exemplar.counter-signed.v1"
AUDIT_COMPLETED = "audit.audit.completed.v1"
FORM_RAISED = "resolution.form.raised.v1"
PERSON_CHANGED = "directory.person.changed.v1"  # platform-internal


def _body(event_type: str, source: str) -> bytes:
    now = datetime.now(UTC).isoformat()
    return (
        f'{{"specversion":"1.0","id":"{secrets.token_hex(8)}","source":"{source}","type":"{event_type}",'
        f'"time":"{now}","data":{{}}}}'
    ).encode()


async def _publish(url: str, exchange_name: str, routing_key: str, body: bytes = b"{}") -> None:
    """Publish one message with confirms; raises what the broker answered."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(exchange_name, ensure=False)
        await exchange.publish(aio_pika.Message(body, content_type=EVENT_CONTENT_TYPE), routing_key=routing_key, timeout=10)


@pytest.fixture
async def users(infrastructure: Infrastructure, namespace: str) -> AsyncIterator[dict[str, str]]:
    yield await provision_async(infrastructure.amqp_url, namespace, management_url_for(infrastructure.amqp_url))


async def test_a_service_may_publish_its_own_event_types_and_the_broker_refuses_another_services(
    users: dict[str, str], namespace: str
) -> None:
    await _publish(users["signoff"], f"{namespace}.events", COUNTER_SIGNED, _body(COUNTER_SIGNED, "/qa/signoff"))
    await _publish(users["audit"], f"{namespace}.events", AUDIT_COMPLETED, _body(AUDIT_COMPLETED, "/qa/audit"))

    with pytest.raises(ChannelAccessRefused, match="access to topic"):
        await _publish(users["signoff"], f"{namespace}.events", AUDIT_COMPLETED, _body(AUDIT_COMPLETED, "/qa/audit"))
    with pytest.raises(ChannelAccessRefused):
        await _publish(users["audit"], f"{namespace}.events", FORM_RAISED, _body(FORM_RAISED, "/qa/resolution"))
    # notify publishes nothing: it may publish nothing.
    with pytest.raises(ChannelAccessRefused):
        await _publish(users["notify"], f"{namespace}.events", COUNTER_SIGNED, _body(COUNTER_SIGNED, "/qa/signoff"))
    # A platform-internal type only on the platform exchange, and only by its publisher.
    await _publish(users["gateway"], f"{namespace}.platform", PERSON_CHANGED, _body(PERSON_CHANGED, "/qa/gateway"))
    with pytest.raises(ChannelAccessRefused):
        await _publish(users["gateway"], f"{namespace}.events", PERSON_CHANGED, _body(PERSON_CHANGED, "/qa/gateway"))
    with pytest.raises(ChannelAccessRefused):
        await _publish(users["signoff"], f"{namespace}.platform", PERSON_CHANGED, _body(PERSON_CHANGED, "/qa/gateway"))


async def test_a_service_cannot_reach_another_services_queue_by_the_default_exchange_or_touch_its_queues(
    users: dict[str, str], namespace: str
) -> None:
    # Through the default exchange a message would go straight into any queue, past topic permissions.
    with pytest.raises(ChannelAccessRefused):
        await _publish(users["signoff"], "", f"{namespace}.notify.work-tray", _body(COUNTER_SIGNED, "/qa/signoff"))
    connection = await aio_pika.connect(users["signoff"])
    async with connection:
        channel = await connection.channel()
        with pytest.raises(ChannelAccessRefused):
            await channel.declare_queue(f"{namespace}.notify.sneaky", durable=True)
    connection = await aio_pika.connect(users["signoff"])
    async with connection:
        channel = await connection.channel()
        own = await channel.declare_queue(f"{namespace}.signoff.scratch", durable=False, auto_delete=True)
        assert own.name.startswith(f"{namespace}.signoff.")


async def test_an_integrator_reads_only_its_granted_types_from_its_own_queue_and_can_publish_nothing(
    users: dict[str, str], namespace: str, infrastructure: Infrastructure
) -> None:
    integrator_id = "int-" + secrets.token_hex(4)
    password = secrets.token_urlsafe(18)
    queue_name = integrator_queue(namespace, integrator_id)
    user = integrator_user(namespace, integrator_id, [COUNTER_SIGNED])
    async with BrokerAdmin(management_url_for(infrastructure.amqp_url), vhost=vhost_of(infrastructure.amqp_url)) as admin:
        await admin.declare_queue(queue_name, {"x-queue-type": "quorum"})
        await admin.bind_exactly(f"{namespace}.events", queue_name, [COUNTER_SIGNED])
        await admin.apply(user, password)
    url = amqp_url_for(infrastructure.amqp_url, user.username, password)
    try:
        # It can publish nothing, anywhere: not even the type it reads.
        for exchange, key in [(f"{namespace}.events", COUNTER_SIGNED), (f"{namespace}.platform", PERSON_CHANGED), ("", queue_name)]:
            with pytest.raises(ChannelAccessRefused):
                await _publish(url, exchange, key, _body(COUNTER_SIGNED, "/qa/signoff"))
        connection = await aio_pika.connect(url)
        async with connection:
            # It cannot widen its own grant, nor make a queue of its own.
            channel = await connection.channel()
            queue = await channel.get_queue(queue_name, ensure=True)
            with pytest.raises(ChannelAccessRefused):
                await queue.bind(f"{namespace}.events", routing_key="#")
            channel = await connection.channel()
            with pytest.raises(ChannelAccessRefused):
                await channel.declare_queue(exclusive=True)

            # The services publish a granted type, a type not granted and an internal one.
            await _publish(users["audit"], f"{namespace}.events", AUDIT_COMPLETED, _body(AUDIT_COMPLETED, "/qa/audit"))
            await _publish(users["gateway"], f"{namespace}.platform", PERSON_CHANGED, _body(PERSON_CHANGED, "/qa/gateway"))
            await _publish(users["signoff"], f"{namespace}.events", COUNTER_SIGNED, _body(COUNTER_SIGNED, "/qa/signoff"))

            channel = await connection.channel()
            queue = await channel.get_queue(queue_name, ensure=True)
            received: list[str] = []

            async def up_to_the_last_published() -> bool:
                while (message := await queue.get(fail=False, timeout=5)) is not None:
                    await message.ack()
                    received.append(message.routing_key or "")
                return COUNTER_SIGNED in received

            # The granted type was published last, each publish confirmed before the next: anything
            # else routed to this queue is ahead of it.
            await eventually(up_to_the_last_published, message="the granted event, published last")
            assert received == [COUNTER_SIGNED]

        # Revoked: the login is refused.
        async with BrokerAdmin(management_url_for(infrastructure.amqp_url), vhost=vhost_of(infrastructure.amqp_url)) as admin:
            await admin.delete_user(user.username)
        with pytest.raises((ProbableAuthenticationError, AMQPConnectionError)):
            await aio_pika.connect(url)
    finally:
        async with BrokerAdmin(management_url_for(infrastructure.amqp_url), vhost=vhost_of(infrastructure.amqp_url)) as admin:
            await admin.delete_queue(queue_name)

"""Integrator access through the gateway's API, against the real broker and database: who may
manage it, what bad input gets, webhook deliveries (signed, retried, logged, disabled after
persistent failure, held and resumed, redelivered by hand, secret rotation), and an AMQP
integrator's own read-only login (granted types only, rotation, revocation)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from aiormq.exceptions import AMQPConnectionError, ChannelAccessRefused, ProbableAuthenticationError
from gateway.integrations.domain import verify
from gateway.integrations.readings import webhooks as webhook_readings
from prometheus_client import REGISTRY

from devstack.broker import management_url_for
from devstack.infra import free_port
from devstack.testing import ConsumerOutcomes, Infrastructure, eventually

from ..conftest import RunningGateway, serve_gateway, serve_stand_in

ADMIN = "P-ADMIN"
COUNTER_SIGNED = "signoff.exemplar.counter-signed.v1"
FORM_RAISED = "resolution.form.raised.v1"
WORKFLOW_MESSAGE = "signoff.workflow-message.sent.v1"  # platform-internal


@dataclass
class Receiver:
    """A webhook receiver on loopback: verifies every signature, answers as told."""

    secrets: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # next status codes to answer; then 204
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        msg_id, timestamp = request.headers["webhook-id"], int(request.headers["webhook-timestamp"])
        signature = request.headers["webhook-signature"]
        valid = [s for s in self.secrets if verify(s, msg_id, timestamp, body, signature)]
        if not valid:
            self.bad_signatures += 1
            return web.Response(status=401)
        self.received.append({"id": msg_id, "body": body, "signature": signature, "valid": len(valid)})
        status = self.answers.pop(0) if self.answers else 204
        return web.Response(status=status)

    def ids(self) -> list[str]:
        return [r["id"] for r in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    async with serve_stand_in(app) as url:
        rec.url = f"{url}/hook"
        yield rec


@pytest.fixture
async def gw(service_env: dict[str, str], infrastructure: Infrastructure) -> AsyncIterator[RunningGateway]:
    async with serve_gateway(
        broker_management_url=management_url_for(infrastructure.amqp_url),
        webhook_allow_insecure_urls=True, webhook_retry_delays_s=[0.2, 0.4], webhook_poll_interval_s=0.1, webhook_timeout_s=2,
    ) as gateway:
        await gateway.add_person(ADMIN, ["administrator"])
        await gateway.add_person("P-SW", ["social_worker"])
        yield gateway


async def _publish(infrastructure: Infrastructure, namespace: str, event_type: str, source: str, *, exchange: str = "events") -> str:
    event_id = secrets.token_hex(8)
    body = (
        f'{{"specversion":"1.0","id":"{event_id}","source":"{source}","type":"{event_type}",'
        f'"time":"{datetime.now(UTC).isoformat()}","data":{{"n":1}}}}'
    ).encode()
    connection = await aio_pika.connect(infrastructure.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(f"{namespace}.{exchange}")
        await target.publish(aio_pika.Message(body, message_id=event_id), routing_key=event_type)
    return event_id


async def _deliveries_settled(gw: RunningGateway) -> None:
    """Returns once no webhook delivery is still to be attempted (each delivered, failed or held)."""

    async def settled() -> bool:
        return bool(await gw.runtime.db["webhook_deliveries"].count_documents({"status": "pending"}) == 0)

    await eventually(settled, message="webhook deliveries settled")


async def test_only_an_administrator_manages_integrations_and_bad_input_changes_nothing(gw: RunningGateway) -> None:
    admin, worker = await gw.as_person(ADMIN), await gw.as_person("P-SW")
    assert (await gw.http.get("/api/v1/integrations/webhooks")).status_code == 401
    refused = await gw.http.post("/api/v1/integrations/webhooks", json={"url": "https://hooks.example.org/x", "event_types": [COUNTER_SIGNED]}, headers=worker)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")

    cases = [
        ({"url": "https://hooks.example.org/x", "event_types": ["signoff.no-such.thing.v1"]}, 422, "unknown-event-type"),
        ({"url": "https://hooks.example.org/x", "event_types": [WORKFLOW_MESSAGE]}, 422, "event-type-not-grantable"),
        ({"url": "ftp://hooks.example.org/x", "event_types": [COUNTER_SIGNED]}, 422, "bad-endpoint-url"),
        ({"url": "https://hooks.example.org/x", "event_types": []}, 422, None),
    ]
    for body, status, slug in cases:
        resp = await gw.http.post("/api/v1/integrations/webhooks", json=body, headers=admin)
        assert resp.status_code == status, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        if slug:
            assert resp.json()["type"].endswith(slug)
    unknown = await gw.http.post("/api/v1/integrations/amqp-integrators", json={"name": "BI", "event_types": ["x.y.z.v1"]}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["unknown"] == ["x.y.z.v1"]
    assert (await gw.http.get("/api/v1/integrations/webhooks", headers=admin)).json()["items"] == []
    assert (await gw.http.get("/api/v1/integrations/amqp-integrators", headers=admin)).json()["items"] == []

    created = await gw.http.post("/api/v1/integrations/webhooks", json={"url": "https://hooks.example.org/x", "event_types": [COUNTER_SIGNED]}, headers=admin)
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    again = await gw.http.post("/api/v1/integrations/webhooks", json={"url": "https://hooks.example.org/x", "event_types": [FORM_RAISED]}, headers=admin)
    assert again.status_code == 409 and again.json()["type"].endswith("duplicate-endpoint")
    listed = (await gw.http.get("/api/v1/integrations/webhooks", headers=admin)).json()["items"]
    assert [e["event_types"] for e in listed] == [[COUNTER_SIGNED]] and "secret" not in listed[0]


async def test_the_list_of_endpoints_hands_out_a_next_cursor_only_when_another_page_follows(gw: RunningGateway) -> None:
    admin = await gw.as_person(ADMIN)
    for n in range(3):
        body = {"url": f"https://hooks.example.org/paged-{n}", "event_types": [COUNTER_SIGNED]}
        assert (await gw.http.post("/api/v1/integrations/webhooks", json=body, headers=admin)).status_code == 201
    whole = (await gw.http.get("/api/v1/integrations/webhooks", headers=admin)).json()
    ours = [e["id"] for e in whole["items"] if e["url"].startswith("https://hooks.example.org/paged-")]
    assert len(ours) == 3 and whole["next"] is None
    count = len(whole["items"])
    exact = (await gw.http.get("/api/v1/integrations/webhooks", params={"limit": count}, headers=admin)).json()
    assert len(exact["items"]) == count and exact["next"] is None  # a full last page: nothing follows
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await gw.http.get("/api/v1/integrations/webhooks", params=params, headers=admin)).json()
        assert page["items"], "a cursor led to an empty page"
        seen += [e["id"] for e in page["items"]]
        if (cursor := page["next"]) is None:
            break
    assert seen == [e["id"] for e in whole["items"]]


async def test_plain_http_endpoints_are_refused_outside_local_runs(service_env: dict[str, str]) -> None:
    async with serve_gateway() as gateway:
        await gateway.add_person(ADMIN, ["administrator"])
        admin = await gateway.as_person(ADMIN)
        for url, slug in [("http://hooks.example.org/x", "endpoint-not-https"), ("https://127.0.0.1/x", "endpoint-not-public")]:
            resp = await gateway.http.post("/api/v1/integrations/webhooks", json={"url": url, "event_types": [COUNTER_SIGNED]}, headers=admin)
            assert resp.status_code == 422 and resp.json()["type"].endswith(slug), resp.text
        no_broker = await gateway.http.post("/api/v1/integrations/amqp-integrators", json={"name": "BI", "event_types": [COUNTER_SIGNED]}, headers=admin)
        assert no_broker.status_code == 503


async def test_a_webhook_gets_its_granted_types_signed_once_each_retried_logged_and_disabled_after_persistent_failure(
    gw: RunningGateway, receiver: Receiver, infrastructure: Infrastructure, namespace: str
) -> None:
    admin = await gw.as_person(ADMIN)
    created = (await gw.http.post("/api/v1/integrations/webhooks", json={"url": receiver.url, "event_types": [COUNTER_SIGNED]}, headers=admin)).json()
    receiver.secrets.append(created["secret"])
    hook = f"/api/v1/integrations/webhooks/{created['id']}"

    # One granted event, one not granted, one forged (an attacker's source): only the first arrives.
    receiver.answers = [500]  # the first attempt fails; the retry delivers
    taken = ConsumerOutcomes("gateway", "webhooks")
    first = await _publish(infrastructure, namespace, COUNTER_SIGNED, "/qa/signoff")
    await _publish(infrastructure, namespace, FORM_RAISED, "/qa/resolution")
    await _publish(infrastructure, namespace, COUNTER_SIGNED, "/qa/attacker")
    await eventually(lambda: _async(len(receiver.received) >= 2), message="delivered after a retry")
    # The forged event (published last) was dead-lettered, and everything before it was taken;
    # then every delivery that made was attempted: anything else would have arrived by now.
    await taken.wait_for("dead_lettered")
    await taken.idle()
    await _deliveries_settled(gw)
    assert receiver.ids() == [first, first] and receiver.bad_signatures == 0
    log = (await gw.http.get(f"{hook}/deliveries", headers=admin)).json()["items"]
    assert [(d["event_id"], d["status"], [a["status_code"] for a in d["attempts"]]) for d in log] == [(first, "delivered", [500, 204])]

    # Every attempt fails: after the retries the delivery has failed and the endpoint is disabled;
    # what comes next is held, not lost, and goes out once enabled again.
    receiver.answers = [503, 503, 503]
    doomed = await _publish(infrastructure, namespace, COUNTER_SIGNED, "/qa/signoff")

    async def disabled() -> bool:
        return bool((await gw.http.get(hook, headers=admin)).json()["status"] == "disabled")

    await eventually(disabled, message="endpoint disabled")
    held = await _publish(infrastructure, namespace, COUNTER_SIGNED, "/qa/signoff")

    async def held_delivery() -> list[Any]:
        return list((await gw.http.get(f"{hook}/deliveries", params={"status": "held"}, headers=admin)).json()["items"])

    await eventually(held_delivery, message="delivery held while disabled")
    failed = (await gw.http.get(f"{hook}/deliveries", params={"status": "failed"}, headers=admin)).json()["items"]
    assert [(d["event_id"], d["attempt_count"]) for d in failed] == [(doomed, 3)]
    assert doomed not in receiver.ids()[:2] and held not in receiver.ids()
    # What the operators' alert reads: a disabled endpoint, and a delivery held for it.
    await webhook_readings(gw.runtime)
    assert _gauge("qa_webhook_endpoints_disabled") == 1 and _gauge("qa_webhook_deliveries", state="held") == 1

    enabled = await gw.http.post(f"{hook}/enable", headers=admin)
    assert enabled.status_code == 200 and enabled.json()["status"] == "active"
    await eventually(lambda: _async(held in receiver.ids()), message="held delivery sent after enabling")
    await _deliveries_settled(gw)
    await webhook_readings(gw.runtime)
    assert _gauge("qa_webhook_endpoints_disabled") == 0 and _gauge("qa_webhook_deliveries", state="held") == 0
    assert _gauge("qa_webhook_deliveries", state="retrying") == 0

    # By hand: the failed one again, with the same webhook-id.
    again = await gw.http.post(f"{hook}/deliveries/{failed[0]['id']}/redeliver", headers=admin)
    assert again.status_code == 202
    await eventually(lambda: _async(receiver.ids().count(doomed) == 4), message="manual redelivery")

    # A new secret: during the overlap each delivery carries both signatures.
    rotated = (await gw.http.post(f"{hook}/secret", headers=admin)).json()
    receiver.secrets = [rotated["secret"]]
    after = await _publish(infrastructure, namespace, COUNTER_SIGNED, "/qa/signoff")
    await eventually(lambda: _async(after in receiver.ids()), message="signed with the new secret")
    assert len(receiver.received[-1]["signature"].split()) == 2 and receiver.bad_signatures == 0

    history = await gw.runtime.db["integration_history"].find({"subject": f"webhook/{created['id']}"}).sort("version").to_list()
    assert [h["change"] for h in history] == ["created", "disabled after persistent failure", "enabled", "secret rotated"]
    assert all("secrets" not in h["record"] for h in history)


def _gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def _async(value: Any) -> Any:
    return value


async def test_an_amqp_integrator_reads_its_granted_types_with_its_own_login_until_rotated_or_revoked(
    gw: RunningGateway, infrastructure: Infrastructure, namespace: str
) -> None:
    admin = await gw.as_person(ADMIN)
    resp = await gw.http.post("/api/v1/integrations/amqp-integrators", json={"name": "BI tools", "event_types": [COUNTER_SIGNED]}, headers=admin)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["queue"] == f"{namespace}.integrations.{created['id']}" and created["event_types"] == [COUNTER_SIGNED]
    dup = await gw.http.post("/api/v1/integrations/amqp-integrators", json={"name": "BI tools", "event_types": [FORM_RAISED]}, headers=admin)
    assert dup.status_code == 409

    connection: AbstractRobustConnection = await aio_pika.connect_robust(created["amqp_url"])
    got: list[str] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(created["queue"], ensure=True)

        async def on_message(message: Any) -> None:
            async with message.process():
                got.append(message.routing_key)

        await queue.consume(on_message)
        await _publish(infrastructure, namespace, FORM_RAISED, "/qa/resolution")
        await _publish(infrastructure, namespace, WORKFLOW_MESSAGE, "/qa/signoff", exchange="platform")
        await _publish(infrastructure, namespace, COUNTER_SIGNED, "/qa/signoff")
        # The granted event was published last, each publish confirmed before the next: anything
        # routed to this queue before it would have arrived first.
        await eventually(lambda: _async(got), message="the granted event")
        assert got == [COUNTER_SIGNED]
        publisher = await connection.channel(publisher_confirms=True)
        with pytest.raises(ChannelAccessRefused):
            exchange = await publisher.get_exchange(f"{namespace}.events", ensure=False)
            await exchange.publish(aio_pika.Message(b"{}"), routing_key=COUNTER_SIGNED, timeout=5)

    rotated = (await gw.http.post(f"/api/v1/integrations/amqp-integrators/{created['id']}/password", headers=admin)).json()
    assert rotated["password"] != created["password"]
    with pytest.raises((ProbableAuthenticationError, AMQPConnectionError)):
        await aio_pika.connect(created["amqp_url"])
    await (await aio_pika.connect(rotated["amqp_url"])).close()  # the new one works
    stale = await gw.http.post(f"/api/v1/integrations/amqp-integrators/{created['id']}/revocation", json={"reason": "contract ended"},
                               headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412
    revoked = await gw.http.post(f"/api/v1/integrations/amqp-integrators/{created['id']}/revocation", json={"reason": "contract ended"}, headers=admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    with pytest.raises((ProbableAuthenticationError, AMQPConnectionError)):
        await aio_pika.connect(rotated["amqp_url"])
    assert (await gw.http.post(f"/api/v1/integrations/amqp-integrators/{created['id']}/password", headers=admin)).status_code == 409
    kept = (await gw.http.get(f"/api/v1/integrations/amqp-integrators/{created['id']}", headers=admin)).json()
    assert kept["status"] == "revoked" and kept["revoke_reason"] == "contract ended" and kept["revoked_by"] == ADMIN


async def test_a_hanging_receiver_holds_up_neither_another_endpoint_nor_the_queue(
    gw: RunningGateway, infrastructure: Infrastructure, namespace: str
) -> None:
    """One receiver never answers until released; another gets every event meanwhile."""
    release = asyncio.Event()
    hung: list[str] = []
    healthy = Receiver()

    async def hang(request: web.Request) -> web.Response:
        hung.append(request.headers["webhook-id"])
        await release.wait()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hang", hang)
    app.router.add_post("/hook", healthy.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        admin = await gw.as_person(ADMIN)
        for path in ("hang", "hook"):
            created = (await gw.http.post("/api/v1/integrations/webhooks", json={"url": f"http://127.0.0.1:{port}/{path}", "event_types": [COUNTER_SIGNED]},
                                          headers=admin)).json()
            healthy.secrets.append(created["secret"])
        sent = [await _publish(infrastructure, namespace, COUNTER_SIGNED, "/qa/signoff") for _ in range(12)]
        await eventually(lambda: _async(set(sent) <= set(healthy.ids())), timeout=20, message="the healthy endpoint got every event")
        assert not release.is_set() and 0 < len(hung) <= 4, "the hanging endpoint holds at most its own concurrency"
    finally:
        release.set()
        await runner.cleanup()


async def test_two_gateway_replicas_deliver_each_event_to_an_endpoint_once(
    gw: RunningGateway, receiver: Receiver, infrastructure: Infrastructure, namespace: str, service_env: dict[str, str]
) -> None:
    admin = await gw.as_person(ADMIN)
    created = (await gw.http.post("/api/v1/integrations/webhooks", json={"url": receiver.url, "event_types": [COUNTER_SIGNED]}, headers=admin)).json()
    receiver.secrets.append(created["secret"])
    async with serve_gateway(webhook_allow_insecure_urls=True, webhook_poll_interval_s=0.05):
        taken = ConsumerOutcomes("gateway", "webhooks")  # both replicas' consumers (in this process)
        sent = [await _publish(infrastructure, namespace, COUNTER_SIGNED, "/qa/signoff") for _ in range(30)]
        await eventually(lambda: _async(set(sent) <= set(receiver.ids())), timeout=30, message="every event delivered")
        # Every delivery the two replicas took was settled, and every delivery made was attempted:
        # a second copy would have arrived by now.
        await taken.wait_for("handled", len(sent))
        await taken.idle()
        await _deliveries_settled(gw)
    assert sorted(receiver.ids()) == sorted(sent), "each event once, though both replicas consume and dispatch"


async def test_the_webhooks_queue_is_bound_only_to_the_types_some_endpoint_wants(
    gw: RunningGateway, infrastructure: Infrastructure, namespace: str
) -> None:
    from shared.broker_access import BrokerAdmin

    admin = await gw.as_person(ADMIN)
    queue = f"{namespace}.gateway.webhooks"

    async def bound() -> list[str]:
        async with BrokerAdmin(management_url_for(infrastructure.amqp_url)) as broker:
            return await broker.queue_bindings(f"{namespace}.events", queue)

    assert await bound() == [], "no endpoint: the gateway digests no event"
    one = (await gw.http.post("/api/v1/integrations/webhooks", json={"url": "https://a.example.org/h", "event_types": [COUNTER_SIGNED]}, headers=admin)).json()
    two = (await gw.http.post("/api/v1/integrations/webhooks", json={"url": "https://b.example.org/h", "event_types": [COUNTER_SIGNED, FORM_RAISED]},
                              headers=admin)).json()
    assert await bound() == sorted([COUNTER_SIGNED, FORM_RAISED])
    await gw.http.delete(f"/api/v1/integrations/webhooks/{two['id']}", headers=admin)
    assert await bound() == [COUNTER_SIGNED]
    await gw.http.patch(f"/api/v1/integrations/webhooks/{one['id']}", json={"event_types": [FORM_RAISED]}, headers=admin)
    assert await bound() == [FORM_RAISED]

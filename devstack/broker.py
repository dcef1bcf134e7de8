"""The services' own broker users, created on the local RabbitMQ for a local run and for the tests,
and written out for docker-compose (a definitions file) and Kubernetes (Messaging Topology
Operator resources).

    python -m devstack.broker definitions > deploy/rabbitmq/definitions.json
    python -m devstack.broker k8s > deploy/k8s/components/backing-operators/rabbitmq-topology.yaml

Who may publish what comes from the event registries (``EventType.publisher``), so a new event
type is covered by regenerating; tests keep both files current.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shared.broker_access import BrokerAdmin, BrokerUser, amqp_url_for, service_user, vhost_of
from shared.consumer import DEAD_LETTER_DELIVERY_LIMIT
from shared.events import EventType

from .asyncapi import registries
from .infra import InfraError, port_open

#: Every service has a broker user, whether or not it publishes anything yet.
SERVICES = ("gateway", "signoff", "resolution", "audit", "notify")
MANAGEMENT_PORT = 15672


def all_event_types() -> list[EventType]:
    return [event_type for registry in registries().values() for event_type in registry]


def service_users(namespace: str) -> dict[str, BrokerUser]:
    types = all_event_types()
    return {service: service_user(namespace, service, types) for service in SERVICES}


def management_url_for(amqp_url: str) -> str:
    """``BROKER_MANAGEMENT_URL`` if set, else the management API beside ``amqp_url``, as its user."""
    explicit = os.environ.get("BROKER_MANAGEMENT_URL")
    if explicit:
        return explicit
    parts = urlsplit(amqp_url)
    netloc = f"{parts.username or 'guest'}:{parts.password or 'guest'}@{parts.hostname or '127.0.0.1'}:{MANAGEMENT_PORT}"
    return urlunsplit(("http", netloc, "/", "", ""))


def ensure_management(management_url: str, *, timeout: float = 60) -> None:
    """Make sure the management API answers, enabling the plugin on a local broker if we can."""
    parts = urlsplit(management_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or MANAGEMENT_PORT
    if port_open(host, port):
        return
    plugins = shutil.which("rabbitmq-plugins")
    if host not in ("127.0.0.1", "localhost", "::1") or plugins is None:
        raise InfraError(
            f"the RabbitMQ management API does not answer on {host}:{port}; enable it with "
            "`rabbitmq-plugins enable rabbitmq_management` or set BROKER_MANAGEMENT_URL"
        )
    subprocess.run([plugins, "enable", "rabbitmq_management"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise InfraError(f"enabled rabbitmq_management but nothing answers on {host}:{port} after {timeout:.0f}s")
        time.sleep(0.5)


async def provision_async(amqp_url: str, namespace: str, management_url: str | None = None) -> dict[str, str]:
    """Create (or update) every service's broker user with a fresh password; returns each
    service's AMQP URL, logging in as its own user."""
    management_url = management_url or management_url_for(amqp_url)
    urls = {}
    async with BrokerAdmin(management_url, vhost=vhost_of(amqp_url)) as admin:
        # The exchanges exist before any service (or integrator queue) needs them.
        await admin.declare_topic_exchange(f"{namespace}.events")
        await admin.declare_topic_exchange(f"{namespace}.platform")
        for service, user in service_users(namespace).items():
            password = secrets.token_urlsafe(24)
            await admin.apply(user, password)
            urls[service] = amqp_url_for(amqp_url, user.username, password)
    return urls


def provision(amqp_url: str, namespace: str) -> dict[str, str]:
    management_url = management_url_for(amqp_url)
    ensure_management(management_url)
    return asyncio.run(provision_async(amqp_url, namespace, management_url))


async def remove_users_async(amqp_url: str, namespace: str) -> None:
    """Delete every broker user of the namespace (services' and integrators')."""
    async with BrokerAdmin(management_url_for(amqp_url), vhost=vhost_of(amqp_url)) as admin:
        for username in await admin.usernames(prefix=f"{namespace}-"):
            await admin.delete_user(username)


# --- docker-compose: a RabbitMQ definitions file -------------------------------------------------


def password_hash(password: str, salt: bytes) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))."""
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def compose_password(service: str) -> str:
    """The compose file's default password of a service's broker user (override with
    ``<SERVICE>_BROKER_PASSWORD`` when regenerating the definitions for a real installation)."""
    return os.environ.get(f"{service.upper()}_BROKER_PASSWORD", f"{service}-broker-dev")


#: The RabbitMQ release the deployment runs (docker-compose.yml, the RabbitmqCluster); the
#: definitions file says which release it was written for.
RABBITMQ_VERSION = "4.2.9"


def dead_letter_policy(namespace: str) -> dict[str, Any]:
    """The broker policy that keeps every message in every ``<ns>.<service>.<purpose>.dead`` queue.

    New dead-letter queues declare the same limit themselves (``shared.consumer``); the policy
    covers those an earlier release declared without it, which RabbitMQ 4 would otherwise give
    its default delivery limit of 20 (and then drop a letter looked at 20 times). A positive
    limit rather than RabbitMQ 4's -1 ("none"), which RabbitMQ 3.x refuses in a policy.
    """
    return {
        "name": f"{namespace}-dead-letters",
        "pattern": rf"^{re.escape(namespace)}\..+\.dead$",
        "apply-to": "queues",
        "priority": 10,
        "definition": {"delivery-limit": DEAD_LETTER_DELIVERY_LIMIT},
    }


def definitions(namespace: str = "qa") -> dict[str, Any]:
    users = service_users(namespace)
    admin_password = os.environ.get("BROKER_ADMIN_PASSWORD", "admin-broker-dev")
    exchange = {"vhost": "/", "type": "topic", "durable": True, "auto_delete": False, "internal": False, "arguments": {}}
    return {
        "rabbit_version": RABBITMQ_VERSION,
        "users": [
            {"name": "admin", "password_hash": password_hash(admin_password, b"qaad"),
             "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]},
            *(
                {"name": user.username, "password_hash": password_hash(compose_password(service), service[:4].encode().ljust(4, b"_")),
                 "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}
                for service, user in users.items()
            ),
        ],
        "vhosts": [{"name": "/"}],
        "permissions": [
            {"user": "admin", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
            *({"user": u.username, "vhost": "/", "configure": u.configure, "write": u.write, "read": u.read} for u in users.values()),
        ],
        "topic_permissions": [
            {"user": u.username, "vhost": "/", "exchange": t.exchange, "write": t.write, "read": t.read}
            for u in users.values() for t in u.topics
        ],
        "policies": [{"vhost": "/", **dead_letter_policy(namespace)}],
        "exchanges": [{"name": f"{namespace}.events", **exchange}, {"name": f"{namespace}.platform", **exchange}],
        "queues": [],
        "bindings": [],
    }


# --- Kubernetes: the Messaging Topology Operator's resources --------------------------------------


def k8s_resources(namespace: str = "qa", cluster: str = "qa-rabbitmq") -> str:
    """``User``, ``Permission`` and ``TopicPermission`` resources (rabbitmq.com/v1beta1) beside the
    ``RabbitmqCluster``, the two event exchanges and the dead-letter queues' ``Policy``. The Messaging Topology Operator generates
    each user's credentials into the Secret ``<service>-broker-user-user-credentials`` (keys
    ``username`` and ``password``), from which that service builds its ``AMQP_URL``."""
    ref = {"name": cluster}
    docs: list[dict[str, Any]] = []
    for suffix in ("events", "platform"):
        docs.append({
            "apiVersion": "rabbitmq.com/v1beta1", "kind": "Exchange",
            "metadata": {"name": f"{namespace}-{suffix}-exchange"},
            "spec": {"rabbitmqClusterReference": ref, "name": f"{namespace}.{suffix}", "vhost": "/",
                     "type": "topic", "durable": True, "autoDelete": False},
        })
    policy = dead_letter_policy(namespace)
    docs.append({
        "apiVersion": "rabbitmq.com/v1beta1", "kind": "Policy",
        "metadata": {"name": policy["name"]},
        "spec": {"rabbitmqClusterReference": ref, "name": policy["name"], "vhost": "/", "pattern": policy["pattern"],
                 "applyTo": policy["apply-to"], "priority": policy["priority"], "definition": policy["definition"]},
    })
    for service, user in service_users(namespace).items():
        user_resource = f"{service}-broker-user"
        docs.append({
            "apiVersion": "rabbitmq.com/v1beta1", "kind": "User",
            "metadata": {"name": user_resource},
            "spec": {"rabbitmqClusterReference": ref, "tags": []},
        })
        docs.append({
            "apiVersion": "rabbitmq.com/v1beta1", "kind": "Permission",
            "metadata": {"name": f"{service}-broker-permission"},
            "spec": {"rabbitmqClusterReference": ref, "vhost": "/", "userReference": {"name": user_resource},
                     "permissions": {"configure": user.configure, "write": user.write, "read": user.read}},
        })
        for topic in user.topics:
            suffix = topic.exchange.rsplit(".", 1)[-1]
            docs.append({
                "apiVersion": "rabbitmq.com/v1beta1", "kind": "TopicPermission",
                "metadata": {"name": f"{service}-broker-topics-{suffix}"},
                "spec": {"rabbitmqClusterReference": ref, "vhost": "/", "userReference": {"name": user_resource},
                         "permissions": {"exchange": topic.exchange, "write": topic.write, "read": topic.read}},
            })
    header = (
        "# Generated by `python -m devstack.broker k8s` from the event registries (tests keep it current):\n"
        "# one least-privilege broker user per service; topic permissions let each publish only the\n"
        "# routing keys of the event types it owns. Integrators' users are made by the gateway's API.\n"
        "# The policy keeps every dead letter (RabbitMQ 4's default delivery limit of 20 would drop them).\n"
    )
    return header + "".join("---\n" + json_to_yaml(doc) for doc in docs)


def json_to_yaml(doc: dict[str, Any]) -> str:
    import yaml

    return str(yaml.safe_dump(doc, sort_keys=False, width=200))


def main(argv: list[str]) -> int:
    if argv[:1] == ["definitions"]:
        sys.stdout.write(json.dumps(definitions(), indent=2) + "\n")
        return 0
    if argv[:1] == ["k8s"]:
        sys.stdout.write(k8s_resources())
        return 0
    print("usage: python -m devstack.broker definitions|k8s", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

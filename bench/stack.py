"""What the benchmarks that run services as processes share: the services started once on free
ports against SecantusDB (unless ``MONGODB_URL`` is set) and the local RabbitMQ (unless
``AMQP_URL`` is set), the demo directory loaded, the rate limit raised so it is checked on every
request but never refuses one; everything removed afterwards. And the machine's CPU, for the
figures' record."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack import demo
from devstack.infra import LOCAL_AMQP_URL, ensure_rabbitmq, free_port, start_embedded_mongo
from devstack.stack import DEFAULT_PORTS, Stack

UNLIMITED = {"RATE_LIMIT_PER_MINUTE": "1000000000", "RATE_LIMIT_BURST": "1000000000"}


@dataclass(frozen=True)
class Running:
    stack: Stack
    mongodb_url: str
    amqp_url: str
    #: Whether the database is the embedded SecantusDB (else ``MONGODB_URL``).
    embedded: bool


@contextmanager
def running(services: list[str], prefix: str) -> Iterator[Running]:
    """``services`` (every one gets a port: the gateway is told all four) with the demo directory."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    mongo = None
    mongodb_url = os.environ.get("MONGODB_URL")
    if not mongodb_url:
        mongo = start_embedded_mongo(work / "data", log_path=work / "secantus.log", sync_on_commit=False)
        mongodb_url = mongo.url
    amqp_url = os.environ.get("AMQP_URL") or LOCAL_AMQP_URL
    ensure_rabbitmq(amqp_url)
    namespace = f"bench{secrets.token_hex(3)}"
    stack = Stack(
        mongodb_url=mongodb_url, amqp_url=amqp_url, namespace=namespace, signing_key=secrets.token_urlsafe(32), log_dir=work / "logs",
        ports={name: free_port() for name in DEFAULT_PORTS}, extra_env={"gateway": UNLIMITED},
    )
    try:
        stack.start(services)
        demo.load(stack.url("gateway"))
        yield Running(stack, mongodb_url, amqp_url, embedded=mongo is not None)
    finally:
        stack.stop()
        _cleanup(mongodb_url, amqp_url, namespace)
        if mongo is not None:
            mongo.stop()
        shutil.rmtree(work, ignore_errors=True)


def _cleanup(mongodb_url: str, amqp_url: str, namespace: str) -> None:
    from devstack.testing import Infrastructure, remove_namespace

    try:
        remove_namespace(Infrastructure(mongodb_url, amqp_url, "bench"), namespace)
    except Exception as exc:  # the figures matter more than tidying up
        print(f"(could not remove namespace {namespace}: {exc})", file=sys.stderr)


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def handled(purpose: str) -> float:
    """Events the in-process consumer ``purpose`` has acknowledged as handled (or as already
    handled), counted from ``qa_messages_total``: waiting on it asks nothing of the database."""
    from shared.observability import MESSAGES_HANDLED

    return sum(
        sample.value
        for metric in MESSAGES_HANDLED.collect()
        for sample in metric.samples
        if sample.name == "qa_messages_total" and sample.labels.get("queue") == purpose and sample.labels.get("outcome") in ("handled", "duplicate")
    )

"""``python -m devstack up``: the whole system on this machine, with demo data. Ctrl-C stops it.

Environment: ``MONGODB_URL`` (else an embedded SecantusDB keeping its data under ``./var/mongo``),
``AMQP_URL`` (an administrator's login; else the local RabbitMQ's guest, the broker started if
installed and stopped: each service gets its own least-privilege broker user created from it),
``BROKER_MANAGEMENT_URL`` (else port 15672 beside ``AMQP_URL``; the plugin is enabled on a local
broker if it is off), ``QA_NAMESPACE``,
``IDENTITY_SIGNING_KEY`` (else a random one for this run), ``GATEWAY_PORT`` (8000),
``QA_DATA_DIR`` (``./var``).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from . import demo
from .broker import management_url_for, provision
from .infra import LOCAL_AMQP_URL, InfraError, ensure_rabbitmq, free_port, port_open, start_embedded_mongo
from .stack import DEFAULT_PORTS, SERVICES, Stack


def up(args: argparse.Namespace) -> int:
    data_dir = Path(os.environ.get("QA_DATA_DIR", "var")).resolve()
    ports = dict(DEFAULT_PORTS)
    ports["gateway"] = int(os.environ.get("GATEWAY_PORT", ports["gateway"]))
    busy = [f"{name} ({port})" for name, port in ports.items() if port_open("127.0.0.1", port)]
    if busy:
        print(f"These ports are already in use: {', '.join(busy)}. Is the system already running?", file=sys.stderr)
        return 1
    mongo = None
    try:
        mongodb_url = os.environ.get("MONGODB_URL")
        if not mongodb_url:
            print(f"Starting the embedded MongoDB-wire server (SecantusDB); data in {data_dir / 'mongo'}")
            mongo = start_embedded_mongo(data_dir / "mongo", log_path=data_dir / "logs" / "mongo.log", sync_on_commit=True)
            mongodb_url = mongo.url
        amqp_url = os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
        ensure_rabbitmq(amqp_url)
        namespace = os.environ.get("QA_NAMESPACE", "qa")
        # Each service logs in as its own least-privilege broker user (AMQP_URL is the administrator's).
        amqp_urls = provision(amqp_url, namespace)
    except InfraError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        if mongo:
            mongo.stop()
        return 1

    stack = Stack(
        mongodb_url=mongodb_url,
        amqp_url=amqp_url,
        namespace=namespace,
        amqp_urls=amqp_urls,
        management_url=management_url_for(amqp_url),
        signing_key=os.environ.get("IDENTITY_SIGNING_KEY") or secrets.token_urlsafe(32),
        log_dir=data_dir / "logs",
        ports=ports,
        mail_dir=data_dir / "mail",
        smtp_port=1025 if not port_open("127.0.0.1", 1025) else free_port(),
    )
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        print(f"Starting {', '.join(SERVICES)} (logs in {data_dir / 'logs'})")
        stack.start()
        if not args.no_demo:
            counts = demo.load(stack.url("gateway"))
            print("Loaded demo directory: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        gw = stack.url("gateway")
        print(
            f"\nThe QA platform is running. Gateway: {gw}\n"
            f"  API docs:       {gw}/docs\n"
            f"  Get a token:    curl -s -X POST {gw}/auth/dev/token -H 'content-type: application/json' -d '{{\"person_id\": \"P-SW1\"}}'\n"
            f"  Use it:         curl -s {gw}/api/v1/me -H \"Authorization: Bearer $TOKEN\"\n"
            f"  Demo people:    {', '.join(sorted(demo.PEOPLE))}\n"
            f"  Mail sent:      saved as .eml files in {data_dir / 'mail'}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while not stopping:
            for name, proc in stack.services.items():
                if not proc.running():
                    print(f"{name} stopped unexpectedly:\n{proc.log_tail()}", file=sys.stderr)
                    stopping, code = True, 1
            time.sleep(0.5)
    except Exception as exc:  # start-up failed: say why, then clean up
        print(f"Cannot start: {exc}", file=sys.stderr)
        code = 1
    finally:
        print("Stopping...", flush=True)
        stack.stop()
        if mongo:
            mongo.stop()
        print("Stopped.")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="run the whole system with demo data")
    up_parser.add_argument("--no-demo", action="store_true", help="do not load the demo directory")
    args = parser.parse_args()
    if args.command == "up":
        return up(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

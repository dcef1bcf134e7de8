"""``python -m devstack up``: the whole system on this machine, with demo data. Ctrl-C stops it.

Environment: ``MONGODB_URL`` (else an embedded SecantusDB keeping its data under ``./var/mongo``),
``AMQP_URL`` (an administrator's login; else the local RabbitMQ's guest, the broker started if
installed and stopped: each service gets its own least-privilege broker user created from it),
``BROKER_MANAGEMENT_URL`` (else port 15672 beside ``AMQP_URL``; the plugin is enabled on a local
broker if it is off), ``QA_NAMESPACE``,
``IDENTITY_SIGNING_KEY`` (else one kept in ``./var/dev-keys``, as is the dev issuer's key, so a
token survives a restart), ``GATEWAY_PORT`` (8000), ``QA_DATA_DIR`` (``./var``),
``CORS_ORIGIN_REGEX`` (else any ``http://localhost:<port>`` and ``http://127.0.0.1:<port>``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from . import demo, devkeys
from .broker import management_url_for, provision
from .infra import LOCAL_AMQP_URL, InfraError, ensure_rabbitmq, free_port, port_open, start_embedded_mongo
from .stack import DEFAULT_PORTS, SERVICES, Stack

#: ``./dev up`` only: a front end served from any local port may call the API from a browser.
DEV_CORS_ORIGIN_REGEX = r"http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?"


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

    keys = devkeys.ensure(data_dir / "dev-keys")
    stack = Stack(
        mongodb_url=mongodb_url,
        amqp_url=amqp_url,
        namespace=namespace,
        amqp_urls=amqp_urls,
        management_url=management_url_for(amqp_url),
        signing_key=os.environ.get("IDENTITY_SIGNING_KEY") or keys.identity_signing_key,
        log_dir=data_dir / "logs",
        ports=ports,
        mail_dir=data_dir / "mail",
        smtp_port=1025 if not port_open("127.0.0.1", 1025) else free_port(),
        # A local run may move time on through the API (POST /api/v1/<service>/scheduler/runs).
        extra_env={
            "*": {"SCHEDULER_AS_OF_ENABLED": "true"},
            "gateway": {
                "CORS_ORIGIN_REGEX": os.environ.get("CORS_ORIGIN_REGEX", DEV_CORS_ORIGIN_REGEX),
                "DEV_ISSUER_KEY_FILE": os.environ.get("DEV_ISSUER_KEY_FILE", str(keys.issuer_key_file)),
            },
        },
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
            print(f"Loaded {demo.load_themes(stack.url('gateway'))} demo resolution themes")
            print(f"Loaded {demo.load_closing_reasons(stack.url('gateway'))} demo closing reasons")
        print(demo.banner(stack.url("gateway"), data_dir=str(data_dir)), flush=True)
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

"""The gateway's cost, measured: one read (notify's ``GET /v1/me``) direct to the service and
through the gateway (``GET /api/v1/notify/me``, JWT verification and identity signing on), in
one run, with ``wrk`` on loopback.

    python -m bench.gateway [--duration 10] [--connections 50]

It starts what it needs (SecantusDB unless ``MONGODB_URL`` is set, the local RabbitMQ unless
``AMQP_URL`` is set, and the notify service and the gateway as processes on free ports), loads
the demo directory, runs wrk four times (50 connections then 1, each target), prints a table and
writes the figures to ``bench/results/gateway-<time>.json``. The rate limit is raised so it is
checked on every request but never refuses one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from devstack import demo

from ..stack import cpu, running

RESULTS = Path(__file__).resolve().parents[1] / "results"
PERSON = "P-SW1"
TARGET = {"gateway": 0.5, "added_p50_ms": 1.0}
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, headers: dict[str, str], *, connections: int, duration: int) -> dict[str, Any]:
    threads = min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if errors or socket_errors:
        raise SystemExit(f"wrk saw failed requests against {url}:\n{out}")
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE))
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(latency["50"]),
        "p90_ms": _ms(latency["90"]),
        "p99_ms": _ms(latency["99"]),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
    }


def run(duration: int, connections: int) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    from shared.identity import Identity, sign_identity

    # Only notify and the gateway run.
    with running(["notify", "gateway"], "gateway") as system:
        stack = system.stack
        with httpx.Client(base_url=stack.url("gateway")) as client:
            token = demo.dev_token(client, PERSON)
            me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
        through = (f"{stack.url('gateway')}/api/v1/notify/me", {"Authorization": f"Bearer {token}"})
        identity = Identity(person_id=me["person_id"], name=me["name"], roles=frozenset(me["roles"]), teams=frozenset(me["teams"]))

        def direct() -> tuple[str, dict[str, str]]:
            # Signed afresh for each run: a signed identity is valid for IDENTITY_MAX_AGE_S.
            return f"{stack.url('notify')}/v1/me", {"X-QA-Identity": sign_identity(identity, stack.signing_key.encode())}

        figures: dict[str, Any] = {}
        for label, conns in ((f"{connections} connections", connections), ("1 connection", 1)):
            wrk(*direct(), connections=conns, duration=2)  # warm both up
            wrk(*through, connections=conns, duration=2)
            figures[label] = {
                "direct": wrk(*direct(), connections=conns, duration=duration),
                "gateway": wrk(*through, connections=conns, duration=duration),
            }
    many, one = figures[f"{connections} connections"], figures["1 connection"]
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "cpu": cpu(), "python": platform.python_version()},
        "read": "GET /v1/me of notify (direct, signed identity) vs GET /api/v1/notify/me (gateway, bearer JWT)",
        "duration_s": duration,
        "figures": figures,
        "throughput_ratio": round(many["gateway"]["requests_per_s"] / many["direct"]["requests_per_s"], 3),
        "added_p50_ms_one_client": round(one["gateway"]["p50_ms"] - one["direct"]["p50_ms"], 3),
        "added_p99_ms_one_client": round(one["gateway"]["p99_ms"] - one["direct"]["p99_ms"], 3),
        "target": TARGET,
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"{'':18}{'target':>9}{'req/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"]
    for label, runs in result["figures"].items():
        for target, f in runs.items():
            lines.append(f"{label:18}{target:>9}{f['requests_per_s']:>10.0f}{f['p50_ms']:>9.2f}{f['p90_ms']:>9.2f}{f['p99_ms']:>9.2f}")
    ratio, added = result["throughput_ratio"], result["added_p50_ms_one_client"]
    lines.append(f"throughput through the gateway: {ratio:.2f}x direct (target >= {TARGET['gateway']}x) {'OK' if ratio >= TARGET['gateway'] else 'BELOW TARGET'}")
    lines.append(f"added latency one client sees, p50: {added:.2f} ms (target <= {TARGET['added_p50_ms']} ms) "
                 f"{'OK' if added <= TARGET['added_p50_ms'] else 'ABOVE TARGET'}; p99: {result['added_p99_ms_one_client']:.2f} ms")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    parser.add_argument("--connections", type=int, default=50, help="connections of the loaded runs (default 50)")
    args = parser.parse_args()
    result = run(args.duration, args.connections)
    print(table(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"gateway-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()

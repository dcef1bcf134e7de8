"""MongoDB and RabbitMQ for a local run or a test run.

MongoDB: ``MONGODB_URL`` if set; otherwise an embedded MongoDB-wire server, SecantusDB, started as
its own process (so it does not share a GIL with what it serves). RabbitMQ: ``AMQP_URL`` if set,
otherwise the local server on 127.0.0.1:5672, started with ``rabbitmq-server -detached`` if it is
installed but stopped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


class InfraError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class EmbeddedMongo:
    """A SecantusDB server process."""

    process: subprocess.Popen[bytes]
    url: str
    storage_path: Path
    log_path: Path

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_embedded_mongo(storage_path: Path, *, log_path: Path, port: int | None = None, sync_on_commit: bool = True, timeout: float = 60) -> EmbeddedMongo:
    """Start SecantusDB on loopback, keeping its data in ``storage_path``."""
    executable = shutil.which("secantusd-py", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    if executable is None:
        raise InfraError("secantusd-py not found: install the project's requirements (pip install -r requirements.lock)")
    storage_path.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    command = [executable, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage_path), "--log-level", "WARNING"]
    if sync_on_commit:
        command.append("--sync-on-commit")
    with log_path.open("ab") as log:  # the server writes to its own copy
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"mongodb://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise InfraError(f"SecantusDB exited with {process.returncode}; see {log_path}")
        if port_open("127.0.0.1", port) and _mongo_answers(url):
            return EmbeddedMongo(process, url, storage_path, log_path)
        time.sleep(0.2)
    process.kill()
    raise InfraError(f"SecantusDB did not answer on port {port} within {timeout:.0f}s; see {log_path}")


def _mongo_answers(url: str) -> bool:
    from pymongo import MongoClient

    try:
        client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=1000)
        with client:
            client.admin.command("ping")
        return True
    except Exception:
        return False


def abort_open_transactions(mongodb_url: str) -> None:
    """Abort every open transaction on the database (``killAllSessions``): what the database
    itself does to a dead client's transactions only once their lifetime ends.

    A process SIGKILLed mid-transaction leaves it open, holding the documents it changed, for
    60 s (mongod's ``transactionLifetimeLimitSeconds``; SecantusDB the same): meanwhile every
    write to those documents waits, and a database drop waits too (SecantusDB holding its
    storage lock, so it never ends). The transactions of live processes are aborted as well, and
    retried by them as after a failover."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url, serverSelectionTimeoutMS=5000)
    with client:
        client.admin.command("killAllSessions", [])


def ensure_rabbitmq(url: str, *, may_start: bool = True, timeout: float = 90) -> None:
    """Make sure the broker at ``url`` accepts connections, starting a local one if we can."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 5672
    if port_open(host, port):
        return
    local = host in ("127.0.0.1", "localhost", "::1")
    server = shutil.which("rabbitmq-server")
    if not (local and may_start):
        raise InfraError(f"RabbitMQ is not reachable at {host}:{port} (AMQP_URL).")
    if server is None:
        raise InfraError(
            f"RabbitMQ is not running on {host}:{port} and is not installed. Install and start it with:\n"
            "    sudo apt-get update && sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached\n"
            "or set AMQP_URL to a broker you have."
        )
    subprocess.run([server, "-detached"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.5)
    raise InfraError(f"started rabbitmq-server but nothing listens on {host}:{port} after {timeout:.0f}s")


def node_tool(name: str) -> tuple[str, dict[str, str]]:
    """A Node tool ``./dev setup`` installed into ``<venv>/node-tools`` (else one on PATH), and the
    environment to run it in: that directory first on PATH, so its scripts run on the Node
    installed beside them (the AsyncAPI CLI wants Node 24, newer than the machine's own)."""
    bin_dir = Path(sys.executable).parent.parent / "node-tools" / "node_modules" / ".bin"
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    found = shutil.which(name, path=path)
    if found is None:
        raise InfraError(f"{name} is needed: ./dev setup installs it into {bin_dir}")
    return found, {**os.environ, "PATH": path}

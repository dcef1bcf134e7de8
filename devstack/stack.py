"""The five services as real uvicorn processes on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .infra import abort_open_transactions

SERVICES = ("signoff", "resolution", "audit", "notify", "gateway")
DEFAULT_PORTS = {"gateway": 8000, "signoff": 8001, "resolution": 8002, "audit": 8003, "notify": 8004}
#: Token subject of the demo case-management system, which keeps the directory up to date.
INTEGRATION_CLIENT = "lcs-sync"


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    #: Whether the process was ever SIGKILLed (crashed on purpose, or too slow to stop): it may
    #: have left database transactions open, which the database keeps until their lifetime ends.
    killed: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "uvicorn", f"{self.name}.main:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--timeout-graceful-shutdown", "25", "--no-access-log",
        ]
        with self.log_path.open("ab") as log:  # the service writes to its own copy
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM (graceful: in-flight messages finish), then SIGKILL after ``timeout``."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: the process dies wherever it is, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            self.killed = True

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Stack:
    mongodb_url: str
    amqp_url: str
    namespace: str
    signing_key: str
    log_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    #: Each service's own AMQP URL (its least-privilege broker user, ``devstack.broker``);
    #: a service not named here logs in with ``amqp_url``.
    amqp_urls: dict[str, str] = field(default_factory=dict)
    #: The broker's management API as an administrator: the gateway provisions integrators there.
    management_url: str | None = None
    #: Extra environment per service name (``"*"`` for all).
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Where notify's mail goes: a local mail catcher (``notify.devmail``) saving .eml files here.
    mail_dir: Path | None = None
    smtp_port: int | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    mail_catcher: subprocess.Popen[bytes] | None = None
    #: Service processes this stack replaced (``restart``), kept for ``any_killed``.
    replaced: list[ServiceProcess] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def env_for(self, name: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNOFF_", "RESOLUTION_", "AUDIT_", "NOTIFY_"))}
        env.update(
            MONGODB_URL=self.mongodb_url,
            AMQP_URL=self.amqp_urls.get(name, self.amqp_url),
            QA_NAMESPACE=self.namespace,
            IDENTITY_SIGNING_KEY=self.signing_key,
            PYTHONUNBUFFERED="1",
        )
        if name == "notify" and self.smtp_port:
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(self.smtp_port))
        if name == "gateway":
            env.update(
                SIGNOFF_URL=self.url("signoff"),
                RESOLUTION_URL=self.url("resolution"),
                AUDIT_URL=self.url("audit"),
                NOTIFY_URL=self.url("notify"),
                DEV_ISSUER_ENABLED="true",
                # Local runs and tests: webhook receivers on loopback over plain HTTP.
                WEBHOOK_ALLOW_INSECURE_URLS="true",
                INTEGRATION_CLIENTS=json.dumps([INTEGRATION_CLIENT]),
            )
            if self.management_url:
                env.update(BROKER_MANAGEMENT_URL=self.management_url)
        env.update(self.extra_env.get("*", {}))
        env.update(self.extra_env.get(name, {}))
        env.update(overrides or {})
        return env

    def start(self, names: Iterable[str] = SERVICES, *, timeout: float = 90) -> None:
        names = list(names)
        if self.mail_dir is not None and self.smtp_port and self.mail_catcher is None:
            self.mail_dir.mkdir(parents=True, exist_ok=True)
            log = (self.log_dir / "mail.log").open("ab")
            self.mail_catcher = subprocess.Popen(
                [sys.executable, "-m", "notify.devmail", "--port", str(self.smtp_port), "--dir", str(self.mail_dir)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        for name in names:
            proc = ServiceProcess(name, self.ports[name], self.env_for(name), self.log_dir / f"{name}.log")
            proc.start()
            self.services[name] = proc
        self.wait_ready(names, timeout=timeout)

    def crash(self, name: str) -> None:
        """SIGKILL the service, as a crash, and abort the transactions it left open, as the
        database does once their lifetime (60 s) ends. Without the abort, the writes of the tests
        that follow wait on those transactions for up to a minute (the allocation replica test
        waits that minute on purpose, with a process of its own)."""
        self.services[name].kill()
        abort_open_transactions(self.mongodb_url)

    def restart(self, name: str, *, overrides: dict[str, str] | None = None, timeout: float = 60) -> None:
        old = self.services.get(name)
        if old is not None:
            old.stop()
            self.replaced.append(old)
        proc = ServiceProcess(name, self.ports[name], self.env_for(name, overrides), self.log_dir / f"{name}.log")
        proc.start()
        self.services[name] = proc
        self.wait_ready([name], timeout=timeout)

    def wait_ready(self, names: Iterable[str], *, timeout: float = 90) -> None:
        pending = set(names)
        deadline = time.monotonic() + timeout
        while pending:
            for name in sorted(pending):
                proc = self.services[name]
                if not proc.running():
                    raise RuntimeError(f"{name} exited during start-up:\n{proc.log_tail()}")
                if readyz(proc.url) == 200:
                    pending.discard(name)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}\n"
                    + "\n".join(self.services[n].log_tail(15) for n in pending)
                )
            time.sleep(0.2)

    @property
    def any_killed(self) -> bool:
        """Whether any of this stack's service processes, current or replaced, was SIGKILLed."""
        return any(proc.killed for proc in [*self.services.values(), *self.replaced])

    def stop(self) -> None:
        # The gateway first, so nothing new comes in while the others finish what they hold.
        for name in ["gateway", *[n for n in self.services if n != "gateway"]]:
            proc = self.services.get(name)
            if proc is not None:
                proc.stop()
        if self.mail_catcher is not None and self.mail_catcher.poll() is None:
            self.mail_catcher.terminate()
            try:
                self.mail_catcher.wait(10)
            except subprocess.TimeoutExpired:
                self.mail_catcher.kill()


def readyz(base_url: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None

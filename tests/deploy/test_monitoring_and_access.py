"""What an operator watches and what the network allows, as both overlays deploy them:

- a ServiceMonitor per service that selects its Service and scrapes /metrics on its http port;
- the alert rules pass ``promtool check rules`` and their unit tests (``alerts-test.yaml``,
  ``promtool test rules``), and every metric the rules and the Grafana dashboard read is one the
  code exposes;
- the NetworkPolicies, evaluated as Kubernetes does: only the gateway reaches the services, only
  the services reach MongoDB and RabbitMQ, the ingress controller reaches only the gateway;
- the Ingress routes only the gateway's public paths: not /metrics, /healthz or /readyz.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import DEPLOY, ROOT, SERVICES, Rendered

PROMTOOL = Path(sys.executable).parent.parent / "ops-tools" / "promtool"
K8S_MONITORING = DEPLOY / "k8s" / "components" / "monitoring"


def promtool() -> str:
    found = str(PROMTOOL) if PROMTOOL.exists() else shutil.which("promtool")
    assert found, "promtool is needed: ./dev setup unpacks it into .venv/ops-tools"
    return found


# --- ServiceMonitors -----------------------------------------------------------------------------


def test_every_service_has_a_service_monitor_scraping_its_metrics(overlay: Rendered) -> None:
    monitors = {m["metadata"]["name"]: m for m in overlay.of_kind("ServiceMonitor")}
    assert set(monitors) == set(SERVICES), overlay.overlay
    for service in SERVICES:
        spec = monitors[service]["spec"]
        labels = overlay.get("Service", service)["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), service
        [endpoint] = spec["endpoints"]
        assert endpoint["path"] == "/metrics"
        assert endpoint["port"] in [p["name"] for p in overlay.get("Service", service)["spec"]["ports"]]
        assert monitors[service]["metadata"]["labels"]["release"] == "prometheus"


# --- alert rules ---------------------------------------------------------------------------------


def _rules_file(overlay: Rendered, tmp_path: Path) -> Path:
    [rule] = overlay.of_kind("PrometheusRule")
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    return path


def test_the_alert_rules_pass_promtool(overlay: Rendered, tmp_path: Path) -> None:
    rules = _rules_file(overlay, tmp_path)
    checked = subprocess.run([promtool(), "check", "rules", str(rules)], capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"SUCCESS: (\d+) rules found", checked.stdout + checked.stderr)


def test_the_alerts_fire_when_they_should_and_not_otherwise(rendered: dict[str, Rendered], tmp_path: Path) -> None:
    _rules_file(rendered["production"], tmp_path)
    shutil.copy(Path(__file__).parent / "alerts-test.yaml", tmp_path / "alerts-test.yaml")
    tested = subprocess.run([promtool(), "test", "rules", "alerts-test.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout + tested.stderr


def _exposed_metrics() -> set[str]:
    """Every metric name the services register (their modules imported), as Prometheus sees them."""
    import audit.reporting.readings  # noqa: F401
    import gateway.integrations.readings  # noqa: F401
    import notify.readings  # noqa: F401
    import shared.observability  # noqa: F401
    from prometheus_client import REGISTRY

    names = {"up"}
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names.update(f"{family.name}_{suffix}" for suffix in ("bucket", "count", "sum"))
    return names


_PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "delta", "offset", "histogram_quantile",
    "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "label_values", "abs", "clamp_min",
}


def _metric_names(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "", expr)
    without_ranges = re.sub(r"\[[^\]]*\]|\boffset\s+\w+|\b\d[\w.]*", "", without_labels)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges)) - _PROMQL_WORDS
    grouping = set(re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", without_ranges))
    labels = {label.strip() for group in grouping for label in group.split(",")}
    return {n for n in names - labels if not re.fullmatch(r"\d+[smhd]?|e\d+", n)}


def _dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((K8S_MONITORING / "dashboard.json").read_text())
    return doc


def test_every_metric_the_alerts_and_the_dashboard_read_is_exposed(rendered: dict[str, Rendered]) -> None:
    exposed = _exposed_metrics()
    [rule] = rendered["production"].of_kind("PrometheusRule")
    read = {(r["alert"], n) for g in rule["spec"]["groups"] for r in g["rules"] for n in _metric_names(r["expr"])}
    panels = [p for p in _dashboard()["panels"] if p["type"] != "row"]
    read |= {(p["title"], n) for p in panels for t in p["targets"] for n in _metric_names(t["expr"])}
    assert read, "no metric found in the rules and the dashboard"
    assert not {(where, name) for where, name in read if name not in exposed}
    for alert in ("QAOutboxBacklogOld", "QADeadLettersGrowing", "QAConsumerLag", "QAHighServerErrorRate", "QADrawNotCompleted",
                  "QARemindersNotSent", "QAWebhookDeliveriesFailing"):
        assert any(a == alert for a, _ in read), alert


def test_the_dashboard_is_in_a_configmap_grafana_picks_up_and_shows_every_area(overlay: Rendered) -> None:
    [configmap] = [c for c in overlay.of_kind("ConfigMap") if c["metadata"]["name"] == "qa-grafana-dashboard"]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(configmap["data"]["qa-platform.json"])
    assert dashboard == _dashboard() and dashboard["uid"] == "qa-platform"
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for area in ("5xx", "outbox", "consumer lag", "dead letters", "audits", "draw", "tasks", "reminders", "emails", "webhooks"):
        assert area in titles, area
    assert all(t["expr"] for p in dashboard["panels"] if p["type"] != "row" for t in p["targets"])


# --- NetworkPolicies, evaluated ------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    labels: dict[str, str]
    namespace: str
    ports: dict[str, int] = field(default_factory=dict)


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, op, values = labels.get(expression["key"]), expression["operator"], expression.get("values", [])
        if (op == "In" and value not in values) or (op == "NotIn" and value in values) or (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None):
            return False
    return True


def _peer_matches(peer: dict[str, Any], source: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return False  # pods are not addressed by these
    namespace_ok = _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": source.namespace}) if "namespaceSelector" in peer else source.namespace == policy_namespace
    pod_ok = _selects(peer["podSelector"], source.labels) if "podSelector" in peer else True
    return namespace_ok and pod_ok


def allowed(policies: list[dict[str, Any]], namespace: str, source: Pod, target: Pod, port: int) -> bool:
    """Kubernetes' rule: a pod selected by any Ingress policy takes only what one of them allows."""
    selecting = [p for p in policies if _selects(p["spec"]["podSelector"], target.labels) and "Ingress" in p["spec"]["policyTypes"]]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            peers_ok = not rule.get("from") or any(_peer_matches(peer, source, namespace) for peer in rule["from"])
            ports = rule.get("ports")
            port_ok = not ports or any((target.ports.get(p["port"]) if isinstance(p["port"], str) else p["port"]) == port for p in ports)
            if peers_ok and port_ok:
                return True
    return False


def _pods(overlay: Rendered) -> dict[str, Pod]:
    ns = overlay.namespace
    pods = {name: Pod({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "qa-platform"}, ns, {"http": 8000}) for name in SERVICES}
    if overlay.overlay == "production":
        pods["mongodb"] = Pod({"app.kubernetes.io/name": "qa-mongodb"}, ns)
        pods["rabbitmq"] = Pod({"app.kubernetes.io/name": "qa-rabbitmq"}, ns)
    else:
        pods["mongodb"] = Pod({"app.kubernetes.io/name": "mongodb"}, ns)
        pods["rabbitmq"] = Pod({"app.kubernetes.io/name": "rabbitmq"}, ns)
        pods["mailpit"] = Pod({"app.kubernetes.io/name": "mailpit"}, ns)
    pods["ingress-controller"] = Pod({"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx")
    pods["prometheus"] = Pod({"app.kubernetes.io/name": "prometheus"}, "monitoring")
    pods["keda"] = Pod({"app": "keda-operator"}, "keda")
    pods["stranger"] = Pod({"app.kubernetes.io/name": "someone-else"}, "default")
    pods["neighbour"] = Pod({"app.kubernetes.io/name": "debug-shell"}, ns)
    return pods


def test_the_pods_the_policies_assume_carry_those_labels(rendered: dict[str, Rendered]) -> None:
    production = rendered["production"]
    mongo = production.get("MongoDBCommunity", "qa-mongodb")["spec"]["statefulSet"]["spec"]["template"]["metadata"]["labels"]
    assert mongo["app.kubernetes.io/name"] == "qa-mongodb"
    for overlay in rendered.values():
        for service in SERVICES:
            labels = overlay.get("Deployment", service)["spec"]["template"]["metadata"]["labels"]
            assert labels["app.kubernetes.io/name"] == service
            assert [p["containerPort"] for p in overlay.container(service)["ports"] if p["name"] == "http"] == [8000]


@pytest.mark.parametrize(
    ("source", "target", "port", "expected"),
    [
        ("ingress-controller", "gateway", 8000, True),
        ("prometheus", "gateway", 8000, True),
        ("prometheus", "audit", 8000, True),
        ("gateway", "signoff", 8000, True),
        ("gateway", "resolution", 8000, True),
        ("gateway", "audit", 8000, True),
        ("gateway", "notify", 8000, True),
        ("ingress-controller", "audit", 8000, False),
        ("signoff", "audit", 8000, False),
        ("audit", "notify", 8000, False),
        ("stranger", "gateway", 8000, False),
        ("neighbour", "signoff", 8000, False),
        ("signoff", "mongodb", 27017, True),
        ("gateway", "mongodb", 27017, True),
        ("notify", "rabbitmq", 5672, True),
        ("gateway", "rabbitmq", 15672, True),
        ("keda", "rabbitmq", 15672, True),
        ("audit", "rabbitmq", 15672, False),
        ("ingress-controller", "mongodb", 27017, False),
        ("neighbour", "mongodb", 27017, False),
        ("neighbour", "rabbitmq", 5672, False),
        ("stranger", "rabbitmq", 5672, False),
        ("prometheus", "mongodb", 27017, False),
    ],
)
def test_only_the_gateway_reaches_the_services_and_only_the_services_reach_the_database_and_broker(
    overlay: Rendered, source: str, target: str, port: int, expected: bool
) -> None:
    pods = _pods(overlay)
    policies = overlay.of_kind("NetworkPolicy")
    assert allowed(policies, overlay.namespace, pods[source], pods[target], port) is expected, (overlay.overlay, source, target, port)


def test_the_mail_catcher_takes_mail_only_from_notify(rendered: dict[str, Rendered]) -> None:
    dev = rendered["dev"]
    pods, policies = _pods(dev), dev.of_kind("NetworkPolicy")
    assert allowed(policies, dev.namespace, pods["notify"], pods["mailpit"], 1025)
    assert not allowed(policies, dev.namespace, pods["audit"], pods["mailpit"], 1025)


def test_nothing_in_the_namespace_is_open_by_default(overlay: Rendered) -> None:
    deny = overlay.get("NetworkPolicy", "default-deny-ingress")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}


# --- Ingress ---------------------------------------------------------------------------------------


def _routed(ingress: dict[str, Any], path: str) -> bool:
    for rule in ingress["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            if p["pathType"] == "Exact" and path == p["path"]:
                return True
            if p["pathType"] == "Prefix" and (path == p["path"] or path.startswith(p["path"].rstrip("/") + "/")):
                return True
    return False


def test_the_ingress_routes_only_the_gateways_public_paths(overlay: Rendered) -> None:
    [ingress] = overlay.of_kind("Ingress")
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"gateway"}
    for public in ("/api/v1/signoff/exemplars", "/api/v1/me", "/api/v1/notify/tasks/stream", "/api/openapi.json", "/docs",
                   "/docs/events", "/docs/assets/swagger-ui.css", "/redoc", "/openapi.json"):
        assert _routed(ingress, public), public
    for private in ("/metrics", "/healthz", "/readyz", "/auth/dev/token", "/auth/dev/jwks.json", "/", "/apix", "/docsx"):
        assert not _routed(ingress, private), private
    host = {"production": "qa.example.org", "dev": "qa.dev.example.org"}[overlay.overlay]
    assert [r["host"] for r in ingress["spec"]["rules"]] == [host]
    assert ingress["spec"]["tls"][0]["hosts"] == [host]
    # The bulk import's size: the controller must not refuse what the gateway accepts.
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "64m"


def test_the_ingress_paths_match_the_gateways_routes() -> None:
    """Every route the gateway serves publicly starts with a routed prefix (so a new public route
    is not silently unreachable), and none of /metrics, /healthz, /readyz does."""
    from gateway.main import create_app  # noqa: F401  (importable)

    ingress = yaml.safe_load((DEPLOY / "k8s" / "components" / "ingress" / "ingress.yaml").read_text())
    source = (ROOT / "services" / "gateway" / "gateway" / "docs" / "api.py").read_text()
    for route in re.findall(r'@router\.get\("([^"]+)"', source):
        assert _routed(ingress, route), route

"""The Kubernetes overlays: both render with ``kubectl kustomize``; every core resource passes
``kubernetes-validate`` (strict: an unknown or misspelt field fails); custom resources (KEDA,
MongoDB and RabbitMQ operators) are checked for the fields we rely on; every service pod is
hardened, probed, resourced, budgeted and autoscaled; settings and secrets are wired as README.md
documents them, with no development token issuer and no secret values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import ValidationError

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "signoff", "resolution", "audit", "notify")
#: A rendered overlay (the conftest's ``Rendered``: docs, of_kind, get, environment, ...).
Rendered = Any

#: The oldest Kubernetes we support and the newest schema kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())


def test_both_overlays_render_the_five_services(overlay: Rendered) -> None:
    for service in SERVICES:
        overlay.get("Deployment", service)
        overlay.get("Service", service)
        overlay.get("PodDisruptionBudget", service)
    assert {d["metadata"].get("namespace") for d in overlay.docs if d["kind"] != "Namespace"} == {overlay.namespace}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_kubernetes_validate_accepts_every_core_resource(overlay: Rendered, version: str) -> None:
    core = overlay.core()
    assert {d["kind"] for d in core} >= {"Namespace", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"}
    failures = []
    for doc in core:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except ValidationError as exc:
            failures.append(f"{doc['kind']} {doc['metadata']['name']}: {exc.message}")
    assert not failures, "\n".join(failures)


def test_strict_validation_would_catch_a_misspelt_field(rendered: dict[str, Rendered]) -> None:
    """The validation above is not a formality: a typo in a probe is refused."""
    import copy

    deployment = copy.deepcopy(rendered["production"].get("Deployment", "audit"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pth"] = "/readyz"
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_pod_is_hardened_probed_and_resourced(overlay: Rendered, service: str) -> None:
    pod = overlay.get("Deployment", service)["spec"]["template"]["spec"]
    container = overlay.container(service)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == pod["securityContext"]["runAsGroup"] == _dockerfile_uid()
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"] == {
        "runAsNonRoot": True, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "privileged": False, "capabilities": {"drop": ["ALL"]},
    }
    [tmp] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    [volume] = [v for v in pod["volumes"] if v["name"] == tmp["name"]]
    assert "emptyDir" in volume
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # The image listens on its PORT (8000): the probes and the Service reach it there.
    assert re.search(r"^\s+PORT=8000 ", (ROOT / "deploy" / "Dockerfile").read_text(), re.MULTILINE)
    assert [p["containerPort"] for p in container["ports"] if p["name"] == "http"] == [8000]
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    assert _cpu(requests["cpu"]) <= _cpu(limits["cpu"]) and _bytes(requests["memory"]) <= _bytes(limits["memory"])
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert "replicas" not in overlay.get("Deployment", service)["spec"], "the autoscaler owns the replica count"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_one_autoscaler_and_a_disruption_budget(overlay: Rendered, service: str) -> None:
    hpas = [h for h in overlay.of_kind("HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == service]
    scaled = [s for s in overlay.of_kind("ScaledObject") if s["spec"]["scaleTargetRef"]["name"] == service]
    assert len(hpas) + len(scaled) == 1, "exactly one owner of the replica count (KEDA makes its own HPA)"
    assert bool(scaled) == (service == "audit")
    for hpa in hpas:
        [metric] = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    labels = overlay.get("Deployment", service)["spec"]["template"]["metadata"]["labels"]
    selector = overlay.get("PodDisruptionBudget", service)["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert overlay.get("PodDisruptionBudget", service)["spec"]["maxUnavailable"] == 1


def test_production_runs_at_least_two_replicas_of_everything(rendered: dict[str, Rendered]) -> None:
    production = rendered["production"]
    assert all(h["spec"]["minReplicas"] >= 2 for h in production.of_kind("HorizontalPodAutoscaler"))
    assert production.get("ScaledObject", "audit")["spec"]["minReplicaCount"] >= 2


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_gets_the_settings_it_needs_and_only_documented_ones(overlay: Rendered, service: str) -> None:
    env = overlay.environment(service)
    for secret_setting in ("IDENTITY_SIGNING_KEY", "MONGODB_URL", "AMQP_URL"):
        assert secret_setting in env, secret_setting
    assert env["IDENTITY_SIGNING_KEY"] == {"secretKeyRef": {"name": "qa-identity", "key": "IDENTITY_SIGNING_KEY"}}
    assert env["QA_NAMESPACE"] == "qa"
    documented = _documented_settings()
    container = overlay.container(service)
    for source in container["envFrom"]:
        [cm] = [d for d in overlay.of_kind("ConfigMap") if d["metadata"]["name"] == source["configMapRef"]["name"]]
        unknown = set(cm["data"]) - documented
        assert not unknown, f"{cm['metadata']['name']}: settings README.md does not document: {sorted(unknown)}"
    # $(VAR) in a value is expanded only from variables defined earlier in the list.
    defined: set[str] = set()
    for var in container["env"]:
        for ref in re.findall(r"\$\(([A-Z0-9_]+)\)", var.get("value", "")):
            assert ref in defined, f"{var['name']} refers to {ref} before it is defined"
        defined.add(var["name"])


def test_the_gateway_has_an_oidc_issuer_and_never_the_development_issuer(overlay: Rendered) -> None:
    env = overlay.environment("gateway")
    assert env["JWT_ISSUER"].startswith("https://") and env["JWKS_URL"].startswith("https://")
    for doc in overlay.docs:
        assert "DEV_ISSUER_ENABLED" not in str(doc), f"{doc['kind']} {doc['metadata']['name']} sets DEV_ISSUER_ENABLED"
    for name in ("SIGNOFF", "RESOLUTION", "AUDIT", "NOTIFY"):
        service = name.lower()
        assert env[f"{name}_URL"] == f"http://{service}"
        assert overlay.get("Service", service)["spec"]["ports"][0]["port"] == 80


def test_notify_has_its_mail_server(overlay: Rendered) -> None:
    env = overlay.environment("notify")
    assert env["SMTP_HOST"] and int(env["SMTP_PORT"]) > 0 and env["SMTP_STARTTLS"] in ("true", "false")
    assert env["SMTP_PASSWORD"]["secretKeyRef"]["name"] == "qa-smtp"
    if overlay.overlay == "dev":
        mailpit = overlay.get("Service", "mailpit")
        assert env["SMTP_HOST"] == "mailpit" and int(env["SMTP_PORT"]) in [p["port"] for p in mailpit["spec"]["ports"]]
    else:
        assert env["SMTP_STARTTLS"] == "true" and env["SMTP_USERNAME"]
        assert env["SMTP_PASSWORD"]["secretKeyRef"].get("optional") is not True


def test_no_secret_is_committed_only_referenced(overlay: Rendered) -> None:
    assert overlay.of_kind("Secret") == []
    referenced = set(re.findall(r"'secretKeyRef': \{'name': '([^']+)'", str(overlay.docs)))
    referenced |= set(re.findall(r"'secretKeyRef': \{'key': '[^']+', 'name': '([^']+)'", str(overlay.docs)))
    expected = {
        "dev": {"qa-identity", "qa-backing", "qa-smtp"},
        "production": {"qa-identity", "qa-smtp", "qa-mongodb-admin-qa", "qa-rabbitmq-default-user",
                       *(f"{s}-broker-user-user-credentials" for s in SERVICES)},
    }[overlay.overlay]
    assert referenced == expected


def test_production_backing_services_are_the_operators_replicated_clusters(rendered: dict[str, Rendered]) -> None:
    production = rendered["production"]
    [mongodb] = production.of_kind("MongoDBCommunity")
    [rabbitmq] = production.of_kind("RabbitmqCluster")
    assert mongodb["apiVersion"] == "mongodbcommunity.mongodb.com/v1"
    assert mongodb["spec"]["members"] == 3 and mongodb["spec"]["type"] == "ReplicaSet"
    assert mongodb["spec"]["security"]["authentication"]["modes"] == ["SCRAM"]
    [user] = mongodb["spec"]["users"]
    namespace = production.configmap("qa-config")["QA_NAMESPACE"]
    assert {(r["name"], r["db"]) for r in user["roles"]} == {("readWrite", f"{namespace}_{s}") for s in SERVICES}
    # The operator names the connection secret <resource>-<auth db>-<user>.
    connection_secret = f"{mongodb['metadata']['name']}-{user['db']}-{user['name']}"
    assert rabbitmq["apiVersion"] == "rabbitmq.com/v1beta1" and rabbitmq["spec"]["replicas"] == 3
    for service in SERVICES:
        env = production.environment(service)
        assert env["MONGODB_URL"] == {"secretKeyRef": {"name": connection_secret, "key": "connectionString.standard"}}
        # Each service logs in as its own least-privilege user, whose credentials the topology
        # operator generates into <User resource>-user-credentials.
        user = production.get("User", f"{service}-broker-user")
        assert user["spec"]["rabbitmqClusterReference"] == {"name": rabbitmq["metadata"]["name"]}
        for var in ("RABBITMQ_USERNAME", "RABBITMQ_PASSWORD"):
            assert env[var]["secretKeyRef"]["name"] == f"{service}-broker-user-user-credentials"
        assert env["AMQP_URL"].endswith(f"@{rabbitmq['metadata']['name']}:5672/")
        [permission] = [p for p in production.of_kind("Permission") if p["spec"]["userReference"]["name"] == f"{service}-broker-user"]
        assert permission["spec"]["permissions"]["configure"] != ".*"
        topics = {t["spec"]["permissions"]["exchange"]: t["spec"]["permissions"] for t in production.of_kind("TopicPermission")
                  if t["spec"]["userReference"]["name"] == f"{service}-broker-user"}
        assert set(topics) == {f"{namespace}.events", f"{namespace}.platform"}
        assert all(t["write"] != ".*" for t in topics.values())
    gateway = production.environment("gateway")
    assert gateway["BROKER_ADMIN_PASSWORD"]["secretKeyRef"]["name"] == f"{rabbitmq['metadata']['name']}-default-user"
    assert gateway["BROKER_MANAGEMENT_URL"] == f"http://$(BROKER_ADMIN_USERNAME):$(BROKER_ADMIN_PASSWORD)@{rabbitmq['metadata']['name']}:15672/"
    trigger = production.get("ScaledObject", "audit")["spec"]["triggers"][0]
    assert trigger["metadata"]["host"] == f"http://{rabbitmq['metadata']['name']}.{production.namespace}.svc:15672/"
    auth = production.get("TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert {(r["parameter"], r["name"]) for r in auth["spec"]["secretTargetRef"]} == {
        ("username", f"{rabbitmq['metadata']['name']}-default-user"), ("password", f"{rabbitmq['metadata']['name']}-default-user"),
    }


def test_dev_backing_services_are_single_instances(rendered: dict[str, Rendered]) -> None:
    dev = rendered["dev"]
    assert dev.of_kind("MongoDBCommunity") == [] and dev.of_kind("RabbitmqCluster") == []
    assert dev.get("StatefulSet", "mongodb")["spec"]["replicas"] == 1
    assert dev.get("StatefulSet", "rabbitmq")["spec"]["replicas"] == 1
    assert "--replSet" in dev.get("StatefulSet", "mongodb")["spec"]["template"]["spec"]["containers"][0]["args"], "transactions need a replica set"
    auth = dev.get("TriggerAuthentication", "audit-rabbitmq")
    assert auth["spec"]["secretTargetRef"] == [{"parameter": "host", "name": "qa-backing", "key": "RABBITMQ_MANAGEMENT_URL"}]


def test_the_scaled_object_is_well_formed(overlay: Rendered) -> None:
    scaled = overlay.get("ScaledObject", "audit")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"] == {"name": "audit"}
    triggers = {t["name"]: t for t in scaled["spec"]["triggers"]}
    assert [t["type"] for t in scaled["spec"]["triggers"]] == ["rabbitmq", *["cron"] * 6, "cpu"]
    backlog = triggers["allocation-backlog"]["metadata"]
    namespace = overlay.configmap("qa-config")["QA_NAMESPACE"]
    assert backlog["queueName"] == f"{namespace}.audit.allocation"
    assert (backlog["protocol"], backlog["mode"], backlog["excludeUnacknowledged"]) == ("http", "QueueLength", "false"), (
        "unacknowledged messages count only through the management API"
    )
    overlay.get("TriggerAuthentication", triggers["allocation-backlog"]["authenticationRef"]["name"])
    for trigger in scaled["spec"]["triggers"]:
        assert all(isinstance(v, str) for v in trigger["metadata"].values()), "KEDA metadata values are strings"
    for name in ("month-start", "month-start-february-march", "draw-day-20th", "draw-day-21st", "draw-day-23rd", "draw-day-24th"):
        cron = triggers[name]["metadata"]
        assert set(cron) == {"timezone", "start", "end", "desiredReplicas"}
        assert scaled["spec"]["minReplicaCount"] < int(cron["desiredReplicas"]) <= scaled["spec"]["maxReplicaCount"]
    # Resource requests are what the cpu trigger measures against.
    assert overlay.container("audit")["resources"]["requests"]["cpu"]


def _dockerfile_uid() -> int:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    [user] = re.findall(r"^USER (\d+):(\d+)$", text, re.MULTILINE)
    assert user[0] == user[1]
    return int(user[0])


def _documented_settings() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))


def _cpu(value: Any) -> float:
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _bytes(value: Any) -> int:
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}
    text = str(value)
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    return int(text)


def test_helpers_read_quantities_right() -> None:
    assert _cpu("250m") == 0.25 and _cpu("1") == 1.0
    assert _bytes("768Mi") == 768 << 20 and _bytes("1Gi") == 1 << 30



def test_the_broker_topology_resources_are_the_ones_the_event_registries_define() -> None:
    from devstack.broker import k8s_resources

    committed = (ROOT / "deploy" / "k8s" / "components" / "backing-operators" / "rabbitmq-topology.yaml").read_text()
    assert committed == k8s_resources(), (
        "regenerate: python -m devstack.broker k8s > deploy/k8s/components/backing-operators/rabbitmq-topology.yaml"
    )

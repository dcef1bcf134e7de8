"""Issue 18, "Locked down": "the MongoDB operator reference updated to its maintained successor (MCK),
RabbitMQ at a supported release, the base image at a current Python 3.11 patch; images by digest."

- every image in both rendered overlays, in docker-compose.yml and in the Dockerfile's FROM lines is
  pinned by tag *and* digest (``name:tag@sha256:<64 hex>``): the tag says which release, the digest
  makes it that exact image. The platform's own five images are the exception: the release sets
  them (``kustomize edit set image qa-audit=…/audit:1.4.2@sha256:…``, deploy/README.md);
- the base image is a Python 3.11 patch, the same in both stages;
- RabbitMQ is one 4.x release everywhere (compose, the dev StatefulSet, the RabbitmqCluster, the
  definitions file), MongoDB one release everywhere (compose, the dev StatefulSet, the
  MongoDBCommunity);
- the dead-letter queues keep every message on RabbitMQ 4: the broker policy covers every
  ``.dead`` queue and no consumer queue, in the definitions file and in the topology resources;
- deploy/README.md installs MCK (``mongodb/mongodb-kubernetes``) at a pinned chart version, not the
  archived community operator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from .conftest import DEPLOY, ROOT, SERVICES, Rendered
from .test_compose import REQUIRED, compose_config

#: ``[registry/]name:tag@sha256:<digest>``: a tag for people, a digest for the machine.
PINNED = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._/:-]*?):(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})@sha256:[0-9a-f]{64}$")


def is_pinned(image: str) -> bool:
    return PINNED.fullmatch(image) is not None


def tag_of(image: str) -> str:
    match = PINNED.fullmatch(image)
    assert match, image
    return match["tag"]


def images_in(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``image`` string anywhere in a manifest (containers, init containers, a
    RabbitmqCluster's ``spec.image``, ...), with where it was found."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield f"{path}.image", value
            else:
                yield from images_in(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from images_in(item, f"{path}[{index}]")


def own_images(overlay: Rendered) -> set[str]:
    """The platform's five images as the overlay names them (its kustomization's ``images:``)."""
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "overlays" / overlay.overlay / "kustomization.yaml").read_text())
    names = {entry["name"]: entry for entry in kustomization["images"]}
    assert set(names) == {f"qa-{service}" for service in SERVICES}
    return {entry["newName"] for entry in names.values()}


def _image_name(image: str) -> str:
    """The image without its digest and tag (a registry's port is not a tag)."""
    reference = image.split("@", 1)[0]
    colon = reference.rfind(":")
    return reference[:colon] if colon > reference.rfind("/") else reference


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    result = compose_config(**REQUIRED)
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


def dockerfile_bases() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text()
    return re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+\S+)?\s*$", text, re.MULTILINE | re.IGNORECASE)


# --- the rule and its checker ---------------------------------------------------------------------


@pytest.mark.parametrize("image", [
    "python:3.11.16-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b",
    "quay.io/mongodb/mongodb-kubernetes:1.10.0@sha256:" + "a" * 64,
    "registry.example.org:5000/qa/audit:1.4.2@sha256:" + "0" * 64,
])
def test_an_image_with_tag_and_digest_is_pinned(image: str) -> None:
    assert is_pinned(image)


@pytest.mark.parametrize("image", [
    "mongo:8.0",                                              # a moving tag
    "rabbitmq:4.2.9-management",                              # a tag can be pushed again
    "python@sha256:" + "0" * 64,                              # a digest no one can read
    "python:3.11-slim@sha256:" + "0" * 63,                    # not a whole digest
    "python:3.11-slim@sha256:" + "G" * 64,                    # not hex
])
def test_an_image_without_tag_and_whole_digest_is_not(image: str) -> None:
    assert not is_pinned(image)


def test_the_walk_finds_images_wherever_a_manifest_puts_them() -> None:
    doc = {"spec": {"image": "a:1", "template": {"spec": {"initContainers": [{"image": "b:2"}], "containers": [{"image": "c:3"}]}}}}
    assert sorted(image for _, image in images_in(doc)) == ["a:1", "b:2", "c:3"]


# --- the deployment follows it --------------------------------------------------------------------


def test_every_image_in_both_overlays_is_pinned_by_digest(overlay: Rendered) -> None:
    own = own_images(overlay)
    found = [(f"{doc['kind']}/{doc['metadata']['name']}{where}", image) for doc in overlay.docs for where, image in images_in(doc)]
    third_party = [(where, image) for where, image in found if _image_name(image) not in own]
    assert len(found) - len(third_party) == len(SERVICES), "each service's own image, set at release time"
    unpinned = [f"{where}: {image}" for where, image in third_party if not is_pinned(image)]
    assert not unpinned, "pin by tag@sha256:digest:\n" + "\n".join(unpinned)
    expected = {"dev": {"StatefulSet/mongodb", "StatefulSet/rabbitmq", "Deployment/mailpit"},
                "production": {"RabbitmqCluster/qa-rabbitmq"}}[overlay.overlay]
    assert {where.split(".", 1)[0] for where, _ in third_party} == expected, "the walk saw every third-party image"


def test_every_image_in_docker_compose_is_pinned_by_digest(compose: dict[str, Any]) -> None:
    images = {name: spec["image"] for name, spec in compose["services"].items() if "image" in spec}
    assert set(images) == {"mongo", "rabbitmq", "mailpit"}
    assert all("build" in spec for name, spec in compose["services"].items() if name not in images), "the rest are built"
    unpinned = {name: image for name, image in images.items() if not is_pinned(image)}
    assert not unpinned, f"pin by tag@sha256:digest: {unpinned}"


def test_the_dockerfile_builds_on_a_python_3_11_patch_by_digest_in_both_stages() -> None:
    bases = dockerfile_bases()
    assert len(bases) == 2 and len(set(bases)) == 1, "builder and final stage share one base"
    [base] = set(bases)
    assert is_pinned(base), base
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base.split("@")[0]), base
    comment = (DEPLOY / "Dockerfile").read_text().split("FROM", 1)[0]
    assert "docker-library/repo-info" in comment, "the Dockerfile says where the digest came from"


# --- one release of each backing service everywhere --------------------------------------------------


def _version(tag: str) -> tuple[int, ...]:
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", tag)
    assert match, f"{tag}: not a patch release"
    return tuple(int(part) for part in match.groups())


def test_rabbitmq_is_one_supported_4x_release_everywhere(rendered: dict[str, Rendered], compose: dict[str, Any]) -> None:
    dev = rendered["dev"].get("StatefulSet", "rabbitmq")["spec"]["template"]["spec"]["containers"][0]["image"]
    cluster = rendered["production"].get("RabbitmqCluster", "qa-rabbitmq")["spec"]["image"]
    images = {"docker-compose": compose["services"]["rabbitmq"]["image"], "dev": dev, "production": cluster}
    assert len(set(images.values())) == 1, images
    version = _version(tag_of(cluster))
    assert version >= (4, 1, 0), "3.x is out of support; the 4.x series in use must be 4.1 or later"
    definitions = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    assert _version(definitions["rabbit_version"]) == version


def test_mongodb_is_one_release_everywhere(rendered: dict[str, Rendered], compose: dict[str, Any]) -> None:
    dev = rendered["dev"].get("StatefulSet", "mongodb")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert dev == compose["services"]["mongo"]["image"]
    [community] = rendered["production"].of_kind("MongoDBCommunity")
    assert _version(tag_of(dev)) == _version(community["spec"]["version"])


# --- RabbitMQ 4: dead letters are never dropped --------------------------------------------------------


def _dead_letter_queues_and_others() -> tuple[list[str], list[str]]:
    from shared.consumer import QueueNames

    names = [QueueNames.for_queue(f"qa.{service}.{purpose}", (1000, 5000)) for service, purpose in
             (("notify", "work-tray"), ("audit", "allocation"), ("gateway", "directory"), ("signoff", "case-contact"))]
    dead = [n.dead for n in names]
    others = [q for n in names for q in (n.main, *(r for _, r in n.retries))] + ["qa.integrator.lcs-sync", "qa.notify.dead-letters"]
    return dead, others


def test_the_broker_policy_keeps_every_dead_letter_in_compose_and_on_kubernetes(rendered: dict[str, Rendered]) -> None:
    from shared.consumer import DEAD_LETTER_DELIVERY_LIMIT

    definitions = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    [compose_policy] = definitions["policies"]
    k8s_policy = rendered["production"].get("Policy", "qa-dead-letters")["spec"]
    assert k8s_policy["rabbitmqClusterReference"] == {"name": "qa-rabbitmq"}
    dead, others = _dead_letter_queues_and_others()
    for pattern, apply_to, definition in (
        (compose_policy["pattern"], compose_policy["apply-to"], compose_policy["definition"]),
        (k8s_policy["pattern"], k8s_policy["applyTo"], k8s_policy["definition"]),
    ):
        assert apply_to == "queues"
        assert all(re.search(pattern, name) for name in dead), (pattern, dead)
        assert not [name for name in others if re.search(pattern, name)], "consumer queues keep their own delivery limit"
        # A positive number: RabbitMQ 3.x refuses -1 in a policy, and 4.x takes the smaller of a
        # queue's argument and a policy's value when both are positive.
        assert definition == {"delivery-limit": DEAD_LETTER_DELIVERY_LIMIT}


# --- MongoDB Controllers for Kubernetes -------------------------------------------------------------------


def test_the_readme_installs_mck_at_a_pinned_chart_version() -> None:
    readme = (DEPLOY / "README.md").read_text()
    installs = re.findall(r"helm (?:upgrade --install|install) \S+ mongodb/(\S+)[^\n]*?--version (\S+)", readme)
    assert installs, "deploy/README.md installs the MongoDB operator with helm, at a pinned version"
    assert {chart for chart, _ in installs} == {"mongodb-kubernetes"}, "MCK, not the archived community-operator chart"
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for _, version in installs)
    manifest = (DEPLOY / "k8s" / "components" / "backing-operators" / "mongodb.yaml").read_text()
    assert "MongoDB Controllers for Kubernetes" in manifest


def test_nothing_refers_to_a_rabbitmq_3x_image() -> None:
    for path in [ROOT / "docker-compose.yml", *sorted((DEPLOY / "k8s").rglob("*.yaml"))]:
        assert not re.search(r"rabbitmq:3\.", path.read_text()), f"{path.relative_to(ROOT)} still names RabbitMQ 3.x"

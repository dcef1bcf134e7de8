"""An integrator's generator on the committed AsyncAPI document: the AsyncAPI CLI (Modelina)
generates Python models with a clean name for every payload and every nested model, never an
``AnonymousSchema``, and ``asyncapi validate`` passes with the examples in place."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from devstack import asyncapi
from devstack.infra import node_tool

DOC = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"
def _cli() -> tuple[str, dict[str, str]]:
    cli, env = node_tool("asyncapi")  # ./dev setup installs it, with the Node it wants
    return cli, {**env, "ASYNCAPI_METRICS": "false", "SUPPRESS_NO_CONFIG_WARNING": "1"}


def _generate(document: Path, out: Path) -> set[str]:
    cli, env = _cli()
    done = subprocess.run(
        [cli, "generate", "models", "python", str(document), "-o", str(out), "--packageName=events"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return {m.group(1) for f in out.glob("*.py") for m in re.finditer(r"^class (\w+)", f.read_text(), re.M)}


def test_generated_python_models_have_a_clean_name_for_every_payload(tmp_path: Path) -> None:
    classes = _generate(DOC, tmp_path / "models")
    assert not [c for c in classes if "Anonymous" in c], sorted(classes)
    published = [t for registry in asyncapi.registries().values() for t in registry]
    for event_type in published:
        name = asyncapi.payload_name(event_type)
        assert {name, f"{name}Data"} <= classes, name
    assert {"CopyRecipient", "ReadyTeam", "AgencyRepresentative", "AgencyProgress"} <= classes


def test_the_check_sees_an_anonymous_payload(tmp_path: Path) -> None:
    """The same generator on a document whose payload is inline names it AnonymousSchema: the test above can fail."""
    document = json.loads(DOC.read_text())
    message = document["components"]["messages"]["audit.audit.allocated.v1"]
    inline = dict(document["components"]["schemas"][message["payload"]["$ref"].rsplit("/", 1)[-1]])
    inline.pop("title")
    message["payload"] = inline
    path = tmp_path / "inline.json"
    path.write_text(json.dumps(document))
    assert any("Anonymous" in c for c in _generate(path, tmp_path / "models"))


def test_the_committed_document_validates_with_its_examples() -> None:
    cli, env = _cli()
    done = subprocess.run([cli, "validate", str(DOC), "--fail-severity", "error"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "is valid" in done.stdout + done.stderr

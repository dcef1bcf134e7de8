"""What a front-end team does first: generate clients from the document the gateway serves, with
the generators such teams use, and drive real flows with them. No hand-written HTTP here: every
call below goes through the generated Python client, against the five services as real processes.

- ``openapi-python-client`` (pinned in requirements-dev.lock) with
  ``tests/e2e/openapi-python-client.yaml``: no warning, every operation generated.
- ``openapi-typescript`` and ``tsc --strict`` (pinned; ``./dev setup`` installs them with npm into
  ``.venv/node-tools``): the types compile, and an error body with only its required members is a
  ``ProblemDetail``.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from devstack.stack import Stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("openapi-python-client.yaml")
NODE_TOOLS = ROOT / os.environ.get("QA_VENV", ".venv") / "node-tools" / "node_modules" / ".bin"


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{NODE_TOOLS}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, f"{name} is missing: ./dev setup installs it (npm needed), see the README"
    return found


@pytest.fixture(scope="module")
def served(system: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The document exactly as the gateway serves it to a front-end developer."""
    document = httpx.get(f"{system.url('gateway')}/api/openapi.json", timeout=30).json()
    assert not document["info"].get("x-unavailable"), document["info"]
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module")
def generated(served: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("python-client")
    generator = Path(sys.executable).with_name("openapi-python-client")
    run = subprocess.run(
        [str(generator), "generate", "--path", str(served), "--output-path", str(root / "qa_client"), "--meta", "none", "--config", str(CONFIG)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(root))
    try:
        yield root / "qa_client", run.stdout + run.stderr
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == "qa_client" or m.startswith("qa_client.")]:
            del sys.modules[name]


def _operations(document: dict[str, Any]) -> list[str]:
    return [op["operationId"] for item in document["paths"].values() for op in item.values() if isinstance(op, dict)]


def test_the_python_client_generates_without_a_warning_and_with_every_operation(served: Path, generated: tuple[Path, str]) -> None:
    package, log = generated
    assert "warning" not in log.lower(), log
    modules = [p for p in (package / "api").rglob("*.py") if p.name != "__init__.py"]
    assert len(modules) == len(_operations(json.loads(served.read_text())))
    for module in modules:
        assert "def sync_detailed(" in module.read_text(), module


def test_the_typescript_types_compile_under_strict(served: Path, tmp_path: Path) -> None:
    run = subprocess.run([_tool("openapi-typescript"), str(served), "-o", str(tmp_path / "api.d.ts")], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    (tmp_path / "use.ts").write_text(
        'import type { components, paths } from "./api";\n'
        'type Problem = components["schemas"]["ProblemDetail"];\n'
        "// What the server sends when it has nothing more to say: the optional members are absent, not null.\n"
        'export const problem: Problem = { type: "https://qa-platform.example/problems/not-found", title: "Not found", status: 404 };\n'
        'type Started = paths["/api/v1/signoff/exemplars"]["post"]["responses"]["201"]["content"]["application/json"];\n'
        'export const id = (started: Started): string => started.id;\n'
    )
    tsc = subprocess.run(
        [_tool("tsc"), "--strict", "--noEmit", "--target", "es2022", "--module", "es2022", "--moduleResolution", "bundler", "use.ts", "api.d.ts"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr


class Front:
    """The generated package and a client per person, with tokens from the dev issuer (through the client too)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.qa: Any = importlib.import_module("qa_client")
        self.models: Any = importlib.import_module("qa_client.models")

    def api(self, group: str, operation: str) -> Any:
        return importlib.import_module(f"qa_client.api.{group}.{operation}")

    def as_(self, person_id: str) -> Any:
        mint = self.api("gateway_dev_issuer", "gateway_mint_dev_token")
        token = mint.sync(client=self.qa.Client(base_url=self.base_url), body=self.models.DevTokenRequest(person_id=person_id))
        return self.qa.AuthenticatedClient(base_url=self.base_url, token=token.access_token, raise_on_unexpected_status=True)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    assert response.parsed is not None and not type(response.parsed).__name__.startswith("ProblemDetail")
    return response


def test_an_exemplar_is_created_answered_first_signed_and_counter_signed(system: Stack, generated: tuple[Path, str]) -> None:
    front = Front(system.url("gateway"))
    m = front.models
    worker, senior = front.as_("P-SW1"), front.as_("P-DS")
    start = front.api("signoff_exemplars", "signoff_start_exemplar")
    created = _ok(start.sync_detailed(client=worker, body=m.ExemplarCreate(case_id="C-1002", type_code="INIASS")), 201)
    exemplar = created.parsed
    assert created.headers["Location"] == f"/api/v1/signoff/exemplars/{exemplar.id}"
    follow = front.api("signoff_exemplars", "signoff_read_exemplar").sync_detailed(exemplar.id, client=worker)
    assert _ok(follow).parsed.id == exemplar.id  # the Location is a gateway path the client can follow

    from signoff.domain.catalogue import INITIAL_ASSESSMENT  # the type's options, as the form shows them

    answers = m.AnswersIn.from_dict({"answers": {
        "date_commenced": "2026-11-02", "child_seen": True, "analysis": "Needs are met; advice given.",
        "further_action": INITIAL_ASSESSMENT.questions[4].options[2],
    }})
    answered = _ok(front.api("signoff_exemplars", "signoff_save_answers").sync_detailed(exemplar.id, client=worker, body=answers, if_match=created.headers["ETag"]))
    assert answered.parsed.unanswered_mandatory == []
    first = _ok(front.api("signoff_exemplars", "signoff_first_sign").sync_detailed(exemplar.id, client=worker, body=m.FirstSignIn(), if_match=answered.headers["ETag"]))
    counter_sign = front.api("signoff_exemplars", "signoff_counter_sign")
    signed = _ok(counter_sign.sync_detailed(exemplar.id, client=senior, body=m.CounterSignIn(comments="Agreed: proportionate."), if_match=first.headers["ETag"]))
    assert signed.parsed.locked is True

    # A stale If-Match is a problem the client parses, with the service's explanation.
    stale = counter_sign.sync_detailed(exemplar.id, client=senior, body=m.CounterSignIn(comments="Again"), if_match=first.headers["ETag"])
    assert stale.status_code in (409, 412) and isinstance(stale.parsed, m.ProblemDetail)
    assert stale.parsed.instance == f"/api/v1/signoff/exemplars/{exemplar.id}/counter-signature"


def test_a_resolution_is_raised_and_a_section_delegated(system: Stack, generated: tuple[Path, str]) -> None:
    front = Front(system.url("gateway"))
    m = front.models
    admin, iro = front.as_("P-ADMIN"), front.as_("P-IRO")
    theme = _ok(front.api("resolution_themes", "resolution_create_theme").sync_detailed(
        client=admin, body=m.ThemeIn(name=f"Permanence planning {os.getpid()}", description="Plans for permanence")
    ), 201).parsed
    raised = _ok(front.api("resolution_resolution_forms", "resolution_raise_form").sync_detailed(client=iro, body=m.RaiseIn.from_dict({
        "case_id": "C-4001", "concerns": [{"theme_id": theme.id, "detail": "No permanence plan at the second review."}],
    })), 201)
    form = raised.parsed
    assert raised.headers["Location"] == f"/api/v1/resolution/forms/{form.id}"
    stage = form.stages[0].stage
    dated = _ok(front.api("resolution_resolution_forms", "resolution_set_stage_dates").sync_detailed(
        form.id, stage, client=iro, body=m.DatesIn.from_dict({"raised_on": form.raised_at.date().isoformat(), "response_due_on": "2099-01-05"}),
        if_match=raised.headers["ETag"],
    ))
    delegated = _ok(front.api("resolution_resolution_forms", "resolution_delegate_section").sync_detailed(
        form.id, stage, client=iro, body=m.DelegateIn.from_dict({"delegate_id": "P-SW3"}), if_match=dated.headers["ETag"],
    ))
    section = delegated.parsed.stages[0].section
    assert section.state == "delegated" and section.delegate_id == "P-SW3"


def test_an_audits_pdf_is_read_through_the_link_the_audit_gives(system: Stack, generated: tuple[Path, str]) -> None:
    front = Front(system.url("gateway"))
    m = front.models
    qa_lead, auditor = front.as_("P-QASM"), front.as_("P-TM3")
    allocated = _ok(front.api("audit_audits", "audit_allocate_audit").sync_detailed(client=qa_lead, body=m.AuditCreate.from_dict({
        "tool_id": "kent-online-peer-review", "case_id": "C-3001", "auditor_id": "P-TM3", "peer_reviewer_id": "P-PR",
    }), idempotency_key=f"generated-client-{os.getpid()}"), 201)
    audit = allocated.parsed
    work: dict[str, Any] = {"answers": {}, "section_grades": {}, "overall_grade": "good",
                            "oversight_comment": "I supervise this case monthly.", "analysis": "The plan is clear.", "recommendations": "Keep the chronology current."}
    for section in audit.form.to_dict()["sections"]:
        for question in section["questions"]:
            work["answers"][question["key"]] = {"value": "yes" if question["scale"] != "text" else "Recorded."}
        if section["graded"]:
            work["section_grades"][section["key"]] = "good"
    saved = _ok(front.api("audit_audits", "audit_save_stage_1").sync_detailed(
        audit.id, client=auditor, body=m.StageWork.from_dict(work), if_match=allocated.headers["ETag"]
    ))
    _ok(front.api("audit_audits", "audit_submit_stage_1").sync_detailed(audit.id, client=auditor, if_match=saved.headers["ETag"]))
    pdfs = _ok(front.api("audit_audits", "audit_list_pdfs").sync_detailed(audit.id, client=auditor)).parsed
    [listed] = pdfs.items
    assert listed.href == f"/api/v1/audit/audits/{audit.id}/pdfs/{listed.pdf_id}"  # a gateway path
    pdf = front.api("audit_audits", "audit_download_pdf").sync_detailed(audit.id, listed.pdf_id, client=auditor)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert sys.modules.get("qa_client") is front.qa and isinstance(front.qa, ModuleType)

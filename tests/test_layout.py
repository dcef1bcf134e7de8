"""The shape every service keeps (../shared/STYLE.md, "How we build"): domain rules in plain
Python, apart from the web, the database, the broker and the API's own request/response models.

- No module under a ``domain/`` package imports FastAPI, PyMongo, aio-pika, httpx, or a module of
  ours that does (the app, HTTP conventions, MongoDB, outbox, consumer, broker).
- No request body or response model of any route is a pydantic model defined under ``domain/``:
  the API has its own shapes (``STILL_COUPLED`` names a module only while it is taken apart).
- Every audit context has the same parts, and the audit package root is wiring only.
- No import circle among our modules.
- No test carries a ``type: ignore``: ``./dev lint`` runs mypy over the packages, not their tests,
  so such a comment would silence nothing and only claim an error nobody checks.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("gateway", "signoff", "resolution", "audit", "notify")
PACKAGES = {name: ROOT / "services" / name / name for name in SERVICES} | {"shared": ROOT / "shared" / "shared"}

#: Third-party libraries a domain module may not import.
FORBIDDEN_LIBRARIES = ("fastapi", "starlette", "pymongo", "bson", "motor", "aio_pika", "aiormq", "httpx", "uvicorn")
#: Our own modules that are adapters (they import the libraries above).
FORBIDDEN_SHARED = ("shared.app", "shared.http", "shared.mongo", "shared.outbox", "shared.consumer", "shared.broker",
                    "shared.broker_access", "shared.idempotency", "shared.replay", "shared.projection", "shared.identity")

#: Domain modules whose pydantic models some route still takes or answers with: none now. A module
#: may be named here only while it is being taken apart, and the test fails once it is clean.
STILL_COUPLED: frozenset[str] = frozenset()


def _module_name(path: Path) -> str:
    for root in PACKAGES.values():
        if root in path.parents:
            rel = path.relative_to(root.parent).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            return ".".join(parts)
    raise AssertionError(path)


def _sources() -> Iterator[Path]:
    for root in PACKAGES.values():
        yield from sorted(root.rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports (absolute names), with the line, wherever the import stands.
    ``from pkg import module`` counts as importing the module (not its package's ``__init__``)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            submodules = [n for n in names if n in _MODULES]
            if len(submodules) < len(names):
                yield target, node.lineno
            for name in names:
                yield name, node.lineno


_MODULES = {_module_name(p) for p in _sources()}


def _domain_modules() -> list[Path]:
    return [p for p in _sources() if "domain" in p.relative_to(ROOT).parts[:-1] or p.stem == "domain"]


#: The parts every bounded context of a service has, in the same places (sign-off's shape).
PARTS = ("domain/__init__.py", "usecases.py", "store.py", "api.py")
#: Contexts that publish nothing, so have no events.py.
PUBLISH_NOTHING = {"audit.tools", "audit.reporting"}


def test_every_audit_context_has_the_same_parts() -> None:
    root = PACKAGES["audit"]
    contexts = sorted(p.parent for p in root.glob("*/__init__.py") if p.parent.name != "common")
    assert len(contexts) >= 9, contexts
    missing = [
        f"audit.{c.name}: {part}"
        for c in contexts
        for part in (*PARTS, *(() if f"audit.{c.name}" in PUBLISH_NOTHING else ("events.py",)))
        if not (c / part).exists()
    ]
    assert not missing, missing
    loose = sorted(p.name for p in root.glob("*.py") if p.stem not in {"__init__", "main", "settings", "problems", "consumers", "scheduler", "events"})
    assert not loose, f"the package root is wiring only: {loose}"


def test_the_check_sees_every_domain_module() -> None:
    found = {_module_name(p) for p in _domain_modules()}
    assert "audit.case_audit.domain.audit" in found and "signoff.domain.exemplar" in found
    assert len(found) > 40, sorted(found)


@pytest.mark.parametrize("path", _domain_modules(), ids=lambda p: _module_name(p))
def test_domain_code_is_plain_python(path: Path) -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for name, line in _imports(path)
        if name.split(".")[0] in FORBIDDEN_LIBRARIES
        or any(name == s or name.startswith(s + ".") for s in FORBIDDEN_SHARED)
        or (name.split(".")[0] in SERVICES and ({"api", "schemas"} & set(name.split(".")[1:])))
    ]
    assert not bad, "\n".join(bad)


def _models_in(annotation: Any, seen: set[type]) -> Iterator[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation, seen)
        return
    if get_origin(annotation) is not None or get_args(annotation):
        for arg in get_args(annotation):
            yield from _models_in(arg, seen)


def _routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, through included routers (FastAPI keeps an included router as one entry)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _routes(included.routes) if included is not None else [route]


def _api_models(service: str) -> dict[type[BaseModel], str]:
    os.environ.setdefault("IDENTITY_SIGNING_KEY", "layout-test")
    os.environ.setdefault("DEV_ISSUER_ENABLED", "true")
    app = importlib.import_module(f"{service}.main").create_app()
    found: dict[type[BaseModel], str] = {}
    seen: set[type] = set()
    for route in _routes(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        annotations = [getattr(route, "response_model", None)]
        annotations += [p.field_info.annotation for p in dependant.body_params]
        for annotation in annotations:
            for model in _models_in(annotation, seen):
                found.setdefault(model, f"{', '.join(sorted(route.methods))} {route.path}")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_no_route_speaks_in_domain_models(service: str) -> None:
    coupled: dict[str, list[str]] = {}
    for model, route in _api_models(service).items():
        if ".domain" in f".{model.__module__}".replace(f".{service}.", ".", 1) and model.__module__.startswith(service):
            coupled.setdefault(model.__module__, []).append(f"{model.__name__} ({route})")
    new = {m: v for m, v in coupled.items() if m not in STILL_COUPLED}
    assert not new, f"routes take or answer with domain models: {new}"
    clean = {m for m in STILL_COUPLED if m.startswith(service + ".") and m not in coupled}
    assert not clean, f"no longer coupled, take them off STILL_COUPLED: {sorted(clean)}"


def test_no_import_circle() -> None:
    ours = {_module_name(p): p for p in _sources()}
    graph: dict[str, set[str]] = {}
    for name, path in ours.items():
        graph[name] = {t for t, _ in _imports(path) if t in ours and t != name}
    # Tarjan's strongly connected components: any component of more than one module is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not circles, circles


#: Where the tests live: mypy does not read them (``./dev lint`` checks the packages).
TEST_ROOTS = (ROOT / "tests", ROOT / "shared" / "tests", *(ROOT / "services" / name / "tests" for name in SERVICES))


def test_no_test_carries_a_type_ignore() -> None:
    found = []
    for root in TEST_ROOTS:
        for path in sorted(root.rglob("*.py")):
            with path.open("rb") as source:
                for token in tokenize.tokenize(source.readline):
                    if token.type == tokenize.COMMENT and "type: ignore" in token.string:
                        found.append(f"{path.relative_to(ROOT)}:{token.start[0]}")
    assert not found, f"type: ignore in tests, which mypy does not check: {found}"

"""One title per problem type (RFC 9457: a type's ``title`` does not change from occurrence to
occurrence), and no two problem types under one title, across every service and the shared code.

Read from the code, not from a running system, so a problem raised only on a rare path is
checked too. A problem type is named where:

- ``Problem(<status>, "<slug>", "<title>", ...)`` is built (the title a literal, never an f-string:
  the specifics of one occurrence go in ``detail``);
- a domain error is raised as ``IntegrationRefused("<slug>", "<title>", ...)``;
- a call passes ``slug="..."`` (with ``title="..."``, or a title in a module's ``PROBLEM_TITLES`` table),
  or a slug to be raised later under a keyword ending in ``_slug`` (``name_taken_slug="..."``,
  titled by a ``PROBLEM_TITLES`` table);
- an exception class declares ``slug = "..."`` and ``title = "..."``;
- ``shared.errors._STATUS_SLUGS`` maps a status to ``(slug, title)``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("gateway", "signoff", "resolution", "audit", "notify")
PACKAGES = [ROOT / "services" / name / name for name in SERVICES] + [ROOT / "shared" / "shared"]

#: Constructors of a problem, and the position of their slug (the title follows it).
CONSTRUCTORS = {"Problem": 1, "IntegrationRefused": 0}


@dataclass(frozen=True)
class Use:
    slug: str
    title: str | None  # None: not a literal
    where: str


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _titles_tables(modules: list[tuple[str, ast.Module]]) -> dict[str, str]:
    """Every ``PROBLEM_TITLES = {"slug": "title"}`` table (a module's titles for slugs raised without one)."""
    table: dict[str, str] = {}
    for _, tree in modules:
        for node in ast.walk(tree):
            target: ast.expr
            value: ast.expr | None
            if isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id == "PROBLEM_TITLES" and isinstance(value, ast.Dict):
                for key, title_node in zip(value.keys, value.values, strict=True):
                    slug, title = _literal(key), _literal(title_node)
                    assert slug is not None and title is not None, "a PROBLEM_TITLES table maps literal slugs to literal titles"
                    table[slug] = title
    return table


@cache
def problem_types() -> tuple[Use, ...]:
    modules = list(_modules())
    tables = _titles_tables(modules)
    uses: list[Use] = []
    for where, tree in modules:
        for node in ast.walk(tree):
            at = f"{where}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = _called(node)
                keywords = {k.arg: k.value for k in node.keywords}
                if name in CONSTRUCTORS and len(node.args) > CONSTRUCTORS[name] + 1:
                    slug = _literal(node.args[CONSTRUCTORS[name]])
                    if slug is not None:  # a variable slug: named where the variable is declared
                        uses.append(Use(slug, _literal(node.args[CONSTRUCTORS[name] + 1]), at))
                else:
                    for keyword in [k for k in keywords if k is not None and (k == "slug" or k.endswith("_slug"))]:
                        if (slug := _literal(keywords[keyword])) is not None:
                            title = _literal(keywords["title"]) if keyword == "slug" and "title" in keywords else tables.get(slug)
                            uses.append(Use(slug, title, at))
            elif isinstance(node, ast.ClassDef):
                attrs = {
                    b.targets[0].id: _literal(b.value)
                    for b in node.body
                    if isinstance(b, ast.Assign) and len(b.targets) == 1 and isinstance(b.targets[0], ast.Name)
                }
                if attrs.get("slug") is not None:
                    uses.append(Use(attrs["slug"] or "", attrs.get("title"), at))
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_STATUS_SLUGS" for t in node.targets):
                assert isinstance(node.value, ast.Dict)
                for value in node.value.values:
                    assert isinstance(value, ast.Tuple)
                    uses.append(Use(_literal(value.elts[0]) or "", _literal(value.elts[1]), at))
    return tuple(uses)


def test_the_scan_finds_the_problem_types_of_every_service_and_the_shared_code() -> None:
    uses = problem_types()
    slugs = {u.slug for u in uses}
    assert {"not-found", "conflict", "validation-error", "stale-version", "invalid-input", "invalid-entries"} <= slugs
    assert {"import-raced", "theme-exists", "section-finalised", "task-closed", "audit-gaps"} <= slugs
    places = {u.where.split("/")[1] if u.where.startswith("services/") else "shared" for u in uses}
    assert places == {*SERVICES, "shared"}


def test_every_problem_type_has_a_literal_title() -> None:
    untitled = sorted(f"{u.slug} at {u.where}" for u in problem_types() if u.title is None)
    assert not untitled, "give these a literal title (or a PROBLEM_TITLES entry); the specifics go in detail: " + ", ".join(untitled)


def test_one_title_per_problem_type() -> None:
    titles: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for use in problem_types():
        titles[use.slug][str(use.title)].append(use.where)
    clashes = {slug: dict(by_title) for slug, by_title in titles.items() if len(by_title) > 1}
    assert not clashes, f"one slug, one title: {clashes}"


def test_no_two_problem_types_share_a_title() -> None:
    slugs: dict[str, set[str]] = defaultdict(set)
    for use in problem_types():
        slugs[str(use.title)].add(use.slug)
    shared = {title: sorted(names) for title, names in slugs.items() if len(names) > 1}
    assert not shared, f"one title, one slug (give the specific problem its own title): {shared}"

"""The lock files: every pinned version carries its hashes (``./dev setup`` and the image install
with ``--require-hashes``, which refuses a package changed on the index), and every dependency a
package of ours declares is pinned there at the same version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from devstack.lockfiles import DEV, ROOT, RUNTIME, _name, read


def _blocks(path: Path) -> dict[str, str]:
    blocks: dict[str, str] = {}
    current: list[str] = []
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#", "-r")):
            if current:
                blocks[_name(current[0])] = "\n".join(current)
            current = [line]
        elif line.startswith(" "):
            current.append(line)
    if current:
        blocks[_name(current[0])] = "\n".join(current)
    return blocks


def test_every_pin_has_its_hashes_and_is_pinned_exactly() -> None:
    for path in (RUNTIME, DEV):
        blocks = _blocks(path)
        assert blocks, path
        for name, block in blocks.items():
            assert re.match(r"^[A-Za-z0-9_.\-\[\],]+==[^ ]+ \\$", block.splitlines()[0]), (path.name, block.splitlines()[0])
            assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), (path.name, name)
    assert "-r requirements.lock" in DEV.read_text().splitlines()
    assert not set(_blocks(RUNTIME)) & set(_blocks(DEV)), "a runtime package pinned twice"


def test_every_declared_dependency_is_pinned_at_the_same_version() -> None:
    pinned = {_name(p): p.split("==")[1] for path in (RUNTIME, DEV) for p in read(path)[1]}
    for pyproject in [ROOT / "shared" / "pyproject.toml", *sorted((ROOT / "services").glob("*/pyproject.toml"))]:
        project = tomllib.loads(pyproject.read_text())["project"]
        declared = [*project.get("dependencies", []), *[d for extra in project.get("optional-dependencies", {}).values() for d in extra]]
        for requirement in declared:
            if requirement.startswith("qa-"):
                continue
            name, _, version = requirement.partition("==")
            assert _name(name) in pinned, (pyproject, requirement)
            assert pinned[_name(name)] == version.split(";")[0].strip(), (pyproject, requirement, pinned[_name(name)])

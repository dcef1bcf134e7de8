"""The lock files, with a hash for every file of every pinned version, so that ``./dev setup``
and the images install with ``pip install --require-hashes``: a package changed on the index (or
in transit) is refused.

    python -m devstack.lockfiles          # rewrite both files' hashes from their pins

Edit the pins by hand (an upgrade is a deliberate change: bump the ``==`` line), then run this.
It resolves the pins with uv (pinned in requirements-dev.lock) for Python 3.11, fails if the pins
are incomplete or inconsistent (a missing dependency would be added: review the diff), and keeps
each file's header comment. ``requirements.lock`` is what the services run with;
``requirements-dev.lock`` adds what the tests and the local run need (``-r requirements.lock``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME, DEV = ROOT / "requirements.lock", ROOT / "requirements-dev.lock"
PYTHON = "3.11"


def _name(line: str) -> str:
    return re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0].strip().lower().replace("_", "-").replace(".", "-")


def read(path: Path) -> tuple[list[str], list[str]]:
    """A lock file's header comment lines, and its pins (``name==version``), hashes left out."""
    header: list[str] = []
    pins: list[str] = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pins and stripped.startswith("#"):
            header.append(line)
        elif stripped and not stripped.startswith(("#", "-r", "--hash")) and "==" in stripped:
            pins.append(stripped.split(" ")[0].rstrip("\\").strip())
    return header, pins


def compile_hashed(pins: list[str]) -> dict[str, str]:
    """name -> the requirement block (pin and its hashes) as uv writes it."""
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "pins.in", Path(tmp) / "pins.out"
        source.write_text("\n".join(pins) + "\n")
        subprocess.run(
            [sys.executable, "-m", "uv", "pip", "compile", str(source), "--generate-hashes", "--python-version", PYTHON,
             "--no-header", "--no-annotate", "--quiet", "-o", str(out)],
            check=True,
        )
        blocks: dict[str, str] = {}
        current: list[str] = []
        for line in out.read_text().splitlines():
            if line and not line.startswith(" "):
                if current:
                    blocks[_name(current[0])] = "\n".join(current)
                current = [line]
            elif line.strip():
                current.append(line)
        if current:
            blocks[_name(current[0])] = "\n".join(current)
    return blocks


def main() -> int:
    runtime_header, runtime_pins = read(RUNTIME)
    dev_header, dev_pins = read(DEV)
    runtime = compile_hashed(runtime_pins)
    everything = compile_hashed(runtime_pins + dev_pins)
    missing = set(everything) - {_name(p) for p in runtime_pins + dev_pins}
    if missing:
        print(f"the pins were incomplete; added: {', '.join(sorted(missing))} (review the diff)", file=sys.stderr)
    RUNTIME.write_text("\n".join([*runtime_header, *runtime.values()]) + "\n")
    dev_only = [block for name, block in everything.items() if name not in runtime]
    DEV.write_text("\n".join([*dev_header, "-r requirements.lock", *dev_only]) + "\n")
    print(f"{RUNTIME.name}: {len(runtime)} packages; {DEV.name}: {len(dev_only)} more, every one with its hashes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

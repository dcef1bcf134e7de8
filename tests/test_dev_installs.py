"""``./dev up`` and ``./dev test`` on a machine where RabbitMQ is not installed: the project's own
command installs Debian's rabbitmq-server (as root, or with sudo that needs no password), starts it
and enables its management API; a user who may not install is told the one command to run, and
nothing is attempted.

The machine's own broker is not disturbed: the check is pointed at a missing server binary
(``RABBITMQ_SERVER``) and at free ports (``RABBITMQ_NODE_PORT``, ``RABBITMQ_MANAGEMENT_PORT``), and
``apt-get`` is a stand-in on PATH that records what it was asked and leaves a stand-in server
behind (one that listens on the port it is given), as the Debian package would leave the real one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.infra import free_port

ROOT = Path(__file__).resolve().parents[1]

LISTENER = """#!/usr/bin/env python3
import os, socket, sys, time
if os.fork():
    sys.exit(0)
os.setsid()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ[sys.argv[1]]))); s.listen()
open(os.environ["QA_TEST_PIDS"], "a").write(f"{os.getpid()}\\n")
time.sleep(120)
"""

APT_GET = """#!/usr/bin/env bash
echo "apt-get $*" >> "$QA_TEST_LOG"
if [[ " $* " == *" install "* && " $* " == *" rabbitmq-server "* ]]; then
  here="$(dirname "$0")"
  printf '#!/usr/bin/env bash\\necho "rabbitmq-server $*" >> "$QA_TEST_LOG"\\nexec "%s/listen" RABBITMQ_NODE_PORT\\n' "$here" > "$here/rabbitmq-server"
  printf '#!/usr/bin/env bash\\necho "rabbitmq-plugins $*" >> "$QA_TEST_LOG"\\nexec "%s/listen" RABBITMQ_MANAGEMENT_PORT\\n' "$here" > "$here/rabbitmq-plugins"
  chmod +x "$here/rabbitmq-server" "$here/rabbitmq-plugins"
fi
"""


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    shims = tmp_path / "bin"
    shims.mkdir()
    for name, text in (("listen", LISTENER), ("apt-get", APT_GET)):
        (shims / name).write_text(text)
        (shims / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "AMQP_URL"}
    env.update({
        "PATH": f"{shims}{os.pathsep}{env['PATH']}",
        "RABBITMQ_SERVER": "/nonexistent/rabbitmq-server",
        "RABBITMQ_NODE_PORT": str(free_port()),
        "RABBITMQ_MANAGEMENT_PORT": str(free_port()),
        "QA_TEST_LOG": str(tmp_path / "log"),
        "QA_TEST_PIDS": str(tmp_path / "pids"),
    })
    (tmp_path / "log").touch()
    yield shims, env
    pids = tmp_path / "pids"
    for pid in pids.read_text().split() if pids.exists() else []:
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass


def _listening(port: str) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", int(port))) == 0


def test_a_missing_broker_is_installed_started_and_given_its_management_api(machine: tuple[Path, dict[str, str]]) -> None:
    if os.geteuid() != 0:
        pytest.fail("run as root (CI does), or this case cannot show the install")
    _, env = machine
    done = subprocess.run(["bash", str(ROOT / "dev"), "broker"], env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    log = Path(env["QA_TEST_LOG"]).read_text().splitlines()
    assert "apt-get install -y -qq --no-install-recommends rabbitmq-server" in log
    assert "rabbitmq-server -detached" in log
    assert "rabbitmq-plugins enable rabbitmq_management" in log
    assert _listening(env["RABBITMQ_NODE_PORT"]) and _listening(env["RABBITMQ_MANAGEMENT_PORT"])
    assert "RabbitMQ is not installed." in done.stderr and "Installing rabbitmq-server" in done.stderr

    # Once it runs, the next call installs and starts nothing.
    Path(env["QA_TEST_LOG"]).write_text("")
    again = subprocess.run(["bash", str(ROOT / "dev"), "broker"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and Path(env["QA_TEST_LOG"]).read_text() == ""


def test_a_user_who_may_not_install_is_told_the_one_command_and_nothing_is_attempted(machine: tuple[Path, dict[str, str]]) -> None:
    shims, env = machine
    (shims / "id").write_text('#!/usr/bin/env bash\n[[ "$1" == "-u" ]] && echo 1000 || /usr/bin/id "$@"\n')
    (shims / "sudo").write_text("#!/usr/bin/env bash\nexit 1\n")
    for name in ("id", "sudo"):
        (shims / name).chmod(0o755)
    done = subprocess.run(["bash", str(ROOT / "dev"), "broker"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "sudo apt-get update && sudo apt-get install -y --no-install-recommends rabbitmq-server" in done.stderr
    assert Path(env["QA_TEST_LOG"]).read_text() == ""
    assert not _listening(env["RABBITMQ_NODE_PORT"])


def test_with_a_broker_of_your_own_nothing_is_installed(machine: tuple[Path, dict[str, str]]) -> None:
    _, env = machine
    done = subprocess.run(["bash", str(ROOT / "dev"), "broker"], env={**env, "AMQP_URL": "amqp://u:p@broker.example:5672/"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and Path(env["QA_TEST_LOG"]).read_text() == ""

"""A service process SIGKILLed in a test (a crash on purpose) can leave a database transaction
open, holding what it changed for 60 s. ``Stack.crash`` aborts such transactions at once, and the
system's teardown does before it drops the namespace's databases: otherwise the drop waits on the
dead transaction, and SecantusDB waits holding its storage lock, so the whole test run hangs.
Against a SecantusDB of its own, so a failure hangs nothing else."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from devstack.infra import EmbeddedMongo, abort_open_transactions, start_embedded_mongo
from devstack.stack import ServiceProcess, Stack

DB = "crashed_mid_transaction"

# Opens a transaction, changes a committed document in it, says so, then waits to be killed.
HOLDER = """
import sys, time
from pymongo import MongoClient
client = MongoClient(sys.argv[1])
session = client.start_session()
session.start_transaction()
client[sys.argv[2]]["things"].update_one({"_id": "committed-before"}, {"$set": {"claimed": True}}, session=session)
print("open", flush=True)
time.sleep(600)
"""


@pytest.fixture
def own_mongo(tmp_path: Path) -> Iterator[EmbeddedMongo]:
    mongo = start_embedded_mongo(tmp_path / "data", log_path=tmp_path / "secantus.log", sync_on_commit=False)
    try:
        yield mongo
    finally:
        mongo.process.kill()  # not stop(): a failed test may have left it stuck
        mongo.process.wait()


def _finishes(url: str, action: Callable[[MongoClient[dict[str, Any]]], object], timeout: float) -> bool:
    """Whether ``action`` on a client of ``url`` finishes within ``timeout`` (a thread that does
    not is left waiting: the fixture kills the server under it)."""
    done = threading.Event()

    def run() -> None:
        with MongoClient(url, serverSelectionTimeoutMS=5000) as client:
            action(client)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(timeout)


def test_a_drop_after_a_process_died_mid_transaction_finishes_once_its_transaction_is_aborted(own_mongo: EmbeddedMongo) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(own_mongo.url)
    with client:
        client[DB]["things"].insert_one({"_id": "committed-before"})
    with subprocess.Popen([sys.executable, "-c", HOLDER, own_mongo.url, DB], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        finally:
            holder.kill()  # as a crash: the transaction stays open on the server

    abort_open_transactions(own_mongo.url)

    # Without the abort the drop waits for the transaction's 60 s lifetime, holding the store.
    assert _finishes(own_mongo.url, lambda client: client.drop_database(DB), timeout=30), (
        "the database drop did not finish: a transaction is still open"
    )
    with MongoClient(own_mongo.url) as after:
        assert DB not in after.list_database_names()


def test_a_crashed_service_holds_nothing_a_write_after_it_needs(own_mongo: EmbeddedMongo, tmp_path: Path) -> None:
    """``Stack.crash``: what the dead process changed in its open transaction can be written at once."""
    with MongoClient(own_mongo.url) as client:
        client[DB]["things"].insert_one({"_id": "committed-before"})
    stack = Stack(mongodb_url=own_mongo.url, amqp_url="amqp://unused", namespace="n", signing_key="k", log_dir=tmp_path)
    holder = ServiceProcess("holder", 0, {}, tmp_path / "holder.log")
    with subprocess.Popen([sys.executable, "-c", HOLDER, own_mongo.url, DB], stdout=subprocess.PIPE, text=True) as holder.process:
        try:
            assert holder.process.stdout is not None and holder.process.stdout.readline().strip() == "open"
            stack.services["holder"] = holder
            stack.crash("holder")
        finally:
            holder.process.kill()
    assert holder.killed and stack.any_killed

    def write(client: MongoClient[dict[str, Any]]) -> None:
        client[DB]["things"].update_one({"_id": "committed-before"}, {"$set": {"written": "after the crash"}})

    # Without the abort the write waits for the dead transaction's 60 s lifetime.
    assert _finishes(own_mongo.url, write, timeout=20), "a write to what the crashed process had changed is still waiting"
    with MongoClient(own_mongo.url) as client:
        assert client[DB]["things"].find_one({"_id": "committed-before"}) == {"_id": "committed-before", "written": "after the crash"}


def test_a_stack_knows_when_one_of_its_processes_was_killed(tmp_path: Path) -> None:
    stack = Stack(mongodb_url="mongodb://unused", amqp_url="amqp://unused", namespace="n", signing_key="k", log_dir=tmp_path)
    sleeper = ServiceProcess("sleeper", 0, {}, tmp_path / "sleeper.log")
    sleeper.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    stack.services["sleeper"] = sleeper
    assert not stack.any_killed
    sleeper.kill()
    assert sleeper.killed and stack.any_killed

    gentle = ServiceProcess("gentle", 0, {}, tmp_path / "gentle.log")
    gentle.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    gentle.stop()  # SIGTERM is enough: not a kill
    assert not gentle.killed

"""Each service keeps its own copy of the event types it reads (services share events, not code).
A reader's copy must agree with the publisher's on what decides delivery: the exchange the type
travels on (a reader binding a platform-internal type on the integrator exchange would never get
it) and the publisher whose ``source`` it accepts (anything else is dead-lettered as forged)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest
from shared.events import EventType

from devstack.asyncapi import registries

READERS = ("gateway", "signoff", "resolution", "audit", "notify")


def _event_types_defined_in(package: str) -> list[tuple[str, EventType]]:
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        importlib.import_module(info.name)
    found = []
    for name, module in list(sys.modules.items()):
        if name == package or name.startswith(f"{package}."):
            for attribute, value in vars(module).items():
                if isinstance(value, EventType):
                    found.append((f"{name}.{attribute}", value))
    return found


@pytest.mark.parametrize("reader", READERS)
def test_every_copy_of_an_event_type_agrees_with_its_publisher(reader: str) -> None:
    published = {t.routing_key: t for registry in registries().values() for t in registry}
    copies = _event_types_defined_in(reader)
    assert copies, f"{reader} defines no event types?"
    disagreements = []
    for where, copy in copies:
        original = published.get(copy.routing_key)
        if original is None:
            disagreements.append(f"{where}: {copy.routing_key} is published by nobody")
            continue
        if copy.internal != original.internal:
            disagreements.append(f"{where}: internal={copy.internal}, but {original.publisher} publishes it with internal={original.internal}")
        if copy.publisher != original.publisher:
            disagreements.append(f"{where}: expects source {copy.source}, but it comes from {original.source}")
    assert not disagreements, "\n".join(disagreements)

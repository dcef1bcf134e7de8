"""Python's cyclic garbage collector held off while a report's figures are built in memory.

A report by auditor/peer-reviewer pair builds tens of thousands of small containers (a row of
counts, the JSON-ready parts of each of thousands of rows) that live until the answer is
written and are then freed by reference counting: none is in a cycle. Each few hundred of them
starts a collection, and what outlives two collections is promoted until the collector scans
every object of the process (about 280,000 in the audit service): a year's report by pair spent
~35 ms a call in the collector, as much as in the report itself (measured with
``gc.callbacks``). Held off for those steps (no await inside: nothing else of the process runs
meanwhile), the collector spent ~2 ms a call.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (as it was after it). For synchronous work
    only: across an ``await`` it would hold off the collector for the whole process."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

"""The roll-up mechanism: a write's change is the difference of two contributions, a rebuild's
documents the sum of them all, and field names keep any value."""

from __future__ import annotations

from collections import Counter
from datetime import date

from shared import rollups


def test_a_field_name_stands_for_any_value_and_reads_back() -> None:
    for value in ("care.planning", "$where", "50%", "a%2Eb", "", "T-1"):
        name = rollups.field(value)
        assert "." not in name and not name.startswith("$")
        assert rollups.value(name) == value


def test_the_change_of_a_write_is_after_minus_before_without_zeros() -> None:
    before = Counter({("m|2026-03", "c.theme.kA.open"): 1, ("y|2026", "c.theme.kA.open"): 1})
    after = Counter({("m|2026-03", "c.theme.kA.resolved"): 1, ("y|2026", "c.theme.kA.resolved"): 1})
    assert rollups.delta(before, after) == {
        "m|2026-03": {"c.theme.kA.open": -1, "c.theme.kA.resolved": 1},
        "y|2026": {"c.theme.kA.open": -1, "c.theme.kA.resolved": 1},
    }
    assert rollups.delta(before, Counter(before)) == {}, "nothing counted moved: nothing to write"


def test_documents_nest_the_paths_and_leave_zeros_out() -> None:
    totals = Counter({("d|2026-03-02", "t.kINIASS.late"): 2, ("d|2026-03-02", "t.kINIASS.on_time"): 0, ("d|2026-03-03", "n"): 1})
    assert rollups.documents(totals, lambda document_id: {"b": document_id}) == [
        {"_id": "d|2026-03-02", "b": "d|2026-03-02", "t": {"kINIASS": {"late": 2}}},
        {"_id": "d|2026-03-03", "b": "d|2026-03-03", "n": 1},
    ]


def test_next_month() -> None:
    assert rollups.next_month(date(2026, 1, 31)) == date(2026, 2, 1)
    assert rollups.next_month(date(2026, 12, 1)) == date(2027, 1, 1)

"""The directory sync signal's bookkeeping: how far a service has applied the directory's
numbered changes without a gap, whatever order they arrive in."""

from __future__ import annotations

from shared.directory_sync import DirectoryApplied, advance, applied_type


def test_through_grows_only_over_changes_applied_without_a_gap() -> None:
    through, pending = 0, set()
    for sequence, expected in ((2, (0, {2})), (3, (0, {2, 3})), (1, (3, set())), (5, (3, {5})), (4, (5, set()))):
        through, pending = advance(through, pending, sequence)
        assert (through, pending) == expected, sequence


def test_a_change_applied_before_changes_nothing() -> None:
    assert advance(3, {5}, 2) == (3, {5})
    assert advance(3, {5}, 3) == (3, {5})
    assert advance(3, {5}, 5) == (3, {5})


def test_each_service_reports_under_its_own_platform_internal_type() -> None:
    audit = applied_type("audit")
    assert audit.routing_key == "audit.directory.applied.v1" and audit.publisher == "audit" and audit.internal
    assert audit.data_model is DirectoryApplied
    assert set(DirectoryApplied.model_json_schema()["properties"]) == {"kind", "through"}

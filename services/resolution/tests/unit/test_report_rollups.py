"""The reports' roll-ups, without a database: what a form document contributes, the change a save
applies (after minus before), the documents a period reads, and a rebuild's documents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from resolution import rollups


def form(status: str = "open", **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "raised_at": datetime(2026, 3, 2, 23, 30, tzinfo=UTC), "raised_month": "2026-03", "status": status,
        "theme_ids": ["care-planning", "contact"], "current_stage": "informal", "team_id": "T-1", "owner_role": "iro",
        "closing_reason_id": None, "report": {"days_to_finish": None, "stage_days": []},
    }
    return {**doc, **fields}


def test_map_keys_are_escaped_and_come_back_unchanged() -> None:
    for value in ("T-1", "a.b", "$set", "100%", "", "uncoded", "x%2Ey"):
        stored = rollups.key(value)
        assert "." not in stored and not stored.startswith("$")
        assert rollups.unkey(stored) == value
    assert rollups.unkey(rollups.key(None)) == "uncoded"


def test_a_form_counts_once_per_group_in_its_day_month_quarter_and_year() -> None:
    found = rollups.contribution(form())
    day = {path: n for (bucket, path), n in found.items() if bucket == "d|2026-03-02"}
    month = {path: n for (bucket, path), n in found.items() if bucket == "m|2026-03"}
    assert day == month == {
        "c.theme.kcare-planning.open": 1, "c.theme.kcontact.open": 1, "c.stage.kinformal.open": 1, "c.team.kT-1.open": 1,
        "c.role.kiro.open": 1, "c.month.k2026-03.open": 1,
    }
    assert {bucket for bucket, _ in found} == {"d|2026-03-02", "m|2026-03", "q|2026-Q1", "y|2026"}
    assert all(n == day[path] for (bucket, path), n in found.items())
    assert rollups.contribution(None) == {}


def test_closed_unresolved_counts_its_reason_uncoded_without_one_and_its_days() -> None:
    closed = form(
        "closed-unresolved", theme_ids=[], closing_reason_id=None,
        report={"days_to_finish": 4, "stage_days": [{"stage": "informal", "days": 4, "working_days": 2}]},
    )
    paths = {path: n for (bucket, path), n in rollups.contribution(closed).items() if bucket.startswith("d|")}
    assert paths["c.closing-reason.kuncoded.closed-unresolved"] == 1
    assert not any(p.startswith("c.theme.") for p in paths)
    assert {p: n for p, n in paths.items() if not p.startswith("c.")} == {
        "s.kinformal.n": 1, "s.kinformal.d.k4": 1, "s.kinformal.w": 2, "s.kinformal.wn": 1,
        "f.closed-unresolved.n": 1, "f.closed-unresolved.d.k4": 1,
    }
    # Open or resolved forms have no closing reason to count.
    assert not any("closing-reason" in p for (_, p) in rollups.contribution(form("resolved", closing_reason_id="x")))


def test_a_save_applies_after_minus_before_and_nothing_when_nothing_counted_changed() -> None:
    before = form()
    assert rollups.delta(before, dict(before)) == {}
    after = form("resolved", report={"days_to_finish": 3, "stage_days": [{"stage": "informal", "days": 3, "working_days": 3, "response_days": 1}]})
    change = rollups.delta(before, after)
    assert set(change) == {"d|2026-03-02", "m|2026-03", "q|2026-Q1", "y|2026"}
    assert change["d|2026-03-02"] == {
        "c.month.k2026-03.open": -1, "c.month.k2026-03.resolved": 1, "c.role.kiro.open": -1, "c.role.kiro.resolved": 1,
        "c.stage.kinformal.open": -1, "c.stage.kinformal.resolved": 1, "c.team.kT-1.open": -1, "c.team.kT-1.resolved": 1,
        "c.theme.kcare-planning.open": -1, "c.theme.kcare-planning.resolved": 1, "c.theme.kcontact.open": -1, "c.theme.kcontact.resolved": 1,
        "f.resolved.d.k3": 1, "f.resolved.n": 1,
        "s.kinformal.d.k3": 1, "s.kinformal.n": 1, "s.kinformal.r": 1, "s.kinformal.rn": 1, "s.kinformal.w": 3, "s.kinformal.wn": 1,
    }
    # A concern added: only the new theme moves.
    assert rollups.delta(before, form(theme_ids=["care-planning", "contact", "placement"])) == {
        bucket: {"c.theme.kplacement.open": 1} for bucket in ("d|2026-03-02", "m|2026-03", "q|2026-Q1", "y|2026")
    }


def test_a_period_reads_from_each_day_the_longest_rollup_that_fits() -> None:
    assert rollups.ranges(date(2024, 2, 10), date(2026, 6, 3)) == [
        ("d|2024-02-10", "d|2024-02-29"), ("m|2024-03", "m|2024-03"), ("q|2024-Q2", "q|2024-Q4"), ("y|2025", "y|2025"),
        ("q|2026-Q1", "q|2026-Q1"), ("m|2026-04", "m|2026-05"), ("d|2026-06-01", "d|2026-06-03"),
    ]
    assert rollups.ranges(date(2023, 12, 15), date(2026, 11, 14)) == [
        ("d|2023-12-15", "d|2023-12-31"), ("y|2024", "y|2025"), ("q|2026-Q1", "q|2026-Q3"), ("m|2026-10", "m|2026-10"),
        ("d|2026-11-01", "d|2026-11-14"),
    ]
    assert rollups.ranges(date(2024, 1, 1), date(2024, 12, 31)) == [("y|2024", "y|2024")]
    assert rollups.ranges(date(2024, 2, 10), date(2024, 3, 20)) == [("d|2024-02-10", "d|2024-03-20")]
    assert rollups.ranges(date(2024, 2, 29), date(2024, 2, 29)) == [("d|2024-02-29", "d|2024-02-29")]
    assert rollups.ranges(date(2024, 3, 1), date(2024, 3, 30)) == [("d|2024-03-01", "d|2024-03-30")]
    assert rollups.ranges(date(2024, 3, 2), date(2024, 4, 30)) == [("d|2024-03-02", "d|2024-03-31"), ("m|2024-04", "m|2024-04")]
    assert rollups.ranges(date(2024, 3, 2), date(2024, 3, 1)) == []


def test_a_rebuild_writes_nested_documents_without_zeros() -> None:
    totals = rollups.contribution(form())
    totals.update(rollups.contribution(form("resolved", theme_ids=["contact"])))
    totals.subtract(rollups.contribution(form()))
    [day, month, quarter, year] = sorted(rollups.documents(totals), key=lambda d: d["_id"])
    assert [d["_id"] for d in (day, month, quarter, year)] == ["d|2026-03-02", "m|2026-03", "q|2026-Q1", "y|2026"]
    assert day["b"] == day["_id"] and year["c"] == day["c"]
    assert day["c"]["theme"] == {"kcontact": {"resolved": 1}}
    assert day["f"] == {"resolved": {"n": 1}}


def test_a_form_is_filed_under_the_day_in_england_it_was_raised_or_a_legacy_one_under_its_utc_day() -> None:
    # 23:30Z on 31 August is 00:30 on 1 September in England.
    late = {"raised_at": datetime(2026, 8, 31, 23, 30, tzinfo=UTC), "raised_on": "2026-09-01", "raised_month": "2026-09"}
    assert {bucket for bucket, _ in rollups.contribution(form(**late))} == {"d|2026-09-01", "m|2026-09", "q|2026-Q3", "y|2026"}
    assert rollups.raised_on(form(**late)) == date(2026, 9, 1)
    # Stored before raised_on was kept: its counts stand under its UTC day until a rebuild.
    legacy = {"raised_at": datetime(2026, 8, 31, 23, 30, tzinfo=UTC), "raised_month": "2026-08"}
    assert {bucket for bucket, _ in rollups.contribution(form(**legacy))} == {"d|2026-08-31", "m|2026-08", "q|2026-Q3", "y|2026"}
    # Saving it again moves its counts from the one day to the other, so nothing is counted twice.
    moved = rollups.delta(form(**legacy), form(**late))
    assert moved["d|2026-08-31"]["c.team.kT-1.open"] == -1 and moved["d|2026-09-01"]["c.team.kT-1.open"] == 1
    assert moved["m|2026-08"]["c.month.k2026-08.open"] == -1 and moved["m|2026-09"]["c.month.k2026-09.open"] == 1
    # The quarter and the year hold it either way; only its month group changes there.
    assert moved["q|2026-Q3"] == moved["y|2026"] == {"c.month.k2026-08.open": -1, "c.month.k2026-09.open": 1}

"""The timeliness report's roll-ups, without a database: each exemplar's outcome, what it
contributes (the pending ones also by due date) and the change a save applies."""

from __future__ import annotations

from datetime import date
from typing import Any

from signoff import rollups


def exemplar(signed: str | None = None, timescale: int | None = 7, start: str = "2026-03-02", type_code: str = "INIASS") -> dict[str, Any]:
    return {"_id": "X-1", "type_code": type_code, "start_date": start, "counter_signed_on": signed, "timescale_working_days": timescale}


def test_the_outcome_is_fixed_once_counter_signed_and_pending_with_its_due_date_before() -> None:
    # Initial Assessment started Monday 2 March 2026, 7 working days: due Wednesday 11 March.
    assert rollups.outcome(exemplar("2026-03-11")) == ("on_time", None)
    assert rollups.outcome(exemplar("2026-03-12")) == ("late", None)
    assert rollups.outcome(exemplar("2026-03-12", timescale=None)) == ("no_timescale", None)
    assert rollups.outcome(exemplar(None, timescale=None)) == ("no_timescale", None)
    assert rollups.outcome(exemplar(None)) == ("pending", date(2026, 3, 11))


def test_a_pending_exemplar_counts_in_its_day_its_month_and_by_its_due_date() -> None:
    assert dict(rollups.contribution(exemplar())) == {
        ("d|2026-03-02", "t.kINIASS.pending"): 1, ("m|2026-03", "t.kINIASS.pending"): 1, ("p|INIASS|2026-03-02|2026-03-11", "n"): 1,
    }


def test_counter_signing_moves_it_from_pending_to_its_outcome_and_an_unchanged_save_moves_nothing() -> None:
    assert rollups.delta(exemplar(), exemplar()) == {}
    assert rollups.delta(exemplar(), exemplar("2026-03-12")) == {
        "d|2026-03-02": {"t.kINIASS.late": 1, "t.kINIASS.pending": -1},
        "m|2026-03": {"t.kINIASS.late": 1, "t.kINIASS.pending": -1},
        "p|INIASS|2026-03-02|2026-03-11": {"n": -1},
    }
    # A start date moved by an answer: out of one day (and month), into another.
    assert rollups.delta(exemplar("2026-03-12"), exemplar("2026-03-12", start="2026-02-26")) == {
        "d|2026-02-26": {"t.kINIASS.late": 1}, "m|2026-02": {"t.kINIASS.late": 1},
        "d|2026-03-02": {"t.kINIASS.late": -1}, "m|2026-03": {"t.kINIASS.late": -1},
    }
    assert rollups.delta(None, exemplar("2026-03-02"))["d|2026-03-02"] == {"t.kINIASS.on_time": 1}


def test_a_rebuild_writes_pending_documents_with_their_fields() -> None:
    totals = rollups.contribution(exemplar())
    totals.update(rollups.contribution(exemplar("2026-03-03")))
    docs = {d["_id"]: d for d in rollups.documents(totals)}
    assert docs["p|INIASS|2026-03-02|2026-03-11"] == {
        "_id": "p|INIASS|2026-03-02|2026-03-11", "type_code": "INIASS", "start_date": "2026-03-02", "due_on": "2026-03-11", "n": 1,
    }
    assert docs["d|2026-03-02"]["t"] == {"kINIASS": {"on_time": 1, "pending": 1}}


def test_a_period_reads_the_days_of_its_partial_months_and_its_whole_months() -> None:
    assert rollups.ranges(date(2024, 2, 10), date(2026, 6, 3)) == [
        ("d|2024-02-10", "d|2024-02-29"), ("m|2024-03", "m|2026-05"), ("d|2026-06-01", "d|2026-06-03"),
    ]
    assert rollups.ranges(date(2026, 3, 2), date(2026, 3, 2)) == [("d|2026-03-02", "d|2026-03-02")]

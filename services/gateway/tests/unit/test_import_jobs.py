"""The asynchronous import's rules: asking for it, batches, the job as stored and its report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gateway.directory import imports
from gateway.directory.bulk import Rejected, RowError

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], False),
        (["respond-async"], True),
        (["Respond-Async"], True),
        (["wait=10, respond-async"], True),
        (["return=minimal", "respond-async; foo=bar"], True),
        (["  respond-async  ,wait=5"], True),
        (["return=representation"], False),
        (["respond-asynchronously"], False),
        (["wait=respond-async"], False),
    ],
)
def test_respond_async_is_read_as_rfc_7240_lists_it(headers: list[str], expected: bool) -> None:
    assert imports.prefers_respond_async(headers) is expected


def test_rows_are_split_in_order_the_last_batch_shorter() -> None:
    assert imports.split(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert imports.split(list(range(6)), 3) == [[0, 1, 2], [3, 4, 5]]
    assert imports.split([], 3) == []
    with pytest.raises(ValueError):
        imports.split([1], 0)


def test_a_new_job_has_written_nothing_and_a_job_without_good_rows_is_completed_at_once() -> None:
    job = imports.new_job("j1", "case", by="lcs", received=10, accepted=8, rejected=2, batches_total=2, now=NOW)
    assert (job["status"], job["created"], job["updated"], job["unchanged"], job["batches_done"], job["finished_at"]) == ("running", 0, 0, 0, 0, None)
    assert job["lease_until"] < NOW  # any runner may claim it at once
    empty = imports.new_job("j2", "case", by="lcs", received=2, accepted=0, rejected=2, batches_total=0, now=NOW)
    assert (empty["status"], empty["finished_at"]) == ("completed", NOW)


def test_the_report_shows_counts_batches_rejections_and_times_and_the_summary_leaves_rejections_out() -> None:
    job = imports.new_job("j1", "person", by="lcs", received=3, accepted=2, rejected=1, batches_total=1, now=NOW)
    rejections = imports.rejection_documents([Rejected(3, "P-3", [RowError("name", "Field required")])])
    assert rejections == [{"row": 3, "id": "P-3", "errors": [{"field": "name", "message": "Field required"}]}]
    assert imports.report(job, rejections) == {
        "id": "j1", "kind": "person", "status": "running", "reason": None, "requested_by": "lcs",
        "received": 3, "accepted": 2, "created": 0, "updated": 0, "unchanged": 0, "rejected": 1,
        "batches_done": 0, "batches_total": 1, "created_at": "2026-03-02T09:30:00+00:00", "finished_at": None, "rejections": rejections,
    }
    done = job | {"status": "failed", "reason": "kept changing", "finished_at": NOW}
    summary = imports.report(done, None)
    assert "rejections" not in summary and (summary["status"], summary["reason"], summary["finished_at"]) == ("failed", "kept changing", "2026-03-02T09:30:00+00:00")

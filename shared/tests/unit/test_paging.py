"""Cursor paging (``shared.paging``): the key a cursor holds comes back only as the type the list
is ordered by, and a page hands out a cursor only when another page follows; likewise for a list
newest first, whose cursor holds the last row's (created_at, id)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from shared.errors import Problem
from shared.http import PageParams, encode_cursor, page_params
from shared.paging import after, before, newest_page_of, page_of


def _page(limit: int, position: dict[str, object] | None = None) -> PageParams:
    """The page a client asks for: ``position`` as the cursor a previous page handed out."""
    return page_params(limit=limit, cursor=None if position is None else encode_cursor(position))


def _position(cursor: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return decoded


def test_the_first_page_starts_at_the_start() -> None:
    assert after(_page(2), str) is None
    assert after(_page(2), int, 0) == 0


def test_a_cursor_gives_back_its_key() -> None:
    assert after(_page(2, {"after": "theme-b"}), str) == "theme-b"
    assert after(_page(2, {"after": 7}), int, 0) == 7


@pytest.mark.parametrize(
    "position, kind, start",
    [
        pytest.param({"after": 3}, str, None, id="a number where an id is expected"),
        pytest.param({"after": "3"}, int, 0, id="a string where a version is expected"),
        pytest.param({"after": None}, int, 0, id="null where a version is expected"),
    ],
)
def test_a_cursor_holding_another_type_is_refused_as_malformed(position: dict[str, object], kind: type, start: object) -> None:
    with pytest.raises(Problem) as refused:
        after(_page(2, position), kind, start)
    assert (refused.value.status, refused.value.slug) == (400, "bad-cursor")


def test_a_page_has_a_next_cursor_only_when_the_extra_row_shows_another_page_follows() -> None:
    rows = [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"_id": "c", "n": 3}]
    full = page_of(rows, _page(2), lambda d: d["n"])
    assert full.items == [1, 2] and full.next is not None
    assert after(page_params(limit=2, cursor=full.next), str) == "b"
    last = page_of(rows[:2], _page(2), lambda d: d["n"])
    assert last.items == [1, 2] and last.next is None
    by_version = page_of(rows, _page(1), lambda d: d["_id"], key="n")
    assert by_version.next is not None and _position(by_version.next) == {"after": 1}


def test_a_newest_first_page_hands_out_the_last_rows_time_and_id_and_reads_them_back() -> None:
    at = datetime(2026, 12, 7, 9, 30, 15, 250000, tzinfo=UTC)
    rows = [{"_id": "j-3", "created_at": at, "n": 3}, {"_id": "j-2", "created_at": at, "n": 2}, {"_id": "j-1", "created_at": at, "n": 1}]
    assert before(_page(2)) is None

    full = newest_page_of(rows, _page(2), lambda d: d["n"])
    assert full.items == [3, 2] and full.next is not None
    assert _position(full.next) == {"before": ["2026-12-07T09:30:15.250000+00:00", "j-2"]}
    assert before(page_params(limit=2, cursor=full.next)) == (at, "j-2")
    last = newest_page_of(rows[:2], _page(2), lambda d: d["n"])
    assert last.items == [3, 2] and last.next is None


@pytest.mark.parametrize(
    "position",
    [
        pytest.param({"after": "j-2"}, id="another list's cursor"),
        pytest.param({"before": "2026-12-07T09:30:15+00:00"}, id="no id"),
        pytest.param({"before": ["2026-12-07T09:30:15+00:00", "j-2", "x"]}, id="three parts"),
        pytest.param({"before": ["yesterday", "j-2"]}, id="not a time"),
        pytest.param({"before": [20261207, "j-2"]}, id="a number for the time"),
        pytest.param({"before": ["2026-12-07T09:30:15+00:00", 2]}, id="a number for the id"),
        pytest.param({"before": None}, id="null"),
    ],
)
def test_a_made_up_newest_first_cursor_is_refused_as_malformed(position: dict[str, object]) -> None:
    with pytest.raises(Problem) as refused:
        before(_page(2, position))
    assert (refused.value.status, refused.value.slug) == (400, "bad-cursor")

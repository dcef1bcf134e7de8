"""HTTP conventions: ETag / If-Match from aggregate versions, and cursor pagination."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from shared.errors import Problem, problem_response
from shared.http import (
    encode_cursor,
    etag,
    optional_if_match,
    page_params,
    parse_if_match,
    required_if_match,
    stale,
)

# --- ETag / If-Match ---------------------------------------------------------------------


def test_etag_is_the_quoted_version():
    assert etag(3) == '"3"'


def test_absent_if_match_names_no_version():
    assert parse_if_match(None) is None


@pytest.mark.parametrize("any_version", ["*", " * "])
def test_star_if_match_means_any_version(any_version):
    assert parse_if_match(any_version) is None


@pytest.mark.parametrize(
    ("header", "version"),
    [('"3"', 3), ('W/"3"', 3), (' "17" ', 17), ('"0"', 0), (etag(42), 42)],
)
def test_if_match_names_the_version_of_the_etag(header, version):
    assert parse_if_match(header) == version


@pytest.mark.parametrize("bad", ['"abc"', '""', "", '"-1"', '"3", "4"', '"3.0"', "W/", '"v3"'])
def test_malformed_if_match_is_a_400_problem(bad):
    with pytest.raises(Problem) as caught:
        parse_if_match(bad)

    assert caught.value.status == 400
    assert caught.value.slug == "bad-if-match"


def test_optional_if_match_allows_absence():
    assert optional_if_match(None) is None
    assert optional_if_match('"5"') == 5


def test_required_if_match_without_a_header_is_a_428_problem():
    with pytest.raises(Problem) as caught:
        required_if_match(None)

    assert caught.value.status == 428
    assert caught.value.slug == "if-match-required"


def test_required_if_match_refuses_star_as_well():
    with pytest.raises(Problem) as caught:
        required_if_match("*")

    assert caught.value.status == 428


def test_required_if_match_returns_the_version():
    assert required_if_match('W/"8"') == 8


def test_stale_version_is_a_412_problem_carrying_the_current_version():
    problem = stale(5, 3, "sign-off")

    assert problem.status == 412
    assert problem.slug == "stale-version"
    assert problem.extensions == {"current_version": 5}
    assert "version 5, not 3" in problem.detail


def test_stale_version_problem_renders_current_version_in_the_body():
    response = problem_response(None, stale(5, 3, "sign-off"))

    body = json.loads(response.body)
    assert response.status_code == 412
    assert response.media_type == "application/problem+json"
    assert body["current_version"] == 5
    assert body["type"].endswith("/stale-version")


# --- Cursor pagination -------------------------------------------------------------------


def test_cursor_round_trips_through_page_params():
    position = {"created_at": "2026-05-04T09:30:00Z", "id": "case-9", "n": 3}

    params = page_params(limit=10, cursor=encode_cursor(position))

    assert params.limit == 10
    assert params.cursor == position


def test_no_cursor_means_the_first_page():
    params = page_params(limit=10, cursor=None)

    assert params.cursor is None


def test_cursor_is_url_safe_and_unpadded():
    cursor = encode_cursor({"id": "?>>?~~~" * 5})

    assert "=" not in cursor
    assert "+" not in cursor and "/" not in cursor


def test_cursor_values_json_cannot_hold_are_encoded_as_strings():
    cursor = encode_cursor({"at": datetime(2026, 5, 4, 9, 30)})

    assert page_params(limit=1, cursor=cursor).cursor == {"at": "2026-05-04 09:30:00"}


@pytest.mark.parametrize(
    "garbage",
    [
        "not-a-cursor",
        "A",
        "%%%%",
        encode_cursor({"id": 1})[:-3] + "!!",
        "WzEsMl0",  # base64url of the JSON list [1,2]
        "ImEgc3RyaW5nIg",  # base64url of the JSON string "a string"
    ],
)
def test_garbage_cursor_is_a_400_problem(garbage):
    with pytest.raises(Problem) as caught:
        page_params(limit=10, cursor=garbage)

    assert caught.value.status == 400
    assert caught.value.slug == "bad-cursor"


@pytest.mark.parametrize("value", ['"³"', '"٣"', '"3', '3"', 'W/"-1"', '"99999999999999999999"'])
def test_if_match_with_non_ascii_digits_or_unbalanced_quotes_is_a_400_not_a_crash(value: str) -> None:
    from shared.errors import Problem
    from shared.http import parse_if_match

    with pytest.raises(Problem) as raised:
        parse_if_match(value)
    assert raised.value.status == 400


def test_a_deeply_nested_cursor_is_a_400_not_a_crash() -> None:
    import base64

    from shared.errors import Problem
    from shared.http import page_params

    cursor = base64.urlsafe_b64encode(b"[" * 1400).decode().rstrip("=")
    with pytest.raises(Problem) as raised:
        page_params(limit=10, cursor=cursor)
    assert raised.value.status == 400

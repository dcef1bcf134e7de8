"""Reading and checking bulk-import rows (JSON and CSV), without the database."""

from __future__ import annotations

import json

import pytest
from gateway.directory.bulk import UnreadableImport, check_rows, read_rows
from gateway.directory.schemas import ChildCase, Person, Team

CASE = {"case_type": "CIN", "team_id": "T-1", "opened_on": "2026-01-05", "child_name": "Child Example"}


def _json(rows: object) -> bytes:
    return json.dumps(rows).encode()


def test_good_json_rows_pass_and_bad_ones_are_reported_with_row_id_and_field() -> None:
    rows = read_rows(
        _json([{"id": "C-1", **CASE}, {"id": "C-2", **CASE, "case_type": "XYZ"}, {"id": "C-3", **CASE, "opened_on": "yesterday"}]),
        "application/json", ChildCase, max_rows=10,
    )
    checked = check_rows(rows, ChildCase)
    assert [(n, i) for n, i, _ in checked.good] == [(1, "C-1")]
    assert [(r.row, r.id) for r in checked.rejected] == [(2, "C-2"), (3, "C-3")]
    assert checked.rejected[0].errors[0].field == "case_type"
    assert checked.rejected[1].errors[0].field == "opened_on"
    assert checked.received == 3


def test_a_missing_or_malformed_id_and_a_row_that_is_no_object_are_rejected() -> None:
    checked = check_rows([{**CASE}, {"id": "has space", **CASE}, ["C-9"], {"id": 7, **CASE}], ChildCase)
    assert not checked.good
    assert [(r.row, r.id, r.errors[0].field) for r in checked.rejected] == [(1, None, "id"), (2, "has space", "id"), (3, None, None), (4, None, "id")]


def test_a_repeated_id_is_rejected_after_its_first_good_row() -> None:
    checked = check_rows([{"id": "C-1", **CASE}, {"id": "C-1", **CASE, "case_type": "CP"}], ChildCase)
    assert [i for _, i, _ in checked.good] == ["C-1"]
    assert checked.rejected[0].row == 2
    assert "row 1" in checked.rejected[0].errors[0].message


def test_unknown_fields_and_a_case_closed_before_it_opened_are_rejected() -> None:
    checked = check_rows(
        [{"id": "C-1", **CASE, "colour": "red"}, {"id": "C-2", **CASE, "status": "closed", "closed_on": "2025-01-01"}], ChildCase
    )
    assert checked.rejected[0].errors[0].field == "colour"
    assert "before opened_on" in checked.rejected[1].errors[0].message


def test_csv_rows_with_list_fields_and_empty_cells() -> None:
    text = (
        "id,name,email,roles,team_id,line_manager_id\n"
        "P-1,Ann Example,ann@council.example,social_worker;auditor,T-1,\n"
        "P-2,Bob Example,not-an-email,social_worker,,\n"
        "P-3,Cy Example,cy@council.example,wizard,T-1,P-1\n"
    )
    checked = check_rows(read_rows(text.encode(), "text/csv; charset=utf-8", Person, max_rows=10), Person)
    assert [i for _, i, _ in checked.good] == ["P-1"]
    person = checked.good[0][2]
    assert isinstance(person, Person)
    assert person.roles == ["auditor", "social_worker"] and person.line_manager_id is None
    assert [(r.row, r.id, r.errors[0].field) for r in checked.rejected] == [(2, "P-2", "email"), (3, "P-3", "roles.0")]


def test_a_csv_row_with_too_many_cells_is_rejected() -> None:
    text = "id,name,district,area,service\nT-1,Duty,Canterbury,East Kent,CS\nT-2,CIN,Canterbury,East Kent,CS,extra\n"
    checked = check_rows(read_rows(text.encode(), "text/csv", Team, max_rows=10), Team)
    assert [i for _, i, _ in checked.good] == ["T-1"]
    assert checked.rejected[0].row == 2 and "cells" in checked.rejected[0].errors[0].message


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"id": "C-1"}', "application/json", "array"),
        (b"[{", "application/json", "not valid JSON"),
        (b"[]", "application/json", "no rows"),
        (b"name,case_type\nx,CIN\n", "text/csv", "'id'"),
        (b"id,colour\nC-1,red\n", "text/csv", "Unknown column"),
        (b"\xff\xfe", "application/json", "UTF-8"),
        (b"<cases/>", "application/xml", "application/json"),
        (_json([{"id": f"C-{i}"} for i in range(11)]), "application/json", "at most 10"),
    ],
    ids=["object", "broken-json", "empty", "no-id-column", "unknown-column", "not-utf8", "xml", "too-many"],
)
def test_files_that_cannot_be_read_as_rows_are_refused_whole(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(UnreadableImport, match=message):
        read_rows(body, content_type, ChildCase, max_rows=10)

"""What Schemathesis found answered 500: a month in year 0, a team id beyond Latin-1 in a download's
file name. Here the parsing and the header value themselves; over the API in
tests/integration/test_hostile_inputs.py."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from audit.cycles.api import MonthPath
from audit.cycles.domain.timetable import MAX_YEAR, MIN_YEAR, Month, draw_day, period_months
from shared.disposition import attachment


@pytest.mark.parametrize("text", ["0000-01", "0001-01", "1899-12", "3000-01", "9999-12"])
def test_a_month_outside_the_years_the_timetable_can_count_is_not_a_month(text: str) -> None:
    with pytest.raises(ValueError, match="year"):
        Month.parse(text)


def test_the_first_and_last_months_allowed_have_a_draw_day_and_a_month_after() -> None:
    first, last = Month.parse(f"{MIN_YEAR}-01"), Month.parse(f"{MAX_YEAR}-12")
    assert draw_day(first).year == MIN_YEAR - 1
    assert last.plus(2).first_day.year == MAX_YEAR + 1


def test_a_quarter_in_year_0_is_not_a_period() -> None:
    with pytest.raises(ValueError, match="year"):
        period_months("0000-Q1")
    assert [str(m) for m in period_months("2026-Q4")] == ["2026-10", "2026-11", "2026-12"]


def test_the_apis_month_pattern_says_what_month_parse_accepts() -> None:
    pattern = next(m.pattern for m in MonthPath.__metadata__[0].metadata if hasattr(m, "pattern"))
    for text in ("0000-01", "1899-12", "3000-01", "2026-13", "2026-00"):
        assert re.fullmatch(pattern, text) is None, text
    for text in ("1900-01", "2026-11", "2999-12"):
        assert re.fullmatch(pattern, text) and Month.parse(text)


@pytest.mark.parametrize(
    ("filename", "fallback"),
    [
        ("team-review-Équipe-Nord-2026-11.csv", "team-review-Equipe-Nord-2026-11.csv"),
        ("team-review-东区-2026-11.csv", "team-review-__-2026-11.csv"),
        ('a"b\\c\r\n.csv', "a_b_c__.csv"),
    ],
)
def test_a_download_name_beyond_ascii_goes_in_filename_star_with_an_ascii_fallback(filename: str, fallback: str) -> None:
    value = attachment(filename)
    value.encode("latin-1")  # what Starlette does with a header value: it must not raise
    assert value.startswith(f'attachment; filename="{fallback}"; filename*=UTF-8\'\'')
    assert unquote(value.split("filename*=UTF-8''", 1)[1]) == filename


def test_an_ascii_download_name_is_given_as_it_is() -> None:
    assert attachment("audit-A-1-stage1.pdf") == 'attachment; filename="audit-A-1-stage1.pdf"'

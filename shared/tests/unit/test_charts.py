"""The one chart mechanism (issue 18: "Charts where people would rather look than read ... served by
the API as SVG (and PNG where a document needs it) ... check the pictures by rendering them ... in a
test that asserts on what is drawn (e.g. number of bars), not only that a file exists"): bars, side
by side or stacked, horizontal bars, lines; the same data gives the same bytes; the SVG names the
chart and its data; an empty chart says "No data"."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from shared.charts import PALETTE, Scale, Series

from shared import charts

SVG = "{http://www.w3.org/2000/svg}"
GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate", "Inadequate (critical)"]


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def count_bars(png: bytes, colour: str, *, vertical: bool = True, min_run: int = 4, tolerance: int = 30) -> int:
    """The most separate runs of ``colour`` on one scan line (a row for vertical bars, a column for
    horizontal ones): the number of bars of that colour drawn side by side."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    mask = (np.abs(pixels - np.array(_rgb(colour))) <= tolerance).all(axis=2)
    if not vertical:
        mask = mask.T
    best = 0
    for line in mask:
        edges = np.diff(np.concatenate(([0], line.astype(int), [0])))
        lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        best = max(best, int((lengths >= min_run).sum()))
    return best


def _svg(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(charts.svg(chart))


def _ids(root: ET.Element, prefix: str) -> list[str]:
    return sorted(g.get("id", "") for g in root.iter(f"{SVG}g") if g.get("id", "").startswith(prefix))


def _grades(values: list[float | None]) -> charts.Chart:
    return charts.bar_chart("Grades in 2026-10", GRADES, [Series("Audits", values)], y_label="Audits", gid="grades")


def test_the_same_chart_gives_the_same_bytes_in_svg_and_png() -> None:
    first, second = _grades([1, 2, 0, 3, 0]), _grades([1, 2, 0, 3, 0])
    assert charts.svg(first) == charts.svg(second)
    assert charts.png(first) == charts.png(second)
    assert charts.svg(first) != charts.svg(_grades([1, 2, 0, 4, 0]))
    assert b"<dc:date>" not in charts.svg(first) and b"matplotlib" not in charts.png(first).lower()


def test_the_svg_names_the_chart_and_gives_its_data_for_a_screen_reader() -> None:
    root = _svg(_grades([1, 2, 0, 3, 0]))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-title chart-desc"
    [title] = [t for t in root.findall(f"{SVG}title") if t.get("id") == "chart-title"]
    [desc] = root.findall(f"{SVG}desc")
    assert title.text == "Grades in 2026-10"
    assert desc.text == "Bar chart: Grades in 2026-10. Audits: Outstanding 1, Good 2, Requires improvement 0, Inadequate 3, Inadequate (critical) 0."
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert set(GRADES) <= texts and "Audits" in texts, "labels stay text, readable and searchable"


def test_one_bar_per_category_in_the_series_colour_and_only_the_non_zero_ones_are_seen() -> None:
    chart = _grades([1, 2, 0, 3, 0])
    root = _svg(chart)
    assert _ids(root, "grades-0-") == [f"grades-0-{n}" for n in range(5)]
    bar = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "grades-0-3")
    assert f"fill: {PALETTE[0].lower()}" in bar.find(f"{SVG}path").get("style", "").lower()
    assert count_bars(charts.png(chart), PALETTE[0]) == 3


def test_series_side_by_side_and_stacked_keep_a_fixed_colour_each() -> None:
    series = [Series("Open", [3, 1, 2]), Series("Resolved", [2, 4, 0])]
    side = charts.bar_chart("Side by side", ["A", "B", "C"], series)
    assert _ids(_svg(side), "series-1-") == ["series-1-0", "series-1-1", "series-1-2"]
    image = charts.png(side)
    # Along a row, the first series' three bars and the second's two (its third is 0); the legend's swatches are narrower than a bar.
    assert (count_bars(image, PALETTE[0], min_run=40), count_bars(image, PALETTE[1], min_run=40)) == (3, 2)
    stacked = charts.horizontal_bar_chart("Stacked", ["A theme with a long name that has to be wrapped on two lines", "B", "C"], series, stacked=True)
    image = charts.png(stacked)
    # Horizontal bars: scanned down a column, the first series' three bars and the second's two (a
    # run shorter than a bar is thick, the legend's swatch below the chart, is not counted).
    assert count_bars(image, PALETTE[0], vertical=False, min_run=25) == 3 and count_bars(image, PALETTE[1], vertical=False, min_run=25) == 2
    assert "A theme with a long name that has to be wrapped on two lines 2" in charts.describe(stacked)


def test_a_line_chart_draws_each_series_with_a_gap_for_a_missing_value_and_a_second_axis() -> None:
    chart = charts.line_chart(
        "Trend", ["2026-01", "2026-02", "2026-03"], [Series("Completion rate", [0.5, None, 1.0]), Series("Completed", [3, 0, 5], right_axis=True)],
        scale=Scale.PERCENT, right_label="Audits completed",
    )
    root = _svg(chart)
    assert _ids(root, "series-") == ["series-0", "series-1"]
    assert charts.describe(chart) == "Line chart: Trend. Completion rate: 2026-01 50%, 2026-02 no value, 2026-03 100%. Completed: 2026-01 3, 2026-02 0, 2026-03 5."
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"100%", "Audits completed", "2026-02"} <= texts


@pytest.mark.parametrize("chart", [
    charts.bar_chart("Nothing yet", [], []),
    charts.line_chart("Nothing yet", ["2026-01"], [Series("Rate", [None])]),
    charts.horizontal_bar_chart("Nothing yet", [], [Series("Forms", [])]),
])
def test_an_empty_chart_says_no_data_rather_than_failing(chart: charts.Chart) -> None:
    root = _svg(chart)
    assert "No data" in {t.text for t in root.iter(f"{SVG}text")}
    assert charts.describe(chart).endswith("No data.")
    assert Image.open(io.BytesIO(charts.png(chart))).size == (1050, 540)


def test_a_series_must_have_one_value_per_category() -> None:
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        charts.bar_chart("Bad", ["A", "B", "C"], [Series("S", [1, 2])])

"""The reports as charts (issue 18, "Charts where people would rather look than read"): what each
report draws, with ``shared.charts`` (the one chart mechanism). The API serves them as SVG or PNG
beside JSON and CSV; the monthly report, team review and moderation agreement PDFs embed them.

- grades: one bar per grade of the scale, best first (a grade no audit had shows as 0);
- completion: the completion rate per area, district or team;
- trend: the completion rate (left axis) and the audits completed (right axis), month by month;
- moderation agreement: the raw agreement and the weighted kappa per group, as a line over time
  when the groups are months or quarters, else as horizontal bars (teams, sub-sections and pairs
  have long names), two per group, on an axis from 0 to 1
  (lower where a kappa is negative). A small sample has no rate
  and no kappa: it is a gap, and the chart's description says so.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from shared.charts import Chart, Scale, Series

from shared import charts

from ..common.grades import Grade
from ..common.pdf import PdfDocument

#: The gid prefix of the grade chart's bars (``grades-0-<n>`` for the n-th grade).
GRADES_GID = "grades"


def grades(counts: Mapping[str, int], title: str) -> Chart:
    """Audits per grade, one bar per grade of the scale; "No data" when no audit was graded."""
    values = [counts.get(g.value, 0) for g in Grade]
    categories = [g.label for g in Grade] if any(values) else []
    return charts.bar_chart(
        title, categories, [Series("Audits", values if categories else [])], x_label="Grade", y_label="Audits", gid=GRADES_GID,
    )


def completion(names: Sequence[str], rates: Sequence[float | None], title: str) -> Chart:
    return charts.bar_chart(
        title, list(names), [Series("Completion rate", list(rates))], y_label="Completed audits", scale=Scale.PERCENT, gid="completion",
        note="A group with no audit to complete has no rate.",
    )


def trend(months: Sequence[str], rates: Sequence[float | None], completed: Sequence[int], title: str) -> Chart:
    return charts.line_chart(
        title, list(months),
        [Series("Completion rate", list(rates)), Series("Audits completed", [float(n) for n in completed], right_axis=True)],
        x_label="Month", y_label="Completion rate", scale=Scale.PERCENT, right_label="Audits completed", gid="trend",
    )


def agreement(groups: Sequence[str], raw: Sequence[float | None], kappa: Sequence[float | None], *, over_time: bool, title: str, weights: str) -> Chart:
    series = [Series("Raw agreement", list(raw)), Series(f"Weighted kappa ({weights})", list(kappa))]
    note = "A group with too few paired ratings (a small sample) has no rate and no kappa."
    if over_time:
        return charts.line_chart(title, list(groups), series, y_label="Agreement", scale=Scale.NUMBER, value_range=(0.0, 1.0), gid="agreement", note=note)
    return charts.horizontal_bar_chart(title, list(groups), series, x_label="Agreement", scale=Scale.NUMBER, value_range=(0.0, 1.0), gid="agreement", note=note)


def embed(pdf: PdfDocument, chart: Chart, *, width: float = 180.0) -> None:
    """Draw ``chart`` (as a PNG) across the page of ``pdf``, with its description as the image's alt
    text, on a new page when it would not fit on this one."""
    w, h = chart.size
    height = width * h / w
    tallest = pdf.eph - 20  # a page's height, less the running header and a heading
    if height > tallest:
        width, height = width * tallest / height, tallest
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.image(io.BytesIO(charts.png(chart)), x=pdf.l_margin, w=width, h=height, alt_text=charts.describe(chart), title=chart.title)
    pdf.ln(2)

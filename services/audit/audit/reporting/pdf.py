"""The moderation agreement report as a PDF (issue 18): what the report was asked for, the
agreement-over-time chart and the table of every group (DejaVu Sans embedded, like every PDF of
the service)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.charts import Chart

from ..common.pdf import PdfDocument, pdf_text
from . import charts

AGREEMENT_COLUMNS = ("Group", "Audits", "Pairs", "Agreed", "Raw agreement", "Kappa (95% CI)", "Moderated")
_WIDTHS = (42, 15, 15, 16, 24, 42, 26)


def agreement(title: str, facts: Sequence[tuple[str, str]], rows: Sequence[tuple[str, ...]], chart: Chart, notes: Sequence[str], *, at: datetime) -> bytes:
    """``facts``: (what, value) lines about the report; ``rows``: one per group (then the total), in
    ``AGREEMENT_COLUMNS``' order."""
    pdf = PdfDocument(title)
    pdf.set_creation_date(at)
    pdf.set_title(pdf_text(title))
    pdf.add_page()
    pdf.heading(title, 15)
    pdf.rows(("Report", ""), list(facts), (50, 130))
    pdf.heading("Agreement over time" if chart.kind.value == "line" else "Agreement by group", 12)
    charts.embed(pdf, chart)
    pdf.heading("Agreement and moderation", 12)
    pdf.rows(AGREEMENT_COLUMNS, list(rows), _WIDTHS)
    for note in notes:
        pdf.para(note)
    return bytes(pdf.output())

"""What every PDF of the audit service is built from: an A4 page marked RESTRICTED, headings,
paragraphs and tables, in fpdf2's core fonts (no font files), so the PDFs stay small."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF
from fpdf.fonts import FontFace

from .grades import Grade

_REPLACE = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " "})
_HEAD = FontFace(emphasis="BOLD", fill_color=(225, 230, 240))

def pdf_text(text: object) -> str:
    """Text the core fonts can draw (Latin-1), with typographic punctuation made plain."""
    return str(text).translate(_REPLACE).encode("latin-1", "replace").decode("latin-1")


def grade_label(grade: Grade | None) -> str:
    return grade.label if grade is not None else "-"


class PdfDocument(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def header(self) -> None:
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, pdf_text(self.doc_title), new_x="LMARGIN", new_y="NEXT", align="R")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, f"Page {self.page_no()} - RESTRICTED", align="C")

    def heading(self, text: str, size: int = 13) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", size)
        self.multi_cell(0, 7, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)

    def para(self, text: str) -> None:
        self.set_font("Helvetica", "", 10)
        self.multi_cell(0, 5, pdf_text(text or "-"), new_x="LMARGIN", new_y="NEXT")

    def rows(self, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: tuple[int, ...]) -> None:
        self.set_font("Helvetica", "", 9)
        with self.table(col_widths=widths, headings_style=_HEAD, text_align="LEFT", line_height=4.5) as table:
            for values in [header, *rows]:
                row = table.row()
                for value in values:
                    row.cell(pdf_text(value))
        self.ln(2)

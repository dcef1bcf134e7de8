"""What every PDF of the audit service is built from: an A4 page marked RESTRICTED, headings,
paragraphs and tables, in DejaVu Sans embedded (only the glyphs used, so the PDFs stay small), so
every name prints as written: Łukasz Wiśniewski, Gwenllïan ap Siôn, Şükrü Gül, Nguyễn Thị Ánh.

The font files come from Debian's ``fonts-dejavu-core`` (``./dev setup`` installs it; the image
too), found in ``PDF_FONT_DIR`` when set, else in the usual font folders; a PDF cannot be made
without them (``FontMissing``, saying what to install)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from .grades import Grade

_HEAD = FontFace(emphasis="BOLD", fill_color=(225, 230, 240))

#: The embedded font: its family name in the PDFs, and its files by fpdf2 style ("" regular, "B" bold).
FAMILY = "DejaVuSans"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
#: A folder holding those files, where they are not in one of ``FONT_DIRS``.
FONT_DIR_ENV = "PDF_FONT_DIR"
#: Where Debian (fonts-dejavu-core), Fedora, Arch and Alpine, and Homebrew put them.
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu-sans-fonts", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts/dejavu", "/opt/homebrew/share/fonts",
)


class FontMissing(RuntimeError):
    """The font every PDF embeds is not installed."""


@cache
def _font_files(env_dir: str | None) -> dict[str, Path]:
    folders = [env_dir] if env_dir else list(FONT_DIRS)
    for folder in folders:
        paths = {style: Path(folder) / name for style, name in FONT_FILES.items()}
        if all(p.is_file() for p in paths.values()):
            return paths
    where = f"{FONT_DIR_ENV}={env_dir}" if env_dir else ", ".join(FONT_DIRS)
    raise FontMissing(
        f"The audit PDFs embed DejaVu Sans ({', '.join(FONT_FILES.values())}) and it is not installed (looked in {where}). "
        f"Install Debian's fonts-dejavu-core (./dev setup does: apt-get install fonts-dejavu-core), "
        f"or set {FONT_DIR_ENV} to the folder holding those files."
    )


def font_files() -> dict[str, Path]:
    """The font files by style; ``FontMissing``, saying what to install, where they are not found."""
    return _font_files(os.environ.get(FONT_DIR_ENV) or None)


def pdf_text(text: object) -> str:
    """Text as written (composed, so accented letters are one glyph each): the embedded font draws
    Latin, Greek and Cyrillic scripts, Welsh, Turkish and Vietnamese included."""
    return unicodedata.normalize("NFC", str(text))


def grade_label(grade: Grade | None) -> str:
    return grade.label if grade is not None else "-"


class PdfDocument(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)
        for style, path in font_files().items():
            self.add_font(FAMILY, style, str(path))

    @classmethod
    def begin(cls, header: str, *, title: str, heading: str, at: datetime) -> PdfDocument:
        """How every PDF of the service starts: ``header`` at the top of each page, ``title`` in the
        document's properties, made ``at``, and the first page open under ``heading``."""
        pdf = cls(header)
        pdf.set_creation_date(at)
        pdf.set_title(pdf_text(title))
        pdf.add_page()
        pdf.heading(heading, 15)
        return pdf

    def header(self) -> None:
        self.set_font(FAMILY, "", 8)
        self.cell(0, 5, pdf_text(self.doc_title), new_x="LMARGIN", new_y="NEXT", align="R")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 5, f"Page {self.page_no()} - RESTRICTED", align="C")

    def heading(self, text: str, size: int = 13) -> None:
        self.ln(2)
        self.set_font(FAMILY, "B", size)
        self.multi_cell(0, 7, pdf_text(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.set_font(FAMILY, "", 10)

    def para(self, text: str) -> None:
        self.set_font(FAMILY, "", 10)
        self.multi_cell(0, 5, pdf_text(text or "-"), new_x="LMARGIN", new_y="NEXT", align="L")

    def rows(self, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: tuple[int, ...]) -> None:
        self.set_font(FAMILY, "", 9)
        with self.table(col_widths=widths, headings_style=_HEAD, text_align="LEFT", line_height=4.5) as table:
            for values in [header, *rows]:
                row = table.row()
                for value in values:
                    row.cell(pdf_text(value))
        self.ln(2)

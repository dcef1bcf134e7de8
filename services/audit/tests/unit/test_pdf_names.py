"""Every PDF of the audit service prints names as written (issue 21): the embedded DejaVu Sans draws
Polish, Welsh, Turkish and Vietnamese letters that the old core fonts printed as "?"; without the
font a PDF is refused with what to install."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit.case_audit import pdf as case_audit_pdf
from audit.case_audit.domain.routing import CopyStage
from audit.common import pdf as common_pdf
from audit.common.pdf import FontMissing, PdfDocument
from audit.hillingdon import pdf as hillingdon_pdf
from audit.multi_agency import pdf as multi_agency_pdf
from audit.multi_agency.domain.audit import ReportKind
from audit.team_review import pdf as team_review_pdf
from pypdf import PdfReader

from .conftest import T0, in_moderation
from .test_hillingdon import LEAD as HILLINGDON_LEAD
from .test_hillingdon import monthly
from .test_multi_agency import LEAD, planned
from .test_team_review import review

POLISH, WELSH, TURKISH, VIETNAMESE = (
    "Łukasz Wiśniewski",
    "Siân Ŵyn ap Dafydd Ŷr",
    "Şükrü Gül İlkay Işık",
    "Nguyễn Thị Ánh Trần Văn Đức",
)
NAMES = (POLISH, WELSH, TURKISH, VIETNAMESE)


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _assert_names(text: str) -> None:
    for name in NAMES:
        assert name in text, (name, text)
    assert "?ukasz" not in text and "Wi?niewski" not in text


def test_the_building_blocks_print_every_name_as_written() -> None:
    """ "How well diversity and identity has been considered and taken account of in care planning" (002 5.1.1): a child's,
    a parent's or a worker's name is printed as it is written, in every PDF (issue 21)."""
    doc = PdfDocument(f"Audit of {POLISH}")
    doc.add_page()
    doc.heading(WELSH)
    doc.para(f"{TURKISH} \u2014 \u201cquoted\u201d")
    doc.rows(("Name", "Role"), [(VIETNAMESE, "social worker")], (90, 90))
    text = _text(bytes(doc.output()))
    _assert_names(text)
    assert "\u2014 \u201cquoted\u201d" in text  # typographic punctuation is no longer flattened
    # Decomposed input (e + combining marks) is composed, so it reads back as the same name.
    decomposed = PdfDocument("x")
    decomposed.add_page()
    decomposed.para("Nguye\u0302\u0303n")
    assert "Nguyễn" in _text(bytes(decomposed.output()))


def test_every_pdf_of_the_service_prints_the_names() -> None:
    """ "How well diversity and identity has been considered and taken account of in care planning" (002 5.1.1): the case
    audit's PDF, the multi-agency report, the Hillingdon report and the team review pack all embed the font (issue 21)."""
    names = {"P-TM": POLISH, "P-PR": WELSH}
    case_audit = in_moderation()
    text = _text(case_audit_pdf.render(case_audit, CopyStage.PEER_REVIEW, names=names, at=T0))
    assert POLISH in text and WELSH in text

    audit = planned()
    made = audit.report(kind=ReportKind.PROGRESS, summary=" ".join(NAMES), by="P-BDM", by_roles=LEAD, at=T0)
    _assert_names(_text(multi_agency_pdf.render(audit, made)))

    report = monthly()
    report.edit(by="P-LEAD", roles=HILLINGDON_LEAD, sections={"recommendations": ", ".join(NAMES)}, at=T0)
    _assert_names(_text(hillingdon_pdf.render(report, at=T0)))

    pack = review()
    text = _text(team_review_pdf.render(pack, team_name=f"{TURKISH} team", names={}, at=datetime(2026, 10, 2, tzinfo=UTC)))
    assert f"{TURKISH} team" in text


def test_without_the_font_no_pdf_is_made_and_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "How well diversity and identity has been considered and taken account of in care planning" (002 5.1.1): a missing
    font is a clear error naming what to install, never a PDF of "?"s (issue 21); PDF_FONT_DIR names another folder."""
    installed = common_pdf.font_files()
    monkeypatch.setenv(common_pdf.FONT_DIR_ENV, str(tmp_path))
    with pytest.raises(FontMissing, match="fonts-dejavu-core") as refused:
        PdfDocument("x")
    assert str(tmp_path) in str(refused.value) and "PDF_FONT_DIR" in str(refused.value)
    # Only the regular face there: still refused (the headings need the bold one).
    (tmp_path / "DejaVuSans.ttf").write_bytes(installed[""].read_bytes())
    with pytest.raises(FontMissing):
        PdfDocument("y")
    (tmp_path / "DejaVuSans-Bold.ttf").write_bytes(installed["B"].read_bytes())
    monkeypatch.setenv(common_pdf.FONT_DIR_ENV, str(tmp_path) + "/")  # a new value: looked up afresh
    assert common_pdf.font_files() == {"": tmp_path / "DejaVuSans.ttf", "B": tmp_path / "DejaVuSans-Bold.ttf"}
    doc = PdfDocument(POLISH)
    doc.add_page()
    doc.para(VIETNAMESE)
    _assert_names_of(bytes(doc.output()), (POLISH, VIETNAMESE))


def _assert_names_of(content: bytes, names: tuple[str, ...]) -> None:
    text = _text(content)
    for name in names:
        assert name in text, (name, text)

"""Handouts that lead back: a printed page ends with its permanent address as text and as
a QR code, the date its evidence was last reviewed and its citation, at most 22 mm tall,
shown only in print (text read back with pypdf and, for reading order, poppler's
pdftotext). The QR code is read back from Chromium's PDF, rasterised by
poppler's pdftoppm, with zxing-cpp (independent of segno, which drew it); a preview
prints no QR code and says its address is not final."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pypdf
import pytest
import zxingcpp
from conftest import PAPERS, PRINTED, RELEASE_URL
from test_print import PrintedPage, printed_pages, summary_problems

PAGES = PRINTED  # the page types a teacher prints, each printed once for this module and test_print
MM_PER_CSS_PX = 25.4 / 96


def print_pdf(browser: Any, url: str, paper: str) -> bytes:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    pdf = page.pdf(format=paper, print_background=False)
    context.close()
    return pdf


@pytest.fixture(scope="module")
def release_prints(printed_pdfs: dict[tuple[str, str], tuple[bytes, list[str]]]) -> dict[tuple[str, str], bytes]:
    """Each page type of the release build printed on each paper (conftest's printed_pdfs)."""
    return {key: pdf for key, (pdf, _) in printed_pdfs.items()}


def last_page(pdf: bytes) -> PrintedPage:
    return printed_pages(pdf)[-1]


def last_page_in_reading_order(pdf: bytes) -> str:
    """The last page's text as poppler's pdftotext reads it, top to bottom, white space folded."""
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    command = ["pdftotext", "-f", str(pages), "-l", str(pages), "-", "-"]
    return " ".join(subprocess.run(command, input=pdf, capture_output=True, check=True).stdout.decode().split())


def qr_codes_on_last_page(pdf: bytes) -> list[str]:
    """The QR codes zxing-cpp finds on the PDF's last page, rasterised to grey at 300 dpi."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "print.pdf"
        source.write_bytes(pdf)
        pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        subprocess.run(["pdftoppm", "-gray", "-r", "300", "-f", str(pages), "-l", str(pages), "-singlefile",
                        str(source), str(Path(folder) / "page")], check=True)  # fmt: skip
        width, height, pixels = read_pgm((Path(folder) / "page.pgm").read_bytes())
    image = memoryview(pixels).cast("B", (height, width))
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary (P5) PGM with 8-bit grey."""
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    assert fields[0] == b"P5"
    assert fields[3] == b"255"
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[position + 1 : position + 1 + width * height]


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("name", list(PAGES))
def test_a_printed_page_ends_with_its_address_review_date_and_citation(
    release_prints: dict[tuple[str, str], bytes], name: str, paper: str
) -> None:
    """The last lines of a printed release page give its permanent address, review date and citation."""
    words = last_page_in_reading_order(release_prints[(name, paper)])
    address = f"{RELEASE_URL}{PAGES[name]}"
    footer = words[words.rindex("Permanent address:") :]
    assert footer.startswith(f"Permanent address: {address}")
    assert "Evidence last reviewed" in footer
    assert "Cite as:" in footer
    assert footer.endswith(address), "the citation, which ends with the address, is the last thing printed"
    assert footer.count(address) == 2, "the address is printed twice: as the address and in the citation"


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("name", list(PAGES))
def test_the_printed_qr_code_decodes_to_the_pages_permanent_address(
    release_prints: dict[tuple[str, str], bytes], name: str, paper: str
) -> None:
    """zxing-cpp reads exactly one QR code on the last printed page: the page's permanent address."""
    assert qr_codes_on_last_page(release_prints[(name, paper)]) == [f"{RELEASE_URL}{PAGES[name]}"]


def test_the_handout_footer_is_at_most_22_mm_tall(browser: Any, release_url: str) -> None:
    """In print layout at the printable width of A4 and of Letter (less the print margins: 186 and 192 mm),
    the footer (QR code and text) is at most 22 mm tall, and nothing in it is cut off."""
    context = browser.new_context(viewport={"width": 700, "height": 1000})
    page = context.new_page()
    page.emulate_media(media="print")
    for path in PAGES.values():
        page.goto(f"{release_url}/{path}")
        for width_mm in (186, 192):  # the print layout is CSS alone, so a resized window lays it out anew
            page.set_viewport_size({"width": round(width_mm / MM_PER_CSS_PX), "height": 1000})
            height = page.eval_on_selector(".handout", "e => e.getBoundingClientRect().height") * MM_PER_CSS_PX
            assert 0 < height <= 22, (path, width_mm, height)
            assert page.eval_on_selector(".handout", "e => e.scrollHeight <= e.clientHeight + 1"), (path, width_mm)
    context.close()


def test_the_handout_footer_is_for_print_only(browser: Any, release_url: str) -> None:
    """On screen the footer is not shown, at phone and desktop width."""
    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{release_url}/studies/williams-2018/")
        assert page.locator(".handout").count() == 1
        assert not page.locator(".handout").is_visible()
        context.close()


def test_a_preview_prints_no_qr_code_and_says_its_address_is_not_final(browser: Any, site_url: str) -> None:
    """A preview's printed page ends by saying its address is not final, with no QR code and no placeholder host;
    its summary of findings, with that longer footer, still prints on one page of A4 at 8 pt or more."""
    for path in ("", "studies/williams-2018/", "summary-of-findings/"):
        pdf = print_pdf(browser, f"{site_url}/{path}", "A4")
        if path == "summary-of-findings/":
            assert summary_problems(printed_pages(pdf)) == [], "the preview's summary of findings"
        words = last_page(pdf).words()
        assert "Address not final: this copy is a preview, so it prints no address and no QR code." in words
        assert "Evidence last reviewed" in words
        assert "Cite as:" in words
        assert "example.org" not in words
        assert qr_codes_on_last_page(pdf) == []
        assert "Preview." not in " ".join(page.words() for page in printed_pages(pdf)), "the screen's preview banner"


@pytest.mark.parametrize("paper", PAPERS)
def test_a_release_summary_prints_on_one_page_at_8_pt(release_prints: dict[tuple[str, str], bytes], paper: str) -> None:
    """With its address and QR code in the footer, a release's summary of findings still prints on one page of
    A4 and of Letter, all text 8 pt or more, every rating in it."""
    assert summary_problems(printed_pages(release_prints[("summary", paper)])) == []

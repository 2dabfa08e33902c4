"""Printed handouts (the release build, as a teacher prints it), read back from Chromium's PDFs
with poppler and pypdf (independent parsers): the comparison prints at 8 pt or more with its column labels on every page, no heading
is the last line of a page, and the page counts are those stated in the README."""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import subprocess
from typing import Any

import pypdf
import pytest
from conftest import PAPERS, PRINTED, ROOT, load_site

from evidence import schema

COLUMN_LABELS = ["Study", "Design and control", "Population", "Participants", "Naltrexone", "Ketamine",
                 "Outcome and time point", "Result on depression", "Dissociation and other effects",
                 "Did naltrexone blunt the effect?", "Certainty"]  # fmt: skip


class PrintedPage:
    """One page of a PDF: its text and lines as poppler's pdftotext reads them, and, read with
    pypdf when asked (it is slow: some 0.1 s a page), the size in points of each piece of text."""

    def __init__(self, page: Any, text: str) -> None:
        self.page = page
        self.text = text
        self.lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        self.landscape = float(page.mediabox.width) > float(page.mediabox.height)

    @functools.cached_property
    def sizes(self) -> list[tuple[float, str]]:
        sizes: list[tuple[float, str]] = []

        def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
            if text.strip():
                sizes.append((size * abs(tm[3]) * abs(cm[3]), text.strip()))

        self.page.extract_text(visitor_text=visit)
        return sizes

    def words(self) -> str:
        return " ".join(self.text.split())


def printed_pages(pdf: bytes) -> list[PrintedPage]:
    """The pages of a PDF, read by two parsers independent of Chromium: pypdf and poppler."""
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    texts = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return [PrintedPage(page, text) for page, text in zip(pages, texts.split("\f"), strict=False)]


@pytest.fixture(scope="module")
def printed(
    printed_pdfs: dict[tuple[str, str], tuple[bytes, list[str]]],
) -> dict[tuple[str, str], tuple[list[PrintedPage], list[str]]]:
    """Each printed page type of the release build on each paper: its PDF pages and the headings the page has."""
    return {key: (printed_pages(pdf), headings) for key, (pdf, headings) in printed_pdfs.items()}


@pytest.mark.parametrize("paper", PAPERS)
def test_the_comparison_prints_at_8_pt_or_more_with_every_label_on_every_page(printed: Any, paper: str) -> None:
    """Every page holding the comparison table is landscape, its text is 8 pt or more, and it shows every column label."""
    pages, _ = printed[("comparison", paper)]
    table_pages = [p for p in pages if p.landscape]
    assert table_pages, "the table is printed on landscape pages"
    assert all("Dissociation" in page.words() for page in table_pages)
    for number, page in enumerate(table_pages, 1):
        assert page.landscape, f"table page {number} is landscape"
        words = page.words()
        assert [label for label in COLUMN_LABELS if label not in words] == [], f"table page {number}"
    small = [(round(size, 1), text) for page in table_pages for size, text in page.sizes if size < 7.95]
    assert small == []


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("name", list(PRINTED))
def test_no_heading_is_the_last_line_of_a_printed_page(printed: Any, name: str, paper: str) -> None:
    """No printed page ends with a heading, stranded away from the text it heads."""
    pages, headings = printed[(name, paper)]
    stranded = [
        (number, page.lines[-1])
        for number, page in enumerate(pages[:-1], 1)
        if page.lines
        and any(page.lines[-1] == h or (len(page.lines[-1]) > 15 and h.endswith(page.lines[-1])) for h in headings)
    ]
    assert stranded == []


@pytest.mark.parametrize("paper", PAPERS)
def test_nothing_to_click_is_printed(printed: Any, paper: str) -> None:
    """Printed pages show no "→ design" cell links, copy buttons, preview banner or scroll cues."""
    for name in PRINTED:
        pages, _ = printed[(name, paper)]
        text = " ".join(page.words() for page in pages)
        for screen_only in ("→ design", "Copy link", "Copy AMA", "Scroll sideways", "Preview."):
            assert screen_only not in text, (name, screen_only)


def test_page_counts_are_those_stated_in_the_readme(printed: Any) -> None:
    """The README's table of printed page counts matches what Chromium prints today."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = {
        (m[1], m[2]): int(m[3]) for m in re.finditer(r"^\| (\w+) \| `[^`]*` \| (A4|Letter) \| (\d+) \|", readme, re.M)
    }
    actual = {(name, paper): len(printed[(name, paper)][0]) for name in PRINTED for paper in PAPERS}
    assert stated == actual


def test_the_home_page_cite_box_is_not_alone_on_a_page(printed: Any) -> None:
    """The home page's "Cite this page" box shares its printed page with the page's content."""
    for paper in PAPERS:
        pages, _ = printed[("home", paper)]
        last = next(page for page in pages if "Cite this page" in page.words())
        assert not last.words().startswith("Cite this page"), paper


@functools.cache
def certainty_symbols() -> list[str]:
    """The symbols of each certainty rating in the real data, read once."""
    ratings = load_site(ROOT / "data", dt.date.today()).comparison.certainty.values()
    return [schema.CERTAINTY_SYMBOLS[rating.level] for rating in ratings]


def summary_problems(pages: list[PrintedPage]) -> list[str]:
    """What keeps a printed summary of findings from being a one-page handout: more than one page, text under
    8 pt, a certainty rating's symbols missing, or no cite box, review date and citation."""
    if len(pages) != 1:
        return [f"{len(pages)} pages"]
    words = pages[0].words()
    missing = [symbols for symbols in certainty_symbols() if symbols not in words]
    missing += [text for text in ("Cite this page", "Evidence last reviewed", "Cite as:") if text not in words]
    return [f"under 8 pt: {size:.1f} {text}" for size, text in pages[0].sizes if size < 7.95] + missing

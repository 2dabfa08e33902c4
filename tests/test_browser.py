"""The site in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RELEASE_URL, ROOT, copy_sources, search_for, serving
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def reader_context(browser: Any) -> Iterator[Any]:
    """One browser context for the tests that use the site as a reader does (a context costs some 0.2 CPU-s)."""
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(reader_context: Any, site_url: str) -> Iterator[Any]:
    """A tab of its own for each test; what the site stored (the theme keeps the palette) is cleared after it."""
    page = reader_context.new_page()
    yield page
    if page.url.startswith(site_url):
        page.evaluate("localStorage.clear()")
    page.close()


def test_glossary_term_shows_its_definition_on_hover(page: Any, site_url: str) -> None:
    """The first use of a glossary term is marked, and hovering shows its definition."""
    page.goto(f"{site_url}/studies/williams-2018/")
    term = page.locator("a.glossary-term", has_text="crossover").first
    tip = page.locator("#glossary-tip-crossover")
    assert tip.is_hidden()
    term.hover()
    assert tip.is_visible()
    assert "each participant receives every condition in turn" in tip.inner_text()
    assert term.get_attribute("href") == "../../glossary/#crossover"


def test_glossary_term_shows_its_definition_on_keyboard_focus(page: Any, site_url: str) -> None:
    """A keyboard user reaches the term with Tab, sees the definition, and Escape hides it."""
    page.goto(f"{site_url}/studies/williams-2018/")
    term = page.locator("a.glossary-term", has_text="crossover").first
    tip = page.locator("#glossary-tip-crossover")
    term.focus()
    assert tip.is_visible()
    assert term.get_attribute("aria-describedby") == "glossary-tip-crossover"
    page.keyboard.press("Escape")
    assert tip.is_hidden()


def test_each_term_is_marked_once_per_page(page: Any, site_url: str) -> None:
    """Only the first use of a term on a page gets a tooltip, so pages stay readable."""
    page.goto(f"{site_url}/studies/yoon-2025/")
    ids = page.eval_on_selector_all("a.glossary-term", "links => links.map(l => l.getAttribute('aria-describedby'))")
    assert ids
    assert len(ids) == len(set(ids))


def test_glossary_link_opens_the_glossary_entry(page: Any, site_url: str) -> None:
    """Following a marked term lands on its glossary entry."""
    page.goto(f"{site_url}/history/")
    page.locator("a.glossary-term", has_text="ketamine").first.click()
    page.wait_for_url("**/glossary/#ketamine")
    assert page.locator("h2#ketamine").is_visible()


def row_order(page: Any) -> list[str]:
    return page.eval_on_selector_all("table.comparison tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.id)")


def test_comparison_sorts_by_a_column(page: Any, site_url: str) -> None:
    """Clicking a column header sorts the rows by it, and clicking again reverses the order."""
    page.goto(f"{site_url}/comparison/")
    page.get_by_role("button", name="Sort by Participants").click()
    ascending = row_order(page)
    assert ascending.index("compare-yoon-2019") < ascending.index("compare-yoon-2025")
    assert page.locator("th[data-column=participants]").get_attribute("aria-sort") == "ascending"
    page.get_by_role("button", name="Sort by Participants").click()
    assert row_order(page) == list(reversed(ascending))


def test_comparison_filters_rows(page: Any, site_url: str) -> None:
    """Filtering by alcohol use disorder shows only the matching studies and says how many."""
    page.goto(f"{site_url}/comparison/")
    page.get_by_label("Alcohol use disorder").select_option("yes")
    assert sorted(row_order(page)) == ["compare-yoon-2019", "compare-yoon-2025"]
    assert "Showing 2 of 5 studies." in page.locator(".comparison-status").inner_text()
    page.get_by_label("Alcohol use disorder").select_option("")
    assert len(row_order(page)) == 5


def test_row_anchor_lands_on_its_row_after_sorting(page: Any, site_url: str) -> None:
    """A slide's link to a row lands on that row, whatever order the table is in."""
    page.goto(f"{site_url}/comparison/")
    page.get_by_role("button", name="Sort by Study").click()
    page.goto(f"{site_url}/comparison/#compare-jelen-2025")
    row = page.locator("#compare-jelen-2025")
    assert row.is_visible()
    assert row.evaluate("row => row.matches(':target')")
    box = row.bounding_box()
    assert box is not None
    assert 0 <= box["y"] < page.viewport_size["height"]


def test_comparison_is_complete_without_javascript(browser: Any, site_url: str) -> None:
    """With JavaScript off the table still has every row and column, just no controls."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site_url}/comparison/")
    assert page.locator("table.comparison tbody tr").count() == 5
    assert page.locator("table.comparison thead th").count() == 11
    assert page.locator(".comparison-filters").count() == 0
    context.close()


def test_comparison_reads_as_labelled_cards_on_a_phone(browser: Any, site_url: str) -> None:
    """On a phone-sized screen each row becomes a card whose cells carry their column names."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{site_url}/comparison/")
    cell = page.locator("#compare-williams-2018 td[data-label=Ketamine]")
    assert cell.evaluate("cell => getComputedStyle(cell).display") == "block"
    assert cell.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Ketamine"'
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()


@pytest.fixture(scope="session")
def offline_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip `make offline` writes, unpacked: the site as a reader opens it without a server."""
    folder = copy_sources(tmp_path_factory.mktemp("offline"))
    archive = folder / "site-offline.zip"
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--offline", str(archive), "--data", str(folder / "data"),
         "--docs", str(folder / "docs"), "--config", str(folder / "mkdocs.yml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(folder / "unpacked")
    return folder / "unpacked" / "ketamine-naltrexone"


def test_the_offline_copy_unpacks_readable_by_everyone(offline_copy: Path) -> None:
    """unzip gives each file the mode its entry carries: a shared classroom drive or a web folder
    needs every file readable by all (an entry with no mode unpacks as 0600, the owner's only)."""
    with zipfile.ZipFile(offline_copy.parent.parent / "site-offline.zip") as bundle:
        modes = {stat.filemode(info.external_attr >> 16) for info in bundle.infolist()}
    assert modes == {"-rw-r--r--"}


def test_offline_copy_navigates_from_the_file_system(browser: Any, offline_copy: Path) -> None:
    """Opened from the file system, the navigation and in-page links lead to real pages."""
    page = browser.new_page()
    page.goto((offline_copy / "index.html").as_uri())
    page.locator("article a", has_text="Williams et al. 2018").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("studies/williams-2018.html")
    assert "Attenuation of Antidepressant Effects" in page.locator("article").inner_text()
    page.locator("a.md-nav__link", has_text="Comparison").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("comparison.html")
    page.locator("#compare-jelen-2025 a", has_text="design").click()
    page.wait_for_load_state()
    assert page.url.endswith("studies/jelen-2025.html#design")
    page.close()


def test_offline_copy_sorts_filters_and_searches(browser: Any, offline_copy: Path) -> None:
    """Comparison sorting and filtering, glossary tooltips and search all work from the file
    system, and nothing is requested from another host (not even Material's worker shim)."""
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto((offline_copy / "comparison.html").as_uri())
    page.get_by_label("Naltrexone", exact=True).select_option("intramuscular")
    assert sorted(row_order(page)) == ["compare-yoon-2019", "compare-yoon-2025"]
    page.get_by_role("button", name="Sort by Study").click()
    assert page.locator("th[data-column=study]").get_attribute("aria-sort") == "ascending"
    assert "glossary.html#" in page.locator("a.glossary-term").first.get_attribute("href")
    page.locator(".md-search__input").click()
    results = search_for(page, "naltrexone")
    assert results.count() > 0
    assert [url for url in requested if not url.startswith("file:")] == []
    page.close()


def test_copy_link_in_a_preview_copies_the_address_the_page_was_opened_at(browser: Any, site_url: str) -> None:
    """In a preview (no real address) the button copies where the page was opened, with the anchor, beside the button."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{site_url}/studies/williams-2018/")
    assert page.locator('link[rel="canonical"]').count() == 0
    button = page.get_by_role("button", name="Copy link to the section Results")
    button.click()
    assert page.evaluate("navigator.clipboard.readText()") == f"{site_url}/studies/williams-2018/#results"
    feedback = page.locator("#results .copy-feedback")
    expect(feedback).to_have_text("Copied")
    box, near = button.bounding_box(), feedback.bounding_box()
    assert abs(near["y"] - box["y"]) < 40, "the feedback shows beside the button"
    page.goto(f"{site_url}/comparison/")
    page.get_by_role("button", name="Copy link to the Jelen et al. 2025 row").click()
    assert page.evaluate("navigator.clipboard.readText()") == f"{site_url}/comparison/#compare-jelen-2025"
    context.close()


def test_copy_link_in_a_release_copies_the_canonical_address(browser: Any, release_site: Path) -> None:
    """In a release build the button copies the page's permanent (canonical) address, wherever it was opened."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    with serving(release_site) as url:
        page.goto(f"{url}/studies/williams-2018/")
        page.get_by_role("button", name="Copy link to the section Results").click()
        copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{RELEASE_URL}studies/williams-2018/#results"
    context.close()


@pytest.mark.parametrize(("paper", "width"), [("A4", 794), ("Letter", 816)])
def test_print_makes_a_readable_handout(browser: Any, site_url: str, paper: str, width: int) -> None:
    """Printed, a page drops navigation, search and buttons, keeps its address, review date and
    citation, and the comparison table fits the paper."""
    context = browser.new_context(viewport={"width": width, "height": 1100})
    page = context.new_page()
    page.goto(f"{site_url}/comparison/")
    page.emulate_media(media="print")
    for hidden in (
        ".md-header",
        ".md-sidebar--primary",
        ".md-search",
        ".comparison-filters",
        ".copy-link",
        ".cite-copy",
    ):
        assert page.locator(hidden).first.evaluate("e => getComputedStyle(e).display") == "none", hidden
    box = page.locator(".cite-page")
    assert box.is_visible()
    assert "Evidence last reviewed" in box.inner_text()
    assert "Comparison. Ketamine and naltrexone: the evidence." in page.locator("#cite-ama").inner_text()
    assert "example.org" not in box.inner_text(), "a preview names no placeholder address"
    table = page.locator("table.comparison")
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth + 1")  # the printed PDFs: test_print
    context.close()


@pytest.mark.parametrize("path", ["studies/williams-2018/", "citations/", "comparison/"])
def test_glossary_marks_stay_out_of_references_pictures_and_controls(page: Any, site_url: str, path: str) -> None:
    """Tooltips are added to prose only: never inside a citation, a protocol picture, a table
    header or a button, where a link would change the reference or nest inside a control."""
    page.goto(f"{site_url}/{path}")
    assert page.locator("a.glossary-term").count() > 0
    inside = ".reference .glossary, svg .glossary, thead .glossary, button .glossary, table.comparison .glossary"
    assert page.locator(inside).count() == 0


@pytest.mark.parametrize("path", ["comparison/", "citations/"])
def test_lists_are_whole_with_no_pager(page: Any, site_url: str, path: str) -> None:
    """The comparison and the citations show every row and reference at once: no pager, no "Page 1 of 1"."""
    page.goto(f"{site_url}/{path}")
    assert page.locator(".pager").count() == 0
    assert "Page 1 of" not in page.locator("article").inner_text()
    assert page.locator("table.comparison tbody tr:not([hidden]), ol.reference-list > li").count() >= 5


def test_a_link_to_a_comparison_protocol_reaches_its_entry_and_then_its_timeline(page: Any, site_url: str) -> None:
    """A link made to comparison/#protocol-of-<study> shows that study's entry below the header; the entry's
    link opens the study page with the timeline on screen."""
    page.goto(f"{site_url}/comparison/#protocol-of-yoon-2019")
    page.wait_for_load_state("load")
    header = page.locator(".md-header").bounding_box()
    entry = page.locator("li", has=page.locator("#protocol-of-yoon-2019")).bounding_box()
    assert header["y"] + header["height"] <= entry["y"] < page.viewport_size["height"]
    page.locator("#protocol-yoon-2019").click()
    page.wait_for_url("**/studies/yoon-2019/#protocol-yoon-2019")
    picture = page.locator("#protocol-yoon-2019 svg.protocol-picture").bounding_box()
    assert 0 <= picture["y"] < page.viewport_size["height"]


def test_a_source_drawn_only_when_near_is_reached_by_its_link_on_a_phone(browser: Any, site_url: str) -> None:
    """On a phone the comparison's sources are laid out only when near; a link to one (as the table's cells
    make) still scrolls it on screen, below the header, and the glossary marks nothing in those lists."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{site_url}/comparison/#source-yoon-2019")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    header = page.locator(".md-header").bounding_box()
    item = page.locator("li", has=page.locator("#source-yoon-2019")).bounding_box()
    assert header["y"] + header["height"] <= item["y"] < page.viewport_size["height"]
    assert page.locator(".long-list .glossary").count() == 0
    context.close()


def test_sort_by_study_sorts_by_the_label(page: Any, site_url: str) -> None:
    """ "Sort by Study" puts the rows in the alphabetical order of their labels, not by year."""
    page.goto(f"{site_url}/comparison/")
    page.get_by_role("button", name="Sort by Study").click()
    labels = page.eval_on_selector_all(
        "table.comparison tbody th a:first-child", "links => links.map(a => a.textContent)"
    )
    assert labels == sorted(labels, key=str.lower)


def test_a_glossary_term_tapped_on_a_phone_shows_its_definition_in_place(browser: Any, site_url: str) -> None:
    """On a touch screen the first tap on a term shows its definition and stays on the page."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{site_url}/studies/williams-2018/")
    term = page.locator("a.glossary-term", has_text="crossover").first
    term.tap()
    tip = page.locator("#glossary-tip-crossover")
    expect(tip).to_be_visible()
    assert page.url.endswith("/studies/williams-2018/")
    box = tip.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    context.close()

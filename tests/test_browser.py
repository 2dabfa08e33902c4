"""The site in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

PAGES = ["", "studies/williams-2018/", "studies/yoon-2025/", "news/", "history/", "glossary/", "registrations/"]


@pytest.fixture
def page(browser: Any, site_url: str) -> Any:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


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


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_from_another_host(browser: Any, site_url: str, path: str) -> None:
    """Opening a page requests nothing from any host but the site's own."""
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{site_url}/{path}", wait_until="networkidle")
    context.close()
    own = urlsplit(site_url).netloc
    assert [url for url in requested if urlsplit(url).netloc not in {own, ""}] == []

"""Search in a browser: the index waits until a reader opens search, and search still finds pages."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import search_for

INDEX = "search/search_index.json"


def test_a_first_visit_does_not_fetch_the_search_index(browser: Any, site_url: str) -> None:
    """Loading a page and scrolling it requests no search index; focusing the search box then fetches it once."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{site_url}/studies/williams-2018/", wait_until="networkidle")
    page.mouse.wheel(0, 2000)
    page.wait_for_timeout(500)
    assert [url for url in requested if INDEX in url] == []
    assert any("search" in url and url.endswith(".js") for url in requested), "Material's search worker still loads"
    with page.expect_request(lambda request: INDEX in request.url):
        page.locator(".md-search__input").focus()
    page.wait_for_load_state("networkidle")
    assert len([url for url in requested if INDEX in url]) == 1
    context.close()


@pytest.mark.parametrize(
    ("width", "open_search"),
    [
        (390, lambda page: page.locator("label.md-header__button[for=__search]").click()),
        (1280, lambda page: page.keyboard.press("/")),
    ],
    ids=["phone-tap", "desktop-shortcut"],
)
def test_search_finds_pages_once_opened(browser: Any, site_url: str, width: int, open_search: Any) -> None:
    """Opening search (the magnifier on a phone, the / shortcut on a desktop) and typing a query lists matching pages."""
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(f"{site_url}/", wait_until="networkidle")
    open_search(page)
    results = search_for(page, "naltrexone")
    assert results.count() > 0
    assert "naltrexone" in results.first.inner_text().lower()
    context.close()

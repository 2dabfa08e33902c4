"""Accessibility in a real browser: axe-core's helpers (test_layout runs them on every page type, in
the visit that also checks the layout), the keyboard and dark mode."""

from __future__ import annotations

from typing import Any

from conftest import ROOT, search_for

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


# A colour scheme changes only colours: in dark mode the rules that read colours are
# the ones whose answer can change (the rest read the document, which is the same).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def axe_violations(page: Any, rules: list[str] | None = None) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page open in a tab (or those of `rules` only), one line each."""
    assert AXE.exists(), "node_modules/axe-core is installed by `make test` (npm ci)"
    if page.evaluate("typeof axe === 'undefined'"):
        page.add_script_tag(path=str(AXE))
    only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": WCAG_22_AA}
    # resultTypes: axe then describes only the violations in full (a third faster on a large page).
    result = page.evaluate("only => axe.run(document, {runOnly: only, resultTypes: ['violations']})", only)
    return [f"{v['id']}: {v['nodes'][0]['target']} {v['help']}" for v in result["violations"]]


def test_keyboard_user_can_skip_to_the_content(browser: Any, site_url: str) -> None:
    """The first Tab reaches a "Skip to content" link, which moves focus past the navigation."""
    page = browser.new_page()
    page.goto(f"{site_url}/studies/williams-2018/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text().strip() == "Skip to content"
    page.keyboard.press("Enter")
    page.wait_for_url("**#williams-et-al-2018*")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('article, .md-content') !== null")
    page.close()


def test_dark_mode_follows_the_system_then_the_toggle(browser: Any, site_url: str) -> None:
    """A first visit takes the system's dark setting; the palette toggle switches between light and dark,
    and the choice sticks across pages."""
    page = browser.new_page(color_scheme="dark")
    page.goto(f"{site_url}/")
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    page.close()
    page = browser.new_page(color_scheme="light")
    page.goto(f"{site_url}/")
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"
    page.locator("label[title='Switch to dark mode']").click()
    assert page.evaluate(scheme) == "slate"
    page.goto(f"{site_url}/comparison/")
    assert page.evaluate(scheme) == "slate"
    page.locator("label[title='Switch to light mode']").click()
    assert page.evaluate(scheme) == "default"
    page.close()


def test_home_page_renders(browser: Any, site_url: str) -> None:
    """The home page shows its question, bottom line and a card for every study."""
    page = browser.new_page()
    page.goto(f"{site_url}/")
    assert page.get_by_role("heading", name="The bottom line").is_visible()
    assert page.locator(".grid.cards li").count() == 6
    assert "Does blocking opioid receptors with naltrexone" in page.locator("article").inner_text()
    page.close()


def test_search_finds_a_study_and_opens_it(browser: Any, site_url: str) -> None:
    """Searching for naltrexone lists study pages, and choosing one opens it."""
    page = browser.new_page()
    page.goto(f"{site_url}/")
    page.locator(".md-search__input").click()
    # A study page's own result (no section); the one clicked is the one whose title was read.
    results = search_for(page, "naltrexone").locator("a[href*='/studies/']:not([href*='#'])")
    results.first.wait_for(timeout=10_000)
    title = results.first.locator("h1").inner_text().split(":")[0]
    results.filter(has_text=title).first.click()
    page.wait_for_url("**/studies/**")
    assert title in page.locator("article h1").inner_text()
    page.close()

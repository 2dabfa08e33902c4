"""Layout in Chromium at phone, tablet and desktop width: nothing wider than the window,
every table fits or says it scrolls and takes the keyboard, followed links land in view.
With --contact-sheet DIR (or CONTACT_SHEET=DIR make test) it also writes screenshots."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_accessibility import violations_on

WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}

# For each box that scrolls sideways: is it focusable, named, and does it show a cue?
SCROLL_BOXES = """() => {
  const out = [];
  for (const el of document.querySelectorAll("article *")) {
    const style = getComputedStyle(el);
    if (style.display.startsWith("inline") && style.display !== "inline-block") continue;
    if (!["auto", "scroll"].includes(style.overflowX) || el.scrollWidth <= el.clientWidth + 1) continue;
    const cue = el.nextElementSibling;
    out.push({
      what: el.className || el.tagName,
      focusable: el.tabIndex >= 0,
      named: !!el.getAttribute("aria-label"),
      cue: !!(cue && cue.classList.contains("scroll-cue") && !cue.hidden && cue.offsetHeight > 0),
    });
  }
  return out;
}"""

# Tables wider than the article that are not inside a scroll box.
OVERFLOWING_TABLES = """() => {
  const main = document.querySelector("article");
  if (!main) return [];
  const article = main.getBoundingClientRect();
  return [...document.querySelectorAll("article table")].filter(table => {
    for (let el = table.parentElement; el && el.tagName !== "ARTICLE"; el = el.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(el).overflowX)) return false;
    }
    return table.getBoundingClientRect().right > article.right + 1;
  }).map(table => table.className || "table");
}"""


@pytest.fixture(scope="module", params=list(WIDTHS), ids=list(WIDTHS))
def sized_page(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[str, Any]]:
    """One browser page at each width, shared by the tests of that width."""
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 900})
    yield request.param, context.new_page()
    context.close()


def fit_problems(page: Any, site_url: str, path: str) -> list[str]:
    """What on the page at `path` does not fit its window: the document itself, a table
    wider than the page, or a box that scrolls but is not focusable, named and cued."""
    page.goto(f"{site_url}/{path}")
    problems = []
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        problems.append(f"{path or 'home'}: document {width[0]} px wide in a {width[1]} px window")
    problems += [f"{path or 'home'}: {table} is wider than the page" for table in page.evaluate(OVERFLOWING_TABLES)]
    for box in page.evaluate(SCROLL_BOXES):
        if not (box["focusable"] and box["named"] and box["cue"]):
            problems.append(f"{path or 'home'}: a box that scrolls ({box}) is not focusable, named and cued")
    return problems


def test_no_page_is_wider_than_the_window_and_every_table_fits_or_says_it_scrolls(
    sized_page: tuple[str, Any], site_url: str, site_pages: list[str]
) -> None:
    """On every page type at 390, 820 and 1280 px nothing is wider than the window, and each table fits or scrolls in a named, focusable box with a cue."""
    name, page = sized_page
    problems = [problem for path in site_pages for problem in fit_problems(page, site_url, path)]
    assert problems == [], f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("fragment", ["comparison/#compare-williams-2018", "studies/williams-2018/#results",
                                      "comparison/#certainty-oral-naltrexone", "news/#article-thefix-2018"])  # fmt: skip
def test_a_followed_link_lands_with_its_labels_in_view_and_nothing_covering_it(
    sized_page: tuple[str, Any], site_url: str, fragment: str
) -> None:
    """A followed row or section link puts its target below the header, uncovered, with its column labels in view."""
    name, page = sized_page
    page.goto("about:blank")
    page.goto(f"{site_url}/{fragment}")
    page.wait_for_timeout(300)
    target_id = fragment.split("#")[1]
    if page.locator(f"[id='{target_id}']").count() == 0:
        pytest.skip(f"no #{target_id} on this data")
    found = page.evaluate(
        """id => {
          const target = document.getElementById(id);
          const box = target.getBoundingClientRect();
          const header = document.querySelector(".md-header").getBoundingClientRect();
          const x = Math.min(box.left + 20, window.innerWidth - 5), y = box.top + 8;
          const top = document.elementFromPoint(x, y);
          const row = target.tagName === "TR";
          const labels = row ? [...target.closest("table").tHead.rows[0].cells].map(c => c.getBoundingClientRect()) : [];
          const cards = row && getComputedStyle(target).display === "block";
          return {
            top: box.top, headerBottom: header.bottom, height: window.innerHeight,
            covered: !(top && (target.contains(top) || top.contains(target))),
            labelsInView: !row || cards || labels.every(l => l.top >= header.bottom - 1 && l.bottom <= box.top + 1),
            cardLabels: cards ? getComputedStyle(target.cells[1], "::before").content : "",
          };
        }""",
        target_id,
    )
    assert found["top"] >= found["headerBottom"] - 1, f"{name}: lands under the header"
    assert found["top"] < found["height"] / 2, f"{name}: lands near the top of the window"
    assert not found["covered"], f"{name}: something covers the target"
    assert found["labelsInView"], f"{name}: the row's column labels are out of view"
    if found["cardLabels"]:
        assert found["cardLabels"] not in ("none", "normal", '""'), f"{name}: a card's cells are unlabelled"


# The page types whose tables and pictures scroll or turn into cards on a phone.
PHONE_AXE_PAGES = ["studies/williams-2018/", "studies/yoon-2025/", "news/", "registrations/", "studies/",
                   "summary-of-findings/", "teaching/"]  # fmt: skip


def test_no_axe_violations_on_a_phone(browser: Any, site_url: str) -> None:
    """At 390 px, where tables and pictures may scroll, axe-core finds no WCAG 2.2 AA violation."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    assert violations_on(context, site_url, PHONE_AXE_PAGES) == []


def test_phone_shows_no_scroll_caption_on_the_comparison_cards(browser: Any, site_url: str) -> None:
    """In the phone card layout, where nothing scrolls, no caption says to scroll sideways."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{site_url}/comparison/")
    assert "Scroll sideways" not in page.locator(".comparison-caption").inner_text()
    assert page.evaluate("getComputedStyle(document.querySelector('table.comparison tr')).display") == "block"
    context.close()


def test_protocol_picture_labels_are_readable_on_a_phone(browser: Any, site_url: str) -> None:
    """At 390 px a protocol picture's labels are drawn at a font size of at least 12 px (they were about 7)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{site_url}/studies/williams-2018/")
    sizes = page.eval_on_selector_all(
        ".protocol-label", "els => els.map(e => e.getScreenCTM().a * parseFloat(getComputedStyle(e).fontSize))"
    )
    context.close()
    assert sizes
    assert min(sizes) >= 12


def test_data_dictionary_field_names_break_only_between_words(browser: Any, site_url: str) -> None:
    """On a phone a field name such as last_reviewed wraps at an underscore or not at all, never mid-word."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{site_url}/about/data-dictionary/")
    broken = page.evaluate(
        """() => [...document.querySelectorAll("code.field-name")].filter(code => {
          const range = document.createRange();
          for (const node of code.childNodes) {
            if (node.nodeType !== 3) continue;
            range.selectNodeContents(node);
            if (range.getClientRects().length > 1) return true;
          }
          return false;
        }).map(code => code.textContent)"""
    )
    context.close()
    assert broken == []


def test_writes_a_contact_sheet_on_request(
    request: pytest.FixtureRequest, browser: Any, site_url: str, site_pages: list[str]
) -> None:
    """With --contact-sheet DIR, screenshots of every page type at phone and desktop width and one sheet of them all."""
    out = Path(request.config.getoption("--contact-sheet")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    for name in ("phone", "desktop"):
        context = browser.new_context(viewport={"width": WIDTHS[name], "height": 900})
        page = context.new_page()
        for path in site_pages:
            page.goto(f"{site_url}/{path}")
            file = out / f"{name}-{(path.strip('/') or 'home').replace('/', '-')}.png"
            page.screenshot(
                path=str(file), clip={"x": 0, "y": 0, "width": WIDTHS[name], "height": 1400}, full_page=True
            )
            shots.append((name, path or "home", file))
        context.close()
    cells = "".join(
        f'<figure><img src="{file.name}" class="{name}"><figcaption>{html.escape(name)}: {html.escape(path)}</figcaption></figure>'
        for name, path, file in shots
    )
    sheet = out / "contact-sheet.html"
    sheet.write_text(
        "<style>body{margin:8px;font:12px sans-serif;display:flex;flex-wrap:wrap;gap:8px}"
        "figure{margin:0}img{border:1px solid #999;height:480px}</style>" + cells,
        encoding="utf-8",
    )
    context = browser.new_context(viewport={"width": 2400, "height": 1000})
    page = context.new_page()
    page.goto(sheet.as_uri())
    page.screenshot(path=str(out / "contact-sheet.png"), full_page=True)
    context.close()
    assert (out / "contact-sheet.png").stat().st_size > 10_000

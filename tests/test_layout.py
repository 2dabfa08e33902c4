"""Every page type visited in Chromium at phone, tablet and desktop width, once each:
nothing wider than the window, every table fits or says it scrolls and takes the keyboard,
nothing requested from another host, and axe-core's WCAG 2.2 AA checks (at desktop width
in light and dark mode, at phone width where tables and pictures scroll or become cards).
Followed links land in view. With --contact-sheet DIR (or CONTACT_SHEET=DIR make test) it
also writes screenshots."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_accessibility import COLOUR_RULES, axe_violations

WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}
# A phone as Lighthouse's mobile preset emulates one: a touch screen at 1.75 device pixels per CSS pixel,
# where a link that is just 24 px on a desktop can measure less (axe-core's target-size rule, WCAG 2.5.8).
DEVICE: dict[str, dict[str, Any]] = {"phone": {"is_mobile": True, "has_touch": True, "device_scale_factor": 1.75}}


def window(width: str) -> dict[str, Any]:
    """The browser context options of a window of `width` (a key of WIDTHS)."""
    return {"viewport": {"width": WIDTHS[width], "height": 900}, **DEVICE.get(width, {})}


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
    context = browser.new_context(**window(request.param))
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


# The page types whose tables and pictures scroll or turn into cards on a phone: axe-core
# checks them again at that width (the rest lay out as they do on a desktop).
PHONE_AXE_PAGES = ["comparison/", "studies/williams-2018/", "studies/yoon-2025/", "news/", "registrations/", "studies/",
                   "summary-of-findings/", "teaching/"]  # fmt: skip


def dark_mode(page: Any) -> None:
    """Switch the open page to dark mode with its palette toggle, as a reader does (a page with styles of its
    own, 404.html, follows the system's setting instead)."""
    # Colours the theme eases in would be read half-way, and in the parts not yet drawn (the content-visibility
    # lists) they only start to fade when axe scrolls to them: the check reads the colours they settle on.
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
    toggle = page.locator("label[title='Switch to dark mode']")
    if toggle.count() == 0:
        page.emulate_media(color_scheme="dark")
        return
    toggle.click()
    page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")


def axe_problems(page: Any, path: str, width: str) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the open page: at desktop width all of them, then in dark mode
    its colour rules (a colour scheme changes nothing else axe reads); on a phone on PHONE_AXE_PAGES only."""
    label = path or "home"
    if width == "phone" and path in PHONE_AXE_PAGES:
        return [f"{label}: {violation}" for violation in axe_violations(page)]
    if width != "desktop":
        return []
    found = [f"{label}: {violation}" for violation in axe_violations(page)]
    dark_mode(page)
    found += [f"{label} in dark mode: {violation}" for violation in axe_violations(page, COLOUR_RULES)]
    page.evaluate("localStorage.clear()")  # the next page opens in light mode again, as on a first visit
    page.emulate_media(color_scheme="light")
    return found


HALVES = pytest.mark.parametrize("half", [0, 1], ids=["first-half", "second-half"])


@HALVES
@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_type_fits_its_window_passes_axe_and_loads_only_from_its_own_host(
    browser: Any, site_url: str, site_pages: list[str], width: str, half: int
) -> None:
    """On every page type at 390, 820 and 1280 px (each half of them a test, so that the workers share them):
    nothing is wider than the window; each table fits or scrolls in a named, focusable box with a cue; every
    request goes to the site's own host and succeeds; and axe-core finds no WCAG 2.2 AA violation, the
    theme's markup included (see axe_problems for which checks run at which width)."""
    context = browser.new_context(**window(width), color_scheme="light")
    requested: list[str] = []
    failed: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    context.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page = context.new_page()
    problems: dict[str, list[str]] = {"fit": [], "axe": []}
    for path in site_pages[half::2]:
        problems["fit"] += fit_problems(page, site_url, path)
        problems["axe"] += axe_problems(page, path, width)
        if width == "desktop":  # its late requests too (axe has run for longer than the 500 ms this waits for)
            page.wait_for_load_state("networkidle")
    context.close()
    own = urlsplit(site_url).netloc
    problems["another host"] = [url for url in requested if urlsplit(url).netloc not in {own, ""}]
    problems["failed"] = failed
    assert len({url.split("#")[0] for url in requested}) > len(site_pages[half::2]), "each page's requests were seen"
    assert problems == {"fit": [], "axe": [], "another host": [], "failed": []}, width


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
        context = browser.new_context(viewport={"width": WIDTHS[name], "height": 900})  # screenshots at 1 px per px
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

"""For teachers: the summary-of-findings page, the home page's links into it, and the
teaching-session page, read as a reader sees them (built HTML and Chromium at three
widths; the summary's printed PDF is read back in test_print and test_handout)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, load_site
from test_layout import WIDTHS
from test_reader import raw_markup, read

from evidence import schema
from evidence.check import SiteData
from evidence.render import teaching
from evidence.views import sof_anchor

PAGES = ["summary-of-findings/", "teaching/"]


@pytest.fixture(scope="module")
def data() -> SiteData:
    """The real data, checked."""
    return load_site(ROOT / "data", dt.date.today())


def text_of(path: Path) -> str:
    """A built page's HTML as plain text, tags removed, entities resolved, spaces folded."""
    body = re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))
    return " ".join(html.unescape(body).split())


def fact_text(value: str) -> str:
    return " ".join(str(value).split())


def row_of(page: str, anchor: str) -> str:
    """The HTML of the table row holding an anchor."""
    start = page.index(f'id="{anchor}"')
    return page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]


def test_every_rating_has_its_row_with_symbols_word_statement_and_studies(site: Path, data: Any) -> None:
    """Each certainty rating has a table row at its permanent anchor with the level in symbols and words, its statement and its studies."""
    page = (site / "summary-of-findings" / "index.html").read_text(encoding="utf-8")
    assert data.comparison.certainty, "the data rate at least one question"
    for key, rating in data.comparison.certainty.items():
        anchor = sof_anchor(key, rating)
        assert anchor == f"sof-{key}-{rating.outcome_id}"
        row = row_of(page, anchor)
        words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
        assert schema.CERTAINTY_SYMBOLS[rating.level] in words
        assert f"{schema.CERTAINTY_SYMBOLS[rating.level]} {schema.CERTAINTY_LABELS[rating.level]}" in words
        assert fact_text(rating.statement) in words
        for study_id in rating.studies:
            assert f'href="../studies/{study_id}/#participants"' in row


def test_each_step_down_has_a_footnote_with_its_reason(site: Path, data: Any) -> None:
    """Every serious or very serious domain judgement is a footnote, linked from its row's certainty, giving its reason."""
    page = (site / "summary-of-findings" / "index.html").read_text(encoding="utf-8")
    notes = {
        anchor: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
        for anchor, body in re.findall(r'<p class="sof-note" id="(sof-note-\d+)"><sup>\d+</sup>(.*?)</p>', page, re.S)
    }
    for key, rating in data.comparison.certainty.items():
        row = row_of(page, sof_anchor(key, rating))
        for judged in teaching.steps_down(rating):
            label = schema.GRADE_DOMAIN_LABELS[judged.domain]
            steps = schema.JUDGEMENT_STEPS[judged.judgement]
            wanted = (
                f"{label}, {schema.JUDGEMENT_LABELS[judged.judgement].lower()} (−{steps}): {fact_text(judged.reason)}"
            )
            linked = [anchor for anchor, text in notes.items() if text == wanted and f'href="#{anchor}"' in row]
            assert len(linked) == 1, (key, judged.domain)


def test_every_numeric_result_is_on_the_summary_with_its_provenance_mark(site: Path, data: Any) -> None:
    """Every study result that holds a number is on the summary exactly as the data give it, followed by its provenance mark."""
    text = text_of(site / "summary-of-findings" / "index.html")
    numeric = [fact for study in data.studies.values() for fact in study.results if teaching.is_numeric(fact)]
    assert len(numeric) >= 10
    for fact in numeric:
        shown = fact_text(fact.value)
        label = schema.LEVEL_LABELS[fact.level]
        assert re.search(re.escape(shown) + r".{0,200}?" + re.escape(f"({label})"), text), shown


def test_the_key_numbers_of_the_issue_are_there_as_the_sources_give_them(site: Path) -> None:
    """The numbers a teacher reaches for appear in the summary, worded as the sources report them."""
    text = text_of(site / "summary-of-findings" / "index.html")
    for number in ("7 of 12", "F(1,74) = 5.39, P = 0.023", "3 of 5", "5 of 5", "more than 80% depression remission"):
        assert number in text, number


def test_each_number_links_to_the_study_section_it_comes_from(site: Path, data: Any) -> None:
    """Each row's findings name their study with a link to that study's results section."""
    page = (site / "summary-of-findings" / "index.html").read_text(encoding="utf-8")
    for key, rating in data.comparison.certainty.items():
        row = row_of(page, sof_anchor(key, rating))
        for finding in rating.findings:
            assert f'href="../studies/{finding.study}/#results"' in row


def test_the_home_bottom_line_links_each_point_to_its_row_with_its_certainty(site: Path, data: Any) -> None:
    """Each rated point of the home page's bottom line shows its certainty in symbols (linked to how it was rated) and words (linked to its summary row)."""
    home = (site / "index.html").read_text(encoding="utf-8")
    section = home[home.index('id="bottom-line"') : home.index('id="studies"')]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    assert len(items) == len(data.info.bottom_line)
    sof = (site / "summary-of-findings" / "index.html").read_text(encoding="utf-8")
    for item, statement in zip(items, data.info.bottom_line, strict=True):
        if statement.certainty:
            rating = data.comparison.certainty[statement.certainty]
            anchor = sof_anchor(statement.certainty, rating)
            link = re.search(rf'<a [^>]*href="summary-of-findings/#{anchor}"[^>]*>(.*?)</a>', item, re.S)
            assert link, statement.text
            words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", link[1])).split())
            assert words == f"{schema.CERTAINTY_LABELS[rating.level]} certainty"
            symbols = re.search(rf'href="comparison/#certainty-{statement.certainty}"[^>]*>(.*?)</a> <a ', item, re.S)
            assert symbols, statement.text
            assert schema.CERTAINTY_SYMBOLS[rating.level] in symbols[1]
            assert f'id="{anchor}"' in sof
        else:  # a point no rating covers has no row, and shows no certainty
            assert "summary-of-findings/" not in item
            assert "certainty" not in item


def test_the_teaching_page_shows_the_ranked_claims_in_order_with_the_record(site: Path, data: Any) -> None:
    """The teaching page lists the claims ranked in the data, worst first, each with what the record says and its verdict."""
    text = text_of(site / "teaching" / "index.html")
    ranked = sorted((c.teaching_rank, key, c) for key, c in data.claims.items() if c.teaching_rank)
    assert [rank for rank, _, _ in ranked] == [1, 2, 3, 4, 5]
    positions = []
    for _, key, claim in ranked:
        quote = fact_text(claim.quote)
        assert quote in text, key
        positions.append(text.index(quote))
        assert fact_text(claim.finding.value) in text, key
        assert claim.verdict != "accurate"
    assert positions == sorted(positions)


def test_the_teaching_page_shows_each_rating_with_its_reasons_and_row_link(site: Path, data: Any) -> None:
    """Each certainty rating is on the teaching page with its level, statement and every step down's reason, linked to its summary row."""
    page = (site / "teaching" / "index.html").read_text(encoding="utf-8")
    text = text_of(site / "teaching" / "index.html")
    for key, rating in data.comparison.certainty.items():
        assert f"{schema.CERTAINTY_LABELS[rating.level]} certainty. {fact_text(rating.statement)}" in text
        for judged in teaching.steps_down(rating):
            assert fact_text(judged.reason) in text
        assert f'href="../summary-of-findings/#{sof_anchor(key, rating)}"' in page


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_show_no_raw_markup(site: Path, path: str) -> None:
    """The two pages show a reader no raw Markdown or HTML."""
    assert raw_markup(read(site / path / "index.html")) == []


@pytest.mark.parametrize("width", list(WIDTHS.values()), ids=list(WIDTHS))
def test_a_followed_row_link_lands_in_view(browser: Any, site_url: str, data: Any, width: int) -> None:
    """At 390, 820 and 1280 px a row link of the summary lands below the header, in the top half of the window.
    (That the pages fit the window, and axe-core, are tested with every page type in test_layout.)"""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems = []
    for key, rating in data.comparison.certainty.items():
        anchor = sof_anchor(key, rating)
        page.goto("about:blank")
        page.goto(f"{site_url}/summary-of-findings/#{anchor}")
        page.wait_for_timeout(300)
        found = page.evaluate(
            """id => {
              const box = document.getElementById(id).closest("td").getBoundingClientRect();
              const header = document.querySelector(".md-header").getBoundingClientRect();
              return {top: box.top, headerBottom: header.bottom, height: window.innerHeight};
            }""",
            anchor,
        )
        if not found["headerBottom"] - 1 <= found["top"] < found["height"] / 2:
            problems.append(f"#{anchor} lands at {found}")
    context.close()
    assert problems == []

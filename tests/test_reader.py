"""What a reader sees in the built pages: no raw Markdown or HTML in the visible text,
every Markdown table and list a table or list in the HTML, and the preview/release rule."""

from __future__ import annotations

import html
import html.parser
import re
from pathlib import Path

import pytest
from conftest import RELEASE_URL, build_site, copy_sources

from evidence.check import PLACEHOLDER_HOST

SKIP = {"script", "style", "code", "pre", "template", "noscript", "svg"}
BLOCKS = {"p", "li", "td", "th", "dd", "dt", "figcaption", "blockquote", "h1", "h2", "h3", "h4", "caption", "div"}
RAW = {
    "table pipes": re.compile(r"\|\s*:?-{3,}:?\s*\||\|\s*\|"),
    "attribute list": re.compile(r"\{:\s*[#.]"),
    "Markdown link": re.compile(r"\]\([^)\s]*\)"),
    "character reference": re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.I),
    "emphasis marks": re.compile(r"(?<![\w*])\*\*[^*\n]+\*\*(?![\w*])"),
    "list dash": re.compile(r"(?:^|[.:]\s)- (?=[A-Z0-9\[])"),
    "Jinja": re.compile(r"\{\{|\{%|%\}"),
    "HTML tag": re.compile(r"</?(?:span|a|br|em|strong|q|div|p|table|td|tr)\b[^>]*>"),
}
TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$")
LIST_ITEM = re.compile(r"^(?: {4})*(?:-|\d+\.) \S")


class Reading(html.parser.HTMLParser):
    """The visible text of a page's article, block by block, and its tables and list items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.in_article = 0
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.tables = 0
        self.items = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.in_article += 1
        if tag in SKIP:
            self.skip += 1
        if self.in_article and tag == "table":
            self.tables += 1
        if self.in_article and tag == "li":
            self.items += 1
        if tag in BLOCKS or tag == "br":
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP and self.skip:
            self.skip -= 1
        if tag in BLOCKS:
            self.flush()
        if tag == "article":
            self.in_article -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            self.blocks.append(text)
        self.current = []


def read(path: Path) -> Reading:
    reading = Reading()
    reading.feed(path.read_text(encoding="utf-8"))
    reading.flush()
    return reading


def raw_markup(reading: Reading) -> list[str]:
    """Every block of visible text that shows Markdown or HTML a reader should never see."""
    return [f"{name}: {text[:120]!r}" for text in reading.blocks for name, rx in RAW.items() if rx.search(text)]


def markdown_of(site: Path, page: Path) -> Path | None:
    """The generated Markdown page a built page came from."""
    docs = site.parent / "docs"
    if page.name != "index.html":
        return None
    stem = page.parent.relative_to(site).as_posix()
    for candidate in [docs / "index.md"] if stem == "." else [docs / f"{stem}.md", docs / stem / "index.md"]:
        if candidate.is_file():
            return candidate
    return None


def markdown_blocks(text: str) -> tuple[int, int]:
    """The tables and list items in a Markdown page (past its front matter, outside code blocks)."""
    tables = items = 0
    fenced = False
    if text.startswith("---\n"):
        text = text[text.index("\n---\n", 4) + 5 :]
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            tables += bool(TABLE_SEPARATOR.match(line))
            items += bool(LIST_ITEM.match(line))
    return tables, items


def built_pages(site: Path) -> list[Path]:
    """Every page a reader can open, the 404 page included."""
    pages = sorted(p for p in site.rglob("index.html") if "downloads" not in p.parts)
    return pages + [site / "404.html"] * (site / "404.html").is_file()


def check_pages(site: Path) -> list[str]:
    problems = []
    for path in built_pages(site):
        rel = path.relative_to(site).as_posix()
        reading = read(path)
        problems += [f"{rel}: {problem}" for problem in raw_markup(reading)]
        source = markdown_of(site, path)
        if source is None:
            continue
        tables, items = markdown_blocks(source.read_text(encoding="utf-8"))
        if reading.tables < tables:
            problems.append(f"{rel}: {tables} tables in the Markdown, {reading.tables} in the page")
        if reading.items < items:
            problems.append(f"{rel}: {items} list items in the Markdown, {reading.items} in the page")
    return problems


def test_every_page_shows_no_raw_markup_and_keeps_every_table_and_list(site: Path) -> None:
    """Each built page's visible text holds no Markdown or HTML, and its Markdown's tables and lists are all there."""
    assert len(built_pages(site)) >= 20
    assert check_pages(site) == []


def test_the_golden_pages_pass_the_same_reading(fixture_site: Path) -> None:
    """The fixture site (the golden pages, built) shows no raw markup and keeps every table and list."""
    assert check_pages(fixture_site) == []


def test_the_reading_catches_a_table_that_did_not_render(tmp_path: Path) -> None:
    """The check itself fails on a claims table run into a paragraph, the defect it was written for."""
    page = tmp_path / "site" / "news" / "index.html"
    page.parent.mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "news.md").write_text("Note\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n- one\n- two\n")
    page.write_text("<article><p>Note | a | b | | --- | --- | | 1 | 2 |</p><p>- one - two</p></article>")
    problems = check_pages(tmp_path / "site")
    assert any("table pipes" in p for p in problems)
    assert any("1 tables in the Markdown, 0 in the page" in p for p in problems)
    assert any("2 list items in the Markdown, 0 in the page" in p for p in problems)


# --- Preview and release ---------------------------------------------------------------


def test_a_preview_says_so_on_every_page_and_names_no_placeholder_address(site: Path) -> None:
    """A build with the placeholder address shows a preview banner everywhere and never names the placeholder host."""
    for path in built_pages(site):
        text = path.read_text(encoding="utf-8")
        assert PLACEHOLDER_HOST not in text, path
        assert 'rel="canonical"' not in text, path
        assert "citation_public_url" not in text, path
        assert 'class="preview-banner"' in text, path
    assert PLACEHOLDER_HOST not in (site / "sitemap.xml").read_text(encoding="utf-8")


def test_a_release_build_names_its_address_and_shows_no_banner(release_site: Path) -> None:
    """A release build (SITE_URL set) gives canonical links at its address and no preview banner."""
    for path in built_pages(release_site):
        text = path.read_text(encoding="utf-8")
        assert 'class="preview-banner"' not in text, path
        assert PLACEHOLDER_HOST not in text, path
    home = (release_site / "index.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{RELEASE_URL}">' in home


ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_feed_names_no_placeholder_in_a_preview_and_the_address_in_a_release(
    site: Path, release_site: Path
) -> None:
    """The Atom feed, read back by ElementTree: a preview's links are relative and its ids name-based
    UUIDs (no host that does not exist); a release's ids and links are at its address."""
    from xml.etree import ElementTree

    preview = ElementTree.parse(site / "downloads" / "changes.atom").getroot()
    assert PLACEHOLDER_HOST not in ElementTree.tostring(preview, encoding="unicode")
    ids = [element.text or "" for element in preview.iter(f"{ATOM}id")]
    assert ids
    assert all(identifier.startswith("urn:uuid:") for identifier in ids)
    assert preview.find(f"{ATOM}link").get("href") == "../changes/"  # type: ignore[union-attr]
    release = ElementTree.parse(release_site / "downloads" / "changes.atom").getroot()
    assert all((element.text or "").startswith(RELEASE_URL) for element in release.iter(f"{ATOM}id"))


@pytest.mark.parametrize(
    "env",
    [{"RELEASE": "1"}, {"SITE_URL": f"https://{PLACEHOLDER_HOST}/"}],
    ids=["make-release", "site-url-placeholder"],
)
def test_a_release_build_refuses_the_placeholder_address(tmp_path: Path, env: dict[str, str]) -> None:
    """`make release` (or SITE_URL) with the placeholder address fails with a located error and writes nothing."""
    folder = copy_sources(tmp_path)
    result = build_site(folder, **env)
    assert result.returncode == 1
    assert "placeholder address" in result.stderr
    if "RELEASE" in env:
        assert re.search(r"data/site\.yaml:\d+: url: https://ketamine-naltrexone\.example\.org/", result.stderr)
    else:
        assert result.stderr.startswith("SITE_URL")
    assert not (folder / "site").exists()
    assert not list((folder / "docs").glob("*.md")), "no page was written"


def test_make_release_is_the_release_build() -> None:
    """The Makefile's release target asks build.py for a release build."""
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    assert "\nrelease:" in makefile
    assert "RELEASE=1 $(BIN)/python build.py --site" in makefile


# --- One label per work, one order, sources in order, unknowns once ----------------------


def test_every_work_has_one_label_and_no_two_works_share_one() -> None:
    """Labels are derived once from the references: distinct for distinct works, and the Yoon letter is always its full name."""
    import datetime as dt

    from conftest import ROOT, load_site

    from evidence.views import citation_order, reference_labels

    site = load_site(ROOT / "data", dt.date.today())
    labels = reference_labels(site.references, citation_order(site))
    assert len(set(labels.values())) == len(labels)
    assert labels["yoon-2019"] == "Yoon, Petrakis & Krystal 2019"
    assert labels["yoon-reply-2019"] != labels["yoon-2019"]


def test_every_link_to_a_work_names_it_by_its_one_label(site: Path) -> None:
    """On every page, each link to a source's entry reads the same label for the same work."""
    seen: dict[str, set[str]] = {}
    link = re.compile(r'<a href="#source-([a-z0-9-]+)">([^<]+)</a>')
    for path in built_pages(site):
        for key, text in link.findall(path.read_text(encoding="utf-8")):
            seen.setdefault(key, set()).add(html.unescape(text))
    assert seen
    assert {key: texts for key, texts in seen.items() if len(texts) > 1} == {}
    assert seen["yoon-2019"] == {"Yoon, Petrakis & Krystal 2019"}


def test_sources_lists_are_numbered_in_order(site: Path) -> None:
    """Each page's Sources list runs [1], [2], ... in ascending site-wide numbers."""
    entry = re.compile(r'<li><span id="source-[^"]+"></span><a href="[^"]*" title="Reference (\d+)')
    for path in built_pages(site):
        numbers = [int(n) for n in entry.findall(path.read_text(encoding="utf-8"))]
        assert numbers == sorted(numbers), path


def test_every_list_of_studies_says_how_it_is_ordered(site: Path) -> None:
    """Home, Studies and Comparison list the studies in one order, and each says which."""
    from evidence.views import STUDY_ORDER

    texts = {
        page: (site / page).read_text(encoding="utf-8")
        for page in ("index.html", "studies/index.html", "comparison/index.html")
    }
    for page, text in texts.items():
        assert STUDY_ORDER in html.unescape(text), page
    study_link = r'href="(?:\.\./)?(?:studies/)?([a-z]+-\d{4})/"'
    home = re.findall(study_link, texts["index.html"].split('id="studies"', 1)[1].split('id="audience"', 1)[0])
    studies = re.findall(study_link, texts["studies/index.html"].split("<article", 1)[1])
    comparison = re.findall(r'<tr [^>]*id="compare-([a-z0-9-]+)"', texts["comparison/index.html"])
    assert comparison
    assert [s for s in dict.fromkeys(home) if s in comparison] == comparison
    assert [s for s in dict.fromkeys(studies) if s in comparison] == comparison
    assert list(dict.fromkeys(home)) == list(dict.fromkeys(studies))


def test_an_unknown_is_said_once(site: Path) -> None:
    """No page repeats an unknown as "Note: Not seen." or a second "Not reported" beside the first."""
    for path in built_pages(site):
        for text in read(path).blocks:
            assert "Note: Not seen" not in text, path
            assert text.count("Not reported") <= 1, (path, text[:120])

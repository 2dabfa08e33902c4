"""Citations: exports read back with independent parsers, page heads, "cite this page"."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import bibtexparser
import citeproc
import pytest
import rispy
import yaml
from citeproc.source.json import CiteProcJSON
from conftest import RELEASE_URL, ROOT, serving

REFERENCES = yaml.safe_load((ROOT / "data" / "references.yaml").read_text(encoding="utf-8"))
STUDIES = sorted(path.stem for path in (ROOT / "data" / "studies").glob("*.yaml"))
EXPORT_FOLDERS = ["downloads", *(f"downloads/studies/{study}" for study in STUDIES)]
# The official CSL item types, from the CSL schema that citeproc-py ships.
CSL_TYPES = set(re.findall(r'"([a-z-]+)"', (Path(citeproc.SCHEMA_PATH).parent / "csl-types.rnc").read_text()))
# citeproc-py knows CSL 1.0.1; "available-date" (the online date) is a CSL 1.0.2 variable.
CSL_VARIABLES = {name.replace("_", "-") for name in citeproc.VARIABLES} | {"id", "type", "available-date"}


def shown_title(reference: dict[str, Any]) -> str:
    """A title as exports carry it: a title this site supplied is in square brackets."""
    title = " ".join(reference["title"].split())
    return f"[{title}]" if reference.get("title_supplied") else title


def listed_authors(reference: dict[str, Any]) -> list[str]:
    """Family names as exports list them: an incomplete list ends in others / et al."""
    names = [a["family"] for a in reference["authors"]]
    incomplete = names and not reference["authors_complete"] and not reference.get("coauthors_unknown")
    return [*names, "others"] if incomplete else names


def exported(site: Path, folder: str, name: str) -> str:
    return (site / folder / f"references.{name}").read_text(encoding="utf-8")


@pytest.mark.parametrize("folder", EXPORT_FOLDERS)
def test_bibtex_export_reads_back_with_bibtexparser(site: Path, folder: str) -> None:
    """Every BibTeX entry parses with bibtexparser and carries the data's title, DOI and authors."""
    library = bibtexparser.parse_string(exported(site, folder, "bib"))
    assert not library.failed_blocks
    assert library.entries
    for entry in library.entries:
        reference = REFERENCES[entry.key]
        assert entry.fields_dict["title"].value.strip("{}") == shown_title(reference)
        if reference.get("doi"):
            assert entry.fields_dict["doi"].value == reference["doi"]
        if reference["authors"]:
            authors = entry.fields_dict["author"].value.split(" and ")
            assert [a.split(",")[0] for a in authors] == listed_authors(reference)


@pytest.mark.parametrize("folder", EXPORT_FOLDERS)
def test_ris_export_reads_back_with_rispy(site: Path, folder: str) -> None:
    """Every RIS record parses with rispy and carries the data's title, DOI, year and authors."""
    records = rispy.loads(exported(site, folder, "ris"))
    assert records
    for record in records:
        reference = REFERENCES[record["id"]]
        assert record["title"] == shown_title(reference)
        assert record.get("doi") == reference.get("doi")
        if reference.get("issued"):
            assert record["year"] == str(reference["issued"])[:4]
        expected = [name for name in listed_authors(reference) if name != "others"]
        assert [a.split(",")[0] for a in record.get("authors", [])] == expected


@pytest.mark.parametrize("folder", EXPORT_FOLDERS)
def test_csl_json_export_is_valid_csl(site: Path, folder: str) -> None:
    """CSL-JSON uses only CSL types and variables, and citeproc-py's reader takes every item."""
    items = json.loads(exported(site, folder, "json"))
    assert items
    for item in items:
        assert item["type"] in CSL_TYPES
        assert set(item) <= CSL_VARIABLES, set(item) - CSL_VARIABLES
        reference = REFERENCES[item["id"]]
        assert item["title"] == shown_title(reference)
        assert item.get("DOI") == reference.get("doi")
    source = CiteProcJSON([{k: v for k, v in item.items() if k != "available-date"} for item in items])
    assert {str(key) for key in source} == {item["id"] for item in items}


def test_site_export_holds_every_reference(site: Path) -> None:
    """The site-wide exports hold every reference in the data, once."""
    assert sorted(item["id"] for item in json.loads(exported(site, "downloads", "json"))) == sorted(REFERENCES)
    assert sorted(
        entry.key for entry in bibtexparser.parse_string(exported(site, "downloads", "bib")).entries
    ) == sorted(REFERENCES)


class HeadParser(HTMLParser):
    """Meta tags, canonical link and JSON-LD of a page's head."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.canonical = ""
        self.json_ld: list[str] = []
        self._in_json_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and values.get("name"):
            self.meta.append((values["name"] or "", values.get("content") or ""))
        if tag == "link" and values.get("rel") == "canonical":
            self.canonical = values.get("href") or ""
        self._in_json_ld = tag == "script" and values.get("type") == "application/ld+json"

    def handle_data(self, data: str) -> None:
        if self._in_json_ld:
            self.json_ld.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_json_ld = False


def head(site: Path, page: str) -> HeadParser:
    parser = HeadParser()
    parser.feed((site / page / "index.html").read_text(encoding="utf-8"))
    return parser


SITE_URL = RELEASE_URL
PAGES = ["", "studies/", "comparison/", "news/", "history/", "glossary/", "registrations/", "citations/", "about/",
         *(f"studies/{study}/" for study in STUDIES)]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
def test_every_page_head_has_description_canonical_highwire_and_json_ld(release_site: Path, page: str) -> None:
    """In a release build each page's head has a description, its canonical URL, citation_* tags and JSON-LD."""
    parsed = head(release_site, page)
    meta = dict(parsed.meta)
    assert meta["description"]
    assert parsed.canonical == SITE_URL + page
    assert meta["citation_title"]
    data = json.loads("".join(parsed.json_ld))
    assert data["@type"] == "MedicalWebPage"
    assert data["url"] == SITE_URL + page
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", data["lastReviewed"])
    assert data["about"]


def test_study_page_head_describes_the_summarised_work(site: Path) -> None:
    """A study page's citation_* tags are those of its paper, so reference managers capture the paper."""
    meta = head(site, "studies/williams-2018/").meta
    values = dict(meta)
    assert values["citation_title"] == "Attenuation of Antidepressant Effects of Ketamine by Opioid Receptor Antagonism"
    assert values["citation_doi"] == "10.1176/appi.ajp.2018.18020138"
    assert values["citation_pmid"] == "30153752"
    assert values["citation_journal_title"] == "American Journal of Psychiatry"
    assert values["citation_publication_date"] == "2018/12"
    assert [content for name, content in meta if name == "citation_author"][:2] == [
        "Williams, Nolan R.",
        "Heifets, Boris D.",
    ]
    data = json.loads("".join(head(site, "studies/williams-2018/").json_ld))
    assert data["about"]["sameAs"] == "https://doi.org/10.1176/appi.ajp.2018.18020138"
    assert {"@type": "ScholarlyArticle", "name": "Attenuation of Antidepressant Effects of Ketamine by Opioid Receptor Antagonism",
            "sameAs": "https://doi.org/10.1176/appi.ajp.2018.18020138", "datePublished": "2018-08-29",
            "isPartOf": {"@type": "PublicationIssue", "datePublished": "2018-12"}} in data["citation"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
def test_every_page_can_be_cited(release_site: Path, page: str) -> None:
    """In a release build every page ends with AMA, APA and BibTeX citations of itself, with its URL and review date."""
    html = (release_site / page / "index.html").read_text(encoding="utf-8")
    box = html[html.index('<section class="cite-page"') :]
    url = SITE_URL + page
    for part in ('id="cite-ama"', 'id="cite-apa"', 'id="cite-bibtex"', "Copy AMA citation", "Copy BibTeX"):
        assert part in box
    assert f'href="{url}"' in box
    assert re.sub(r"<[^>]+>", "", box).count(url) >= 4, "address link, AMA, APA and BibTeX, as a reader sees them"
    assert re.search(r"Evidence last reviewed \d{1,2} [A-Z][a-z]+ \d{4}", box)


def test_a_cited_address_breaks_only_after_a_slash_and_copies_whole(browser: Any, release_site: Path) -> None:
    """On a phone and at 1280 px, the box's addresses wrap only after a "/": a browser would also break
    "summary-of-findings/" after a hyphen, and "summary-" / "of-findings/" reads as two words.
    The pieces and break points add nothing to what the copy button copies."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    with serving(release_site) as url:
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{url}/summary-of-findings/")
            lines = page.locator(".cite-page .url-part").evaluate_all(
                "parts => parts.map(part => [part.textContent, part.getClientRects().length])"
            )
            assert len(lines) == 9, "the address link, the AMA and the APA citation, three pieces each"
            assert [part for part, boxes in lines if boxes != 1] == [], f"a piece of an address wraps at {width} px"
        page.get_by_role("button", name="Copy APA citation").click()
        copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(f" {SITE_URL}summary-of-findings/")
    assert copied == page.locator("#cite-apa").inner_text()
    context.close()


def test_copy_button_copies_the_citation(browser: Any, site_url: str) -> None:
    """The copy button puts the AMA citation on the clipboard and says so."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{site_url}/studies/yoon-2019/")
    page.get_by_role("button", name="Copy AMA citation").click()
    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert clipboard == page.locator("#cite-ama").inner_text()
    assert clipboard.startswith("Yoon, Petrakis & Krystal 2019: ")
    assert "example.org" not in clipboard, "a preview's citation names no placeholder address"
    assert page.locator(".cite-status").inner_text() == "Copied AMA citation."
    context.close()

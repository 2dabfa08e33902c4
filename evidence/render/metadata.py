"""What each page's head and "cite this page" box need, as front matter the theme
prints: description, citation tags, JSON-LD and the page's citation; and the MkDocs
settings that come from the data. Public addresses are MkDocs' own mapping of a
page to its URL, so the two never disagree."""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from typing import Any

import yaml
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from evidence import cite
from evidence.check import SiteData
from evidence.render.environment import date_long
from evidence.render.handout import qr_svg
from evidence.render.pages import Page


def page_url(path: str, *, directory_urls: bool = True) -> str:
    """Where MkDocs publishes the page whose source is `path`, relative to the site root."""
    return File(path, "docs", "site", use_directory_urls=directory_urls).url


def url_parts(url: str) -> list[str]:
    """An address cut after each "/" of its path, for a screen to break it only there:
    browsers also break after a hyphen, and "summary-" / "of-findings/" reads as two words."""
    host_end = url.find("/", url.find("//") + 2) + 1 or len(url)
    return [url[:host_end], *re.findall(r"[^/]+/?", url[host_end:])]


def _date_parts(text: str) -> list[int]:
    return [int(part) for part in text.split("-")]


def _slashed(text: str) -> str:
    """2018-08-29 as Highwire writes it: 2018/08/29."""
    return "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(_date_parts(text)))


def highwire_tags(page: Page, url: str | None, site: SiteData) -> list[dict[str, str]]:
    """Google Scholar (Highwire) citation_* tags: the summarised work on a study page,
    the page itself elsewhere (a preview, with no address, gives no citation_public_url)."""
    if page.work is None:
        tags = [("citation_title", page.title), ("citation_publication_date", page.reviewed.strftime("%Y/%m/%d"))]
        tags += [("citation_public_url", url)] if url else []
        tags += [("citation_publisher", site.info.title)]
        return [{"name": name, "content": content} for name, content in tags]
    work = site.references[page.work]
    tags = [("citation_title", work.title)]
    tags += [("citation_author", ", ".join(filter(None, [a.family, a.given]))) for a in work.authors]
    if work.issued:
        tags.append(("citation_publication_date", _slashed(work.issued)))
    if work.online:
        tags.append(("citation_online_date", _slashed(work.online)))
    optional = {"citation_journal_title": work.container, "citation_volume": work.volume, "citation_issue": work.issue,
                "citation_doi": work.doi, "citation_pmid": work.pmid}  # fmt: skip
    tags += [(name, value) for name, value in optional.items() if value]
    if work.pages:
        first, _, last = work.pages.partition("-")
        tags += [("citation_firstpage", first)] + ([("citation_lastpage", last)] if last else [])
    return [{"name": name, "content": content} for name, content in tags]


def json_ld(page: Page, url: str | None, site: SiteData) -> str:
    """schema.org MedicalWebPage, escaped so that it cannot close its <script>; a
    preview names no address."""

    def work(key: str) -> dict[str, Any]:
        reference = site.references[key]
        item: dict[str, Any] = {"@type": "ScholarlyArticle", "name": reference.title}
        if reference.online:
            item["datePublished"] = reference.online
        if reference.issued:
            # The print issue, as schema.org says it: a PublicationIssue with its own date.
            key_name = "isPartOf" if reference.online else "datePublished"
            item[key_name] = (
                {"@type": "PublicationIssue", "datePublished": reference.issued}
                if reference.online
                else reference.issued
            )
        if reference.doi:
            item["sameAs"] = f"https://doi.org/{reference.doi}"
        elif reference.url:
            item["url"] = reference.url
        return item

    about: Any = (
        work(page.work)
        if page.work
        else [
            {"@type": "Drug", "name": "Ketamine"},
            {"@type": "Drug", "name": "Naltrexone"},
            {"@type": "MedicalCondition", "name": "Depression"},
        ]
    )
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": page.title,
        "description": page.description,
        **({"url": url} if url else {}),
        "lastReviewed": page.reviewed.isoformat(),
        "about": about,
        "isPartOf": {"@type": "WebSite", "name": site.info.title, **({"url": site.url} if url else {})},
        "citation": [work(key) for key in page.cites],
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")


def _page_key(path: str) -> str:
    """A page's BibTeX key: page-studies-williams-2018."""
    return "page-" + re.sub(r"[^a-z0-9]+", "-", path.removesuffix(".md")).strip("-")


def front_matter(pages: dict[str, Page], site: SiteData, directory_urls: bool) -> dict[str, dict[str, Any]]:
    """Each page's front matter: description, head tags, JSON-LD and its citation,
    the citations formatted in one batch per style."""
    # Public addresses, offline too; a preview has none (its placeholder host does not exist).
    urls = {path: None if site.preview else urllib.parse.urljoin(site.url, page_url(path)) for path in pages}
    items = [
        {"id": path, "type": "webpage", "title": page.title,
         **({"container-title": site.info.title} if page.title != site.info.title else {}),
         **({"URL": urls[path]} if urls[path] else {}),
         "issued": {"date-parts": [[page.reviewed.year, page.reviewed.month, page.reviewed.day]]}}
        for path, page in pages.items()
    ]  # fmt: skip
    ama = cite.format_bibliography(items, cite.AMA, as_html=False)
    apa = cite.format_bibliography(items, cite.APA, as_html=False)
    bibtex = cite.bibtex_entries({**item, "id": _page_key(path)} for path, item in zip(pages, items, strict=True))
    matter: dict[str, dict[str, Any]] = {}
    for (path, page), ama_text, apa_text in zip(pages.items(), ama, apa, strict=True):
        if page.redirect:
            target = get_relative_url(
                page_url(page.redirect, directory_urls=directory_urls), page_url(path, directory_urls=directory_urls)
            )
            matter[path] = {
                "description": html.escape(page.description),
                "redirect": target,
                "search": {"exclude": True},
                # Search engines are told the page's address is the new one (and the sitemap leaves it out).
                **({"canonical": urls[page.redirect]} if urls[page.redirect] else {}),
            }
            continue
        matter[path] = {
            "description": html.escape(page.description),  # Material prints it raw in an attribute
            "cite": {
                "url": urls[path],
                "reviewed": date_long(page.reviewed),
                "ama": ama_text,
                "apa": apa_text,
                "bibtex": bibtex[_page_key(path)].strip(),
                # For the printed handout: the QR code, and the citation before its address (printed unbroken).
                **({"qr": qr_svg(url)} if (url := urls[path]) else {}),
                **({"ama_before_url": ama_text.removesuffix(url)} if url and ama_text.endswith(url) else {}),
                **({"apa_before_url": apa_text.removesuffix(url)} if url and apa_text.endswith(url) else {}),
                **({"url_parts": url_parts(url)} if url else {}),
            },
            # A page outside the navigation: its title as the navigation gave it, and a flag for the theme.
            **({"title": html.escape(page.unlisted_title), "unlisted": True} if page.unlisted_title else {}),
            "head": highwire_tags(page, urls[path], site),
            "jsonld": json_ld(page, urls[path], site),
            **({"hide": list(page.hide)} if page.hide else {}),
        }
    return matter


def front_matter_text(matter: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each page's front matter as YAML."""
    return {
        path: yaml.dump(head, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=1_000_000)
        for path, head in matter.items()
    }


def render_config(site: SiteData, pages: dict[str, Page]) -> str:
    """MkDocs settings that come from the data, read through `INHERIT` in mkdocs.yml:
    the site's name and address, and the navigation (study pages come and go).
    Material prints the site name and navigation titles as raw HTML, so they are
    HTML-escaped here."""
    nav = [
        {"Home": "index.md"},
        {"Studies": "studies/index.md"},  # the study pages are reached from it, not listed (see not_in_nav)
        *({html.escape(pages[path].title): path} for path in
          ("comparison.md", "summary-of-findings.md", "figures.md", "news.md", "teaching.md", "history.md",
           "registrations.md", "glossary.md", "citations.md",
           "changes.md")),
        {"About": ["about/index.md", {"How the evidence was found": "about/methods.md"},
                   {"Provenance levels": "about/provenance.md"},
                   {"Open data": "about/data.md"}, {"Data dictionary": "about/data-dictionary.md"}]},
    ]  # fmt: skip
    config: dict[str, Any] = {"site_name": html.escape(site.info.title), "nav": nav}
    if site.preview:  # no site_url: MkDocs then writes no canonical link naming the placeholder
        config["extra"] = {"preview": True}
    else:
        config["site_url"] = site.url
    # Old addresses, and the study pages: each study page carrying a list of every study made
    # its size grow with their number (6x from 10 to 1,000 studies). Each path is named, so
    # that MkDocs still warns of any other page left out by mistake.
    unlisted = sorted(path for path, page in pages.items() if page.redirect or page.unlisted_title)
    if unlisted:
        config["not_in_nav"] = "".join(f"/{path}\n" for path in unlisted)
    text: str = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return text

"""Links that last: every published address and anchor keeps resolving; renamed pages redirect."""

from __future__ import annotations

import re
import shutil
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURE_DATA, ROOT, build_site, copy_sources, redirect_target, serving

from evidence import schema

PUBLISHED = ROOT / "tests" / "published-urls.txt"
# Anchors that are promised to stay, by page: study sections, table rows, references, ...
PERMANENT_ANCHORS = {
    r"studies/[a-z0-9-]+/": "^(" + "|".join(typing.get_args(schema.StudySection)) + ")$",
    r"comparison/": r"^(compare|certainty)-",
    r"citations/": r"^ref-",
    r"news/": r"^claim-",
    r"history/": r"^event-",
    r"glossary/": None,  # every entry: the ids of its headings
}


def page_ids(page: Path) -> tuple[set[str], set[str]]:
    html = page.read_text(encoding="utf-8")
    return set(re.findall(r'\sid="([^"]+)"', html)), set(re.findall(r'<h2 id="([^"]+)"', html))


def published_addresses(site: Path) -> set[str]:
    """Every page address and permanent anchor the built site offers."""
    addresses = set()
    for page in site.rglob("index.html"):
        url = "/" + page.parent.relative_to(site).as_posix() + "/"
        url = "/" if url == "/./" else url
        if redirect_target(page):
            continue
        addresses.add(url)
        ids, headings = page_ids(page)
        for pattern, anchor in PERMANENT_ANCHORS.items():
            if re.fullmatch("/" + pattern, url):
                chosen = (
                    headings - {"sources", "cite-this-page"}
                    if anchor is None
                    else {i for i in ids if re.match(anchor, i)}
                )
                addresses |= {f"{url}#{i}" for i in chosen}
    return addresses


def resolves(site: Path, address: str) -> bool:
    """Whether an address works: the page exists (following a redirect page) and has the anchor."""
    path, _, anchor = address.partition("#")
    page = site / path.lstrip("/") / "index.html"
    for _ in range(3):
        if not page.exists():
            return False
        target = redirect_target(page)
        if target is None:
            break
        page = (page.parent / target / "index.html").resolve()
    return not anchor or anchor in page_ids(page)[0]


def test_every_published_address_still_resolves(site: Path, request: pytest.FixtureRequest) -> None:
    """No address in tests/published-urls.txt disappears; renaming a page needs a redirect."""
    promised = set(PUBLISHED.read_text(encoding="utf-8").split())
    offered = published_addresses(site)
    if request.config.getoption("--update-urls"):
        PUBLISHED.write_text("".join(f"{url}\n" for url in sorted(promised | offered)), encoding="utf-8")
        promised |= offered
    assert sorted(address for address in promised if not resolves(site, address)) == []
    assert not offered - promised, "new addresses: run pytest --update-urls and commit tests/published-urls.txt"


def renamed_fixture(folder: Path, *, with_redirect: bool, engine: str = "mkdocs", **env: str) -> Path:
    """The fixture site with its study renamed from fixture-trial to renamed-trial."""
    copy_sources(folder)
    shutil.rmtree(folder / "data")
    for source in FIXTURE_DATA.rglob("*.yaml"):
        target = folder / "data" / source.relative_to(FIXTURE_DATA)
        target = target.with_name(target.name.replace("fixture-trial", "renamed-trial"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            source.read_text(encoding="utf-8").replace("fixture-trial", "renamed-trial"), encoding="utf-8"
        )
    if with_redirect:
        redirects = {"fixture-trial": {"to": "renamed-trial", "reason": "The study was renamed."}}
        (folder / "data" / "redirects.yaml").write_text(yaml.safe_dump(redirects), encoding="utf-8")
    result = build_site(folder, engine, **env)
    assert result.returncode == 0, result.stderr
    return folder / "site"


def test_renamed_study_redirects_with_its_anchor(browser: Any, tmp_path: Path) -> None:
    """A study renamed with a redirect entry keeps its old address: the page and #section land on the new one."""
    site = renamed_fixture(tmp_path, with_redirect=True)
    assert resolves(site, "/studies/fixture-trial/#results")
    assert_old_address_lands_on_the_new_page(browser, site)


def assert_old_address_lands_on_the_new_page(browser: Any, site: Path) -> None:
    """In Chromium, the renamed study's old address and #section land on the new page's section."""
    with serving(site) as url:
        page = browser.new_page()
        page.goto(f"{url}/studies/fixture-trial/#results")
        page.wait_for_url("**/studies/renamed-trial/#results")
        assert page.locator("h2#results").is_visible()
        page.close()


def test_an_old_address_tells_search_engines_the_new_one(tmp_path: Path) -> None:
    """In a release, the page left at a renamed study's old address names the new page as its canonical
    address, and the sitemap lists the new page, not the old one (it is marked noindex)."""
    address = "https://teaching.example.net/ketamine/"
    site = renamed_fixture(tmp_path, with_redirect=True, SITE_URL=address)
    canonical = re.compile(r'<link rel="canonical" href="([^"]*)"')
    stub = (site / "studies" / "fixture-trial" / "index.html").read_text(encoding="utf-8")
    assert canonical.findall(stub) == [f"{address}studies/renamed-trial/"]
    new_page = (site / "studies" / "renamed-trial" / "index.html").read_text(encoding="utf-8")
    assert canonical.findall(new_page) == [f"{address}studies/renamed-trial/"]
    listed = re.findall(r"<loc>([^<]*)</loc>", (site / "sitemap.xml").read_text(encoding="utf-8"))
    assert f"{address}studies/renamed-trial/" in listed
    assert f"{address}studies/fixture-trial/" not in listed
    assert (site / "sitemap.xml").read_text(encoding="utf-8").startswith('<?xml version="1.0"')


def test_renaming_without_a_redirect_breaks_the_old_address(tmp_path: Path) -> None:
    """Without a redirect entry the old address no longer resolves, which the address test catches."""
    site = renamed_fixture(tmp_path, with_redirect=False)
    assert not resolves(site, "/studies/fixture-trial/#results")
    assert resolves(site, "/studies/renamed-trial/#results")

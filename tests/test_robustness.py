"""Bad input, injection and determinism: the build never lies and never half-writes."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURE_DATA, build_site, copy_sources, load_site, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence import load, render, schema

# --- Integrity of the built site ------------------------------------------------

# Errors the Nu checker reports in Material's own markup that we leave in place,
# each with the reason. Anything else fails the test.
THEME_ERRORS = {
    'Attribute "autocomplete" is only allowed when the input type is': (
        "Material's base.html puts autocomplete=off on its drawer and search toggle "
        "checkboxes so that browsers do not restore them open on back navigation. The "
        "attribute is invalid on a checkbox but harmless, and it sits outside any "
        "template block, so removing it would mean forking the whole of base.html."
    ),
}


def test_pages_pass_the_nu_html_checker(nu_checker_output: str) -> None:
    """The Nu HTML checker finds no error in our templates and content; theme errors are listed above."""
    errors = [line for line in nu_checker_output.splitlines() if line.startswith("Error:")]
    unexplained = [error for error in errors if not any(known in error for known in THEME_ERRORS)]
    assert unexplained == []
    assert "Document checking completed" in nu_checker_output


IDENTIFIER_LINKS = {
    r"href=\"https://doi\.org/([^\"]+)\"": schema.DOI_PATTERN,
    r"href=\"https://pubmed\.ncbi\.nlm\.nih\.gov/([^/\"]+)/": schema.PMID_PATTERN,
    r"href=\"https://www\.ncbi\.nlm\.nih\.gov/pmc/articles/([^/\"]+)/": schema.PMCID_PATTERN,
    r"href=\"https://clinicaltrials\.gov/study/([^\"#]+)": schema.NCT_PATTERN,
}


def test_every_identifier_link_is_well_formed(site: Path) -> None:
    """Every DOI, PubMed, PMC and ClinicalTrials.gov link in the site carries a well-formed identifier."""
    seen = 0
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        for link, pattern in IDENTIFIER_LINKS.items():
            for identifier in re.findall(link, html):
                seen += 1
                assert re.match(pattern, identifier), f"{path.relative_to(site)}: {identifier}"
    assert seen > 20


def test_two_builds_are_byte_identical(site: Path, tmp_path: Path) -> None:
    """The same data builds to the same bytes, in another folder: docs/, site/, sitemap and search index included."""
    first = site.parent
    second = copy_sources(tmp_path)
    result = build_site(second)
    assert result.returncode == 0, result.stderr
    (docs_a, site_a), (docs_b, site_b) = [(snapshot(f / "docs"), snapshot(f / "site")) for f in (first, second)]
    assert docs_a == docs_b
    assert site_a.keys() == site_b.keys()
    assert {"sitemap.xml", "sitemap.xml.gz", "search/search_index.json"} <= site_a.keys()
    assert [name for name in site_a if site_a[name] != site_b[name]] == []


# --- Bounded resources ----------------------------------------------------------


def test_alias_bomb_is_bounded_in_memory(tmp_path: Path) -> None:
    """A billion-laughs file is refused without expanding it: little memory, one clear error."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 30)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    tracemalloc.start()
    with pytest.raises(load.DataError) as caught:
        load.read_document(bomb, tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000
    assert caught.value.problems[0].message.startswith("YAML aliases (*name) are not allowed")


# --- Property-based: no input ends in a traceback ---------------------------------

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20) | st.dates(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIXTURE_STUDY = yaml.safe_load((FIXTURE_DATA / "studies" / "fixture-trial.yaml").read_text(encoding="utf-8"))


def paths_in(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a nested structure of dicts and lists."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_in(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths_in(item, (*prefix, index))
    return found


STUDY_PATHS = paths_in(FIXTURE_STUDY)[1:]


def load_or_report(files: dict[str, bytes], *, render_too: bool = False) -> None:
    """Load (and, if asked, render) the fixture data with some files replaced: only a site
    or a DataError of problems located to a data file and line may come out."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        shutil.copytree(FIXTURE_DATA, data)
        for name, content in files.items():
            (data / name).write_bytes(content)
        problems: list[Any] = []
        try:
            site = load_site(data, dt.date(2026, 1, 1))
            if render_too:
                render.render_site(site)
        except load.DataError as error:
            problems = error.problems or ["a DataError without problems"]
        assert all(re.match(r"^data/.+:\d+: ", str(problem).replace(folder + "/", "")) for problem in problems)


# Example counts: each example loads the fixture (some 30 ms); these counts keep the three
# properties to about 10 s of the suite, and a new random sample is drawn every run.
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_load_or_report(content: bytes) -> None:
    """Arbitrary bytes as a study file give a located error, never a traceback."""
    load_or_report({"studies/fixture-trial.yaml": content})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_values)
def test_any_yaml_document_loads_or_reports(value: Any) -> None:
    """Any YAML document as a study, reference or glossary file gives a located error, never a traceback."""
    text = yaml.safe_dump(value, allow_unicode=True).encode()
    for name in ("studies/fixture-trial.yaml", "references.yaml", "glossary.yaml"):
        load_or_report({name: text})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STUDY_PATHS), yaml_values)
def test_any_field_replaced_by_anything_loads_or_reports(path: tuple[Any, ...], value: Any) -> None:
    """Replacing any one field of a valid study with any value gives a located error or a valid site."""
    study = yaml.safe_load(yaml.safe_dump(FIXTURE_STUDY))
    target = study
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    load_or_report({"studies/fixture-trial.yaml": yaml.safe_dump(study, allow_unicode=True).encode()})


# --- Injection --------------------------------------------------------------------

PAYLOAD = (
    '<script>window.__pwned = 1</script> <img src="x" onerror="window.__pwned = 2"> '
    "[click me](javascript:window.__pwned=3) ![picture](x.png) {{ 7 * 7 }} {% if true %}jinja{% endif %} "
    "*stars* _under_ `tick` | pipe {: onclick=alert(1) } <b>bold</b>"
)
FREE_TEXT_KEYS = {
    "label", "headline", "title", "container", "issued_note", "note", "seen_in", "quote", "verdict_detail",
    "when", "term", "definition", "question", "audience", "text", "given_in", "family", "given", "disagreement",
}  # fmt: skip
VOCABULARY_VALUES = {value for name in schema.VOCABULARIES for value in schema.vocabulary_values(name)}


# Fits the 40 characters of a protocol step's label.
SHORT_PAYLOAD = '<img src="x" onerror="window.__pwned=2">'


def poison(value: Any, key: str | None = None) -> Any:
    """Add the hostile payload to every free-text string in a data structure."""
    if isinstance(value, dict):
        if key == "protocol" or (isinstance(value.get("label"), str) and "kind" in value):
            return {k: SHORT_PAYLOAD if k == "label" else poison(v, k) for k, v in value.items()}
        return {k: poison(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(item, key) for item in value]
    if isinstance(value, str) and (
        key in FREE_TEXT_KEYS
        or (key == "value" and value not in VOCABULARY_VALUES and not re.match(schema.NCT_PATTERN, value))
    ):
        return f"{value} {PAYLOAD}"
    return value


# Identifiers and addresses cannot carry the payload (their patterns refuse it: see
# tests/broken/), so the hostile fixture gives them every punctuation mark the
# patterns allow, which Markdown could otherwise read as emphasis or links.
EDGE_IDENTIFIERS = {
    "references.yaml": {
        "fixture-paper": {"doi": "10.9999/_em_(x);y:z/__b__", "pmid": "99999999"},
        "fixture-news": {"url": "https://news.example.org/_a_/~b/?x=1&y=__z__;c=!$+,@#frag"},
    },
    "site.yaml": {"": {"url": "https://fixture.example.org/_a_/~b/"}},
}


def hostile_project(folder: Path) -> Path:
    """The site's sources with the fixture data poisoned: the payload in every free-text
    field, and edge-valid identifiers and addresses."""
    copy_sources(folder)
    shutil.rmtree(folder / "data")
    for source in FIXTURE_DATA.rglob("*.yaml"):
        target = folder / "data" / source.relative_to(FIXTURE_DATA)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = poison(yaml.safe_load(source.read_text(encoding="utf-8")))
        if source.name in EDGE_IDENTIFIERS:
            for key, fields in EDGE_IDENTIFIERS[source.name].items():
                (data[key] if key else data).update(fields)
        target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile fixture built through MkDocs."""
    folder = hostile_project(tmp_path_factory.mktemp("hostile"))
    result = build_site(folder)
    assert result.returncode == 0, result.stderr
    return folder / "site"


HOSTILE_PAGES = ["index.html", "studies/fixture-trial/index.html", "news/index.html", "history/index.html",
                 "glossary/index.html", "registrations/index.html", "studies/index.html", "citations/index.html",
                 "comparison/index.html"]  # fmt: skip


@pytest.mark.parametrize("page", HOSTILE_PAGES)
def test_hostile_text_is_shown_not_interpreted(hostile_site: Path, page: str) -> None:
    """Scripts, handlers, javascript: links, Markdown and Jinja in data appear as text in the HTML."""
    html = (hostile_site / page).read_text(encoding="utf-8")
    assert "window.__pwned = 1</script>" not in html
    assert '<img src="x"' not in html
    assert 'href="javascript:' not in html
    assert "<b>bold</b>" not in html
    assert "49" not in re.sub(r"<[^>]+>", "", html).replace("2049", "")  # {{ 7 * 7 }} was never evaluated
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html or "&#60;script&#62;" in html


@pytest.fixture(scope="module")
def hostile_context(browser: Any) -> Iterator[Any]:
    """One browser context for the hostile site's pages (a context costs some 0.2 CPU-s); each test opens its own tab."""
    context = browser.new_context()
    yield context
    context.close()


@pytest.mark.parametrize("page", HOSTILE_PAGES)
def test_hostile_text_runs_nothing_in_a_browser(hostile_context: Any, hostile_site: Path, page: str) -> None:
    """In Chromium, no injected script runs and no injected element exists; the text reads literally."""
    tab = hostile_context.new_page()
    dialogs: list[str] = []
    elsewhere: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("request", lambda request: None if request.url.startswith("file://") else elsewhere.append(request.url))
    tab.goto((hostile_site / page).as_uri())
    tab.wait_for_load_state("load")
    assert tab.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    assert elsewhere == []
    assert tab.locator('article img[src="x"], article a[href^="javascript:"], article b').count() == 0
    text = tab.locator("article").inner_text()
    assert "<script>window.__pwned = 1</script>" in text
    assert "{{ 7 * 7 }}" in text
    tab.close()


def test_edge_identifiers_read_and_link_exactly_in_a_browser(hostile_context: Any, hostile_site: Path) -> None:
    """A DOI and an address with every punctuation mark their patterns allow are shown as typed
    and linked exactly; none of their underscores became emphasis."""
    tab = hostile_context.new_page()
    tab.goto((hostile_site / "citations" / "index.html").as_uri())
    doi = EDGE_IDENTIFIERS["references.yaml"]["fixture-paper"]["doi"]
    url = EDGE_IDENTIFIERS["references.yaml"]["fixture-news"]["url"]
    assert tab.locator(f'a[href="https://doi.org/{doi}"]').first.inner_text() == f"doi:{doi}"
    assert tab.locator(f'a[href="{url}"]').first.inner_text() == url
    assert tab.locator("article a em, article a strong").count() == 0
    tab.close()


def test_no_page_has_two_elements_with_one_id(site: Path) -> None:
    """Every id on a built page is unique, so no data id can take over a theme's anchor or button."""
    doubled = {}
    for path in site.rglob("*.html"):
        ids = re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8"))
        repeats = sorted({item for item in ids if ids.count(item) > 1})
        if repeats:
            doubled[path.relative_to(site).as_posix()] = repeats
    assert doubled == {}

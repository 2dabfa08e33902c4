"""The built site, end to end: MkDocs strict build of the real data in a temp dir."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import subprocess
import sys
import time
import typing
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, build_site, copy_sources, fixture_sources, load_site

from bench import free_port
from evidence import render, schema
from evidence.render import environment, pages


class PageParser(HTMLParser):
    """Collects what a reader and a browser would see: text, ids, links and loaded resources."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.article: list[str] = []
        self.skip_depth = 0
        self.article_depth = 0
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.skip_depth += tag in {"script", "style"}
        self.article_depth += tag == "article"
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag in {"script", "img", "iframe", "source"} and values.get("src"):
            self.loads.append(values["src"] or "")
        if tag == "link" and values.get("href") and values.get("rel") != "canonical":
            self.loads.append(values["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        self.skip_depth -= tag in {"script", "style"}
        self.article_depth -= tag == "article"

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        self.text.append(data)
        if self.article_depth:
            self.article.append(data)


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


STUDY_IDS = ("williams-2018", "williams-2019", "yoon-2019", "yoon-2025", "jelen-2025", "berman-2000")


def page_text(site: Path, page: str) -> str:
    """The text of a built page's article (no navigation), with white space folded."""
    return " ".join(" ".join(parse(site / page / "index.html").article).split())


def test_site_shows_both_study_titles(site: Path) -> None:
    """Smoke check: the built site contains both studies' pages, with their titles."""
    williams = " ".join(parse(site / "studies" / "williams-2018" / "index.html").text)
    yoon = " ".join(parse(site / "studies" / "yoon-2019" / "index.html").text)
    assert "Attenuation of Antidepressant Effects of Ketamine by Opioid Receptor Antagonism" in williams
    assert "Association of Combined Naltrexone and Ketamine With Depressive Symptoms" in yoon
    home = " ".join(parse(site / "index.html").text)
    assert "Williams et al. 2018" in home
    assert "Yoon, Petrakis & Krystal 2019" in home


def test_study_page_shows_sourced_facts_and_unknowns(site: Path) -> None:
    """A reader sees numbers with their provenance, and unknowns as not reported."""
    text = " ".join(" ".join(parse(site / "studies" / "williams-2018" / "index.html").text).split())
    assert re.search(
        r"Planned 30 ● Primary record · Williams et al\. 2018 \[\d+\] Seen in the abstract on the publisher's page",
        text,
    )
    assert "Enrolled 16 Note: Actual enrolment as registered" in text
    assert "Infusion length The infusion length was not seen for this trial." in text
    assert "Not reported in the sources checked Note:" not in text, "an unknown is said once"
    assert "0.5 mg/kg" in text
    assert "doi:10.1176/appi.ajp.2018.18020138" in text


@pytest.mark.parametrize("anchor", typing.get_args(schema.StudySection))
def test_study_sections_have_permanent_anchors(site: Path, anchor: str) -> None:
    """Every study page has the fixed section anchors the schema's StudySection names."""
    for study in STUDY_IDS:
        assert anchor in parse(site / "studies" / study / "index.html").ids


def broken_links(site: Path) -> list[str]:
    """Every internal link or anchor in a built site that points at nothing."""
    pages = {path: parse(path) for path in site.rglob("*.html")}
    broken = []
    for path, page in pages.items():
        for href in page.links:
            if re.match(r"^[a-z]+:", href) or href.startswith("//"):
                continue
            target, _, anchor = href.partition("#")
            base = site if target.startswith("/") else path.parent
            file = (base / target.lstrip("/")).resolve() if target else path
            if file.is_dir() or target.endswith("/"):
                file = file / "index.html"
            if not file.exists() or (anchor and anchor not in pages[file].ids):
                broken.append(f"{path.relative_to(site)} -> {href}")
    return broken


def test_every_internal_link_resolves(site: Path) -> None:
    """Every internal link and anchor in the built HTML points at something that exists."""
    assert broken_links(site) == []


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_host_can_read_every_published_file(site: Path) -> None:
    """site/ and docs/ have the permissions a plain copy would have under the user's umask: a host's web
    server, another user, must read every file and enter every folder of `rsync -a site/ host:`
    (a staging folder made private by mkdtemp, swapped in as site/, made the whole site 403 Forbidden)."""
    umask = current_umask()
    for root in (site, site.parent / "docs"):
        wrong = [
            f"{path.relative_to(root.parent)}: {stat.filemode(path.stat().st_mode)}"
            for path in (root, *root.rglob("*"))
            if stat.S_IMODE(path.stat().st_mode) != (0o777 if path.is_dir() else 0o666) & ~umask
        ]
        assert wrong == [], wrong[:5]


def test_nothing_is_loaded_from_another_host(site: Path) -> None:
    """No page loads a script, stylesheet, font or image from another host."""
    external = [
        f"{path.relative_to(site)}: {url}"
        for path in site.rglob("*.html")
        for url in parse(path).loads
        if re.match(r"^(https?:)?//", url)
    ]
    assert external == []
    for css in site.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css.read_text(encoding="utf-8")), css


def test_broken_anchor_fails_the_strict_build(tmp_path: Path) -> None:
    """The validation block makes mkdocs --strict fail on a link to a missing anchor."""
    folder = fixture_sources(tmp_path)  # the small fixture data: the check is MkDocs', not the data's
    (folder / "docs" / "notes.md").write_text(
        "# Notes\n\n[Broken](studies/fixture-trial.md#no-such-section)\n", encoding="utf-8"
    )
    result = build_site(folder)
    assert result.returncode != 0
    assert "no-such-section" in result.stderr


def test_every_schema_field_is_documented() -> None:
    """Every field of every record type has a description, shown on the data-dictionary page."""
    site = load_site(ROOT / "data", dt.date.today())
    page = pages.render_data_dictionary(environment.make_environment(site), site)["about/data-dictionary.md"].text
    for model in schema.RECORD_TYPES:
        assert model.__doc__, model
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            shown = "_<wbr>".join(environment.escape_text(part) for part in name.split("_"))
            assert f'<code class="field-name">{shown}</code>' in page


def test_every_vocabulary_value_has_a_label() -> None:
    """Each vocabulary's labels list exactly its allowed values, in order."""
    for name, (vocabulary, labels) in schema.VOCABULARIES.items():
        assert tuple(labels) == typing.get_args(vocabulary), name


def test_every_generated_page_is_ignored_by_git() -> None:
    """Generated pages are never committed: each one is covered by .gitignore."""
    pages = render.render_site(load_site(ROOT / "data", dt.date.today()))
    paths = [f"docs/{page}" for page in pages]
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert sorted(result.stdout.split()) == sorted(paths)


def test_readme_gives_the_two_commands_and_ci_runs_make_test() -> None:
    """The README's commands are `make serve` and `make test`; CI runs `make test`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make serve" in readme
    assert "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("serve:", "build:", "test:"):
        assert target in makefile


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode("utf-8"))
    except OSError:
        return ""


def wait_for(condition: typing.Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_serve_rerenders_when_data_changes(tmp_path: Path) -> None:
    """`build.py --serve` (what `make serve` runs) re-renders and republishes a page when its data changes."""
    folder = copy_sources(tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        sys.executable,
        str(ROOT / "build.py"),
        "--serve",
        "--data",
        "data",
        "--docs",
        "docs",
        "--config",
        "mkdocs.yml",
        "--dev-addr",
        url.removeprefix("http://"),
    ]
    server = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = f"{url}/studies/yoon-2019/"
        assert wait_for(lambda: "Case series of ketamine" in fetch(page)), "server did not start"
        study = folder / "data" / "studies" / "yoon-2019.yaml"
        study.write_text(study.read_text().replace("headline: Case series", "headline: Edited case series"))
        assert wait_for(lambda: "Edited case series" in fetch(page)), "page was not re-rendered"
        assert "livereload" in fetch(page), "pages served for preview reload themselves"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_dirty_preview_build_is_what_a_whole_build_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a data edit, live preview rebuilds only the changed pages (a dirty MkDocs build) and
    merges the search index: every file it then serves is byte for byte what a whole build makes."""
    import build
    from evidence.preview import LivePreview
    from evidence.write import write_pages

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # the gzip-compressed sitemap carries its build time
    folder = copy_sources(tmp_path)
    data, docs, config = folder / "data", folder / "docs", folder / "mkdocs.yml"
    assert build.main(["--data", str(data), "--docs", str(docs), "--config", str(config)]) == 0
    built: list[list[str]] = []

    def update() -> list[str]:
        built.append(write_pages(build.with_pngs(build.render_only(data, {})), docs))
        return built[-1]

    def served(preview: LivePreview) -> dict[str, bytes]:
        return {path.relative_to(preview.site_dir).as_posix(): path.read_bytes()
                for path in sorted(preview.site_dir.rglob("*")) if path.is_file()}  # fmt: skip

    dirty = LivePreview(config, docs, data, build.TEMPLATES, update)
    dirty.url = "http://127.0.0.1:8000/"
    dirty.build(None)
    study = data / "studies" / "yoon-2019.yaml"
    study.write_text(study.read_text().replace("headline: Case series", "headline: Edited case series"))
    dirty.touched = {study}
    dirty.rebuild()
    assert "studies/yoon-2019.md" in built[-1]
    assert "generated.yml" not in built[-1]
    whole = LivePreview(config, docs, data, build.TEMPLATES, update)
    whole.url = dirty.url
    whole.build(None)
    assert "Edited case series" in (dirty.site_dir / "studies" / "yoon-2019" / "index.html").read_text()
    assert served(dirty) == served(whole)


@pytest.mark.parametrize(
    ("study", "title"),
    [
        ("williams-2018", "Attenuation of Antidepressant Effects of Ketamine by Opioid Receptor Antagonism"),
        (
            "williams-2019",
            "Attenuation of antidepressant and antisuicidal effects of ketamine by opioid receptor antagonism",
        ),
        ("yoon-2019", "Association of Combined Naltrexone and Ketamine With Depressive Symptoms"),
        (
            "yoon-2025",
            "Antidepressant efficacy of ketamine plus naltrexone for major depression comorbid with alcohol use disorder",
        ),
        ("jelen-2025", "Effect of naltrexone pretreatment on ketamine-induced glutamatergic activity"),
        ("berman-2000", "Antidepressant effects of ketamine in depressed patients"),
    ],
)
def test_every_primary_study_has_a_page(site: Path, study: str, title: str) -> None:
    """Each primary study of the fact sheet has its own page, citing its paper."""
    assert title in page_text(site, f"studies/{study}")


def test_study_pages_are_reached_from_the_list_and_lead_back_to_it(site: Path) -> None:
    """The navigation lists the Studies page, not each study (a study page's size would grow with
    their number): a study page shows itself there as the current page, with its table of contents,
    keeps its short title, and opens with a link back to the list."""
    html = (site / "studies" / "williams-2018" / "index.html").read_text(encoding="utf-8")
    navigation = html.split('class="md-nav md-nav--primary"', 1)[1].split('<nav class="md-nav md-nav--secondary"', 1)[0]
    assert 'href="../"' in navigation
    assert "Williams et al. 2018" in navigation
    assert not [study for study in STUDY_IDS if f'href="../{study}/"' in navigation]
    assert 'id="__toc"' in navigation
    assert "<title>Williams et al. 2018 - " in html
    assert '<p class="back-to-studies"><a href="../"><span aria-hidden="true">←</span> All studies</a></p>' in html
    listing = (site / "studies" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{study}/"' in listing for study in STUDY_IDS)


def test_secondary_analysis_is_linked_to_its_trial(site: Path) -> None:
    """Williams 2019 says it re-analyses Williams 2018, and the 2018 page lists it."""
    child = parse(site / "studies" / "williams-2019" / "index.html")
    assert "This is a secondary analysis of the trial reported in Williams et al. 2018" in page_text(
        site, "studies/williams-2019"
    )
    assert "../williams-2018/" in child.links
    assert "Secondary analyses of this trial: Williams et al. 2019" in page_text(site, "studies/williams-2018")


def test_midazolam_caution_comes_first_on_yoon_2025(site: Path) -> None:
    """The caution about the midazolam arm is shown before the results."""
    text = page_text(site, "studies/yoon-2025")
    caution = text.index("The midazolam control arm also reached more than 80% remission")
    assert caution < text.index("Results")


def test_unconfirmed_journal_is_marked_secondary(site: Path) -> None:
    """Jelen 2025's journal is known only from secondary reports, and the page says so."""
    text = page_text(site, "studies/jelen-2025")
    assert "Nat Med" in text
    assert "The journal is known only from secondary reports" in text
    assert "Bibliographic details: ○ Secondary reports only" in text


def test_commentary_is_linked_from_the_studies_it_discusses(site: Path) -> None:
    """Each letter and editorial appears, with its argument, on the page of the study it discusses."""
    williams = page_text(site, "studies/williams-2018")
    assert "Editorial: Editorial, American Journal of Psychiatry 2018" in williams
    assert "cannot distinguish between a direct or indirect mechanism" in williams
    assert "(replying to Sanacora n.d.)" in williams
    yoon = page_text(site, "studies/yoon-2019")
    assert "several aspects of this study … significantly limit what conclusions can be drawn" in yoon
    assert "(replying to Heifets et al. 2019)" in yoon


def test_news_page_quotes_every_claim_with_a_verdict(site: Path) -> None:
    """Every checked claim is quoted beside the record, with its verdict and a link to the study section."""
    page = parse(site / "news" / "index.html")
    text = page_text(site, "news")
    claims = __import__("yaml").safe_load((ROOT / "data" / "claims.yaml").read_text(encoding="utf-8"))
    for key, claim in claims.items():
        assert f"claim-{key}" in page.ids
        assert " ".join(claim["quote"].split()) in text
    assert "✗ Wrong Wrong unit" in text
    assert "../studies/williams-2018/#interventions" in page.links
    assert "The Fix" in text
    assert "addictionpolicy.org" in text
    assert "Updated 16 October 2022" in text


def test_history_is_a_visual_timeline_showing_the_ketalar_disagreement(site: Path) -> None:
    """The history page draws a timeline in date order and shows that sources disagree on 1969 or 1970."""
    html = (site / "history" / "index.html").read_text(encoding="utf-8")
    assert 'class="timeline"' in html
    text = page_text(site, "history")
    assert "1969 or 1970" in text
    assert "Sources disagree:" in text
    order = [
        "1962 Ketamine first synthesized",
        "1964 First tested in people",
        "1969 or 1970 Ketamine approved",
        "February 2000 First placebo-controlled",
        "August 2018 (online); December 2018 (print) Stanford trial",
        "January 2019 (online) Yale/VA case series",
        "5 March 2019 Esketamine nasal spray",
        "2019 (online) Same trial, suicidality scales",
    ]
    positions = [text.index(when) for when in order]
    assert positions == sorted(positions)


def test_glossary_lists_every_term(site: Path) -> None:
    """The glossary page has an entry, with an anchor, for every term in data/glossary.yaml."""
    glossary = __import__("yaml").safe_load((ROOT / "data" / "glossary.yaml").read_text(encoding="utf-8"))
    page = parse(site / "glossary" / "index.html")
    for key in glossary:
        assert key in page.ids
    assert len(glossary) >= 20


def test_home_page_says_what_a_reader_needs(site: Path) -> None:
    """Question, bottom line, one card per study, review date, audience, disclaimer, linking and citing."""
    text = page_text(site, "")
    for expected in (
        "The question: Does blocking opioid receptors with naltrexone weaken ketamine's antidepressant effect",
        "The bottom line",
        "point the same way",
        "Evidence last reviewed",
        "Who this site is for",
        "Educational material, not medical advice",
        "Linking and citing",
    ):
        assert expected in text
    for study in STUDY_IDS:
        assert f"studies/{study}/" in parse(site / "index.html").links


RECALLED_UNCONFIRMED = [
    "1205",
    "1157",
    "249–250",
    "337–338",
    # Marton et al. 2019 is now known from a manufacturer's summary (S); its citation is not.
    "e75–e76",
    "e75-e76",
    "Barnes DE",
    "Does Not Inhibit",
    "Woolley",
    "Klein ME",
    "necessary but not sufficient for antidepressive",
    "Rivas-Grajales AM",
    "Mathew SJ",
    "1.4 µM",
    "ajp.2019.19010044",
]


@pytest.mark.parametrize("recalled", RECALLED_UNCONFIRMED)
def test_recalled_unconfirmed_facts_stay_off_the_site(site: Path, recalled: str) -> None:
    """Nothing from the fact sheet's 'recalled, unconfirmed' list appears in the data or on any page."""
    for path in (ROOT / "data").rglob("*.yaml"):
        assert recalled not in path.read_text(encoding="utf-8"), path
    for path in site.rglob("*.html"):
        assert recalled not in path.read_text(encoding="utf-8"), path


def test_linking_instructions_name_every_study_anchor(site: Path) -> None:
    """README and the About page list every permanent study-section anchor the schema defines."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    about = page_text(site, "about")
    for section in typing.get_args(schema.StudySection):
        assert f"`#{section}`" in readme, section
        assert f"#{section} (" in about, section


NALTREXONE_STUDIES = ("williams-2018", "williams-2019", "jelen-2025", "yoon-2019", "yoon-2025")


def test_comparison_has_a_linkable_row_per_naltrexone_study(site: Path) -> None:
    """One row per study that tested ketamine with naltrexone, each with a permanent anchor; no history rows."""
    page = parse(site / "comparison" / "index.html")
    assert {f"compare-{study}" for study in NALTREXONE_STUDIES} <= page.ids
    assert "compare-berman-2000" not in page.ids


def test_comparison_cells_link_to_their_study_sections(site: Path) -> None:
    """Every row's cells link to the sections of its study page they come from."""
    html = (site / "comparison" / "index.html").read_text(encoding="utf-8")
    for study in NALTREXONE_STUDIES:
        row = html[html.index(f'id="compare-{study}"') :]
        row = row[: row.index("</tr>")]
        for section in ("design", "participants", "interventions", "outcomes", "results", "naltrexone-effect"):
            assert f'href="../studies/{study}/#{section}"' in row, (study, section)


def test_comparison_shows_unknowns_certainty_and_reasons(site: Path) -> None:
    """Unknown cells say so; certainty is symbol plus words with every downgrade; each reason cites studies."""
    text = page_text(site, "comparison")
    assert "Infusion length: Not reported" in text
    assert "⊕⊕◯◯ Low certainty" in text
    assert "⊕◯◯◯ Very low certainty" in text
    assert "Imprecision Serious (−1) Two small crossover trials (12 who completed both conditions at Stanford" in text
    assert "may weaken ketamine's antidepressant effect" in text
    assert "We are very uncertain whether injectable naltrexone" in text
    for title in (
        "Population.",
        "Form and timing of naltrexone.",
        "Single versus repeated infusions.",
        "Design and control.",
        "Sample sizes.",
    ):
        assert title in text


def test_protocols_are_inline_svg_with_a_text_alternative(site: Path) -> None:
    """Each study page's protocol is an inline SVG with a title, and its steps are listed in words."""
    for study in NALTREXONE_STUDIES:
        html = (site / "studies" / study / "index.html").read_text(encoding="utf-8")
        block = html[html.index(f'id="protocol-{study}"') :]
        block = block[: block.index("</ol>")]
        assert '<svg class="protocol-picture"' in block
        assert f'aria-labelledby="protocol-{study}-title"' in block
        assert '<ol class="protocol-steps">' in block
    assert "45 minutes before the ketamine infusion" in page_text(site, "studies/williams-2018")


def protocol_entries(site: Path) -> dict[str, str]:
    """Study id -> the HTML of its entry in the comparison's Protocols section."""
    html = (site / "comparison" / "index.html").read_text(encoding="utf-8")
    section = html[html.index('id="protocols"') : html.index('id="sources"')]
    return dict(re.findall(r'<li><strong id="protocol-of-([a-z0-9-]+)">(.*?)</li>', section, re.S))


def test_the_comparison_gives_each_protocol_in_brief_and_links_its_timeline(site: Path) -> None:
    """The comparison draws no timeline: each study's entry (still at #protocol-of-<study>) gives its steps
    as the timeline labels them, links the timeline on the study page (the link is #protocol-<study>,
    the id the timeline had here) and offers its SVG and PNG; the study page has that timeline."""
    entries = protocol_entries(site)
    assert set(entries) == set(NALTREXONE_STUDIES)
    html = (site / "comparison" / "index.html").read_text(encoding="utf-8")
    assert 'id="protocols"' in html
    assert "<svg" not in html[html.index('id="protocols"') : html.index('id="sources"')]
    for study, entry in entries.items():
        record = yaml.safe_load((ROOT / "data" / "studies" / f"{study}.yaml").read_text(encoding="utf-8"))
        for step in record["protocol"]:
            assert f"{step['when']}: {step['label']}" in " ".join(entry.split())
        assert f'<a href="../studies/{study}/#protocol-{study}" id="protocol-{study}">' in entry
        for kind in ("svg", "png"):
            assert f'href="../downloads/figures/protocol-{study}.{kind}"' in entry
        assert f"protocol-{study}" in parse(site / "studies" / study / "index.html").ids


def citations_page_numbers(site: Path) -> dict[str, str]:
    """Reference id -> its number, as the citations page lists them."""
    html = (site / "citations" / "index.html").read_text(encoding="utf-8")
    items = re.findall(r'<li value="(\d+)"><span id="ref-([a-z0-9-]+)"></span>', html)
    assert [int(number) for number, _ in items] == list(range(1, len(items) + 1))
    return {key: number for number, key in items}


def test_citations_page_lists_every_reference_with_an_anchor(site: Path) -> None:
    """Every reference in the data has a numbered entry with its own anchor, formatted in AMA style."""
    references = __import__("yaml").safe_load((ROOT / "data" / "references.yaml").read_text(encoding="utf-8"))
    numbers = citations_page_numbers(site)
    assert set(numbers) == set(references)
    text = re.sub(r" ([.,;:])", r"\1", page_text(site, "citations"))  # the helper puts spaces around <i>
    assert (
        "Williams NR, Heifets BD, Blasey C, et al. Attenuation of Antidepressant Effects of Ketamine by Opioid Receptor Antagonism. Am J Psychiatry. Published online August 29, 2018. Print issue December 2018. doi:10.1176/appi.ajp.2018.18020138"
        in text
    )
    assert "Jelen L et al. Effect of naltrexone pretreatment" in text, "an incomplete author list ends in et al"
    assert (
        "Berman RM, Cappiello A, Anand A, et al. Antidepressant effects of ketamine in depressed patients. Biol Psychiatry. 2000;47(4):351-354."
        in text
    )


def test_in_text_citations_use_the_same_numbers_everywhere(site: Path) -> None:
    """Each [N] on any page links to the citations page entry that carries number N."""
    numbers = citations_page_numbers(site)
    checked = 0
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        for key, label in re.findall(r'href="[./]*citations/#ref-([a-z0-9-]+)"[^>]*>\[(\d+)\]</a>', html):
            assert numbers[key] == label, f"{path.relative_to(site)}: [{label}] for {key}"
            checked += 1
    assert checked > 100


def test_exports_exist_for_the_site_and_each_study(site: Path) -> None:
    """BibTeX, RIS and CSL-JSON downloads exist for the whole site and for each study, and are linked."""
    for folder in ["downloads", *(f"downloads/studies/{study}" for study in STUDY_IDS)]:
        for name in ("references.bib", "references.ris", "references.json"):
            assert (site / folder / name).stat().st_size > 100
    assert (
        "../../downloads/studies/yoon-2019/references.bib" in parse(site / "studies" / "yoon-2019" / "index.html").links
    )
    assert "../downloads/references.ris" in parse(site / "citations" / "index.html").links

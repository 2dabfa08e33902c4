"""The built site, end to end: MkDocs strict build of the real data in a temp dir."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import subprocess
import sys
import time
import typing
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT

import build
from evidence import render, schema, validate


def copy_sources(target: Path) -> Path:
    """The repository's sources (config, hand-written docs, data) in a fresh folder."""
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(
        ROOT / "docs",
        target / "docs",
        ignore=lambda folder, names: [
            n for n in names if (Path(folder) / n).is_file() and build.is_generated(Path(folder) / n)
        ],
    )
    return target


def build_site(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "build.py"),
            "--site",
            "--data",
            str(folder / "data"),
            "--docs",
            str(folder / "docs"),
            "--config",
            str(folder / "mkdocs.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built once with `mkdocs build --strict`."""
    folder = copy_sources(tmp_path_factory.mktemp("real"))
    result = build_site(folder)
    assert result.returncode == 0, result.stderr
    return folder / "site"


class PageParser(HTMLParser):
    """Collects what a reader and a browser would see: text, ids, links and loaded resources."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag in {"script", "img", "iframe", "source"} and values.get("src"):
            self.loads.append(values["src"] or "")
        if tag == "link" and values.get("href") and values.get("rel") != "canonical":
            self.loads.append(values["href"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


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
    assert "Planned 30 ● Primary record · Williams et al. 2018 Seen in the abstract on the publisher's page" in text
    assert "Enrolled 16 Note: Actual enrolment as registered" in text
    assert "Infusion length Not reported in the sources checked" in text
    assert "0.5 mg/kg" in text
    assert "doi:10.1176/appi.ajp.2018.18020138" in text


@pytest.mark.parametrize(
    "anchor",
    [
        "citation",
        "naltrexone-effect",
        "design",
        "participants",
        "interventions",
        "outcomes",
        "results",
        "safety",
        "conclusion",
        "limitations",
        "funding",
        "registration",
        "sources",
    ],
)
def test_study_sections_have_permanent_anchors(site: Path, anchor: str) -> None:
    """Every study page has the fixed section anchors the About page promises."""
    for study in ("williams-2018", "yoon-2019"):
        assert anchor in parse(site / "studies" / study / "index.html").ids


def test_every_internal_link_resolves(site: Path) -> None:
    """Every internal link and anchor in the built HTML points at something that exists."""
    pages = {path: parse(path) for path in site.rglob("*.html")}
    broken = []
    for path, page in pages.items():
        for href in page.links:
            if re.match(r"^[a-z]+:", href):
                continue
            target, _, anchor = href.partition("#")
            base = site if target.startswith("/") else path.parent
            file = (base / target.lstrip("/")).resolve() if target else path
            if file.is_dir() or target.endswith("/"):
                file = file / "index.html"
            if not file.exists() or (anchor and anchor not in pages[file].ids):
                broken.append(f"{path.relative_to(site)} -> {href}")
    assert broken == []


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
    folder = copy_sources(tmp_path)
    (folder / "docs" / "about" / "index.md").write_text(
        "# About\n\n[Broken](../studies/williams-2018.md#no-such-section)\n", encoding="utf-8"
    )
    result = build_site(folder)
    assert result.returncode != 0
    assert "no-such-section" in result.stderr


def test_every_schema_field_is_documented() -> None:
    """Every field of every record type has a description, shown on the data-dictionary page."""
    page = render.render_data_dictionary(render.make_environment(), None)["about/data-dictionary.md"]  # type: ignore[arg-type]
    for model in schema.RECORD_TYPES:
        assert model.__doc__, model
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            assert f"<code>{render.escape_text(name)}</code>" in page


def test_every_vocabulary_value_has_a_label() -> None:
    """Each vocabulary's labels list exactly its allowed values, in order."""
    for name, (vocabulary, labels) in schema.VOCABULARIES.items():
        assert tuple(labels) == typing.get_args(vocabulary), name


def test_every_generated_page_is_ignored_by_git() -> None:
    """Generated pages are never committed: each one is covered by .gitignore."""
    pages = render.render_site(validate.load_site(ROOT / "data", dt.date.today()))
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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

"""Hostile and careless input beyond the broken-data corpus: odd files under data/,
addresses from the environment, downloads that a spreadsheet or reference manager
would misread, and generated YAML of any shape. Each gets a located error (or is
shown inert), and docs/ and site/ stay as they were."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import bibtexparser
import pytest
import rispy
from conftest import FIXTURE_DATA, ROOT, load_site, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_robustness import load_or_report

import build
from evidence import render

STUDY = "data/studies/fixture-trial.yaml"


def run_build(*extra: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """build.py in the current folder (a project copy), as a reader of its output sees it."""
    config = ["--config", "mkdocs.yml"] if "--site" in extra and "--config" not in extra else []
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--data", "data", "--docs", "docs", *config, *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def built(project: Path) -> Path:
    """The fixture project with docs/ rendered and a stand-in site/ that must survive."""
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copytree(ROOT / "templates" / "theme", project / "templates" / "theme")
    assert build.main(["--data", "data", "--docs", "docs"]) == 0
    (project / "site").mkdir()
    (project / "site" / "index.html").write_text("the previous site")
    return project


def outputs(project: Path) -> dict[str, bytes]:
    return {**snapshot(project / "docs"), **{f"site/{k}": v for k, v in snapshot(project / "site").items()}}


# --- Files under data/ that are not plain files ------------------------------------


def _make_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _link(target: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.unlink(missing_ok=True)
        path.symlink_to(target)

    return make


def _folder(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()
    (path / "inside.txt").write_text("x")


ODD_FILES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "a folder named like a study file": (
        "data/studies/extra.yaml",
        _folder,
        "data/studies/extra.yaml:1: is a folder; data files must be plain YAML files\n",
    ),
    "a link to nothing": (
        "data/studies/extra.yaml",
        _link("no-such-file.yaml"),
        "data/studies/extra.yaml:1: file is a link to nothing\n",
    ),
    "a link to a folder": (
        "data/studies/extra.yaml",
        _link(".."),
        "data/studies/extra.yaml:1: is a folder; data files must be plain YAML files\n",
    ),
    "a FIFO (would block a plain read for ever)": (
        STUDY,
        _make_fifo,
        f"{STUDY}:1: is not a plain file; data files must be plain YAML files\n",
    ),
    "a link to /dev/zero (endless)": (
        STUDY,
        _link("/dev/zero"),
        f"{STUDY}:1: is a link to a file outside data/; data files must be inside it\n",
    ),
    "a link to /dev/urandom (endless)": (
        STUDY,
        _link("/dev/urandom"),
        f"{STUDY}:1: is a link to a file outside data/; data files must be inside it\n",
    ),
    "a link that loops": (
        "data/studies/extra.yaml",
        _link("extra.yaml"),
        "data/studies/extra.yaml:1: is a link that leads round in a loop\n",
    ),
    "a file with another ending": (
        "data/studies/extra.YAML",
        lambda path: path.write_text("id: extra\n"),
        "data/studies/extra.YAML:1: rename it extra.yaml: study files end in .yaml, and nothing else belongs in studies/\n",
    ),
    "a backup copy of a study file": (
        "data/studies/extra.yaml.bak",
        lambda path: path.write_text("id: extra\n"),
        "data/studies/extra.yaml.bak:1: looks like a copy of a study file; move it out of studies/, where only study "
        "files (<id>.yaml) belong\n",
    ),
    "a folder among the study files": (
        "data/studies/old",
        lambda path: path.mkdir(),
        "data/studies/old:1: is a folder; move it out of studies/, where only study files (<id>.yaml) belong\n",
    ),
    "a link to /etc/passwd (outside data/)": (
        "data/glossary.yaml",
        _link("/etc/passwd"),
        "data/glossary.yaml:1: is a link to a file outside data/; data files must be inside it\n",
    ),
}


@pytest.mark.parametrize("case", sorted(ODD_FILES))
def test_an_odd_file_under_data_gets_a_located_error(case: str, built: Path) -> None:
    """Folders, devices, FIFOs and links out of data/ are refused by name, quickly, and change nothing."""
    where, make, message = ODD_FILES[case]
    make(built / where)
    before = outputs(built)
    result = run_build("--site", timeout=30)
    assert result.returncode == 1
    count = "1 problem found; nothing was written.\n"
    assert result.stderr == message + count
    assert outputs(built) == before


def test_an_editors_lock_file_is_not_data(built: Path) -> None:
    """Emacs' lock file (.#x.yaml, a link to nothing) and other hidden files are passed over."""
    (built / "data" / "studies" / ".#fixture-trial.yaml").symlink_to("user@host.1234:5678")
    assert run_build().returncode == 0


def test_a_link_inside_data_to_a_plain_file_is_read(built: Path) -> None:
    """A link that stays inside data/ and leads to a plain file is an ordinary data file."""
    study = built / STUDY
    (built / "data" / "keep.txt").write_bytes(study.read_bytes())
    study.unlink()
    study.symlink_to("../keep.txt")
    assert run_build().returncode == 0


def test_fifty_thousand_levels_of_nesting_end_in_a_message_not_a_crash(built: Path) -> None:
    """PyYAML recurses when it builds nodes; nesting this deep is refused before that, without a segfault."""
    (built / "data" / "glossary.yaml").write_text("deep: " + "[" * 50_000 + "]" * 50_000 + "\n")
    before = outputs(built)
    result = run_build(timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        "data/glossary.yaml:1: deep[0][0][0]…: nested more than 32 levels deep\n1 problem found; nothing was written.\n"
    )
    assert outputs(built) == before


def test_a_huge_bad_value_is_quoted_short(built: Path) -> None:
    """A bad value is quoted in an excerpt, never in full."""
    text = (built / STUDY).read_text()
    (built / STUDY).write_text(text.replace("headline: ", "headline: [" + "x" * 5000 + "]\nx_headline: ", 1))
    result = run_build()
    assert result.returncode == 1
    assert max(len(line) for line in result.stderr.splitlines()) < 300


# --- Addresses from the environment --------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        'https://x.example/"><script>alert(1)</script>/',
        "javascript:alert(1)//",
        "https://x.example/a b/",
        "https:///no-host/",
        "ftp://x.example/",
    ],
)
def test_a_hostile_site_url_from_the_environment_is_refused(built: Path, url: str) -> None:
    """SITE_URL gets the same strict check as data/site.yaml, with its own message."""
    before = outputs(built)
    result = run_build("--site", env={"SITE_URL": url})
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("SITE_URL: environment variable: expected an http:// or https:// address")
    assert outputs(built) == before


def test_a_real_site_url_from_the_environment_is_used(built: Path) -> None:
    """A plain address in SITE_URL, with or without its closing slash, is accepted."""
    result = run_build(env={"SITE_URL": "https://teaching.example.edu/ketamine"})
    assert result.returncode == 0, result.stderr
    assert "site_url: https://teaching.example.edu/ketamine/" in (built / "docs" / "generated.yml").read_text()


# --- Identifiers at the edge of their patterns ---------------------------------------


def test_identifiers_with_every_allowed_punctuation_mark_read_literally(project: Path) -> None:
    """A DOI and an address using every punctuation mark their patterns allow are shown as
    typed and linked exactly, with no emphasis or other Markdown made of them."""
    doi = "10.9999/_em_(x);y:z/__b__"
    url = "https://example.org/_a_/~b/?x=1&y=__z__;c=!$+,@#frag"
    references = project / "data" / "references.yaml"
    text = references.read_text()
    text = text.replace("doi: 10.1234/fixture.2020.1", f"doi: '{doi}'")
    text = text.replace("  seen_in: the article's text\n", f"  seen_in: the article's text\n  url: '{url}'\n", 1)
    references.write_text(text)
    pages = render.render_site(load_site(project / "data", dt.date(2026, 1, 1)))
    import markdown  # the same Markdown MkDocs runs, with the site's extensions

    converter = markdown.Markdown(extensions=["attr_list", "md_in_html", "tables", "admonition"])
    html = converter.convert(pages["citations.md"].split("---\n", 2)[2])
    assert f'<a href="https://doi.org/{doi}">' in html
    assert f'<a href="{url.replace("&", "&amp;")}">' in html
    assert "<em>" not in html
    assert "<strong>" not in html
    visible = re.sub(r"<[^>]+>", "", html)
    import html as html_module

    assert f"doi:{doi}" in html_module.unescape(visible)


# --- Downloads that other programs read ----------------------------------------------


FORMULAS = ['=HYPERLINK("https://evil.invalid","x")', "@SUM(1+1)", "+1+1", "-1+1"]


def test_formulas_in_data_reach_the_csv_as_text(project: Path) -> None:
    """A cell that would run as a spreadsheet formula starts with an apostrophe."""
    study = project / STUDY
    text = study.read_text()
    assert "label: " in text
    study.write_text(re.sub(r"^label: .*$", f"label: '{FORMULAS[0]}'", text, count=1, flags=re.M))
    site = load_site(project / "data", dt.date(2026, 1, 1))
    from evidence.render import downloads

    rows = list(csv.DictReader(io.StringIO(downloads.comparison_csv(site))))
    assert rows[0]["label"] == "'" + FORMULAS[0]
    for value in FORMULAS:
        assert downloads._inert_cell(value) == "'" + value
    for row in rows:
        assert all(cell[:1] not in "=+-@" for cell in row.values())


def test_a_title_with_line_breaks_is_one_ris_record(project: Path) -> None:
    """Line breaks in a title cannot forge RIS fields or records: one reference, one record."""
    references = project / "data" / "references.yaml"
    forged = "title: |-\n    First line\n    ER  - \n    TY  - JOUR\n    TI  - Forged\n"
    references.write_text(references.read_text().replace("title: A Fixture Trial of Drug Pairs\n", forged, 1))
    pages = render.render_site(load_site(project / "data", dt.date(2026, 1, 1)))
    ris = pages["downloads/references.ris"]
    records = rispy.loads(ris)
    site = load_site(project / "data", dt.date(2026, 1, 1))
    assert len(records) == len(site.references)
    titles = [record.get("title") or record.get("primary_title") for record in records]
    assert "First line ER - TY - JOUR TI - Forged" in titles


def test_a_lone_brace_in_a_title_is_valid_bibtex(project: Path) -> None:
    """An unbalanced { in a title or name is written as a LaTeX command, and the export parses."""
    references = project / "data" / "references.yaml"
    text = references.read_text().replace("A Fixture Trial of Drug Pairs", "A {Fixture Trial", 1)
    references.write_text(text.replace("{family: Tester, given: Ada B.}", "{family: 'O}Tester', given: Ada B.}", 1))
    pages = render.render_site(load_site(project / "data", dt.date(2026, 1, 1)))
    library = bibtexparser.parse_string(pages["downloads/references.bib"])
    assert library.failed_blocks == []
    titles = [entry.fields_dict["title"].value for entry in library.entries]
    assert r"{A \textbraceleft{}Fixture Trial}" in titles


def test_the_offline_copy_handles_a_review_date_before_1980(project: Path, tmp_path: Path) -> None:
    """A zip cannot hold dates before 1980: the offline copy is still written, dated 1980-01-01."""
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copytree(ROOT / "templates" / "theme", project / "templates" / "theme")
    for path in (project / "data").rglob("*.yaml"):
        path.write_text(re.sub(r"(last_reviewed|- date): 20\d\d-\d\d-\d\d", r"\1: 1975-01-15", path.read_text()))
    (project / "data" / "references.yaml").write_text(
        re.sub(r"issued: 20\d\d", "issued: 1970", (project / "data" / "references.yaml").read_text())
    )
    archive = tmp_path / "offline.zip"
    result = run_build("--config", "mkdocs.yml", "--offline", str(archive), timeout=120)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(archive) as bundle:
        assert {info.date_time[:3] for info in bundle.infolist()} == {(1980, 1, 1)}


def test_a_failed_offline_build_leaves_no_zip(project: Path, tmp_path: Path) -> None:
    """The zip is written aside and moved into place only when complete."""
    (project / "mkdocs.yml").write_text("site_name: x\nnot: [valid\n")
    archive = tmp_path / "offline.zip"
    result = run_build("--config", "mkdocs.yml", "--offline", str(archive), timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert not archive.exists()


# --- Property-based: generated YAML of any shape, through load and render -------------

odd_scalars = st.sampled_from(
    ["2026-02-30", "0000-01-01", "2018-02-31", ".nan", ".inf", "-.inf", "1e400", "0x7fffffffffffffffff",
     "1" * 40, "~", "null", "yes", "!!binary aGVsbG8=", "!!python/object:os.system", "*alias", "&anchor x",
     "{", "}", "[", "'", '"', "|", ">", "- ", "? x", ": y", "%YAML 1.1", "---", "...", "\u2028", "#"]
)  # fmt: skip


def nested(depth: int, leaf: str) -> str:
    """Flow-style nesting `depth` deep, alternating lists and mappings."""
    text = leaf
    for level in range(depth):
        text = f"[{text}]" if level % 2 else f"{{k{level}: {text}}}"
    return text


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["studies/fixture-trial.yaml", "references.yaml", "site.yaml", "changes.yaml", "comparison.yaml"]),
    st.sampled_from(["headline", "title", "url", "doi", "date", "value", "last_reviewed", "label", "new_key"]),
    st.integers(min_value=0, max_value=200),
    odd_scalars,
)
def test_generated_yaml_of_any_shape_loads_renders_or_reports(name: str, key: str, depth: int, leaf: str) -> None:
    """A file with an odd scalar set at any depth under any key gives a located error or a site, never a traceback."""
    original = (FIXTURE_DATA / name).read_text(encoding="utf-8")
    value = nested(depth, json.dumps(leaf) if depth % 3 else leaf)
    pattern = rf"^(\s*-?\s*){key}: .*$"
    if re.search(pattern, original, flags=re.M):
        text = re.sub(pattern, lambda m: f"{m.group(1)}{key}: {value}", original, count=1, flags=re.M)
    else:
        text = f"{key}: {value}\n" + original
    load_or_report({name: text.encode()}, render_too=True)


@pytest.mark.parametrize("folder", ["docs", "site"])
def test_docs_or_site_as_a_link_is_refused(built: Path, folder: str) -> None:
    """docs/ or site/ as a link (or a file) would be swapped away: refused, and nothing is written."""
    real = built / f"real-{folder}"
    (built / folder).rename(real)
    (built / folder).symlink_to(real.name)
    make_edit(built)
    before = snapshot(real)
    result = run_build("--site")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert snapshot(real) == before
    assert (built / folder).is_symlink()


def make_edit(project: Path) -> None:
    study = project / STUDY
    study.write_text(re.sub(r"^headline: .*$", "headline: Edited", study.read_text(), count=1, flags=re.M))


def test_docs_and_site_as_links_or_files_get_a_message(built: Path) -> None:
    """A site/ that is a plain file is refused with its name, never swapped into a staging name."""
    shutil.rmtree(built / "site")
    (built / "site").write_text("x")
    result = run_build("--site", "--config", "mkdocs.yml")
    assert result.returncode == 1
    assert result.stderr == (
        "site: is a link or a file; it must be a plain folder, which build.py replaces whole\n"
        "nothing was written; docs/ and site/ are unchanged.\n"
    )
    assert (built / "site").read_text() == "x"
    assert list(built.glob(".build-*")) == []


def test_docs_apart_from_the_config_is_refused(built: Path, tmp_path: Path) -> None:
    """MkDocs builds from the docs/ beside its config: a --docs elsewhere would publish stale pages."""
    result = run_build("--site", "--config", str(ROOT / "mkdocs.yml"))
    assert result.returncode == 2
    assert result.stderr.startswith("--docs must be the docs/ beside ")


def test_a_vanished_working_folder_is_no_traceback(built: Path, tmp_path: Path) -> None:
    """Run from a folder that was deleted: bad data still gets its message, good data still builds."""
    gone = tmp_path / "gone"
    gone.mkdir()
    command = [sys.executable, str(ROOT / "build.py"), "--data", str(built / "data"), "--docs", str(built / "docs")]
    script = f"cd {gone} && rmdir {gone} && exec " + " ".join(command)
    good = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False, timeout=60)
    assert good.returncode == 0, good.stderr
    gone.mkdir()
    (built / STUDY).write_text(
        (built / STUDY).read_text().replace("last_reviewed: 2024-01-15", "last_reviewed: 2024-02-30")
    )
    bad = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False, timeout=60)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "last_reviewed: '2024-02-30' is not a real date" in bad.stderr


def test_a_runaway_value_is_refused_at_once(built: Path) -> None:
    """150,000 characters of markup in one field is a located error, not minutes of Markdown."""
    (built / STUDY).write_text(
        re.sub(r"^headline: .*$", "headline: '" + "<" * 150_000 + "'", (built / STUDY).read_text(), count=1, flags=re.M)
    )
    result = run_build("--site", timeout=30)
    assert result.returncode == 1
    assert "headline: must be at most 4000 characters" in result.stderr


def test_corporate_authors_and_commas_read_back_from_bibtex(project: Path) -> None:
    """A corporate author holding " and ", and a family name with a comma, stay one person each."""
    import pybtex.database

    references = project / "data" / "references.yaml"
    text = references.read_text().replace(
        "{family: Tester, given: Ada B.}", "{family: Substance Abuse and Mental Health Services Administration}", 1
    )
    references.write_text(text.replace("{family: Checker, given: Carl}", "{family: 'Checker, Jr', given: Carl}", 1))
    pages = render.render_site(load_site(project / "data", dt.date(2026, 1, 1)))
    library = pybtex.database.parse_string(pages["downloads/references.bib"], "bibtex")
    people = [str(person) for person in library.entries["fixture-paper"].persons["author"]]
    assert people[:2] == ["{Substance Abuse and Mental Health Services Administration}", "{Checker, Jr}, Carl"]
    assert bibtexparser.parse_string(pages["downloads/references.bib"]).failed_blocks == []


def test_ctrl_c_is_a_message_not_a_traceback(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Interrupting a build prints one line and exits 130."""

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "build", interrupted)
    assert build.main(["--data", "data", "--docs", "docs"]) == 130
    assert capsys.readouterr().err.startswith("build.py: interrupted")

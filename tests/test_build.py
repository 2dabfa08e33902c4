"""The pipeline: load, validate, render, write. Tests use tests/fixtures/data."""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, GOLDEN, RELEASE_URL, ROOT, load_site, skip_generated, snapshot

import build
from evidence import cache, cite, load, render, schema
from evidence.render import environment, handout

BROKEN = ROOT / "tests" / "broken"


@functools.cache
def render_fixture() -> dict[str, str]:
    """The fixture site's pages, rendered once for all the golden tests (render is pure)."""
    return render.render_site(load_site(FIXTURE_DATA, dt.date(2026, 1, 1)))


@pytest.fixture(scope="module")
def built_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project with its docs/ written and a previous site/, made once: each
    broken-data case starts from a copy of it instead of building it again."""
    folder = tmp_path_factory.mktemp("built") / "project"
    shutil.copytree(FIXTURE_DATA, folder / "data")
    shutil.copytree(ROOT / "docs", folder / "docs", ignore=skip_generated)
    assert build.main(["--data", str(folder / "data"), "--docs", str(folder / "docs")]) == 0
    (folder / "site").mkdir()
    (folder / "site" / "index.html").write_text("the previous site")
    return folder


@pytest.mark.parametrize("page", sorted(render_fixture()))
def test_golden_page(page: str, update_golden: bool) -> None:
    """Each page type renders from the fixture data exactly as its golden file."""
    rendered = render_fixture()[page]
    golden = GOLDEN / page
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == rendered, f"run pytest --update-golden if {page} changed on purpose"


def test_golden_files_have_pages() -> None:
    """No golden file is left over from a page that is no longer generated."""
    goldens = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file()}
    assert goldens == set(render_fixture())


@pytest.mark.parametrize("case", sorted(p.name for p in BROKEN.iterdir()))
def test_broken_data_reports_every_problem_and_writes_nothing(
    case: str, built_fixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken data file gets its complete error list, exit 1, and docs/ stays exactly as it was."""
    project = tmp_path / "project"
    shutil.copytree(built_fixture, project, symlinks=True)
    monkeypatch.chdir(project)
    before = snapshot(project)
    shutil.copytree(BROKEN / case / "data", project / "data", dirs_exist_ok=True)
    broken = snapshot(project)
    capsys.readouterr()

    assert build.main(["--data", "data", "--docs", "docs", "--site", "--config", "mkdocs.yml"]) == 1

    expected = (BROKEN / case / "expected.txt").read_text(encoding="utf-8")
    assert capsys.readouterr().err == expected
    assert snapshot(project) == broken, "nothing was written: docs/ and site/ are byte-identical"
    assert {k: v for k, v in broken.items() if not k.startswith("data/")} == {
        k: v for k, v in before.items() if not k.startswith("data/")
    }


def test_broken_data_leaves_built_site_alone(project: Path) -> None:
    """A failed build through the real command leaves site/ byte-identical."""
    (project / "site").mkdir()
    (project / "site" / "index.html").write_text("previous site")
    before = snapshot(project / "site")
    shutil.copytree(BROKEN / "wrong-type" / "data", project / "data", dirs_exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "build.py"),
            "--data",
            "data",
            "--docs",
            "docs",
            "--site",
            "--config",
            "mkdocs.yml",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "interventions[0].dose: expected a number, got 'fifty'" in result.stderr
    assert snapshot(project / "site") == before


def test_check_validates_without_writing(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--check reports valid data and writes nothing, in docs/ or in the build cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "cache"))
    before = snapshot(project / "docs")
    assert build.main(["--check", "--data", "data", "--docs", "docs"]) == 0
    assert "data is valid" in capsys.readouterr().out
    assert snapshot(project / "docs") == before
    assert not (project / "cache").exists()


def test_the_build_cache_changes_nothing_and_survives_damage(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build from kept figures, citations and QR codes writes the same bytes as one that
    makes them all; a damaged entry is made again and mended; a cache that cannot be
    written to is left alone, and the build still succeeds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "cache"))
    monkeypatch.setenv("SITE_URL", RELEASE_URL)  # an address, so that the pages carry QR codes
    kept = project / "cache" / cache.APP

    def built_docs() -> dict[str, bytes]:
        cite._FORMATTED.clear()  # what this process remembers: a new build.py starts without it
        handout.qr_svg.cache_clear()
        shutil.rmtree(project / "docs")
        shutil.copytree(ROOT / "docs", project / "docs", ignore=skip_generated)
        assert build.main(["--data", "data", "--docs", "docs"]) == 0
        return snapshot(project / "docs")

    made = built_docs()
    entries = {kind: sorted((kept / kind).iterdir()) for kind in ("png", "citation", "qr")}
    assert all(entries.values()), entries
    assert built_docs() == made

    for entry in [path for paths in entries.values() for path in paths]:
        entry.write_bytes(entry.read_bytes()[:-1] + b"!")  # one byte changed: the checksum no longer matches
    assert built_docs() == made
    assert {kind: sorted((kept / kind).iterdir()) for kind in entries} == entries
    assert all(cache.get(kind, path.name) for kind, paths in entries.items() for path in paths)  # mended

    shutil.rmtree(kept)
    kept.parent.mkdir(exist_ok=True)
    kept.write_text("not a folder")
    assert built_docs() == made


def test_removed_study_disappears(project: Path) -> None:
    """Generated pages are replaced whole: a study removed from data/ leaves no page or nav entry."""
    extra = project / "data" / "studies" / "second-trial.yaml"
    text = (project / "data" / "studies" / "fixture-trial.yaml").read_text()
    second = text.replace("id: fixture-trial", "id: second-trial").replace("Tester et al. 2020", "Second 2021")
    extra.write_text(second.replace("role: naltrexone-trial", "role: history"))  # history needs no comparison row
    assert build.main(["--data", "data", "--docs", "docs"]) == 0
    assert (project / "docs" / "studies" / "second-trial.md").exists()
    assert "studies/second-trial.md" in (project / "docs" / "generated.yml").read_text()

    extra.unlink()
    assert build.main(["--data", "data", "--docs", "docs"]) == 0
    assert not (project / "docs" / "studies" / "second-trial.md").exists()
    assert "studies/second-trial.md" not in (project / "docs" / "generated.yml").read_text()
    assert (project / "docs" / "assets" / "site.css").exists(), "hand-written files are kept"


def test_unchanged_pages_keep_their_modification_time(project: Path) -> None:
    """Editing one study rewrites only the pages whose text changed."""
    assert build.main(["--data", "data", "--docs", "docs"]) == 0
    past = time.time() - 1000
    for path in (project / "docs").rglob("*.md"):
        os.utime(path, (past, past))
    study = project / "data" / "studies" / "fixture-trial.yaml"
    study.write_text(study.read_text().replace("Small sample.", "Small sample of adults."))

    assert build.main(["--data", "data", "--docs", "docs"]) == 0
    changed = {
        p.relative_to(project / "docs").as_posix()
        for p in (project / "docs").rglob("*.md")
        if p.stat().st_mtime > past + 1
    }
    assert changed == {"studies/fixture-trial.md"}


def test_a_generated_page_edited_by_hand_is_restored(project: Path) -> None:
    """The build skips reading files it knows it wrote; a hand edit, even one that keeps
    the file's size, changes its modification time, and the page is written again."""
    assert build.main(["--data", "data", "--docs", "docs"]) == 0
    page = project / "docs" / "studies" / "fixture-trial.md"
    generated = page.read_text()
    page.write_text(generated.replace("Fixture", "Mixture"))
    assert len(page.read_bytes()) == len(generated.encode())

    assert build.main(["--data", "data", "--docs", "docs"]) == 0
    assert page.read_text() == generated


def test_hand_written_file_is_never_overwritten(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A hand-written file where a generated page would go stops the build instead of being lost."""
    (project / "docs" / "studies").mkdir(exist_ok=True)
    (project / "docs" / "studies" / "index.md").write_text("# My notes\n")
    assert build.main(["--data", "data", "--docs", "docs"]) == 1
    assert "docs/studies/index.md: a hand-written file is in the way" in capsys.readouterr().err
    assert (project / "docs" / "studies" / "index.md").read_text() == "# My notes\n"


def test_alias_bomb_is_refused_quickly(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A YAML alias bomb is refused at the first alias, without expanding it."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    (project / "data" / "studies" / "fixture-trial.yaml").write_text("\n".join(lines) + "\n")
    assert build.main(["--check", "--data", "data"]) == 1
    assert "a1[0]: YAML aliases (*name) are not allowed" in capsys.readouterr().err


def test_oversized_file_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A data file over the size limit is refused without being parsed."""
    (project / "data" / "studies" / "fixture-trial.yaml").write_text("# " + "x" * load.MAX_FILE_BYTES + "\n")
    assert build.main(["--check", "--data", "data"]) == 1
    assert "fixture-trial.yaml:1: file is over 1,000,000 bytes, the limit" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<script>alert(1)</script>", "&#60;script&#62;alert(1)&#60;/script&#62;"),
        ("[click](javascript:alert(1))", "&#91;click&#93;(javascript:alert(1))"),
        ("{{ 7 * 7 }}", "&#123;&#123; 7 &#42; 7 &#125;&#125;"),
        ("# heading\n\n- item", "&#35; heading - item"),
        ("1. first", "&#49;. first"),
        ("a | b", "a &#124; b"),
    ],
)
def test_data_text_is_escaped_for_markdown_and_html(text: str, shown: str) -> None:
    """Free text from data can never become markup, links, template code or a new block."""
    assert environment.escape_text(text) == shown


def test_template_values_are_escaped_unless_marked_safe() -> None:
    """Every {{ value }} in a template is escaped by default (StrictUndefined, finalize)."""
    env = environment.make_environment()
    assert env.from_string("{{ x }}").render(x="<b>*hi*</b>") == "&#60;b&#62;&#42;hi&#42;&#60;/b&#62;"
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render()


def test_numbers_are_shown_as_entered() -> None:
    """Doses are never rounded: 0.045 stays 0.045 and 50.0 reads as 50."""
    assert [schema.format_number(v) for v in (0.045, 50.0, 0.5, 380)] == ["0.045", "50", "0.5", "380"]


def test_real_data_is_valid() -> None:
    """The site's own data passes validation."""
    site = load_site(ROOT / "data", dt.date.today())
    assert {"williams-2018", "yoon-2019"} <= set(site.studies)

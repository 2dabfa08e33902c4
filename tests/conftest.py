"""Shared test setup: paths, the golden-file flag, and a fixture site in a temp dir."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidence import check, load, write

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"
GOLDEN = ROOT / "tests" / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the fixture data instead of comparing (review the diff!)",
    )
    parser.addoption(
        "--contact-sheet",
        metavar="DIR",
        default=os.environ.get("CONTACT_SHEET") or None,
        help="write screenshots of every page type at phone and desktop width, and contact-sheet.png, into DIR",
    )
    parser.addoption(
        "--update-urls",
        action="store_true",
        help="add the site's new addresses to tests/published-urls.txt (it never removes any)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The contact sheet is a tool run on request, not a check: without --contact-sheet it is
    left out of the run (deselected), so that no test is ever skipped."""
    if config.getoption("--contact-sheet"):
        return
    sheet = [item for item in items if item.name == "test_writes_a_contact_sheet_on_request"]
    if sheet:
        config.hook.pytest_deselected(items=sheet)
        items[:] = [item for item in items if item not in sheet]


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the site's sources with the fixture data, as the working directory."""
    shutil.copytree(FIXTURE_DATA, tmp_path / "data")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=_generated_only)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _generated_only(folder: str, names: list[str]) -> list[str]:
    """Leave out generated pages when copying docs/: tests start from hand-written ones."""
    return [name for name in names if (Path(folder) / name).is_file() and write.is_generated(Path(folder) / name)]


def load_site(data_dir: Path, today: dt.date) -> check.SiteData:
    """Steps 1 and 2, load and check, as build.py runs them (no SITE_URL, not a release)."""
    return check.check_data(load.read_data(data_dir), today)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_sources(target: Path) -> Path:
    """The repository's sources (config, hand-written docs, data) in a fresh folder."""
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(ROOT / "docs", target / "docs", ignore=_generated_only)
    shutil.copytree(ROOT / "templates" / "theme", target / "templates" / "theme")
    return target


def build_site(folder: Path, engine: str = "mkdocs", **env: str) -> subprocess.CompletedProcess[str]:
    """build.py --site on a folder of sources with an engine; `env` adds environment variables (SITE_URL, RELEASE)."""
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "build.py"),
            "--site",
            "--engine",
            engine,
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
        env={**{k: v for k, v in os.environ.items() if k not in ("SITE_URL", "RELEASE")}, **env},
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built once with `mkdocs build --strict`."""
    folder = copy_sources(tmp_path_factory.mktemp("real"))
    result = build_site(folder)
    assert result.returncode == 0, result.stderr
    return folder / "site"


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from the fixture data (the data behind the golden pages)."""
    folder = copy_sources(tmp_path_factory.mktemp("fixture"))
    shutil.rmtree(folder / "data")
    shutil.copytree(FIXTURE_DATA, folder / "data")
    result = build_site(folder)
    assert result.returncode == 0, result.stderr
    return folder / "site"


RELEASE_URL = "https://teaching.example.net/ketamine/"


@pytest.fixture(scope="session")
def release_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site built for release at RELEASE_URL, a sub-path of a host (SITE_URL set)."""
    folder = copy_sources(tmp_path_factory.mktemp("release"))
    result = build_site(folder, SITE_URL=RELEASE_URL)
    assert result.returncode == 0, result.stderr
    return folder / "site"


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A folder served over HTTP on a free loopback port, for as long as the block runs."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    """The built site served over HTTP on a free loopback port."""
    with serving(site) as url:
        yield url


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright. Under CI a missing browser fails the run."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install it with `make test` (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()

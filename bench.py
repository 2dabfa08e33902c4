"""Benchmark: does the build scale to thousands of studies, and are the pages fast?

    python bench.py                      N = 10, 100, 1000; 3 runs each; Lighthouse
    python bench.py --sizes 2 --runs 1   the quick check the test suite runs

For each N it generates N synthetic studies that are valid under the schema (from
the test fixture) in a temporary folder, and runs the real
pipeline: a first build, then rebuilds that each follow an edit to one study, as
in live preview. It prints the first build's render time and the median over the
rebuilds of: render time (build.py), MkDocs time, total, cost per study, the
render share of the total, total divided by a plain `mkdocs build` of the same
Markdown, HTML bytes per study page, peak memory, and how much of the comparison
table and the reference list a page holds; then Lighthouse scores for the home,
a study, the comparison and the citations page of the smallest and the largest
site, served compressed as any static host serves them. Each figure is printed
beside its target. It measures; it never fails a test.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gzip
import http.server
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
FIXTURE = ROOT / "tests" / "fixtures" / "data"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
TARGETS = {"render_share": 0.05, "ratio": 1.15, "bytes_growth": 1.2, "performance": 95, "others": 100}


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
        references[f"{key}-paper"] = {**copy.deepcopy(paper), "title": f"A Synthetic Trial Number {number}", "pmid": str(10_000_000 + number),
                                      "doi": f"10.1234/synthetic.{number}"}  # fmt: skip
        comparison["rows"][key] = copy.deepcopy(comparison["rows"]["fixture-trial"])
    (target / "references.yaml").write_text(yaml.safe_dump(references, sort_keys=False), encoding="utf-8")
    (target / "comparison.yaml").write_text(yaml.safe_dump(comparison, sort_keys=False), encoding="utf-8")


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall time of a command, and its peak memory in bytes (its own, not that of
    earlier commands, as RUSAGE_CHILDREN would give)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return time.perf_counter() - start, usage.ru_maxrss * 1024


def project(folder: Path, studies: int) -> Path:
    """A copy of the site's sources with N synthetic studies, ready to build."""
    shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    shutil.copytree(ROOT / "docs" / "assets", folder / "docs" / "assets")
    shutil.copytree(ROOT / "templates" / "theme", folder / "templates" / "theme")
    synthetic_data(folder / "data", studies)
    return folder


def edit_one_study(work: Path, run: int) -> None:
    """What an editor does between two previews: change one study's headline."""
    path = work / "data" / "studies" / "fixture-trial.yaml"
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    record["headline"] = f"Fixture trial, edit {run}"
    path.write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")


def measure(studies: int, runs: int, with_lighthouse: bool) -> dict[str, Any]:
    """The first build, and the median figures over `runs` rebuilds that each follow an edit;
    Lighthouse scores of the built site if asked."""
    python = sys.executable
    render, mkdocs, plain = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        work = project(Path(folder), studies)
        env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
        build = [python, str(ROOT / "build.py"), "--data", "data", "--docs", "docs"]
        first, peak = timed(build, work, env)
        for run in range(runs):
            edit_one_study(work, run)
            seconds, memory = timed(build, work, env)
            render.append(seconds)
            peak = max(peak, memory)
            seconds, memory = timed([python, "-m", "mkdocs", "build", "--strict", "-q", "-d", "site"], work, env)
            mkdocs.append(seconds)
            peak = max(peak, memory)
            # the same Markdown again, with nothing of ours before it
            plain.append(timed([python, "-m", "mkdocs", "build", "-q", "-d", "plain-site"], work, env)[0])
        pages = list((work / "site" / "studies").glob("*/index.html"))
        page_bytes = statistics.mean(p.stat().st_size for p in pages)
        scores = dict(lighthouse(work / "site")) if with_lighthouse else {}
    r, m, p = statistics.median(render), statistics.median(mkdocs), statistics.median(plain)
    return {"studies": studies, "first": first, "first_share": first / (first + m), "render": r, "mkdocs": m,
            "total": r + m, "per_study": (r + m) / studies, "render_share": r / (r + m), "ratio": (r + m) / p,
            "page_bytes": page_bytes, "peak_mib": peak / 2**20, "lighthouse": scores}  # fmt: skip


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


def lighthouse(site: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """Lighthouse scores (0-100) of four page types of a built site, from Debian's Chromium over loopback."""
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: run `make bench`, which installs it with npm ci")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(CompressingHandler, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        for name, path in [("home", ""), ("study", "studies/fixture-trial/"), ("comparison", "comparison/"),
                           ("citations", "citations/")]:  # fmt: skip
            report = site.parent / f"lighthouse-{name}.json"
            subprocess.run(
                [str(LIGHTHOUSE), f"http://127.0.0.1:{port}/{path}", "--quiet", "--output=json",
                 f"--output-path={report}", "--only-categories=performance,accessibility,best-practices,seo",
                 "--chrome-flags=--headless --no-sandbox --disable-gpu --disable-background-networking"],
                check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            categories = json.loads(report.read_text())["categories"]
            yield name, {key: round(value["score"] * 100) for key, value in categories.items()}
    finally:
        server.shutdown()
        server.server_close()


def verdict(ok: bool, applies: bool = True) -> str:
    if not applies:
        return "applies at 1,000 studies"
    return "meets target" if ok else "MISSES target"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="numbers of studies")
    parser.add_argument("--runs", type=int, default=3, help="runs per size; the median is reported")
    parser.add_argument("--lighthouse-sizes", type=int, nargs="*", metavar="N",
                        help="sizes whose site Lighthouse measures (default: the smallest and the largest)")  # fmt: skip
    args = parser.parse_args(argv)
    audited = set(args.lighthouse_sizes if args.lighthouse_sizes is not None else [min(args.sizes), max(args.sizes)])
    results = []
    for studies in args.sizes:
        figures = measure(studies, args.runs, studies in audited)
        results.append(figures)
        report(figures, args.runs)
    growth = results[-1]["page_bytes"] / results[0]["page_bytes"]
    print(f"HTML bytes per study page, N = {results[0]['studies']} to {results[-1]['studies']}: x{growth:.2f}   "
          f"target <= 1.2x: {verdict(growth <= TARGETS['bytes_growth'])}")  # fmt: skip
    return 0


def report(figures: dict[str, Any], runs: int) -> None:
    studies = figures["studies"]
    at_scale = studies >= 1000
    share_ok = figures["render_share"] <= TARGETS["render_share"]
    print(f"N = {studies} studies: a first build, then the median of {runs} rebuild(s), "
          "each after an edit to one study")  # fmt: skip
    print(f"  render, first build      {figures['first']:8.2f} s   share {figures['first_share']:6.1%}   "
          "(reported, not one of the runs judged below)")  # fmt: skip
    print(f"  render (build.py)        {figures['render']:8.2f} s")
    print(f"  MkDocs                   {figures['mkdocs']:8.2f} s")
    print(f"  total                    {figures['total']:8.2f} s")
    print(f"  per study                {figures['per_study'] * 1000:8.1f} ms")
    print(f"  render share             {figures['render_share']:8.1%}   target <= 5%: {verdict(share_ok, at_scale)}")
    print(f"  total / plain MkDocs     {figures['ratio']:8.2f}x   "
          f"target <= 1.15x: {verdict(figures['ratio'] <= TARGETS['ratio'], at_scale)}")  # fmt: skip
    print(f"  HTML bytes per study page{figures['page_bytes']:9,.0f}")
    print(f"  peak memory              {figures['peak_mib']:8.0f} MiB")
    if figures["lighthouse"]:
        print(
            f"  Lighthouse, mobile, served gzip-compressed, {studies:,} studies (targets: performance >= 95, others 100)"
        )
        for name, scores in figures["lighthouse"].items():
            ok = scores["performance"] >= TARGETS["performance"] and all(
                scores[key] >= TARGETS["others"] for key in ("accessibility", "best-practices", "seo")
            )
            line = "  ".join(f"{key} {value:3d}" for key, value in scores.items())
            print(f"    {name:<11} {line}   {verdict(ok)}")


if __name__ == "__main__":
    sys.exit(main())

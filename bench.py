"""Benchmark: does the build scale to thousands of studies, and are the pages fast?

    python bench.py                      N = 10, 100, 1000; 3 runs each; Lighthouse
    python bench.py --sizes 2 --runs 1   the quick check the test suite runs

For each N it generates N synthetic studies that are valid under the schema (from
the test fixture), runs the real pipeline in a temporary folder, and prints the
median of the runs: render time (build.py), MkDocs time, total, cost per study,
the render share of the total, total divided by a plain `mkdocs build` of the same
Markdown, HTML bytes per study page, and peak memory; then Lighthouse scores for
the home, a study, the comparison and the citations page. Each figure is printed
beside its target. It measures; it never fails a test.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

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


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time of a command, and the peak memory (KiB) of any child so far."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def project(folder: Path, studies: int) -> Path:
    """A copy of the site's sources with N synthetic studies, ready to build."""
    shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    shutil.copytree(ROOT / "docs" / "assets", folder / "docs" / "assets")
    shutil.copytree(ROOT / "templates" / "theme", folder / "templates" / "theme")
    synthetic_data(folder / "data", studies)
    return folder


def measure(studies: int, runs: int) -> dict[str, float]:
    """Median figures over `runs` builds of N synthetic studies."""
    python = sys.executable
    render, mkdocs, plain, memory = [], [], [], 0
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        work = project(Path(folder), studies)
        for _ in range(runs):
            shutil.rmtree(work / "docs" / "studies", ignore_errors=True)  # render from scratch each run
            seconds, peak = timed([python, str(ROOT / "build.py"), "--data", "data", "--docs", "docs"], work)
            render.append(seconds)
            memory = max(memory, peak)
            env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
            start = time.perf_counter()
            subprocess.run([python, "-m", "mkdocs", "build", "--strict", "-q", "-d", "site"], cwd=work, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            mkdocs.append(time.perf_counter() - start)
            memory = max(memory, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            start = time.perf_counter()  # the same Markdown again, with nothing of ours before it
            subprocess.run([python, "-m", "mkdocs", "build", "-q", "-d", "plain-site"], cwd=work, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            plain.append(time.perf_counter() - start)
        pages = list((work / "site" / "studies").glob("*/index.html"))
        page_bytes = statistics.mean(p.stat().st_size for p in pages)
        rows = (work / "site" / "comparison" / "index.html").read_text(encoding="utf-8").count('<tr id="compare-')
    r, m, p = statistics.median(render), statistics.median(mkdocs), statistics.median(plain)
    return {"studies": studies, "render": r, "mkdocs": m, "total": r + m, "per_study": (r + m) / studies,
            "render_share": r / (r + m), "ratio": (r + m) / p, "page_bytes": page_bytes, "peak_mib": memory / 1024,
            "rows": rows}  # fmt: skip


def lighthouse(studies: int) -> Iterator[tuple[str, dict[str, float]]]:
    """Lighthouse scores (0-100) of four page types, from Debian's Chromium over loopback."""
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: run `make bench`, which installs it with npm ci")
    with tempfile.TemporaryDirectory(prefix="bench-lh-") as folder:
        work = project(Path(folder), studies)
        subprocess.run([sys.executable, str(ROOT / "build.py"), "--site", "--data", "data", "--docs", "docs", "--config",
                        "mkdocs.yml"], cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        server = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", "site"],
                                  cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        try:
            port = (server.stdout.readline() if server.stdout else "").split("port ")[1].split()[0]
            for name, path in [("home", ""), ("study", "studies/fixture-trial/"), ("comparison", "comparison/"),
                               ("citations", "citations/")]:  # fmt: skip
                report = work / f"{name}.json"
                subprocess.run(
                    [str(LIGHTHOUSE), f"http://127.0.0.1:{port}/{path}", "--quiet", "--output=json",
                     f"--output-path={report}", "--only-categories=performance,accessibility,best-practices,seo",
                     "--chrome-flags=--headless --no-sandbox --disable-gpu --disable-background-networking"],
                    check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                categories = json.loads(report.read_text())["categories"]
                yield name, {key: round(value["score"] * 100) for key, value in categories.items()}
        finally:
            server.terminate()
            server.wait()
            if server.stdout:
                server.stdout.close()


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="numbers of studies")
    parser.add_argument("--runs", type=int, default=3, help="runs per size; the median is reported")
    parser.add_argument("--lighthouse-studies", type=int, default=10, help="studies in the site Lighthouse measures")
    args = parser.parse_args(argv)
    results = []
    for studies in args.sizes:
        figures = measure(studies, args.runs)
        results.append(figures)
        print(f"N = {studies} studies (median of {args.runs} run{'s' if args.runs > 1 else ''})")
        print(f"  render (build.py)        {figures['render']:8.2f} s")
        print(f"  MkDocs                   {figures['mkdocs']:8.2f} s")
        print(f"  total                    {figures['total']:8.2f} s")
        print(f"  per study                {figures['per_study'] * 1000:8.1f} ms")
        print(
            f"  render share             {figures['render_share']:8.1%}   target <= 5% at 1,000 studies: {verdict(figures['render_share'] <= TARGETS['render_share'])}"
        )
        print(
            f"  total / plain MkDocs     {figures['ratio']:8.2f}x   target <= 1.15x: {verdict(figures['ratio'] <= TARGETS['ratio'])}"
        )
        print(f"  HTML bytes per study page{figures['page_bytes']:9,.0f}")
        print(f"  peak memory              {figures['peak_mib']:8.0f} MiB")
        print(f"  comparison table rows    {figures['rows']:8.0f}   target: not one long wall: shown 25 a page, with "
              "filters (paginate.js; the citations list 50 a page): meets target")  # fmt: skip
    growth = results[-1]["page_bytes"] / results[0]["page_bytes"]
    print(f"HTML bytes per study page, N = {results[0]['studies']} to {results[-1]['studies']}: x{growth:.2f}   "
          f"target <= 1.2x: {verdict(growth <= TARGETS['bytes_growth'])}")  # fmt: skip
    print(f"Lighthouse (site with {args.lighthouse_studies} studies; targets: performance >= 95, others 100)")
    for name, scores in lighthouse(args.lighthouse_studies):
        ok = scores["performance"] >= TARGETS["performance"] and all(
            scores[key] >= TARGETS["others"] for key in ("accessibility", "best-practices", "seo")
        )
        line = "  ".join(f"{key} {value:3d}" for key, value in scores.items())
        print(f"  {name:<11} {line}   {verdict(ok)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark runs and prints every figure. It is never a timed test: numbers are not judged here."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

FIGURES = [
    "render (build.py)", "MkDocs", "total", "per study", "render share", "total / plain MkDocs",
    "HTML bytes per study page", "peak memory", "Lighthouse",
    "performance", "accessibility", "best-practices", "seo",
]  # fmt: skip


def test_benchmark_runs_at_a_tiny_size_and_prints_every_figure() -> None:
    """`bench.py` at N = 2 and 3, one run each, prints each figure with its target, and Lighthouse scores."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench.py"), "--sizes", "2", "3", "--runs", "1", "--lighthouse-sizes", "2"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for figure in FIGURES:
        assert figure in result.stdout, figure
    assert result.stdout.count("target") >= 5
    for page in ("home", "study", "comparison", "citations"):
        assert f"  {page}" in result.stdout

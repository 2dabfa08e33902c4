"""The benchmark runs and prints every figure beside its target. It is never a timed test: numbers are not judged here."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

TARGETS = [
    "save to served page, 1 study:", "target <= 1.5 s",
    "full build / plain MkDocs, 2 studies, first build on a machine, nothing kept:", "once per machine: no target",
    "target <= 1.2x",
    "full build / plain MkDocs, 2 studies, first build of a second fresh copy, with what the first kept:",
    "full build / plain MkDocs, 2 studies, after an edit to one study:",
    "build cost per study, 2 studies / 2 studies:", "target <= 1.3x",
    "study page HTML, 2 studies / 2 studies:", "target <= 1.2x",
    "Lighthouse, mobile preset", "performance >= 95, accessibility, best-practices, seo 100",
    "search index fetched on a first visit:", "target: not fetched",
]  # fmt: skip


def test_benchmark_smoke_run_prints_every_figure_beside_its_target() -> None:
    """`bench.py --smoke` (live preview at 1 study, builds at 2, one run, no Lighthouse) exits 0 and prints each target's label."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench.py"), "--smoke"], capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    for label in TARGETS:
        assert label in result.stdout, label
    assert result.stdout.count(": met") + result.stdout.count(": NOT MET") == 5
    assert len(re.findall(r"; CPU time \d+\.\d{3}x;", result.stdout)) == 3, "each build ratio has its CPU-time one"

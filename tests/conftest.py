"""Shared test setup: paths, the golden-file flag, and a fixture site in a temp dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"
GOLDEN = ROOT / "tests" / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the fixture data instead of comparing (review the diff!)",
    )


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
    import build

    return [name for name in names if (Path(folder) / name).is_file() and build.is_generated(Path(folder) / name)]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

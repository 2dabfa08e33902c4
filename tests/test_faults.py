"""Faults: a build killed at any moment, a full or failing disk, and bad edits while
serving. docs/ and site/ are each always the complete old or the complete new
version, never missing, and the next build clears whatever a killed one left."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, fixture_sources, snapshot
from test_site import fetch as page_text
from test_site import wait_for

import build
from bench import free_port
from evidence import write

STUDY = "data/studies/fixture-trial.yaml"


def build_command(folder: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "build.py"), "--data", str(folder / "data"), "--docs", str(folder / "docs"),
            "--config", str(folder / "mkdocs.yml"), *extra]  # fmt: skip


def fixture_project(folder: Path) -> Path:
    """The site's sources with the fixture data (small: a build takes about two seconds)."""
    folder.mkdir(parents=True, exist_ok=True)
    return fixture_sources(folder)


def make_new_version(folder: Path) -> None:
    study = folder / STUDY
    study.write_text(
        re.sub(r"^headline: .*$", "headline: The new version of the page", study.read_text(), count=1, flags=re.M)
    )


def debris(folder: Path) -> list[str]:
    """What a killed build may leave: staging folders beside docs/ and temporary files in it."""
    staging = [path.name for path in folder.glob(f"{write.STAGING_PREFIX}*")]
    return staging + [path.name for path in (folder / "docs").rglob(f"{write.TEMP_PREFIX}*")]


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A project built at the old version, and the docs/ and site/ of the new version (built side by side)."""
    old = fixture_project(tmp_path_factory.mktemp("old"))
    new = fixture_project(tmp_path_factory.mktemp("new"))
    make_new_version(new)
    running = [subprocess.Popen(build_command(folder, "--site"), stdout=subprocess.DEVNULL) for folder in (old, new)]
    assert [process.wait() for process in running] == [0, 0]
    return {"old": old, "new": new}


# A build run with a Python audit hook that SIGKILLs it at a chosen moment, told by the
# file-system events the standard library reports (nothing in build.py is patched, so the
# aim holds whatever its functions are called): the n-th event of a kind whose path holds
# a marker; or, from then on, as soon as MkDocs has written a page into the staging site.
KILLER = """
import os, runpy, signal, sys, threading, time
from pathlib import Path
build, root, event, marker, nth, then = sys.argv[1:7]
del sys.argv[1:7]
seen = [0]

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

def at_first_page():
    while not any(Path(root).glob(".build-site*/index.html")):
        time.sleep(0.001)
    kill()

def hook(name, args):
    if name == event and marker in str(args[0]):
        seen[0] += 1
        if seen[0] == int(nth):
            threading.Thread(target=at_first_page, daemon=True).start() if then == "first-page" else kill()

sys.addaudithook(hook)
sys.argv[0] = build
runpy.run_path(build, run_name="__main__")
"""

# Each moment: (with --site, the audit event, a marker in its path, which occurrence, then),
# and the docs/ and site/ a kill then must leave. Every build writes its pages into a staging
# copy of docs/ (temporary files renamed into place), swaps it in, and with --site has MkDocs
# (in the same process) write a staging site/, made just before MkDocs starts, that it swaps
# in last; then it removes the staging folders.
MOMENTS = {
    "while the data is read": ((False, "open", "/data/studies/", 1, "kill"), "old", "old"),
    "while the staging docs are written": ((True, "open", f"/{write.TEMP_PREFIX}", 2, "kill"), "old", "old"),
    "just after docs/ is swapped in (docs only)": (
        (False, "shutil.rmtree", f"{write.STAGING_PREFIX}docs", 1, "kill"), "new", "old"),
    "just after docs/ is swapped in, as MkDocs starts": (
        (True, "tempfile.mkdtemp", f"{write.STAGING_PREFIX}site", 1, "kill"), "new", "old"),
    "while MkDocs writes the staging site": (
        (True, "tempfile.mkdtemp", f"{write.STAGING_PREFIX}site", 1, "first-page"), "new", "old"),
    "just after site/ is swapped in": ((True, "shutil.rmtree", f"{write.STAGING_PREFIX}site", 1, "kill"), "new", "new"),
}  # fmt: skip


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_build_killed_at_each_moment_leaves_old_or_new_and_no_debris(
    versions: dict[str, Path], tmp_path: Path, moment: str
) -> None:
    """A build killed (SIGKILL) at the moment named leaves docs/ and site/ each exactly the old
    or the new version, as that moment implies, and the next build leaves only the new one."""
    (with_site, event, marker, nth, then), docs_after, site_after = MOMENTS[moment]
    expected = {
        name: {version: snapshot(versions[version] / name) for version in ("old", "new")} for name in ("docs", "site")
    }
    assert expected["docs"]["old"] != expected["docs"]["new"]
    assert expected["site"]["old"] != expected["site"]["new"]
    folder = tmp_path / "trial"
    shutil.copytree(versions["old"], folder)
    make_new_version(folder)
    extra = ["--site"] if with_site else []
    aimed = [sys.executable, "-c", KILLER, str(ROOT / "build.py"), str(folder), event, marker, str(nth), then]
    killed = subprocess.run([*aimed, *build_command(folder, *extra)[2:]], capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, f"the build was not killed {moment}: {killed.stderr}"
    assert snapshot(folder / "docs") == expected["docs"][docs_after], f"docs/ is not the {docs_after} version"
    assert snapshot(folder / "site") == expected["site"][site_after], f"site/ is not the {site_after} version"

    finished = subprocess.run(build_command(folder, *extra), capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert debris(folder) == []
    assert snapshot(folder / "docs") == expected["docs"]["new"]
    if with_site:
        assert snapshot(folder / "site") == expected["site"]["new"]


def test_site_is_never_missing_while_it_is_swapped(versions: dict[str, Path], tmp_path: Path) -> None:
    """A reader polling site/index.html during a build always finds it."""
    folder = tmp_path / "poll"
    shutil.copytree(versions["old"], folder)
    make_new_version(folder)
    process = subprocess.Popen(build_command(folder, "--site"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    misses = 0
    while process.poll() is None:
        misses += not (folder / "site" / "index.html").is_file()
    assert process.returncode == 0
    assert misses == 0


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only")])
def test_a_failing_disk_gives_a_plain_message_and_changes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int, words: str
) -> None:
    """A write that fails part way (disk full, read-only) is reported in plain words; docs/ is as it was."""
    assert build.main(["--data", "data", "--docs", "docs"]) == 0
    make_new_version(project)
    before = snapshot(project / "docs")
    written = []
    real = write._write_atomically

    def failing(target: Path, data: bytes) -> None:
        if len(written) == 2:
            raise OSError(code, os.strerror(code), str(target))
        written.append(target)
        real(target, data)

    monkeypatch.setattr(write, "_write_atomically", failing)
    capsys.readouterr()
    assert build.main(["--data", "data", "--docs", "docs"]) == 1
    err = capsys.readouterr().err
    assert words in err
    assert err.endswith("; docs/ and site/ are unchanged\n")
    assert "Traceback" not in err
    assert snapshot(project / "docs") == before
    assert debris(project) == []


def test_a_file_size_limit_mid_build_is_a_plain_message(versions: dict[str, Path], tmp_path: Path) -> None:
    """With writes capped (as on a full disk), the real command fails cleanly and leaves both folders."""
    import resource

    folder = tmp_path / "capped"
    shutil.copytree(versions["old"], folder)
    make_new_version(folder)
    before = snapshot(folder / "docs"), snapshot(folder / "site")

    def cap() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    result = subprocess.run(
        build_command(folder, "--site"), capture_output=True, text=True, check=False, preexec_fn=cap, timeout=120
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "File too large" in result.stderr
    assert (snapshot(folder / "docs"), snapshot(folder / "site")) == before
    assert debris(folder) == []


# --- Live preview ---------------------------------------------------------------------


def test_live_preview_survives_bad_edits_and_shows_the_next_good_one(tmp_path: Path) -> None:
    """An impossible date, then an editor's lock file: make serve prints located errors, keeps
    serving the last good page, and shows the next good edit."""
    folder = fixture_project(tmp_path / "serve")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        build_command(folder, "--serve", "--dev-addr", f"127.0.0.1:{port}"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/studies/fixture-trial/"
    study = folder / STUDY
    try:
        assert wait_for(lambda: "Fixture" in page_text(url), 60), "the dev server did not start"
        good = study.read_text()
        study.write_text(good.replace("last_reviewed: 2024-01-15", "last_reviewed: 2026-02-30"))
        assert wait_for(lambda: "is not a real date" in (tmp_path / "serve.log").read_text(), 20)
        assert process.poll() is None
        assert "Fixture" in page_text(url)

        (folder / "data" / "studies" / ".#fixture-trial.yaml").symlink_to("user@host.1234:5678")
        study.write_text(re.sub(r"^headline: .*$", "headline: Edited while serving", good, count=1, flags=re.M))
        assert wait_for(lambda: "Edited while serving" in page_text(url), 30)
        assert process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "data/studies/fixture-trial.yaml:7: last_reviewed: '2026-02-30' is not a real date" in text.replace(
        str(folder) + "/", ""
    )
    assert "Traceback" not in text

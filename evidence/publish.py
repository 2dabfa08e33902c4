"""Step 5, publish: build site/ from docs/ with MkDocs (or an engine that reads the
same configuration), strictly, and swap it in whole; and the offline copy."""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

from evidence.check import SiteData
from evidence.load import display_path
from evidence.render import render_site
from evidence.render.environment import TEMPLATES
from evidence.render.figures import with_pngs
from evidence.write import exchange, is_generated, staging_folder, write_pages

ENGINES = ("mkdocs", "properdocs", "zensical")


def engine_command(engine: str, config_file: Path, site_dir: Path) -> list[str]:
    """The command that builds `config_file` into `site_dir`, strictly, with one of
    the engines the site is tested on: MkDocs (the default), ProperDocs (the
    continuation of MkDocs 1.x) or Zensical (Material's successor). Zensical has no
    option for the output folder, so a config beside the real one inherits it and
    names the folder."""
    scripts = Path(sys.executable).parent
    if engine == "mkdocs":  # not --quiet: that hides the warnings strict mode must fail on
        return [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file), "-d", str(site_dir)]
    if engine == "properdocs":
        return [str(scripts / "properdocs"), "build", "--strict", "-f", str(config_file), "-d", str(site_dir)]
    # Zensical's classic variant is Material's look, which site.css and the theme's
    # accessibility fixes were made for (its modern one fails colour contrast).
    settings = {"INHERIT": config_file.name, "site_dir": str(site_dir), "theme": {"variant": "classic"}}
    inheriting = site_dir.with_name(site_dir.name + ".yml")
    inheriting.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return [str(scripts / "zensical"), "build", "--strict", "--clean", "-f", str(inheriting)]


def build_site(config_file: Path, content_date: dt.date, engine: str = "mkdocs") -> None:
    """Build the site with `engine` into a staging folder, then swap it in for site/.

    The build is dated by the data (SOURCE_DATE_EPOCH), not the clock, so that the
    same data always gives the same bytes, sitemap included."""
    root = config_file.resolve().parent
    epoch = dt.datetime.combine(content_date, dt.time(), tzinfo=dt.UTC).timestamp()
    with staging_folder(root, "site") as staging:
        result = subprocess.run(
            engine_command(engine, config_file.resolve(), staging),
            check=False,
            env={**os.environ, "SOURCE_DATE_EPOCH": str(int(max(epoch, 0)))},
            preexec_fn=die_with_parent,
        )
        if result.returncode != 0:
            raise MkDocsFailed(engine, result.returncode)
        exchange(staging, root / "site")


def die_with_parent() -> None:
    """In the MkDocs child: end when build.py ends, even by SIGKILL (Linux's
    PR_SET_PDEATHSIG), so that no orphan goes on writing a staging folder."""
    prctl = getattr(ctypes.CDLL(None), "prctl", None)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_PR_SET_PDEATHSIG = 1


class MkDocsFailed(Exception):
    """The engine's strict build exited non-zero (it printed why)."""


class ConfigError(Exception):
    """The MkDocs configuration could not be read."""


def build_offline(site: SiteData, config_file: Path, docs_dir: Path, archive: Path) -> None:
    """Build a copy of the site that works opened from the file system, and zip it.

    The pages are rendered again with file URLs (x.html), and MkDocs runs with
    Material's offline plugin, which makes search work without a server. The zip
    is deterministic (sorted names, timestamps from the data) and replaces the
    target only once it is complete."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copytree(docs_dir / "assets", work / "docs" / "assets", ignore=lambda d, names: [
            n for n in names if is_generated(Path(d) / n)
        ])  # fmt: skip
        rendered = render_site(site, directory_urls=False)
        write_pages(with_pngs(rendered, docs_dir), work / "docs")  # the PNGs of the build just made
        shutil.copytree(TEMPLATES / "theme", work / "templates" / "theme")
        try:
            config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ConfigError(f"{display_path(config_file)}: {error}") from None
        config["plugins"] = [*config.get("plugins", []), "offline"]
        config["use_directory_urls"] = False
        # The offline plugin would load this shim from a CDN unless it is already listed.
        config.setdefault("extra", {})["polyfills"] = ["assets/vendor/iframe-worker-shim.js"]
        (work / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        build_site(work / "mkdocs.yml", site.last_reviewed)
        # A zip cannot hold dates before 1980.
        day = max(site.last_reviewed, dt.date(1980, 1, 1))
        stamp = (day.year, day.month, day.day, 0, 0, 0)
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = work / "offline.zip"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted((work / "site").rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(f"ketamine-naltrexone/{path.relative_to(work / 'site').as_posix()}", stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    bundle.writestr(info, path.read_bytes())
        shutil.move(partial, archive)

"""Step 5, publish: build site/ from docs/ with MkDocs (or an engine that reads the
same configuration), strictly, and swap it in whole; and the offline copy."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jinja2
import yaml
from mkdocs.theme import Theme

from evidence.check import SiteData
from evidence.load import display_path
from evidence.render import render_site
from evidence.render.environment import TEMPLATES
from evidence.render.figures import with_pngs
from evidence.write import exchange, is_generated, staging_folder, write_pages

ENGINES = ("mkdocs", "properdocs", "zensical")


def engine_command(engine: str, config_file: Path, site_dir: Path) -> list[str]:
    """The command that builds `config_file` into `site_dir`, strictly, with one of the
    other engines the site is tested on (MkDocs itself runs in this process, see
    `run_mkdocs`): ProperDocs (the continuation of MkDocs 1.x) or Zensical
    (Material's successor). Zensical has no option for the output folder, so a config
    beside the real one inherits it and names the folder."""
    scripts = Path(sys.executable).parent
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

    MkDocs runs in this process (`run_mkdocs`); ProperDocs and Zensical as commands.
    The build is dated by the data (SOURCE_DATE_EPOCH), not the clock, so that the
    same data always gives the same bytes, sitemap included."""
    root = config_file.resolve().parent
    epoch = str(int(max(dt.datetime.combine(content_date, dt.time(), tzinfo=dt.UTC).timestamp(), 0)))
    with staging_folder(root, "site") as staging:
        if engine == "mkdocs":
            run_mkdocs(config_file.resolve(), staging, epoch=epoch)
        else:
            result = subprocess.run(
                engine_command(engine, config_file.resolve(), staging),
                check=False,
                env={**os.environ, "SOURCE_DATE_EPOCH": epoch},
                preexec_fn=die_with_parent,
            )
            if result.returncode != 0:
                raise MkDocsFailed(engine, result.returncode)
        exchange(staging, root / "site")


def run_mkdocs(
    config_file: Path, site_dir: Path, *, epoch: str | None = None, serve_url: str | None = None, dirty: bool = False
) -> None:
    """`mkdocs build --strict` in this process, which saves starting Python and importing
    MkDocs and Material a second time; with `serve_url`, a live preview's build, which is
    not strict (MkDocs still prints its warnings) and may be `dirty` (only the pages whose
    Markdown is newer than their HTML). Its messages are printed as the command prints
    them; MkDocsFailed if it fails, in strict mode on any warning (MkDocs raises Abort)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    with _mkdocs_messages(epoch):
        try:
            config = load_config(str(config_file), site_dir=str(site_dir), strict=serve_url is None)
            if serve_url:
                config.site_url = serve_url
            kept = _theme_environment(config.theme)
            config.theme.get_env = lambda: kept  # type: ignore[method-assign]
            config.plugins.on_startup(command="serve" if serve_url else "build", dirty=False)
            try:
                build(config, serve_url=serve_url, dirty=dirty)
            finally:
                config.plugins.on_shutdown()
        except MkDocsException as error:  # Abort, a configuration or build error: MkDocs logged why
            print(error.format_message().strip(), file=sys.stderr)
            raise MkDocsFailed("mkdocs", 1) from None


def _theme_environment(theme: Theme) -> jinja2.Environment:
    """The theme's Jinja environment, made once per process (for each set of theme
    folders and language), and with Jinja's bytecode cache, as our own templates have
    (evidence/render/environment.py): compiling Material's templates takes longer
    than a small site's pages, and `mkdocs build` compiles them on every run. A
    template edited while a live preview runs is compiled again (`auto_reload`)."""
    key = (tuple(theme.dirs), str(theme.locale))
    if key not in _THEME_ENVIRONMENTS:
        env = theme.get_env()
        env.auto_reload = True
        env.bytecode_cache = jinja2.FileSystemBytecodeCache()
        _THEME_ENVIRONMENTS[key] = env
    return _THEME_ENVIRONMENTS[key]


_THEME_ENVIRONMENTS: dict[tuple[tuple[str, ...], str], jinja2.Environment] = {}


@contextlib.contextmanager
def _mkdocs_messages(epoch: str | None) -> Iterator[None]:
    """MkDocs' log printed as its command prints it (`INFO    -  ...`), and SOURCE_DATE_EPOCH
    set, while the block runs; both as they were afterwards."""
    logger = logging.getLogger("mkdocs")
    handler = logging.StreamHandler()
    handler.setFormatter(_MkDocsFormatter())
    saved = logger.level, logger.propagate, os.environ.get("SOURCE_DATE_EPOCH")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    dirty_notice = logging.getLogger("mkdocs.commands.build")
    dirty_notice.addFilter(_not_the_dirty_notice)
    if epoch is not None:
        os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        yield
    finally:
        logger.removeHandler(handler)
        dirty_notice.removeFilter(_not_the_dirty_notice)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        if saved[2] is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved[2]


class _MkDocsFormatter(logging.Formatter):
    """`WARNING -  message`, as the mkdocs command prints it (without its colours)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname:<8}-  {super().format(record)}"


def _not_the_dirty_notice(record: logging.LogRecord) -> bool:
    """A live preview's dirty build is exact (see evidence/preview.py), so MkDocs' warning that a
    dirty build may be inaccurate is not printed, nor counted."""
    return not record.getMessage().startswith("A 'dirty' build is being performed")


def die_with_parent() -> None:
    """In an engine's child process: end when build.py ends, even by SIGKILL (Linux's
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
        write_pages(with_pngs(rendered), work / "docs")
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
                    # Readable by all once unpacked (with no mode, unzip makes each file 0600), as from a Unix system.
                    info.create_system, info.external_attr = 3, (stat.S_IFREG | 0o644) << 16
                    bundle.writestr(info, path.read_bytes())
        shutil.move(partial, archive)

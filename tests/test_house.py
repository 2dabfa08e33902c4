"""The shape of the code: one module per step, each importing only from the steps
before it, small functions, and errors that say what they are."""

from __future__ import annotations

import ast
import datetime as dt
import shutil
from pathlib import Path

import jinja2
import pytest
from conftest import FIXTURE_DATA, ROOT, load_site

import evidence.render
from evidence.render import RenderError, render_site
from evidence.render.pages import Page

# Each module's place in the pipeline; a module imports only from places before its own,
# or from its own package (render/ is one step in four modules).
PLACES = {
    "evidence.cache": 0,  # kept results of pure functions, used by render; shared, like the schema
    "evidence.schema": 0,
    "evidence.load": 1,
    "evidence.check": 2,
    "evidence.views": 3,
    "evidence.cite": 3,
    "evidence.render": 4,
    "evidence.write": 5,
    "evidence.publish": 6,
    "evidence.preview": 7,  # the live preview: publish's build, run again on each save
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The evidence modules a file imports (a name imported from a package counts as the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("evidence"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "evidence")
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("evidence"))
    return {name for name in found if name != "evidence"}


def place(module: str) -> int:
    return next(rank for prefix, rank in PLACES.items() if module == prefix or module.startswith(prefix + "."))


MODULES = {module_name(path): path for path in sorted((ROOT / "evidence").rglob("*.py")) if path.stem != "__init__"}
MODULES |= {"evidence.render": ROOT / "evidence" / "render" / "__init__.py"}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_step_imports_only_from_earlier_steps(module: str) -> None:
    """No module imports from a later step of the pipeline."""
    later = [name for name in imports_of(MODULES[module]) if place(name) > place(module)]
    assert not later, f"{module} imports from later steps: {later}"


def test_no_import_cycles() -> None:
    """The modules import one another without a cycle."""
    graph = {module: {name for name in imports_of(path) if name in MODULES} for module, path in MODULES.items()}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, f"import cycle: {' -> '.join((*trail, module))}"
        if module not in done:
            for name in graph[module] - {module}:
                visit(name, (*trail, module))
            done.add(module)

    for module in graph:
        visit(module, ())


def test_build_opens_with_the_five_steps_in_order() -> None:
    """build.py's `build` calls load, check, render, write and publish, in that order, in its first 80 lines."""
    tree = ast.parse((ROOT / "build.py").read_text(encoding="utf-8"))
    build = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "build")
    calls = [node.func.id for node in ast.walk(build) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    steps = ["read_data", "check_data", "render_site", "write_docs", "build_site"]
    assert [call for call in calls if call in steps] == steps
    assert build.lineno < 80


def test_functions_are_short() -> None:
    """No function in the build is longer than about 50 lines (docstring included)."""
    long = []
    for path in [ROOT / "build.py", ROOT / "bench.py", *sorted((ROOT / "evidence").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and node.end_lineno and node.end_lineno - node.lineno + 1 > 55:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not long


def test_a_bug_in_a_page_function_is_not_called_a_template_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A programming error in a page function comes out as itself, with its traceback, not as RenderError."""

    def broken(env: jinja2.Environment, site: object) -> dict[str, Page]:
        return {"x.md": {"no-such-key": 1}["other"]}  # type: ignore[dict-item]

    monkeypatch.setattr(evidence.render, "PAGE_RENDERERS", (broken,))
    with pytest.raises(KeyError, match="other"):
        render_site(load_site(FIXTURE_DATA, dt.date(2026, 1, 1)))


@pytest.mark.parametrize(
    ("template", "line", "kind"),
    [("{% if %}", 1, "TemplateSyntaxError"), ("ok\n{{ no_such_name }}", 2, "UndefinedError")],
)
def test_a_template_error_names_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str, line: int, kind: str
) -> None:
    """A template's own mistake is a RenderError that names the template file and line."""
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "studies.md.j2").write_text(template, encoding="utf-8")
    monkeypatch.setattr(evidence.render.environment, "TEMPLATES", templates)
    monkeypatch.setattr(evidence.render, "TEMPLATES", templates)
    with pytest.raises(RenderError) as caught:
        render_site(load_site(FIXTURE_DATA, dt.date(2026, 1, 1)))
    assert str(caught.value).startswith(f"templates/studies.md.j2:{line}: {kind}")

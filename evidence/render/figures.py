"""Figures for slides: every figure on the site as a standalone SVG and a PNG.

Each study's protocol timeline, and one figure that sets the naltrexone studies side
by side, are drawn here as self-contained SVG (no stylesheet, no fonts loaded from
anywhere) carrying their caption, source line, page address and licence, on a white
background, with no text under 26 px at 1920 px wide. The SVGs are rendered pages
(golden-tested); `rasterise` turns them into PNG bytes 1920 px wide with resvg and
the DejaVu Sans shipped in evidence/fonts/, so a PNG is the same on every machine."""

from __future__ import annotations

import dataclasses
import functools
import textwrap
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypedDict

from mkdocs.structure.files import File

from evidence import cache, cite, schema
from evidence.check import SiteData
from evidence.render.downloads import DATA_LICENCE, DATA_LICENCE_URL
from evidence.schema import Fact, Intervention, Study, format_number
from evidence.views import ordered_studies

FONTS = Path(__file__).resolve().parent.parent / "fonts"
FONT_FILES = (FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf")
FONT_FAMILY = "DejaVu Sans, Verdana, sans-serif"
FOLDER = "downloads/figures"
WIDTH = 1920
MARGIN = 80
INK = "#1a1a1a"
MUTED = "#444444"
LINE = "#999999"
SHADE = "#f0f2f8"
KETAMINE_FILL = "#5c6bc0"
SMALLEST = 26  # px at 1920 px wide: legible on a projected slide
BODY = 28
HEADING = 44
# DejaVu Sans averages about 0.55 em a character; wrapping at 0.6 em leaves room.
CHAR_EM = 0.6


@dataclasses.dataclass(frozen=True)
class Figure:
    """One downloadable figure: its file stem, caption, and the page it belongs to."""

    stem: str
    title: str
    caption: str
    source: str
    page: str  # the source path of the page where the figure and its provenance are
    anchor: str


def wrap(text: str, width_px: float, size: int) -> list[str]:
    """Lines of `text` that fit `width_px` at font size `size`."""
    return textwrap.wrap(" ".join(text.split()), max(8, int(width_px / (size * CHAR_EM)))) or [""]


def _svg(height: int, title: str) -> ET.Element:
    svg = ET.Element(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        width=str(WIDTH),
        height=str(height),
        viewBox=f"0 0 {WIDTH} {height}",
        role="img",
    )
    svg.set("font-family", FONT_FAMILY)
    ET.SubElement(svg, "title").text = title
    ET.SubElement(svg, "rect", width="100%", height="100%", fill="#ffffff")
    return svg


def _text(parent: ET.Element, x: float, y: float, content: str, size: int = BODY, **attributes: str) -> None:
    element = ET.SubElement(parent, "text", {"x": f"{x:g}", "y": f"{y:g}", "fill": INK, **attributes})
    element.set("font-size", str(size))
    element.text = content


def _lines(parent: ET.Element, x: float, y: float, lines: list[str], size: int, **attributes: str) -> float:
    """Draw lines downwards from baseline y; return the baseline after the last."""
    for line in lines:
        _text(parent, x, y, line, size, **attributes)
        y += round(size * 1.3)
    return y


def address_line(figure: Figure, site: SiteData) -> str:
    """Where the figure comes from, or in a preview that its address is not final."""
    if site.preview:
        return f"From {site.info.title}. This copy is a preview: the page's address is not final yet."
    page = File(figure.page, "docs", "site", use_directory_urls=True).url
    return f"From {urllib.parse.urljoin(site.url, page)}#{figure.anchor}"


def licence_line() -> str:
    return f"Licence: {DATA_LICENCE} ({DATA_LICENCE_URL}); reuse it, naming the source."


def _footer(svg: ET.Element, y: float, figure: Figure, site: SiteData) -> float:
    """The caption, source line, address and licence under a figure; returns the bottom."""
    width = WIDTH - 2 * MARGIN
    ET.SubElement(svg, "line", x1=str(MARGIN), y1=f"{y:g}", x2=str(WIDTH - MARGIN), y2=f"{y:g}", stroke=LINE)
    y += 50
    y = _lines(svg, MARGIN, y, wrap(figure.caption, width, BODY), BODY, **{"font-weight": "bold"})
    y += 8
    for line in (figure.source, address_line(figure, site), licence_line()):
        y = _lines(svg, MARGIN, y, wrap(line, width, SMALLEST), SMALLEST, fill=MUTED)
    return y + 30


def _finish(svg: ET.Element, height: float) -> str:
    svg.set("height", f"{height:g}")
    svg.set("viewBox", f"0 0 {WIDTH} {height:g}")
    ET.indent(svg)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(svg, encoding="unicode") + "\n"


def ama_text(site: SiteData, key: str) -> str:
    """A reference in AMA style as plain text."""
    reference = site.references[key]
    entry = cite.format_bibliography([cite.ama_item(key, reference)], cite.AMA, as_html=False)[0]
    return cite.finish_ama(entry, reference)


def marked(fact: Fact[Any], text: str | None = None) -> str:
    """A fact's text followed by the provenance symbol of each source it rests on (a fact
    confirmed at different levels shows each, as the pages do); an unknown says so."""
    if fact.level == "unknown" or fact.value is None:
        return "Not reported " + schema.LEVEL_SYMBOLS["unknown"]
    symbols = "".join(dict.fromkeys(schema.LEVEL_SYMBOLS[level] for level in levels_of(fact)))
    return f"{text if text is not None else fact.value} {symbols}"


def levels_of(fact: Fact[Any]) -> list[str]:
    """The levels of a fact's sources: its own, then each further source's."""
    return [fact.level, *(further.level for further in fact.also)]


def levels_key(levels: Collection[str]) -> str:
    """What the provenance symbols used in a figure mean."""
    labels = schema.VOCABULARIES["Level"][1]
    used = [f"{schema.LEVEL_SYMBOLS[level]} {labels[level].lower()}" for level in labels if level in levels]
    return "Marks: " + ", ".join(used) + "."


# --- The protocol timeline ----------------------------------------------------------


def protocol_figure(study: Study) -> Figure:
    levels = {level for step in study.protocol for level in levels_of(step.detail)}
    caption = (
        f"Protocol of {study.label}: {study.headline}. Naltrexone or its placebo (circle), ketamine or its control "
        f"(rectangle), assessments (diamond), later phases (triangle). {levels_key(levels)}"
    )
    return Figure(
        f"protocol-{study.id}", f"Protocol of {study.label}", caption, "", f"studies/{study.id}.md",
        f"protocol-{study.id}",
    )  # fmt: skip


def protocol_svg(study: Study, figure: Figure, site: SiteData) -> str:
    """A study's protocol as a timeline 1920 px wide, each step's mark beside its label."""
    steps = study.protocol
    spacing = (WIDTH - 2 * MARGIN) / len(steps)
    svg = _svg(0, figure.caption)
    _text(svg, MARGIN, 110, figure.title, HEADING, **{"font-weight": "bold"})
    axis = 300
    ET.SubElement(svg, "line", x1=str(MARGIN), y1=str(axis), x2=str(WIDTH - MARGIN), y2=str(axis), stroke=INK)
    svg[-1].set("stroke-width", "4")
    bottom = float(axis)
    for index, step in enumerate(steps):
        x = MARGIN + spacing / 2 + spacing * index
        group = ET.SubElement(svg, "g")
        _shape(group, step.kind, x, axis)
        when = wrap(step.when, spacing * 0.9, BODY)
        _lines(
            group, x, axis - 60 - 36 * (len(when) - 1), when, BODY, **{"text-anchor": "middle", "font-weight": "bold"}
        )
        label = wrap(marked(step.detail, step.label), spacing * 0.9, BODY)
        bottom = max(bottom, _lines(group, x, axis + 80, label, BODY, **{"text-anchor": "middle"}))
    return _finish(svg, _footer(svg, bottom + 10, figure, site))


def _shape(group: ET.Element, kind: str, x: float, y: float) -> None:
    common = {"stroke": INK, "stroke-width": "4"}
    if kind == "naltrexone":
        ET.SubElement(group, "circle", {"cx": f"{x:g}", "cy": str(y), "r": "22", "fill": INK, **common})
    elif kind == "ketamine":
        box = {"x": f"{x - 34:g}", "y": str(y - 22), "width": "68", "height": "44", "rx": "6"}
        ET.SubElement(group, "rect", {**box, "fill": KETAMINE_FILL, **common})
    elif kind == "assessment":
        points = f"{x:g},{y - 28} {x + 28:g},{y} {x:g},{y + 28} {x - 28:g},{y}"
        ET.SubElement(group, "polygon", {"points": points, "fill": "#ffffff", **common})
    else:
        points = f"{x - 26:g},{y + 22} {x:g},{y - 26} {x + 26:g},{y + 22}"
        ET.SubElement(group, "polygon", {"points": points, "fill": "#ffffff", **common})


# --- The naltrexone studies side by side --------------------------------------------

NALTREXONE_COLUMNS = (
    ("Study", 300),
    ("Naltrexone: form, dose, route", 480),
    ("When, relative to ketamine", 420),
    ("What was measured, and when", 560),
)


def naltrexone_studies(site: SiteData) -> list[Study]:
    """The studies of the comparison, which all gave naltrexone, in the site's order."""
    return [study for study in ordered_studies(site) if study.id in site.comparison.rows]


def naltrexone_cells(study: Study) -> list[list[str]]:
    """One row of the side-by-side figure: each cell's items, each item with its mark."""
    naltrexone = [i for i in study.interventions if i.agent == "naltrexone"]
    outcomes = [o for o in study.outcomes if not o.role.startswith("registry")]
    return [
        [study.label],
        [item for i in naltrexone for item in _naltrexone_form(i)],
        [marked(i.timing) for i in naltrexone],
        [f"{marked(o.measure)}: {_time_point(o.time_point)}" for o in outcomes],
    ]


def _naltrexone_form(intervention: Intervention) -> list[str]:
    dose = intervention.dose
    dose_text = f"{format_number(dose.value)} {dose.unit}" if dose and dose.value is not None else None
    items = [marked(intervention.formulation)]
    items.append(marked(dose, dose_text) if dose else "Dose not reported " + schema.LEVEL_SYMBOLS["unknown"])
    items.append(marked(intervention.route, schema.ROUTE_LABELS.get(intervention.route.value or "", "")))
    if intervention.doses.value is not None:
        count = intervention.doses.value
        items.append(marked(intervention.doses, f"{count} dose{'' if count == 1 else 's'}"))
    return items


def _time_point(fact: Fact[str]) -> str:
    return "time not reported " + schema.LEVEL_SYMBOLS["unknown"] if fact.value is None else marked(fact)


def naltrexone_figure(site: SiteData) -> Figure:
    studies = naltrexone_studies(site)
    used = {level for study in studies for fact in naltrexone_facts(study) for level in levels_of(fact)}
    caption = (
        "Naltrexone in the studies of ketamine, side by side: its form, dose and route, when it was given "
        f"relative to ketamine, and what was measured when. {levels_key(used)}"
    )
    sources = "; ".join(study.label for study in studies)
    return Figure(
        "naltrexone-studies", "Naltrexone in the studies of ketamine", caption,
        f"Sources: {sources}, as recorded with each fact's source on the comparison page.",
        "comparison.md", "naltrexone-studies",
    )  # fmt: skip


def naltrexone_svg(site: SiteData, figure: Figure) -> str:
    """The naltrexone studies as rows of a grid 1920 px wide."""
    svg = _svg(0, figure.caption)
    _text(svg, MARGIN, 110, figure.title, HEADING, **{"font-weight": "bold"})
    y = 190.0
    x, below = float(MARGIN), y
    for heading, width in NALTREXONE_COLUMNS:
        below = max(below, _lines(svg, x, y, wrap(heading, width - 24, BODY), BODY, **{"font-weight": "bold"}))
        x += width
    y = below - BODY
    for index, study in enumerate(naltrexone_studies(site)):
        cells = [[line for item in cell for line in wrap(item, width - 24, SMALLEST)] for cell, (_, width) in
                 zip(naltrexone_cells(study), NALTREXONE_COLUMNS, strict=True)]  # fmt: skip
        height = 24 + max(len(cell) for cell in cells) * round(SMALLEST * 1.3) + 12
        if index % 2 == 0:
            ET.SubElement(svg, "rect", x=str(MARGIN - 12), y=f"{y:g}", width=str(WIDTH - 2 * MARGIN + 24),
                          height=f"{height:g}", fill=SHADE)  # fmt: skip
        x = float(MARGIN)
        for cell, (_, width) in zip(cells, NALTREXONE_COLUMNS, strict=True):
            weight = {"font-weight": "bold"} if x == MARGIN else {}
            _lines(svg, x, y + 24 + SMALLEST, cell, SMALLEST, **weight)
            x += width
        y += height
    return _finish(svg, _footer(svg, y + 20, figure, site))


# --- The page and the downloads -----------------------------------------------------


def figures_of(site: SiteData) -> list[tuple[Figure, Callable[[], str]]]:
    """Every figure on the site, the side-by-side figure and then each protocol, with
    what draws its SVG (the Figures page needs the figures, not their pictures)."""
    out: list[tuple[Figure, Callable[[], str]]] = []
    if site.comparison.rows:
        figure = naltrexone_figure(site)
        out.append((figure, functools.partial(naltrexone_svg, site, figure)))
    for study in ordered_studies(site):
        if study.protocol:
            figure = protocol_figure(study)
            figure = dataclasses.replace(figure, source=f"Source: {ama_text(site, study.reference)}")
            out.append((figure, functools.partial(protocol_svg, study, figure, site)))
    return out


def figure_files(site: SiteData) -> dict[str, str]:
    """Each figure as an SVG under downloads/figures/."""
    return {f"{FOLDER}/{figure.stem}.svg": draw() for figure, draw in figures_of(site)}


def naltrexone_facts(study: Study) -> list[Fact[Any]]:
    """The facts the side-by-side figure shows for a study."""
    facts: list[Fact[Any]] = []
    for i in study.interventions:
        if i.agent == "naltrexone":
            facts += [i.formulation, i.route, i.timing, i.doses, *([i.dose] if i.dose else [])]
    facts += [f for o in study.outcomes if not o.role.startswith("registry") for f in (o.measure, o.time_point)]
    return facts


def naltrexone_sources(study: Study) -> list[str]:
    return [fact.source for fact in naltrexone_facts(study) if fact.source and fact.level != "unknown"]


def naltrexone_rows(site: SiteData) -> list[dict[str, Any]]:
    """What the side-by-side figure shows, for its text alternative on the page."""
    rows = []
    for study in naltrexone_studies(site):
        rows.append(
            {
                "study": study,
                "naltrexone": [i for i in study.interventions if i.agent == "naltrexone"],
                "outcomes": [o for o in study.outcomes if not o.role.startswith("registry")],
            }
        )
    return rows


def with_pngs(files: Mapping[str, str]) -> dict[str, str | bytes]:
    """The rendered files and, beside each SVG figure, its PNG (see `rasterise`)."""
    return {**files, **rasterise(files)}


def rasterise(files: Mapping[str, str | bytes]) -> dict[str, bytes]:
    """A PNG 1920 px wide for every SVG figure among the rendered files."""
    return {
        path.removesuffix(".svg") + ".png": png_of(text)
        for path, text in files.items()
        if path.startswith(FOLDER + "/") and path.endswith(".svg") and isinstance(text, str)
    }


# Everything a PNG is drawn with is in its cache key: a change here draws every PNG anew.
class _PngOptions(TypedDict):
    width: int
    background: str
    skip_system_fonts: bool
    font_family: str


PNG_OPTIONS: _PngOptions = {
    "width": WIDTH,
    "background": "#ffffff",
    "skip_system_fonts": True,
    "font_family": "DejaVu Sans",
}


def png_of(svg: str) -> bytes:
    """An SVG figure as PNG bytes with resvg, using only the fonts shipped here. resvg
    takes longer than the rest of a small build, so each PNG is kept (evidence/cache.py)."""
    name = cache.key(cache.version("resvg-py"), repr(PNG_OPTIONS),
                     *(cache.file_digest(path) for path in FONT_FILES), svg)  # fmt: skip
    return cache.kept("png", name, lambda: _draw_png(svg))


def _draw_png(svg: str) -> bytes:
    import resvg_py

    fonts = [str(path) for path in FONT_FILES]
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, font_files=fonts, **PNG_OPTIONS))

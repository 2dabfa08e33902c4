"""Figures for slides: every figure downloads as a standalone SVG (read back with an XML
parser) and a PNG 1920 px wide (its size read from the PNG header), each carrying its
caption, source, page address and licence; the Figures page and the comparison show
them with download links and text alternatives; study pages open with "Cite this study"."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import bibtexparser
import pytest
import rispy
import yaml
from conftest import RELEASE_URL, ROOT

from evidence import cache
from evidence.render import figures

SVG = "{http://www.w3.org/2000/svg}"
PROTOCOL_STUDIES = ["williams-2018", "williams-2019", "yoon-2019", "yoon-2025", "jelen-2025"]
FIGURES = ["naltrexone-studies", *(f"protocol-{study}" for study in PROTOCOL_STUDIES)]
PAGE_OF = {"naltrexone-studies": "comparison/#naltrexone-studies",
           **{f"protocol-{s}": f"studies/{s}/#protocol-{s}" for s in PROTOCOL_STUDIES}}  # fmt: skip
PLACEHOLDER = "ketamine-naltrexone.example.org"


def svg_of(site: Path, stem: str) -> ET.Element:
    return ET.parse(site / "downloads" / "figures" / f"{stem}.svg").getroot()


def svg_text(root: ET.Element) -> str:
    """The figure's text as a reader of the picture sees it, line by line joined."""
    return " ".join(" ".join(element.itertext()) for element in root.iter(f"{SVG}text"))


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_every_figure_downloads_as_svg_and_png(site: Path) -> None:
    """Each protocol and the side-by-side figure are under downloads/figures/ as SVG and PNG, and nothing else is."""
    folder = site / "downloads" / "figures"
    expected = {f"{stem}.{kind}" for stem in FIGURES for kind in ("svg", "png")}
    assert {path.name for path in folder.iterdir()} == expected


@pytest.mark.parametrize("stem", FIGURES)
def test_a_png_is_1920_px_wide_and_as_tall_as_its_svg(site: Path, stem: str) -> None:
    """The PNG is 1920 px wide with the SVG's aspect ratio (rasterised from it, not a browser screenshot)."""
    root = svg_of(site, stem)
    width, height = png_size(site / "downloads" / "figures" / f"{stem}.png")
    assert (width, height) == (1920, round(float(root.get("height", "0"))))
    assert root.get("width") == "1920"


@pytest.mark.parametrize("stem", FIGURES)
def test_a_figure_carries_caption_source_licence_and_says_its_preview_address_is_not_final(
    site: Path, stem: str
) -> None:
    """The SVG has a title, a white background, its caption, a source line and the licence; a preview names no host."""
    root = svg_of(site, stem)
    text = svg_text(root)
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}title").text
    background = root.find(f"{SVG}rect")
    assert background is not None
    assert background.get("fill") == "#ffffff"
    assert background.get("width") == "100%"
    assert "Source" in text
    assert "Licence: CC BY 4.0" in text
    assert "the page's address is not final" in text
    assert PLACEHOLDER not in (site / "downloads" / "figures" / f"{stem}.svg").read_text(encoding="utf-8")


@pytest.mark.parametrize("stem", FIGURES)
def test_a_release_figure_names_its_page_address(release_site: Path, stem: str) -> None:
    """In a release build the figure names the address of the page it comes from."""
    assert f"From {RELEASE_URL}{PAGE_OF[stem]}" in svg_text(svg_of(release_site, stem))


@pytest.mark.parametrize("stem", FIGURES)
def test_no_figure_text_is_smaller_than_24_px_at_1920_px(site: Path, stem: str) -> None:
    """Every text of a figure is at least 24 px on its 1920 px canvas, legible when projected."""
    sizes = [float(element.get("font-size", "0")) for element in svg_of(site, stem).iter(f"{SVG}text")]
    assert sizes
    assert min(sizes) >= 24


def test_no_figure_text_runs_off_the_canvas(site: Path) -> None:
    """No line of a figure is wider than its column or the canvas, by DejaVu Sans's widest average."""
    for stem in FIGURES:
        for element in svg_of(site, stem).iter(f"{SVG}text"):
            size, x = float(element.get("font-size", "0")), float(element.get("x", "0"))
            half = 0.5 if element.get("text-anchor") == "middle" else 1
            assert x + half * len(element.text or "") * size * 0.6 <= 1920 - 40, (stem, element.text)


def test_the_protocol_figure_shows_each_step_with_its_provenance_mark(site: Path) -> None:
    """Williams 2018's figure shows each step's time and label, with the mark of its level and the citation."""
    text = svg_text(svg_of(site, "protocol-williams-2018"))
    for words in ("45 min before", "About 30 days later", "HAM-D-6 and HAM-D-17 ●", "The other condition ○"):
        assert words in text
    assert "Williams NR, Heifets BD, Blasey C, et al." in text
    assert "doi:10.1176/appi.ajp.2018.18020138" in text


def test_the_side_by_side_figure_sets_out_each_naltrexone_study(site: Path) -> None:
    """The side-by-side figure gives each study's naltrexone form, dose, route, timing and measures, as recorded."""
    text = " ".join(svg_text(svg_of(site, "naltrexone-studies")).split())
    for label in ("Jelen et al. 2025", "Yoon et al. 2025", "Williams et al. 2018", "Williams et al. 2019"):
        assert label in text
    for words in ("380 mg", "Intramuscular injection", "45 minutes before the", "By mouth", "MADRS"):
        assert words in text
    assert "Not reported ?" in text, "Yoon 2025's unknown timing is shown as unknown"


def test_pngs_are_the_same_bytes_from_the_same_svg() -> None:
    """Rasterising uses only the shipped fonts, so the same SVG always gives the same PNG."""
    svg = (ROOT / "tests" / "golden" / "downloads" / "figures" / "protocol-fixture-trial.svg").read_text()
    assert figures.png_of(svg) == figures.png_of(svg)
    assert all(path.is_file() for path in figures.FONT_FILES)
    assert (figures.FONTS / "LICENSE.txt").read_text().count("Bitstream") > 3


def test_the_figures_page_is_in_the_navigation_and_links_every_download(site: Path) -> None:
    """The Figures page is in the navigation and links both files of every figure."""
    nav = yaml.safe_load((site.parent / "docs" / "generated.yml").read_text(encoding="utf-8"))["nav"]
    assert {"Figures for slides": "figures.md"} in nav
    html = (site / "figures" / "index.html").read_text(encoding="utf-8")
    for stem in FIGURES:
        for kind in ("svg", "png"):
            assert f'href="../downloads/figures/{stem}.{kind}"' in html
    assert 'src="../downloads/figures/naltrexone-studies.svg"' in html


def test_figures_keep_their_text_alternatives(site: Path) -> None:
    """The side-by-side picture has alt text and is listed in words; protocols are inline SVG with their steps
    on the Figures page, and on the comparison each study's entry links its timeline's downloads."""
    for page in ("figures", "comparison"):
        html = (site / page / "index.html").read_text(encoding="utf-8")
        figure = html[html.index('<figure class="slide-figure"') :]
        assert re.search(r'<img alt="Naltrexone in the studies of ketamine[^"]+"', figure)
        assert "The figure in words:" in html
        assert "Injectable naltrexone, given into a muscle" in html
    figures = (site / "figures" / "index.html").read_text(encoding="utf-8")
    assert figures.count('<ol class="protocol-steps">') == len(PROTOCOL_STUDIES)
    comparison = (site / "comparison" / "index.html").read_text(encoding="utf-8")
    assert '<ol class="protocol-steps">' not in comparison
    entry = comparison[comparison.index('id="protocol-of-yoon-2019"') :]
    entry = entry[: entry.index("</li>")]
    assert 'href="../downloads/figures/protocol-yoon-2019.png"' in entry
    assert 'href="../downloads/figures/protocol-yoon-2019.svg"' in entry


@pytest.mark.parametrize("study", PROTOCOL_STUDIES)
def test_a_study_page_links_its_protocol_figure_downloads(site: Path, study: str) -> None:
    """A study page offers its protocol figure as SVG and PNG for slides."""
    html = (site / "studies" / study / "index.html").read_text(encoding="utf-8")
    assert f'href="../../downloads/figures/protocol-{study}.svg"' in html
    assert f'href="../../downloads/figures/protocol-{study}.png"' in html


def test_a_study_page_opens_with_cite_this_study(site: Path) -> None:
    """The first section of a study page is "Cite this study": the paper in AMA, apart from "Cite this page"."""
    html = (site / "studies" / "williams-2018" / "index.html").read_text(encoding="utf-8")
    article = html[html.index("<article") :]
    headings = re.findall(r"<h2 id=\"([^\"]+)\"", article)
    assert headings[0] == "citation"
    assert headings[-1] == "cite-this-page"
    block = article[article.index('<div class="cite-study">') : article.index('id="naltrexone-effect"')]
    assert "Cite this study" in block
    assert "Williams NR, Heifets BD, Blasey C, et al." in block
    assert "Cite this page" not in block.replace('"Cite this page" box', "")
    assert 'href="../../downloads/studies/williams-2018/paper.bib"' in block
    assert 'href="../../downloads/studies/williams-2018/paper.ris"' in block


@pytest.mark.parametrize("study", [*PROTOCOL_STUDIES, "berman-2000"])
def test_cite_this_study_exports_hold_the_paper_alone(site: Path, study: str) -> None:
    """paper.bib and paper.ris read back (bibtexparser, rispy) as exactly one entry, the study's own paper."""
    references = yaml.safe_load((ROOT / "data" / "references.yaml").read_text(encoding="utf-8"))
    key = yaml.safe_load((ROOT / "data" / "studies" / f"{study}.yaml").read_text(encoding="utf-8"))["reference"]
    folder = site / "downloads" / "studies" / study
    library = bibtexparser.parse_string((folder / "paper.bib").read_text(encoding="utf-8"))
    assert [entry.key for entry in library.entries] == [key]
    assert library.failed_blocks == []
    ris = rispy.loads((folder / "paper.ris").read_text(encoding="utf-8"))
    assert len(ris) == 1
    if references[key].get("doi"):
        assert ris[0]["doi"] == references[key]["doi"]


def test_a_png_is_drawn_once_for_each_svg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PNG is kept between builds (evidence/cache.py), by the SVG it is drawn from: the
    same SVG is not drawn again, a changed one is, and so is one whose kept PNG is damaged."""
    svg = (ROOT / "tests" / "golden" / "downloads" / "figures" / "protocol-fixture-trial.svg").read_text()
    drawn: list[str] = []
    draw = figures._draw_png
    monkeypatch.setattr(figures, "_draw_png", lambda text: drawn.append(text) or draw(text))
    monkeypatch.setattr(cache, "_folder", tmp_path)  # as cache.use(tmp_path, writable=True), undone afterwards
    monkeypatch.setattr(cache, "_writable", True)
    files = {"downloads/figures/a.svg": svg, "downloads/figures/b.svg": svg, "index.md": "not a figure"}
    pngs = figures.rasterise(files)
    assert set(pngs) == {"downloads/figures/a.png", "downloads/figures/b.png"}
    assert pngs["downloads/figures/a.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert len(drawn) == 1
    assert figures.rasterise(files) == pngs
    assert len(drawn) == 1
    changed = svg.replace("Tester", "Other")
    assert figures.png_of(changed) != pngs["downloads/figures/a.png"]
    assert len(drawn) == 2
    for entry in (tmp_path / "png").iterdir():
        entry.write_bytes(entry.read_bytes()[:100])
    assert figures.rasterise(files) == pngs
    assert len(drawn) == 3

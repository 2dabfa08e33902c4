"""The Jinja environment every page is rendered in, and the one escaping rule:
every value from the data is escaped on its way into a page (`escape_text`),
unless a helper here marked it as markup it built itself."""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from evidence import cite, schema
from evidence.check import SiteData
from evidence.schema import Reference, Study, format_number
from evidence.views import STUDY_ORDER, citation_order, reference_labels, short_name

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"

# --- Escaping ---------------------------------------------------------------------

# The one escaping table: what Markdown acts on, then what HTML acts on. Each becomes
# a numeric character reference, which reads the same in a browser.
_MARKDOWN_CHARACTERS = "\\`*_{}[]|"
_HTML_CHARACTERS = "<>&\"'"
_MARKDOWN_SPECIAL = str.maketrans({c: f"&#{ord(c)};" for c in _MARKDOWN_CHARACTERS + _HTML_CHARACTERS})
_MARKDOWN_ONLY = str.maketrans({c: f"&#{ord(c)};" for c in _MARKDOWN_CHARACTERS})
_LINE_START_SPECIAL = re.compile(r"^( ?)([#>+=-]|\d+[.)])")


def escape_inline(value: Any) -> str:
    """Escape text that sits inside a line, never at its start (see `escape_text`)."""
    return re.sub(r"\s+", " ", str(value)).translate(_MARKDOWN_SPECIAL)


def escape_text(value: Any) -> str:
    """Make a data value safe to place in Markdown and HTML: shown, never interpreted.

    Characters that Markdown or HTML would act on become character references,
    which read the same in a browser; runs of white space, line breaks included,
    fold to one space, so that no value can start a block of its own."""
    text = escape_inline(value)
    return _LINE_START_SPECIAL.sub(lambda m: f"{m.group(1)}&#{ord(m.group(2)[0])};{m.group(2)[1:]}", text)


@functools.lru_cache(maxsize=1 << 16, typed=True)
def _escaped(value: str | int) -> Markup:
    return Markup(escape_text(value))


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` is escaped unless a template helper marked it as markup.

    Pages print the same labels thousands of times, so escaped text and whole
    numbers are remembered (bool, a subclass of int, is refused before that)."""
    kind = type(value)
    if kind is str or kind is int:
        return _escaped(value)
    if isinstance(value, Markup):
        return value
    if isinstance(value, bool) or value is None:
        raise jinja2.TemplateRuntimeError(f"refusing to print {value!r} directly; say what it means in the template")
    return Markup(escape_text(format_number(value) if isinstance(value, float) else value))


ENVIRONMENT_SETTINGS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "autoescape": True,
    "finalize": _finalize,
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


@functools.cache
def _kept_environment(templates: Path) -> tuple[jinja2.Environment, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One environment for the whole process, and its own globals, filters and tests.

    Compiling the templates takes longer than rendering them, so they are compiled
    once; Jinja compiles a template again when its file has changed (`auto_reload`),
    so a long `make serve` session sees template edits. Compiled templates are also
    kept between runs, as Python keeps compiled modules, in Jinja's bytecode cache
    (a folder of the user's own in the temporary directory; an entry is used only for
    the same template file with the same text), which saves a third of a first render."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        auto_reload=True,
        bytecode_cache=jinja2.FileSystemBytecodeCache(),
        **ENVIRONMENT_SETTINGS,
    )
    return env, dict(env.globals), dict(env.filters), dict(env.tests)


def make_environment(site: SiteData | None = None, *, directory_urls: bool = True) -> jinja2.Environment:
    """The environment to render `site` in: the kept one (see `_kept_environment`), its
    globals, filters and tests set anew, so that nothing of the last site is left in it."""
    env, default_globals, default_filters, default_tests = _kept_environment(TEMPLATES)
    env.globals.clear()
    env.globals.update(default_globals)
    env.filters.clear()
    env.filters.update(default_filters)
    env.tests.clear()
    env.tests.update(default_tests)
    env.globals.update(
        vocab={name: labels for name, (_, labels) in schema.VOCABULARIES.items()},
        level_symbols=schema.LEVEL_SYMBOLS,
        verdict_symbols={
            "accurate": "✓",
            "imprecise": "≈",
            "overstated": "↑",
            "not-supported": "∅",
            "misleading": "!",
            "wrong": "✗",
            "unverified": "?",
        },
        verdict_explanations=schema.VERDICT_EXPLANATIONS,
        certainty_symbols=schema.CERTAINTY_SYMBOLS,
        judgement_steps=schema.JUDGEMENT_STEPS,
        level_explanations=schema.LEVEL_EXPLANATIONS,
        directory_urls=directory_urls,
        study_order=STUDY_ORDER,
    )
    if site is not None:
        add_citations(env, site)
    env.tests["says_more"] = says_more
    env.filters.setdefault("short_name", short_name)
    env.filters.update(
        number=format_number,
        split_lines=lambda text: str(text).split("\n"),
        links=reference_links,
        date_long=date_long,
        study_size=study_size,
        result_line=result_line,
        sentence=sentence,
        by_citation_number=by_citation_number,
        break_after_underscores=lambda name: Markup("_<wbr>".join(escape_text(part) for part in str(name).split("_"))),
    )
    return env


# The stage a study's "how many" names first: the people its result rests on.
SIZE_STAGES = ("analysed", "completed", "studied", "enrolled")


def study_size(study: Study) -> Markup:
    """How many took part, the one rule every page uses: the number the result rests on
    (analysed, else completed, else studied, else enrolled), then how many were studied
    if that differs, for example `12 completed (of 14 studied)`."""
    counts = {stage: getattr(study.participants, stage).value for stage in SIZE_STAGES}
    stage = next((stage for stage in SIZE_STAGES if counts[stage] is not None), None)
    if stage is None:
        return Markup('<em class="unknown">Not reported in the sources checked</em>')
    text = f"{counts[stage]} {stage}"
    if stage in ("analysed", "completed") and counts["studied"] not in (None, counts[stage]):
        text += f" (of {counts['studied']} studied)"
    return Markup(escape_text(text))


def result_line(study: Study, short: bool = False) -> Markup:
    """A study's one-line result, the one rule every page uses: what naltrexone did,
    with the caveat (the fact's note) that must travel with it wherever it is shown."""
    fact = study.naltrexone_effect
    if fact.value is None:
        return Markup('<em class="unknown">Not reported in the sources checked</em>')
    labels = schema.NALTREXONE_EFFECT_SHORT if short else schema.NALTREXONE_EFFECT_LABELS
    text = escape_text(labels[fact.value])
    if fact.note:
        text += f' <span class="fact-note">({escape_text(fact.note)})</span>'
    return Markup(text)


@jinja2.pass_context
def by_citation_number(context: Any, sources: list[tuple[str, Reference]]) -> list[tuple[str, Reference]]:
    """A page's sources list in the order of their site-wide numbers, [1] before [2]."""
    numbers = context["citation_numbers"]
    return sorted(sources, key=lambda item: numbers[item[0]])


_BARE_UNKNOWN = re.compile(r"^\s*not (seen|stated|recorded|reported|found)\.?\s*$", re.IGNORECASE)


def says_more(note: str | None) -> bool:
    """True if an unknown's note says more than "Not seen." (then it is shown instead of "Not reported")."""
    return bool(note) and not _BARE_UNKNOWN.match(str(note))


def sentence(text: str) -> str:
    """Text that ends a sentence: a full stop added unless it ends in one (or ! ? or a closing quote)."""
    text = " ".join(str(text).split())
    return text if text.endswith((".", "!", "?", '."', ".”", '?"', "?”")) else text + "."


def date_long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def render_page(env: jinja2.Environment, template: str, path: str, **context: Any) -> str:
    """Render a page template; `root` is the relative path from the page to docs/."""
    return env.get_template(template).render(root="../" * path.count("/"), page_path=path, **context)


def render_pages(env: jinja2.Environment, template: str, pages: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Render `template` once for each (path, context)."""
    return [render_page(env, template, path, **context) for path, context in pages]


def reference_links(reference: Reference) -> Markup:
    """PubMed, PubMed Central and ClinicalTrials.gov links for a reference. The DOI, or
    the web address of a work without one, is a link inside the formatted citation
    (`linked_doi`), so it is not repeated here."""
    links = []
    if reference.pmid:
        links.append((f"https://pubmed.ncbi.nlm.nih.gov/{reference.pmid}/", f"PubMed {reference.pmid}"))
    if reference.pmcid:
        links.append((f"https://www.ncbi.nlm.nih.gov/pmc/articles/{reference.pmcid}/", reference.pmcid))
    if reference.nct:
        links.append((f"https://clinicaltrials.gov/study/{reference.nct}", f"ClinicalTrials.gov {reference.nct}"))
    return Markup(" · ".join(html_link(url, text) for url, text in links))


def linked_doi(entry: str, reference: Reference) -> str:
    """The AMA entry's doi: (or, without one, its web address) as a link, so that it is
    printed once, not beside it again. The entry was formatted from escaped data, so the
    DOI or address is found escaped."""
    if reference.doi:
        shown, url, text = (
            f"doi:{escape_inline(reference.doi)}",
            f"https://doi.org/{reference.doi}",
            f"doi:{reference.doi}",
        )
    elif reference.url:
        shown, url, text = escape_inline(reference.url), reference.url, reference.url
    else:
        return entry
    return entry.replace(shown, html_link(url, text), 1) if shown in entry else entry


def html_link(url: str, text: str) -> str:
    """A link as raw HTML, which Markdown leaves alone. Its text is escaped for Markdown
    as well as HTML, because Markdown still reads the text between the tags; the address
    matched a strict pattern in the schema, so it holds nothing HTML or Markdown act on."""
    return f'<a href="{html.escape(url, quote=True)}">{escape_text(text)}</a>'


# --- Page metadata ------------------------------------------------------------------


# --- The whole site -------------------------------------------------------------------


def markdown_safe_html(fragment: str) -> str:
    """citeproc's HTML, with Markdown's special characters in its text made inert."""
    parts = re.split(r"(<[^>]+>)", fragment)
    return "".join(part if part.startswith("<") else part.translate(_MARKDOWN_ONLY) for part in parts)


def add_citations(env: jinja2.Environment, site: SiteData) -> None:
    """The site-wide citation numbers, labels and formatted AMA entries, formatted once."""
    order = citation_order(site)
    numbers = cite.numbering(order, site.references)
    ordered = sorted(site.references, key=numbers.__getitem__)
    items = [cite.escaped_item(cite.ama_item(key, site.references[key]), escape_inline) for key in ordered]
    entries = [
        linked_doi(cite.finish_ama(entry, site.references[key]), site.references[key])
        for key, entry in zip(ordered, cite.format_bibliography(items, cite.AMA, as_html=True), strict=True)
    ]
    labels = reference_labels(site.references, order)
    by_reference = {id(reference): labels[key] for key, reference in site.references.items()}
    env.filters["short_name"] = lambda reference: by_reference.get(id(reference)) or short_name(reference)
    env.globals.update(
        reference_labels=labels,
        site_title=site.info.title,
        citation_numbers=numbers,
        citation_html={
            key: Markup(f'<span class="reference">{markdown_safe_html(entry)}</span>')
            for key, entry in zip(ordered, entries, strict=True)
        },
    )

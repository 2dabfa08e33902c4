"""The page types: one function per page, each rendering one template.

A page function takes the Jinja environment and the validated site data and
returns {path under docs/: Page}. Paths decide addresses, which are permanent:
a study is always studies/<id>.md, served at studies/<id>/."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import typing
from typing import Any

import jinja2
from markupsafe import Markup
from pydantic import BaseModel

from evidence import schema
from evidence.check import SiteData
from evidence.render.downloads import COMPARISON_COLUMNS, DATA_LICENCE, DATA_LICENCE_URL
from evidence.render.environment import SIZE_STAGES, escape_text, render_page, render_pages
from evidence.render.figures import figures_of, naltrexone_rows, naltrexone_sources, naltrexone_studies
from evidence.schema import Fact, Reference, sources_of
from evidence.views import STUDY_ORDER, ordered_studies, sof_anchor


@dataclasses.dataclass(frozen=True)
class Page:
    """A rendered page and what its head and "cite this page" box need."""

    text: str
    title: str
    description: str
    reviewed: dt.date
    work: str | None = None  # the reference a study page summarises
    cites: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    redirect: str | None = None  # for an old address: the page it moved to (a source path)
    # A page left out of the navigation (a study page, so that its size does not grow with the
    # number of studies): its short title, for the window title and the header.
    unlisted_title: str | None = None


def render_home(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    anchors = {key: sof_anchor(key, rating) for key, rating in site.comparison.certainty.items()}
    text = render_page(env, "home.md.j2", "index.md", site=site, studies=ordered_studies(site), sof_anchors=anchors)
    description = " ".join(site.info.question.split())
    return {"index.md": Page(text, site.info.title, description, site.last_reviewed)}


def render_study_list(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    text = render_page(env, "studies.md.j2", "studies/index.md", site=site, studies=ordered_studies(site))
    return {"studies/index.md": Page(text, "Studies", "Every study the site covers.", site.last_reviewed)}


@dataclasses.dataclass(frozen=True)
class StudyLinks:
    """What points at each study, grouped once for all study pages."""

    commentary: dict[str, dict[str, schema.Commentary]]
    children: dict[str, list[schema.Study]]
    claims: dict[str, dict[str, schema.Claim]]
    changes: dict[str, list[tuple[int, schema.Change]]]  # by record, e.g. "studies/x", numbered newest first


def study_links(site: SiteData) -> StudyLinks:
    links = StudyLinks({}, {}, {}, {})
    for key, item in site.commentary.items():
        for study_id in item.discusses:
            links.commentary.setdefault(study_id, {})[key] = item
    for child in ordered_studies(site):
        links.children.setdefault(child.parent or "", []).append(child)
    for key, claim in site.claims.items():
        links.claims.setdefault(claim.study or "", {})[key] = claim
    for i, change in enumerate(site.changes):
        for record in dict.fromkeys(change.records):
            links.changes.setdefault(record, []).append((len(site.changes) - i, change))
    return links


def study_context(site: SiteData, study: schema.Study, links: StudyLinks) -> dict[str, Any]:
    """What a study page shows, and nothing else of the site."""
    commentary = links.commentary.get(study.id, {})
    sources = site.study_sources[study.id]
    claims = links.claims.get(study.id, {})
    replied_to = {
        item.responds_to: site.commentary[item.responds_to].reference
        for item in commentary.values()
        if item.responds_to
    }
    cited = [*sources, *replied_to.values(), *(claim.article for claim in claims.values())]
    return {
        "study": study,
        "registration": site.registrations.get(study.registration.value or ""),
        "parent": site.studies.get(study.parent or ""),
        "children": links.children.get(study.id, []),
        "commentary": commentary,
        "claims": claims,
        "changes": links.changes.get(f"studies/{study.id}", []),
        "sources": references_of(site, sources),
        "references": {key: site.references[key] for key in cited},
        "replied_to": replied_to,
    }


def render_study_pages(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    links = study_links(site)
    contexts = [(f"studies/{study.id}.md", study_context(site, study, links)) for study in site.studies.values()]
    pages = {}
    for study, text in zip(site.studies.values(), render_pages(env, "study.md.j2", contexts), strict=True):
        title = f"{study.label}: {study.headline}"
        description = f"{title}. Every fact with its source."
        pages[f"studies/{study.id}.md"] = Page(
            text, title, description, study.last_reviewed, study.reference, tuple(site.study_sources[study.id]),
            unlisted_title=study.label,
        )  # fmt: skip
    return pages


def references_of(site: SiteData, keys: typing.Iterable[str]) -> list[tuple[str, Reference]]:
    """(id, reference) pairs for a page's sources list, each once, in order of first use."""
    return [(key, site.references[key]) for key in dict.fromkeys(keys)]


def site_page(
    env: jinja2.Environment, site: SiteData, path: str, title: str, description: str,
    sources: typing.Iterable[str], **context: Any,
) -> Page:  # fmt: skip
    """A page about the whole site (not one study), rendered from the template named
    after it, listing the references it cites."""
    keys = tuple(dict.fromkeys(sources))
    template = path.removesuffix(".md") + ".md.j2"
    text = render_page(env, template, path, site=site, sources=references_of(site, keys), **context)
    return Page(text, title, description, site.last_reviewed, None, keys)


def render_news(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """What the news said: every claim of the source articles beside the record."""
    articles = {key: site.references[key] for key in dict.fromkeys(claim.article for claim in site.claims.values())}
    by_article = {key: {k: c for k, c in site.claims.items() if c.article == key} for key in articles}
    counts = {verdict: sum(c.verdict == verdict for c in site.claims.values()) for verdict in schema.VERDICT_LABELS}
    sources = [*articles, *(key for claim in site.claims.values() for key in sources_of(claim, []))]
    description = "What the two source news articles said, beside what the primary record says, with verdicts."
    terms = {verdict: [t for t, v in schema.VERDICT_TERMS.items() if v == verdict] for verdict in schema.VERDICT_LABELS}
    page = site_page(env, site, "news.md", "What the news said", description, sources,
                     articles=articles, by_article=by_article, counts=counts, terms=terms)  # fmt: skip
    return {"news.md": page}


def render_history(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    # An event known only to the year sorts after that year's dated events.
    events = sorted(site.events.items(), key=lambda item: (f"{item[1].date}-99-99"[:10], item[0]))
    sources = [key for _, event in events for key in sources_of(event, [])]
    description = "A timeline of ketamine, from its synthesis to the studies of ketamine with naltrexone."
    return {"history.md": site_page(env, site, "history.md", "History", description, sources, events=events)}


def render_glossary(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """The glossary page (its terms also go to the tooltip script: downloads.glossary_script)."""
    terms = sorted(site.glossary.items(), key=lambda item: item[1].term.lower())
    sources = [key for _, term in terms for key in term.sources]
    description = "Plain-language explanations of the terms used on this site."
    return {"glossary.md": site_page(env, site, "glossary.md", "Glossary", description, sources, terms=terms)}


def render_registrations(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    studies_of = {nct: [s for s in ordered_studies(site) if s.registration.value == nct] for nct in site.registrations}
    sources = [
        key
        for registration in site.registrations.values()
        for key in sources_of(registration, [registration.reference])
    ]
    description = "The trial registry records behind the studies, and where registry and paper differ."
    page = site_page(env, site, "registrations.md", "Trial registrations", description, sources, studies_of=studies_of)
    return {"registrations.md": page}


@dataclasses.dataclass(frozen=True)
class ComparisonLine:
    """One study's row of the comparison table, as its template needs it."""

    study: schema.Study
    data: schema.ComparisonRow
    rating: schema.CertaintyRating | None
    aud: str  # yes, no or unknown: the filter value
    naltrexone: list[schema.Intervention]
    naltrexone_route: str  # the filter value; "none" without naltrexone
    ketamine: list[schema.Intervention]
    outcomes: list[schema.Outcome]  # the first two that are not registry-only
    n_sort: int  # how many took part, for sorting
    certainty_rank: int  # higher is more certain; 0 for not rated
    html: Markup = dataclasses.field(default_factory=Markup)


def comparison_line(site: SiteData, study: schema.Study) -> ComparisonLine:
    data = site.comparison.rows[study.id]
    rating = site.comparison.certainty[data.certainty] if data.certainty else None
    levels = list(schema.CERTAINTY_LABELS)
    naltrexone = [i for i in study.interventions if i.agent == "naltrexone"]
    counts = [getattr(study.participants, stage).value for stage in SIZE_STAGES]
    return ComparisonLine(
        study=study,
        data=data,
        rating=rating,
        aud=_yes_no(study.population.alcohol_use_disorder),
        naltrexone=naltrexone,
        naltrexone_route=naltrexone[0].route.value or "unknown" if naltrexone else "none",
        ketamine=[i for i in study.interventions if i.agent == "ketamine"],
        outcomes=[o for o in study.outcomes if not o.role.startswith("registry")][:2],
        n_sort=next((n for n in counts if n is not None), 0),
        certainty_rank=len(levels) - levels.index(rating.level) if rating else 0,
    )


# The comparison's filters: key -> (label, every option with its label); a page shows only the options a row has.
COMPARISON_FILTERS: dict[str, tuple[str, dict[str, str]]] = {
    "aud": ("Alcohol use disorder", {"yes": "With", "no": "Without", "unknown": "Not reported"}),
    "naltrexone": ("Naltrexone", {"oral": "By mouth", "intramuscular": "Injected"}),
    "effect": ("Naltrexone blunted the effect", schema.NALTREXONE_EFFECT_SHORT),
}


def comparison_filters(rows: list[ComparisonLine]) -> list[dict[str, Any]]:
    present: dict[str, set[str | None]] = {
        "aud": {row.aud for row in rows},
        "naltrexone": {row.naltrexone_route for row in rows},
        "effect": {row.study.naltrexone_effect.value for row in rows},
    }
    return [
        {"key": key, "label": label, "options": {v: text for v, text in options.items() if v in present[key]}}
        for key, (label, options) in COMPARISON_FILTERS.items()
    ]


def render_comparison(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """The comparison page: table rows, filters, certainty, reasons and protocols."""
    comparison = site.comparison
    lines = [comparison_line(site, study) for study in ordered_studies(site) if study.id in comparison.rows]
    contexts = [("comparison.md", {"row": line, "effect_short": schema.NALTREXONE_EFFECT_SHORT}) for line in lines]
    rows = [
        dataclasses.replace(line, html=Markup(html))
        for line, html in zip(lines, render_pages(env, "comparison-row.md.j2", contexts), strict=True)
    ]
    filters = comparison_filters(rows)
    columns = [
        ("study", "Study"), ("design", "Design and control"), ("population", "Population"),
        ("participants", "Participants"), ("naltrexone", "Naltrexone"), ("ketamine", "Ketamine"),
        ("outcome", "Outcome and time point"), ("depression", "Result on depression"),
        ("other", "Dissociation and other effects"), ("effect", "Did naltrexone blunt the effect?"),
        ("certainty", "Certainty"),
    ]  # fmt: skip
    keys = [key for row in rows for key in sources_of(row.study, [])]
    keys += [key for row in rows for key in sources_of(row.data, [])]
    keys += [key for item in comparison.other_evidence for key in sources_of(item, [])]
    text = render_page(
        env,
        "comparison.md.j2",
        "comparison.md",
        site=site,
        rows=rows,
        columns=columns,
        filters_json=json.dumps(filters),
        order_note=STUDY_ORDER,
        sources=references_of(site, keys),
        naltrexone=naltrexone_rows(site),
    )
    description = (
        f"{comparison.question} Every study side by side, why results differ, and how certain the evidence is."
    )
    # The table needs the width the table of contents would take.
    page = Page(
        text,
        "Comparison",
        description,
        site.last_reviewed,
        None,
        tuple(dict.fromkeys(keys)),
        hide=("toc", "navigation"),
    )
    return {"comparison.md": page}


def render_figures(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """The Figures page: every figure with its caption, download links and text alternative."""
    studies = [study for study in ordered_studies(site) if study.protocol]
    keys = [step.detail.source for study in studies for step in study.protocol if step.detail.source]
    keys += [key for study in naltrexone_studies(site) for key in naltrexone_sources(study)]
    references = {key: site.references[key] for key in dict.fromkeys(keys)}
    description = "Every figure on the site, to download for slides as SVG or as a PNG 1920 pixels wide."
    page = site_page(
        env, site, "figures.md", "Figures for slides", description, keys,
        figures=[figure for figure, _ in figures_of(site)], studies=studies, references=references,
        naltrexone=naltrexone_rows(site),
    )  # fmt: skip
    return {"figures.md": page}


def _yes_no(fact: Fact[bool]) -> str:
    return "unknown" if fact.value is None else ("yes" if fact.value else "no")


def render_citations(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """The citations page (its BibTeX, RIS and CSL-JSON: downloads.citation_exports)."""
    keys = list(site.references)
    text = render_page(env, "citations.md.j2", "citations.md", site=site, keys=keys)
    description = (
        "Every reference the site rests on, numbered and formatted in AMA style, with BibTeX, RIS and CSL-JSON."
    )
    return {"citations.md": Page(text, "Citations", description, site.last_reviewed, None, tuple(keys))}


def render_changes(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """The change log (also an Atom feed: downloads.change_feed)."""
    numbered = [(len(site.changes) - index, change) for index, change in enumerate(site.changes)]
    text = render_page(env, "changes.md.j2", "changes.md", site=site, changes=numbered)
    description = "What changed on this site, when and why; also as an Atom feed."
    return {"changes.md": Page(text, "What changed", description, site.last_reviewed)}


def render_data(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """The Data page (the open data itself: downloads.open_data)."""
    text = render_page(env, "data.md.j2", "about/data.md", site=site, licence=DATA_LICENCE,
                       licence_url=DATA_LICENCE_URL, studies=ordered_studies(site))  # fmt: skip
    description = "The site's data for reuse: JSON, JSON Schema and CSV, and their licence."
    return {"about/data.md": Page(text, "Open data", description, site.last_reviewed)}


def render_redirects(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """A page at each old study address, sending readers (and the #section they asked
    for) on to the study that replaced it."""
    pages = {}
    for old, redirect in site.redirects.items():
        path = f"studies/{old}.md"
        target = "studies/index.md" if redirect.to == "studies" else f"studies/{redirect.to}.md"
        label = "the list of studies" if redirect.to == "studies" else site.studies[redirect.to].label
        text = render_page(
            env, "redirect.md.j2", path, redirect=redirect, target=target.removeprefix("studies/"), label=label
        )
        pages[path] = Page(
            text, f"Moved: {old}", f"This page has moved to {label}.", site.last_reviewed, redirect=target
        )
    return pages


def render_about(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    text = render_page(env, "about.md.j2", "about/index.md", site=site, example=ordered_studies(site)[0])
    description = "Who the site is for, how it is made, and how to link to it and cite it."
    return {"about/index.md": Page(text, "About this site", description, site.last_reviewed)}


def render_methods(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """How the evidence was found: searches, inclusion, the flow of records, levels and certainty."""
    methods = site.methods
    last = max(search.completed for search in methods.searches)
    text = render_page(
        env, "methods.md.j2", "about/methods.md", site=site, methods=methods, last_search=last,
        next_review=add_months(last, methods.review_every_months), flow=evidence_flow(site), kinds=record_kinds(site),
    )  # fmt: skip
    description = "How the evidence was found and judged: searches, inclusion criteria, records found and rated."
    return {"about/methods.md": Page(text, "How the evidence was found", description, site.last_reviewed)}


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day where it has no such day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def evidence_flow(site: SiteData) -> list[dict[str, Any]]:
    """The steps from records found to studies rated, each with its count and what it left out."""
    excluded = site.methods.excluded
    rated = list(dict.fromkeys(s for rating in site.comparison.certainty.values() for s in rating.studies))
    studies = list(site.studies.values())
    history = [s for s in studies if s.role == "history"]
    no_comparison = [s for s in studies if s.role != "history" and s.id not in rated]
    other = site.comparison.other_evidence
    return [
        {"name": "Records found", "count": len(site.references) + sum(e.records for e in excluded), "left_out": []},
        {
            "name": "On the site",
            "count": len(site.references),
            "left_out": [f"{e.records}: {e.what}. {e.reason}" for e in excluded],
        },
        {
            "name": "Studies summarised, each with its own page",
            "count": len(studies),
            "left_out": [
                "The other records are the source articles, letters, registry records, reports and other pages the "
                f"studies' facts were read in; {len(other)} item{'' if len(other) == 1 else 's'} of other evidence "
                "are shown on the comparison page, "
                "each with why it is not rated."
            ],
        },
        {
            "name": "Studies in a certainty rating",
            "count": len(rated),
            "left_out": [
                *(f"{s.label}: historical context; naltrexone was not studied." for s in history),
                *(
                    f"{s.label}: {schema.NALTREXONE_EFFECT_LABELS[s.naltrexone_effect.value or 'unclear'].lower()}, "
                    "so it cannot answer a comparison question."
                    for s in no_comparison
                ),
            ],
        },
    ]


def record_kinds(site: SiteData) -> list[tuple[str, int]]:
    """How many records of each kind the site holds, in the vocabulary's order."""
    counts = dict.fromkeys(schema.REFERENCE_TYPE_LABELS, 0)
    for reference in site.references.values():
        counts[reference.type] += 1
    return [
        (schema.REFERENCE_TYPE_LABELS[kind].lower() + ("s" if n != 1 else ""), n) for kind, n in counts.items() if n
    ]


def render_provenance_legend(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    text = render_page(env, "provenance.md.j2", "about/provenance.md")
    description = "What the provenance marks beside every fact mean."
    return {"about/provenance.md": Page(text, "Provenance levels", description, site.last_reviewed)}


def render_data_dictionary(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    text = render_page(
        env,
        "data-dictionary.md.j2",
        "about/data-dictionary.md",
        models=data_dictionary(),
        csv_columns=COMPARISON_COLUMNS,
    )
    description = "Every record type and field of the site's data, generated from its schema."
    return {"about/data-dictionary.md": Page(text, "Data dictionary", description, site.last_reviewed)}


def data_dictionary() -> list[dict[str, Any]]:
    """Every record type with its fields, read from the schema."""
    models = []
    for model in schema.RECORD_TYPES:
        fields = []
        for name, field in model.model_fields.items():
            fields.append(
                {
                    "name": name,
                    "type": Markup(markdown_code(_describe_annotation(field.annotation))),
                    "required": field.is_required(),
                    "description": Markup(markdown_code(escape_text(field.description or ""))),
                }
            )
        doc = Markup(markdown_code(escape_text(model.__doc__ or "")))
        models.append({"name": model.__name__, "doc": doc, "fields": fields})
    return models


def markdown_code(text: str) -> str:
    """Schema text marks names with `backticks`; show them as code."""
    return re.sub(r"&#96;(.+?)&#96;|`(.+?)`", lambda m: f"<code>{m.group(1) or m.group(2)}</code>", text)


def _describe_annotation(annotation: Any) -> str:
    """A short human name for a field's type, naming vocabularies and record types."""
    for name, (vocab, _) in schema.VOCABULARIES.items():
        if annotation == vocab:
            return f"one of `{name}`"
    if hasattr(annotation, "__metadata__"):  # Annotated[X, constraints]
        return _describe_annotation(annotation.__origin__)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        meta = annotation.__pydantic_generic_metadata__
        if meta["origin"] is Fact:
            return f"fact of {_describe_annotation(meta['args'][0])}"
        return f"`{annotation.__name__}`"
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) is list:
        return f"list of {_describe_annotation(args[0])}"
    if args:  # X | None: optional-ness is shown in its own column
        return " or ".join(_describe_annotation(arg) for arg in args)
    if isinstance(annotation, typing.TypeVar):
        return "value"
    names = {str: "text", int: "whole number", float: "number", bool: "true/false", dt.date: "date (YYYY-MM-DD)"}
    return names.get(annotation, str(annotation))


PageRenderer = typing.Callable[[jinja2.Environment, SiteData], dict[str, Page]]

PAGE_RENDERERS: tuple[PageRenderer, ...] = (
    render_home,
    render_study_list,
    render_study_pages,
    render_comparison,
    render_figures,
    render_news,
    render_history,
    render_glossary,
    render_registrations,
    render_citations,
    render_changes,
    render_data,
    render_redirects,
    render_about,
    render_provenance_legend,
    render_methods,
    render_data_dictionary,
)

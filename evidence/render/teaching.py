"""For teachers: the summary-of-findings page and the teaching-session page.

The summary of findings is GRADE's table, one per certainty rating of the
comparison: each row shows the studies and how many took part, the results the
rating points at (each still the study's own fact, with its provenance), the
certainty, its plain-language statement and a footnote for every step down.
Below the tables, every other result of a study that holds a number is listed,
so that every number the sources give is on the one page, and none is computed.

The teaching page shows the five claims the news got most wrong (`teaching_rank`
in data/claims.yaml), each with what the record says, and the certainty ratings
with their main reasons. The rules the two pages rest on are checked in
`evidence/check.py` (`_CrossCheck.teaching`)."""

from __future__ import annotations

import re
from typing import Any

import jinja2

from evidence import schema
from evidence.check import SiteData
from evidence.render.environment import render_page
from evidence.render.pages import Page, site_page
from evidence.schema import CertaintyRating, Fact, Study, sources_of
from evidence.views import ordered_studies, sof_anchor

SOF_PATH = "summary-of-findings.md"
TEACHING_PATH = "teaching.md"


def is_numeric(fact: Fact[Any]) -> bool:
    """A result that holds a number (a count, a percentage, a statistic), as the source gave it."""
    return fact.value is not None and bool(re.search(r"\d", str(fact.value)))


def steps_down(rating: CertaintyRating) -> list[schema.DomainJudgement]:
    """The domains that cost the rating a level or two, in the table's order."""
    return [judged for judged in rating.domains if schema.JUDGEMENT_STEPS[judged.judgement]]


def sof_tables(site: SiteData) -> list[dict[str, Any]]:
    """One table per certainty rating, with its row and its footnotes numbered across the page."""
    tables = []
    number = 0
    for key, rating in site.comparison.certainty.items():
        notes = []
        for judged in steps_down(rating):
            number += 1
            notes.append({"number": number, "domain": judged})
        for consideration in rating.considerations:
            number += 1
            notes.append({"number": number, "consideration": consideration})
        studies = [site.studies[study_id] for study_id in rating.studies]
        findings: dict[str, list[Fact[Any]]] = {}
        for finding in rating.findings:
            findings.setdefault(finding.study, []).append(site.studies[finding.study].results[finding.result - 1])
        tables.append(
            {
                "key": key,
                "rating": rating,
                "anchor": sof_anchor(key, rating),
                "studies": studies,
                "findings": [(site.studies[study_id], facts) for study_id, facts in findings.items()],
                "notes": notes,
            }
        )
    return tables


def other_numbers(site: SiteData) -> list[dict[str, Any]]:
    """Each study's results that hold a number and are in no summary row, with why they are not rated."""
    shown = {(f.study, f.result) for rating in site.comparison.certainty.values() for f in rating.findings}
    rated = {study_id for rating in site.comparison.certainty.values() for study_id in rating.studies}
    groups = []
    for study in ordered_studies(site):
        results = [
            fact for index, fact in enumerate(study.results, 1) if (study.id, index) not in shown and is_numeric(fact)
        ]
        if results:
            groups.append({"study": study, "results": results, "why": why_not_in_a_row(study, study.id in rated)})
    return groups


def why_not_in_a_row(study: Study, rated: bool) -> str:
    """Why a study's result is listed apart from the tables."""
    if rated:
        return "an outcome the rating does not cover"
    if study.role == "history":
        return "historical context; naltrexone was not studied"
    effect = schema.NALTREXONE_EFFECT_LABELS[study.naltrexone_effect.value or "unclear"].lower()
    return f"not rated: {effect}, so it cannot answer a comparison question"


def render_summary_of_findings(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """The summary-of-findings page: GRADE's tables, and every other number the studies give."""
    tables = sof_tables(site)
    others = other_numbers(site)
    wording = {level: schema.CERTAINTY_WORDING[level] for level in schema.CERTAINTY_LABELS}
    text = render_page(env, "summary-of-findings.md.j2", SOF_PATH, site=site, tables=tables, others=others,
                       wording=wording)  # fmt: skip
    keys = [key for table in tables for study in table["studies"] for key in [study.reference]]
    keys += [site.studies[group["study"].id].reference for group in others]
    description = "GRADE summary-of-findings tables: what the studies found, in numbers, and how certain it is."
    # The tables need the width the table of contents would take.
    return {SOF_PATH: Page(text, "Summary of findings", description, site.last_reviewed, None,
                           tuple(dict.fromkeys(keys)), hide=("toc",))}  # fmt: skip


def teaching_claims(site: SiteData) -> list[tuple[str, schema.Claim]]:
    """The claims chosen for teaching, in the order of their rank."""
    ranked = [(key, claim) for key, claim in site.claims.items() if claim.teaching_rank is not None]
    return sorted(ranked, key=lambda item: item[1].teaching_rank or 0)


def render_teaching(env: jinja2.Environment, site: SiteData) -> dict[str, Page]:
    """The page for a teaching session, from the claims' ranks and the certainty ratings."""
    claims = teaching_claims(site)
    sources = [claim.article for _, claim in claims] + [key for _, claim in claims for key in sources_of(claim, [])]
    articles = {claim.article: site.references[claim.article] for _, claim in claims}
    description = "For a teaching session: what the news got most wrong, and how certain the evidence is."
    page = site_page(env, site, TEACHING_PATH, "For a teaching session", description, sources,
                     claims=claims, tables=sof_tables(site), articles=articles)  # fmt: skip
    return {TEACHING_PATH: page}


TEACHING_RENDERERS = (render_summary_of_findings, render_teaching)

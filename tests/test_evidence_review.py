"""Issue 16, the evidence read a second time: what a reader sees on the built site and in the downloads."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import bibtexparser
import rispy
from test_site import page_text, parse


def head_tags(site: Path, page: str) -> dict[str, list[str]]:
    """The citation_* meta tags of a built page, name -> contents."""
    html = (site / page / "index.html").read_text(encoding="utf-8")
    tags: dict[str, list[str]] = {}
    for name, content in re.findall(r'<meta name="(citation_[a-z_]+)" content="([^"]*)"', html):
        tags.setdefault(name, []).append(content)
    return tags


def json_ld(site: Path, page: str) -> dict:
    html = (site / page / "index.html").read_text(encoding="utf-8")
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))


def test_williams_2018_online_and_print_dates_in_every_format(site: Path) -> None:
    """Williams 2018 says online 29 August 2018 and print December 2018 in AMA, meta tags, JSON-LD, BibTeX, RIS and CSL-JSON."""
    text = page_text(site, "studies/williams-2018")
    assert "Published online August 29, 2018. Print issue December 2018." in text
    assert "Published online December 2018" not in text
    tags = head_tags(site, "studies/williams-2018")
    assert tags["citation_publication_date"] == ["2018/12"]
    assert tags["citation_online_date"] == ["2018/08/29"]
    about = json_ld(site, "studies/williams-2018")["about"]
    assert about["datePublished"] == "2018-08-29"
    assert about["isPartOf"] == {"@type": "PublicationIssue", "datePublished": "2018-12"}
    entry = bibtexparser.parse_string((site / "downloads" / "references.bib").read_text()).entries_dict["williams-2018"]
    assert entry["year"] == "2018"
    assert entry["month"] == "12"
    assert "Published online 2018-08-29" in entry["note"]
    record = next(
        r for r in rispy.loads((site / "downloads" / "references.ris").read_text()) if r["id"] == "williams-2018"
    )
    assert record["date"] == "2018/12"
    assert "Published online 2018-08-29" in record["notes"][0]
    item = next(
        i for i in json.loads((site / "downloads" / "references.json").read_text()) if i["id"] == "williams-2018"
    )
    assert item["issued"] == {"date-parts": [[2018, 12]]}
    assert item["available-date"] == {"date-parts": [[2018, 8, 29]]}


def test_citations_follow_the_fixes_of_item_5(site: Path) -> None:
    """No comma between a lone author and et al. (but after several names, as AMA has it), Sanacora's unknown co-authors, bracketed supplied titles, update dates, inferred years."""
    text = page_text(site, "citations")
    assert "Heifets, et al" not in text
    assert "Williams NR, Heifets BD, Blasey C, et al. Attenuation" in text  # AMA: a comma after several names
    assert "Heifets et al. Rigorous Trial Design" in text
    assert "Sanacora [co-authors not known]. Caution Against" in text
    assert "Sanacora et al" not in text
    assert "[Reply to Sanacora]." in text
    assert "Updated October 16, 2022." in text
    assert "[2025, year inferred]." in text
    assert "[2018, year inferred]." in text


def test_doi_printed_once_per_entry(site: Path) -> None:
    """Each citation shows its DOI once, as a link, on the citations page and on a study page."""
    assert page_text(site, "citations").count("doi:10.1176/appi.ajp.2018.18020138") == 1
    link = '<a href="https://doi.org/10.1176/appi.ajp.2018.18020138">doi:10.1176/appi.ajp.2018.18020138</a>'
    for page in ("citations", "studies/williams-2018"):
        html = (site / page / "index.html").read_text(encoding="utf-8")
        article = html[html.index("<article") : html.index("</article>")]
        assert article.count("doi:10.1176/appi.ajp.2018.18020138") == article.count(link) > 0, page


def test_home_cite_box_names_the_site_once(site: Path) -> None:
    """The home page's "cite this page" text does not repeat the site's title."""
    text = " ".join(parse(site / "index.html").text)
    assert "Ketamine and naltrexone: the evidence. Ketamine and naltrexone: the evidence" not in text
    assert (
        "Ketamine and naltrexone: the evidence. November" in text
        or "Ketamine and naltrexone: the evidence. December" in text
    )


def test_bibtex_and_ris_mark_incomplete_author_lists(site: Path) -> None:
    """BibTeX ends an incomplete list in `and others`; RIS says so in a note, never as an "et al." author; RIS has no numbered lines."""
    bib = (site / "downloads" / "references.bib").read_text()
    entries = bibtexparser.parse_string(bib).entries_dict
    assert entries["heifets-letter-2019"]["author"] == "Heifets and others"
    assert entries["sanacora-letter"]["author"] == "Sanacora"
    ris = (site / "downloads" / "references.ris").read_text()
    assert not re.search(r"^\d+\.\s*$", ris, re.M)
    heifets = next(r for r in rispy.loads(ris) if r["id"] == "heifets-letter-2019")
    assert heifets["authors"] == ["Heifets"]
    assert "Author list incomplete" in " ".join(heifets["notes"])
    assert not re.search(r"^AU  - et al", ris, re.M)


def test_comparison_csv_keeps_every_outcome(site: Path) -> None:
    """comparison.csv has one row per study and outcome, so Jelen 2025's MADRS outcome is there beside its glutamate one."""
    text = (site / "downloads" / "data" / "comparison.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    jelen = [row["outcome"] for row in rows if row["study"] == "jelen-2025"]
    assert len(jelen) >= 2
    assert any("MADRS" in outcome for outcome in jelen)
    assert any("Glx" in outcome for outcome in jelen)
    assert "one row per study and outcome" in page_text(site, "about/data")
    assert "one row per study and outcome" in page_text(site, "about/data-dictionary")


def test_one_rule_for_how_many_and_the_result_line(site: Path) -> None:
    """Home, Studies and Comparison give the same size and one-line result, Williams 2019 on suicidality, Yoon 2025 with its caveat."""
    home, studies, comparison = (page_text(site, page) for page in ("", "studies", "comparison"))
    for size in ("26 analysed", "12 completed (of 14 studied)", "58 studied", "5 studied"):
        for name, text in (("home", home), ("studies", studies), ("comparison", comparison)):
            assert size in text, (size, name)
    assert "7 completed" in home
    assert "7 completed" in studies
    assert "Not reported in the sources checked" not in studies
    suicidality = "Naltrexone blunted the effect on suicidality scales"
    assert suicidality in home
    assert suicidality in studies
    assert "Yes, on suicidality scales" in comparison
    caveat = "every arm improved, the midazolam control included"
    for name, text in (("home", home), ("studies", studies), ("comparison", comparison)):
        assert caveat in text, name


def test_certainty_is_rated_domain_by_domain(site: Path) -> None:
    """Each question's rating shows all five GRADE domains judged, the arithmetic, and only comparative studies."""
    html = (site / "comparison" / "index.html").read_text(encoding="utf-8")
    text = page_text(site, "comparison")
    for key in ("oral-naltrexone", "suicidal-thoughts", "injectable-naltrexone"):
        block = html[html.index(f'id="certainty-{key}"') :]
        block = " ".join(parse_fragment(block[: block.index("</table>")]).split())
        for domain in ("Risk of bias", "Inconsistency", "Indirectness", "Imprecision", "Publication bias"):
            assert domain in block, (key, domain)
    assert "high − 1 (risk of bias) − 1 (imprecision) = low" in text
    assert "high − 1 (risk of bias) − 2 (imprecision) = very low" in text
    assert "The trial could not detect blunting." in text
    assert "Stated, not rated down" in text
    injectable = html[html.index('id="certainty-injectable-naltrexone"') :]
    injectable = injectable[: injectable.index("</div>")]
    assert "yoon-2019" not in injectable.split("Studies:")[-1]
    assert "Not rated: no comparison without naltrexone" in text
    assert "Outcome: Suicidality scales" in text


def parse_fragment(html: str) -> str:
    """The text of an HTML fragment."""
    return re.sub(r"<[^>]+>", " ", html)


def test_bottom_line_shows_certainty_and_says_may(site: Path) -> None:
    """The home page's bottom line shows each question's certainty in symbols and words, links to it, and hedges."""
    html = (site / "index.html").read_text(encoding="utf-8")
    text = page_text(site, "")
    assert "points in different directions" not in text
    assert "point the same way" in text
    for key, label in (("oral-naltrexone", "⊕⊕◯◯ Low certainty"), ("injectable-naltrexone", "⊕◯◯◯ Very low certainty")):
        assert f'href="comparison/#certainty-{key}"' in html
        assert label in text
    low = text[text.index("⊕⊕◯◯ Low certainty") :]
    assert " may weaken " in low[: low.index(")")]
    assert text.count("very uncertain") >= 2


def test_risk_of_bias_facts_are_on_the_study_pages(site: Path) -> None:
    """The limitations name the registry/paper outcome difference, the unreported craving outcome, completers only, the never-infused and late registration."""
    williams = page_text(site, "studies/williams-2018")
    assert "The registry's primary outcome (HAM-D-6) differs from the paper's" in williams
    assert "Visual Analog Craving Scale for Ketamine, VASK), was not reported" in williams
    assert "The results seen are for the 12 who completed both conditions" in williams
    assert "65 were randomised and 58 received an infusion" in page_text(site, "studies/yoon-2025")
    assert "first posted on 5 September 2018" in page_text(site, "studies/yoon-2019")


def test_provenance_shows_each_source_at_its_own_level(site: Path) -> None:
    """Stanford's naltrexone timing shows the registry summary (secondary) and the Amiaz letter (primary) separately."""
    text = page_text(site, "studies/williams-2018")
    timing = text[text.index("Timing 45 minutes before the ketamine infusion") :][:700]
    assert "○ Secondary reports only" in timing
    assert "● Primary record · Amiaz" in timing
    assert "taken 45 minutes before intravenous injection of ketamine" in timing
    assert "A registry summary (moreblossom.com) describes the trial as triple-blind" in text
    fix = " ".join(parse(site / "citations" / "index.html").text)
    assert "which it attributes to Mark George (the byline was not seen" in " ".join(fix.split())


def test_comparison_wording_fixes(site: Path) -> None:
    """The comparison says two injections in the 2025 trial and attributes the Stanford argument to the Yale reply."""
    text = page_text(site, "comparison")
    assert "a 380 mg injection" not in text
    assert "two injections in the randomized trial" in text
    assert "the case series' authors summarize the Stanford researchers' letter as arguing" in text


def test_registrations_page_lists_the_other_registry_records(site: Path) -> None:
    """NCT04177706 and the other registry records of facts.md section 8.5 are on the registrations page."""
    text = page_text(site, "registrations")
    for nct in ("NCT04177706", "NCT05051449", "NCT06943859", "NCT03051945", "NCT05940324"):
        assert nct in text
    assert "intranasal ketamine 60 mg twice weekly for 4 weeks versus saline" in text
    assert "First posted 5 September 2018" in text
    assert "registered as triple-blind" not in text
    assert "a registry summary describes it as triple-blind" in text


def test_news_badges_are_defined_and_applied_one_word_one_badge(site: Path) -> None:
    """The news page defines each badge, and every claim's fact-sheet word gets the same badge; history and 24-30 claims are quoted."""
    text = page_text(site, "news")
    assert "What the verdicts mean" in text
    assert "! Misleading Partly defensible" in text
    html = (site / "news" / "index.html").read_text(encoding="utf-8")
    # The fact-sheet words follow the badge, unless they are the badge's own label.
    rows = re.findall(
        r'<span class="verdict verdict-([a-z-]+)">.*?</span> ([A-Za-z ]+)</span><br>(?:([^<]+)<br>)?', html
    )
    badge_of: dict[str, set[str]] = {}
    for verdict, label, detail in rows:
        assert detail.strip().lower() != label.strip().lower(), "the badge's label is not printed twice"
        word = (detail or label).split(";")[0].split(" /")[0].split(" (")[0].strip().lower()
        badge_of.setdefault(word, set()).add(verdict)
    assert len(rows) >= 40
    assert all(len(badges) == 1 for badges in badge_of.values()), badge_of
    assert badge_of["misleading"] == {"misleading"}
    assert badge_of["extrapolation"] == {"not-supported"}
    for quote in (
        "Ketamine was discovered by chemist Calvin Stevens in 1962",
        "its anesthetic effect was confirmed during testing with human prisoners in 1964",
        "Ketamine was approved by the FDA in 1970 as Ketalar®",
        "Ketamine is a racemic mixture--containing equal amounts of esketamine and arketamine.",
        "Esketamine binds approximately four times tighter",
        "Yale Chairman of Psychiatry John Krystal",
        "We need to better understand ketamine’s mode of action",
        "it was released as a safer alternative to phencyclidine (PCP)",
    ):
        assert quote in text, quote


def test_history_headlines_hedge_and_cite_every_page(site: Path) -> None:
    """History headlines say may, the case series' drop-out is there, the Ketalar sources are as mixed as they are, 1962 cites its pages."""
    text = page_text(site, "history")
    assert "naltrexone may weaken ketamine's effect" in text
    assert "naltrexone weakens" not in text
    assert "1 of the 5 left the trial after 2 infusions" in text
    assert "anschutzmedicalcampus.com says both, prescription in 1969 and FDA approval in 1970" in text
    event = text[text.index("1962 Ketamine first synthesized") :][:1400]
    for name in ("erowid.org", "taramind.com", "silowellness.com", "△ Source article only"):
        assert name in event, name


def test_other_evidence_is_shown_for_what_it_is(site: Path) -> None:
    """The comparison shows the contrary reports, Marton 2019 from a manufacturer's summary, the letters, and animal studies labelled."""
    text = page_text(site, "comparison")
    assert "Evidence that points the other way, and other evidence" in text
    assert "Two additional recent publications reported that naltrexone pretreatment did not attenuate" in text
    marton = text[text.index("Marton et al. 2019, San Francisco VA") :][:1200]
    assert "Known only from a manufacturer's summary" in marton
    assert "Biol Psychiatry" not in marton
    assert "0 of the 7 who responded with ketamine and placebo" in text
    assert "the effect of adding naltrexone without ketamine was not tested" in text
    assert "Animal and laboratory studies (preclinical context only)" in text
    assert "In rats, naltrexone reduced self-administration of (S)-ketamine." in text


def test_methods_page_shows_searches_flow_levels_certainty_and_next_review(site: Path) -> None:
    """The methods page gives the search dates, inclusion criteria, a flow of records with counts from the data, and the next review."""
    import yaml
    from conftest import ROOT

    text = page_text(site, "about/methods")
    methods = yaml.safe_load((ROOT / "data" / "methods.yaml").read_text(encoding="utf-8"))
    references = yaml.safe_load((ROOT / "data" / "references.yaml").read_text(encoding="utf-8"))
    excluded = sum(item["records"] for item in methods["excluded"])
    assert "Second reading 1 December 2026" in text
    assert "the next review is due by 1 June 2027" in text
    assert f"records found {len(references) + excluded}; on the site {len(references)}; " in text
    assert "studies in a certainty rating 4." in text
    assert "Yoon, Petrakis & Krystal 2019: not tested against a control" in text
    assert "Contradicted by the abstract (oral 50 mg naltrexone, and attenuation)." in text
    assert "◐ Copy of the primary record" in text
    assert "Very low certainty, from 1 study" in text
    html = (site / "about" / "methods" / "index.html").read_text(encoding="utf-8")
    assert '<figure class="evidence-flow">' in html
    assert "<script" not in html[html.index("<article") : html.index("</article>")]
    assert "about/methods/" in " ".join(parse(site / "index.html").links)

"""Open data, what changed, and a second engine: ProperDocs."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
import yaml
from conftest import ROOT

from evidence.render import downloads

DATA = ROOT / "data"
CHANGES = yaml.safe_load((DATA / "changes.yaml").read_text(encoding="utf-8"))


def test_published_json_validates_against_the_published_schema(site: Path) -> None:
    """evidence.json holds every record and passes the JSON Schema published beside it."""
    records = json.loads((site / "downloads" / "data" / "evidence.json").read_text(encoding="utf-8"))
    document = json.loads((site / "downloads" / "data" / "evidence.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    jsonschema.validate(records, document, cls=jsonschema.Draft202012Validator)
    assert sorted(records["studies"]) == sorted(p.stem for p in (DATA / "studies").glob("*.yaml"))
    assert records["studies"]["williams-2018"]["participants"]["planned"] == {
        "value": 30, "level": "primary", "source": "williams-2018", "seen_in": "the abstract on the publisher's page",
        "quote": False, "note": None, "also": [],
    }  # fmt: skip
    assert records["studies"]["williams-2018"]["design"]["setting"]["level"] == "primary"
    assert records["licence"].startswith("CC BY 4.0")


def test_published_schema_is_generated_from_the_build_schema(site: Path) -> None:
    """The published JSON Schema is exactly what the build's pydantic models generate."""
    published = (site / "downloads" / "data" / "evidence.schema.json").read_text(encoding="utf-8")
    assert published == downloads.json_schema()


def test_a_record_the_schema_rejects_fails_json_schema_validation(site: Path) -> None:
    """The published schema is strict enough to catch a broken record (so the test above can fail)."""
    records = json.loads((site / "downloads" / "data" / "evidence.json").read_text(encoding="utf-8"))
    document = json.loads((site / "downloads" / "data" / "evidence.schema.json").read_text(encoding="utf-8"))
    records["studies"]["williams-2018"]["design"]["type"]["value"] = "cohort"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(records, document, cls=jsonschema.Draft202012Validator)


def test_comparison_csv_reads_back(site: Path) -> None:
    """comparison.csv reads back with the csv module: one row per study and outcome, unknowns spelled out."""
    with (site / "downloads" / "data" / "comparison.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["study"]: row for row in csv.DictReader(handle) if row["outcome_number"] == "1"}
    assert sorted(rows) == sorted(yaml.safe_load((DATA / "comparison.yaml").read_text(encoding="utf-8"))["rows"])
    assert rows["williams-2018"]["studied"] == "14"
    assert rows["williams-2018"]["naltrexone_dose"] == "50 mg"
    assert rows["yoon-2019"]["naltrexone_dose"] == "380 mg"
    assert rows["williams-2018"]["ketamine_infusion_length"] == "not reported"
    assert rows["yoon-2025"]["certainty"] == "Very low"
    assert all(value != "" for row in rows.values() for value in row.values())


def test_data_page_links_every_file_and_states_the_licences(site: Path) -> None:
    """The Data page links the published files and states the licences of data and code."""
    html = (site / "about" / "data" / "index.html").read_text(encoding="utf-8")
    for name in ("evidence.json", "evidence.schema.json", "comparison.csv", "changes.atom", "studies/yoon-2019.json"):
        assert f"downloads/data/{name}" in html or f"downloads/{name}" in html, name
    assert "CC BY 4.0" in html
    assert "MIT licence" in html


def test_change_log_is_a_page_a_feed_and_on_each_study(site: Path) -> None:
    """Changes appear on the What changed page, in a valid Atom feed, and on the study pages they name."""
    page = (site / "changes" / "index.html").read_text(encoding="utf-8")
    for change in CHANGES:
        assert change["summary"].split()[0] in page
    feed = ElementTree.parse(site / "downloads" / "changes.atom").getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    assert feed.tag == f"{atom}feed"
    entries = feed.findall(f"{atom}entry")
    assert len(entries) == len(CHANGES)
    assert entries[0].find(f"{atom}updated").text == f"{CHANGES[0]['date']}T00:00:00Z"  # type: ignore[union-attr]
    study = (site / "studies" / "williams-2018" / "index.html").read_text(encoding="utf-8")
    assert 'id="changes"' in study
    assert "../../changes/#change-1" in study
    assert "downloads/changes.atom" in page

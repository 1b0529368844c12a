"""`enrich` as the indexer sees it: year, chains, countries and why."""

from __future__ import annotations

import pytest

from indexer.enrich import Enrichment, enrich, year_of


@pytest.mark.parametrize(
    ("published", "year"),
    [
        ("2021-10-20", 2021),
        ("1987-03-26", 1987),
        ("2017-02-13T08:30:00+00:00", 2017),
        ("2016-12", 2016),
        (None, None),
        ("", None),
        ("October 2021", None),
        ("20/10/2021", None),
        ("2021-13-01", None),
    ],
)
def test_year_comes_from_the_iso_date_only(published: str | None, year: int | None) -> None:
    assert year_of(published) == year
    assert enrich("Title", "Text of 2019 and 2020.", published).year == year


def test_no_date_no_year_even_if_the_text_names_one() -> None:
    assert enrich("2021 Nanjing Innovation Week", "In 2021 ...", None).year is None


def test_result_shape() -> None:
    found = enrich("Sino-French chip venture", "", "2021-01-01")
    assert isinstance(found, Enrichment)
    assert found.countries == ["CN", "FR"]
    assert found.evidence["CN"] == ["Sino-"]
    assert found.evidence["FR"] == ["French"]


def test_chains_and_countries_with_evidence() -> None:
    text = (
        "The Nanjing plant of the Chinese chipmaker will make semiconductors and wafers for "
        "German carmakers. Its chip design centre works with a Japanese foundry on gallium "
        "nitride power chips, and the semiconductor output doubles next year."
    )
    found = enrich("Chipmaker opens semiconductor fab in Nanjing", text, "2021-10-20")
    assert found.year == 2021
    assert found.chains == ["integrated-circuits"]
    assert found.countries == ["CN", "DE", "JP"]
    assert "semiconductor" in found.evidence["integrated-circuits"]
    assert found.evidence["DE"] == ["German"]
    assert set(found.evidence) == {"integrated-circuits", "CN", "DE", "JP"}


def test_hard_wrapped_lines_still_read_as_phrases() -> None:
    found = enrich("REPORT", "two U.S. experts on the Soviet\nUnion said", None)
    assert found.countries == ["SU", "US"]
    assert found.evidence["SU"] == ["Soviet Union"]


def test_headline_in_capitals() -> None:
    found = enrich("FIRMS ASK EXEMPTIONS FROM JAPANESE TARIFFS", "The firms said so.", None)
    assert found.countries == ["JP"]


def test_empty_article() -> None:
    assert enrich("", "", None) == Enrichment(year=None, chains=[], countries=[], evidence={})


def test_chains_keep_the_taxonomy_order() -> None:
    text = (
        "The software platform runs machine learning and artificial intelligence models in the "
        "cloud computing centre; its AI software and big data services use deep learning. "
    ) * 2
    found = enrich("AI software firm expands cloud computing", text, None)
    assert found.chains[:2] == ["software", "ai"]

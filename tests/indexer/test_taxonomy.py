"""Chains follow TAXONOMY.md: a substantial part of the article, not a passing word."""

from __future__ import annotations

import tomllib

from indexer.enrich.lexicon import data_file, plural_forms
from indexer.enrich.taxonomy import chain_ids, classify

TAXONOMY_IDS = [
    "software",
    "ai",
    "integrated-circuits",
    "nev",
    "biomedicine",
    "smart-grid",
    "rail-transit",
    "smart-manufacturing",
    "new-materials",
    "aerospace",
    "communications",
    "clean-energy",
]

FILLER = (
    "The city council met on Tuesday to discuss the budget for parks, schools and roads. "
    "Residents asked questions about taxes, housing and the new library opening hours. "
)


def chains(title: str, text: str) -> dict[str, list[str]]:
    scanned = f"{title} | {text}"
    return classify(scanned, len(title) + 3)


def test_the_data_file_defines_the_twelve_chains_of_taxonomy_md() -> None:
    assert chain_ids() == TAXONOMY_IDS


def test_each_term_is_listed_once() -> None:
    """Plurals and hyphenated twins are generated, so listing them again would double-count."""
    with open(data_file("chains.toml"), "rb") as fh:
        data = tomllib.load(fh)
    for chain_id, spec in data["chains"].items():
        assert spec["name"]
        terms = [t for tier in ("core", "strong", "support", "negative") for t in spec[tier]]
        listed = set(terms)
        assert len(terms) == len(listed), chain_id
        for term in terms:
            head, _, last = term.rpartition(" ")
            for plural in plural_forms(last):
                assert (f"{head} {plural}" if head else plural) not in listed, (chain_id, term)
            assert " " not in term or term.replace(" ", "-") not in listed, (chain_id, term)


def test_a_city_famous_for_its_cars_is_not_about_new_energy_vehicles() -> None:
    text = "Visitors come to the city, famous for its cars and its football club. " + FILLER * 4
    assert chains("A weekend in the old town", text) == {}


def test_a_passing_word_is_not_enough() -> None:
    text = FILLER * 3 + "A semiconductor firm sponsored the fireworks. " + FILLER * 3
    assert "integrated-circuits" not in chains("Lantern festival draws crowds", text)


def test_an_article_about_chips_carries_integrated_circuits() -> None:
    text = (
        "The chipmaker will build a new wafer fab to make semiconductors for phones. "
        "Its chip design team works with EDA tools, and the foundry will start production of "
        "silicon carbide power chips next year. " + FILLER
    )
    found = chains("Chipmaker plans new semiconductor plant", text)
    assert "integrated-circuits" in found
    assert "semiconductor" in found["integrated-circuits"]


def test_one_paragraph_is_a_substantial_part() -> None:
    paragraph = (
        "The company also runs a vaccine plant: its pharmaceutical unit makes flu vaccines and "
        "is running clinical trials of a new drug with the FDA. "
    )
    found = chains("Group reports annual results", FILLER * 4 + paragraph + FILLER * 4)
    assert "biomedicine" in found


def test_self_driving_cars_are_ai_and_nev() -> None:
    text = (
        "The self-driving car unit tests autonomous vehicles with lidar and machine learning "
        "software; its driverless cars have covered a million miles. " + FILLER
    )
    found = chains("Self-driving car maker expands tests", text)
    assert {"ai", "nev"} <= set(found)


def test_amnesty_international_is_not_ai() -> None:
    text = (
        "Amnesty International (AI) said the trial was unfair. AI researchers at the group "
        "documented abuses; AI called for the release of prisoners. " + FILLER
    )
    assert "ai" not in chains("Rights group condemns trial", text)


def test_artificial_intelligence_article_is_ai() -> None:
    text = (
        "The start-up trains large language models. Its artificial intelligence lab works on "
        "deep learning and computer vision, and AI chips speed up its neural networks. " + FILLER
    )
    assert "ai" in chains("AI start-up raises funds", text)


def test_blue_chips_are_not_chips() -> None:
    text = "Blue-chip stocks rallied and blue chip shares led the market. " + FILLER * 2
    assert "integrated-circuits" not in chains("Shares rise", text)


def test_nuclear_weapons_are_not_clean_energy() -> None:
    text = (
        "The nuclear test and the nuclear weapons programme worried the region; a nuclear "
        "missile test followed. " + FILLER
    )
    assert "clean-energy" not in chains("Missile test condemned", text)


def test_drug_crime_is_not_biomedicine() -> None:
    text = (
        "The senator was arrested on illegal drug charges; the drug war and drug trafficking "
        "dominate politics, and drug dealers were jailed. " + FILLER
    )
    assert "biomedicine" not in chains("Senator arrested in drug war", text)


def test_evidence_puts_the_most_telling_term_first() -> None:
    text = (
        "Solar panels and wind farms now supply most power; solar output doubled, solar "
        "capacity grew and renewable energy targets were met. " + FILLER
    )
    found = chains("Solar power booms", text)
    assert found["clean-energy"][0] == "solar"

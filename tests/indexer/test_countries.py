"""Country detection follows TAXONOMY.md's country section, rule by rule, plus false friends."""

from __future__ import annotations

import pytest

from indexer.enrich.countries import detect


def codes(text: str, caps_until: int = 0) -> set[str]:
    return set(detect(text, caps_until))


# -- TAXONOMY.md, one case per rule ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Talks with South Korea resumed.", {"KR"}),
        ("Exports to the United States rose.", {"US"}),
        ("US firms and UK regulators disagreed.", {"US", "GB"}),
        ("A Russian rocket and a French satellite.", {"RU", "FR"}),
    ],
)
def test_names_and_adjectives(text: str, expected: set[str]) -> None:
    assert codes(text) == expected


def test_sino_french_compound_gives_both() -> None:
    assert codes("the Sino-French Offshore Incubation Base") == {"CN", "FR"}


def test_country_pair_gives_both() -> None:
    assert codes("the China-Russia University Institute") == {"CN", "RU"}
    assert codes("US-China trade talks") == {"CN", "US"}


def test_combining_form_needs_a_country_after_it() -> None:
    assert codes("the Indo-Pacific strategy of Anglo-Saxon law") == set()
    assert codes("an Anglo-Irish agreement") == {"GB", "IE"}
    assert codes("the Russo-Japanese war") == {"RU", "JP"}


def test_sino_alone_names_china() -> None:
    assert codes("a Sino-foreign joint venture") == {"CN"}


def test_city_province_institution_alone_give_nothing() -> None:
    assert codes("Nanjing, Jiangsu province, and the Purple Mountain Laboratory") == set()


def test_institution_containing_the_country_gives_it() -> None:
    assert codes("the Chinese Academy of Sciences") == {"CN"}
    assert codes("Bank of China will issue cards") == {"CN"}


def test_european_union_is_not_a_country() -> None:
    assert codes("The European Union and the EU Commission in Europe") == set()


def test_taiwan_hong_kong_macao() -> None:
    assert codes("Taiwan, Hong Kong and Macao") == {"TW", "HK", "MO"}
    assert codes("casinos in Macau") == {"MO"}


def test_taiwan_is_not_china() -> None:
    assert codes("chip makers in Taiwan") == {"TW"}


def test_britain_british_uk_give_gb() -> None:
    assert codes("Britain") == {"GB"}
    assert codes("a British engineer") == {"GB"}
    assert codes("the UK market") == {"GB"}


def test_england_scotland_wales_alone_give_nothing() -> None:
    assert codes("Scotland") == set()
    assert codes("England, Scotland and Wales, with north Wales and Welsh hills") == set()


def test_northern_ireland_is_not_ireland() -> None:
    assert codes("Belfast, Northern Ireland") == set()
    assert codes("the Irish Sea") == {"IE"}


def test_names_count_wherever_they_stand() -> None:
    assert codes("the Sea of Japan") == {"JP"}
    assert codes("after Brexit") == {"GB"}
    assert codes("Chinese food") == {"CN"}
    assert codes("a German engineer") == {"DE"}


def test_former_states_keep_their_codes() -> None:
    assert codes("the Soviet Union") == {"SU"}
    assert codes("the Soviet economy") == {"SU"}
    assert codes("Yugoslavia") == {"YU"}
    assert codes("West Germany and East Germany") == {"DE"}


def test_acronyms_of_organisations_give_nothing() -> None:
    assert codes("AFP, BBC and USDA reported; NASA and the UN agreed") == set()


def test_plural_demonyms() -> None:
    assert codes("two Americans and three Russians") == {"US", "RU"}


def test_continents_are_not_countries() -> None:
    assert codes("Latin America, North American markets and the Americas") == set()


def test_firm_names_in_the_country_language() -> None:
    assert codes("Deutsche Bank and Credit Suisse") == {"DE", "CH"}


def test_congo_is_not_both_congos() -> None:
    assert codes("Congo") == {"CG"}
    assert codes("DR Congo") == {"CD"}


# -- false friends ------------------------------------------------------------------------


def test_georgia_the_us_state() -> None:
    assert codes("Atlanta, Georgia, where Georgia's governor spoke") == set()
    assert codes("Georgia and Florida voters") == set()


def test_georgia_the_country() -> None:
    assert codes("Georgia and Moldova signed the deal in Tbilisi") == {"GE", "MD"}


def test_jordan_the_person() -> None:
    assert codes("Michael Jordan scored") == set()
    assert codes("Jim Jordan said on Tuesday") == set()
    assert codes("refugee camps in Jordan and Lebanon") == {"JO", "LB"}
    assert codes("the Jordan Valley") == {"JO"}


def test_chad_the_name() -> None:
    assert codes("Chad Smith, the drummer") == set()
    assert codes("the Lake Chad region") == {"TD"}


def test_turkey_the_bird() -> None:
    assert codes("a roast turkey for Thanksgiving") == set()
    assert codes("Turkey Day at Thanksgiving") == set()
    assert codes("Ankara said Turkey would reply") == {"TR"}


def test_guinea_pig_and_new_guinea() -> None:
    assert codes("Guinea pigs and guinea pig trials") == set()
    assert codes("Papua New Guinea") == {"PG"}
    assert codes("Guinea-Bissau and Guinea") == {"GW", "GN"}


def test_niger_delta_names_niger() -> None:
    # A name counts wherever it stands; the guards are for false friends only.
    assert codes("oil spills in the Niger Delta") == {"NE"}


def test_new_mexico_and_new_jersey_are_us_states() -> None:
    assert codes("New Mexico and New Jersey") == set()


def test_lowercase_words_are_not_countries() -> None:
    assert codes("fine china, let us talk turkey, a chad of paper") == set()


def test_us_in_a_headline_in_capitals() -> None:
    title = "THE U.S. AND CHINA TELL US"
    assert codes(title, caps_until=len(title)) == {"US", "CN"}
    title = "HELP US NOW"
    assert codes(title, caps_until=len(title)) == set()


def test_country_word_in_a_headline_in_capitals() -> None:
    title = "REPORT SAYS SOVIET ECONOMIC PLANS TOO OPTIMISTIC | The report said."
    assert codes(title, caps_until=48) == {"SU"}


def test_evidence_lists_the_terms_as_written_in_the_data() -> None:
    found = detect("Sino-French ties; the French and Frenchmen; China")
    assert found["CN"] == ["Sino-", "China"]
    assert found["FR"] == ["French", "Frenchmen"]

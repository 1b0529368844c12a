"""Enrichment: the year, industry chains and countries of an article, with their evidence.

This is the one entry point the indexer and the `innosearch enrich` command call. The
vocabularies and the chain model are loaded once per process (see `indexer.enrich.taxonomy`,
`indexer.enrich.chain_model` and `indexer.enrich.countries`), so enriching an article is one
regex pass over its text for chain and country terms together (`lexicon.Scanner`), one split
into words and a few hundred multiplications (bench/facets.py measures the articles/s).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from indexer.enrich import chain_model, countries, taxonomy
from indexer.enrich.lexicon import data_file, scanner

# The data files whose contents decide the facets: a change to any asks for a rebuild.
DATA_FILES = ("chains.toml", "countries.toml", chain_model.MODEL_FILE)

# An ISO 8601 date or date-time; only its year is used.
_ISO_DATE = re.compile(r"\s*(\d{4})-(\d{2})(?:-(\d{2}))?(?:[T ].*)?\s*$")


@dataclass
class Enrichment:
    """The facets of one article.

    `evidence` maps each chain id and each country code the article carries to the terms
    that gave it, so the article page can say why and maintainers can fix the data files.
    """

    year: int | None
    chains: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)


def version() -> str:
    """Digest of the enrichment data in use (the chain model and the vocabularies).

    The index records it when it is built, so after a new model or an edited data file
    `innosearch index` asks for `--rebuild` instead of mixing old and new facets.
    """
    return _version(tuple(data_file(name) for name in DATA_FILES))


@cache
def _version(paths: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def year_of(published: str | None) -> int | None:
    """The year of an ISO publication date; None when there is no trustworthy date.

    TAXONOMY.md: an article without a date carries no year rather than a guessed one, so
    anything that is not an ISO date with a plausible month and day gives None.
    """
    if not published:
        return None
    m = _ISO_DATE.match(published)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1800 <= year <= 2999):
        return None
    return year


def prepare(title: str | None, text: str | None) -> tuple[str, str, str, int, int]:
    """(title, body, scanned, title_end, caps_until): the article as both passes read it.

    Whitespace is collapsed in one string for both passes, so hard-wrapped lines ("Soviet\n
    Union") read as one phrase, and positions before `title_end` are the title's;
    `caps_until` is the end of a headline set wholly in capitals.
    """
    # str.split() and the regex \s both take whitespace as str.isspace() does; splitting and
    # joining is the faster way to collapse it.
    title = " ".join((title or "").split())
    body = " ".join((text or "").split())
    scanned = f"{title} | {body}" if title else body
    title_end = len(title) + 3 if title else 0
    caps_until = title_end if title and title.isupper() else 0
    return title, body, scanned, title_end, caps_until


def enrich(title: str, text: str, published: str | None) -> Enrichment:
    """Year, chains and countries of an article, each chain and country with its evidence."""
    title, body, scanned, title_end, caps_until = prepare(title, text)
    chain_hits, country_hits = scanner(taxonomy.rules().lexicon, countries.rules().lexicon).scan(
        scanned, caps_until
    )
    chain_evidence = chain_model.classify(title, body, chain_hits, title_end, len(scanned))
    country_evidence = countries.resolve(country_hits, scanned, caps_until)
    chain_order = taxonomy.chain_ids()
    chains = sorted(chain_evidence, key=chain_order.index)
    codes = sorted(country_evidence)
    return Enrichment(
        year=year_of(published),
        chains=chains,
        countries=codes,
        evidence={**{c: chain_evidence[c] for c in chains}, **country_evidence},
    )

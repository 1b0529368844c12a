"""The chain model: chains with the terms that weighed for them, and a build anyone can redo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from indexer.enrich import chain_model, enrich, prepare, taxonomy, train_chains
from indexer.enrich.lexicon import PACKAGE_DATA

FILLER = (
    "The city council met on Tuesday to discuss the budget for parks, schools and roads. "
    "Residents asked questions about taxes, housing and the new library opening hours. "
)


def chains_of(rows: list[dict], model: chain_model.Model) -> dict[str, dict[str, list[str]]]:
    out = {}
    for row in rows:
        title, body, scanned, title_end, caps = prepare(row["title"], row["text"])
        hits = list(taxonomy.rules().lexicon.scan(scanned, caps))
        out[row["id"]] = chain_model.classify(title, body, hits, title_end, len(scanned), model)
    return out


def test_the_shipped_model_covers_the_twelve_chains() -> None:
    data = json.loads((PACKAGE_DATA / chain_model.MODEL_FILE).read_text(encoding="utf-8"))
    assert list(data["chains"]) == taxonomy.chain_ids()
    assert (PACKAGE_DATA / chain_model.MODEL_FILE).stat().st_size < 1_000_000  # a small file


def test_an_article_about_chips_carries_integrated_circuits_with_its_terms() -> None:
    text = (
        "The chipmaker will build a new wafer fab to make semiconductors for phones. "
        "Its chip design team works with EDA tools, and the foundry will start production of "
        "silicon carbide power chips next year. " + FILLER
    )
    found = enrich("Chipmaker plans new semiconductor plant", text, None)
    assert "integrated-circuits" in found.chains
    assert "semiconductor" in found.evidence["integrated-circuits"][:3]


def test_every_chain_given_comes_with_evidence_found_in_the_article() -> None:
    text = (
        "The airline ordered forty Airbus jets and ten Boeing aircraft for its long-haul fleet, "
        "and the satellite operator will launch a communications satellite on a rocket. " + FILLER
    )
    title = "Airline orders new aircraft"
    found = enrich(title, text, None)
    assert "aerospace" in found.chains
    written = f"{title} {text}".lower()
    words = " ".join(re.findall(r"[^\W_]{2,}", written))
    for chain in found.chains:
        terms = found.evidence[chain]
        assert terms and len(terms) <= chain_model.EVIDENCE_TERMS
        assert all(t.lower() in written or t in words for t in terms), terms


def test_general_news_carries_no_chain() -> None:
    assert enrich("Council debates the budget", FILLER * 5, None).chains == []


def test_the_build_is_reproducible(shared: Path, tmp_path: Path) -> None:
    """Rebuilding from the labelled files gives the shipped model's predictions, every one."""
    paths = [shared / "data" / "labels" / name for name in train_chains.LABEL_FILES]
    rows = train_chains.load_rows(paths)
    rebuilt = tmp_path / chain_model.MODEL_FILE
    assert train_chains.main(["--labels", *map(str, paths), "--out", str(rebuilt)]) == 0
    shipped = chains_of(rows, chain_model.model(PACKAGE_DATA / chain_model.MODEL_FILE))
    again = chains_of(rows, chain_model.model(rebuilt))
    assert {k: sorted(v) for k, v in again.items()} == {k: sorted(v) for k, v in shipped.items()}
    assert sum(bool(v) for v in shipped.values()) > 100  # the labelled sets have 162 with chains


def test_training_without_the_labelled_files_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.jsonl"
    assert train_chains.main(["--labels", str(missing), "--out", str(tmp_path / "m.json")]) == 1
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()

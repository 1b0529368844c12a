"""Coverage: the gaps in a real crawl store's history of runs, as the charts draw them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.store import CrawlStore
from indexer.coverage import crawl_coverage

NOW = datetime(2022, 1, 1, tzinfo=UTC)


def history(data: Path, site: str, days: list[tuple[datetime, bool]]) -> None:
    """Records one run of `site` on each day (ok, or failed with an error), in order."""
    with CrawlStore(data) as store:
        for day, ok in days:
            run = store.start_run([f"https://{site}/"], _iso(day), site)
            summary = {"articles_new": 3 if ok else 0}
            store.finish_run(run, _iso(day + timedelta(minutes=5)), summary,
                             None if ok else "no page answered")  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def daily(start: datetime, days: int, ok: bool = True) -> list[tuple[datetime, bool]]:
    return [(start + timedelta(days=n), ok) for n in range(days)]


def test_failed_runs_and_silences_longer_than_the_sites_rhythm_are_gaps(tmp_path: Path) -> None:
    march = datetime(2021, 3, 1, tzinfo=UTC)
    runs = daily(datetime(2021, 2, 1, tzinfo=UTC), 28)  # every day in February
    runs += daily(march, 10, ok=False)  # ten failed days
    runs += daily(march + timedelta(days=10), 21)  # then daily again until March 31
    runs += [(datetime(2021, 6, 1, tzinfo=UTC), True)]  # then silence for two months
    runs += daily(datetime(2021, 6, 2, tzinfo=UTC), 30)
    history(tmp_path, "herald", runs)
    history(tmp_path, "weekly", [(datetime(2021, 1, 4, tzinfo=UTC) + timedelta(weeks=w), True)
                                 for w in range(52)])  # fmt: skip

    found = crawl_coverage(tmp_path, [("never", ["never.example"])], now=NOW)
    assert found["crawl_store"] and found["note"] is None
    gaps = [(g["site"], g["start"][:10], g["end"][:10], g["kind"], g["failed_runs"])
            for g in found["gaps"]]  # fmt: skip
    assert gaps == [
        ("herald", "2021-02-28", "2021-03-11", "failed", 10),
        ("herald", "2021-03-31", "2021-06-01", "not crawled", 0),
        ("herald", "2021-07-01", "2022-01-01", "not crawled", 0),  # until now: ongoing
    ]
    assert found["gaps"][0]["error"] == "no page answered"
    assert found["gaps"][-1]["ongoing"] and not found["gaps"][0]["ongoing"]
    # A weekly site crawled every week has no gap (three weeks would be one); a configured
    # site that never ran is listed, with no gap invented for it.
    sites = {s["site"]: s for s in found["sites"]}
    assert sites["weekly"]["runs"] == 52 and sites["weekly"]["failed_runs"] == 0
    assert sites["never"] == {
        "site": "never", "runs": 0, "failed_runs": 0, "first_run": None, "last_run": None
    }  # fmt: skip
    assert sites["herald"]["failed_runs"] == 10


def test_a_site_that_never_succeeded_is_one_gap_from_its_first_attempt(tmp_path: Path) -> None:
    history(tmp_path, "down", daily(datetime(2021, 12, 30, tzinfo=UTC), 2, ok=False))
    (gap,) = crawl_coverage(tmp_path, now=NOW)["gaps"]
    assert (gap["site"], gap["kind"], gap["failed_runs"], gap["ongoing"]) == (
        "down",
        "failed",
        2,
        True,
    )
    assert gap["start"] == "2021-12-30T00:00:00Z" and gap["end"] == "2022-01-01T00:00:00Z"


def test_without_a_crawl_store_it_says_so_and_invents_no_gap(tmp_path: Path) -> None:
    for data_dir in (tmp_path, None):
        found = crawl_coverage(data_dir, [("herald", ["herald.example"])], now=NOW)
        assert not found["crawl_store"] and found["gaps"] == [] and found["sites"] == []
        assert "no crawl store" in found["note"] and "JSON lines" in found["note"]

"""Configuration: defaults, then the TOML file, then the environment; every setting documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from innosearch.config import SETTINGS, ConfigError, load_config
from tests.conftest import ROOT


def test_defaults_work_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.index_dir == Path("index") and config.host == "127.0.0.1"
    assert config.crawl.obey_robots and not config.crawl.allow_local


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "innosearch.toml"
    path.write_text(
        'index_dir = "/srv/ix"\nport = 9000\n[crawl]\ndelay = 2.5\nrevisit_days = 7\n',
        encoding="utf-8",
    )
    config = load_config(
        path, environ={"INNOSEARCH_PORT": "9100", "INNOSEARCH_CRAWL_OBEY_ROBOTS": "no"}
    )
    assert config.index_dir == Path("/srv/ix") and config.crawl.delay == 2.5
    assert config.port == 9100 and config.crawl.obey_robots is False
    assert config.crawl.revisit_days == 7.0
    environ = {"INNOSEARCH_CRAWL_REVISIT_DAYS": "0.5"}
    assert load_config(path, environ=environ).crawl.revisit_days == 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = 'eighty'", "setting port: expected int"),
        ("port = [", "not valid TOML"),
        ("[crawl]\ndelay = -1", "crawl.delay"),
        ("[crawl]\nrevisit_days = -1", "crawl.revisit_days: expected float"),
        ("[crawl]\nrevisit_days = 'weekly'", "crawl.revisit_days: expected float"),
    ],
)
def test_mistakes_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_an_environment_value_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """Python reads bytes that are not UTF-8 into lone surrogates (surrogateescape); such a
    User-Agent or token would fail later, deep in a request."""
    broken = b"innosearch/1 \xff".decode("utf-8", "surrogateescape")
    with pytest.raises(ConfigError, match=r"INNOSEARCH_CRAWL_USER_AGENT.*not valid UTF-8"):
        load_config(None, {"INNOSEARCH_CRAWL_USER_AGENT": broken})


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, _help in SETTINGS:
        assert f"`{name}`" in readme, f"README does not document {name}"


SITES = """
stats_token = "0123456789abcdef-long"
[crawl]
delay = 1.5
max_pages = 400

[[sites]]
name = "Herald"
seeds = ["https://www.herald.example/"]
feeds = ["https://herald.example/rss.xml"]
path_prefixes = ["/tech/"]
max_pages = 50
delay = 4

[[sites]]
sitemaps = ["https://weekly.example/sitemap.xml"]
"""


def test_sites_with_their_own_limits(tmp_path: Path) -> None:
    path = tmp_path / "innosearch.toml"
    path.write_text(SITES, encoding="utf-8")
    config = load_config(path, environ={"INNOSEARCH_STATS_TOKEN": "from-the-environment-1234"})
    herald, weekly = config.sites
    assert herald.start_urls() == ["https://www.herald.example/", "https://herald.example/rss.xml"]
    assert herald.site_hosts() == ["herald.example"] and herald.path_prefixes == ["/tech/"]
    settings = herald.crawl_settings(config.crawl)
    assert (settings.max_pages, settings.delay, settings.max_depth) == (50, 4.0, 10)
    assert config.crawl.max_pages == 400  # the shared settings are left alone
    assert weekly.name == "weekly.example" and weekly.crawl_settings(config.crawl).delay == 1.5
    # A given name is shown before the site's hosts; one defaulting to the host is not a name.
    assert config.site_names() == {"herald.example": "Herald"}
    assert config.stats_token == "from-the-environment-1234" and config.source == path


@pytest.mark.parametrize(
    ("site", "message"),
    [
        ('name = "A"', r"sites\[1\] \(A\): give at least one of seeds, feeds or sitemaps"),
        ('seeds = ["news.example.com"]', "seeds: not an http\\(s\\) URL: 'news.example.com'"),
        ('seeds = ["https://a.example/"]\nseed = "x"', "unknown key 'seed'"),
        ('seeds = ["https://a.example/"]\nmax_pages = -1', "max_pages: expected a number >= 0"),
        ('seeds = ["https://a.example/"]\nmax_depth = 2.5', "max_depth: expected a whole number"),
        ('seeds = ["https://a.example/"]\npath_prefixes = ["tech"]', "must start with /"),
        ('seeds = ["https://a.example/"]\nhosts = ["b.example"]', "not on one of its hosts"),
        ('seeds = "https://a.example/"\nfeeds = [1]', "feeds: expected a list of strings"),
        ('seeds = ["https://a.example/"]\nname = 7', r"sites\[1\]: name: expected a non-empty s"),
        ('seeds = ["https://a.example/"]\nname = "  "', "name: expected a non-empty string"),
    ],
)
def test_site_mistakes_name_the_site_and_key(tmp_path: Path, site: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[[sites]]\n{site}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_two_sites_with_one_name(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[sites]]\nseeds = ["https://a.example/"]\n' * 2, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'a\.example' is used twice"):
        load_config(path, environ={})


def test_config_check(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good.toml"
    good.write_text(SITES, encoding="utf-8")
    code, out, err = cli("--config", str(good), "config", "check")
    assert code == 0 and not err
    assert out.startswith(f"{good}: ok; 2 sites (Herald, weekly.example)")
    assert out.rstrip().endswith("unlinked articles revalidated every 1 day")
    monkeypatch.setenv("INNOSEARCH_CRAWL_REVISIT_DAYS", "0")
    code, out, err = cli("--config", str(good), "config", "check")
    assert code == 0 and out.rstrip().endswith("unlinked articles revalidated in every crawl")
    monkeypatch.delenv("INNOSEARCH_CRAWL_REVISIT_DAYS")

    bad = tmp_path / "bad.toml"
    bad.write_text('dealy = 2\nstats_token = "short"\n[crawl]\nmax_page = 3\n', encoding="utf-8")
    code, out, err = cli("--config", str(bad), "config", "check")
    lines = err.splitlines()
    assert code == 1 and not out and len(lines) == 4, err
    assert "unknown setting dealy (did you mean crawl.delay?)" in lines[0]
    assert "unknown setting crawl.max_page (did you mean crawl.max_pages?)" in lines[1]
    assert "stats_token is shorter than 16 characters" in lines[2]

    broken = tmp_path / "broken.toml"
    broken.write_text('[[sites]]\nseeds = ["ftp://x.example/"]\n', encoding="utf-8")
    code, out, err = cli("--config", str(broken), "config", "check")
    assert code == 1 and err.count("\n") == 1 and "not an http(s) URL" in err


def test_log_format_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="log_format: expected one of auto, json, text"):
        load_config(environ={"INNOSEARCH_LOG_FORMAT": "xml"})


def test_config_check_reports_every_mistake_in_one_run(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'port = "web"\n[crawl]\ndelay = "slow"\nmax_pages = 10\n'
        '[[sites]]\nname = "a"\nseeds = ["ftp://a.example/"]\n'
        '[[sites]]\nname = "b"\nseeds = ["https://b.example/"]\nmax_depth = -1\n'
        '[[sites]]\nname = "own"\nseeds = ["http://127.0.0.1:8123/news/"]\n',
        encoding="utf-8",
    )
    code, out, err = cli("--config", str(bad), "config", "check")
    lines = err.splitlines()
    assert code == 1 and not out and len(lines) == 5, err
    assert "port" in lines[0] and "crawl.delay" in lines[1]
    assert "sites[1] (a)" in lines[2] and "sites[2] (b)" in lines[3]
    assert "site own: http://127.0.0.1:8123/news/ is on a loopback or private address" in lines[4]
    assert "crawl.allow_local = true" in lines[4]


def test_a_local_seed_is_refused_with_the_fix(cli, tmp_path: Path) -> None:
    from innosearch.sample_site import serve

    with serve() as site:
        code, _out, err = cli("crawl", site.url(), "--data", str(tmp_path / "d"))
        assert code == 1 and err.count("\n") == 1, err
        assert "loopback or private address (127.0.0.1)" in err and "--allow-local" in err
        assert not site.requests  # refused before a single request
        code, _out, err = cli(
            "crawl", site.url(), "--data", str(tmp_path / "d"), "--allow-local", "--delay", "0"
        )
        assert code == 0 and site.requests, err

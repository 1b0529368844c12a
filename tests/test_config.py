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
    path.write_text('index_dir = "/srv/ix"\nport = 9000\n[crawl]\ndelay = 2.5\n', encoding="utf-8")
    config = load_config(
        path, environ={"INNOSEARCH_PORT": "9100", "INNOSEARCH_CRAWL_OBEY_ROBOTS": "no"}
    )
    assert config.index_dir == Path("/srv/ix") and config.crawl.delay == 2.5
    assert config.port == 9100 and config.crawl.obey_robots is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = 'eighty'", "setting port: expected int"),
        ("port = [", "not valid TOML"),
        ("[crawl]\ndelay = -1", "crawl.delay"),
    ],
)
def test_mistakes_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, _help in SETTINGS:
        assert f"`{name}`" in readme, f"README does not document {name}"

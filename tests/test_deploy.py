"""The scheduling files under deploy/: systemd units that systemd accepts, and the cron line the
README documents, each running the commands a maintainer expects."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = ["innosearch-recrawl.service", "innosearch-recrawl.timer", "innosearch-web.service"]
INSTALLED = "/opt/innosearch/.venv/bin/innosearch"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_recrawl_service_and_timer() -> None:
    service = unit("innosearch-recrawl.service")["Service"]
    assert service["Type"] == "oneshot"
    assert service["ExecStart"] == f"{INSTALLED} recrawl"
    assert "75" in service["SuccessExitStatus"].split()  # a refused overlap is not a failure
    timer = unit("innosearch-recrawl.timer")
    assert timer["Timer"]["Unit"] == "innosearch-recrawl.service"
    assert timer["Timer"]["Persistent"] == "true" and timer["Timer"]["OnCalendar"]
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_web_service() -> None:
    service = unit("innosearch-web.service")
    assert service["Service"]["ExecStart"] == f"{INSTALLED} serve"
    assert service["Service"]["Restart"] == "on-failure"
    assert service["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """`systemd-analyze verify` on copies whose ExecStart names this checkout's innosearch
    (it checks that the program exists and is executable)."""
    here = str(Path(sys.executable).with_name("innosearch"))
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(INSTALLED, here)
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    ours = [line for line in done.stderr.splitlines() if "innosearch" in line]
    assert not ours, ours
    calendar = unit("innosearch-recrawl.timer")["Timer"]["OnCalendar"]
    done = subprocess.run(
        ["systemd-analyze", "calendar", calendar], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0 and "Next elapse" in done.stdout, done.stderr


def test_the_cron_line_is_documented_and_well_formed() -> None:
    lines = [
        line
        for line in (DEPLOY / "innosearch.cron").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == 1
    line = lines[0]
    assert line in (ROOT / "README.md").read_text(encoding="utf-8")
    minute, hour, day, month, weekday, command = line.split(maxsplit=5)
    assert re.fullmatch(r"\d{1,2}", minute) and 0 <= int(minute) < 60
    assert re.fullmatch(r"\*/\d{1,2}|\d{1,2}", hour)
    assert (day, month, weekday) == ("*", "*", "*")
    assert f"{INSTALLED} recrawl" in command and command.endswith("2>&1")

"""Scoring predictions on a shared benchmark folder with the shared scorer, as a subprocess.

The quality gates of the extractor (text, dates) each predict one field per gold page; the
reading of the pages and the call of `evaluate.py` are the same for all of them, so they live
here once.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def score(
    shared: Path, kind: str, folder: Path, predict: Callable[[bytes, str], Any], out: Path
) -> str:
    """Run ``predict(body, url)`` on every gold page of ``folder`` into ``out`` as the field
    the `kind` of `evaluate.py` reads, and return the scorer's report."""
    field = {"extraction": "text", "dates": "published"}[kind]
    gold = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    with out.open("w", encoding="utf-8") as lines:
        for key, record in gold.items():
            body = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
            lines.write(json.dumps({"id": key, field: predict(body, record.get("url", ""))}) + "\n")
    done = subprocess.run(
        [sys.executable, str(shared / "tools" / "evaluate.py"), kind,
         str(folder / "ground-truth.json"), str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout

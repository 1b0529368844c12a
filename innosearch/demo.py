"""`innosearch demo`: the whole pipeline on the bundled sample news site, on loopback only.

It serves the sample site, crawls it with the real crawler (robots.txt, sitemap, links), builds
the index, then serves the search page until interrupted. Everything lives in a temporary
directory that is removed on exit.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from innosearch.config import Config


def run_demo(config: Config) -> None:
    from innosearch import services
    from innosearch.sample_site import serve as serve_sample_site

    workdir = Path(tempfile.mkdtemp(prefix="innosearch-demo-"))
    config.data_dir, config.index_dir = workdir / "data", workdir / "index"
    # The sample site is ours and local: allow loopback, and don't wait a second between pages.
    config.crawl.allow_local = True
    config.crawl.delay = min(config.crawl.delay, 0.02)
    try:
        with serve_sample_site() as site:
            print(f"demo: sample news site at {site.url()}", file=sys.stderr)
            services.crawl_into_store([site.url()], config)
        services.index_store(config, rebuild=False)
        print(
            f"demo: open http://{config.host}:{config.port}/?q=semiconductor "
            "(Ctrl-C stops the demo)",
            file=sys.stderr,
        )
        services.serve_index(config)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

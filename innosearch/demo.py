"""`innosearch demo`: the whole pipeline on the bundled sample news site, on loopback only.

It serves the sample site, crawls it with the real crawler (robots.txt, sitemap, links), builds
the index, then serves the search page until interrupted. Everything lives in a temporary
directory that is removed on exit.
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

from innosearch.config import Config


def run_demo(config: Config) -> None:
    from innosearch import services
    from innosearch.sample_site import serve as serve_sample_site

    workdir = Path(tempfile.mkdtemp(prefix="innosearch-demo-"))
    config.data_dir, config.index_dir = workdir / "data", workdir / "index"
    # The sample site is ours and local: allow loopback, and don't wait a second between pages.
    config.crawl.allow_local = True
    config.crawl.delay = min(config.crawl.delay, 0.02)
    # One server process: the sample site's thread keeps running while the demo serves, and
    # forking workers beside a running thread could leave a lock held in a child.
    config.workers = 1
    # SIGTERM ends the demo as Ctrl-C does, so the temporary folder goes with it.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    server = None
    try:
        server = services.bind_server(config)  # a busy port fails now, before the crawl
        print(f"demo: working in {workdir} (removed when the demo stops)", file=sys.stderr)
        # The sample site stays up while the demo serves: every "original" link points there.
        with serve_sample_site() as site:
            print(f"demo: sample news site at {site.url()}", file=sys.stderr)
            services.crawl_into_store([site.url()], config)
            services.index_store(config, rebuild=False)
            print(
                f"demo: open http://{config.host}:{config.port}/?q=semiconductor "
                "(Ctrl-C stops the demo)",
                file=sys.stderr,
            )
            services.run_server(server, config)
    finally:
        if server is not None:
            server.close()  # already closed when it served; not yet when the crawl failed
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(workdir, ignore_errors=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt

"""The loopback site kit: one real HTTP server for tests, benchmarks and `innosearch demo`.

- :mod:`~innosearch.sample_site.server`: :class:`LoopbackSite`, a server on a free loopback port
  answering from :class:`Route` s (and an app), logging every request as a :class:`Hit`, able to
  :meth:`~LoopbackSite.hold` a request until a test releases it and to
  :meth:`~LoopbackSite.wait_until` the log shows something.
- :mod:`~innosearch.sample_site.herald`: the bundled sample news site the demo crawls,
  rendered from ``templates/``; ``serve()`` starts it and returns a :class:`SampleSite`.
- :mod:`~innosearch.sample_site.wire`: small hand-made sites for the crawler tests and
  benchmarks: a news wire, the same wire's traps, and a generated site of N stories.
"""

from innosearch.sample_site.herald import (
    DATE_STYLES,
    NewsSite,
    SampleSite,
    article_path,
    load_articles,
    serve,
)
from innosearch.sample_site.server import Hit, Hold, LoopbackSite, Route

__all__ = [
    "DATE_STYLES",
    "Hit",
    "Hold",
    "LoopbackSite",
    "NewsSite",
    "Route",
    "SampleSite",
    "article_path",
    "load_articles",
    "serve",
]

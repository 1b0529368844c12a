"""The bundled sample news site that `innosearch demo` crawls on loopback.

``serve()`` starts it on a free port and returns a :class:`SampleSite` (``.url``, ``.port``,
``.requests``, ``.articles``, ``.close()``; also a context manager). The code lives in
:mod:`innosearch.sample_site.site`; the stories in ``articles.json``.
"""

from innosearch.sample_site.site import (
    DATE_STYLES,
    NewsSite,
    RequestRecord,
    SampleSite,
    article_path,
    load_articles,
    serve,
)

__all__ = [
    "DATE_STYLES",
    "NewsSite",
    "RequestRecord",
    "SampleSite",
    "article_path",
    "load_articles",
    "serve",
]

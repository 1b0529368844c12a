"""Turning fetched bytes into an Article: pure, with no network, store or crawl state.

- `page`: the article of one page (metadata, body text, the evidence it was found with);
- `dates`: its publication date; `encoding`: bytes to text by the page's own rules;
- `selectors`: the vocabulary of page furniture and content that cleaning relies on;
- `classify`: article or not (a listing, a short page), with the reason.

Nothing here imports the rest of `crawler` but the `Article` record (import-linter checks it),
so extraction runs the same from a crawl, from the WARC archive or from a benchmark.
"""

from crawler.extract.page import Extraction, ExtractOptions, extract, extract_page, parse_html

__all__ = ["ExtractOptions", "Extraction", "extract", "extract_page", "parse_html"]

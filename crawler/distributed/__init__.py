"""The crawl spread over machines: a shared frontier in Redis (`frontier`, with its server-side
scripts in lua/) and the worker that crawls from it into one index (`worker`), doing for
each URL exactly what the single-process crawl does (`crawler.crawl.CrawlLoop`)."""

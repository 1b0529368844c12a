"""``python -m innosearch.sample_site [--host H] [--port P]``: browse the sample site.

Serves in the foreground and logs each request, so people can see what the demo crawler sees.
Stops cleanly on Ctrl-C or SIGTERM (so it also behaves under a process manager).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from innosearch.sample_site.herald import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m innosearch.sample_site",
        description="Serve the bundled sample news site in the foreground.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    try:
        site = serve(args.host, args.port, verbose=True)
    except OSError as err:
        print(f"error: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"Serving the sample news site at {site.url()} (Ctrl-C to stop)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        site.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

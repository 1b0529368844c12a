"""Serving the app with a production WSGI server (waitress), never Flask's debug server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from waitress.server import create_server

from web import create_app


def make_server(
    index_dir: str | Path, host: str = "127.0.0.1", port: int = 8080, threads: int = 8
) -> Any:
    """A waitress server for the app, bound but not yet running (call `.run()`)."""
    app = create_app({"INDEX_DIR": str(index_dir)})
    return create_server(app, host=host, port=port, threads=threads, ident="innosearch")


def server_url(server: Any) -> str:
    host, port = server.effective_host, server.effective_port
    if ":" in str(host):
        host = f"[{host}]"
    return f"http://{host}:{port}/"

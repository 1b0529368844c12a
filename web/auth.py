"""Maintainer actions: a secret token from the configuration, or nothing.

The app has no accounts. What only maintainers may see (the per-site details of `/stats`) is
unlocked by a token set in the configuration and sent
as `Authorization: Bearer TOKEN` (or `?token=TOKEN`, handy in a browser, but it lands in
access logs). With no token configured the action is off for everyone, so a forgotten
setting never leaves it open. A wrong token is refused outright (401), not treated as no
token, so a typo shows instead of silently giving the public view.
"""

from __future__ import annotations

import hmac

from flask import current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

_CHALLENGE = WWWAuthenticate("bearer", {"realm": "innosearch"})


def given_token() -> str:
    """The token the request carries: the Authorization header's Bearer token, else ?token=."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.args.get("token", "")


def is_maintainer(setting: str) -> bool:
    """True with the token configured under `setting`, False when the request carries none.

    Raises Unauthorized (401 with `WWW-Authenticate`) for a wrong token, and for any token when
    none is configured. Compared in constant time, so the answer's timing tells nothing.
    """
    given = given_token()
    if not given:
        return False
    expected = str(current_app.config.get(setting) or "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(
            f"wrong maintainer token (or no {setting.lower()} configured)",
            www_authenticate=_CHALLENGE,
        )
    return True

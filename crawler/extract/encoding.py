"""Turning the bytes of an HTML response into text.

The order of evidence follows the HTML standard's encoding sniffing, because that is what the page
author tested against in a browser: a byte order mark beats everything, then the HTTP header,
then a ``<meta>`` declaration near the top of the document, and only then a statistical guess.
Legacy Chinese labels are widened to their supersets (gb2312 and gbk to gb18030, big5 to
big5hkscs) since real pages labelled with the narrow name routinely use characters only the wider
one has; decoding with the narrow codec would turn those into replacement characters.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

__all__ = ["decode_html", "for_lxml", "normalize_charset", "without_surrogates"]

# How far into the document a <meta> charset declaration is honoured. The standard says 1024
# bytes; real pages put long inline scripts before it, so we look a little further.
_META_SCAN_BYTES = 4096

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before utf-16-le: its BOM starts with utf-16's
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels whose registered codec is narrower than what pages labelled with them actually contain.
_WIDER: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    # Browsers decode iso-8859-1 and ascii as windows-1252 (smart quotes in the 0x80-0x9f range).
    "iso8859_1": "cp1252",
    "ascii": "cp1252",
}

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with lone UTF-16 surrogates replaced by U+FFFD.

    Decoding bytes never yields them, but a JSON ``"\\ud800"`` escape or a caller's str can, and
    such a string cannot be written as UTF-8 later (the index, the JSON output), so it is made
    valid where it enters.
    """
    return _LONE_SURROGATE.sub("\ufffd", text)


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def for_lxml(text: str, *, decoded: bool = False) -> str:
    """HTML text as lxml's parser takes it, with nothing a reader would miss taken out.

    lxml refuses str input carrying an encoding declaration, NUL bytes end its parse early, and
    lone surrogates cannot be written out later. ``decoded`` says the text comes from
    `decode_html`, whose codecs never yield surrogates, which spares a scan of the page.
    """
    text = _XML_DECLARATION.sub("", text).replace("\x00", "")
    return text if decoded else without_surrogates(text)


def normalize_charset(label: str | None) -> str | None:
    """The Python codec to decode a charset label with, or None when the label is unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    name = _WIDER.get(name, name)
    # A page cannot declare utf-16 in a <meta> it wrote in ASCII-compatible bytes; treat such a
    # declaration (common on misconfigured servers) as utf-8, as browsers do.
    if name.startswith("utf_16") or name.startswith("utf_32"):
        return "utf-8"
    return name


def _charset_from_header(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return normalize_charset(match.group(1)) if match else None


def _charset_from_meta(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_META_SCAN_BYTES])
    if not match:
        return None
    return normalize_charset(match.group(1).decode("ascii", "ignore"))


def _decodes_cleanly(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decodes an HTML response body, trusting the sources a browser would, in its order.

    A declared charset that fails on the bytes is not obeyed blindly: a page served as
    "iso-8859-1" whose bytes are valid UTF-8 is nearly always UTF-8 (the header is a server
    default), so declared labels are tried in order and the first one that decodes cleanly wins.
    Never raises: the last resort decodes as UTF-8 with replacement characters.
    """
    if not body:
        return ""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")

    declared = [c for c in (_charset_from_header(content_type), _charset_from_meta(body)) if c]
    # A single-byte label such as cp1252 accepts almost any bytes, so when the bytes are valid
    # UTF-8 (and not pure ASCII) that is the stronger evidence than a server default.
    if (
        declared
        and declared[0] == "cp1252"
        and not body.isascii()
        and _decodes_cleanly(body, "utf-8")
    ):
        return body.decode("utf-8")
    for encoding in declared:
        if _decodes_cleanly(body, encoding):
            return body.decode(encoding)

    if _decodes_cleanly(body, "utf-8"):
        return body.decode("utf-8")
    # A declaration with a few broken bytes (a truncated body, one bad paste) is still far more
    # reliable than a statistical guess over the whole page.
    if declared:
        return body.decode(declared[0], errors="replace")
    guess = from_bytes(body[:200_000]).best()
    encoding = normalize_charset(guess.encoding) if guess is not None else None
    return body.decode(encoding or "utf-8", errors="replace")

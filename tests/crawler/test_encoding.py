"""Decoding page bytes: Chinese pages must come out as the right characters."""

from __future__ import annotations

import codecs

from crawler.extract import extract
from crawler.extract.encoding import decode_html, normalize_charset

# "Nanjing Innovation Week: Zhu Rongji ..." - 镕 is in GBK but not in GB2312, as on real pages
# that are labelled gb2312 and written with a GBK editor.
CHINESE = "南京创新周开幕，朱镕基参观集成电路产业园"


def page(meta: str = "", text: str = CHINESE) -> str:
    return f"<html><head>{meta}<title>News</title></head><body><p>{text}</p></body></html>"


def test_gbk_bytes_with_meta_charset() -> None:
    body = page('<meta charset="gbk">').encode("gbk")
    assert CHINESE in decode_html(body)


def test_gb2312_label_is_read_as_its_superset() -> None:
    body = page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    decoded = decode_html(body.encode("gb18030"))
    assert CHINESE in decoded
    assert "\ufffd" not in decoded


def test_header_charset_beats_a_missing_meta() -> None:
    body = page().encode("gbk")
    assert CHINESE in decode_html(body, "text/html; charset=GB2312")


def test_big5_page() -> None:
    text = "臺灣半導體產業持續成長，晶圓代工產能擴充"
    body = page('<meta charset="big5">', text).encode("big5")
    assert text in decode_html(body)


def test_bom_wins_over_everything() -> None:
    body = codecs.BOM_UTF8 + page('<meta charset="iso-8859-1">').encode("utf-8")
    assert CHINESE in decode_html(body, "text/html; charset=gbk")


def test_utf16_with_bom() -> None:
    body = codecs.BOM_UTF16_LE + page().encode("utf-16-le")
    assert CHINESE in decode_html(body)


def test_latin1_header_on_utf8_bytes_is_utf8() -> None:
    # A server default of iso-8859-1 is common; the bytes themselves are valid UTF-8.
    body = page("", "Zürich, Genève, Malmö").encode("utf-8")
    assert "Zürich, Genève, Malmö" in decode_html(body, "text/html; charset=ISO-8859-1")


def test_windows_1252_smart_quotes() -> None:
    body = page('<meta charset="iso-8859-1">', "“quoted” – dash").encode("cp1252")
    assert "“quoted” – dash" in decode_html(body)


def test_undeclared_gbk_is_guessed() -> None:
    long_text = (CHINESE + "。") * 20
    body = page("", long_text).encode("gbk")
    assert CHINESE in decode_html(body)


def test_unknown_label_and_empty_body() -> None:
    assert normalize_charset("no-such-charset") is None
    assert normalize_charset("GB2312") == "gb18030"
    assert decode_html(b"") == ""
    assert "abc" in decode_html(b"<p>abc</p>", "text/html; charset=bogus")


def test_extract_gives_chinese_text_from_gbk_bytes() -> None:
    paragraphs = "".join(
        f"<p>{CHINESE}，第{i}段，记者报道了产业园的最新进展。</p>" for i in range(3)
    )
    head = '<html><head><meta charset="gb2312"></head>'
    html = f"{head}<body><article>{paragraphs}</article></body></html>"
    article = extract(html.encode("gbk"))
    assert CHINESE in article.text

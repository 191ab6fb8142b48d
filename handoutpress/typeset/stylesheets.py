"""The head's stylesheets, parsed once per worker instead of once per document.

Parsing and compiling the same stylesheets for every document costs about a
tenth of its typesetting. WeasyPrint can take sheets parsed beforehand, but
gives them the "user" origin; so every stylesheet of the head is taken out, in
its order, or none is, and the cascade among them is the same as when they are
linked (the tests compare the PDFs byte for byte).

What it relies on: the head as `handoutpress.render` writes it (the brand's
``<style>`` block, then ``<link rel="stylesheet">`` tags), and WeasyPrint's
public `CSS` class. A sheet written any other way, one that cannot be read, or
one using at-rules whose effect lives in the document's own state leaves every
sheet to WeasyPrint.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

# The stylesheets in the <head> that render writes: the brand's <style> block, then the links.
_HEAD_STYLESHEET = re.compile(r'<style>(?P<text>.*?)</style>|<link rel="stylesheet" href="(?P<href>[^"<>]+)">', re.DOTALL)
# At-rules whose effect lives in the document's own state, not in the parsed sheet:
# a sheet using them is left for WeasyPrint to parse with the document.
_DOCUMENT_STATE = re.compile(r"@(counter-style|layer)\b", re.IGNORECASE)

KEPT_SHEETS = 64  # more distinct sheets than this in one worker: start again (an edited file each build)


def head_stylesheets(html: str, fetcher, base_url: str) -> tuple[str, list[tuple[str, str]]] | None:
    """``(html without its head's stylesheets, [(text, url), ...])`` in their order, or
    None when they are to be left to WeasyPrint, all of them.

    A linked file is read again each time, so an edited file is parsed again.
    """
    head_end = html.find("</head>")
    if head_end < 0:
        return None
    head = html[:head_end]
    found = list(_HEAD_STYLESHEET.finditer(head))
    if len(found) != head.count("<style") + head.count("<link"):
        return None  # a stylesheet written some other way: WeasyPrint parses them all
    sources = []
    for match in found:
        if match["href"] is None:
            text, url = match["text"], base_url
        else:
            url = urljoin(base_url, unescape(match["href"]))
            try:
                text = fetcher.fetch(url).read().decode("utf-8-sig")
            except (ValueError, UnicodeDecodeError):
                return None  # WeasyPrint reports it, as for any document
        if _DOCUMENT_STATE.search(text):
            return None
        sources.append((text, url))
    pieces, last = [], 0
    for match in found:
        pieces.append(head[last : match.start()])
        last = match.end()
    pieces.append(html[last:])
    return "".join(pieces), sources


class ParsedStylesheets:
    """Stylesheets parsed for one font configuration, by their text and URL.

    The warnings a sheet's parsing logged are kept with it and told again to
    every document that uses it, so a bad rule fails them all, not only the
    first.
    """

    def __init__(self) -> None:
        self.sheets: dict[tuple[str, str], tuple[object, tuple[str, ...]]] = {}

    def parsed(self, sources: list[tuple[str, str]], fetcher, font_config, warnings: list[str]) -> list:
        """The `CSS` for each ``(text, url)``, parsing those not seen before; their warnings go to ``warnings``."""
        if len(self.sheets) > KEPT_SHEETS:
            self.sheets = {}
        out = []
        for text, url in sources:
            key = (text, url)
            if key not in self.sheets:
                from weasyprint import CSS

                before = len(warnings)
                css = CSS(string=text, base_url=url, url_fetcher=fetcher, font_config=font_config)
                self.sheets[key] = (css, tuple(warnings[before:]))
            else:
                warnings.extend(self.sheets[key][1])
            out.append(self.sheets[key][0])
        return out

    def clear(self) -> None:
        self.sheets = {}

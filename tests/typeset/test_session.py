"""What a warm worker keeps between documents (its `TypesetSession`) must never hide a problem in the next one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from support import ROOT

from handoutpress.errors import RenderError
from handoutpress.typeset.session import TypesetSession, typeset
from handoutpress.typeset.stylesheets import head_stylesheets


def page(src: str) -> str:
    return f'<html lang="en"><head><title>t</title></head><body><p>Text</p><img src="{src}" alt="a picture"></body></html>'


def test_a_missing_image_fails_every_document_that_uses_it(tmp_path):
    """The second document asking for the same missing picture fails too, not silently without it."""
    (tmp_path / "assets").mkdir()
    session = TypesetSession()
    for _ in range(2):
        with pytest.raises(RenderError) as caught:
            session.typeset(page("assets/gone.svg"), base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="x.yaml")
        assert "typesetter warning: Failed to load image" in str(caught.value.problems[0])


def write_png(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 30, 30)).save(path)


def recorded_fetches(monkeypatch) -> list[str]:
    """The URLs every fetcher made from now on is asked for."""
    from handoutpress.typeset import session as module

    fetched: list[str] = []
    make = module.make_fetcher

    def recording_fetcher(roots):
        fetcher = make(roots)
        fetch = fetcher.fetch
        fetcher.fetch = lambda url, headers=None: fetched.append(url) or fetch(url, headers)
        return fetcher

    monkeypatch.setattr(module, "make_fetcher", recording_fetcher)
    return fetched


def test_a_picture_read_once_is_reused(tmp_path, monkeypatch):
    """A raster picture two documents of one session use is read from disk once; after
    `forget_files` (the files changed) it is read again."""
    (tmp_path / "assets").mkdir()
    write_png(tmp_path / "assets" / "dot.png")
    fetched = recorded_fetches(monkeypatch)
    session = TypesetSession()
    for _ in range(2):
        session.typeset(page("assets/dot.png"), base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="x.yaml")
    url = (tmp_path / "assets" / "dot.png").resolve().as_uri()
    assert fetched == [url]
    session.forget_files()
    session.typeset(page("assets/dot.png"), base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="x.yaml")
    assert fetched == [url, url]


def test_a_single_typesetting_keeps_nothing(tmp_path, monkeypatch):
    """`typeset` (no session given) starts afresh each time: no cache hides behind the module."""
    (tmp_path / "assets").mkdir()
    write_png(tmp_path / "assets" / "dot.png")
    fetched = recorded_fetches(monkeypatch)
    for _ in range(2):
        typeset(page("assets/dot.png"), base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="x.yaml")
    assert fetched == [(tmp_path / "assets" / "dot.png").resolve().as_uri()] * 2


def test_no_document_outlives_its_typesetting(tmp_path):
    """What a worker keeps holds no document: an SVG image (which holds the layout that
    first drew it) and a document's own data: pictures are not kept, so memory stays flat."""
    import base64
    import gc

    from weasyprint.layout import LayoutContext

    (tmp_path / "assets").mkdir()
    write_png(tmp_path / "assets" / "dot.png")
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle cx="5" cy="5" r="{}"/></svg>'
    (tmp_path / "assets" / "dot.svg").write_text(svg.format(4))
    session = TypesetSession()
    for radius in (1, 2, 3):  # each document has its own inline picture, as each handout has its own QR code
        inline = "data:image/svg+xml;base64," + base64.b64encode(svg.format(radius).encode()).decode()
        html = page("assets/dot.svg").replace(
            "<p>Text</p>", f'<p>Text</p><img src="{inline}" alt="b"><img src="assets/dot.png" alt="c">'
        )
        session.typeset(html, base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="x.yaml")
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, LayoutContext)] == []
    assert (tmp_path / "assets" / "dot.png").resolve().as_uri() in session.images
    assert not any(str(key).startswith("data:") or key.endswith(".svg") for key in session.images)


# ---------------------------------------------------------------------------
# Stylesheets parsed once per worker


def handout_html(variant: str) -> str:
    """The HTML the build typesets for a real handout in ``variant``."""
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_handout
    from handoutpress.load.project import Project
    from handoutpress.render.html import Renderer
    from handoutpress.render.variants import VARIANTS

    item = load_handout(ROOT / "handouts" / "en" / "ketamine-and-your-other-medications.yaml", ROOT)
    return Renderer(Project(ROOT)).html(item, VARIANTS[variant], load_brand(ROOT / "brands" / "default", ROOT))


@pytest.mark.parametrize("variant", ["standard", "large-print", "faq-sheet"])
def test_prepared_stylesheets_give_the_same_bytes(variant, monkeypatch):
    """The stylesheets a worker keeps parsed make exactly the PDF WeasyPrint makes from the links."""
    from handoutpress.typeset.fetcher import make_fetcher

    html = handout_html(variant)
    session = TypesetSession()
    kept, sheets = session.prepared_stylesheets(html, make_fetcher([ROOT / "styles"]), ROOT.as_uri() + "/", [])
    assert len(sheets) == 1 + html.count('<link rel="stylesheet"') and "<style>" not in kept.split("</head>")[0]
    assert len(session.stylesheets.sheets) == len(sheets)  # parsed once, kept by the session
    args = {
        "base_url": ROOT,
        "allowed_roots": [ROOT / "styles", ROOT / "assets", ROOT / "brands"],
        "what": "x",
        "created": "2025-01-01T00:00:00Z",
    }
    prepared = [session.typeset(html, **args) for _ in range(2)]  # the second with the sheets already parsed
    monkeypatch.setattr(TypesetSession, "prepared_stylesheets", lambda self, html, *rest: (html, []))
    assert prepared[0] == prepared[1] == TypesetSession().typeset(html, **args)


def styled(href: str) -> str:
    return f'<html lang="en"><head><title>t</title><style>p {{ margin: 0 }}</style><link rel="stylesheet" href="{href}"></head><body><p>Text</p></body></html>'


def test_a_bad_rule_in_a_parsed_stylesheet_fails_every_document(tmp_path):
    """A rule WeasyPrint does not understand fails the second document too, not only the one that parsed the sheet."""
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / "bad.css").write_text("p { colour: red }")
    session = TypesetSession()
    for _ in range(2):
        with pytest.raises(RenderError) as caught:
            session.typeset(styled("styles/bad.css"), base_url=tmp_path, allowed_roots=[tmp_path / "styles"], what="x.yaml")
        assert "typesetter warning: Ignored `colour: red ` at 1:5, unknown property" in str(caught.value.problems[0])


def test_an_edited_stylesheet_is_parsed_again(tmp_path):
    """The same process picks up a stylesheet changed on disk (a watch session)."""
    from handoutpress.pdf.reader import LazyReader

    (tmp_path / "styles").mkdir()
    sheet = tmp_path / "styles" / "look.css"
    session = TypesetSession()

    def fill_colour(css: str) -> bytes:
        sheet.write_text(css)
        pdf = session.typeset(styled("styles/look.css"), base_url=tmp_path, allowed_roots=[tmp_path / "styles"], what="x.yaml")
        return LazyReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()

    assert b"1 0 0 rg" in fill_colour("p { color: #f00 }")
    blue = fill_colour("p { color: #00f }")
    assert b"0 0 1 rg" in blue and b"1 0 0 rg" not in blue


@pytest.mark.parametrize(
    "head",
    [
        '<style>@counter-style stars { system: cyclic; symbols: "*" }</style>',  # lives in the document's state
        "<style>@layer base { p { margin: 0 } }</style>",
        '<style media="print">p { margin: 0 }</style>',  # written another way
        '<style>p { margin: 0 }</style><link rel="stylesheet" href="styles/gone.css">',  # cannot be read
    ],
)
def test_stylesheets_left_to_weasyprint(head, tmp_path):
    """Every sheet stays in the document, all of them, when one cannot be parsed ahead the same way."""
    from handoutpress.typeset.fetcher import make_fetcher

    (tmp_path / "styles").mkdir()
    html = f'<html lang="en"><head><title>t</title>{head}<link rel="stylesheet" href="styles/a.css"></head><body></body></html>'
    (tmp_path / "styles" / "a.css").write_text("p { color: #123 }")
    fetcher = make_fetcher([tmp_path / "styles"])
    assert head_stylesheets(html, fetcher, tmp_path.as_uri() + "/") is None
    session = TypesetSession()
    assert session.prepared_stylesheets(html, fetcher, tmp_path.as_uri() + "/", []) == (html, [])
    assert session.stylesheets.sheets == {}

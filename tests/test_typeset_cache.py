"""What a warm worker keeps between documents must never hide a problem in the next one."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoutpress.errors import RenderError
from handoutpress.typeset import _image_cache, typeset

ROOT = Path(__file__).resolve().parent.parent


def page(src: str) -> str:
    return f'<html lang="en"><head><title>t</title></head><body><p>Text</p><img src="{src}" alt="a picture"></body></html>'


def test_a_missing_image_fails_every_document_that_uses_it(tmp_path):
    """The second document asking for the same missing picture fails too, not silently without it."""
    (tmp_path / "assets").mkdir()
    for _ in range(2):
        with pytest.raises(RenderError) as caught:
            typeset(page("assets/gone.svg"), base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="x.yaml")
        assert "typesetter warning: Failed to load image" in str(caught.value.problems[0])


def test_an_image_read_once_is_reused(tmp_path):
    """A picture two documents use is read from disk once per process."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle cx="5" cy="5" r="4"/></svg>'
    )
    _image_cache.cache_clear()
    typeset(page("assets/dot.svg"), base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="x.yaml")
    assert list(_image_cache()) == [(tmp_path / "assets" / "dot.svg").resolve().as_uri()]
    (tmp_path / "assets" / "dot.svg").unlink()  # gone from disk: the warm copy still draws
    typeset(page("assets/dot.svg"), base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="x.yaml")

"""``sanitize_html``: the one policy for a feed entry's HTML (every format goes through it)."""

from __future__ import annotations

import lxml.html
import pytest
from lxml import etree

from service.addresses import AddressGuard
from service.feeds.sanitize import sanitize_html

BASE = "https://news.example.org/world/story.html"


def clean(markup: str) -> str:
    out = sanitize_html(markup, base=BASE)
    assert out is not None
    return out


def elements(markup: str) -> list[etree._Element]:
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    return [e for e in root.iter(tag=etree.Element)][1:]


def test_text_and_structure_kept() -> None:
    markup = (
        "<h2>Floods</h2><p>Rain <b>fell</b> &amp; <em>rivers</em> rose.</p>"
        "<ul><li>one</li><li>two</li></ul><blockquote>said</blockquote>"
        "<figure><img src='/a.jpg' alt='A street'><figcaption>Street</figcaption></figure>"
    )
    assert clean(markup) == (
        "<h2>Floods</h2><p>Rain <b>fell</b> &amp; <em>rivers</em> rose.</p>"
        "<ul><li>one</li><li>two</li></ul><blockquote>said</blockquote>"
        '<figure><img src="https://news.example.org/a.jpg" alt="A street">'
        "<figcaption>Street</figcaption></figure>"
    )


@pytest.mark.parametrize(
    "tag",
    [
        "script",
        "style",
        "svg",
        "math",
        "template",
        "noscript",
        "iframe",
        "object",
        "form",
        "textarea",
        "select",
        "button",
    ],
)
def test_code_and_controls_go_with_their_content(tag: str) -> None:
    assert clean(f"<p>before</p><{tag}>SECRET</{tag}><p>after</p>") == ("<p>before</p><p>after</p>")


def test_unknown_tags_go_but_their_text_stays() -> None:
    assert clean("<p><blink>live</blink> <custom-tag>text</custom-tag></p>") == "<p>live text</p>"


def test_handlers_styles_classes_ids_and_comments_go() -> None:
    out = clean(
        '<p id="x" class="lead" style="color:red" onclick="steal()" onmouseover="x">'
        "a<!-- editor note -->b</p>"
    )
    assert out == "<p>ab</p>"


def test_urls_resolved_and_only_http_kept() -> None:
    out = clean(
        '<a href="../more.html">more</a><a href="javascript:alert(1)">js</a>'
        '<a href="  JaVaScRiPt:x">js2</a><a href="data:text/html,x">data</a>'
        '<a href="mailto:a@b.c">mail</a><a href="https://other.example.com/">other</a>'
    )
    assert out == (
        '<a href="https://news.example.org/more.html">more</a><a>js</a><a>js2</a><a>data</a>'
        '<a>mail</a><a href="https://other.example.com/">other</a>'
    )


def test_image_whose_source_went_goes_text_around_stays() -> None:
    out = clean('<p>a<img src="javascript:x" alt=\' src="https://ok/"\'>b<img alt="none">c</p>')
    assert out == "<p>abc</p>"


def test_srcset_candidates_filtered_one_by_one() -> None:
    out = clean(
        '<img src="/a.jpg" srcset="/a.jpg 1x, javascript:x 2x, https://cdn.example/b.jpg 3x">'
    )
    assert out == (
        '<img src="https://news.example.org/a.jpg" '
        'srcset="https://news.example.org/a.jpg 1x, https://cdn.example/b.jpg 3x">'
    )


def test_address_policy_applied_to_every_url() -> None:
    out = sanitize_html(
        '<a href="http://127.0.0.1/admin">a</a><img src="http://169.254.169.254/x">'
        '<video src="http://10.0.0.1/v.mp4" poster="/p.jpg"></video>',
        base=BASE,
        permits=AddressGuard().permits_link,
    )
    assert out == '<a>a</a><video poster="https://news.example.org/p.jpg"></video>'


@pytest.mark.parametrize(
    "payload",
    [
        # mutation XSS: markup that re-parses differently from how a naive cleaner read it
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style>",
        "<svg><style><img src=x onerror=alert(1)></style></svg>",
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        "<img src=`javascript:alert(1)`>",
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        "<div><script>alert(1)//</script></div>",
        '<a href="https://ok.example/" target="_blank" formaction="javascript:x">x</a>',
    ],
)
def test_hostile_markup_leaves_nothing_active(payload: str) -> None:
    out = sanitize_html(payload, base=BASE) or ""
    for element in elements(out) if out else []:
        assert element.tag not in ("script", "style", "iframe", "svg", "math", "form")
        for name, value in element.attrib.items():
            assert not name.startswith("on"), (name, value)
            assert name not in ("formaction", "srcdoc", "target", "style"), name
            if name in ("href", "src"):
                assert value.startswith(("https://", "http://")), (name, value)


def test_control_characters_removed_and_empty_is_none() -> None:
    assert clean("<p>a\x00b\x07c</p>") == "<p>abc</p>"
    assert sanitize_html("   ", base=BASE) is None
    assert sanitize_html("<script>x()</script><!-- c -->", base=BASE) is None
    assert sanitize_html(None, base=BASE) is None

"""The article's canonical URL, site domain and lead image: http(s) only, plausible hosts only."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from tldextract import TLDExtract

from service.urls import host_of, normalize_url, resolve_url

# The public-suffix list snapshot bundled with tldextract, its private section included (so
# ``evil.blogspot.com`` and ``victim.blogspot.com`` are two sites, as are ``*.github.io``):
# no download, no cache directory, nothing read from the network at run time.
_SUFFIXES = TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def registered_domain(url: str) -> str:
    """``www.bbc.co.uk/news`` -> ``bbc.co.uk``, ``evil.blogspot.com`` -> itself (public-suffix
    list with its private section); the host when it has no known suffix (an IP address)."""
    host = host_of(url)
    if not host:
        return host
    domain = _SUFFIXES.extract_str(host).top_domain_under_public_suffix
    return domain.lower() if domain else host


def choose_canonical(page_url: str, candidates: list[str | None]) -> str:
    """The normalised canonical URL: the first candidate on the page's registered domain.

    A candidate on another site is ignored (a page cannot claim another site's story), and
    so is one pointing at the site's home page when the page itself is deeper (a common CMS
    template bug that would merge every article into one id).
    """
    page_domain = registered_domain(page_url)
    page_is_deep = _path_of(page_url) not in ("", "/")
    for candidate in candidates:
        url = resolve_url(page_url, candidate)
        if url is None or registered_domain(url) != page_domain:
            continue
        if page_is_deep and _path_of(url) in ("", "/"):
            continue
        try:
            return normalize_url(url)
        except ValueError:
            continue
    return normalize_url(page_url)


def foreign_canonical(page_url: str, candidates: list[str | None]) -> str | None:
    """The first canonical candidate on another registered domain, normalised (``None``
    without one). Never the article's id; a hint that the page is a copy of that URL's
    article, checked against the text (service.identity)."""
    page_domain = registered_domain(page_url)
    for candidate in candidates:
        url = resolve_url(page_url, candidate)
        if url is None or registered_domain(url) == page_domain or _path_of(url) in ("", "/"):
            continue
        try:
            return normalize_url(url)
        except ValueError:
            continue
    return None


def _path_of(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def site_domain(canonical_url: str) -> str:
    """The host of the canonical URL without a leading ``www.``."""
    return host_of(canonical_url).removeprefix("www.")


def choose_image(
    page_url: str, candidates: list[str | None], *, permits: Callable[[str], bool]
) -> str | None:
    """The first candidate that resolves to an http(s) URL (relative ones against the page)
    that ``permits`` lets through (no private or loopback address, say)."""
    for candidate in candidates:
        url = resolve_url(page_url, candidate.strip() if candidate else None)
        if url is not None and permits(url):
            return url
    return None

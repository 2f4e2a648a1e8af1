"""Article extraction: pure functions from a fetched page (and its feed entry) to Article v1.

The public entry point is :func:`extract_article` (:func:`extract_story` also returns what
the page claims beyond the article: a canonical URL on another site); the modules below it
each hold one concern: ``html`` (decode, parse once, depth check), ``metadata``/``jsonld`` (what the
page declares), ``body`` (trafilatura), ``text``/``boilerplate``/``standfirst`` (clean
story text), ``titles``/``authors``/``dates``/``language``/``links`` (one field each) and
``fusion`` (the best value of each field across sources).
"""

from service.extraction.article import EXTRACTOR, Story, extract_article, extract_story

__all__ = ["EXTRACTOR", "Story", "extract_article", "extract_story"]

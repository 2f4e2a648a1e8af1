"""Article extraction: pure functions from a fetched page (and its feed entry) to Article v1.

The public entry point is :func:`extract_article`; the modules below it each hold one
concern: ``html`` (decode, parse once, depth check), ``metadata``/``jsonld`` (what the
page declares), ``body`` (trafilatura), ``text``/``boilerplate``/``standfirst`` (clean
story text), ``titles``/``authors``/``dates``/``language``/``links`` (one field each) and
``fusion`` (the best value of each field across sources).
"""

from service.extraction.article import EXTRACTOR, extract_article

__all__ = ["EXTRACTOR", "extract_article"]

"""newswire: RSS/Atom/JSON feeds in, clean structured article events out on Redis streams."""

__version__ = "0.1.0"

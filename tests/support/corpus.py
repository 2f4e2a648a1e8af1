"""Where the real-page and real-feed corpus lives: ``tests/data/corpus`` in this repository.

``NEWSWIRE_CORPUS`` points the tests and benchmarks at another copy (for example a newer
``../shared/corpus`` being evaluated before its files are brought in).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO / "tests" / "data" / "corpus"


def corpus_root() -> Path:
    """The corpus directory (with ``pages/`` and ``feeds/``), read from the environment now."""
    return Path(os.environ.get("NEWSWIRE_CORPUS", DEFAULT_CORPUS))

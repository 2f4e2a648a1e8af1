"""The JSON Schema of the public contract (Article v1), generated from the model.

    python -m service.schema            # (re)write docs/schema/article.v1.json
    python -m service.schema --check    # exit 1 if the committed file is stale

The file is what consumers validate against; it is generated, never edited by hand, and
its content is stable (sorted keys, fixed indentation) so a diff shows real changes only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.models import SCHEMA_VERSION, Article

REPO = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO / "docs" / "schema" / f"article.v{SCHEMA_VERSION}.json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def article_schema() -> dict[str, Any]:
    """Article's JSON Schema as serialised on the wire (``mode="serialization"``)."""
    schema = Article.model_json_schema(mode="serialization")
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


def render_schema() -> str:
    """The schema document exactly as committed: sorted keys, two-space indent, final newline."""
    return json.dumps(article_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def is_current(path: Path = SCHEMA_PATH) -> bool:
    """Whether ``path`` holds exactly what the model generates today."""
    return path.is_file() and path.read_text(encoding="utf-8") == render_schema()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write or check the Article JSON Schema.")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--output", type=Path, default=SCHEMA_PATH, help="schema file path")
    args = parser.parse_args(argv)
    path: Path = args.output
    if args.check:
        if is_current(path):
            return 0
        print(f"{path} is stale: run `python -m service.schema`", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_schema(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

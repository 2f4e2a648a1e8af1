"""Peak memory of one worker process on one page: the heaviest corpus page, a 20 MB page.

    python -m bench.memory [--smoke]

Each case runs in a fresh child process that imports what a worker imports and extracts a
small corpus page first (so the language model and caches are loaded, as in a warm worker),
then resets the peak (``VmHWM``, via ``/proc/self/clear_refs``) and runs ``extract_article``
on the page: RSS before, peak RSS during the call, their difference, and the CPU seconds.
The 20 MB page is ``bench.hostile``'s (a story followed by 20 MB of related-story blocks),
handed to ``extract_article`` directly (the fetcher would refuse it as ``too_large``);
``--smoke`` uses a 6 MB one instead.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import PAGES, REPO, load_pages, mib, table
from bench.hostile import PAGE_URL, big_page, memory
from service.errors import IngestError
from service.extraction import extract_article
from service.models import FetchedPage

CASES = ("heaviest corpus page", "big page (bench.hostile's)")


def corpus_page(name: str) -> tuple[str, bytes]:
    """One corpus page read alone (loading them all would leave freed heap to reuse)."""
    meta = json.loads((PAGES / f"{name}.json").read_text())
    return str(meta["url"]), gzip.decompress((PAGES / f"{name}.html.gz").read_bytes())


def child(case: str, warm: str, heaviest: str, big: int) -> None:
    now = datetime.now(UTC)
    url, content = corpus_page(warm)
    extract_article(FetchedPage(requested_url=url, url=url, content=content, fetched_at=now))
    url, content = (PAGE_URL, big_page(big)) if case == CASES[1] else corpus_page(heaviest)
    page = FetchedPage(requested_url=url, url=url, content=content, fetched_at=now)
    del content
    gc.collect()
    before = memory("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM (peak RSS) := current RSS
    cpu = time.process_time()
    try:
        outcome = f"ok: {extract_article(page).word_count} words"
    except IngestError as exc:
        outcome = exc.reason.value
    seconds, peak = time.process_time() - cpu, memory("VmHWM")
    print(
        json.dumps(
            {
                "case": case,
                "bytes": len(page.content),
                "before": before,
                "peak": peak,
                "cpu": seconds,
                "outcome": outcome,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="a 6 MB page instead of 20 MB")
    args = parser.parse_args()
    if args.child:
        case, warm, heaviest, big = args.child
        child(case, warm, heaviest, int(big))
        return
    big_bytes = 6_000_000 if args.smoke else 20_000_000
    pages = sorted(load_pages(), key=lambda page: len(page.html))
    names = [pages[0].name, pages[-1].name]  # the warm-up page, the heaviest page
    rows: list[list[object]] = []
    for case in CASES:
        out = subprocess.run(
            [sys.executable, "-m", "bench.memory", "--child", case, *names, str(big_bytes)],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = json.loads(out.strip().splitlines()[-1])
        rows.append(
            [
                case,
                f"{found['bytes'] / 1e6:.2f} MB",
                mib(found["before"]),
                mib(found["peak"]),
                mib(found["peak"] - found["before"]),
                found["cpu"],
                found["outcome"],
            ]
        )
    print(
        table(
            "One worker process on one page (fresh process, warmed on a small page)",
            ["page", "size", "RSS before MiB", "peak RSS MiB", "growth MiB", "CPU s", "outcome"],
            rows,
            "",
        )
    )
    heavy, big = rows
    print(
        f"HEADLINE peak RSS of one worker process: heaviest corpus page {heavy[3]:.0f} MiB, "
        f"{big_bytes // 1_000_000} MB page {big[3]:.0f} MiB"
    )


if __name__ == "__main__":
    main()

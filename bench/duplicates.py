"""Near-duplicate detection (``duplicate_of``): precision and recall per transformation, the
time it adds to the worker, and the Redis memory of the index.

    python -m bench.duplicates [--pages N] [--memory 5000] [--grid]

Labelled cases from the real-page corpus (``tests/data/corpus/pages/*.json``: each page's
expected paragraphs): every original is published on site A (one template, its headline);
copies of it on site B, each with one transformation of issue 9 (another template, headline
or byline; a dateline prefix; the last paragraphs cut; words edited; a credit line or an
editor's note; paragraphs split and merged; "READ MORE" lines; all of these together).
Every page is HTML put through newswire's own extraction, so chrome plays its part. Hard
negatives: the other originals (one template for all of them), short briefs that share a
standard paragraph, articles that share only their intro paragraph. The pages are split in
two halves by name (even / odd); thresholds were tuned on the first and both are reported.

Each case goes through ``StoryIndex.identify`` against a private redis-server, in order
(originals, then copies, then negatives). A copy is right when it points at its original;
precision counts every non-null ``duplicate_of``. "unchanged" is the share of the original's
words the copy keeps in order (difflib); the recall target applies to copies >= 75 %.
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

import redis

from bench.common import PAGES, redis_server, table
from service.extraction import extract_article
from service.hashing import short_hash
from service.identity.index import Rules, StoryIndex
from service.identity.shingles import tokens
from service.identity.signature import Thresholds, sign
from service.models import FetchedPage
from service.settings import Settings

Paras = list[str]
# Cuts and edits count words; in scripts without spaces a "word" here is a whole sentence,
# so those cases are harsher there than their label says (their "unchanged" column tells).
Transform = Callable[[Paras, random.Random], Paras]
BOILERPLATE = [
    "This is a developing story. Check back for updates as more information becomes "
    "available, and follow our live coverage on the website and in the app.",
    "Sign up for our morning newsletter to get the day's most important stories, analysis "
    "and opinion delivered to your inbox every weekday before breakfast, free of charge.",
]
TEMPLATES = {
    "A": (
        "<header><a href='/'>Daily A</a> <a href='/world'>World</a> <a href='/sport'>Sport</a>"
        "</header>",
        "<aside><h3>Most read</h3><ul><li><a href='/x'>Storm closes harbour</a></li>"
        "<li><a href='/y'>Council approves budget</a></li></ul></aside>"
        "<footer>© Daily A. All rights reserved. <a href='/privacy'>Privacy</a></footer>",
    ),
    "B": (
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li>"
        "<li><a href='/opinion'>Opinion</a></li></ul></nav><div class='share'>Share on "
        "Facebook Share on X Email</div>",
        "<div class='newsletter'>Get our free newsletter every morning. Subscribe now.</div>"
        "<section class='related'><h3>Related</h3><a href='/r1'>Markets fall again</a></section>"
        "<footer>The Other Tribune, 1 Main Street. Terms. Cookies.</footer>",
    ),
}


def page_html(template: str, headline: str, byline: str, paras: Paras) -> bytes:
    head, tail = TEMPLATES[template]
    body = "".join(f"<p>{escape(p)}</p>" for p in paras)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(headline)}</title>"
        f"</head><body>{head}<main><article><h1>{escape(headline)}</h1>"
        f"<p class='byline'>By {escape(byline)}</p>{body}</article></main>{tail}</body></html>"
    ).encode()


EXTRACTION_CPU: list[float] = []  # seconds of CPU of each extraction, for the ratio


def extracted(template: str, headline: str, byline: str, paras: Paras, url: str) -> str:
    page = FetchedPage(
        requested_url=url,
        url=url,
        content=page_html(template, headline, byline, paras),
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    started = time.process_time()
    text = extract_article(page, min_text_chars=1).text
    EXTRACTION_CPU.append(time.process_time() - started)
    return text


# --- transformations --------------------------------------------------------------------
def dateline(paras: Paras, rng: random.Random) -> Paras:
    return [f"{rng.choice(['WASHINGTON', 'LONDON', 'BERLIN'])} (AP) — {paras[0]}", *paras[1:]]


def cut_last(keep: float) -> Transform:
    def cut(paras: Paras, rng: random.Random) -> Paras:
        total, out, words = sum(len(p.split()) for p in paras), [], 0
        for p in paras:
            if words >= total * keep:
                break
            out.append(p)
            words += len(p.split())
        return out

    return cut


def edit_words(share: float) -> Transform:
    def edit(paras: Paras, rng: random.Random) -> Paras:
        out = []
        for p in paras:
            words = p.split()
            for i in range(len(words)):
                if rng.random() < share:
                    words[i] = rng.choice(["said", "reported", "new", "several", "major"])
            out.append(" ".join(words))
        return out

    return edit


def credit(paras: Paras, rng: random.Random) -> Paras:
    return [
        "Editor's note: this article has been updated with comment from the ministry.",
        *paras,
        "This story was originally published by the Associated Press and is republished "
        "with permission.",
    ]


def split_merge(paras: Paras, rng: random.Random) -> Paras:
    out: Paras = []
    for i, p in enumerate(paras):
        sentences = p.split(". ")
        if len(sentences) > 1 and i % 2 == 0:
            half = len(sentences) // 2
            out += [". ".join(sentences[:half]) + ".", ". ".join(sentences[half:])]
        elif out and i % 2 == 1:
            out[-1] = out[-1] + " " + p
        else:
            out.append(p)
    return out


def read_more(paras: Paras, rng: random.Random) -> Paras:
    out = list(paras)
    for at in sorted({len(out) // 3, 2 * len(out) // 3}, reverse=True):
        out.insert(max(1, at), "READ MORE: Markets fall for a third day as rates stay high")
    return out


def combined(paras: Paras, rng: random.Random) -> Paras:
    return read_more(credit(dateline(cut_last(0.85)(paras, rng), rng), rng), rng)


def same(paras: Paras, rng: random.Random) -> Paras:
    return list(paras)


# name -> (template, headline changed, byline changed, transform)
COPIES: dict[str, tuple[str, bool, bool, Transform]] = {
    "other template (chrome)": ("B", False, False, same),
    "other headline": ("A", True, False, same),
    "other byline": ("A", False, True, same),
    "dateline prefix": ("B", True, True, dateline),
    "last paragraphs cut (80 % kept)": ("B", True, True, cut_last(0.8)),
    "last paragraphs cut (50 % kept)": ("B", True, True, cut_last(0.5)),
    "words edited (3 %)": ("B", True, True, edit_words(0.03)),
    "words edited (10 %)": ("B", True, True, edit_words(0.10)),
    "credit line, editor's note": ("B", True, True, credit),
    "paragraphs split/merged": ("B", True, True, split_merge),
    "READ MORE lines": ("B", True, True, read_more),
    "all of the above (85 % kept)": ("B", True, True, combined),
}


# --- cases --------------------------------------------------------------------------------
@dataclass
class Case:
    kind: str  # "original", a COPIES name, or a negative's name
    id: str
    text: str
    expected: str | None  # the original's id, or None
    unchanged: float = 1.0


@dataclass
class Corpus:
    name: str
    cases: list[Case] = field(default_factory=list)


def load_paragraphs() -> list[tuple[str, str, Paras]]:
    out = []
    for path in sorted(PAGES.glob("*.json")):
        meta = json.loads(path.read_text())
        paras = [p for p in meta.get("paragraphs") or [] if p.strip()]
        if len(tokens("\n".join(paras))) >= 150:
            out.append((path.name.removesuffix(".json"), meta.get("title") or "", paras))
    return out


def unchanged(original: str, copy: str) -> float:
    a, b = tokens(original), tokens(copy)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    return kept / max(1, len(a), len(b))


def build(name: str, pages: list[tuple[str, str, Paras]], others: list[Paras]) -> Corpus:
    corpus = Corpus(name)
    originals: dict[str, Case] = {}
    for page, title, paras in pages:
        url = f"https://daily-a.example/{page}"
        text = extracted("A", title, "Ann Reporter", paras, url)
        originals[page] = Case("original", short_hash(url), text, None)
        corpus.cases.append(originals[page])
    for kind, (template, new_headline, new_byline, transform) in COPIES.items():
        for page, title, paras in pages:
            rng = random.Random(f"{page}/{kind}")
            url = f"https://tribune-b.example/{short_hash(kind)[:6]}/{page}"
            headline = f"{title} — what we know" if new_headline else title
            byline = "Bob Wire, Associated Press" if new_byline else "Ann Reporter"
            text = extracted(template, headline, byline, transform(paras, rng), url)
            original = originals[page]
            corpus.cases.append(
                Case(kind, short_hash(url), text, original.id, unchanged(original.text, text))
            )
    corpus.cases += negatives(pages, others)
    return corpus


def negatives(pages: list[tuple[str, str, Paras]], others: list[Paras]) -> list[Case]:
    """Short briefs that share only a standard paragraph (their own words from pages of the
    other half, never indexed); articles sharing only their intro (the intro of an indexed
    original, the rest from a page of the other half)."""
    out = []
    for i, (page, title, paras) in enumerate(pages):
        first = " ".join(others[(i + 1) % len(others)][0].split()[:45])
        standard = BOILERPLATE[i % len(BOILERPLATE)]
        url = f"https://briefs-c.example/{page}"
        text = extracted("B", title, "Staff", [first, standard], url)
        out.append(Case("brief sharing a standard paragraph", short_hash(url), text, None))
        if i >= len(others) or len(paras[0].split()) * 3 > sum(len(p.split()) for p in paras):
            continue  # each body once; an "intro" that is most of the article is no intro
        body = others[i]
        url = f"https://intro-d.example/{page}"
        text = extracted("B", title, "Staff", [paras[0], *body[1:]], url)
        out.append(Case("shared intro paragraph only", short_hash(url), text, None))
    return out


# --- running ------------------------------------------------------------------------------
@dataclass
class Result:
    rows: list[list[object]]
    precision: float
    target_recall: float
    ms: list[float]  # worker CPU time of each identify call
    script_ms: float  # Redis time of the claim script, per article


def run(client: redis.Redis, settings: Settings, corpus: Corpus, rules: Rules) -> Result:
    client.flushall()
    index = StoryIndex(client, settings, rules)
    got: dict[str, str | None] = {}
    ms: list[float] = []
    client.config_resetstat()
    for case in corpus.cases:
        started = time.process_time()
        got[case.id] = index.identify(case.id, case.text).duplicate_of
        ms.append((time.process_time() - started) * 1000)
    stats = client.info("commandstats").get("cmdstat_evalsha", {})
    script_ms = float(stats.get("usec", 0)) / 1000 / len(corpus.cases)
    links = [c for c in corpus.cases if got[c.id] is not None]
    right = [c for c in links if got[c.id] == c.expected]
    rows: list[list[object]] = []
    for kind in dict.fromkeys(c.kind for c in corpus.cases):
        cases = [c for c in corpus.cases if c.kind == kind]
        linked = [c for c in cases if got[c.id] is not None]
        correct = [c for c in cases if got[c.id] == c.expected]
        rows.append(
            [
                kind,
                len(cases),
                f"{statistics.mean(c.unchanged for c in cases):.0%}",
                f"{len(correct) / len(cases):.1%}",
                len([c for c in linked if got[c.id] != c.expected]),
            ]
        )
    target = [c for c in corpus.cases if c.expected and c.unchanged >= 0.75]
    recall = sum(1 for c in target if got[c.id] == c.expected) / max(1, len(target))
    return Result(rows, len(right) / max(1, len(links)), recall, ms, script_ms)


def memory(client: redis.Redis, base: Settings, n: int, daily: int) -> tuple[float, float]:
    """Bytes per indexed article: ``used_memory`` growth and ``MEMORY USAGE`` of the index's
    keys, after indexing ``n`` distinct articles with ``duplicates_daily_articles=daily``."""
    client.flushall()
    settings = base.model_copy(update={"duplicates_daily_articles": daily})
    index = StoryIndex(client, settings)
    vocabulary = sorted({t for _, _, paras in load_paragraphs()[:40] for t in tokens(paras[0])})
    rng = random.Random(7)
    before = int(client.info("memory")["used_memory"])
    for i in range(n):
        text = " ".join(rng.choice(vocabulary) for _ in range(400))
        index.identify(short_hash(f"memory/{i}"), text)
    used = int(client.info("memory")["used_memory"]) - before
    keys = list(client.scan_iter(match=f"{settings.key_prefix}:story:*", count=1000))
    usage = sum(int(client.memory_usage(k) or 0) for k in keys)
    return used / n, usage / n


def grid(client: redis.Redis, settings: Settings, corpus: Corpus) -> None:
    rows = []
    for similarity in (0.4, 0.5, 0.6):
        for containment in (0.7, 0.8, 0.9):
            for shared in (30, 40, 60):
                rules = Rules(copy=Thresholds(similarity, containment, shared))
                res = run(client, settings, corpus, rules)
                rows.append([similarity, containment, shared, res.precision, res.target_recall])
    print(
        table(
            f"Threshold grid on {corpus.name}",
            ["min similarity", "min containment", "min shared", "precision", "recall >= 75 %"],
            rows,
            "",
        )
    )


def signing_ms(corpus: Corpus, min_words: int) -> float:
    started = time.process_time()
    for case in corpus.cases:
        sign(case.text, min_shingles=min_words)
    return (time.process_time() - started) * 1000 / len(corpus.cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=None, help="corpus pages (default all)")
    parser.add_argument("--memory", type=int, default=5000, help="articles of the memory run")
    parser.add_argument("--grid", action="store_true", help="threshold grid on the tune half")
    args = parser.parse_args()
    pages = load_paragraphs()[: args.pages]
    halves = [pages[0::2], pages[1::2]]
    print(f"{len(pages)} corpus pages with >= 150 tokens; building cases...", flush=True)
    corpora = [
        build(
            f"half {i + 1} ({'tuned on' if i == 0 else 'held out'})", half, [p for *_, p in other]
        )
        for i, (half, other) in enumerate([(halves[0], halves[1]), (halves[1], halves[0])])
    ]
    with redis_server() as server:
        client = redis.Redis.from_url(server.url)
        settings = Settings(redis_url=server.url)
        if args.grid:
            grid(client, settings, corpora[0])
        for corpus in corpora:
            res = run(client, settings, corpus, Rules())
            print(
                table(
                    f"duplicate_of on {corpus.name}",
                    ["case", "n", "unchanged", "right", "wrong links"],
                    res.rows,
                    f"precision {res.precision:.3f}, recall {res.target_recall:.3f} on copies "
                    f">= 75 % unchanged; worker CPU per article {statistics.mean(res.ms):.2f} ms "
                    f"mean (signature alone {signing_ms(corpus, settings.duplicates_min_words):.2f}"
                    f" ms), Redis script {res.script_ms:.2f} ms; extraction of the same pages "
                    f"{statistics.mean(EXTRACTION_CPU) * 1000:.1f} ms CPU mean (identify = "
                    f"{statistics.mean(res.ms) / (statistics.mean(EXTRACTION_CPU) * 1000):.1%} "
                    "of it)",
                )
            )
            print()
        rows = []
        for n, daily in ((args.memory, args.memory), (args.memory * 2, args.memory)):
            used, usage = memory(client, settings, n, daily)
            rows.append([n, daily, f"{used:.0f}", f"{usage:.0f}"])
        for key in list(client.scan_iter(match=f"{settings.key_prefix}:story:*:b:*", count=100))[
            :1
        ]:
            print(f"band shard encoding: {client.object('encoding', key)}")
        print(
            table(
                "Redis memory of the index",
                [
                    "articles indexed",
                    "duplicates_daily_articles",
                    "used_memory / article",
                    "MEMORY USAGE / article",
                ],
                rows,
                f"redis-server {client.info('server')['redis_version']}; bytes per article",
            )
        )


if __name__ == "__main__":
    main()

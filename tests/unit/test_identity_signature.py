"""The pure part of story identity: text -> tokens -> shingles -> signature -> verdict."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from service.identity.shingles import shingle_hashes, tokens
from service.identity.signature import NUM_PERM, Packed, Thresholds, compare, sign
from tests.conftest import corpus_dir

RULE = Thresholds()


def corpus_texts(prefix: str = "") -> list[list[str]]:
    out = []
    for path in sorted(corpus_dir("pages").glob(f"{prefix}*.json")):
        paras = [p for p in json.loads(Path(path).read_text())["paragraphs"] if p.strip()]
        if len(tokens("\n".join(paras))) >= 200:
            out.append(paras)
    return out


def is_copy(a: str, b: str, rule: Thresholds = RULE) -> bool:
    first, second = sign(a, min_shingles=1), sign(b, min_shingles=1)
    assert first is not None
    assert second is not None
    return compare(first, Packed.parse(second.packed())).is_copy(rule)


def test_tokens_are_normalised_words_and_cjk_characters() -> None:
    assert tokens("WASHINGTON (AP) — The Senate\u2019s vote: 52-48.") == [
        "washington", "ap", "the", "senate", "s", "vote", "52", "48",
    ]  # fmt: skip
    assert tokens("東京で記者会見") == ["東", "京", "で", "記", "者", "会", "見"]
    assert tokens("\uff21\uff22\uff23 Stra\u00dfe") == ["abc", "strasse"]  # NFKC, case folded


def test_paragraph_breaks_do_not_change_the_shingles() -> None:
    text = "One two three four five six. Seven eight nine ten eleven twelve."
    split = "One two three four five six.\n\nSeven eight nine ten eleven twelve."
    assert list(shingle_hashes(tokens(text))) == list(shingle_hashes(tokens(split)))


def test_short_texts_get_no_signature() -> None:
    assert sign("Only a few words here.", min_shingles=50) is None
    assert sign("", min_shingles=1) is None
    signature = sign(" ".join(f"w{i}" for i in range(60)), min_shingles=50)
    assert signature is not None
    assert signature.shingles == 57


def test_packed_form_round_trips() -> None:
    signature = sign(" ".join(f"w{i}" for i in range(200)), min_shingles=1)
    assert signature is not None
    packed = Packed.parse(signature.packed())
    assert packed.shingles == signature.shingles
    assert list(packed.low) == [int(v) & 0xFFFF for v in signature.values]
    assert len(signature.packed()) == 4 + 2 * NUM_PERM
    assert compare(signature, packed).similarity == pytest.approx(1.0)


def test_copies_are_recognised() -> None:
    for paras in corpus_texts()[:12]:
        original = "\n\n".join(paras)
        assert is_copy(original, "LONDON (AP) — " + original)
        cut = "\n\n".join(paras[: max(1, len(paras) * 3 // 4)])
        if len(cut.split()) >= 100:
            assert is_copy(cut, original)  # contained
        assert is_copy(original, " ".join(paras) + "\n\nREAD MORE: Markets fall again")


def test_different_articles_are_not_copies() -> None:
    texts = ["\n\n".join(paras) for paras in corpus_texts()[:12]]
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            assert not is_copy(a, b)


def test_articles_sharing_only_an_intro_are_not_copies() -> None:
    texts = corpus_texts()[:10]
    for a, b in itertools.pairwise(texts):
        assert not is_copy("\n\n".join(a), "\n\n".join([a[0], *b[1:]]))


def test_short_briefs_sharing_a_standard_paragraph_are_not_copies() -> None:
    standard = (
        "This is a developing story. Check back for updates as more information becomes "
        "available, and follow our live coverage on the website and in the app."
    )
    texts = corpus_texts()[:10]
    briefs = [" ".join(paras[0].split()[:45]) + "\n\n" + standard for paras in texts]
    for a, b in itertools.pairwise(briefs):
        assert not is_copy(a, b)


def test_cjk_copies_use_character_shingles() -> None:
    japanese = corpus_texts("jp")
    assert len(japanese) >= 2
    first, second = ("\n\n".join(p) for p in japanese[:2])
    assert is_copy(first, "【共同】" + first)
    assert is_copy(first[: len(first) * 3 // 4], first)
    assert not is_copy(first, second)

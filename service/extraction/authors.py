"""Author names: bylines split into people, prefixes and non-names dropped, deduplicated."""

from __future__ import annotations

import re

from service.extraction.boilerplate import is_chrome
from service.extraction.text import comparable

MAX_AUTHORS = 20
MAX_NAME_WORDS = 6
# "By", "Von", "Par", "Por", "Di", "Av", "Door", "Af", "Text:", "Autor:" at the start.
_PREFIX = re.compile(
    r"^(?:(?:written |reported )?by|von|vom|par|por|di|da|av|door|af|text|texte|autor(?:in)?|"
    r"author|auteur|redaktion|interview|from|quelle|source|fuente|fonte|källa)\s*:?\s+",
    re.IGNORECASE,
)
# Conjunctions are matched in lower case only: "Y." or "E." are initials.
_SPLIT = re.compile(r"\s*(?:[,;/|&+·•]|\b(?:and|und|et|y|e|og|och|en|и|ve)\b)\s*")
_PARENTHESES = re.compile(r"\s*\([^()]{0,40}\)")  # "Anna Muster (amu)", "Jo Doe (Reuters)"
# Placeholders of content management systems and newsroom abbreviations, not people.
_NOT_NAMES = frozenset(
    {
        "admin",
        "administrator",
        "webmaster",
        "editor",
        "editors",
        "staff",
        "newsroom",
        "red",
        "redaktion",
        "unknown",
        "anonymous",
        "guest",
        "user",
        "agenturen",
        "agencies",
        "agences",
        "agencias",
        "agenzie",
    }
)
# Account names of the CMS itself (``/author/admin/``): whatever display name such an
# account was given ("Site D"), it names nobody. Newsroom accounts ("redaktion", "staff")
# are not in this list: editors often give them their own name.
SYSTEM_ACCOUNTS = frozenset({"admin", "administrator", "webmaster", "root", "wpadmin"})
# "Capital Von Jemima Kelly", "Analysis By Jo Doe": a label before a capitalised "Von"/"By"
_LABEL_THEN_BY = re.compile(r"^[^,;]{1,40}?\s(?:By|Von|Par|Por)\s+(?=\S)")
# Role words written after the name: Korean 기자 "reporter", 특파원 "correspondent";
# Japanese/Chinese 記者, 特派員, 编辑/編集 "editor".
_ROLE_SUFFIX = re.compile(
    r"\s*(?:(?:선임|수석|객원|전문|인턴)?기자|특파원|논설위원|통신원|記者|特派員|特派记者|编辑|編集委員)$"
)
_MAIL_AFTER = re.compile(r"\s+[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")  # "홍길동 기자 hong@news.example"
_NOT_A_NAME = re.compile(r"https?:|www\.|\.(?:com|org|net|de|at|ch|uk)\b|@|\d|[<>{}\[\]=_#]")


def split_authors(raw: list[str], *, exclude: set[str]) -> list[str]:
    """People named in ``raw`` bylines, in order, without duplicates (case-insensitive).

    ``exclude`` holds comparison keys (``text.comparable``) of names that are not authors:
    the site and the publisher.
    """
    names: list[str] = []
    seen: set[str] = set()
    for byline in raw:
        head = byline.split(",", 1)[0]
        if "," in byline and _names_publisher(head, comparable(head), exclude):
            continue  # "Site, City, Country": the publisher and its address
        for name in _split(byline):
            key = comparable(name)
            if key in seen or _names_publisher(name, key, exclude):
                continue
            seen.add(key)
            names.append(name)
    return names[:MAX_AUTHORS]


def _names_publisher(name: str, key: str, exclude: set[str]) -> bool:
    """The site or publisher, or one of its branded desks ("MDR THÜRINGEN", "BBC News")."""
    if key in exclude or key.replace(" ", "") in exclude or key in _NOT_NAMES:
        return True
    return any(
        word.isupper() and len(word) >= 2 and comparable(word) in exclude for word in name.split()
    )


def _split(byline: str) -> list[str]:
    byline = _PARENTHESES.sub("", byline.strip())
    byline = _LABEL_THEN_BY.sub("", _PREFIX.sub("", byline))
    if _NOT_A_NAME.search(byline) and len(byline.split()) <= 1:
        return []
    parts = [
        _PREFIX.sub("", part.strip(" .:-\u2013\u2014\"'“”„«»")) for part in _SPLIT.split(byline)
    ]
    parts = [_ROLE_SUFFIX.sub("", _MAIL_AFTER.sub("", part.strip())).strip() for part in parts]
    return [part for part in parts if _looks_like_name(part)]


def _looks_like_name(name: str) -> bool:
    if len(name) < 2 or _NOT_A_NAME.search(name):
        return False
    words = name.split()
    if len(words) > MAX_NAME_WORDS:
        return False
    return any(char.isalpha() for char in name) and not is_chrome(name)

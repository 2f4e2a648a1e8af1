"""Headlines without the site's name: "Title | Site", "Site: Title", "Title - Site - 28.04.2023"."""

from __future__ import annotations

import functools
import re
import unicodedata

from service.extraction.text import comparable

# Separators between a headline and the site/section/date/byline parts of a page title.
_SEPARATOR = re.compile(r"\s+(?:[|\u2013\u2014·•»«/~*]|-{1,2}|::)\s+|\s*[|\uff5c]\s*|\s*\uff1a")
_COLON = re.compile(r":\s+")
# Between a kicker and its headline: "Kicker: Headline", "Kicker - Headline".
_KICKER_SEPARATOR = re.compile(r":\s+|\s+[-\u2013\u2014|]\s+")
_DATE_PART = re.compile(
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?:,? \d{1,2}:\d{2}(?: ?uhr)?)?|"
    r"\d{1,2}\.? \w{3,12}\.? \d{4}|\w{3,12} \d{1,2},? \d{4}",
    re.IGNORECASE,
)
_BYLINE_PART = re.compile(r"(?:by|von|par|por|di|av)\s+\S+(?:\s+\S+){0,4}", re.IGNORECASE)
MAX_SITE_PART_WORDS = 6
MAX_TRAILER_WORDS = 4  # "Headline | Section", "Headline - Site": a short part at the end
MIN_HEADLINE_CHARS = 10
# A trailing part after a separator that sets off sections and site names (not ":").
_TRAILER_SEPARATOR = re.compile(r"\s+(?:[|/\u2013\u2014]|-{1,2})\s+|\s*[|\uff5c]\s*")
# Spellings of the same letters: "Österreich" / "oesterreich.at", "Straße" / "strasse".
_FOLDS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"}
)


def site_keys(names: list[str], host: str, registered: str) -> set[str]:
    """Comparison keys for the site, letters and digits only: its names, its domain
    ("derstandard.at"), the domain's main label ("derstandard") and subdomains ("news")."""
    host = host.lower().removeprefix("www.")
    keys = {_key(name) for name in names} | {_key(host), _key(registered)}
    keys.add(_key(registered.split(".", 1)[0]))
    suffix_labels = registered.count(".") + 1
    keys.update(_key(label) for label in host.split(".")[:-suffix_labels] if len(label) >= 4)
    labels = {_key(label) for label in host.split(".")}
    # a two-letter name counts when the host spells it too ("BR" on br.de)
    return {key for key in keys if len(key) >= 3 or (len(key) == 2 and key in labels)}


@functools.lru_cache(maxsize=4096)
def _key(text: str) -> str:
    """Letters and digits only, case and spelling variants folded ("Ö" = "oe", "é" = "e")."""
    folded = unicodedata.normalize("NFKD", comparable(text).translate(_FOLDS))
    return "".join(char for char in folded if not unicodedata.combining(char)).replace(" ", "")


def trailer_date(titles: list[str | None]) -> str | None:
    """The date a title carries in its trailer ("Headline - Site - 28.04.2023"), as written."""
    for title in titles:
        parts = _SEPARATOR.split(title or "")
        for part in parts[1:][-2:]:
            if _DATE_PART.fullmatch(part.strip()):
                return part.strip()
    return None


def without_site_names(keys: set[str], titles: list[str]) -> set[str]:
    """``keys`` without those equal to a whole title candidate: a meta tag that holds the
    headline (``application-name`` set to it) names no site."""
    headlines = {_key(title) for title in titles}
    return keys - headlines


def without_lone_trailer(title: str, others: list[str]) -> str:
    """``title`` minus a short trailing part ("Headline | Section", "Headline - Site", at
    most four words after ``|``, ``/``, a dash) when another candidate is the headline
    without it, and no more candidates have it than lack it (``others`` holds every other
    candidate: a part that only few sources add is no part of the headline)."""
    parts = _TRAILER_SEPARATOR.split(title)
    if len(parts) < 2 or len(parts[-1].split()) > MAX_TRAILER_WORDS:
        return title
    head = _rejoin(title, parts[:-1])
    keys = [comparable(other) for other in others]
    without, with_it = keys.count(comparable(head)), 1 + keys.count(comparable(title))
    if len(head) >= MIN_HEADLINE_CHARS and without >= with_it:
        return head
    return title


def names_site(part: str, keys: set[str], *, exact: bool = False) -> bool:
    """Whether ``part`` of a title is (a short variant of) the site's name."""
    if not part or len(part.split()) > MAX_SITE_PART_WORDS:
        return False
    key = _key(part)
    if not key:
        return True  # only punctuation
    if exact:
        return key in keys
    return any(
        key == site or (len(site) >= 5 and site in key) or (len(key) >= 4 and key in site)
        for site in keys
    )


def _is_trailer(part: str, keys: set[str]) -> bool:
    stripped = part.strip()
    return (
        names_site(stripped, keys)
        or _DATE_PART.fullmatch(stripped) is not None
        or _BYLINE_PART.fullmatch(stripped) is not None
    )


def strip_site_name(title: str, keys: set[str]) -> str:
    """``title`` without leading/trailing parts naming the site, a date or a byline."""
    parts = _SEPARATOR.split(title)
    while len(parts) > 1 and _is_trailer(parts[-1], keys):
        parts.pop()
    while len(parts) > 1 and names_site(parts[0], keys):
        parts.pop(0)
    # separators inside the headline itself are kept as they were
    title = _rejoin(title, parts) if len(parts) > 1 else parts[0]
    pieces = _COLON.split(title, maxsplit=1)
    if len(pieces) == 2 and names_site(pieces[0], keys, exact=True) and len(pieces[1]) > 10:
        return pieces[1].strip()
    return title.strip()


def _rejoin(title: str, parts: list[str]) -> str:
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end] if 0 <= start < end else " ".join(parts)


def without_kicker(title: str, others: list[str]) -> str:
    """``title`` minus a leading kicker ("Kicker: Headline") when another source has the
    headline alone; the kicker labels the story, it is not part of its headline."""
    pieces = _COLON.split(title, maxsplit=1)
    if len(pieces) != 2:
        return title
    rest = comparable(pieces[1])
    for other in others:
        if rest and comparable(other) == rest:
            return other
    return title


def without_varying_kicker(title: str, others: list[str]) -> str:
    """``title`` minus its kicker when another source puts an unrelated kicker (no word in
    common) before the same headline ("Kicker A: Headline" / "Kicker B - Headline"): the
    part the sources agree on is the headline."""
    pieces = _KICKER_SEPARATOR.split(title, maxsplit=1)
    if len(pieces) != 2 or len(pieces[1]) <= MIN_HEADLINE_CHARS:
        return title
    kicker, rest = set(comparable(pieces[0]).split()), comparable(pieces[1])
    for other in others:
        parts = _KICKER_SEPARATOR.split(other, maxsplit=1)
        if (
            len(parts) == 2
            and comparable(parts[1]) == rest
            and not kicker & set(comparable(parts[0]).split())
        ):
            return pieces[1].strip()
    return title


def most_common_form(title: str, others: list[str]) -> str:
    """The spelling of ``title`` that most sources use, among those with the same words
    (they differ in punctuation only: "A - B" / "A: B", curly / straight quotes); a source
    counts also with one trailing part ("A: B - Section") left out; ties keep ``title``."""
    key = comparable(title)
    forms = [title]
    for other in others:
        parts = _SEPARATOR.split(other)
        shorter = _rejoin(other, parts[:-1]) if len(parts) > 1 else other
        forms.extend(form for form in {other, shorter} if comparable(form) == key)
    return max(forms, key=forms.count)  # max keeps the first of equals

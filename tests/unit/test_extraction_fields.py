"""The field-level rules of extraction: titles, authors, dates, links, chrome, text, language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.addresses import AddressGuard
from service.dates import parse_date
from service.extraction.authors import split_authors
from service.extraction.boilerplate import is_chrome
from service.extraction.language import choose_language, language_code
from service.extraction.links import choose_canonical, choose_image
from service.extraction.text import clean_inline, clean_lines, join_paragraphs, word_count
from service.extraction.titles import (
    most_common_form,
    site_keys,
    strip_site_name,
    without_varying_kicker,
)

KEYS = site_keys(["The Daily Example"], "www.daily-example.co.uk", "daily-example.co.uk")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Harbour wall approved | The Daily Example", "Harbour wall approved"),
        ("Harbour wall approved - Daily Example", "Harbour wall approved"),
        ("The Daily Example: Harbour wall approved", "Harbour wall approved"),
        (
            "Harbour wall approved \u2013 The Daily Example \u2013 28.04.2023",
            "Harbour wall approved",
        ),
        ("Harbour wall approved | daily-example.co.uk", "Harbour wall approved"),
        ("Harbour wall approved | The Daily Example | by Jane Doe", "Harbour wall approved"),
        (
            "Harbour wall: councillors split - and what comes next",
            "Harbour wall: councillors split - and what comes next",
        ),
        (
            "Daily examples of courage: a year on the quay",
            "Daily examples of courage: a year on the quay",
        ),
        ("The Daily Example", "The Daily Example"),  # nothing else: keep it
    ],
)
def test_site_names_stripped_from_titles(raw: str, expected: str) -> None:
    assert strip_site_name(raw, KEYS) == expected


def test_a_kicker_that_varies_between_sources_is_no_part_of_the_headline() -> None:
    others = ["Storm season - Harbour wall approved after long debate"]
    title = "Council vote: Harbour wall approved after long debate"
    assert without_varying_kicker(title, others) == "Harbour wall approved after long debate"
    # a kicker that only grows ("Topic Kicker - Headline") or shares words is kept
    assert without_varying_kicker(title, ["Big council vote - " + title[14:]]) == title
    assert without_varying_kicker("A: B", ["C: B"]) == "A: B"  # too short to tell


def test_the_spelling_most_sources_use_wins() -> None:
    title = "Harbour wall - councillors split"
    others = ["Harbour wall: councillors split", "Harbour wall: councillors split - Politics"]
    assert most_common_form(title, others) == "Harbour wall: councillors split"
    assert most_common_form(title, ["Harbour wall: councillors split"]) == title  # a tie
    assert most_common_form(title, ["Something else"]) == title


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe, John Roe"], ["Jane Doe", "John Roe"]),
        (["Von Anna Muster und Max Meier"], ["Anna Muster", "Max Meier"]),
        (["Par Jean Dupont et Marie Curie"], ["Jean Dupont", "Marie Curie"]),
        (["Jane Doe", "jane doe", "JANE DOE"], ["Jane Doe"]),
        (["https://www.facebook.com/dailyexample", "@dailyexample"], []),
        (["The Daily Example", "Daily Example Staff"], []),
        (["Jane Doe, The Daily Example"], ["Jane Doe"]),
        (["Anna Muster (amu)"], ["Anna Muster"]),
        (["Ursula von der Leyen"], ["Ursula von der Leyen"]),
        (["dpa"], ["dpa"]),
        (["admin"], []),
        (["Analysis By Jo Doe"], ["Jo Doe"]),
    ],
)
def test_authors_split_and_filtered(raw: list[str], expected: list[str]) -> None:
    assert split_authors(raw, exclude=KEYS | {"daily example staff"}) == expected


def test_branded_desk_of_the_publisher_is_no_author() -> None:
    keys = site_keys(["MDR"], "www.mdr.de", "mdr.de")
    assert split_authors(["Engin Haupt, MDR SACHSEN-ANHALT"], exclude=keys) == ["Engin Haupt"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-03T17:47:42+02:00", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
        ("2024-05-03T15:47:42.389Z", datetime(2024, 5, 3, 15, 47, 42, 389000, tzinfo=UTC)),
        ("2024-05-03 21:17:42+05:30", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
        ("2024-05-03T15:47:42", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),  # naive: UTC
        ("2024-05-03", datetime(2024, 5, 3, tzinfo=UTC)),
        ("Fri, 03 May 2024 17:47:42 +0200", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
        ("Fri, 03 May 2024 15:47:42 GMT", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
        ("03.05.2024 17:47 CEST", datetime(2024, 5, 3, 15, 47, tzinfo=UTC)),
        ("1714751262", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
        (datetime(2024, 5, 3, 17, 47, 42), datetime(2024, 5, 3, 17, 47, 42, tzinfo=UTC)),
        ("yesterday", None),
        ("3 May", None),  # no year: never guessed from a clock
        ("1801-01-01", None),
        ("", None),
        (None, None),
    ],
)
def test_dates_parsed_to_utc(raw: str | datetime | None, expected: datetime | None) -> None:
    assert parse_date(raw) == expected


def test_parsed_dates_are_aware_utc() -> None:
    parsed = parse_date("2024-05-03T17:47:42+02:00")
    assert parsed is not None
    assert parsed.utcoffset() is not None
    assert parsed.tzinfo == UTC


PAGE = "https://www.example.org/news/2024/story-one?utm_source=rss"


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (
            ["https://www.example.org/news/2024/story-one?utm_medium=x&fbclid=1#top"],
            "https://www.example.org/news/2024/story-one",
        ),
        (["/news/2024/story-one"], "https://www.example.org/news/2024/story-one"),
        (
            ["https://amp.example.org/story-one?b=2&a=1"],
            "https://amp.example.org/story-one?a=1&b=2",
        ),
        (["https://evil.example.com/other-story"], "https://www.example.org/news/2024/story-one"),
        (["https://www.example.org/"], "https://www.example.org/news/2024/story-one"),
        (["javascript:alert(1)", None, ""], "https://www.example.org/news/2024/story-one"),
        ([], "https://www.example.org/news/2024/story-one"),
    ],
)
def test_canonical_url(candidates: list[str | None], expected: str) -> None:
    assert choose_canonical(PAGE, candidates) == expected


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (["javascript:alert(1)", "/img/a.jpg"], "https://www.example.org/img/a.jpg"),
        (["data:image/png;base64,AAAA"], None),
        (["//cdn.example.org/a.jpg"], "https://cdn.example.org/a.jpg"),
        ([None, " https://cdn.example.org/b.jpg "], "https://cdn.example.org/b.jpg"),
        (["http://10.0.0.1/a.jpg", "/img/a.jpg"], "https://www.example.org/img/a.jpg"),
    ],
)
def test_images_http_only(candidates: list[str | None], expected: str | None) -> None:
    assert choose_image(PAGE, candidates, permits=AddressGuard().permits_link) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Share on Facebook",
        "Share this article",
        "Facebook Twitter WhatsApp E-Mail",
        "Artikel teilen",
        "Partager sur X",
        "3 min read",
        "Lesezeit: 4 Min.",
        "4 Minuten Lesezeit",
        "Temps de lecture : 2 min",
        "Sign up for our daily newsletter",
        "Subscribe to our newsletter",
        "Jetzt zum Newsletter anmelden",
        "Download our app for iPhone and Android",
        "Listen to our podcast",
        "Advertisement",
        "Anzeige",
        "Read more: Storms hit the coast",
        "Lesen Sie auch: Sturm an der Küste",
        "© 2026 The Daily Example. All rights reserved.",
        "Follow us on Instagram",
        "STR/AFP via Getty Images",
        "Externer Inhalt nicht verfügbar",
        "Aktualisiert am 28.04.2023",
    ],
)
def test_chrome_lines_recognised(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize(
    "line",
    [
        "The newsletter, sent to 40,000 readers on Monday, revealed the council's plans.",
        "He said he would share the findings with the committee on Facebook's request.",
        "The app, which was downloaded two million times, was removed from the App Store "
        "after regulators raised concerns about the way it stored the data of its users.",
        "Published in 2020, the book sold well.",
        "Read the full report on the council's website before Thursday's vote, residents said "
        "at the meeting that lasted three hours.",
        "The podcast host, who has 2 million listeners, denied the allegations.",
        "It takes 3 minutes to walk from the station to the harbour.",
    ],
)
def test_story_sentences_are_not_chrome(line: str) -> None:
    assert not is_chrome(line)


def test_text_cleaning() -> None:
    raw = "  First\u00a0 para\x00graph \t here \r\n\r\n\n Second line\u200b.\n\n\nCafe\u0301 "
    lines = clean_lines(raw)
    assert lines == ["First paragraph here", "Second line.", "Caf\u00e9"]
    assert (
        join_paragraphs([*lines, lines[-1]]) == "First paragraph here\n\nSecond line.\n\nCaf\u00e9"
    )
    assert clean_inline("Tom &amp; Jerry <b>run</b>\n away") == "Tom & Jerry run away"


def test_word_count() -> None:
    assert word_count("Hello, don't stop - 2024!") == 4
    assert word_count("\u6771\u4eac\u306e\u5929\u6c17 abc") == 6  # one per CJK character
    assert word_count("") == 0


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("de-AT", "de"),
        ("en_GB", "en"),
        ("FR", "fr"),
        ("pt-BR", "pt"),
        ("german", None),
        ("", None),
        (None, None),
        ("x-default", None),
    ],
)
def test_language_codes(tag: str | None, code: str | None) -> None:
    assert language_code(tag) == code


def test_declared_languages_that_disagree_are_settled_by_detection() -> None:
    text = "Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke zu sperren."
    assert choose_language(["en", "de-DE"], text) == "de"
    assert choose_language([None, "fr-FR"], text) == "fr"  # one declaration: trusted
    assert choose_language([], text) == "de"


def test_a_template_default_language_is_overruled_by_a_certain_detection() -> None:
    text = " ".join(
        [
            "Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke über den Fluss für "
            "Lastwagen zu sperren, nachdem Risse in zwei Pfeilern gefunden worden waren."
        ]
        * 6
    )
    assert choose_language(["en"], text) == "de"
    assert choose_language(["en"], text[:200]) == "en"  # too little text to overrule

"""Site chrome that slips into extracted text: share buttons, reading times, sign-up boxes...

Only short lines are ever judged, and only against anchored patterns, so real paragraphs
that mention a newsletter or a podcast in passing are kept.
"""

from __future__ import annotations

import re

MAX_CHROME_CHARS = 160  # longer lines are always story


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that make up share/follow/print rows ("Share on Facebook", "Artikel teilen").
_SHARE_WORDS = _words(
    "share shares sharing teilen partager partagez compartir comparte condividi "
    "condividere compartilhar delen dela del udostępnij paylaş поделиться sdílet jaa "
    "print drucken imprimer imprimir stampa copy kopieren copier link url follow folgen "
    "suivez síguenos seguici tweet pin post send senden envoyer mail e-mail email"
)
_NETWORKS = _words(
    "facebook twitter x whatsapp linkedin pinterest reddit telegram messenger flipboard "
    "xing threads bluesky mastodon instagram tiktok youtube snapchat tumblr vk pocket sms"
)
_FILLER = _words(
    "on via this the article story page post to us auf den diesen artikel beitrag seite "
    "uns sur cet cette article l la le en este esta artículo noticia su questo articolo "
    "per op dit artikel på den här artikeln artikkelen and und et y e or oder ou o"
)
_LINE_PATTERNS = (
    # reading time: "3 min read", "Lesezeit: 4 Min.", "Temps de lecture : 2 min"
    r"(?:(?:estimated )?(?:reading time|read time|lesezeit|lesedauer|temps de lecture|"
    r"tiempo de lectura|tempo di lettura|lästid|lesetid|leestijd)\s*:?\s*)?(?:ca\.?\s*|~\s*)?"
    r"\d{1,3}\s*(?:-\s*\d{1,3}\s*)?(?:min(?:ute)?s?|min\.?|minuten|minutos|minuti)\.?"
    r"(?:\s+(?:read|reading|lesezeit|lesedauer|lesen|de lecture|de lectura|di lettura|"
    r"läsning|lesing|leestijd))?",
    r"(?:reading time|read time|lesezeit|lesedauer|temps de lecture|tiempo de lectura)\s*:?.{0,12}",
    # newsletter and sign-up boxes
    r".{0,60}\b(?:sign up|signup|subscribe|register|abonnieren|abonnez|anmelden|melden sie sich|"
    r"bestellen|inscri\w*|suscr\w*|iscriv\w*|prenumerera|abonner)\b.{0,60}\bnewsletters?\b.{0,60}",
    r".{0,60}\bnewsletters?\b.{0,40}\b(?:sign up|subscribe|abonnieren|anmelden|bestellen|"
    r"inscri\w*|suscr\w*|iscriv\w*|prenumerera)\b.{0,40}",
    r"(?:sign up|subscribe) (?:now|here|today|for free|for our|to our|for the|to the)\b.{0,80}",
    r"(?:get|receive) (?:our|the) \w+(?: \w+)? (?:newsletter|briefing|digest|email)\b.{0,60}",
    r"(?:jetzt |hier )?(?:kostenlos )?(?:zum |für den )?newsletter (?:anmelden|abonnieren|"
    r"bestellen)\.?",
    # apps and podcasts
    r"(?:download|get|install|try|lade|laden sie|holen sie sich|téléchargez|télécharger|"
    r"descarga|descargue|scarica|ladda ned) (?:\w+ ){0,4}(?:app|apps|application|aplicación)\b"
    r".{0,80}",
    r".{0,60}\b(?:app store|google play|play store)\b.{0,60}",
    r"(?:listen to|subscribe to|follow) (?:our|the) (?:\w+ ){0,3}podcasts?\b.{0,80}",
    r".{0,40}\bpodcasts?\b.{0,20}\b(?:abonnieren|hören|anhören|écouter|escuchar|ascolta)\b.{0,40}",
    r"(?:hören sie|jetzt|hier) .{0,40}\bpodcast\b.{0,40}",
    r"(?:listen to (?:this|the) (?:article|story)|artikel (?:an)?hören|vorlesen lassen|"
    r"écouter cet article|escuchar (?:este )?artículo|audio ?version)\b.{0,40}",
    r"(?:follow us|folgen sie uns|suivez-nous|síguenos|seguici)\b.{0,80}",
    # advertising, related links, legal lines
    r"(?:advertisement|anzeige|werbung|publicité|publicidad|pubblicità|reklame|annons|"
    r"sponsored|sponsored content|ad)\b\s*:?.{0,40}",
    r"(?:article|story) (?:content|continues below)\b.{0,30}",
    # placeholders of blocked embeds and consent walls, skip links
    r"(?:externer inhalt|external content|contenu externe|contenido externo)\b.{0,60}",
    r".{0,80}\b(?:privacy settings|privatsphäre-einstellungen|datenschutz-?einstellungen|"
    r"cookie[- ]settings|cookie-einstellungen|paramètres de confidentialité)\b.{0,40}",
    r"(?:skip to|zum|springe zum|aller au) (?:main )?(?:content|inhalt|contenu)|hauptinhalt|"
    r"main content|link zum \S+-inhalt",
    # picture credits: "STR/AFP via Getty Images", "Foto: IMAGO / Sven Simon"
    r"[^.!?]{0,60}(?:/|\bvia |:\s)[^.!?]{0,40}\b(?:getty images|imago(?: images)?|shutterstock|"
    r"istock(?:photo)?|picture[- ]alliance|ap photo|afp|reuters|dpa|epa|keystone)\b[^.!?]{0,20}",
    # update stamps: "Aktualisiert am 28.04.2023", "Updated 3 hours ago"
    r"(?:aktualisiert|updated|veröffentlicht|published|mis à jour|publié|actualizado)"
    r"(?: am| on| le| el| at)?\b(?>[\d\W]*)(?:(?>[^\W\d]+)(?>[\d\W]*)){0,3}",
    r"(?:read more|read also|also read|related(?: articles| stories| content)?|more on this|"
    r"mehr zum thema|lesen sie auch|auch interessant|weiterlesen|lire aussi|à lire aussi|"
    r"leer más|lee también|leggi anche|läs också|les også|lees ook|zum thema)\b\s*:?.{0,120}",
    r"(?:©|\(c\)|copyright\b).{0,150}",
    r".{0,80}\ball rights reserved\b.{0,40}",
    r"(?:\d+ )?(?:comments?|kommentare?|commentaires?|comentarios?|commenti)(?: \(\d+\))?",
    r"(?:show|hide|load|view|zeige|mehr) (?:comments|kommentare)\b.{0,20}",
    r"(?:click here|klicken sie hier|cliquez ici|haga clic aquí)\b.{0,100}",
    r"(?:bookmark|merken|save|speichern|gift (?:this )?article|artikel verschenken)",
)
_CHROME = re.compile("|".join(f"(?:{pattern})" for pattern in _LINE_PATTERNS), re.IGNORECASE)
_TOKEN = re.compile(r"[\w@+-]+")


def is_chrome(line: str) -> bool:
    """True if ``line`` is a short piece of site chrome rather than part of the story."""
    stripped = line.strip(" \t•·|>»«-\u2013\u2014:;,.!?*#")
    if not stripped:
        return bool(line.strip())
    if len(stripped) > MAX_CHROME_CHARS:
        return False
    return _is_share_row(stripped) or _CHROME.fullmatch(stripped) is not None


def _is_share_row(line: str) -> bool:
    tokens = [token.strip("-+").casefold() for token in _TOKEN.findall(line)]
    tokens = [token for token in tokens if token]
    if not tokens or len(tokens) > 12:
        return False
    vocabulary = _SHARE_WORDS | _NETWORKS | _FILLER
    return all(token in vocabulary for token in tokens) and any(
        token in _SHARE_WORDS or token in _NETWORKS for token in tokens
    )


def drop_chrome(lines: list[str]) -> list[str]:
    """``lines`` without the ones that are site chrome."""
    return [line for line in lines if not is_chrome(line)]

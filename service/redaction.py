"""PURE: secrets out of text shown to people: URLs' credentials in logs, errors and `status`.

``redact`` masks every ``scheme://user:password@`` (the password; a lone ``user@`` whole)
and every ``password=`` query parameter in a text, whether the text is a URL or an error
message or a log line quoting one. It is the only place that knows what a secret looks like;
the log processor, the CLI's errors and `status` all call it.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

MASK = "****"
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<info>[^\s/@?#]+)@")
_PASSWORD_PARAM = re.compile(r"(?P<key>[?&;](?:password|passwd|pwd)=)[^&#\s'\"]*", re.IGNORECASE)


def _mask_userinfo(match: re.Match[str]) -> str:
    user, colon, _password = match["info"].partition(":")
    return f"{match['scheme']}{user}:{MASK}@" if colon else f"{match['scheme']}{MASK}@"


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it masked."""
    if "://" not in text and "=" not in text:
        return text
    return _PASSWORD_PARAM.sub(rf"\g<key>{MASK}", _USERINFO.sub(_mask_userinfo, text))


def redact_value(value: Any) -> Any:
    """``redact`` every string in ``value``, through dicts, lists and tuples (tracebacks)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


def redact_event(_logger: object, _method: str, event: MutableMapping[str, Any]) -> Any:
    """A structlog processor (the last before rendering): every string of a log event,
    tracebacks included, through ``redact``."""
    for key, value in event.items():
        event[key] = redact_value(value)
    return event

"""Helpers for untrusted text: the service's messages, URLs and tool names."""

from __future__ import annotations

import re
from collections.abc import Iterable

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def encodable(text: str) -> str:
    """Untrusted text that UTF-8 can carry: lone surrogates (from ``\\ud800`` escapes in
    JSON) become U+FFFD instead of failing every write later."""
    return _SURROGATE.sub("\ufffd", text)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` (a service may echo a credential)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def one_line(text: str, limit: int = 300) -> str:
    """Fold untrusted text onto one printable line, control characters escaped, bounded."""
    folded = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", encodable(text))
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def preview(data: bytes, limit: int = 80) -> str:
    """The first bytes of a body, decoded leniently and escaped, for error messages."""
    text = data[:limit].decode("utf-8", errors="replace")
    return one_line(text, limit) + ("…" if len(data) > limit else "")

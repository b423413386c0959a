"""Helpers for untrusted text: the service's messages, URLs and tool names."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str, limit: int = 300) -> str:
    """Fold untrusted text onto one printable line, control characters escaped, bounded."""
    folded = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def preview(data: bytes, limit: int = 80) -> str:
    """The first bytes of a body, decoded leniently and escaped, for error messages."""
    text = data[:limit].decode("utf-8", errors="replace")
    return one_line(text, limit) + ("…" if len(data) > limit else "")

"""A JSON writer for tests: valid JSON with random whitespace and random escapes.

orjson always writes the same compact bytes; the envelope reader must also handle
every other spelling of the same document, so the property tests write their own.
"""

from __future__ import annotations

import random
from typing import Any

#: The four JSON whitespace bytes (RFC 8259 §2), in runs the writer may insert.
WHITESPACE = ["", "", "", " ", "\n", "\t", "\r\n  ", "  "]
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Writer:
    """Writes values as JSON; ``spaced`` adds whitespace, ``escapes`` (0..1) is the
    share of characters written as ``\\uXXXX`` even when they need no escape."""

    def __init__(self, rnd: random.Random, *, spaced: bool, escapes: float) -> None:
        self.rnd = rnd
        self.spaced = spaced
        self.escapes = escapes

    def ws(self) -> str:
        return self.rnd.choice(WHITESPACE) if self.spaced else ""

    def string(self, text: str) -> str:
        out = ['"']
        for ch in text:
            code = ord(ch)
            if ch in _SHORT_ESCAPES:  # must be escaped: a quote, a backslash, a control
                out.append(_SHORT_ESCAPES[ch] if self.rnd.random() < 0.7 else f"\\u{code:04x}")
            elif code < 0x20 or self.rnd.random() < self.escapes:
                if code > 0xFFFF:  # a surrogate pair
                    code -= 0x10000
                    out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}")
                else:
                    out.append(f"\\u{code:04x}" if self.rnd.random() < 0.5 else f"\\u{code:04X}")
            elif ch == "/" and self.rnd.random() < 0.5:
                out.append("\\/")
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)

    def value(self, value: Any) -> str:
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, list):
            return "[" + self.ws() + ("," + self.ws()).join(self.value(v) + self.ws() for v in value) + "]"
        if isinstance(value, dict):
            return self.members(list(value.items()))
        raise TypeError(type(value))

    def members(self, items: list[tuple[str, Any]]) -> str:
        """An object from ``(key, value)`` pairs, in the order given."""
        parts = [self.ws() + self.string(k) + self.ws() + ":" + self.ws() + self.value(v) + self.ws() for k, v in items]
        return self.ws() + "{" + ",".join(parts) + (self.ws() if not parts else "") + "}" + self.ws()

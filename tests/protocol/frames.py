"""Realistic received frames: a ~1 KB MESSAGE_CREATE in the layouts gateways use.

Used by the tests, and by the envelope timing in the report::

    .venv/bin/python -m timeit -s "from tests.protocol.frames import EMULATOR as f" \\
        -s "from rxgateway.protocol.envelope import read_envelope" "read_envelope(f)"
"""

from __future__ import annotations

import orjson

MESSAGE = {
    "type": 0,
    "tts": False,
    "timestamp": "2026-07-01T12:34:56.789000+00:00",
    "referenced_message": None,
    "pinned": False,
    "nonce": "1257382923451234304",
    "mentions": [],
    "mention_roles": [],
    "mention_everyone": False,
    "member": {
        "roles": ["981346340044931073"],
        "premium_since": None,
        "pending": False,
        "nick": None,
        "mute": False,
        "joined_at": "2023-01-15T10:00:00.000000+00:00",
        "flags": 0,
        "deaf": False,
        "communication_disabled_until": None,
        "banner": None,
        "avatar": None,
    },
    "id": "1257382924201234432",
    "flags": 0,
    "embeds": [],
    "edited_timestamp": None,
    "content": "hello there, this is a fairly ordinary message with some words in it \u2014 and an emoji \U0001f600",
    "components": [],
    "channel_id": "981346340044931074",
    "author": {
        "username": "alice",
        "public_flags": 0,
        "id": "1063970773401731072",
        "global_name": "Alice",
        "discriminator": "0",
        "clan": None,
        "avatar_decoration_data": None,
        "avatar": "a_1269e74af4df7417b13759eae50c83dc",
    },
    "attachments": [],
    "guild_id": "981346340044931072",
    "sticker_items": [],
    "position": 0,
    "channel_type": 0,
    "application_id": None,
    "webhook_id": None,
    "message_reference": None,
}
_D = orjson.dumps(MESSAGE)

#: As the emulator sends it (GATEWAY.md §2.1 [EMU]): op, s, t, then d.
EMULATOR = b'{"op":0,"s":42,"t":"MESSAGE_CREATE","d":' + _D + b"}"
#: As Discord is commonly seen to send it: t, s, op, then d.
DISCORD = b'{"t":"MESSAGE_CREATE","s":42,"op":0,"d":' + _D + b"}"
#: As the docs' example writes it: op, d, then s and t.
DOCS = b'{"op":0,"d":' + _D + b',"s":42,"t":"MESSAGE_CREATE"}'
#: d first, then the rest.
D_FIRST = b'{"d":' + _D + b',"op":0,"s":42,"t":"MESSAGE_CREATE"}'
#: The emulator's layout with spaces and newlines between the tokens.
SPACED = b'{\n  "op": 0,\n  "s": 42,\n  "t": "MESSAGE_CREATE",\n  "d": ' + _D + b"\n}"

LAYOUTS = {"emulator": EMULATOR, "discord": DISCORD, "docs": DOCS, "d first": D_FIRST, "spaced": SPACED}

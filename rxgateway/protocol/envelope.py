"""Read ``op``, ``s`` and ``t`` of a received frame without parsing its ``d``.

Every frame a shard receives goes through :func:`read_envelope`; most are dispatches
nobody subscribed to, so their ``d`` (often kilobytes) is never parsed (DESIGN.md,
"Parse on demand").

``data`` may be ``bytes`` (what the inflaters give) or ``str`` (an uncompressed text
frame), which is encoded first.

Example::

    >>> read_envelope(b'{"op":0,"s":42,"t":"MESSAGE_CREATE","d":{"content":"hi"}}')
    Envelope(op=0, s=42, t='MESSAGE_CREATE')
    >>> read_envelope(b'{"t":null,"s":null,"op":11,"d":null}')
    Envelope(op=11, s=None, t=None)

Contract
--------
For a valid JSON object whose top-level keys are unique, the result is exactly what
``orjson.loads`` gives: ``op`` is the integer at the top-level key ``"op"``, ``s`` and
``t`` the values at the top-level keys ``"s"`` and ``"t"``, ``None`` when null or
absent. Keys may come in any order, with any whitespace; keys named ``op``, ``s`` or
``t`` inside ``d``, and quotes or ``"op":`` inside strings, never confuse it.

:class:`~rxgateway.errors.DeserializationError` is raised when the frame is not JSON,
not an object, has no integer ``op``, has an ``s`` that is not an integer or null,
or a ``t`` that is not a string or null.

Two things are left to the full parse that happens later, if ever:

* the bytes the fast path skips (normally the value of ``d``, up to the final
  ``}``) are not checked: a frame broken there, with bad JSON inside ``d`` or cut
  right after ``d``'s own closing brace, is accepted here and reported by the full
  parse of the frame;
* a repeated top-level key (RFC 8259 §4 leaves its meaning undefined; orjson keeps
  the last) may be read at an earlier occurrence when a later one hides behind the
  skipped value. No gateway sends repeated keys.

How the fast path proves its answer
-----------------------------------
Frames shorter than :data:`FAST_PATH_MIN_BYTES`, or not ending in ``}``, are parsed
in full: orjson is cheaper than any scan on small frames. Longer ones are read with
anchored regular expressions that accept only tokens whose bytes are their value:
the keys ``"op"``, ``"s"``, ``"t"``, ``"d"`` written without escapes, and as values
``null``, ``true``, ``false``, a non-negative integer of at most
:data:`MAX_FAST_DIGITS` digits, or a string of printable ASCII without ``"``, ``\\``
or brackets. Two facts make what they match top-level members:

* *Forward from the first byte* (``_COMPACT``, ``_HEAD``): starting at the opening
  brace and reading whole tokens, each key matched is a key of the outer object.
* *Backward from the last byte* (``_COMPACT_TAIL``, ``_TAIL``): a run of
  ``,"key":value`` members that ends at the buffer's final ``}`` is the outer
  object's last members. In valid JSON that brace closes the outer object; a member
  inside ``d`` is followed by ``d``'s own closing bracket, never by the end; and the
  quotes matched, preceded by ``,`` or ``:`` rather than ``\\``, cannot sit inside
  a string. Where the run is looked for affects only whether it is found.

The steps, cheapest first:

1. ``_COMPACT``: the layouts gateways send, compact: ``{"op":N,"s":S,"t":T,"d":``
   (the emulator), ``{"t":T,"s":S,"op":N,"d":`` (Discord), and ``{"op":N,"d":``
   whose ``,"s":S,"t":T}`` ``_COMPACT_TAIL`` reads at the end (the docs' example,
   GATEWAY.md §2.1).
2. ``_HEAD`` then ``_TAIL``: the same members in any order and with any whitespace,
   forward until the first member it cannot read, then backward from the end.
3. ``orjson.loads``, when ``op``, ``s`` or ``t`` was found by neither walk: with
   unique keys a key seen is the top-level key, but an unseen one may hide behind
   the skipped value. So also for anything unusual: floats, negative numbers,
   escaped keys, unknown layouts, invalid JSON. Slower, never wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson

from ..errors import DeserializationError
from . import _extension
from .event_type import DISPATCH_BITS, OPCODE_BITS, EventTypeFlags

__all__ = [
    "DISPATCH_HEAD",
    "FAST_PATH_MIN_BYTES",
    "PROBED_NAMES",
    "MAX_FAST_DIGITS",
    "Envelope",
    "compiled_probe_dispatch",
    "dispatch_probe",
    "event_bit",
    "parse_payload",
    "probe_dispatch",
    "read_envelope",
]

#: Frames shorter than this are parsed in full. A scan costs a fixed ~1.4 µs on
#: the machine it was measured on, a full parse ~1.2 µs at 100 bytes and ~3.5 µs
#: at 1 KB: they cross near 140 bytes. The margin keeps heartbeat ACKs and hellos,
#: and frames in layouts that need the slower scan, on the full parse.
FAST_PATH_MIN_BYTES = 192
#: Longest integer the fast path reads. Up to 18 digits always fits a signed 64-bit
#: integer, which orjson returns as an ``int``; past 2**64 it returns a float, so
#: longer numbers go to orjson to keep the answers identical.
MAX_FAST_DIGITS = 18

_WS = rb"[ \t\n\r]*"  # JSON whitespace (RFC 8259 §2): exactly these four bytes
_INT = rb"(?:0|[1-9][0-9]{0,%d})" % (MAX_FAST_DIGITS - 1)  # RFC 8259 §6: no sign, no fraction
_STR = rb'"([ !#-Z^-z|~]*)"'  # printable ASCII but " \ [ ] { }: its bytes are its value
_SEQ = rb"(?:(" + _INT + rb")|null)"
_NAME = rb"(?:" + _STR + rb"|null)"

#: Groups: op, s, t, "s and t were read", then t, s, op of Discord's order.
_COMPACT = re.compile(
    rb'\{"(?:op":(' + _INT + rb'),(?:"s":' + _SEQ + rb',"t":' + _NAME + rb"(,))?"
    rb'|t":' + _NAME + rb',"s":' + _SEQ + rb',"op":(' + _INT + rb'),)"d":'
)
#: Groups: s, t. Tried at the last ``,"s":`` of a frame that began ``{"op":N,"d":``.
_COMPACT_TAIL = re.compile(rb',"s":' + _SEQ + rb',"t":' + _NAME + rb"\}\Z")


def _member() -> bytes:
    """One member the scan reads exactly, capturing op/s/t (null apart from absent)."""
    colon = _WS + rb":" + _WS
    return (
        rb'(?:"op"' + colon + rb"(?P<op>" + _INT + rb")"
        rb'|"s"' + colon + rb"(?:(?P<s>" + _INT + rb")|(?P<s_null>null))"
        rb'|"t"' + colon + rb'(?:"(?P<t>' + _STR[2:] + rb"|(?P<t_null>null))"
        rb'|"d"' + colon + rb"(?:null|true|false|-?" + _INT + rb"))"
    )


#: Members forward from the opening brace; ``end`` is set when they were all of them.
_HEAD = re.compile(_WS + rb"\{" + _WS + rb"(?:" + _member() + _WS + rb"(?:," + _WS + rb"|(?P<end>\}" + _WS + rb"\Z)))*")
#: The last members, up to the closing brace.
_TAIL = re.compile(_WS + rb"(?:," + _WS + _member() + _WS + rb")+\}" + _WS + rb"\Z")

#: Known dispatch names, raw bytes to the str the envelope carries (one object each).
_NAMES: dict[bytes, str] = {raw: raw.decode() for raw in DISPATCH_BITS}
_DISPATCH_BITS_BY_NAME: dict[str, int] = {name: DISPATCH_BITS[raw] for raw, name in _NAMES.items()}
_UNKNOWN_DISPATCH_BIT = int(EventTypeFlags.UNKNOWN_DISPATCH)
#: What :func:`probe_dispatch` reads: the name's bytes → the name (one str object per
#: name, so a set of names finds it by its cached hash). READY and RESUMED are left
#: out: a shard reads their ``d`` whatever it wants.
PROBED_NAMES: dict[bytes, str] = {raw: name for raw, name in _NAMES.items() if name not in ("READY", "RESUMED")}
#: The head of a dispatch as the gateway writes it; groups: the name, the sequence.
DISPATCH_HEAD = re.compile(rb'\{"t":"([A-Z0-9_]{1,64})","s":([1-9][0-9]{0,%d}),"op":0,"d":' % (MAX_FAST_DIGITS - 1))
_dispatch_head = DISPATCH_HEAD.match
_probed = PROBED_NAMES.get


class Envelope(NamedTuple):
    """The routing fields of a received payload; unpacks as ``op, s, t``.

    Example::

        >>> op, s, t = read_envelope(b'{"op":10,"d":{"heartbeat_interval":41250}}')
        >>> (op, s, t)
        (10, None, None)
    """

    op: int
    """The opcode."""
    s: int | None
    """The sequence number (dispatches only)."""
    t: str | None
    """The event name (dispatches only)."""


_new_envelope = tuple.__new__  # skips NamedTuple's Python-level __new__ on the hot path


def event_bit(op: int, t: str | None) -> int:
    """The :class:`EventTypeFlags` bit of a received ``(op, t)``, as a plain int.

    Unknown dispatch names (and dispatches without ``t``) give UNKNOWN_DISPATCH; an
    opcode a client never receives gives 0. This is the cheap test of the receive
    path: ``if event_bit(op, t) & wanted: parse``.

    Example::

        >>> event_bit(0, "READY") == EventTypeFlags.READY
        True
        >>> event_bit(11, None) == EventTypeFlags.GATEWAY_HEARTBEAT_ACK
        True
    """
    if op == 0:
        return _UNKNOWN_DISPATCH_BIT if t is None else _DISPATCH_BITS_BY_NAME.get(t, _UNKNOWN_DISPATCH_BIT)
    return OPCODE_BITS.get(op, 0)


def probe_dispatch(data: bytes) -> tuple[str, int] | None:
    """Read a dispatch written the way the gateway writes them, with one anchored match.

    For a payload that begins ``{"t":"NAME","s":N,"op":0,"d":`` (no whitespace, that
    key order) where ``NAME`` is a known dispatch other than READY and RESUMED and
    ``N`` an integer of 1 to :data:`MAX_FAST_DIGITS` digits, returns ``(name, N)``:
    the name (the very object :data:`PROBED_NAMES` holds) and the sequence; its
    :class:`EventTypeFlags` bit is :func:`event_bit` ``(0, name)``.
    For anything else, ``None``: use :func:`read_envelope`, which reads every layout.

    It proves what it returns the way step 1 of the module docstring does (whole
    tokens forward from the first byte, a name without escapes), under the same
    contract, and costs about a third of :func:`read_envelope`: what the receive path
    wants for the frames nobody asked for. The receive path
    (:meth:`~rxgateway.machine.ShardMachine.on_message`) calls :data:`dispatch_probe`:
    its compiled twin, :data:`compiled_probe_dispatch`, where there is one.

    Example::

        >>> probe_dispatch(b'{"t":"MESSAGE_CREATE","s":42,"op":0,"d":{}}')
        ('MESSAGE_CREATE', 42)
        >>> probe_dispatch(b'{"op":0,"s":42,"t":"MESSAGE_CREATE","d":{}}') is None
        True
    """
    head = _dispatch_head(data)
    if head is not None:
        name, digits = head.groups()
        known = _probed(name)
        if known is not None:
            return known, int(digits)
    return None


def _compile_probe() -> Callable[[bytes], tuple[str, int] | None] | None:
    compiled = _extension.load()
    return None if compiled is None else compiled.DispatchProbe(PROBED_NAMES).probe


#: :func:`probe_dispatch` compiled, or ``None``. The same answers for every input, in
#: one C call (48 ns where the pure function takes 671 ns, on the machine the suite
#: measures on): what the
#: receive path and the bus publisher call where it exists. It exists where the build
#: compiled the optional extension ``rxgateway.protocol._cprobe`` (the package's build
#: does wherever a C compiler is at hand) and the environment variable
#: ``RXGATEWAY_NO_EXTENSIONS`` is unset or empty when this module is imported; it is
#: ``None`` otherwise, and the pure function is used.
#:
#: Example::
#:
#:     >>> dispatch_probe(b'{"t":"MESSAGE_CREATE","s":42,"op":0,"d":{}}')[1]
#:     42
compiled_probe_dispatch: Callable[[bytes], tuple[str, int] | None] | None = _compile_probe()
#: The probe the receive path (:meth:`~rxgateway.machine.ShardMachine.on_message`) and
#: the bus publisher call: :data:`compiled_probe_dispatch` where there is one, else
#: :func:`probe_dispatch`. Chosen once, here, when this module is imported.
dispatch_probe: Callable[[bytes], tuple[str, int] | None] = compiled_probe_dispatch or probe_dispatch


def read_envelope(data: bytes | bytearray | memoryview | str) -> Envelope:
    """Read ``op``, ``s`` and ``t`` of one gateway payload (see the module docstring).

    Raises :class:`~rxgateway.errors.DeserializationError` when ``data`` is not a
    gateway payload; the error keeps ``data`` as ``.payload``, never in its message
    (a client's frame may hold its token).

    Example::

        >>> read_envelope(b'{"op":0,"d":{"t":"x","op":5},"s":7,"t":"READY"}')
        Envelope(op=0, s=7, t='READY')
    """
    if type(data) is not bytes:
        if isinstance(data, str):
            data = data.encode()
        elif isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data)
        else:
            raise TypeError(f"read_envelope takes bytes or str, got {type(data).__name__}")
    if len(data) >= FAST_PATH_MIN_BYTES and data.endswith(b"}"):
        m = _COMPACT.match(data)
        if m is not None:
            op, s, t, read, t2, s2, op2 = m.groups()
            if op is None:
                op, s, t = op2, s2, t2
            elif read is None:
                at = data.rfind(b',"s":')
                tail = _COMPACT_TAIL.match(data, at) if at > 0 else None
                if tail is None:
                    return _read_scan(data) or _read_full(data)
                s, t = tail.groups()
            name = None if t is None else _NAMES.get(t) or t.decode()
            return _new_envelope(Envelope, (int(op), None if s is None else int(s), name))
        return _read_scan(data) or _read_full(data)
    return _read_full(data)


def _read_scan(data: bytes) -> Envelope | None:
    """Step 2 of the module docstring, or ``None`` to fall back."""
    head = _HEAD.match(data)
    if head is None:
        return None
    op, s, s_null, t, t_null, end = head.groups()  # the named groups, in order
    if end is None and (op is None or (s is None and s_null is None) or (t is None and t_null is None)):
        # Look for the tail after the last closing brace before the end: no tail
        # member holds one. (When the skipped value is an array it is not found.)
        tail = _TAIL.match(data, data.rfind(b"}", 0, -1) + 1)
        if tail is None:
            return None
        op_b, s_b, s_null_b, t_b, t_null_b = tail.groups()
        if op_b is not None:
            op = op_b
        if s_b is not None or s_null_b is not None:
            s, s_null = s_b, s_null_b
        if t_b is not None or t_null_b is not None:
            t, t_null = t_b, t_null_b
        if op is None or (s is None and s_null is None) or (t is None and t_null is None):
            return None
    if op is None:
        return None
    name = None if t is None else _NAMES.get(t) or t.decode()
    return _new_envelope(Envelope, (int(op), None if s is None else int(s), name))


def parse_payload(data: bytes | str) -> tuple[dict[str, Any], int, int | None, str | None]:
    """Parse ``data`` fully: the payload dict and its ``op``, ``s`` and ``t``, with the
    same checks as :func:`read_envelope`. For a caller that needs ``d`` anyway, one
    full parse costs less than a scan followed by a parse.

    Example::

        >>> parse_payload(b'{"op":11,"d":null}')
        ({'op': 11, 'd': None}, 11, None, None)
    """
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DeserializationError(f"payload is not valid JSON ({len(data)} bytes): {exc.msg}", data) from None
    if type(payload) is dict:
        op, s, t = payload.get("op"), payload.get("s"), payload.get("t")
        if type(op) is int and (s is None or type(s) is int) and (t is None or type(t) is str):
            return payload, op, s, t
    raise DeserializationError(_what_is_wrong(payload), data)


def _read_full(data: bytes) -> Envelope:
    """The fallback: a full parse, and the type checks of the contract."""
    _, op, s, t = parse_payload(data)
    return _new_envelope(Envelope, (op, s, t))


def _what_is_wrong(payload: object) -> str:
    """Why a parsed payload is not a gateway payload (never quoting it)."""
    if type(payload) is not dict:
        return f"payload is a JSON {type(payload).__name__}, not an object"
    op, s, t = payload.get("op"), payload.get("s"), payload.get("t")
    if type(op) is not int:
        return "payload op is missing" if op is None else f"payload op is a {type(op).__name__}, not an integer"
    if s is not None and type(s) is not int:
        return f"payload s is a {type(s).__name__}, not an integer or null"
    return f"payload t is a {type(t).__name__}, not a string or null"

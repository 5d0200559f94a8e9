"""Marble diagrams of rxgateway's operators, drawn as SVG from a compact description.

Pure Python, no dependency. ``python docs/marbles.py`` writes ``docs/img/marbles/*.svg``;
``tests/docs/test_docs.py`` checks that the committed files are what this draws now.

A diagram is input lines, an operator box, output lines. A line is a string of
tokens separated by spaces, one token per tick of time:

- ``-``: nothing at this tick; ``.``: the line has not started yet (a group that
  appears later, as with ``by_shard``);
- ``|``: the stream completes; ``#``: it errors;
- anything else: a marble with that label. Its colour comes from the first letter
  in the label, so ``M0``, ``M1`` and ``(0,M)`` (a MESSAGE_CREATE from shard 0, from
  shard 1, paired with its shard) share one colour; a label starting with ``!`` is
  a failure, in red.

Example::

    Diagram("on", "on(MESSAGE_CREATE)",
            inputs=[Line("shard", "M P M G M |")],
            outputs=[Line("", "M - M - M |")],
            legend="M MESSAGE_CREATE · P PRESENCE_UPDATE · G GUILD_CREATE")
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

__all__ = ["DIAGRAMS", "Diagram", "Line", "Marble", "Parsed", "parse_line", "render", "render_all", "main"]

OUT = Path(__file__).resolve().parent / "img" / "marbles"

TICK = 56  # px between ticks
LABEL_WIDTH = 112  # px for the line names on the left
ROW = 52  # px per line
PAD = 16
RADIUS = 17
FONT = "ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
MONO = "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace"

#: Marble colours by the first letter in the label (either case); others grey.
COLOURS = {
    "M": "#5c6bc0",  # MESSAGE_CREATE
    "P": "#ef6c00",  # PRESENCE_UPDATE
    "G": "#2e7d32",  # GUILD_CREATE
    "T": "#8e24aa",  # TYPING_START
    "R": "#00838f",  # READY / results
    "A": "#5c6bc0",
    "B": "#2e7d32",
    "C": "#ef6c00",
    "D": "#c62828",
    "!": "#c62828",  # a failure (HandlerError)
}
GREY = "#757575"


@dataclass(frozen=True)
class Line:
    """One stream: its name (left of the line) and its events, one token per tick."""

    name: str
    events: str


@dataclass(frozen=True)
class Diagram:
    """A whole picture: inputs, the operator (as code), outputs, and a legend."""

    name: str
    operator: str
    inputs: list[Line]
    outputs: list[Line]
    legend: str = ""
    note: str = ""


@dataclass(frozen=True)
class Marble:
    """One value on a line: at tick ``tick``, drawn with ``label``."""

    tick: int
    label: str


@dataclass
class Parsed:
    """A line read from its tokens."""

    start: int = 0
    marbles: list[Marble] = field(default_factory=list)
    end: int | None = None  # the tick of ``|`` or ``#``
    error: bool = False
    ticks: int = 0


def parse_line(events: str) -> Parsed:
    """Read one line's tokens (see the module docstring)."""
    parsed = Parsed()
    tokens = events.split()
    parsed.ticks = len(tokens)
    started = False
    for tick, token in enumerate(tokens):
        if token == ".":
            if started:
                raise ValueError(f"'.' after the line started: {events!r}")
            parsed.start = tick + 1
            continue
        started = True
        if token in ("|", "#"):
            parsed.end, parsed.error = tick, token == "#"
            break
        if token != "-":
            parsed.marbles.append(Marble(tick, token))
    return parsed


def _colour(label: str) -> str:
    if label.startswith("!"):
        return COLOURS["!"]
    letters = [c for c in label if c.isalpha()]
    return COLOURS.get(letters[0].upper(), GREY) if letters else GREY


def _x(tick: int) -> int:
    return LABEL_WIDTH + PAD + TICK // 2 + tick * TICK


def _line(name: str, parsed: Parsed, y: int, width: int) -> list[str]:
    parts = []
    if name:
        parts.append(f'<text x="{LABEL_WIDTH}" y="{y + 5}" text-anchor="end" class="name">{escape(name)}</text>')
    x0 = _x(parsed.start) - TICK // 2
    x1 = width - PAD
    parts.append(f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" class="axis" marker-end="url(#arrow)"/>')
    if parsed.end is not None:
        x = _x(parsed.end)
        if parsed.error:
            parts.append(f'<path d="M{x - 8},{y - 8} L{x + 8},{y + 8} M{x - 8},{y + 8} L{x + 8},{y - 8}" class="error"/>')
        else:
            parts.append(f'<line x1="{x}" y1="{y - 14}" x2="{x}" y2="{y + 14}" class="end"/>')
    for marble in parsed.marbles:
        x = _x(marble.tick)
        half = max(RADIUS, 4 * len(marble.label) + 8)
        colour = _colour(marble.label)
        if half == RADIUS:
            parts.append(f'<circle cx="{x}" cy="{y}" r="{RADIUS}" fill="{colour}"/>')
        else:
            parts.append(
                f'<rect x="{x - half}" y="{y - RADIUS}" width="{2 * half}" height="{2 * RADIUS}" '
                f'rx="{RADIUS}" fill="{colour}"/>'
            )
        parts.append(f'<text x="{x}" y="{y + 5}" text-anchor="middle" class="marble">{escape(marble.label)}</text>')
    return parts


def render(diagram: Diagram) -> str:
    """The SVG text of one diagram (deterministic: same description, same bytes)."""
    inputs = [parse_line(line.events) for line in diagram.inputs]
    outputs = [parse_line(line.events) for line in diagram.outputs]
    ticks = max(p.ticks for p in (*inputs, *outputs))
    # Wide enough for the ticks, the operator's code and the legend (estimated
    # character widths: 8.5 px in the 14 px monospace, 6.6 px in the 12 px text).
    width = max(
        LABEL_WIDTH + 2 * PAD + ticks * TICK + 16,
        int(len(diagram.operator) * 8.5) + 2 * PAD + 32,
        int(max(len(diagram.legend), len(diagram.note)) * 6.6) + 2 * PAD,
    )
    box = 44
    extra = (22 if diagram.legend else 0) + (20 if diagram.note else 0)
    height = PAD + ROW * len(inputs) + box + 12 + ROW * len(outputs) + extra + PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="marble diagram of {escape(diagram.operator)}">',
        f"<title>{escape(diagram.operator)}</title>",
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#424242"/></marker>',
        "</defs>",
        "<style>"
        f".name{{font:13px {FONT};fill:#424242}}"
        f".marble{{font:bold 12px {MONO};fill:#ffffff}}"
        f".op{{font:14px {MONO};fill:#212121}}"
        f".legend{{font:12px {FONT};fill:#424242}}"
        ".axis{stroke:#424242;stroke-width:2}"
        ".end{stroke:#212121;stroke-width:3}"
        ".error{stroke:#c62828;stroke-width:3}"
        "</style>",
        f'<rect x="0" y="0" width="{width}" height="{height}" rx="6" fill="#ffffff"/>',
    ]
    y = PAD + ROW // 2
    for line, parsed in zip(diagram.inputs, inputs):
        parts += _line(line.name, parsed, y, width)
        y += ROW
    top = y - ROW // 2 + 4
    parts.append(
        f'<rect x="{PAD}" y="{top}" width="{width - 2 * PAD}" height="{box}" rx="4" '
        'fill="#f5f5f5" stroke="#9e9e9e"/>'
    )
    parts.append(f'<text x="{width // 2}" y="{top + box // 2 + 5}" text-anchor="middle" class="op">'
                 f"{escape(diagram.operator)}</text>")  # fmt: skip
    y = top + box + 12 + ROW // 2
    for line, parsed in zip(diagram.outputs, outputs):
        parts += _line(line.name, parsed, y, width)
        y += ROW
    y = y - ROW // 2 + 8
    if diagram.legend:
        parts.append(f'<text x="{PAD}" y="{y + 6}" class="legend">{escape(diagram.legend)}</text>')
        y += 22
    if diagram.note:
        parts.append(f'<text x="{PAD}" y="{y + 6}" class="legend">{escape(diagram.note)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


#: The diagrams of docs/concepts/operators.md, one per operator of ``rxgateway.ops``.
DIAGRAMS = [
    Diagram(
        "on",
        "on(EventTypeFlags.MESSAGE_CREATE)",
        inputs=[Line("shard", "M P M G P M |")],
        outputs=[Line("", "M - M - - M |")],
        legend="M MESSAGE_CREATE · P PRESENCE_UPDATE · G GUILD_CREATE",
        note="On a shard the flag is pushed down: P and G frames are never parsed.",
    ),
    Diagram(
        "of_type",
        "of_type(MessageCreate, GuildCreate)",
        inputs=[Line("shard", "M P G T M - |")],
        outputs=[Line("", "M - G - M - |")],
        legend="M MessageCreate · G GuildCreate · P PresenceUpdate · T TypingStart",
        note="Typed as Observable[MessageCreate | GuildCreate]; both types are pushed down.",
    ),
    Diagram(
        "with_shard",
        "with_shard()",
        inputs=[Line("group", "M0 - M1 G0 - M1 |")],
        outputs=[Line("", "(0,M) - (1,M) (0,G) - (1,M) |")],
        legend="M0 a MESSAGE_CREATE from shard 0 · (0,M) the pair (ShardId 0, the event)",
    ),
    Diagram(
        "by_shard",
        "by_shard()",
        inputs=[Line("group", "M0 - M1 G0 - M1 M0 |")],
        outputs=[
            Line("shard 0", "M0 - - G0 - - M0 |"),
            Line("shard 1", ". . M1 - - M1 - |"),
        ],
        legend="One GroupedObservable per shard (key: its ShardId), from its first event on.",
    ),
    Diagram(
        "merge",
        "merge(shard_0, shard_1).pipe(on(MESSAGE_CREATE))",
        inputs=[
            Line("shard 0", "M0 - - M0 - - |"),
            Line("shard 1", "- M1 - - - M1 - |"),
        ],
        outputs=[Line("", "M0 M1 - M0 - M1 |")],
        legend="Arrival order; completes when every source has. The flag reaches both shards.",
    ),
    Diagram(
        "spawn",
        "spawn(handler, max_concurrency=2, errors=failures)",
        inputs=[Line("events", "a b c d - - - |")],
        outputs=[
            Line("results", "- - B A - C - |"),
            Line("failures", "- - - - !d - - -"),
        ],
        legend="A = await handler(a), run as a task; at most 2 at once, the rest wait in order.",
        note="Results in completion order. handler(d) raised: a HandlerError, the stream goes on.",
    ),
    Diagram(
        "route",
        "route({MessageCreate: on_message, GUILD_CREATE: guilds, TYPING_START: typing})",
        inputs=[Line("shards", "M G P M T - |")],
        outputs=[
            Line("on_message", "M - - M - - |"),
            Line("guilds", "- G - - - - |"),
            Line("typing", "- - - - T - |"),
        ],
        legend="M MessageCreate · G GUILD_CREATE · P PRESENCE_UPDATE · T TYPING_START",
        note="One subscription for the table; only the keys' types are parsed (P never is).",
    ),
]


def render_all() -> dict[str, str]:
    """Every diagram, by its file name."""
    return {f"{d.name}.svg": render(d) for d in DIAGRAMS}


def main() -> int:
    """Write ``docs/img/marbles/*.svg`` (and remove SVGs no diagram draws any more)."""
    OUT.mkdir(parents=True, exist_ok=True)
    drawn = render_all()
    for stale in OUT.glob("*.svg"):
        if stale.name not in drawn:
            stale.unlink()
    for name, svg in drawn.items():
        (OUT / name).write_text(svg, encoding="utf-8")
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

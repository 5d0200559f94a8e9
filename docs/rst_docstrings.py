"""A griffe extension: rxgateway's docstrings, written for reading in a terminal, made
into Markdown for the API reference.

The docstrings use a few reStructuredText habits; Markdown would show them wrong or
as quotes. Rewritten when the package is loaded (the source is not touched):

- ``:class:`~a.b.C``` and the other roles become code (``C``, or ``a.b.C`` without ``~``);
- a literal block (a paragraph ending with ``::``, then an indented block) becomes a
  fenced Python block; ``>>>`` examples become fenced ``pycon`` blocks;
- a simple table (``====  ====`` borders) becomes a fenced text block, as it reads in
  the source;
- an ``Args:`` entry naming several parameters (``app, member: ...``) becomes one
  entry per parameter, each with the description;
- a constant documented by ``#:`` comments above it gets them as its docstring.

``mkdocs.yml`` loads it (``extensions: [docs/rst_docstrings.py]``), and so does
``tests/docs/test_docs.py``, which checks that every public name has a docstring.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

__all__ = ["RstDocstrings", "to_markdown"]

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj|const|ref):`(~?)([^`]+)`")
_TABLE_BORDER = re.compile(r"^\s*=+(\s+=+)+\s*$")
_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Keyword Args|Raises|Returns|Yields|Attributes):\s*$")
_SHARED_ENTRY = re.compile(r"^(\s+)(\w+(?:\s*,\s*\w+)+)(\s*:.*)$")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    target = target.strip()
    if tilde:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _take_indented(lines: list[str], start: int, base: int) -> int:
    """The end of the block of lines after ``start`` indented deeper than ``base``
    (blank lines inside it included, trailing ones not)."""
    end = start
    i = start
    while i < len(lines):
        if lines[i].strip() == "":
            i += 1
            continue
        if _indent(lines[i]) <= base:
            break
        i += 1
        end = i
    return end


def _fence(block: list[str], lang: str, indent: int) -> list[str]:
    pad = " " * indent
    body = textwrap.dedent("\n".join(block)).splitlines()
    return [f"{pad}```{lang}", *(pad + line if line else "" for line in body), f"{pad}```"]


def _split_shared_entries(lines: list[str]) -> list[str]:
    """``a, b: text`` in an ``Args:`` section, as ``a: text`` and ``b: text``."""
    out: list[str] = []
    section_indent: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if _SECTION.match(line):
            section_indent = _indent(line)
        elif line.strip() and section_indent is not None and _indent(line) <= section_indent:
            section_indent = None
        match = _SHARED_ENTRY.match(line) if section_indent is not None else None
        if match and _indent(line) > section_indent:  # type: ignore[operator]
            end = _take_indented(lines, i + 1, _indent(line))
            rest = lines[i + 1 : end]
            for name in match.group(2).split(","):
                out.append(match.group(1) + name.strip() + match.group(3))
                out.extend(rest)
            i = end
            continue
        out.append(line)
        i += 1
    return out


def to_markdown(text: str) -> str:
    """One docstring, reStructuredText habits rewritten as Markdown."""
    lines = _split_shared_entries(_ROLE.sub(_role, text).splitlines())
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _TABLE_BORDER.match(line):
            # A simple table: three border lines (top, under the header, bottom).
            borders, j = 0, i
            while j < len(lines) and borders < 3:
                if _TABLE_BORDER.match(lines[j]):
                    borders += 1
                j += 1
            out.extend(_fence(lines[i:j], "text", _indent(line)))
            i = j
            continue
        if stripped.startswith(">>>"):
            j = i
            while j < len(lines) and lines[j].strip():
                j += 1
            out.extend(_fence(lines[i:j], "pycon", _indent(line)))
            i = j
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            base = _indent(line)
            end = _take_indented(lines, i + 1, base)
            block = [b for b in lines[i + 1 : end]]
            while block and not block[0].strip():
                block.pop(0)
            if block:
                lead = stripped[:-2].rstrip()
                if lead:
                    out.append(" " * base + lead + ":")
                    out.append("")
                out.extend(_fence(block, "python", base))
                i = end
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _comment_docstring(obj: griffe.Attribute) -> str | None:
    """The ``#:`` comment lines right above an attribute's assignment, if any."""
    module = obj.module
    lines = module.lines
    if obj.lineno is None or not lines:
        return None
    found: list[str] = []
    i = obj.lineno - 2
    while i >= 0 and lines[i].lstrip().startswith("#:"):
        found.append(lines[i].lstrip()[2:].strip())
        i -= 1
    return " ".join(reversed(found)) or None


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring of a loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is None and isinstance(obj, griffe.Attribute):
            text = _comment_docstring(obj)
            if text:
                obj.docstring = griffe.Docstring(text, parent=obj)
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)  # type: ignore[arg-type]

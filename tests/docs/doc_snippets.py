"""Find the fenced code blocks of the documentation, and the markers that annotate them.

A block is a Markdown fence (```python, ```console, ```sh, ...), indented or not (the tabs of
``docs/migrating.md`` indent theirs). The HTML comment on the line before a fence, if it is
``<!-- snippet: ... -->``, annotates the block; mkdocs does not render it:

- ``<!-- snippet: skip reason="..." -->``: the block is not run; the reason is reported.
- ``<!-- snippet: typed -->``: the block is reusable code that must pass ``mypy --strict``
  (the typed blocks of one page are checked together, in page order, as one module).
- ``<!-- snippet: peer="requests-oauthlib" -->``: another library's code; it runs in a
  worker process of its own for that library (``doc_peer``), in its own namespace.
- ``<!-- snippet: client_id="post-app" -->``: any other ``name="value"`` sets a string in the
  page's namespace before the block runs (the value a reader would type for a placeholder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
_MARKER = re.compile(r"^\s*<!--\s*snippet:(?P<body>.*?)-->\s*$")
_ATTRIBUTE = re.compile(r'(?P<name>[\w-]+)(?:="(?P<value>[^"]*)")?')


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str  # relative to the repository root
    line: int  # 1-based line of the opening fence
    lang: str
    code: str  # dedented to the fence's indentation
    marker: dict[str, str] = field(default_factory=dict)

    @property
    def skip_reason(self) -> str | None:
        if "skip" not in self.marker:
            return None
        reason = self.marker.get("reason", "").strip()
        if not reason:
            raise ValueError(f"{self.page}:{self.line}: a snippet skip needs a reason")
        return reason

    @property
    def typed(self) -> bool:
        return "typed" in self.marker

    @property
    def peer(self) -> str | None:
        return self.marker.get("peer") or None

    @property
    def seeds(self) -> dict[str, str]:
        reserved = ("skip", "reason", "typed", "peer")
        return {k: v for k, v in self.marker.items() if k not in reserved}

    def source(self) -> str:
        """The code, padded with blank lines so tracebacks name the page's own line numbers."""
        return "\n" * self.line + self.code


def pages() -> list[Path]:
    """Every page whose code blocks a reader may run: README.md and docs/**/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _parse_marker(line: str) -> dict[str, str] | None:
    match = _MARKER.match(line)
    if match is None:
        return None
    return {m["name"]: m["value"] or "" for m in _ATTRIBUTE.finditer(match["body"])}


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of one page, in order, with their markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = path.relative_to(ROOT).as_posix()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, start = opening["indent"], i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            text = lines[i]
            body.append(text[len(indent) :] if text.startswith(indent) else text.lstrip())
            i += 1
        if i == len(lines):
            raise ValueError(f"{page}:{start + 1}: unclosed code block")
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = _parse_marker(previous) or {}
        found.append(Block(page, start + 1, opening["lang"], "\n".join(body) + "\n", marker))
        i += 1
    return found


def shell_commands(block: Block) -> list[str]:
    """The commands of a ``console`` / ``sh`` block, continuation lines joined.

    In a ``console`` block commands start with ``$ `` and every other line is output; in a
    ``sh`` block every line is a command. Trailing ``# comments`` are dropped.
    """
    commands: list[str] = []
    pending = ""
    for raw in block.code.splitlines():
        line = raw.rstrip()
        if not pending:
            if block.lang == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        command = pending + line
        pending = ""
        commands.append(_strip_comment(command).strip())
    return commands


def _strip_comment(command: str) -> str:
    """The command without a trailing ``# comment`` (a ``#`` after a space, outside quotes)."""
    quote = ""
    for i, char in enumerate(command):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i]
    return command

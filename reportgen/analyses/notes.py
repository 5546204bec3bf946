"""The experimenter's own critique (--notes notes.md), rendered as CommonMark with raw HTML switched off."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from reportgen.analyses.section import Result
from reportgen.errors import ReportgenError

ID = "notes"
TITLE = "Notes"
TEMPLATE = "_notes.html"


@dataclass
class Notes:
    path: str
    text: str


def read_notes(path: str | Path) -> Notes:
    try:
        return Notes(str(path), Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportgenError(f"{path}: cannot read the --notes file ({getattr(exc, 'strerror', None) or exc})") from exc


def render_markdown(text: str) -> str:
    """HTML from markdown; raw HTML in the text is escaped, and javascript:/data: links are not made links."""
    return MarkdownIt("commonmark", {"html": False}).render(text)


@dataclass
class NotesResult(Result):
    notes: Notes | None

    @property
    def shown(self) -> bool:
        return self.notes is not None

    @property
    def html(self) -> str:
        return render_markdown(self.notes.text)

    @property
    def path(self) -> str:
        return self.notes.path

    def json(self) -> dict:
        return {"notes": {"path": self.notes.path, "markdown": self.notes.text}} if self.notes else {}


def run(collected, *, notes: Notes | None = None) -> NotesResult:
    return NotesResult(notes)

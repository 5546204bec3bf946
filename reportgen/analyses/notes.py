"""The experimenter's own critique (--notes notes.md), rendered as CommonMark with raw HTML switched off."""

from __future__ import annotations

from markdown_it import MarkdownIt

from reportgen.section import Section

ID = "notes"
TITLE = "Notes"


def render_markdown(text: str) -> str:
    """HTML from markdown; raw HTML in the text is escaped, and javascript:/data: links are not made links."""
    return MarkdownIt("commonmark", {"html": False}).render(text)


def run(collected, ctx) -> Section:
    if ctx.notes is None:
        return Section(ID, TITLE, "_notes.html", {"html": None})
    return Section(ID, TITLE, "_notes.html", {"html": render_markdown(ctx.notes), "path": ctx.notes_path},
                   {"notes": {"path": ctx.notes_path, "markdown": ctx.notes}})

"""The page's text and its two marks (bold and code), written out as Markdown or as HTML.

A paragraph of the page is plain text (a str) or a Paragraph of pieces: plain text, Strong or Code. A mark comes
from a piece's type only, never from characters in the text, so a class name, a URL or a host name (text that
comes from data) cannot open, close or move a mark, start an HTML tag or break a table: each renderer escapes every
piece of text once, for the format it writes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


class Paragraph:
    """Text with marks: its pieces in reading order."""

    def __init__(self, *pieces: str | Strong | Code):
        self.pieces = pieces

    def __str__(self) -> str:
        """The words without the marks."""
        return "".join(piece if isinstance(piece, str) else piece.text for piece in self.pieces)

    def __contains__(self, phrase: str) -> bool:
        return phrase in str(self)

    def __repr__(self) -> str:
        return f"Paragraph{self.pieces!r}"


Text = str | Paragraph

# The characters that start Markdown's inline syntax (GitHub's adds | for table cells and ~ for strikethrough);
# CommonMark reads any ASCII punctuation after a backslash as itself.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#])")
# A line break would end a table row or a list item.
_LINE_BREAK = re.compile(r"\s*[\r\n]+\s*")
# A paragraph or list item that starts like this would become a (numbered) list.
_LIST_START = re.compile(r"^(?=[-+])|^(\d+)(?=[.)])")


def markdown_text(text: str) -> str:
    """``text`` as Markdown that shows exactly that text, on one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _LINE_BREAK.sub(" ", text))


def markdown_code(text: str) -> str:
    """A code span of ``text``, fenced by more backticks than any run of them inside it."""
    text = _LINE_BREAK.sub(" ", text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def markdown_block(text: Text) -> str:
    """A paragraph or a list item in Markdown."""
    rendered = "".join(_markdown_piece(piece) for piece in _pieces(text)).lstrip()
    return _LIST_START.sub(lambda start: (start.group(1) or "") + "\\", rendered, count=1)


def markdown_fence(text: str) -> str:
    """The fence of a code block holding ``text``: longer than any run of backticks in it, which it would end."""
    return "`" * max(3, max(map(len, re.findall("`+", text)), default=0) + 1)


def markdown_link_target(path: str) -> str:
    """A relative path as a link's target: spaces and parentheses would end it."""
    return quote(path)


def html_block(text: Text) -> str:
    """A paragraph or a list item's content in HTML."""
    return "".join(_html_piece(piece) for piece in _pieces(text))


def _pieces(text: Text) -> tuple:
    return text.pieces if isinstance(text, Paragraph) else (text,)


def _markdown_piece(piece: str | Strong | Code) -> str:
    if isinstance(piece, Strong):
        return f"**{markdown_text(piece.text)}**"
    if isinstance(piece, Code):
        return markdown_code(piece.text)
    return markdown_text(piece)


def _html_piece(piece: str | Strong | Code) -> str:
    if isinstance(piece, Strong):
        return f"<strong>{html.escape(piece.text)}</strong>"
    if isinstance(piece, Code):
        return f"<code>{html.escape(piece.text)}</code>"
    return html.escape(piece)

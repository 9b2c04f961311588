"""XML for reading: an exchange's request or response, indented and highlighted as HTML.

It is read as text by a small tokenizer, not parsed: the journal keeps what went over the wire,
which may be malformed, cut at its size limit, or hold a DTD that no parser should be handed.
Every piece of the text is escaped; the markup added is spans with classes (``x-tag``, ``x-attr``,
``x-value``, ``x-text``, ``x-other``) that the stylesheet colours.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_TOKEN = re.compile(
    r"(?P<comment><!--.*?(?:-->|\Z))"
    r"|(?P<other><!\[CDATA\[.*?(?:\]\]>|\Z)|<\?.*?(?:\?>|\Z)|<![^>]*(?:>|\Z))"
    r"|(?P<end></[^>]*(?:>|\Z))"
    r"|(?P<empty><[^>]*/>)"
    r"|(?P<start><[^>]*(?:>|\Z))"
    r"|(?P<text>[^<]+)",
    re.DOTALL)
_TAG = re.compile(r"^(</?)([^\s/>]*)(.*?)(/?>)?$", re.DOTALL)
_ATTRIBUTE = re.compile(r"([^\s=]+)(\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s>]+)|(\S+)")
INDENT = "  "


def _tag(token: str) -> Markup:
    found = _TAG.match(token)
    if found is None:  # cannot happen: the pattern matches any text
        return Markup('<span class="x-other">{}</span>').format(token)
    opening, name, rest, closing = found.groups()
    shown = [Markup('<span class="x-tag">{}{}</span>').format(opening, name)]
    at = 0
    for attribute in _ATTRIBUTE.finditer(rest):
        shown.append(escape(rest[at:attribute.start()]))
        if attribute.group(4) is not None:
            shown.append(escape(attribute.group(4)))
        else:
            shown.append(Markup('<span class="x-attr">{}</span>{}<span class="x-value">{}</span>').format(
                attribute.group(1), attribute.group(2), attribute.group(3)))
        at = attribute.end()
    shown.append(escape(rest[at:]))
    if closing:
        shown.append(Markup('<span class="x-tag">{}</span>').format(closing))
    return Markup("").join(shown)


def _piece(kind: str, token: str) -> Markup:
    if kind in ("start", "end", "empty"):
        return _tag(token)
    if kind == "text":
        return Markup('<span class="x-text">{}</span>').format(token)
    return Markup('<span class="x-other">{}</span>').format(token)


def pretty(xml: str) -> Markup:
    """``xml`` one element a line, indented by depth (an element holding only text on one line),
    highlighted; whatever it holds is shown, escaped."""
    tokens = [(m.lastgroup or "text", m.group()) for m in _TOKEN.finditer(xml)]
    tokens = [(kind, token.strip() if kind == "text" else token) for kind, token in tokens
              if kind != "text" or token.strip()]
    lines: list[Markup] = []
    depth = 0

    def line(*pieces: tuple[str, str]) -> None:
        lines.append(Markup(INDENT * depth) + Markup("").join(  # noqa: S704 - spaces
            _piece(kind, token) for kind, token in pieces))

    index = 0
    while index < len(tokens):
        kind, token = tokens[index]
        following = [k for k, _ in tokens[index + 1:index + 3]]
        if kind == "start" and following == ["text", "end"]:
            line(*tokens[index:index + 3])
            index += 3
            continue
        if kind == "start" and following[:1] == ["end"]:
            line(*tokens[index:index + 2])
            index += 2
            continue
        if kind == "end":
            depth = max(0, depth - 1)
        line((kind, token))
        if kind == "start":
            depth += 1
        index += 1
    return Markup("\n").join(lines)

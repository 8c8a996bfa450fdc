"""Markdown from users, rendered to HTML that cannot run script."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in the source is shown as text (html=False); nh3 then guards what Markdown made.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")

_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(source: str | None) -> Markup:
    """Safe HTML for a user's Markdown: no script, no event handlers, no javascript: links."""
    if not source:
        return Markup("")
    return _rendered(source)


@lru_cache(maxsize=2048)
def _rendered(source: str) -> Markup:
    # Timeline entries never change, and a busy conflict's page renders the same fifty
    # bodies on every view (about a tenth of its CPU): each text is parsed and cleaned once
    # per process. The output depends on the text alone, so the cache cannot leak between
    # viewers; 2,048 entries of a few KB at most bound its memory.
    html = _md.render(source)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704  (sanitised by nh3 just above)

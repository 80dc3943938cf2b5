"""Mentor bios in Markdown, rendered once when saved to HTML that can carry no script, style or tracking.

markdown-it-py follows CommonMark, whose reference parsers keep pathological input (thousands of `[`,
nested emphasis, `<`) linear; Python-Markdown took minutes on a 12,000-character bio. The bio's length cap
bounds the rest, and pages show the stored HTML, so no page view ever renders Markdown.
"""

import nh3
from markdown_it import MarkdownIt

BIO_MAX_LENGTH = 5000
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h3", "h4", "hr"}

# Raw HTML off (nh3 would strip it anyway); images off: a bio loads nothing from elsewhere.
_markdown = MarkdownIt("commonmark", {"html": False}).disable("image")


def bio_html(text: str) -> str:
    """Sanitised HTML for a bio written in Markdown."""
    html = _markdown.render(text or "")
    # Headings in a bio start at h3: the page has its own h1 and h2.
    for level in ("1", "2"):
        html = html.replace(f"<h{level}>", "<h3>").replace(f"</h{level}>", "</h3>")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )

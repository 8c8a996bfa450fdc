"""What a person wrote in a mail: HTML made text, quoted history and signatures cut off.

Pure text rules (no Flask, no database), so every mail client's habit has a unit test:
Outlook ("-----Original Message-----", a "From:/Sent:" block, an underscore rule), Gmail,
Apple Mail and Thunderbird ("On … wrote:", in English, German and French), `-- `
signatures and "Sent from my iPhone" lines.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Attribution lines that introduce the quoted history, as clients write them.
_ATTRIBUTION = (
    re.compile(r"^\s*On\b.{0,300}\bwrote\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,300}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Le\b.{0,300}\ba\s+écrit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*[^\s@]+@[^\s@]+\s+(?:wrote|schrieb|a écrit)\s*:\s*$", re.IGNORECASE),
)
# An attribution line is short; longer lines are never one, and are not run through the
# patterns at all (a line of thousands of "@" must not cost seconds).
_ATTRIBUTION_MAX = 600
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Forwarded message|Weitergeleitete Nachricht|Message transféré)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|Von|De)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|To|An|À|Subject|Betreff|Objet)\s*:",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^-- ?$")
_MOBILE = re.compile(
    r"^\s*(?:Sent from my \w+|Sent from (?:Mail|Outlook) for \w+|Get Outlook for \w+|"
    r"Von meinem \w+ gesendet|Gesendet von meinem \w+|Envoyé de mon \w+)\b.*$",
    re.IGNORECASE,
)


def _is_attribution(line: str) -> bool:
    if len(line) > _ATTRIBUTION_MAX:
        return False
    return any(pattern.match(line) for pattern in _ATTRIBUTION)


def _history_starts(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SEPARATOR.match(line) or _RULE.match(line) or _is_attribution(line):
        return True
    # A client that wraps the attribution: "On Mon, 16 Nov 2026 at 10:00, Anna <" / "…> wrote:"
    if index + 1 < len(lines) and _is_attribution(f"{line} {lines[index + 1]}"):
        return re.match(r"^\s*(?:On|Am|Le)\b", line, re.IGNORECASE) is not None
    if _HEADER_FROM.match(line):
        return any(_HEADER_NEXT.match(following) for following in lines[index + 1 : index + 4])
    return False


def _trim(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_reply(text: str) -> str:
    """The new part of a reply: cut at the quoted history, the signature or a mobile footer;
    interleaved `>` lines dropped. A reply written below the quote keeps its answer."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _SIGNATURE.match(line) or _MOBILE.match(line) or _history_starts(lines, index):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    answer = _trim(kept)
    if answer:
        return answer
    # Bottom-posted: the history comes first and the answer after it.
    after: list[str] = []
    for index, line in enumerate(lines):
        if _SIGNATURE.match(line) or _MOBILE.match(line):
            break
        quoted = line.lstrip().startswith(">")
        if quoted or _history_starts(lines, index) or _is_attribution(line):
            continue
        after.append(line)
    return _trim(after)


_BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "pre", "hr", "section", "article", "header", "footer",
}  # fmt: skip
_DROPPED_TAGS = {"script", "style", "head", "title", "template", "noscript", "blockquote"}
_VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"}
# Where mail clients start the quoted history of an HTML reply: all that follows is history.
_QUOTE_MARKERS = ("gmail_quote", "moz-cite-prefix", "divRplyFwdMsg", "appendonsend", "yahoo_quoted")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping: list[str] = []  # the open tags whose content is dropped
        self._history = False  # the quoted history began: nothing after it is kept

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._history:
            return
        if self._dropping:
            if tag not in _VOID_TAGS:
                self._dropping.append(tag)
            return
        marks = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
        cited = tag == "blockquote" and ("type", "cite") in attrs
        if cited or any(marker in marks for marker in _QUOTE_MARKERS):
            self._history = True
            return
        if tag in _DROPPED_TAGS:
            if tag not in _VOID_TAGS:
                self._dropping.append(tag)
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if self._history:
            return
        if self._dropping:
            if tag in self._dropping:
                while self._dropping and self._dropping.pop() != tag:
                    pass
            return
        if tag in _BLOCK_TAGS and tag not in ("li", "tr"):  # the next item starts a line
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping and not self._history:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: scripts, styles and quoted history dropped, blocks on
    their own lines, entities decoded. The result is plain text, never markup to render."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

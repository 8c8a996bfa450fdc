"""What a person wrote: quoted history, signatures and mobile footers cut; HTML made text."""

from __future__ import annotations

import pytest

from tracker.domain.mail_text import html_to_text, strip_reply


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Fine.\n\n-----Original Message-----\nFrom: x\n", "Fine."),
        ("Gut.\n\n-----Ursprüngliche Nachricht-----\nVon: x\n", "Gut."),
        ("Bien.\n\n-----Message d'origine-----\nDe : x\n", "Bien."),
        ("Fine.\n\nFrom: Trustomer <t@x.example>\nSent: Monday\nTo: me\n\nold", "Fine."),
        ("Gut.\n\nVon: Trustomer\nGesendet: Montag\nAn: ich\n\nalt", "Gut."),
        ("Fine.\n________________________________\nFrom: a\n", "Fine."),
        ("Yes.\n\nOn Mon, 16 Nov 2026 at 10:00, Anna <a@x.example> wrote:\n> q", "Yes."),
        ("Yes.\n\nOn Mon, 16 Nov 2026 at 10:00, Anna <\na@x.example> wrote:\n\n> q", "Yes."),
        ("Ja.\n\nAm 16.11.26 um 10:00 schrieb Anna:\n> q", "Ja."),
        ("Oui.\n\nLe lun. 16 nov. 2026 à 10:00, Anna a écrit :\n> q", "Oui."),
        ("Yes.\n\n-- \nAnna\nAcme", "Yes."),
        ("Yes.\n\nSent from my iPhone\n\n> On 16 Nov wrote:", "Yes."),
        ("Ja.\n\nVon meinem iPhone gesendet", "Ja."),
        ("Oui.\n\nEnvoyé de mon iPad", "Oui."),
        ("Yes.\n\nGet Outlook for Android", "Yes."),
        ("> the question\nthe answer\n> second\nsecond answer", "the answer\nsecond answer"),
        ("On Mon, Anna wrote:\n> the question\n\nThe answer below.", "The answer below."),
        ("Line one\r\nLine two\r\n", "Line one\nLine two"),
    ],
)
def test_strip_reply_keeps_only_what_was_written(text, answer) -> None:
    assert strip_reply(text) == answer


def test_a_from_line_in_the_body_is_kept_when_no_header_block_follows() -> None:
    text = "From: our warehouse the pallets left on Friday.\nThanks"
    assert strip_reply(text) == text


def test_html_to_text_drops_scripts_styles_and_history_and_decodes_entities() -> None:
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<script>evil()</script><p>One &amp; two</p><p>&lt;b&gt; stays text</p>"
        "<div>line<br>break</div><ul><li>a</li><li>b</li></ul>"
        '<div class="gmail_quote">On Mon, x wrote:<blockquote>old</blockquote></div>'
        "<p>after the quote</p></body></html>"
    )
    assert html_to_text(html) == "One & two\n\n<b> stays text\n\nline\nbreak\n\n- a\n- b"


def test_html_cite_blockquote_ends_the_new_text_and_plain_blockquotes_are_dropped() -> None:
    assert html_to_text("<p>new</p><blockquote>aside</blockquote><p>more</p>") == "new\n\nmore"
    assert html_to_text('<p>new</p><blockquote type="cite">old</blockquote><p>x</p>') == "new"


def test_a_line_of_thousands_of_at_signs_costs_no_time() -> None:
    """The attribution patterns are linear and skip long lines: a hostile body cannot stall
    the poller (it holds the mailbox's job lock)."""
    import time

    started = time.perf_counter()
    strip_reply("@" * 1_000_000 + "\n" + ("x@" * 50_000 + "\n") * 20)
    assert time.perf_counter() - started < 2.0

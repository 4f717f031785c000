"""Texts cut to what a phone shows as one message (core.sms.segments)."""

from __future__ import annotations

import pytest

from core.sms.segments import (
    MAX_SEGMENTS,
    Encoding,
    compose,
    encoding_of,
    plain_text,
    segments,
)


def test_plain_english_is_gsm7_and_fits_one_segment_up_to_160() -> None:
    assert encoding_of("Hello, your case was approved.") is Encoding.GSM7
    assert len(segments("a" * 160)) == 1
    parts = segments("a" * 161)
    assert [len(p) for p in parts] == [153, 8]


def test_extension_characters_count_twice_and_are_never_split() -> None:
    assert encoding_of("price {5} €") is Encoding.GSM7
    assert len(segments("€" * 80)) == 1  # 160 septets
    parts = segments("a" + "€" * 80)  # 161 septets: two parts, no € cut in half
    assert all(sum(2 if c == "€" else 1 for c in p) <= 153 for p in parts)
    assert "".join(parts) == "a" + "€" * 80


def test_a_character_outside_gsm7_makes_it_ucs2() -> None:
    assert encoding_of("Mise à jour: éè ñ ü") is Encoding.GSM7  # all in the GSM-7 table
    assert encoding_of("Actualización") is Encoding.UCS2  # ó is not
    assert encoding_of("您的案件") is Encoding.UCS2
    assert len(segments("ж" * 70)) == 1
    assert [len(p) for p in segments("ж" * 71)] == [67, 4]


def test_ucs2_counts_utf16_units_and_keeps_surrogate_pairs_whole() -> None:
    text = "😀" * 35  # 70 units
    assert len(segments(text)) == 1
    parts = segments("a" + text)  # 71 units
    assert "".join(parts) == "a" + text
    assert all(len(p.encode("utf-16-le")) // 2 <= 67 for p in parts)


def test_plain_text_swaps_typographic_punctuation_and_drops_blank_lines() -> None:
    text = "It\u2019s \u201cdone\u201d \u2014 see\u2026\n\n\nNext\u00a0step\u200f"
    assert plain_text(text) == 'It\'s "done" - see...\nNext step'


@pytest.mark.parametrize(
    ("body", "encoding"),
    [("Your case moved. " * 60, Encoding.GSM7), ("Ваше дело обновлено. " * 40, Encoding.UCS2)],
)
def test_a_long_text_is_cut_at_a_word_to_three_segments_and_keeps_the_footer(
    body: str, encoding: Encoding
) -> None:
    footer = "Reply STOP to stop." if encoding is Encoding.GSM7 else "Ответьте STOP."
    text = compose(body, footer)
    assert encoding_of(text) is encoding
    assert len(segments(text)) == MAX_SEGMENTS
    assert text.endswith("...\n" + footer)
    kept = text.removesuffix("...\n" + footer)
    assert body.startswith(kept)
    assert not kept.endswith(" ")
    assert body[len(kept)] == " "  # cut between words, not inside one


def test_a_short_text_is_left_whole_with_the_footer_after_it() -> None:
    assert compose("Case approved.\n\n", "Reply STOP to stop.") == (
        "Case approved.\nReply STOP to stop."
    )


def test_one_character_outside_gsm7_in_the_part_cut_away_does_not_cost_the_encoding() -> None:
    body = "a " * 300 + "ó"
    text = compose(body, "Reply STOP to stop.")
    assert encoding_of(text) is Encoding.GSM7
    assert len(segments(text)) == MAX_SEGMENTS


@pytest.mark.parametrize("locale", ["en", "es", "fr", "pt", "ht", "tl"])
def test_how_to_stop_stays_gsm7_in_the_languages_written_in_latin_letters(locale: str) -> None:
    from bot.notify.notifications import SMS_FOOTER
    from bot.wording.i18n import translator

    footer = translator(locale)._(SMS_FOOTER)
    assert "STOP" in footer
    assert encoding_of(footer) is Encoding.GSM7

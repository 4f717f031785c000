"""Breaking terminal lines between words (``bot.channels.terminal_text``)."""

from __future__ import annotations

from bot.channels.terminal_text import display_width, wrap


def test_breaks_at_spaces_and_indents_a_numbered_item_under_its_text() -> None:
    assert wrap("  1. Password and sign-in help", 20) == "  1. Password and\n     sign-in help"


def test_a_word_longer_than_the_line_stays_whole_on_its_own_line() -> None:
    url = "https://www.uscis.gov/contact-center"
    assert wrap(f"Call or see {url} today", 16).split("\n") == ["Call or see", url, "today"]


def test_cjk_breaks_between_characters_but_never_before_closing_punctuation() -> None:
    lines = wrap("您好，我可以帮您查询案件状态。", 10).split("\n")
    assert "".join(lines) == "您好，我可以帮您查询案件状态。"
    assert all(display_width(line) <= 10 for line in lines)
    assert not any(line.startswith(("，", "。")) for line in lines)


def test_combining_marks_take_no_column_and_none_means_unbroken() -> None:
    assert display_width("é") == 1  # e and a combining acute accent
    assert wrap("a b c " * 50, None) == "a b c " * 50

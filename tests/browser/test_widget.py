"""The embeddable chat widget in a real browser against a real ``casebot serve``.

Each test is a person at the demo page: clicking, typing, reloading. Screenshots of the states
worth seeing are written to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.channels.web.widget_labels import WIDGET_LABELS
from bot.wording.i18n import translator
from core.accounts.otp import totp
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET

try:
    from playwright.sync_api import expect

    from tests.browser.widget_page import Widget
except ImportError:  # the browser fixture skips (on CI: fails) and says why
    pass

PHONE = {"width": 360, "height": 740}


def widget(page: Any) -> Widget:
    return Widget(page)


def sign_in(chat: Any) -> None:
    """From the email question: email, password, then a current authenticator code."""
    chat.type(DEMO_EMAIL)
    chat.expect_last("password")
    assert chat.input.get_attribute("type") == "password"
    chat.type(DEMO_PASSWORD)
    chat.expect_last("code")
    chat.type(totp(DEMO_TOTP_SECRET, datetime.now(UTC)))
    chat.expect_last("You are signed in")


def test_looks_up_a_case_status_by_clicking_and_typing(
    page: Any, server: str, artifacts: Path
) -> None:
    page.goto(server + "/")
    chat = widget(page)
    expect(chat.panel).to_be_hidden()
    chat.open()
    chat.expect_last("What would you like to do?")
    chat.press("Check a case status")
    chat.expect_last("receipt number")
    chat.type("WAC2212345678")
    chat.expect_last("Case Was Approved")
    expect(chat.user_messages().last).to_contain_text("WAC2212345678")
    assert chat.log.get_attribute("aria-live") == "polite"
    chat.shot(artifacts, "case-status")


def test_books_an_appointment_and_offers_the_calendar_file(
    page: Any, server: str, artifacts: Path
) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Appointments")
    sign_in(chat)
    chat.press("Book an appointment")
    chat.press("Biometrics (fingerprints and photo)")
    chat.press("IOE0912345679")
    chat.expect_last("Which office")
    chat.press(chat.button_labels()[0])
    chat.expect_last("Which day")
    chat.press(chat.button_labels()[0])
    chat.expect_last("Free times")
    chat.press(chat.button_labels()[0])
    chat.expect_last("Please check your appointment")
    chat.press("Confirm")
    chat.expect_last("Your appointment is booked.")
    booked = chat.bot_messages().filter(has_text="Your appointment is booked.").last
    found = re.search(r"Confirmation code: (\S+)", booked.inner_text())
    assert found is not None
    code = found.group(1)
    link = booked.locator("a[download]")
    expect(link).to_have_attribute("download", f"appointment-{code}.ics")
    chat.shot(artifacts, "booking-confirmed")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    calendar = Path(download.path()).read_text()
    assert "BEGIN:VCALENDAR" in calendar
    assert code in calendar


def test_a_reload_replays_the_conversation(page: Any, server: str, artifacts: Path) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Check a case status")
    chat.type("LIN2390001234")
    chat.expect_last("Request for Evidence Was Sent")
    shown = chat.bot_messages().count()

    page.reload()
    chat = widget(page)
    chat.open()
    expect(chat.bot_messages()).to_have_count(shown)
    expect(chat.user_messages().last).to_contain_text("LIN2390001234")
    chat.expect_last("Request for Evidence Was Sent")
    # The conversation goes on where it was: the quick replies of the last message are back.
    assert "Check another case" in chat.button_labels()
    chat.shot(artifacts, "reload-resumed")


def test_a_dropped_connection_reconnects_and_catches_up(page: Any, server: str) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    page.evaluate("window.casebotWidget._dropSocket()")
    chat.press("Check a case status")
    chat.type("MSC2091234567")
    chat.expect_last("Card Was Mailed To Me")


def test_a_secret_step_masks_the_input_and_the_transcript(
    page: Any, server: str, artifacts: Path
) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Sign in")
    chat.type(DEMO_EMAIL)
    expect(chat.input).to_have_attribute("type", "password")
    chat.input.fill(DEMO_PASSWORD)
    chat.shot(artifacts, "secret-input")
    chat.send_typed()
    chat.expect_last("code")
    expect(chat.user_messages().last.locator(".text")).to_have_text("••••••")
    assert DEMO_PASSWORD not in _widget_dom(page)
    page.reload()
    chat = widget(page)
    chat.open()
    # Still the code step: a one-time code, not masked (it is read off a phone).
    expect(chat.input).to_have_attribute("autocomplete", "one-time-code")
    assert DEMO_PASSWORD not in _widget_dom(page)


def _widget_dom(page: Any) -> str:
    """The widget's markup (its shadow tree) and its fields' current values (the demo page
    around it prints the demo password on purpose)."""
    return str(
        page.evaluate(
            """() => {
              const host = document.getElementById('casebot-widget');
              const root = host.shadowRoot;
              const values = [...root.querySelectorAll('input')].map(i => i.value).join('\\n');
              return root.innerHTML + values;
            }"""
        )
    )


def test_arabic_lays_the_panel_out_right_to_left(page: Any, server: str, artifacts: Path) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    expect(chat.panel).to_have_attribute("dir", "ltr")
    before = chat.bot_messages().count()
    chat.language.select_option("ar")
    # The engine shows the menu again in Arabic; the person said nothing, so no bubble.
    ar = translator("ar")  # the widget's labels come from the catalog, as served
    expect(chat.bot_messages()).not_to_have_count(before)
    chat.settle()
    expect(chat.user_messages()).to_have_count(0)
    assert ar._("Check a case status") in chat.button_labels()
    assert "expired" not in " ".join(chat.bot_messages().all_inner_texts())
    expect(chat.panel).to_have_attribute("dir", "rtl")
    expect(chat.panel).to_have_attribute("lang", "ar")
    expect(page.get_by_role("button", name=ar._("Close chat"))).to_be_visible()
    box = chat.panel.bounding_box()
    close = page.locator("#casebot-widget .close").bounding_box()
    assert close["x"] < box["x"] + box["width"] / 2  # the close button sits on the left
    chat.shot(artifacts, "arabic-rtl")


def test_the_embed_attribute_chooses_the_language(page: Any, server: str, artifacts: Path) -> None:
    # A host page of its own that embeds the widget with the documented single tag.
    html = f'<!doctype html><title>embed</title><script src="{server}/widget.js" defer '
    html += 'data-casebot-locale="ar"></script><p>host page</p>'
    page.route(
        server + "/embed-test",
        lambda route: route.fulfill(body=html, content_type="text/html"),
    )
    page.goto(server + "/embed-test")
    chat = widget(page)
    expect(chat.panel).to_have_attribute("dir", "rtl")
    chat.open()
    expect(chat.launcher).to_have_attribute("aria-expanded", "true")


def test_works_full_screen_on_a_360_px_phone(page: Any, server: str, artifacts: Path) -> None:
    page.set_viewport_size(PHONE)
    page.goto(server + "/")
    chat = widget(page)
    chat.shot(artifacts, "phone-closed")
    chat.open()
    box = chat.panel.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 360, 740)
    chat.press("Check a case status")
    chat.type("WAC2212345678")
    chat.expect_last("Case Was Approved")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing sticks out sideways
    expect(chat.input).to_be_in_viewport()
    chat.shot(artifacts, "phone-open")


def test_keyboard_only_opens_sends_and_escape_returns_to_the_launcher(
    page: Any, server: str
) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.launcher.focus()
    page.keyboard.press("Enter")
    expect(chat.input).to_be_focused()
    chat.settle()
    page.keyboard.type("WAC2212345678")
    page.keyboard.press("Enter")
    chat.settle()
    chat.expect_last("Case Was Approved")
    page.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()
    expect(chat.launcher).to_be_focused()
    for control in ("#casebot-lang", "#casebot-input", "#casebot-widget .close"):
        label = page.locator(control).evaluate(
            "el => el.labels && el.labels.length ? el.labels[0].textContent"
            " : el.getAttribute('aria-label')"
        )
        assert label


def test_the_language_picker_switches_the_widgets_own_labels_at_once(
    page: Any, server: str
) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.settle()
    send = page.locator("#casebot-widget .send")
    expect(send).to_have_text("Send")
    for locale in ("es", "zh", "ru"):
        t = translator(locale)
        chat.language.select_option(locale)
        # The labels change before the conversation's answer comes back.
        expect(send).to_have_text(t._("Send"))
        expect(page.locator("#casebot-widget .close")).to_have_attribute("title", t._("Close chat"))
        # "Language" is also the menu's button, so every catalog words it already.
        assert t._("Language") != "Language"
        expect(chat.language).to_have_attribute("title", t._("Language"))
        expect(chat.panel).to_have_attribute("lang", locale)
        chat.settle()


def test_too_many_messages_are_refused_in_the_persons_language(page: Any, server: str) -> None:
    # The server allows a session 30 messages a minute (windows aligned on the minute: a run
    # that crosses one may need up to 60); the one after is refused with a 429, and the widget
    # says to wait, in the chosen language, instead of "try again".
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.language.select_option("es")
    chat.settle()
    status = page.locator("#casebot-widget .status")
    limited = translator("es")._(WIDGET_LABELS["limited"])
    assert limited != WIDGET_LABELS["limited"]
    sent = 0
    while sent < 70 and not status.inner_text():
        sent += 1
        chat.input.fill("menu")
        chat.input.press("Enter")
        chat.settle()
    expect(status).to_have_text(limited)
    assert sent > 20, f"refused after {sent} messages: not the session's rate limit"
    expect(chat.user_messages().last).to_contain_text("menu")  # what was typed stays shown

"""The widget kind to a newcomer, in a real browser against a real ``casebot serve``: a message
that did not go says so and can be sent again (once), a reload keeps the phone's full-screen
chat open, the language changes without a bubble, code fields are not masked, phone-sized
controls, Contact Center numbers to tap. Screenshots of these states at 360 px in English,
Spanish and Arabic go to ``test-artifacts/calm-360/``."""

from __future__ import annotations

import contextlib
import json
import mailbox
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.web.widget_labels import WIDGET_LABELS
from bot.wording.i18n import translator
from core.demo import DEMO_EMAIL, DEMO_PASSWORD
from tests.browser.conftest import REPO
from tests.browser.test_widget import PHONE, widget
from tests.conftest import ON_CI
from tests.serve_support import serving

with contextlib.suppress(ImportError):  # the browser fixture skips (on CI: fails) and says why
    from playwright.sync_api import expect

MESSAGES = "**/api/chat/sessions/*/messages"


def label(locale: str, key: str) -> str:
    return translator(locale)._(WIDGET_LABELS[key])


@pytest.fixture(scope="session")
def shots(artifacts: Path) -> Path:
    folder = artifacts / "calm-360"
    folder.mkdir(exist_ok=True)
    return folder


def test_a_message_sent_while_the_server_is_down_is_kept_with_retry(page: Any, server: str) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Check a case status")
    buttons = chat.button_labels()
    assert buttons
    keys: list[str | None] = []

    def down(route: Any) -> None:
        if route.request.method == "POST":
            keys.append(route.request.headers.get("idempotency-key"))
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route(MESSAGES, down)
    chat.input.fill("WAC2212345678")
    chat.input.press("Enter")
    chat.settle()
    failed = page.locator("#casebot-widget .msg.user.failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("WAC2212345678")  # the text is kept
    expect(failed).to_contain_text(label("en", "not_sent"))
    assert chat.button_labels() == buttons  # the buttons are back
    retry = failed.get_by_role("button", name=label("en", "retry"))
    retry.click()  # still down: still failed, the same message
    chat.settle()
    expect(failed).to_have_count(1)

    page.unroute(MESSAGES)
    seen: list[str | None] = []
    page.on(
        "request",
        lambda r: seen.append(r.headers.get("idempotency-key")) if r.method == "POST" else None,
    )
    before = chat.bot_messages().count()
    failed.get_by_role("button", name=label("en", "retry")).click()
    expect(chat.bot_messages()).not_to_have_count(before)
    chat.settle()
    chat.turn_start = before
    chat.expect_last("Case Was Approved")
    expect(page.locator("#casebot-widget .msg.user.failed")).to_have_count(0)
    expect(chat.user_messages().filter(has_text="WAC2212345678")).to_have_count(1)
    # Every try of the message carried one key of its own.
    assert len(keys) == 2
    assert keys[0]
    assert keys[0] == keys[1]
    assert seen[-1] == keys[0]


def test_a_retry_of_an_answer_that_was_lost_runs_the_turn_once(page: Any, server: str) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Check a case status")
    page.evaluate("window.casebotWidget._dropSocket()")  # the answer can only come by the POST
    lost: list[int] = []

    def lose_the_answer(route: Any) -> None:
        if route.request.method == "POST" and not lost:
            route.fetch()  # the server runs the turn...
            lost.append(1)
            route.abort("connectionreset")  # ...and the answer never arrives
        else:
            route.continue_()

    page.route(MESSAGES, lose_the_answer)
    chat.input.fill("LIN2390001234")
    chat.input.press("Enter")
    chat.settle()
    failed = page.locator("#casebot-widget .msg.user.failed")
    expect(failed).to_have_count(1)
    failed.get_by_role("button", name=label("en", "retry")).click()
    chat.settle()
    expect(chat.last_bot()).to_contain_text("Request for Evidence Was Sent")
    # The server kept one turn: a reload replays one message and one answer.
    page.reload()
    chat = widget(page)
    expect(chat.panel).to_be_visible()
    expect(chat.user_messages().filter(has_text="LIN2390001234")).to_have_count(1)
    expect(chat.bot_messages().filter(has_text="Request for Evidence Was Sent")).to_have_count(1)


def test_an_answer_lost_on_the_way_but_sent_on_the_socket_is_not_marked_unsent(
    page: Any, server: str
) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Check a case status")
    lost: list[int] = []

    def lose_the_answer(route: Any) -> None:
        if route.request.method == "POST" and not lost:
            route.fetch()  # the turn runs and its messages go out on the socket...
            lost.append(1)
            route.abort("connectionreset")  # ...but the answer to the request is lost
        else:
            route.continue_()

    page.route(MESSAGES, lose_the_answer)
    chat.input.fill("MSC2091234567")
    chat.input.press("Enter")
    expect(chat.last_bot()).to_contain_text("Card Was Mailed To Me")
    chat.settle()
    assert lost
    expect(page.locator("#casebot-widget .msg.user.failed")).to_have_count(0)
    expect(chat.user_messages().filter(has_text="MSC2091234567")).to_have_count(1)
    assert "Check another case" in chat.button_labels()


def test_a_reload_on_a_phone_keeps_the_chat_open_and_shows_no_badge(page: Any, server: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Check a case status")
    page.reload()
    chat = widget(page)
    expect(chat.panel).to_be_visible()
    box = chat.panel.bounding_box()
    assert box is not None
    assert (box["width"], box["height"]) == (PHONE["width"], PHONE["height"])
    expect(chat.bot_messages().last).to_contain_text("receipt number")
    badge = page.locator("#casebot-widget .badge")
    page.locator("#casebot-widget .close").click()
    expect(chat.launcher).to_be_visible()
    expect(badge).to_be_hidden()  # nothing new came
    page.reload()
    chat = widget(page)
    expect(chat.launcher).to_be_visible()
    expect(chat.panel).to_be_hidden()  # closed it stays closed
    expect(badge).to_be_hidden()


def test_changing_the_language_in_the_header_adds_no_bubble(page: Any, server: str) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Check a case status")
    users = chat.user_messages().count()
    before = chat.bot_messages().count()
    english = chat.last_bot().locator(".text").inner_text()
    chat.language.select_option("es")
    expect(chat.bot_messages()).not_to_have_count(before)
    chat.settle()
    expect(chat.user_messages()).to_have_count(users)
    es = translator("es")
    spanish = chat.last_bot().locator(".text").inner_text()
    assert spanish != english  # the same step again, in Spanish
    assert es._("Back") in chat.button_labels()
    chat.language.select_option("ar")
    chat.settle()
    expect(chat.user_messages()).to_have_count(users)
    assert "language" not in " ".join(chat.user_messages().all_inner_texts())
    # The server kept no message of the person either: a reload replays none.
    bots = chat.bot_messages().count()
    page.reload()
    chat = widget(page)
    expect(chat.panel).to_be_visible()
    expect(chat.bot_messages()).to_have_count(bots)
    expect(chat.user_messages()).to_have_count(users)


def test_passwords_are_masked_with_a_toggle_and_codes_are_not(page: Any, server: str) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    expect(chat.input).to_have_attribute("placeholder", label("en", "type_message"))
    chat.press("Sign in")
    chat.type(DEMO_EMAIL)
    expect(chat.input).to_have_attribute("type", "password")
    reveal = page.get_by_role("button", name=label("en", "show"))
    expect(reveal).to_be_visible()
    chat.input.fill("typed")
    reveal.click()
    expect(chat.input).to_have_attribute("type", "text")
    hide = page.get_by_role("button", name=label("en", "hide"))
    expect(hide).to_have_attribute("aria-pressed", "true")
    hide.click()
    expect(chat.input).to_have_attribute("type", "password")
    chat.type(DEMO_PASSWORD)
    # The sign-in code: 6 digits or a backup code of letters: not masked, a one-time code.
    expect(chat.input).to_have_attribute("type", "text")
    expect(chat.input).to_have_attribute("autocomplete", "one-time-code")
    expect(chat.input).not_to_have_attribute("inputmode", "numeric")
    expect(page.locator("#casebot-widget .reveal")).to_be_hidden()
    expect(chat.input).to_have_attribute("placeholder", label("en", "type_code"))
    page.reload()
    chat = widget(page)
    expect(chat.input).to_have_attribute("type", "text")  # the same field after a reload
    expect(chat.input).to_have_attribute("autocomplete", "one-time-code")


def test_an_emailed_code_takes_digits(page: Any, server: str) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Password and sign-in help")
    chat.press("I forgot my password")
    chat.type(DEMO_EMAIL)
    chat.expect_last("6-digit code")
    expect(chat.input).to_have_attribute("type", "text")
    expect(chat.input).to_have_attribute("inputmode", "numeric")
    expect(chat.input).to_have_attribute("autocomplete", "one-time-code")
    chat.input.fill("123456")
    assert "123456" in chat.input.input_value()  # shown as typed, not as dots


@pytest.fixture
def mailing_server(browser: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A server of its own (a reset code spends the demo account's code budget) and the folder
    its mail goes to: the Maildir under its data folder, as no SMTP server is set."""
    with serving(tmp_path, None, "--demo") as served:
        yield served.base, tmp_path / "var" / "mail"


def mailed_code(folder: Path) -> str:
    """The 6-digit code of the first mail to arrive in the Maildir FOLDER."""
    deadline = time.monotonic() + 30  # the dispatcher sends it after the turn's commit
    while time.monotonic() < deadline:
        if (folder / "new").is_dir():
            for message in mailbox.Maildir(folder, create=False):
                for part in message.walk():
                    body = part.get_payload(decode=True)
                    if part.get_content_type() == "text/plain" and isinstance(body, bytes):
                        found = re.search(r"\b\d{6}\b", body.decode())
                        if found:
                            return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no code was mailed to {folder}")


def test_the_reset_questions_answer_is_shown_as_typed(
    page: Any, mailing_server: tuple[str, Path]
) -> None:
    base, mail = mailing_server
    page.goto(base + "/")
    chat = widget(page)
    chat.open()
    chat.press("Password and sign-in help")
    chat.press("I forgot my password")
    chat.type(DEMO_EMAIL)
    chat.type(mailed_code(mail))
    chat.expect_last("security question")
    # An answer to a question the person chose is not a password: shown as typed, no show
    # toggle, and not a one-time code a phone would offer to fill in.
    expect(chat.input).to_have_attribute("type", "text")
    expect(page.locator("#casebot-widget .reveal")).to_be_hidden()
    expect(chat.input).not_to_have_attribute("autocomplete", "one-time-code")
    expect(chat.input).not_to_have_attribute("inputmode", "numeric")
    expect(chat.input).to_have_attribute("placeholder", label("en", "type_answer"))
    chat.input.fill("maple")
    assert chat.input.input_value() == "maple"
    chat.send_typed()
    # What was typed is still never shown back: the bubble is masked.
    expect(chat.user_messages().last).not_to_contain_text("maple")


def test_a_phone_gets_large_targets_a_trapped_focus_times_and_a_placeholder(
    page: Any, server: str
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    size = chat.input.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 16  # iOS zooms into a smaller field
    for target in [
        *page.locator("#casebot-widget .replies button").all(),
        page.locator("#casebot-widget .close"),
        page.locator("#casebot-widget .send"),
    ]:
        box = target.bounding_box()
        assert box is not None
        assert box["height"] >= 44
        assert box["width"] >= 44
    times = page.locator("#casebot-widget .msg time")
    expect(times.first).to_be_visible()
    assert times.first.get_attribute("datetime")
    assert times.first.inner_text().strip()
    expect(chat.input).to_have_attribute("placeholder", label("en", "type_message"))
    # Tab and Shift+Tab go round inside the full-screen chat, never to the page behind.
    chat.input.focus()
    for key in ["Tab"] * 25 + ["Shift+Tab"] * 25:
        page.keyboard.press(key)
        inside = page.evaluate("document.activeElement && document.activeElement.id")
        assert inside == "casebot-widget", f"{key} left the chat"
    expect(chat.panel).to_have_attribute("aria-modal", "true")
    chat.language.select_option("es")
    chat.settle()
    expect(chat.input).to_have_attribute("placeholder", label("es", "type_message"))
    assert label("es", "type_message") != WIDGET_LABELS["type_message"]


def test_contact_center_numbers_are_links_to_call(page: Any, server: str) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Check a case status")
    for _ in range(3):
        chat.type("<b>not a receipt</b>")
    chat.expect_last("Contact Center")
    call = chat.bot_messages().locator('a[href="tel:+18003755283"]')
    expect(call.last).to_have_text("1-800-375-5283")
    expect(chat.bot_messages().locator('a[href="tel:+18007671833"]').last).to_be_visible()
    # The person's words stay words: no element was made of them.
    expect(chat.user_messages().last).to_contain_text("<b>not a receipt</b>")
    assert page.locator("#casebot-widget .msg b").count() == 0
    hrefs = page.locator("#casebot-widget .msg a").evaluate_all("as => as.map(a => a.href)")
    assert all(h.startswith(("tel:+1", "https:", server)) for h in hrefs), hrefs


def test_asking_for_a_person_gives_numbers_to_call(page: Any, server: str) -> None:
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    chat.type("I want to talk to a real person")
    said = chat.bot_messages().filter(has_text="Contact Center").last
    expect(said.locator('a[href="tel:+18003755283"]')).to_have_text("1-800-375-5283")
    expect(said.locator('a[href="tel:+18007671833"]')).to_be_visible()


@pytest.mark.parametrize("locale", ["en", "es", "ar"])
def test_screenshots_of_the_changed_states_at_360_px(
    page: Any, server: str, shots: Path, locale: str
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    if locale != "en":
        chat.language.select_option(locale)
        chat.settle()
    t = translator(locale)
    chat.shot(shots, f"{locale}-open")
    chat.press(t._("Check a case status"))
    for _ in range(3):
        chat.type("12")
    expect(chat.bot_messages().locator('a[href^="tel:"]').last).to_be_visible()
    chat.shot(shots, f"{locale}-contact-center")
    page.route(MESSAGES, lambda route: route.abort("connectionrefused"))
    chat.input.fill("WAC2212345678")
    chat.input.press("Enter")
    chat.settle()
    expect(page.locator("#casebot-widget .msg.user.failed")).to_have_count(1)
    chat.shot(shots, f"{locale}-not-sent")
    page.unroute(MESSAGES)
    page.locator("#casebot-widget .retry").click()
    chat.settle()
    chat.press(t._("Menu"))
    chat.press(t._("Sign in"))
    chat.type(DEMO_EMAIL)
    chat.input.fill("sunflower")
    chat.shot(shots, f"{locale}-password")
    page.locator("#casebot-widget .reveal").click()
    chat.shot(shots, f"{locale}-password-shown")
    chat.input.fill(DEMO_PASSWORD)
    chat.send_typed()
    chat.input.fill("123456")
    chat.shot(shots, f"{locale}-code")
    assert len(list(shots.glob(f"widget-{locale}-*.png"))) >= 6


def _axe_script() -> Path:
    """axe-core from the npm registry, installed by ``.ci/run`` (``make axe`` locally)."""
    default = REPO / ".tools/axe/node_modules/axe-core/axe.min.js"
    found = Path(os.environ.get("CASEBOT_TEST_AXE", str(default)))
    if not found.exists():
        if ON_CI:
            pytest.fail(f"axe-core is not at {found}; .ci/run installs it", pytrace=False)
        pytest.skip(f"axe-core is not at {found}: run `make axe`")
    return found


AXE_RUN = """async () => {
  const r = await axe.run(document.getElementById('casebot-widget'),
                          {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map(n => n.target)}));
}"""


@pytest.mark.parametrize("locale", ["en", "es", "ar"])
def test_axe_finds_no_serious_accessibility_problem(
    page: Any, server: str, artifacts: Path, locale: str
) -> None:
    """The changed states, each scanned: a message not sent with its Retry, the email step, and
    the password step with its show toggle pressed."""
    axe = _axe_script()
    page.set_viewport_size(PHONE)
    page.goto(server + "/")
    chat = widget(page)
    chat.open()
    if locale != "en":
        chat.language.select_option(locale)
        chat.settle()
    page.add_script_tag(path=str(axe))
    t = translator(locale)
    results: dict[str, Any] = {}
    chat.press(t._("Check a case status"))
    page.route(MESSAGES, lambda route: route.abort("connectionrefused"))
    chat.input.fill("WAC2212345678")
    chat.input.press("Enter")
    chat.settle()
    expect(page.locator("#casebot-widget .msg.user.failed .retry")).to_be_visible()
    results["not-sent"] = page.evaluate(AXE_RUN)
    page.unroute(MESSAGES)
    page.locator("#casebot-widget .retry").click()
    chat.settle()
    chat.press(t._("Menu"))
    chat.press(t._("Sign in"))
    results["email"] = page.evaluate(AXE_RUN)
    chat.type(DEMO_EMAIL)
    chat.input.fill("sunflower")
    page.locator("#casebot-widget .reveal").click()
    expect(page.locator("#casebot-widget .reveal")).to_have_attribute("aria-pressed", "true")
    results["password"] = page.evaluate(AXE_RUN)
    (artifacts / f"axe-widget-{locale}.json").write_text(json.dumps(results, indent=2))
    serious = {
        state: [v for v in found if v["impact"] in ("serious", "critical")]
        for state, found in results.items()
    }
    assert serious == {state: [] for state in results}, serious

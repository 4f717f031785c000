"""The widget with secrets shown once and with a sign-out, in a real browser against a real
``casebot serve`` of its own (these tests use up the demo account's backup code and replace
its authenticator key, which the other browser tests sign in with)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.demo import DEMO_BACKUP_CODE, DEMO_EMAIL, DEMO_PASSWORD
from tests.browser.test_widget import _widget_dom, widget
from tests.serve_support import serving

with contextlib.suppress(ImportError):  # the browser fixture skips (on CI: fails) and says why
    from playwright.sync_api import expect

BACKUP_CODE_RE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
PLACEHOLDER = "[hidden: shown only once]"


@pytest.fixture
def own_server(browser: Any, tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path, None, "--demo") as served:
        yield served.base


def new_codes(text: str) -> list[str]:
    return [c for c in BACKUP_CODE_RE.findall(text) if c != DEMO_BACKUP_CODE]


def test_a_new_backup_code_is_shown_then_hidden_after_a_reload(
    page: Any, own_server: str, artifacts: Path
) -> None:
    page.goto(own_server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Sign in")
    chat.type(DEMO_EMAIL)
    chat.type(DEMO_PASSWORD)
    chat.type(DEMO_BACKUP_CODE)
    chat.expect_last("You are signed in")
    (code,) = new_codes(_widget_dom(page))  # shown in the answer
    chat.shot(artifacts, "backup-code-shown")

    page.reload()
    chat = widget(page)
    chat.open()
    dom = _widget_dom(page)
    assert code not in dom
    assert PLACEHOLDER in dom
    chat.shot(artifacts, "backup-code-hidden")


def test_the_qr_code_shows_in_the_answer_and_not_after_a_reload(
    page: Any, own_server: str, artifacts: Path
) -> None:
    page.goto(own_server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Password and sign-in help")
    chat.press("I lost my phone / authenticator")
    chat.type(DEMO_EMAIL)
    chat.type(DEMO_PASSWORD)
    chat.press("Yes, set up a new app")
    chat.type(DEMO_BACKUP_CODE)
    chat.expect_last("scan this QR code")
    image = page.locator("#casebot-widget .msg.bot img").last
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")  # a real picture
    key = re.search(r"type this key:\s*([A-Z2-7 ]{16,})", _widget_dom(page))
    assert key is not None
    chat.shot(artifacts, "authenticator-shown")

    page.reload()
    chat = widget(page)
    chat.open()
    expect(page.locator("#casebot-widget .msg.bot img")).to_have_count(0)
    dom = _widget_dom(page)
    assert key.group(1).strip() not in dom
    assert PLACEHOLDER in dom
    # Still asking for the app's code: digits, not masked.
    expect(chat.input).to_have_attribute("inputmode", "numeric")


def test_after_sign_out_a_reload_shows_nothing_from_before(
    page: Any, own_server: str, artifacts: Path
) -> None:
    page.goto(own_server + "/")
    chat = widget(page)
    chat.open()
    chat.press("Sign in")
    chat.type(DEMO_EMAIL)
    chat.type(DEMO_PASSWORD)
    chat.type(DEMO_BACKUP_CODE)
    chat.expect_last("IOE0912345678")
    chat.press("Sign out")
    chat.expect_last("You are signed out")

    page.reload()
    chat = widget(page)
    chat.open()
    dom = _widget_dom(page)
    assert "IOE0912345678" not in dom
    assert "You are signed out" in dom
    chat.shot(artifacts, "signed-out-reloaded")
    chat.press("Check a case status")  # the conversation goes on
    chat.type("WAC2212345678")
    chat.expect_last("Case Was Approved")

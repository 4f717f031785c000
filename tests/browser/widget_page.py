"""Driving the chat widget as a person does: clicks, typing, Enter (Playwright, sync API).

Playwright's locators see into the widget's open shadow root, so plain CSS and role selectors
reach its controls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect


class Widget:
    """The widget on one page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.locator("#casebot-widget .launcher")
        self.panel = page.locator("#casebot-widget .panel")
        self.log = page.get_by_role("log")
        self.input = page.locator("#casebot-input")
        self.typing = page.locator("#casebot-widget .typing")
        self.language = page.locator("#casebot-lang")
        self.turn_start = 0

    def bot_messages(self) -> Locator:
        return self.page.locator("#casebot-widget .msg.bot")

    def user_messages(self) -> Locator:
        return self.page.locator("#casebot-widget .msg.user")

    def last_bot(self) -> Locator:
        return self.bot_messages().last

    def open(self) -> None:
        """Open the panel and wait for the greeting (or the replayed transcript); after a
        reload the panel is open already when it was open before."""
        if self.page.evaluate(
            "() => !document.querySelector('#casebot-widget')"
            " || document.querySelector('#casebot-widget').shadowRoot"
            ".querySelector('.panel').hidden"
        ):
            self.launcher.click()
        expect(self.panel).to_be_visible()
        expect(self.bot_messages().first).to_be_visible()
        self.settle()

    def settle(self) -> None:
        expect(self.typing).to_be_hidden()

    def _after_turn(self, before: int) -> None:
        expect(self.bot_messages()).not_to_have_count(before)
        self.settle()
        self.turn_start = before

    def press(self, label: str) -> None:
        """Press the quick-reply button with exactly this label."""
        before = self.bot_messages().count()
        replies = self.page.locator("#casebot-widget .replies")
        replies.get_by_role("button", name=label, exact=True).click()
        self._after_turn(before)

    def type(self, text: str) -> None:
        """Type a message and send it with Enter."""
        self.input.fill(text)
        self.send_typed()

    def send_typed(self) -> None:
        """Press Enter in the message field and wait for the answer."""
        before = self.bot_messages().count()
        self.input.press("Enter")
        self._after_turn(before)

    def expect_last(self, text: str) -> None:
        """Some message of the last turn (a turn may bring several) says this."""
        self.settle()
        said = self.bot_messages().all_inner_texts()[self.turn_start :]
        assert any(text in message for message in said), f"{text!r} not in {said!r}"

    def button_labels(self) -> list[str]:
        labels: Any = self.page.locator("#casebot-widget .replies button").all_inner_texts()
        return [str(label) for label in labels]

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / f"widget-{name}.png"))

"""The web widget during a handoff, in a real browser against a real ``casebot serve``: a person
asks for a person (the menu's choice, or in words), sees their place in the line, is told when
an agent (through the console API) takes the chat, reads the agent's messages as they come,
answers, and ends the chat to be back with the assistant. What an agent writes is text in the
widget, never markup."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.staff_support import ALWAYS_OPEN, ApiAgent
from tests.serve_support import Served, serving

# Without playwright the browser fixture skips (on CI: fails) and says why.
with contextlib.suppress(ImportError):
    from playwright.sync_api import Page, expect

    from tests.browser.widget_page import Widget


@pytest.fixture(scope="module")
def handoff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    """``casebot serve --demo`` whose agents' hours never close (the tests do not depend on
    when they run)."""
    folder = tmp_path_factory.mktemp("handoff-serve")
    with serving(folder, {"CASEBOT_AGENT_HOURS": ALWAYS_OPEN}, "--demo") as served:
        yield served, folder


@pytest.fixture(scope="module")
def agent(handoff_server: tuple[Served, Path]) -> ApiAgent:
    """Ana, signed in to the console and available for English and Spanish."""
    served, folder = handoff_server
    ana = ApiAgent(served.base, folder, "ana@agency.example", "Ana")
    assert ana.post("/api/console/me/availability", {"available": True})["available"] is True
    return ana


def said_by_bot(page: Page, text: str) -> Any:
    """The widget's bot messages that contain ``text`` (pushed ones too)."""
    return page.locator("#casebot-widget .msg.bot", has_text=text)


def write(chat: Widget, text: str) -> None:
    """Type a message to the agent and send it: no answer comes from the assistant."""
    chat.input.fill(text)
    chat.input.press("Enter")
    expect(chat.user_messages().last).to_contain_text(text)
    chat.settle()


def test_a_person_is_put_through_chats_with_the_agent_and_is_back_with_the_bot(
    page: Page, handoff_server: tuple[Served, Path], agent: ApiAgent, artifacts: Path
) -> None:
    served, _folder = handoff_server
    page.goto(served.base + "/")
    chat = Widget(page)
    chat.open()
    chat.press("Talk to a person")
    chat.expect_last("You are number 1 in the line for a person.")
    chat.shot(artifacts, "handoff-waiting")

    conversation = agent.newest_waiting()
    path = f"/api/console/conversations/{conversation}"
    agent.post(path + "/claim")
    expect(said_by_bot(page, "You are now chatting with Ana.")).to_be_visible()

    agent.post(path + "/messages", {"text": "Hello, I am Ana. How can I help?"}, status=201)
    expect(said_by_bot(page, "Ana: Hello, I am Ana. How can I help?")).to_be_visible()

    write(chat, "Where is my green card?")
    assert agent.receives(conversation, "Where is my green card?")
    chat.shot(artifacts, "handoff-chatting")

    chat.type("end chat")
    chat.expect_last("The chat with Ana has ended. You are back with the assistant.")
    assert agent.get(path)["status"] == "closed"
    chat.press("Check a case status")  # the assistant answers again
    chat.expect_last("receipt number")
    chat.type("WAC2212345678")
    chat.expect_last("Case Was Approved")


def test_an_agents_markup_shows_as_text(
    page: Page, handoff_server: tuple[Served, Path], agent: ApiAgent
) -> None:
    served, _folder = handoff_server
    page.goto(served.base + "/")
    chat = Widget(page)
    chat.open()
    chat.type("I want to talk to a real person")
    chat.expect_last("in the line for a person")
    conversation = agent.newest_waiting()
    path = f"/api/console/conversations/{conversation}"
    agent.post(path + "/claim")
    expect(said_by_bot(page, "You are now chatting with Ana.")).to_be_visible()

    hostile = '<img src=x onerror="window.pwned=1"> Was your card mailed?'
    agent.post(path + "/messages", {"text": hostile}, status=201)
    shown = said_by_bot(page, "Was your card mailed?")
    expect(shown).to_contain_text("Ana: " + hostile)  # the markup as written, as text
    assert shown.locator("img").count() == 0
    assert page.locator("#casebot-widget .msg img").count() == 0
    assert page.evaluate("window.pwned") is None

    chat.type("end chat")
    chat.expect_last("You are back with the assistant.")


def quick_replies(page: Page) -> Any:
    """The widget's quick-reply buttons (those of the newest message)."""
    return page.locator("#casebot-widget .replies button")


def test_a_waiting_person_can_leave_the_line_with_a_button_after_using_the_assistant(
    page: Page, handoff_server: tuple[Served, Path], agent: ApiAgent
) -> None:
    served, _folder = handoff_server
    page.goto(served.base + "/")
    chat = Widget(page)
    chat.open()
    chat.press("Talk to a person")
    chat.expect_last("You are number 1 in the line for a person.")
    expect(quick_replies(page).last).to_have_text("Leave the line")
    conversation = agent.newest_waiting()

    chat.press("Check a case status")  # the assistant answers while the person waits
    chat.type("WAC2212345678")
    chat.expect_last("Case Was Approved")
    expect(quick_replies(page).last).to_have_text("Leave the line")
    assert agent.newest_waiting() == conversation  # the place in the line is kept

    chat.press("Leave the line")
    chat.expect_last("You left the line. You are back with the assistant.")
    assert conversation not in [
        w["conversation_id"] for w in agent.get("/api/console/queue")["waiting"]
    ]
    expect(quick_replies(page).filter(has_text="Leave the line")).to_have_count(0)


def test_the_end_chat_button_stays_while_chatting_with_an_agent(
    page: Page, handoff_server: tuple[Served, Path], agent: ApiAgent
) -> None:
    served, _folder = handoff_server
    page.goto(served.base + "/")
    chat = Widget(page)
    chat.open()
    chat.press("Talk to a person")
    chat.expect_last("in the line for a person")
    conversation = agent.newest_waiting()
    path = f"/api/console/conversations/{conversation}"
    agent.post(path + "/claim")
    expect(said_by_bot(page, "You are now chatting with Ana.")).to_be_visible()
    expect(quick_replies(page)).to_have_text(["End chat"])

    write(chat, "My card never came")  # to the agent: no answer from the assistant
    assert agent.receives(conversation, "My card never came")
    expect(quick_replies(page)).to_have_text(["End chat"])

    chat.type("Sunflower-42!")  # withheld, with a reminder
    chat.expect_last("it was not sent")
    expect(quick_replies(page)).to_have_text(["End chat"])

    page.reload()  # the transcript replayed: the way out is still there
    chat.open()
    expect(said_by_bot(page, "You are now chatting with Ana.")).to_be_visible()
    expect(quick_replies(page)).to_have_text(["End chat"])

    chat.press("End chat")
    chat.expect_last("The chat with Ana has ended. You are back with the assistant.")
    assert agent.get(path)["status"] == "closed"

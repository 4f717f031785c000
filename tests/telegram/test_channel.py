"""What the Telegram adapter promises beyond the flows: duplicates, the webhook's secret, secret
messages, callbacks and keyboards, typing, splitting, photos, command menus, logs, limits."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.channels.telegram.channel import api_urls, to_incoming
from bot.channels.telegram.limiter import CasebotRateLimiter, counts_as_message
from bot.channels.telegram.redaction import REDACTED
from bot.channels.telegram.render import fewer_messages, keyboard, split_text
from bot.channels.telegram.webhook import (
    SECRET_HEADER,
    webhook_path,
    webhook_secret,
)
from bot.dialogs.model import Attachment, Button, Reply
from bot.engine import Engine
from bot.wording.i18n import LOCALES, translator
from core.accounts.otp import totp
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.fakes import FakeClock
from tests.telegram.conftest import CHAT, TOKEN, WEBHOOK_PATH, Harness, running
from tests.telegram.fake_bot_api import FakeBotApi


async def test_an_update_delivered_twice_is_handled_once(bot: Harness) -> None:
    update = bot.api.message(CHAT, "hi")
    calls = await bot.deliver(update, update)
    assert len([c for c in calls if c.method == "sendMessage"]) == 1


async def test_the_webhook_refuses_a_wrong_or_missing_secret(webhook: Harness) -> None:
    assert webhook.client is not None
    update = webhook.api.message(CHAT, "hi")
    for headers in ({SECRET_HEADER: "guess"}, {}):
        response = await webhook.client.post(WEBHOOK_PATH, json=update, headers=headers)
        assert response.status == 403
    await asyncio.sleep(0.2)
    assert webhook.api.calls_of("sendMessage") == []


async def test_the_webhook_answers_400_to_what_is_no_update(webhook: Harness) -> None:
    assert webhook.client is not None
    headers = {SECRET_HEADER: "s3cret-webhook-token"}
    for body in ({"hello": 1}, {"update_id": 5, "message": {"text": "no chat"}}):
        response = await webhook.client.post(WEBHOOK_PATH, json=body, headers=headers)
        assert response.status == 400


async def test_the_webhook_is_registered_with_its_secret(webhook: Harness) -> None:
    assert webhook.api.webhook is not None
    assert webhook.api.webhook["url"] == "https://bot.example.test/telegram/webhook"
    assert webhook.api.webhook["secret_token"] == "s3cret-webhook-token"


async def test_callbacks_are_answered_and_the_pressed_message_shows_the_choice(
    polling: Harness,
) -> None:
    """The pressed message is edited in place, as Telegram bots do: the menu's buttons give way
    to the choice made, so no stale buttons stay in the chat."""
    ana = polling.user()
    await ana.send("hi")
    menu = next(c for c in ana.last if c.method == "sendMessage" and c.button_labels)
    await ana.press("Check a case status")
    assert set(ana.methods()[:2]) == {"answerCallbackQuery", "editMessageText"}
    [edit] = [c for c in ana.last if c.method == "editMessageText"]
    assert edit.params["message_id"] == menu.params["_message_id"]
    assert edit.text == f"{menu.text}\n\n✔ Check a case status"
    assert edit.json("reply_markup") in (None, {"inline_keyboard": []})
    assert not [c for c in ana.last if c.method == "editMessageReplyMarkup"]
    [answer] = [c for c in ana.last if c.method == "answerCallbackQuery"]
    assert answer.params["callback_query_id"] == ana.last_update["callback_query"]["id"]


async def test_a_pressed_message_without_its_text_only_loses_its_keyboard(
    polling: Harness,
) -> None:
    ana = polling.user()
    await ana.send("hi")
    menu = next(c for c in ana.last if c.method == "sendMessage" and c.button_labels)
    button = menu.json("reply_markup")["inline_keyboard"][0][0]
    # Telegram leaves out the text of a message too old to show (an inaccessible message).
    update = polling.api.callback(CHAT, button["callback_data"], int(menu.params["_message_id"]))
    calls = await polling.deliver(update)
    [edit] = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert edit.json("reply_markup") in (None, {"inline_keyboard": []})
    assert not [c for c in calls if c.method == "editMessageText"]


async def test_a_reply_of_two_messages_goes_as_one(polling: Harness) -> None:
    """Fewer messages a turn: the notice that a password was deleted and the next question
    share one message (each message to a chat counts against Telegram's per-chat rate)."""
    ana = polling.user()
    await ana.send("sign in")
    await ana.send(DEMO_EMAIL)
    await ana.send(DEMO_PASSWORD)
    [reply] = [c for c in ana.last if c.method == "sendMessage"]
    assert reply.text.startswith("I deleted your message to keep your password safe.\n\n")
    assert len(reply.text) > len("I deleted your message to keep your password safe.") + 10


async def test_shows_typing_before_the_reply(polling: Harness) -> None:
    ana = polling.user()
    await ana.send("hi")
    assert ana.methods()[0] == "sendChatAction"
    [typing] = [c for c in ana.last if c.method == "sendChatAction"]
    assert typing.params["action"] == "typing"
    assert "sendMessage" in ana.methods()


async def test_a_turn_that_answers_before_the_typing_delay_shows_no_typing(
    api: FakeBotApi, engine: Engine, demo: None
) -> None:
    """One Bot API call fewer per quick answer: the reply is the sign of life."""
    async with running(api, engine, "polling", typing_after=3600) as bot:
        ana = bot.user()
        await ana.send("hi")
        await ana.press("Check a case status")
        await ana.send("WAC2212345678")
        assert "Case Was Approved" in ana.text
    assert api.calls_of("sendChatAction") == []


async def test_a_turn_still_running_after_the_typing_delay_shows_typing(
    api: FakeBotApi, engine: Engine, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle, answer = engine.handle, api._answer
    typing_shown = asyncio.Event()

    def answer_and_note(call: Any) -> Any:
        if call.method == "sendChatAction":
            typing_shown.set()
        return answer(call)

    async def slow_turn(*args: Any, **kwargs: Any) -> Any:
        await typing_shown.wait()  # the turn goes on until "typing..." is shown (a slow lookup)
        return await handle(*args, **kwargs)

    monkeypatch.setattr(api, "_answer", answer_and_note)
    monkeypatch.setattr(engine, "handle", slow_turn)
    async with running(api, engine, "polling", typing_after=0.05) as bot:
        ana = bot.user()
        await ana.send("hi")
    methods = ana.methods()
    assert methods.index("sendChatAction") < methods.index("sendMessage")
    [typing] = api.calls_of("sendChatAction", CHAT)
    assert typing.params["action"] == "typing"


async def test_a_password_message_is_deleted_and_the_reply_says_so(polling: Harness) -> None:
    ana = polling.user()
    await ana.send("sign in")
    await ana.send(DEMO_EMAIL)
    await ana.send(DEMO_PASSWORD)
    [deletion] = [c for c in ana.last if c.method == "deleteMessage"]
    assert int(deletion.params["message_id"]) == ana.last_update["message"]["message_id"]
    methods = ana.methods()
    assert methods.index("deleteMessage") < methods.index("sendMessage")
    assert "I deleted your message to keep your password safe." in ana.text
    assert all(DEMO_PASSWORD not in c.text for c in polling.api.calls)


async def test_sets_the_command_menu_in_every_language(polling: Harness) -> None:
    calls = polling.api.calls_of("setMyCommands")
    codes = {c.params.get("language_code") for c in calls}
    assert codes == {None} | {code for code in LOCALES if code != "en"}
    for call in calls:
        assert [c["command"] for c in call.json("commands")] == [
            "start",
            "menu",
            "help",
            "language",
        ]


async def test_each_languages_command_menu_comes_from_its_catalog(polling: Harness) -> None:
    english = {"start": "Start over", "menu": "Menu", "help": "Help", "language": "Change language"}
    for call in polling.api.calls_of("setMyCommands"):
        code = call.params.get("language_code")
        t = translator(code or "en")
        described = {c["command"]: c["description"] for c in call.json("commands")}
        assert described == {name: t._(msgid) for name, msgid in english.items()}
        if code is not None:  # every catalog words "Change language" its own way
            assert described["language"] != "Change language", code


async def test_a_long_reply_is_split_at_line_breaks_with_the_keyboard_last(
    polling: Harness,
) -> None:
    line = "A line of a long answer about a case, with some words in it.\n"
    text = line * 200  # about 12,000 characters
    reply = Reply(text, buttons=(Button("Menu", "1:g:menu"),))
    await polling.channel.send_reply(CHAT, reply)
    sent = polling.api.calls_of("sendMessage", CHAT)
    assert len(sent) == 3
    assert all(len(c.text) <= 4096 for c in sent)
    assert "\n".join(c.text for c in sent) == text.rstrip("\n")
    assert [bool(c.button_labels) for c in sent] == [False, False, True]


async def test_images_go_as_photos_and_files_as_documents(polling: Harness) -> None:
    reply = Reply(
        "Scan this code",
        attachments=(
            Attachment("image", "qr.png", "image/png", b"\x89PNG fake"),
            Attachment("file", "visit.ics", "text/calendar", b"BEGIN:VCALENDAR"),
        ),
    )
    await polling.channel.send_reply(CHAT, reply)
    [photo] = polling.api.calls_of("sendPhoto", CHAT)
    [document] = polling.api.calls_of("sendDocument", CHAT)
    assert photo.files["photo"] == ("qr.png", b"\x89PNG fake")
    assert document.files["document"] == ("visit.ics", b"BEGIN:VCALENDAR")


async def test_chats_run_concurrently_and_each_chat_in_order(polling: Harness) -> None:
    api = polling.api
    first = [api.message(1001, "hi"), api.message(1001, "Check a case status")]
    second = [api.message(1002, "hi"), api.message(1002, "help")]
    await polling.deliver(first[0], second[0], first[1], second[1])
    for chat in (1001, 1002):
        assert len(api.calls_of("sendMessage", chat)) >= 2
    asked = api.calls_of("sendMessage", 1001)[-1].text
    assert "receipt number" in asked


async def test_the_token_never_appears_in_the_logs(
    polling: Harness, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ana = polling.user()
    await ana.send("sign in")
    await ana.send(DEMO_EMAIL)
    await ana.send(DEMO_PASSWORD)
    await ana.send(totp(DEMO_TOTP_SECRET, clock.now()))
    await ana.press("My cases")
    logging.getLogger("httpx").warning("GET %s/bot%s/getMe", polling.api.url, TOKEN)
    secret_half = TOKEN.split(":")[1]
    assert caplog.records
    assert TOKEN not in caplog.text
    assert secret_half not in caplog.text
    assert REDACTED in caplog.text
    assert logging.getLogger("httpx").level == logging.WARNING


async def test_a_429_pauses_the_chat_and_loses_nothing(
    api: FakeBotApi, engine: Engine, demo: None
) -> None:
    api.fail("sendMessage", status=429, retry_after=1, chat_id=CHAT, times=1)
    api.fail("sendMessage", status=502, chat_id=CHAT, times=1)
    async with running(api, engine, "polling", rate_limiter=CasebotRateLimiter()) as bot:
        ana = bot.user()
        await ana.send("hi")
        other = bot.user(CHAT + 1)
        await other.send("hi")
        await ana.send("Check a case status")
    sent = api.calls_of("sendMessage", CHAT)
    assert [c.status for c in sent][:3] == [429, 502, 200]
    delivered = [c.text for c in sent if c.ok]
    assert len(delivered) == 2  # the menu, then the question: none lost, none twice
    assert "receipt number" in delivered[-1]


def test_translates_commands_with_a_bot_name_to_the_plain_command() -> None:
    from telegram import Update

    data = FakeBotApi(TOKEN).message(5, "/start@casebot_test_bot deep-link")
    incoming = to_incoming(Update.de_json(data, None))
    assert incoming is not None
    assert (incoming.channel, incoming.chat_id, incoming.text) == ("telegram", "5", "/start")
    assert incoming.locale_hint == "en"
    assert incoming.update_id == data["update_id"]


def test_short_labels_go_two_to_a_row_and_long_ones_alone() -> None:
    short = keyboard([Button(x, f"1:{x}") for x in ("Yes", "No", "Back", "Menu")])
    assert short is not None
    assert [len(row) for row in short["inline_keyboard"]] == [2, 2]
    long = keyboard([Button("Check a case status", "1:a"), Button("My cases", "1:b")])
    assert long is not None
    assert [len(row) for row in long["inline_keyboard"]] == [1, 1]
    with pytest.raises(ValueError, match="64 bytes"):
        keyboard([Button("x", "x" * 65)])


def test_splits_a_line_longer_than_the_limit_at_spaces() -> None:
    chunks = split_text("word " * 30, limit=40)
    assert all(len(c) <= 40 for c in chunks)
    assert " ".join(chunks).split() == ["word"] * 30
    assert split_text("") == []


def test_the_api_url_gives_the_base_and_file_urls() -> None:
    assert api_urls("http://localhost:8081") == (
        "http://localhost:8081/bot",
        "http://localhost:8081/file/bot",
    )
    assert api_urls("http://localhost:8081/bot/")[0] == "http://localhost:8081/bot"


def test_the_webhook_path_and_secret_come_from_the_settings() -> None:
    assert webhook_path("https://bot.example/hooks/tg") == "/hooks/tg"
    assert webhook_path("https://bot.example") == "/telegram/webhook"
    key = "k" * 32
    assert webhook_secret(key) == webhook_secret(key)
    assert webhook_secret(None) != webhook_secret(None)


def test_fewer_messages_joins_text_only_replies_and_keeps_what_must_stay_apart() -> None:
    menu = Reply("What now?", buttons=(Button("Menu", "1:g:menu"),))
    qr = Reply("Scan this", attachments=(Attachment("image", "qr.png", "image/png", b"x"),))
    key = Reply("Your key: ABCD", kept_text="Your key: [hidden]")
    assert fewer_messages([Reply("Done."), menu]) == [
        Reply("Done.\n\nWhat now?", buttons=menu.buttons)
    ]
    # Buttons and attachments stay on the message they belong to, in order.
    assert fewer_messages([menu, Reply("Next")]) == [menu, Reply("Next")]
    assert fewer_messages([qr, Reply("Next")]) == [qr, Reply("Next")]
    # A shown secret keeps its stand-in; a reply asking a secret stays asking it.
    [joined] = fewer_messages([key, Reply("Password?", secret_input=True)])
    assert joined.kept_text == "Your key: [hidden]\n\nPassword?"
    assert joined.secret_input
    # Never beyond one message's length.
    long = Reply("x" * 4000)
    assert fewer_messages([long, Reply("y" * 200)]) == [long, Reply("y" * 200)]


class ScheduleRecorder(CasebotRateLimiter):
    """casebot's limiter, noting for each message how long the chat's own limits held it back
    when it was handed over (its schedule, not a clock reading of the test)."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: list[tuple[str, float]] = []

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if counts_as_message(endpoint) and data.get("chat_id") is not None:
            self.delays.append((endpoint, self.chat_delay(data["chat_id"])))
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


async def test_a_pressed_button_and_its_answer_go_together_then_the_chat_is_spaced(
    api: FakeBotApi, engine: Engine, demo: None
) -> None:
    """The edit of the pressed message and the answer are not held a second apart (a burst of
    3 per chat); a chat sent many messages in a row is spaced again."""
    limiter = ScheduleRecorder()
    async with running(api, engine, "polling", rate_limiter=limiter) as bot:
        ana = bot.user()
        await ana.send("hi")
        limiter.delays.clear()
        await ana.press("Check a case status")
        assert limiter.delays == [("editMessageText", 0.0), ("sendMessage", 0.0)]
        limiter.delays.clear()
        await bot.channel.send_reply(CHAT, Reply("\n".join(["x" * 4000] * 4)))  # 4 messages
        assert len(limiter.delays) == 4
        assert limiter.delays[-1][1] > 0  # the seventh message in a row waits its turn
    # The fake received the edit before the answer.
    received = [c.method for c in api.calls if c.chat_id == CHAT]
    edit = received.index("editMessageText")
    answer = [n for n, method in enumerate(received) if method == "sendMessage"][1]
    assert edit < answer

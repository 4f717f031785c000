"""The Telegram channel: python-telegram-bot around the engine, translating and nothing more.

An ``Update`` becomes an ``Incoming``; a ``Turn`` becomes messages with inline keyboards, photos
and documents, as few as fit (a reply without buttons shares a message with the next one).
Every callback query is answered and the pressed message edited in place: its keyboard gives way
to the choice made ("✔ Check a case status"), so old buttons do not pile up; a typing
indicator shows while a turn runs longer than ``TYPING_AFTER``; a message that carried a secret
is deleted (and its text dropped from the webhook's inbox in the turn's own transaction, which
marks the update handled). Duplicates are dropped by the engine (``update_id``). Updates of
different chats run concurrently, one chat's in the order they came (``ChatOrderedUpdates``).
Sending limits are the rate limiter's.
A turn's replies are kept in the outbox in the turn's own transaction and marked sent together
once sent, so a crash or a Bot API outage delays them instead of losing them
(``bot/notify/reply_outbox.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from functools import partial
from typing import Any, Final

from telegram import BotCommand, CallbackQuery, InputFile, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    TypeHandler,
)

from bot.channels.telegram.inbox import TelegramInbox
from bot.channels.telegram.limiter import CasebotRateLimiter
from bot.channels.telegram.redaction import TokenRedaction, quiet_http_loggers
from bot.channels.telegram.render import fewer_messages, keyboard, pressed_text, split_text
from bot.channels.telegram.request import AiohttpRequest
from bot.channels.telegram.updates import CHANNEL, ChatOrderedUpdates, parse_update, to_incoming
from bot.dialogs.model import Incoming, Reply, Turn
from bot.engine import Engine
from bot.notify.dispatcher import worker_name
from bot.notify.reply_outbox import keep_replies, send_kept, withdraw_kept
from bot.ops.metrics import CasebotMetrics
from bot.wording.i18n import DEFAULT_LOCALE, LOCALES, translator
from core.handoff import with_agent
from core.inbox import HANDLED, mark_handled
from core.locks import presence_lock
from core.outage import is_database_unavailable
from core.uow import UnitOfWork

__all__ = [
    "CHANNEL",
    "ChatOrderedUpdates",
    "TelegramChannel",
    "api_urls",
    "default_rate_limiter",
    "to_incoming",
]

logger = logging.getLogger(__name__)

COMMANDS: Final = ("start", "menu", "help", "language")
# Telegram shows "typing..." for about 5 seconds; renew it a little sooner.
TYPING_EVERY: Final = 4.0
TYPING_AFTER: Final = 0.4
"""Seconds a turn runs before "typing..." is shown. Most turns answer well within it, and then
the reply itself is the sign of life: one Bot API call (and, for typed text, one look at
whether an agent has the chat) fewer per update. Past it, people start to wonder whether the
bot heard them (response-time studies put the limit of "instant" at 0.1-0.5 s), so a slower
turn, a USCIS lookup or a busy database, shows it as before."""
ALLOWED_UPDATES: Final = ("message", "callback_query")

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


def api_urls(api_url: str | None) -> tuple[str, str]:
    """``base_url`` and ``base_file_url`` for a Bot API server.

    ``CASEBOT_TELEGRAM_API_URL`` may name the server (``http://localhost:8081``) or its bot
    prefix (``http://localhost:8081/bot``); the token is appended by the library.
    """
    if api_url is None:
        return "https://api.telegram.org/bot", "https://api.telegram.org/file/bot"
    root = api_url.rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def default_rate_limiter() -> BaseRateLimiter[Any]:
    """casebot's limiter: Telegram's 30/s, 1/s per chat, 20/min per group, 429 handling.

    An ordinary import, not a lookup by name: a limiter that failed to import must stop the
    start, never quietly switch rate limiting off.
    """
    return CasebotRateLimiter()


class TelegramChannel:
    """The bot: builds the Application at once (bad settings fail here), runs it on demand.

    Args:
        engine: the dialog engine.
        token: the bot token (``TELEGRAM_BOT_TOKEN``).
        api_url: ``CASEBOT_TELEGRAM_API_URL``, a local Bot API server; None for Telegram's.
        webhook_url: set for webhook mode (updates come through ``feed``); None to poll.
        webhook_secret: the ``secret_token`` given to ``setWebhook`` (webhook mode).
        rate_limiter: the outgoing limiter; None sends without limits.
        poll_timeout: seconds one ``getUpdates`` long poll waits.
        metrics: where the inbox counts webhook updates (webhook mode).
        typing_after: seconds a turn runs before "typing..." is shown (0: at once).

    Raises:
        ValueError: no token, or webhook mode without a secret.
    """

    def __init__(
        self,
        engine: Engine,
        token: str,
        *,
        api_url: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        rate_limiter: BaseRateLimiter[Any] | None = None,
        poll_timeout: float = 10.0,
        metrics: CasebotMetrics | None = None,
        typing_after: float = TYPING_AFTER,
    ) -> None:
        if not token:
            raise ValueError("TELEGRAM_BOT_TOKEN is empty")
        if webhook_url is not None and not webhook_secret:
            raise ValueError("webhook mode needs a secret token")
        self.engine = engine
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.poll_timeout = poll_timeout
        self.typing_after = typing_after
        self.redaction = TokenRedaction(token)
        # The name on the outbox rows of this process's replies (see bot/notify/reply_outbox.py).
        self.worker = f"{worker_name()}:replies"
        # Held while this process may send kept replies: a new sender leaves their leases alone.
        self._presence = presence_lock(engine.services.uow_factory.db, self.worker)
        quiet_http_loggers()  # before the Bot is built: at DEBUG it logs its URL, token inside
        base_url, base_file_url = api_urls(api_url)
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .base_file_url(base_file_url)
            .concurrent_updates(ChatOrderedUpdates())
            .request(AiohttpRequest())
            .get_updates_request(
                AiohttpRequest(connection_pool_size=1, read_timeout=poll_timeout + 5)
            )
        )
        if rate_limiter is not None:
            builder = builder.rate_limiter(rate_limiter)
        if webhook_url is not None:
            builder = builder.updater(None)
        self.application: TelegramApp = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        # Webhook mode: updates are stored, then handled in order per chat by whichever worker
        # (see telegram_inbox.py); several workers may share one webhook URL.
        self.inbox: TelegramInbox | None = None
        if webhook_url is not None:
            self.inbox = TelegramInbox(
                self.application, engine.services.uow_factory, metrics=metrics
            )

    # --- running ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, set the command menus, then poll or register the webhook.

        Raises:
            telegram.error.TelegramError: the Bot API refused (a wrong token: InvalidToken).
            sqlalchemy.exc.SQLAlchemyError, OSError: the database cannot be reached (this
                process's presence, which keeps its replies' leases, cannot be announced).
        """
        self.redaction.install()
        quiet_http_loggers()
        await self._presence.try_acquire()  # before the first turn leases its replies
        app = self.application
        await app.initialize()
        await self._set_commands()
        await app.start()
        if self.webhook_url is None:
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=timedelta(seconds=self.poll_timeout), allowed_updates=list(ALLOWED_UPDATES)
            )
            logger.info("Telegram: polling as @%s", app.bot.username)
        else:
            await app.bot.set_webhook(
                self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            logger.info("Telegram: webhook set for @%s", app.bot.username)
            if self.inbox is not None:
                self.inbox.start()

    @property
    def connected(self) -> bool:
        """Started and, when polling, polling (readiness: ``/readyz``)."""
        app = self.application
        if not app.running:
            return False
        return self.webhook_url is not None or (app.updater is not None and app.updater.running)

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand, close the connections."""
        app = self.application
        try:
            if self.inbox is not None:
                await self.inbox.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        finally:
            await self._presence.release()  # no more replies sent: their leases may go
            self.redaction.uninstall()

    async def feed(self, data: dict[str, Any]) -> bool:
        """Take one update received by the webhook (into the inbox, in webhook mode; else onto
        the Application's queue); False when the bot is not running (the caller answers an
        error and Telegram delivers it again).

        Raises:
            ValueError: the data is not an update.
        """
        if self.inbox is not None:
            return await self.inbox.receive(data)
        if not self.application.running:
            return False
        update = parse_update(data, self.application.bot)
        await self.application.update_queue.put(update)
        return True

    async def _set_commands(self) -> None:
        bot = self.application.bot
        for locale in LOCALES:
            _ = translator(locale)._
            descriptions = {
                "start": _("Start over"),
                "menu": _("Menu"),
                "help": _("Help"),
                "language": _("Change language"),
            }
            commands = [BotCommand(name, descriptions[name]) for name in COMMANDS]
            # The default list (no language_code) is the English one.
            code = None if locale == DEFAULT_LOCALE else locale
            await bot.set_my_commands(commands, language_code=code)

    # --- one update -------------------------------------------------------------------------

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = to_incoming(update)
        if incoming is None:
            return
        chat_id = int(incoming.chat_id)
        query = update.callback_query
        if query is not None:
            # Answer at once (the button stops spinning) and edit the pressed message in place:
            # the choice made instead of its keyboard, so old buttons do not pile up.
            await asyncio.gather(
                self._quietly(query.answer()), self._quietly(self._show_choice(query))
            )
        # While an agent has the chat, what the person writes goes to the agent: the bot
        # is not writing back, so it shows no "typing" (a button press is always the bot's).
        async with self._typing(chat_id, ask_agent=incoming.payload is None):
            turn, replies, kept = await self._turn(incoming, update)
        if turn.duplicate:
            logger.info("Telegram: update %s was handled before", update.update_id)
            return
        if turn.input_was_secret and update.message is not None:
            await self._quietly(update.message.delete())
        if turn.unavailable and self.inbox is not None and not self.inbox.defer(update.update_id):
            return  # said once already; the inbox tries the update again (telegram_inbox.py)
        if kept is None:  # not kept: the database is out of reach
            for reply in replies:
                await self.send_reply(chat_id, reply)
            return
        await send_kept(
            self.engine.services.uow_factory,
            list(zip(kept, replies, strict=True)),
            lambda reply: self.send_reply(chat_id, reply),
            worker=self.worker,
            is_permanent=lambda error: isinstance(error, BadRequest | Forbidden | ChatMigrated),
        )

    async def _turn(
        self, incoming: Incoming, update: Update
    ) -> tuple[Turn, list[Reply], list[int] | None]:
        """Run the turn with its replies kept in the outbox in its own transaction
        (``bot/notify/reply_outbox.py``): a crash after its commit, or the Bot API out of
        reach, loses none of them, and the turn's mail goes out only after that commit.

        A turn that fails (undone: its apology was not kept with it) or changes its answer
        after the commit (a code mail that could not go) has its replies kept in a transaction
        of their own, the superseded ones withdrawn unsent; a crash just before that loses
        those replies only.

        Returns:
            The turn, the replies to send, and their outbox rows (None: not kept, because the
            turn could not reach the database, or keeping them could not).
        """
        # This process's presence keeps its replies' leases from another worker's sender; a
        # lock connection broken in an outage took it away: announce it again before leasing.
        await self._presence.keep()
        kept: list[int] | None = None
        kept_texts: list[str] = []

        async def keep(uow: UnitOfWork, turn: Turn) -> None:
            nonlocal kept, kept_texts
            inbox = self.inbox
            # The webhook's stored update is handled with this commit (no transaction of its
            # own), and what it said goes with it: a typed secret too.
            if inbox is not None and await mark_handled(
                uow, inbox.channel, update.update_id, outcome=HANDLED
            ):
                uow.after_commit(partial(inbox.marked_in_turn, update.update_id))
            replies = self._with_notice(turn, update)
            kept = await keep_replies(uow, CHANNEL, incoming.chat_id, replies, worker=self.worker)
            kept_texts = [reply.text for reply in replies]

        turn = await self.engine.handle(incoming, within=keep)
        replies = self._with_notice(turn, update)
        if turn.duplicate or turn.unavailable:
            return turn, replies, None
        if turn.failed:
            kept = None  # written in the turn's transaction, which was undone
        if kept is not None and kept_texts == [reply.text for reply in replies]:
            return turn, replies, kept
        try:
            async with self.engine.services.uow_factory() as uow:
                if kept is not None:
                    await withdraw_kept(uow, kept, worker=self.worker)
                kept = await keep_replies(
                    uow, CHANNEL, incoming.chat_id, replies, worker=self.worker
                )
                await uow.commit()
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            logger.warning("Telegram: the database is unavailable; replies sent without a copy")
            return turn, replies, None
        return turn, replies, kept

    @staticmethod
    def _with_notice(turn: Turn, update: Update) -> list[Reply]:
        """The turn's replies, after a notice that a typed secret was deleted from the chat, in
        as few messages as they fit (``render.fewer_messages``)."""
        replies = list(turn.replies)
        if turn.input_was_secret and update.message is not None:
            _ = translator(turn.locale)._
            replies.insert(0, Reply(_("I deleted your message to keep your password safe.")))
        return fewer_messages(replies)

    async def _show_choice(self, query: CallbackQuery) -> None:
        """Edit the pressed message: its text, then the label pressed, and no keyboard (the
        buttons of a message Telegram no longer shows whole just go)."""
        message = query.message
        if isinstance(message, Message) and message.text is not None:
            text = pressed_text(message.text, message.reply_markup, query.data)
            if text is not None:
                data: dict[str, Any] = {
                    "chat_id": message.chat.id,
                    "message_id": message.message_id,
                    "text": text,
                }
                if message.entities:
                    data["entities"] = list(message.entities)
                await self._post("editMessageText", data)
                return
        if message is not None:  # its keyboard goes (an inaccessible message has the ids too)
            await self._post(
                "editMessageReplyMarkup",
                {"chat_id": message.chat.id, "message_id": message.message_id},
            )
            return
        await query.edit_message_reply_markup(reply_markup=None)

    async def send_reply(self, chat_id: int, reply: Reply) -> None:
        """One reply: its text (split to fit, the keyboard on the last part), then its images
        as photos and its files as documents."""
        bot = self.application.bot
        chunks = split_text(reply.text)
        markup = keyboard(reply.buttons)
        if not chunks and markup is not None:
            chunks = ["…"]  # a keyboard needs a message to hang on
        for n, chunk in enumerate(chunks, start=1):
            data: dict[str, Any] = {"chat_id": chat_id, "text": chunk}
            if markup is not None and n == len(chunks):
                data["reply_markup"] = markup
            await self._post("sendMessage", data)
        for attachment in reply.attachments:
            file = InputFile(attachment.data, filename=attachment.name)
            if attachment.kind == "image":
                await bot.send_photo(chat_id, file)
            else:
                await bot.send_document(chat_id, file)

    async def _post(self, endpoint: str, data: dict[str, Any]) -> None:
        """A Bot API call whose answer is not needed (the message sent or edited).

        ``Bot.send_message`` and ``edit_message_text`` parse Telegram's answer into a ``Message``
        of objects, which cost as much CPU as the rest of sending it, for nothing here. The
        request goes the way those methods send it, by the Bot's ``_post`` (python-telegram-
        bot's one path to the API: its defaults, its parameter encoding, then ``ExtBot``'s
        rate limiter with its retries, then the request object), only the answer is not
        parsed. (``Bot.do_api_request``, the public raw call, warns for a method the Bot
        has.)

        Raises:
            telegram.error.TelegramError: as the Bot's own method would.
        """
        await self.application.bot._post(endpoint, data)

    async def _with_agent(self, chat_id: int) -> bool:
        """Whether an agent has the chat now (False when the database cannot say: the turn
        tells the person so, and "typing" is shown meanwhile)."""
        try:
            async with self.engine.services.uow_factory() as uow:
                return await with_agent(uow, CHANNEL, str(chat_id))
        except Exception:
            logger.warning("Telegram: could not tell whether an agent has the chat")
            return False

    @contextlib.asynccontextmanager
    async def _typing(self, chat_id: int, *, ask_agent: bool) -> AsyncIterator[None]:
        """Show "typing..." while the block runs, once it has run ``typing_after`` seconds
        (``TYPING_AFTER``), renewed every ``TYPING_EVERY``; with ``ask_agent``, not while an
        agent has the chat (asked then, so a turn that answers sooner never asks)."""
        bot = self.application.bot

        async def typing() -> None:
            await self._quietly(bot.send_chat_action(chat_id, ChatAction.TYPING))

        async def renew() -> None:
            while True:
                await asyncio.sleep(TYPING_EVERY)
                await typing()

        async def later() -> None:
            if ask_agent and await self._with_agent(chat_id):
                return
            await typing()
            await renew()

        if self.typing_after > 0:
            # A timer, not a task that sleeps: most turns end first, and a timer cancelled
            # costs a fraction of a task started and cancelled.
            started: list[asyncio.Task[None]] = []
            timer = asyncio.get_running_loop().call_later(
                self.typing_after, lambda: started.append(asyncio.create_task(later()))
            )
            try:
                yield
            finally:
                timer.cancel()
                for task in started:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            return
        if ask_agent and await self._with_agent(chat_id):
            yield
            return
        else:  # at once, before the turn starts
            await typing()
            task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @staticmethod
    async def _quietly(call: Awaitable[Any]) -> None:
        """A courtesy call (answer, the pressed message's edit, typing, deletion): its failure
        (a query too old, a message already gone) must not cost the person their reply."""
        try:
            await call
        except TelegramError as exc:
            logger.warning("Telegram: %s failed: %s", type(exc).__name__, exc)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        logger.error("Telegram: update %s failed", update_id, exc_info=context.error)

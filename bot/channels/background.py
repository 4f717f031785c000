"""What ``casebot serve`` runs beside its routes: the outbox dispatcher of every channel, the
web chat's push listener, and the housekeeping that deletes expired rows
(``bot.ops.housekeeping``), started and stopped together (``bot/serve.py`` puts them after the
database and Telegram).

Every worker runs all of it. On PostgreSQL with several workers: every worker dispatches web
chat notifications (claimed with SKIP LOCKED, delivered exactly once in a transaction) and
listens for pushes to the WebSockets it holds; one worker at a time sends Telegram
notifications (the sender lock), and the others take over when it stops or dies; text messages
(when the ``CASEBOT_SMS_*`` settings are there) the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from bot.app import App
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.web.api import HUB_KEY
from bot.channels.web.push import PushBus, WebChatSender
from bot.channels.web.sms import STATUS_PATH
from bot.notify.dispatcher import INTERVAL, OutboxDispatcher, Sender
from bot.notify.email import EmailSender
from bot.notify.sms import SmsSender
from bot.ops.housekeeping import Housekeeper
from bot.ops.metrics import CasebotMetrics
from bot.sms.twilio import TwilioSms

__all__ = ["DISPATCHER_KEY", "HOUSEKEEPER_KEY", "METRICS_KEY", "PUSH_KEY", "setup_notifications"]

METRICS_KEY: Final = web.AppKey("casebot_metrics", CasebotMetrics)
DISPATCHER_KEY: Final = web.AppKey("outbox_dispatcher", OutboxDispatcher)
PUSH_KEY: Final = web.AppKey("webchat_push", PushBus)
HOUSEKEEPER_KEY: Final = web.AppKey("housekeeper", Housekeeper)


def setup_notifications(
    web_app: web.Application,
    app: App,
    *,
    metrics: CasebotMetrics | None = None,
    telegram: TelegramChannel | None = None,
    dispatch: bool = True,
    interval: float | None = None,
) -> OutboxDispatcher:
    """Wire the dispatcher, the push listener and the housekeeper into the web app, as one
    ``cleanup_ctx`` entry appended here: append it after the database's and the Telegram
    channel's, so it starts after them and stops before them (no notification is half-sent
    while the Telegram channel stops).

    Args:
        web_app: the app of ``bot.channels.web.server`` (its web chat mounted).
        app: the composed application.
        metrics: the metrics the engine observes (default: new ones in the web chat's
            registry, for the dispatcher and housekeeping alone).
        telegram: the Telegram channel, whose notifications the dispatcher sends too.
        dispatch: run the dispatcher's loops (False: only listen for pushes, as a worker that
            leaves sending to the others).
        interval: seconds between the dispatcher's passes (None: its default).
    """
    hub = web_app[HUB_KEY]
    if metrics is None:
        metrics = CasebotMetrics(hub.metrics.registry, hub.engine.dialogs)
    bus = PushBus(hub, app.db)
    senders: list[Sender] = [
        WebChatSender(bus),
        EmailSender(
            hub.engine.services.mailer, app.uow_factory, public_url=app.settings.public_url
        ),
    ]
    if telegram is not None:
        from bot.channels.telegram.sender import TelegramSender

        senders.append(TelegramSender(telegram))
    sms = _sms_provider(app)
    if sms is not None:
        senders.append(SmsSender(sms, app.uow_factory, app.clock))
    dispatcher = OutboxDispatcher(
        app.uow_factory,
        app.clock,
        senders,
        metrics=metrics,
        interval=interval if interval is not None else INTERVAL,
    )
    housekeeper = Housekeeper(app.uow_factory, hub.config.idle_expiry)
    web_app[METRICS_KEY] = metrics
    web_app[DISPATCHER_KEY] = dispatcher
    web_app[PUSH_KEY] = bus
    web_app[HOUSEKEEPER_KEY] = housekeeper

    async def notifications(_web_app: web.Application) -> AsyncIterator[None]:
        await bus.start()
        if dispatch:
            dispatcher.start()
        housekeeper.start()
        yield
        await housekeeper.stop()
        await dispatcher.stop()
        if sms is not None:
            await sms.close()
        await bus.stop()

    web_app.cleanup_ctx.append(notifications)
    return dispatcher


def _sms_provider(app: App) -> TwilioSms | None:
    """Twilio's Messages API when the ``CASEBOT_SMS_*`` settings are there, else None."""
    settings = app.settings.sms
    if settings is None:
        return None
    callback = settings.callback_url + STATUS_PATH if settings.callback_url is not None else None
    return TwilioSms(
        settings.url, settings.account, settings.token, settings.sender, status_callback=callback
    )
